//! The checks behind every verdict: each looks at one kind of evidence
//! and returns the reason a verdict cannot be drawn, in the words of the
//! notebook's reader, or nothing when that evidence is sound.
//!
//! They take measurements (`&[Measurement]`: the successful runs of one
//! cell) or figures drawn from them, so that the bench summary, the Python
//! lines and the lessons all judge alike.

use crate::experiment::Measurement;
use crate::fmt;
use crate::measure::stats::{bootstrap_ratio, mad, median};
use crate::model::Model;

/// Below this median wall time a cell is too short to time honestly:
/// hyperfine warns under 5 ms, where the start-up of the workers and the
/// timer's own jitter are a large part of what is measured.
pub(crate) const MIN_TIMED_S: f64 = 0.005;

/// Runs whose median absolute deviation exceeds this share of their
/// median disagree too much to support a verdict.
pub(crate) const MAX_SPREAD: f64 = 0.1;

/// CPUs that may be missing before other work is said to have taken
/// what the workers needed: the bookkeeping of `/proc/stat` and the odd
/// daemon waking up are not contention.
const CPU_SLACK: f64 = 0.15;

/// Without an interval (one run), a figure within this share of a
/// threshold could as well fall on its other side.
const NEAR_THRESHOLD: f64 = 0.03;

/// Without an interval, a speedup beyond what the machine allows by more
/// than this share is impossible rather than jitter.
const IMPOSSIBLE_MARGIN: f64 = 0.15;

/// With a 95 % interval, its lower bound beyond what the machine allows by
/// more than this share is impossible.
const IMPOSSIBLE_MARGIN_INTERVAL: f64 = 0.03;

/// The median over `runs` of a figure that some runs may lack (older
/// files, models that cannot measure it).
fn median_of(runs: &[Measurement], figure: impl Fn(&Measurement) -> Option<f64>) -> Option<f64> {
    let known: Vec<f64> = runs.iter().filter_map(figure).collect();
    median(&known)
}

/// The CPUs other work took during `runs` (others' CPUs plus steal),
/// median over the runs; `None` when no run recorded it.
pub(crate) fn taken_cpus(runs: &[Measurement]) -> Option<f64> {
    median_of(runs, |m| Some(m.others_cpus? + m.steal_cpus.unwrap_or(0.0)))
}

/// Workers that ran on other machines (a Dask cluster's, MPI ranks on
/// other hosts): this machine's CPUs and load say nothing of theirs, so
/// no figure of the run is a claim about the model on this machine.
/// `noun` names the workers.
///
/// A host is another machine when it is not this one's name: a file read
/// back on another machine than the one that measured it then says
/// `inconclusive` where it could have been sure, never the reverse.
pub(crate) fn elsewhere(runs: &[Measurement], noun: &str) -> Option<String> {
    let here = crate::machine::hostname();
    let hosts: std::collections::BTreeSet<&str> = runs
        .iter()
        .flat_map(|m| &m.outcomes)
        .filter_map(|o| o.host.as_deref())
        .filter(|host| Some(*host) != here.as_deref())
        .collect();
    (!hosts.is_empty()).then(|| {
        let hosts: Vec<&str> = hosts.into_iter().collect();
        format!(
            "some {noun} ran on other machines ({}), whose CPUs and load this machine's figures do not describe",
            hosts.join(", ")
        )
    })
}

/// The workers' cores busy (CPU time over wall time), median over `runs`.
pub(crate) fn cores_busy(runs: &[Measurement]) -> Option<f64> {
    median_of(runs, Measurement::cores_busy)
}

