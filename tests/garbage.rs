//! `paralab report` on garbage: random, truncated and junk-laden saved
//! files make it exit 0, 1 or 2, never panic, and name a corrupt line by
//! its number. (The reader's and the reports' own properties are unit
//! tests in `src/dataset/robustness.rs`.)

mod common;

use std::sync::OnceLock;

use common::paralab;
use proptest::prelude::*;

/// A real saved file, written by `paralab bench --save` and kept in
/// memory: the header, then measurements of two models and two workloads;
/// then a second header and one failed run (workers that exited with
/// code 3).
fn saved_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("saved.jsonl");
        paralab()
            .args(["bench", "--workloads", "cpu,sleep", "--iters", "1000"])
            .args(["--sleep", "0.001", "--models", "thread,process:fork"])
            .args(["--workers", "1,2", "--runs", "2", "-q", "--save"])
            .arg(&saved)
            .assert()
            .success();
        paralab()
            .args([
                "bench",
                "--cmd",
                "sh -c 'exit 3'",
                "--models",
                "process:fork",
            ])
            .args(["--workers", "2", "-q", "--save"])
            .arg(&saved)
            .assert()
            .code(1);
        std::fs::read_to_string(&saved).unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The binary itself on random and truncated files: exit 0, 1 or 2,
    /// never a panic, and a corrupt line named with its number.
    #[test]
    fn paralab_report_never_panics_on_garbage(
        cut in 0usize..100_000,
        junk in prop::collection::vec(any::<u8>(), 0..300),
        junk_at in 0usize..100,
    ) {
        let text = saved_text();
        let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        let junk_at = junk_at % lines.len();
        let mut junk: Vec<u8> = junk.into_iter().filter(|&b| b != b'\n').collect();
        junk.insert(0, b'!');
        lines.insert(junk_at, junk);
        let mut file: Vec<u8> = lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect();
        file.truncate(cut % (file.len() + 1));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.jsonl");
        std::fs::write(&path, &file).unwrap();
        let output = std::process::Command::new(common::PARALAB)
            .arg("report")
            .arg(&path)
            .args(["--export-csv", dir.path().join("r.csv").to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
        prop_assert!(matches!(output.status.code(), Some(0..=2)), "{:?} {}", output.status, stderr);
        let junk_line = junk_at + 1;
        let junk_kept = file.iter().filter(|&&b| b == b'\n').count() >= junk_line;
        if junk_kept {
            prop_assert!(stderr.contains(&format!("line {junk_line} ")), "{}", stderr);
            prop_assert_ne!(output.status.code(), Some(0));
        }
    }
}
