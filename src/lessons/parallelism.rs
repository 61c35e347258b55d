//! `parallelism`: real parallelism. The notebook's cpu loop in N workers at
//! once, N = 1 … CPUs, under each model: do N workers take as long as one
//! (N cores used) or N times as long (one at a time)?

use serde::Serialize;

use super::{Finding, Lesson, LessonError, Options, Outcome, Verdict};
use crate::experiment::{Experiment, Measurement, Plan};
use crate::fmt::{Table, count, seconds_fine, thousands};
use crate::machine::logical_cpus;
use crate::measure::contention::Counters;
use crate::measure::stats::median;
use crate::model::{Model, StartMethod};
use crate::workload::{DEFAULT_ITERS, Workload};

/// The lesson.
pub(crate) const LESSON: Lesson = Lesson {
    name: "parallelism",
    summary: "the cpu loop in N = 1 … CPUs workers: do threads and processes use several cores?",
    claim: "Threads do not benefit from several cores (there is no real parallelism), while processes do; \
            in the notebook's Python this is because of CPython's global interpreter lock (GIL).",
    notebook: "Les threads ne bénéficient pas de la présence de plusieurs coeurs sur un processeur. Il n'y a pas \
               de réelle parallélisme. … En créant différents processus on peut bénéficier d'un parallélisme \
               physiquement réelle sur un processeur a plusieurs coeurs.",
    plan,
    run,
    children: &[],
};

/// Processes as the notebook starts them.
const FORK: Model = Model::process(StartMethod::Fork);

/// The models compared, in the one place they are listed.
pub(crate) fn models() -> Vec<Model> {
    vec![Model::THREAD, FORK, Model::GIL]
}

fn iters(options: &Options) -> u64 {
    if options.fast {
        5_000_000
    } else {
        DEFAULT_ITERS
    }
}

fn runs(options: &Options) -> usize {
    if options.fast { 1 } else { 3 }
}

fn plan(options: &Options) -> String {
    let cpus = logical_cpus();
    format!(
        "Run the notebook's cpu loop ({} iterations, one worker's whole job) in N workers at once, N = 1 … {cpus} \
         (this machine's logical CPUs), as {}; {} each, the median kept. speedup = N·T(1)/T(N): ×N \
         when N cores work at once, ×1 when the workers take turns. Cores busy = the workers' CPU time / wall time.",
        thousands(iters(options)),
        models()
            .iter()
            .map(|m| describe(*m))
            .collect::<Vec<_>>()
            .join(" and as "),
        count(runs(options), "timed run"),
    )
}

fn describe(model: Model) -> String {
    if model.same_family(Model::THREAD) {
        "Rust threads".into()
    } else if model.same_family(FORK) {
        format!(
            "processes ({})",
            model.start_method().map_or("", |m| m.name())
        )
    } else if model.same_family(Model::GIL) {
        "gil: threads behind one global lock".into()
    } else {
        model.to_string()
    }
}

/// A column title short enough for the evidence table.
fn short_name(model: Model) -> String {
    if model.same_family(Model::GIL) {
        "gil (CPython-like lock)".into()
    } else {
        describe(model)
    }
}

/// One (model, N) cell.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Cell {
    /// The model, as on the command line.
    pub model: String,
    /// Its family: `thread`, `process`, `gil`.
    pub family: String,
    /// The model itself, for comparisons.
    #[serde(skip)]
    pub kind: Model,
    /// Workers at once.
    pub workers: usize,
    /// Median wall time.
    pub seconds: f64,
    /// N·T(1)/T(N).
    pub speedup: f64,
    /// The workers' CPU seconds per wall second, median over runs.
    pub cores_busy: Option<f64>,
    /// CPUs that other work kept busy meanwhile: the median of the runs'
    /// `others_cpus` when the experiment measured it, else the average
    /// over the whole lesson.
    pub others_cpus: Option<f64>,
}