/// Other work took CPUs the workers needed: with `needed` CPUs to keep
/// busy (min(N, CPUs) for CPU-bound work) on `cpus`, others left fewer.
/// The reason says how many they took, how many the workers got, and,
/// when the workers used all that was left, that they ran in parallel
/// whenever they could (unless one global lock kept them from it). `noun` names the workers: `threads`, `processes`.
pub(crate) fn short_of_cpu(
    runs: &[Measurement],
    needed: f64,
    cpus: usize,
    noun: &str,
) -> Option<String> {
    let taken = taken_cpus(runs)?;
    let free = (cpus as f64 - taken).max(0.0);
    if free + CPU_SLACK >= needed {
        return None;
    }
    // Workers that left part of the free CPUs unused were not held back by
    // the others' work but by their model (one global lock, a pool too
    // small): their figure is a result about the model.
    if cores_busy(runs).is_some_and(|got| got + CPU_SLACK < free) {
        return None;
    }
    let workers = runs.first().map_or(0, |m| m.workers);
    let steal = median_of(runs, |m| m.steal_cpus).unwrap_or(0.0);
    let who = if steal >= CPU_SLACK {
        "other processes and the hypervisor (steal)"
    } else {
        "other processes"
    };
    let noun = one_or_many(workers, noun);
    let mut text = format!(
        "{who} kept {taken:.1} of the {cpus} CPUs busy, leaving {free:.1} where your {workers} {noun} needed {needed:.0}"
    );
    // Past the early return above, the workers used what was left to them
    // (within the slack): say what they got once, in one figure.
    if let Some(got) = cores_busy(runs) {
        if workers > 1 {
            text.push_str(&format!(
                "; the {workers} {noun} kept {got:.1} CPUs busy, all that was left to them"
            ));
            // Behind one global lock (the gil model, CPython's threads)
            // using what was left says nothing of running at once.
            if runs.first().is_some_and(|m| may_run_at_once(m.model)) {
                text.push_str(": they ran in parallel whenever they could");
            }
        } else {
            text.push_str(&format!("; it got {got:.1} CPU"));
        }
    }
    Some(text)
}

/// `noun` (a plural: `threads`, `processes`) for `count` workers: the
/// singular for one, so that a reason reads "your 1 process".
pub(crate) fn one_or_many(count: usize, noun: &str) -> &str {
    if count != 1 {
        return noun;
    }
    noun.strip_suffix("es")
        .filter(|stem| stem.ends_with("ss"))
        .or_else(|| noun.strip_suffix('s'))
        .unwrap_or(noun)
}

/// Whether the workers of `model` can compute at once: not behind one
/// global lock (the gil model; CPython's threads, whose lock paralab
/// does not see from here) nor on one thread (CPython's asyncio).
fn may_run_at_once(model: Model) -> bool {
    model.switch_interval().is_none()
        && !model.same_family(Model::PY_THREAD)
        && !model.same_family(Model::PY_THREAD_POOL)
        && !model.same_family(Model::PY_ASYNC)
}

/// CPU-bound workers that got less than one CPU between them: whatever
/// the model, one of them is always computing (even behind a GIL), so
/// the rest of the time the machine gave their CPU to something else.
/// The check for runs that did not record what else ran (older files, or
/// where `/proc/stat` is not readable), from the workers' own CPU time.
pub(crate) fn starved(runs: &[Measurement], noun: &str) -> Option<String> {
    if taken_cpus(runs).is_some() {
        return None;
    }
    let got = cores_busy(runs)?;
    let workers = runs.first().map_or(0, |m| m.workers);
    let noun = one_or_many(workers, noun);
    (got < STARVED).then(|| {
        format!(
            "your {workers} {noun} got only {got:.2} CPUs between them, though CPU-bound work keeps one busy at least: other work had the CPUs"
        )
    })
}

/// Cores busy below this for CPU-bound workers: they waited for a CPU.
const STARVED: f64 = 0.8;

/// CPUs that CPU-bound workers free to run at once may leave unused (their
/// start, their join, the timer's edges) before they are said to have
/// waited for a CPU.
const WAIT_SLACK: f64 = 0.25;

