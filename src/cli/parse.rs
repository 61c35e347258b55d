//! Value parsers for the command line. Each error names the bad value and
//! says what is accepted; clap prefixes it with the option's name.

use std::time::Duration;

use crate::model::ModelName;
use crate::{StartMethod, WorkloadKind};

/// The longest sleep accepted, so that a typo cannot hang a run for years.
const MAX_SLEEP_S: f64 = 86_400.0;

/// The most timed (or warm-up) runs accepted per cell.
pub(crate) const MAX_RUNS: usize = 1_000_000;

/// The most workers accepted for one run.
pub(crate) const MAX_WORKERS: usize = 1_000_000;

/// A whole number of iterations, `0 ..= u64::MAX`; `_` may group digits.
pub(crate) fn iters(text: &str) -> Result<u64, String> {
    let digits = text.replace('_', "");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "'{text}' is not a whole number of iterations; give one from 0 to {}",
            u64::MAX
        ));
    }
    digits.parse().map_err(|_| {
        format!(
            "{text} is too large; the most iterations accepted is {}",
            u64::MAX
        )
    })
}

/// Seconds as a decimal, `0 ..= 86400`: `1`, `0.05`, `2.5e-3`.
pub(crate) fn seconds(text: &str) -> Result<Duration, String> {
    let accepted = format!("give a number of seconds from 0 to {MAX_SLEEP_S}, e.g. 0.05");
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number; {accepted}"))?;
    if !value.is_finite() || !(0.0..=MAX_SLEEP_S).contains(&value) {
        return Err(format!("{text} is out of range; {accepted}"));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Worker counts: a list `1,2,4`, a range `1..4` (1, 2, 3: the end is left
/// out, as in Python's `range` and Rust's `..`), an inclusive range
/// `1..=4`, or a mix `1,2..=4,8`. Duplicates are dropped, order is kept.
pub(crate) fn worker_counts(text: &str) -> Result<WorkerCounts, String> {
    let accepted =
        "use a list like 1,2,4, a range like 1..4 (end excluded) or 1..=4 (end included)";
    let most = crate::experiment::max_worker_counts();
    let too_many = |given: usize| {
        format!(
            "{text} gives {} worker counts; at most {} are accepted, each a row run in turn: give a list, e.g. 1,2,4,8,16,32,64",
            crate::fmt::thousands(given as u64),
            crate::fmt::thousands(most as u64)
        )
    };
    let mut counts = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for part in text.split(',') {
        let part = part.trim();
        let (start, end) = if let Some((a, b)) = part.split_once("..=") {
            (count(a, accepted)?, count(b, accepted)?)
        } else if let Some((a, b)) = part.split_once("..") {
            let (a, b) = (count(a, accepted)?, count(b, accepted)?);
            if b <= a {
                return Err(format!(
                    "the range {part} is empty ({a} is not below {b}); {accepted}"
                ));
            }
            (a, b - 1)
        } else {
            let n = count(part, accepted)?;
            (n, n)
        };
        if end < start {
            return Err(format!(
                "the range {part} is empty ({start} > {end}); {accepted}"
            ));
        }
        // Counted before the range is expanded, so a huge one costs nothing.
        if end - start >= most {
            return Err(too_many(end - start + 1));
        }
        for n in start..=end {
            if seen.insert(n) {
                counts.push(n);
            }
        }
        if counts.len() > most {
            return Err(too_many(counts.len()));
        }
    }
    Ok(WorkerCounts(counts))
}

fn count(text: &str, accepted: &str) -> Result<usize, String> {
    let text = text.trim();
    match text.parse::<usize>() {
        Ok(0) => Err(format!(
            "0 workers cannot run anything; counts start at 1; {accepted}"
        )),
        Ok(n) if n > MAX_WORKERS => Err(format!(
            "{n} workers is more than the {MAX_WORKERS} accepted"
        )),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a worker count; {accepted}")),
    }
}

/// Worker counts as parsed from `--workers`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WorkerCounts(pub Vec<usize>);

/// A model as written on the command line: `process` alone leaves its
/// start method to `--start-method`, `gil` alone its switch interval to
/// `--switch-interval`.
pub(crate) fn model(text: &str) -> Result<ModelName, String> {
    text.trim().parse()
}

/// The gil model's switch interval in milliseconds: `5`, `5ms`, `0.5ms`.
pub(crate) fn switch_interval(text: &str) -> Result<Duration, String> {
    crate::model::parse_switch_interval(text)
}

/// An external program and its arguments, split as a shell splits words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CommandLine(pub Vec<String>);

/// `--cmd 'PROGRAM ARGS…'`: split like a shell; the program must exist.
pub(crate) fn command(text: &str) -> Result<CommandLine, String> {
    let argv = crate::workload::parse_command(text)?;
    crate::workload::resolve_program(&argv[0]).map_err(|e| e.to_string())?;
    Ok(CommandLine(argv))
}

/// `cpu` or `sleep`.
pub(crate) fn workload(text: &str) -> Result<WorkloadKind, String> {
    text.trim().parse()
}

/// `fork` or `spawn`.
pub(crate) fn start_method(text: &str) -> Result<StartMethod, String> {
    text.trim().parse()
}

/// A count of runs, 1 or more.
pub(crate) fn runs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_RUNS).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}' is not a number of runs; give a whole number from 1 to {MAX_RUNS}"
        )),
    }
}