/// The evidence, as data.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Evidence {
    /// Logical CPUs.
    pub cpus: usize,
    /// Iterations per worker.
    pub iters: u64,
    /// The reference result, checked in every worker.
    pub result: u64,
    /// Every (model, N).
    pub cells: Vec<Cell>,
    /// Every run, with each worker's outcome.
    pub measurements: Vec<Measurement>,
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    let cpus = logical_cpus();
    let iters = iters(options);
    let plan = Plan {
        workloads: vec![Workload::Cpu { iters }],
        models: models(),
        workers: (1..=cpus).collect(),
        runs: runs(options),
        warmup: 0,
    };
    // What else ran over the whole lesson, for runs too short to have
    // measured it themselves.
    let before = Counters::now();
    let results = Experiment::new(plan).worker_exe(&options.exe).run();
    let others = before.until(&Counters::now()).others_cpus;
    if let Some(failure) = results.failure {
        return Err(LessonError(format!("the cpu runs failed: {failure}")));
    }
    let mut cells = cells(&results.measurements);
    for cell in &mut cells {
        cell.others_cpus = cell.others_cpus.or(others);
    }
    Ok(finding(Evidence {
        cpus,
        iters,
        result: Workload::Cpu { iters }.expected_result(),
        cells,
        measurements: results.measurements,
    }))
}

fn cells(measurements: &[Measurement]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = Vec::new();
    for model in models() {
        let of = |n: usize| -> Vec<&Measurement> {
            measurements
                .iter()
                .filter(|m| m.model == model && m.workers == n)
                .collect()
        };
        let Some(one) = median(&of(1).iter().map(|m| m.wall_s).collect::<Vec<_>>()) else {
            continue;
        };
        let mut counts: Vec<usize> = measurements
            .iter()
            .filter(|m| m.model == model)
            .map(|m| m.workers)
            .collect();
        counts.sort_unstable();
        counts.dedup();
        for n in counts {
            let runs = of(n);
            let Some(seconds) = median(&runs.iter().map(|m| m.wall_s).collect::<Vec<_>>()) else {
                continue;
            };
            let busy: Vec<f64> = runs
                .iter()
                .filter_map(|m| {
                    let cpu: Option<f64> = m.outcomes.iter().map(|o| o.cpu_s).sum();
                    cpu.map(|cpu| cpu / m.wall_s)
                })
                .collect();
            let others: Vec<f64> = runs.iter().filter_map(|m| m.others_cpus).collect();
            cells.push(Cell {
                model: model.to_string(),
                family: model.family().to_string(),
                kind: model,
                workers: n,
                seconds,
                speedup: n as f64 * one / seconds,
                cores_busy: median(&busy),
                others_cpus: median(&others),
            });
        }
    }
    cells
}

fn finding(evidence: Evidence) -> Finding {
    let mut header = vec!["workers".to_string()];
    let models = models();
    for model in &models {
        header.push(short_name(*model));
    }
    let mut table = Table {
        title: format!(
            "cpu loop, {} iterations per worker, result {} checked in every worker: time   speedup   cores busy",
            thousands(evidence.iters),
            thousands(evidence.result)
        ),
        header,
        rows: Vec::new(),
    };
    for n in 1..=evidence.cpus {
        let mut row = vec![n.to_string()];
        for model in &models {
            row.push(
                evidence
                    .cells
                    .iter()
                    .find(|c| c.workers == n && c.kind == *model)
                    .map_or("-".into(), |c| {
                        format!(
                            "{:>8}  ×{:.2}  {}",
                            seconds_fine(c.seconds),
                            c.speedup,
                            c.cores_busy.map_or("-".into(), |b| format!("{b:.2}"))
                        )
                    }),
            );
        }
        table.row(row);
    }
    let mut notes = vec![format!(
        "On {} CPUs the best possible speedup is ×{}. Rust threads have no global lock: each runs on its own \
         core. CPython's threads hold the GIL while they compute, so only one computes at a time.",
        evidence.cpus, evidence.cpus
    )];
    let alone: Vec<f64> = evidence
        .cells
        .iter()
        .filter(|c| c.workers == 1)
        .filter_map(|c| c.cores_busy)
        .collect();
    if let Some(least) = alone.iter().copied().reduce(f64::min)
        && least < 0.9
    {
        notes.push(format!(
            "The machine was busy with other work: one worker alone got only {least:.2} of a core, so \
             these speedups are uncertain; run the lesson again on a quiet machine."
        ));
    }
    Finding {
        tables: vec![table],
        notes,
        verdicts: verdicts(&evidence),
        evidence: serde_json::to_value(&evidence).expect("plain data serialises"),
    }
}