/// CPU-bound workers that nothing in their model holds back (no global
/// lock; or one worker alone) and that kept fewer than `needed` CPUs busy:
/// they were ready to compute all along, so the rest of the time they
/// waited for a CPU that something else had. The check that does not
/// depend on how well `/proc/stat` saw the others' work, which for runs of
/// a few hundred milliseconds it sees only to a tick (10 ms) per CPU.
pub(crate) fn waited_for_cpu(runs: &[Measurement], needed: f64, noun: &str) -> Option<String> {
    let first = runs.first()?;
    if first.workers > 1 && !may_run_at_once(first.model) {
        return None;
    }
    let got = cores_busy(runs)?;
    let workers = first.workers;
    let noun = one_or_many(workers, noun);
    let (compute, they) = if workers == 1 {
        ("computes", "it")
    } else {
        ("compute", "they")
    };
    (got + WAIT_SLACK < needed).then(|| {
        format!(
            "your {workers} {noun}, which {compute} without pause, kept only {got:.2} CPUs busy where {they} could use \
             {needed:.0}: the rest of the time {they} waited for a CPU that other work (or a CPU quota) had"
        )
    })
}

/// Cores busy under which work that computes is said to have waited: its
/// wall time more than twice its CPU time. Whatever the model, one worker
/// of CPU-bound work computes at any time (even behind a global lock), so
/// its workers' CPU time is at least its wall time less their start-up.
const FAR_BELOW_WALL: f64 = 0.5;

/// Work that computes took a wall time far beyond its CPU time (hyperfine
/// #898): its workers waited, for what the figures of `runs` (the
/// successful runs of one cpu cell) tell. Not said of a cell
/// [`too_short`] to time. The reason gives the medians of
/// wall, CPU, user and system time and what else the machine was doing.
/// `None` where CPU time is unknown or the workers ran elsewhere.
pub(crate) fn waited_more_than_computed(runs: &[Measurement]) -> Option<String> {
    // A short cell is mostly its workers' start-up (a fork, an exec, a
    // thread), which is wall time without the workload's CPU time: only
    // past 50 ms (what /proc/stat needs to see other work too) does the
    // gap say the workers waited.
    let wall = median_of(runs, |m| Some(m.wall_s))?;
    if elsewhere(runs, "workers").is_some() || too_short(&walls(runs)).is_some() || wall < 0.05 {
        return None;
    }
    let busy = cores_busy(runs)?;
    if busy >= FAR_BELOW_WALL {
        return None;
    }
    let cpu = median_of(runs, Measurement::cpu_s)?;
    // No clock counts exactly nothing for work that ran past the 5 ms of
    // too_short: a zero is a CPU time that was not measured (a made-up
    // file), not a wait.
    if cpu <= 0.0 {
        return None;
    }
    let unit = fmt::TimeUnit::for_times([wall, cpu]);
    let split = match (
        median_of(runs, Measurement::user_s),
        median_of(runs, Measurement::system_s),
    ) {
        (Some(user), Some(system)) => format!(
            " (user {}, system {})",
            unit.format(user),
            unit.format(system)
        ),
        _ => String::new(),
    };
    let others = match taken_cpus(runs) {
        Some(taken) if taken >= CPU_SLACK => {
            format!("for CPUs that other work took (it kept {taken:.1} CPUs busy), ")
        }
        Some(_) => String::new(),
        None => "for CPUs that other work took, ".to_string(),
    };
    Some(format!(
        "wall time {} but CPU time only {}{split} for work that computes without pause: \
         the workers waited {others}for a CPU quota, for their own start-up or for I/O",
        unit.format(wall),
        unit.format(cpu),
    ))
}

/// CPU time that `cpus` CPUs cannot give in the wall time: a run whose
/// workers' CPU time exceeds wall × CPUs by more than the clocks' grain
/// (a tenth, and 10 ms per worker). Only a measurement error gives it (a
/// clock that jumped, a worker's CPU counted twice, a saved file edited),
/// so the run's figures are not to be trusted. The worst run of `runs`
/// is named. `None` where CPU time is unknown or workers ran elsewhere.
pub(crate) fn impossible_cpu_time(runs: &[Measurement], cpus: usize) -> Option<String> {
    if elsewhere(runs, "workers").is_some() || cpus == 0 {
        return None;
    }
    let (run, cpu, possible) = runs
        .iter()
        .filter_map(|m| {
            let possible = m.wall_s * cpus as f64;
            Some((m, m.cpu_s()?, possible))
        })
        .filter(|&(m, cpu, possible)| cpu > possible * 1.1 + 0.01 * m.workers as f64)
        .max_by(|a, b| (a.1 / a.2).total_cmp(&(b.1 / b.2)))?;
    let unit = fmt::TimeUnit::for_times([run.wall_s, cpu]);
    Some(format!(
        "run {} took {} of wall time, in which {} can give {} of CPU time, yet its workers reported {}: \
         a measurement error, so its times cannot be trusted",
        run.run,
        unit.format(run.wall_s),
        fmt::count(cpus, "CPU"),
        unit.format(possible),
        unit.format(cpu),
    ))
}