/// A run's time limit in seconds, as a decimal above 0: `30`, `0.5`.
pub(crate) fn timeout(text: &str) -> Result<Duration, String> {
    let accepted = format!("give a number of seconds above 0 and up to {MAX_SLEEP_S}, e.g. 60");
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 && value <= MAX_SLEEP_S => {
            Ok(Duration::from_secs_f64(value))
        }
        Ok(_) => Err(format!("{text} is out of range; {accepted}")),
        Err(_) => Err(format!("'{text}' is not a number; {accepted}")),
    }
}

/// A count of warm-up runs, 0 or more.
pub(crate) fn warmup(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n <= MAX_RUNS => Ok(n),
        _ => Err(format!(
            "'{text}' is not a number of warm-up runs; give a whole number from 0 to {MAX_RUNS}"
        )),
    }
}

/// The longest `--wait-quiet` accepted: an hour.
const MAX_WAIT_QUIET_S: f64 = 3600.0;

/// How long `--wait-quiet` may wait for a quiet machine, in seconds as a
/// decimal, `0 ..= 3600` (0 measures once and goes on).
pub(crate) fn wait_quiet(text: &str) -> Result<Duration, String> {
    let accepted = format!("give a number of seconds from 0 to {MAX_WAIT_QUIET_S}, e.g. 30");
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && (0.0..=MAX_WAIT_QUIET_S).contains(&value) => {
            Ok(Duration::from_secs_f64(value))
        }
        Ok(_) => Err(format!("{text} is out of range; {accepted}")),
        Err(_) => Err(format!("'{text}' is not a number; {accepted}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_quiet_takes_seconds_up_to_an_hour() {
        assert_eq!(wait_quiet("30"), Ok(Duration::from_secs(30)));
        assert_eq!(wait_quiet("0"), Ok(Duration::ZERO));
        assert_eq!(wait_quiet("2.5"), Ok(Duration::from_millis(2500)));
        for bad in ["-1", "nan", "inf", "", "soon", "3601"] {
            assert!(wait_quiet(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn iters_take_any_u64_and_nothing_else() {
        assert_eq!(iters("0"), Ok(0));
        assert_eq!(iters("35_000_000"), Ok(35_000_000));
        assert_eq!(iters("18446744073709551615"), Ok(u64::MAX));
        assert!(
            iters("18446744073709551616")
                .unwrap_err()
                .contains("too large")
        );
        for bad in ["", "-5", "abc", "1e6", "+3", " 3", "1.5"] {
            assert!(iters(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn seconds_are_finite_and_not_negative() {
        assert_eq!(seconds("0.05"), Ok(Duration::from_millis(50)));
        assert_eq!(seconds("1"), Ok(Duration::from_secs(1)));
        assert_eq!(seconds("0"), Ok(Duration::ZERO));
        for bad in ["-1", "nan", "inf", "-inf", "", "one", "1e9", "86400.5"] {
            assert!(seconds(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn worker_counts_read_lists_and_ranges() {
        assert_eq!(worker_counts("1,2,4"), Ok(WorkerCounts(vec![1, 2, 4])));
        assert_eq!(worker_counts("1..4"), Ok(WorkerCounts(vec![1, 2, 3])));
        assert_eq!(worker_counts("1..=4"), Ok(WorkerCounts(vec![1, 2, 3, 4])));
        assert_eq!(
            worker_counts("8, 1..=3,2"),
            Ok(WorkerCounts(vec![8, 1, 2, 3]))
        );
        assert_eq!(worker_counts("3..=3"), Ok(WorkerCounts(vec![3])));
    }

    #[test]
    fn worker_counts_refuse_empty_zero_and_garbage() {
        assert!(worker_counts("0").unwrap_err().contains("start at 1"));
        assert!(worker_counts("3..1").unwrap_err().contains("empty"));
        assert!(worker_counts("3..3").unwrap_err().contains("empty"));
        assert!(worker_counts("3..=1").unwrap_err().contains("empty"));
        for bad in ["", "a", "1,,2", "-1", "1..", "..3", "1...3", "2000000"] {
            assert!(worker_counts(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn models_keep_an_unset_start_method_open() {
        let spawn = crate::model::VariantDefaults {
            start_method: StartMethod::Spawn,
            ..Default::default()
        };
        let resolved = |text: &str| model(text).map(|name| name.resolve(&spawn));
        assert_eq!(
            resolved("process"),
            Ok(crate::Model::process(StartMethod::Spawn))
        );
        assert_eq!(
            resolved("process:fork"),
            Ok(crate::Model::process(StartMethod::Fork))
        );
        assert_eq!(resolved("thread"), Ok(crate::Model::THREAD));
        assert!(
            model("fiber")
                .unwrap_err()
                .contains("accepted: thread, process")
        );
        assert!(model("process:vfork").unwrap_err().contains("fork, spawn"));
    }
}
