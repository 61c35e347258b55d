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

/// A `--cmd` as the user wrote it; how it is run (through a shell or
/// split into words, `-N`) is decided with the other options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CommandLine(pub String);

/// `--cmd 'PROGRAM ARGS…'`: anything but blank text.
pub(crate) fn command(text: &str) -> Result<CommandLine, String> {
    if text.trim().is_empty() {
        return Err(format!(
            "'{text}' is an empty command; give a program and its arguments, e.g. 'gzip -9 file'"
        ));
    }
    Ok(CommandLine(text.to_string()))
}

/// The most values one parameter (`-P`, `-L`) may take: each is a command
/// of its own, run at every worker count.
pub(crate) const MAX_PARAMETER_VALUES: usize = 1000;

/// A parameter's name, as `{NAME}` finds it: letters, digits and `_`,
/// not `n` or `i` (the worker count and index).
pub(crate) fn parameter_name(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !text.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(format!(
            "'{text}' is not a parameter name; use letters, digits and _, e.g. threads, and write {{threads}} in --cmd"
        ));
    }
    if text == "n" || text == "i" {
        return Err(format!(
            "'{text}' is taken: {{n}} is the worker count and {{i}} the worker index in every command; name the parameter otherwise"
        ));
    }
    Ok(text.to_string())
}

/// `-P NAME MIN MAX [-D STEP]`: MIN, MIN+STEP, … up to MAX, whole numbers.
pub(crate) fn parameter_scan(
    name: &str,
    min: &str,
    max: &str,
    step: Option<&str>,
) -> Result<(String, Vec<String>), String> {
    let name = parameter_name(name)?;
    // As hyperfine: whole numbers, or decimals once a step is given
    // (`-P t 0.1 0.5 -D 0.2`). Decimals are counted in units of their
    // finest place, so that 0.1 + 0.2 is written 0.3.
    let places = |text: &str| text.trim().split_once('.').map_or(0, |(_, f)| f.len());
    let finest = [Some(min), Some(max), step]
        .into_iter()
        .flatten()
        .map(places)
        .max()
        .unwrap_or(0);
    if finest > 0 && step.is_none() {
        return Err(format!(
            "-P {name} {min} {max}: decimal values need a step; add -D, e.g. -D 0.1"
        ));
    }
    if finest > 9 {
        return Err(format!(
            "-P {name}: at most 9 decimal places are accepted, in '{min}', '{max}'{}",
            step.map_or_else(String::new, |s| format!(" and '{s}'"))
        ));
    }
    let scale = 10_f64.powi(finest as i32);
    let scaled = |text: &str| -> Option<i64> {
        let value: f64 = text.trim().parse().ok()?;
        (value.is_finite() && value.abs() < 1e15 / scale).then(|| (value * scale).round() as i64)
    };
    let number = |what: &str, text: &str| {
        scaled(text).ok_or_else(|| {
            format!("-P {name}: {what} '{text}' is not a number; give e.g. -P {name} 1 8")
        })
    };
    let (min, max) = (number("MIN", min)?, number("MAX", max)?);
    let step = match step {
        None => 1,
        Some(text) => match scaled(text) {
            Some(step) if step > 0 => step,
            _ => {
                return Err(format!(
                    "-D/--parameter-step-size '{text}' is not a step; give a number above 0, e.g. -D 2 or -D 0.5"
                ));
            }
        },
    };
    let show = |v: i64| {
        if finest == 0 {
            v.to_string()
        } else {
            format!("{:.finest$}", v as f64 / scale)
        }
    };
    if min > max {
        return Err(format!(
            "-P {name} {} {}: MIN is above MAX; give the smaller value first",
            show(min),
            show(max)
        ));
    }
    let count = ((max as i128 - min as i128) / step as i128 + 1) as u128;
    if count > MAX_PARAMETER_VALUES as u128 {
        return Err(format!(
            "-P {name} {} {} makes {count} values; at most {MAX_PARAMETER_VALUES} are accepted: raise -D",
            show(min),
            show(max)
        ));
    }
    let values = (0..count as i64).map(|k| show(min + k * step)).collect();
    Ok((name, values))
}

/// `-L NAME V1,V2,…`: the values in order, each once.
pub(crate) fn parameter_list(name: &str, values: &str) -> Result<(String, Vec<String>), String> {
    let name = parameter_name(name)?;
    let mut list: Vec<String> = Vec::new();
    for value in values.split(',') {
        if value.is_empty() {
            return Err(format!(
                "-L {name} '{values}' has an empty value; give values separated by commas, e.g. -L {name} gzip,xz"
            ));
        }
        if !list.iter().any(|v| v == value) {
            list.push(value.to_string());
        }
    }
    if list.len() > MAX_PARAMETER_VALUES {
        return Err(format!(
            "-L {name} gives {} values; at most {MAX_PARAMETER_VALUES} are accepted",
            list.len()
        ));
    }
    Ok((name, list))
}

/// `--output null|pipe|inherit|FILE`, as hyperfine reads it.
pub(crate) fn output_to(text: &str) -> Result<crate::workload::OutputTo, String> {
    use crate::workload::OutputTo;
    Ok(match text {
        "null" => OutputTo::Null,
        "pipe" => OutputTo::Pipe,
        "inherit" => OutputTo::Inherit,
        "" => {
            return Err("an empty --output; give null, pipe, inherit or a file's path".to_string());
        }
        path => OutputTo::File(path.into()),
    })
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
    fn parameter_scans_and_lists_make_their_values_or_say_why_not() {
        let values = |r: Result<(String, Vec<String>), String>| r.unwrap().1;
        assert_eq!(values(parameter_scan("t", "1", "3", None)), ["1", "2", "3"]);
        assert_eq!(
            values(parameter_scan("t", "0", "9", Some("4"))),
            ["0", "4", "8"]
        );
        assert_eq!(values(parameter_scan("t", "5", "5", None)), ["5"]);
        // Decimals with a step, as hyperfine's -D: no 0.30000000000000004.
        assert_eq!(
            values(parameter_scan("t", "0.1", "0.5", Some("0.2"))),
            ["0.1", "0.3", "0.5"]
        );
        assert_eq!(
            values(parameter_scan("t", "0", "1", Some("0.25"))),
            ["0.00", "0.25", "0.50", "0.75", "1.00"]
        );
        assert!(
            parameter_scan("t", "0.1", "0.5", None)
                .unwrap_err()
                .contains("need a step")
        );
        assert!(
            parameter_scan("t", "3", "1", None)
                .unwrap_err()
                .contains("MIN is above MAX")
        );
        assert!(
            parameter_scan("t", "1", "3", Some("0"))
                .unwrap_err()
                .contains("above 0")
        );
        assert!(
            parameter_scan("t", "1", "x", None)
                .unwrap_err()
                .contains("'x'")
        );
        assert!(
            parameter_scan("t", "0", "1000000", None)
                .unwrap_err()
                .contains("raise -D")
        );
        assert!(
            parameter_scan("n", "1", "2", None)
                .unwrap_err()
                .contains("worker count")
        );
        assert!(parameter_scan("a-b", "1", "2", None).is_err());
        assert_eq!(values(parameter_list("c", "gzip,xz,gzip")), ["gzip", "xz"]);
        assert!(
            parameter_list("c", "gzip,,xz")
                .unwrap_err()
                .contains("empty value")
        );
    }

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