/// How far apart the runs are: their median absolute deviation over their
/// median (neither moves for one outlier); 0 for fewer than two.
pub(crate) fn spread(walls: &[f64]) -> f64 {
    match (mad(walls), median(walls)) {
        (Some(mad), Some(median)) if walls.len() > 1 && median > 0.0 => mad / median,
        _ => 0.0,
    }
}

/// The runs disagree: their spread is wider than [`MAX_SPREAD`].
pub(crate) fn runs_disagree(walls: &[f64]) -> Option<String> {
    let spread = spread(walls);
    (spread > MAX_SPREAD).then(|| {
        format!(
            "the runs of a cell typically differ by {} from their median",
            fmt::percent(spread)
        )
    })
}

/// The cell is too short to time: its median run under [`MIN_TIMED_S`].
pub(crate) fn too_short(walls: &[f64]) -> Option<String> {
    let median = median(walls)?;
    (median < MIN_TIMED_S).then(|| {
        format!(
            "a run lasted {}, too short to time honestly (under 5 ms)",
            fmt::seconds_fine(median)
        )
    })
}

/// An impossible speedup: above `possible` (min(N, CPUs) for CPU work, N
/// for waits) beyond its noise, which is the 95 % `interval` when there is
/// one. Above N it is also an efficiency above 100 %, and said so.
pub(crate) fn impossible_speedup(
    speedup: f64,
    interval: Option<(f64, f64)>,
    workers: usize,
    possible: f64,
) -> Option<String> {
    let beyond = match interval {
        Some((low, _)) => low > possible * (1.0 + IMPOSSIBLE_MARGIN_INTERVAL),
        None => speedup > possible * (1.0 + IMPOSSIBLE_MARGIN),
    };
    if !beyond {
        return None;
    }
    let efficiency = if speedup > workers as f64 {
        format!(" (efficiency {})", fmt::percent(speedup / workers as f64))
    } else {
        String::new()
    };
    Some(format!(
        "a speedup of ×{speedup:.2}{efficiency} at {} is more than {possible:.0} at once, which this machine cannot do, so the timings are noise",
        fmt::count(workers, "worker")
    ))
}

/// A figure near a threshold between two verdicts: its 95 % `interval`
/// straddles one, or, with one run, it lies within 3 % of one.
pub(crate) fn near_threshold(
    figure: f64,
    interval: Option<(f64, f64)>,
    thresholds: &[f64],
) -> Option<String> {
    let threshold = thresholds.iter().copied().find(|&t| match interval {
        Some((low, high)) => low < t && t < high,
        None => (figure - t).abs() <= NEAR_THRESHOLD * t,
    })?;
    Some(match interval {
        Some((low, high)) => format!(
            "the speedup's 95% interval over the runs, ×{low:.2} to ×{high:.2}, straddles ×{threshold:.2}, where one verdict turns into another"
        ),
        None => format!(
            "the one run's speedup ×{figure:.2} is within {} of ×{threshold:.2}, where one verdict turns into another",
            fmt::percent(NEAR_THRESHOLD)
        ),
    })
}

/// A ratio between two figures that moved more than its noise allows:
/// its 95 % `interval` is wider than a fifth of the ratio.
pub(crate) fn ratio_moved(what: &str, ratio: f64, interval: Option<(f64, f64)>) -> Option<String> {
    let (low, high) = interval?;
    ((high - low) > 0.2 * ratio)
        .then(|| format!("{what} moved from {low:.1}× to {high:.1}× between runs"))
}