/// The cell of the family at the most workers that fit on the CPUs.
fn best(evidence: &Evidence, family: Model) -> Option<&Cell> {
    evidence
        .cells
        .iter()
        .filter(|c| c.kind.same_family(family) && c.workers <= evidence.cpus)
        .max_by_key(|c| c.workers)
}

fn uses_cores(cell: &Cell) -> bool {
    cell.speedup >= 0.75 * cell.workers as f64
}

fn one_at_a_time(cell: &Cell) -> bool {
    cell.speedup <= 1.25
}

fn figures(cell: &Cell) -> String {
    format!(
        "{} workers took {} (×{:.2}{})",
        cell.workers,
        seconds_fine(cell.seconds),
        cell.speedup,
        cell.cores_busy
            .map_or(String::new(), |b| format!(", {b:.2} cores busy"))
    )
}

/// When other work left `cell`'s workers fewer CPUs than they could
/// use, the reason its figure says nothing about the model, in words;
/// `None` when they had CPUs enough (or nothing says otherwise).
fn short_of_cpus(cell: &Cell, cpus: usize) -> Option<String> {
    let others = cell.others_cpus?;
    let free = (cpus as f64 - others).max(0.0);
    let wanted = cell.workers.min(cpus) as f64;
    // A tenth of a CPU is the noise of the system's own housekeeping.
    if free >= wanted - 0.1 {
        return None;
    }
    let got = cell.cores_busy.map_or(String::new(), |b| {
        format!(
            "; your {} got {b:.1} CPUs between them",
            count(cell.workers, "worker")
        )
    });
    // Threads behind one lock do not run in parallel even when they use
    // what they get, so the sentence is kept for the others.
    let used_all = !cell.kind.same_family(Model::GIL)
        && cell.cores_busy.is_some_and(|b| b >= 0.9 * free.min(wanted));
    Some(format!(
        "other processes kept {others:.1} of the {cpus} CPUs busy{got}{}",
        if used_all {
            format!(
                ": the {} used all the {free:.1} CPUs left to them, so they ran in parallel whenever they could",
                count(cell.workers, "worker")
            )
        } else {
            String::new()
        }
    ))
}

