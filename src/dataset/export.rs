//! Reading either kind of file paralab writes with its runs in it: a
//! `--save` JSON Lines file, or an `--export-json` document, so that
//! `paralab compare` takes whichever the user kept.

use std::path::Path;

use super::Record;
use super::jsonl::{self, ReadError, Saved};
use crate::export::json::JsonExport;

/// The runs in `path`, a `--save` file or an `--export-json` document.
/// A saved file is read as [`jsonl::read_file`] reads it; a file none of
/// whose lines is a measurement is then tried as an export (whose
/// pretty-printed lines are not, one by one, JSON), and if it is not one
/// either, what the JSON Lines reader found (or its error) is returned.
pub(crate) fn read_file(path: &Path) -> Result<Saved, ReadError> {
    let saved = jsonl::read_file(path);
    if let Ok(found) = &saved
        && (!found.record.measurements.is_empty() || found.bad_lines.is_empty())
    {
        return saved;
    }
    // Only a regular file is read whole: `/dev/zero` or a FIFO would
    // never end, and their JSON Lines reading already said why.
    let readable =
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= MAX_EXPORT_BYTES);
    let Some(text) = readable.then(|| std::fs::read(path).ok()).flatten() else {
        return saved;
    };
    match serde_json::from_slice::<JsonExport>(&text) {
        Ok(export) => {
            let mut measurements = export.measurements;
            // An export's results are checked as a saved file's are: a
            // wrong one is a failed run, whatever the file says.
            let (mut wrong_results, mut references) = (Vec::new(), Vec::new());
            for m in &mut measurements {
                if let Some(wrong) = jsonl::recheck(m, &mut references) {
                    wrong_results.push(wrong);
                }
            }
            Ok(Saved {
                machines: export.machine.iter().cloned().collect(),
                record: Record {
                    machine: export.machine,
                    plan: export.plan,
                    measurements,
                    other_machines: export.other_machines,
                },
                cut_last_line: None,
                bad_lines: Vec::new(),
                wrong_results,
            })
        }
        Err(_) => saved,
    }
}

/// The largest `--export-json` document read (it is read whole).
const MAX_EXPORT_BYTES: u64 = 4 << 30;