/// Why the runs of CPU-bound work at one worker (`one`) and at N
/// (`at_n`) cannot support a verdict about how the N workers shared the
/// `cpus`, if they cannot: other work took CPUs either cell needed (or,
/// without a record of other work, the workers got less than one CPU),
/// a cell too short to time, a speedup this machine cannot give, runs
/// that disagree, or workers free to run at once that waited for a CPU
/// ([`waited_for_cpu`]). The first reason found, bare (callers add their own
/// advice). `nouns` name one worker and several: `["thread", "threads"]`.
pub(crate) fn cpu_scaling_doubt(
    one: &[Measurement],
    at_n: &[Measurement],
    cpus: usize,
    nouns: [&str; 2],
) -> Option<String> {
    let workers = at_n.first()?.workers;
    for runs in [at_n, one] {
        let n = runs.first()?.workers;
        let noun = if n == 1 { nouns[0] } else { nouns[1] };
        let needed = n.min(cpus) as f64;
        if let Some(reason) = short_of_cpu(runs, needed, cpus, noun)
            .or_else(|| starved(runs, noun))
            .or_else(|| waited_for_cpu(runs, needed, noun))
        {
            return Some(reason);
        }
    }
    let (one, at_n) = (walls(one), walls(at_n));
    if let Some(reason) = too_short(&one).or_else(|| too_short(&at_n)) {
        return Some(reason);
    }
    if let (Some(t1), Some(tn)) = (median(&one), median(&at_n))
        && tn > 0.0
    {
        let speedup = workers as f64 * t1 / tn;
        let interval = bootstrap_ratio(&one, &at_n, workers as f64);
        if let Some(reason) =
            impossible_speedup(speedup, interval, workers, workers.min(cpus) as f64)
        {
            return Some(reason);
        }
    }
    runs_disagree(&one).or_else(|| runs_disagree(&at_n))
}