fn verdicts(evidence: &Evidence) -> Vec<Verdict> {
    if evidence.cpus < 2 {
        return vec![Verdict::new(
            Outcome::NotMeasured,
            "this machine gives paralab one CPU: there is nothing to run in parallel",
        )];
    }
    let cpus = evidence.cpus;
    let mut verdicts = Vec::new();
    match best(evidence, Model::GIL) {
        // One at a time with CPUs to spare shows the lock; without them,
        // the machine could have done the same to free threads.
        Some(gil) => verdicts.push(match short_of_cpus(gil, cpus) {
            Some(why) if one_at_a_time(gil) => Verdict::new(
                Outcome::Inconclusive,
                format!("Python-like threads (one global lock): {}; {why}", figures(gil)),
            ),
            _ => Verdict::new(
                if one_at_a_time(gil) { Outcome::Holds } else { Outcome::DoesNotHold },
                format!("Python-like threads (one global lock): {}", figures(gil)),
            ),
        }),
        None => verdicts.push(Verdict::new(
            Outcome::NotMeasured,
            "Python-like threads: this build has no gil model, so CPython's threads are not reproduced here",
        )),
    }
    if let Some(process) = best(evidence, FORK) {
        let used = uses_cores(process);
        verdicts.push(match short_of_cpus(process, cpus) {
            Some(why) if !used => Verdict::new(
                Outcome::Inconclusive,
                format!("processes: {}; {why}", figures(process)),
            ),
            _ => Verdict::new(
                if used {
                    Outcome::Holds
                } else {
                    Outcome::DoesNotHold
                },
                format!(
                    "processes {} several cores: {}",
                    if used { "use" } else { "did not use" },
                    figures(process)
                ),
            ),
        });
    }
    if let Some(thread) = best(evidence, Model::THREAD) {
        let used = uses_cores(thread);
        verdicts.push(match short_of_cpus(thread, cpus) {
            // Never "threads lack parallelism" when the CPUs were taken.
            Some(why) if !used => Verdict::new(
                Outcome::Inconclusive,
                format!("Rust threads: {}; {why}", figures(thread)),
            ),
            _ if used => Verdict::new(
                Outcome::DoesNotHold,
                format!(
                    "for Rust threads, which have no global lock and use several cores: {}",
                    figures(thread)
                ),
            ),
            _ => Verdict::new(
                Outcome::Holds,
                format!(
                    "for Rust threads on this run, although they have no global lock: {}",
                    figures(thread)
                ),
            ),
        });
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(model: Model, workers: usize, speedup: f64, busy: f64, others: Option<f64>) -> Cell {
        Cell {
            model: model.to_string(),
            family: model.family().to_string(),
            kind: model,
            workers,
            seconds: 0.5,
            speedup,
            cores_busy: Some(busy),
            others_cpus: others,
        }
    }

    fn evidence(cells: Vec<Cell>) -> Evidence {
        Evidence {
            cpus: 2,
            iters: 1,
            result: 3,
            cells,
            measurements: Vec::new(),
        }
    }

    /// Beside two busy loops on 2 CPUs, threads that got ×1.1 and used
    /// the 0.7 CPUs left: not "no parallelism" but inconclusive, saying
    /// they used all they were given.
    #[test]
    fn threads_short_of_cpus_are_inconclusive() {
        let busy = evidence(vec![
            cell(Model::THREAD, 2, 1.1, 0.68, Some(1.3)),
            cell(FORK, 2, 1.0, 0.7, Some(1.3)),
            cell(Model::GIL, 2, 1.0, 0.7, Some(1.3)),
        ]);
        let verdicts = verdicts(&busy);
        assert_eq!(verdicts.len(), 3);
        for verdict in &verdicts {
            assert_eq!(verdict.outcome, Outcome::Inconclusive, "{verdict:?}");
            assert!(
                verdict
                    .text
                    .contains("other processes kept 1.3 of the 2 CPUs busy"),
                "{verdict:?}"
            );
            assert!(!verdict.text.contains("no parallelism"), "{verdict:?}");
        }
        assert!(
            verdicts[2]
                .text
                .contains("ran in parallel whenever they could"),
            "{verdicts:?}"
        );
    }

    #[test]
    fn a_quiet_machine_gives_results() {
        for others in [None, Some(0.02)] {
            let quiet = evidence(vec![
                cell(Model::THREAD, 2, 1.98, 1.98, others),
                cell(FORK, 2, 1.95, 1.97, others),
                cell(Model::GIL, 2, 1.0, 1.0, others),
            ]);
            let outcomes: Vec<Outcome> = verdicts(&quiet).iter().map(|v| v.outcome).collect();
            assert_eq!(
                outcomes,
                [Outcome::Holds, Outcome::Holds, Outcome::DoesNotHold],
                "{others:?}"
            );
        }
    }
}