/// The wall times of `runs`.
fn walls(runs: &[Measurement]) -> Vec<f64> {
    runs.iter().map(|m| m.wall_s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{WorkerOutcome, WorkerStatus};
    use crate::workload::Workload;

    /// A run of 2 workers of `model` on a machine where others took 1.3
    /// of 2 CPUs and the workers got the 0.7 left.
    fn squeezed(model: Model, wall_s: f64) -> Measurement {
        Measurement {
            workload: Workload::Cpu { iters: 1 },
            model,
            workers: 2,
            run: 1,
            wall_s,
            outcomes: (0..2)
                .map(|w| WorkerOutcome {
                    cpu_s: Some(0.35 * wall_s),
                    ..WorkerOutcome::failed(w, WorkerStatus::Finished { result: 3 })
                })
                .collect(),
            memory: None,
            others_cpus: Some(1.3),
            steal_cpus: Some(0.0),
            cpu_pressure: None,
            launch_s: None,
            shell_startup: None,
        }
    }

    #[test]
    fn workers_on_other_machines_are_named_and_discredit_the_run() {
        let here = squeezed(Model::PY_DASK, 1.0);
        assert_eq!(elsewhere(std::slice::from_ref(&here), "tasks"), None);
        let mut away = here.clone();
        away.outcomes[1].host = Some("node7".into());
        let reason = elsewhere(&[here, away], "tasks").unwrap();
        assert!(
            reason.contains("some tasks ran on other machines (node7)"),
            "{reason}"
        );
    }

    #[test]
    fn waiting_cpu_work_and_impossible_cpu_time_are_told() {
        // Two threads busy the whole wall time: nothing to say.
        let busy = Measurement::made_up(Model::THREAD, 2, 1.0, 1.0, Some(0.0));
        assert_eq!(waited_more_than_computed(std::slice::from_ref(&busy)), None);
        assert_eq!(impossible_cpu_time(std::slice::from_ref(&busy), 2), None);
        // Behind one lock a cpu cell keeps one CPU busy: not a wait.
        let gil = Measurement::made_up(Model::GIL, 2, 1.0, 0.5, Some(0.0));
        assert_eq!(waited_more_than_computed(&[gil]), None);
        // 0.3 s of CPU in 1 s of wall while others kept 1.6 CPUs busy.
        let waited = Measurement::made_up(Model::THREAD, 2, 1.0, 0.15, Some(1.6));
        let reason = waited_more_than_computed(&[waited]).unwrap();
        assert!(
            reason.contains("wall time 1.000 s but CPU time only 0.300 s")
                && reason.contains("it kept 1.6 CPUs busy"),
            "{reason}"
        );
        // 3 s of CPU in 1 s on 2 CPUs cannot be.
        let impossible = Measurement::made_up(Model::THREAD, 2, 1.0, 1.5, Some(0.0));
        let reason = impossible_cpu_time(&[busy, impossible], 2).unwrap();
        assert!(
            reason.starts_with("run 1 took 1.000 s") && reason.contains("a measurement error"),
            "{reason}"
        );
        // On 4 CPUs the same run is possible.
        let possible = Measurement::made_up(Model::THREAD, 2, 1.0, 1.5, Some(0.0));
        assert_eq!(impossible_cpu_time(&[possible], 4), None);
    }

    #[test]
    fn only_workers_without_one_lock_are_said_to_run_in_parallel() {
        let threads = short_of_cpu(&[squeezed(Model::THREAD, 1.0)], 2.0, 2, "threads").unwrap();
        assert!(
            threads.contains("ran in parallel whenever they could"),
            "{threads}"
        );
        let gil = short_of_cpu(&[squeezed(Model::GIL, 1.0)], 2.0, 2, "threads").unwrap();
        assert!(
            gil.contains("kept 0.7 CPUs busy, all that was left") && !gil.contains("parallel"),
            "{gil}"
        );
    }

    #[test]
    fn cpu_scaling_doubt_finds_each_reason() {
        let quiet = |model, workers, wall_s: f64| Measurement {
            workers,
            others_cpus: Some(0.0),
            outcomes: (0..workers)
                .map(|w| WorkerOutcome {
                    cpu_s: Some(wall_s),
                    ..WorkerOutcome::failed(w, WorkerStatus::Finished { result: 3 })
                })
                .collect(),
            ..squeezed(model, wall_s)
        };
        let runs = |workers, walls: &[f64]| -> Vec<Measurement> {
            walls
                .iter()
                .map(|&w| quiet(Model::THREAD, workers, w))
                .collect()
        };
        let nouns = ["thread", "threads"];
        let one = runs(1, &[0.5, 0.5, 0.51]);
        assert_eq!(
            cpu_scaling_doubt(&one, &runs(2, &[0.5, 0.51, 0.5]), 2, nouns),
            None
        );
        let noisy = cpu_scaling_doubt(&one, &runs(2, &[0.5, 0.8, 0.6, 0.9, 0.5]), 2, nouns);
        assert!(noisy.is_some_and(|r| r.contains("typically differ")));
        let impossible = cpu_scaling_doubt(&one, &runs(2, &[0.2, 0.2, 0.21]), 2, nouns);
        assert!(impossible.is_some_and(|r| r.contains("cannot do")));
        let short = cpu_scaling_doubt(&runs(1, &[0.002; 3]), &runs(2, &[0.002; 3]), 2, nouns);
        assert!(short.is_some_and(|r| r.contains("too short")));
        let busy = cpu_scaling_doubt(&one, &[squeezed(Model::THREAD, 0.9)], 2, nouns);
        assert!(busy.is_some_and(|r| r.contains("other processes kept 1.3")));
        // Others barely seen, yet the threads got 0.9 of 2 CPUs: they
        // waited; behind one lock the same figure is the lock's.
        let unseen = |model| Measurement {
            others_cpus: Some(0.3),
            ..squeezed(model, 0.9)
        };
        let waited = cpu_scaling_doubt(&one, &[unseen(Model::THREAD)], 2, nouns);
        assert!(
            waited.is_some_and(|r| r.contains("kept only 0.70 CPUs busy")),
            "{:?}",
            cpu_scaling_doubt(&one, &[unseen(Model::THREAD)], 2, nouns)
        );
        let gil_one: Vec<Measurement> = one
            .iter()
            .map(|m| Measurement {
                model: Model::GIL,
                ..m.clone()
            })
            .collect();
        assert_eq!(
            cpu_scaling_doubt(&gil_one, &[unseen(Model::GIL)], 2, nouns),
            None
        );
    }
}
