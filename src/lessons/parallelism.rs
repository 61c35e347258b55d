//! `parallelism`: real parallelism. The notebook's cpu loop in N workers at
//! once, N = 1 … CPUs, under each model: do N workers take as long as one
//! (N cores used) or N times as long (one at a time)?

use serde::Serialize;

use super::{Finding, Lesson, LessonError, Options, Outcome, Verdict};
use crate::experiment::{Experiment, Measurement, Plan};
use crate::fmt::{Table, count, percent, seconds_fine, thousands};
use crate::machine::logical_cpus;
use crate::measure::contention::Counters;
use crate::measure::stats::{bootstrap_ratio, median};
use crate::model::python::Python;
use crate::model::{Interpreter, Model, StartMethod};
use crate::verdict::evidence::{cores_busy, cpu_scaling_doubt, near_threshold, spread, taken_cpus};
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

/// CPython's own threads, in `interpreter`.
fn py_thread(interpreter: Interpreter) -> Model {
    Model::PY_THREAD.in_interpreter(interpreter)
}

/// Iterations of a CPython worker: CPython runs the loop some 15–35×
/// slower than Rust, so its workers get fewer, for runs of about the same
/// length (and its own checked result).
fn python_iters(options: &Options) -> u64 {
    if options.fast { 400_000 } else { 2_000_000 }
}

fn iters(options: &Options) -> u64 {
    if options.fast {
        5_000_000
    } else {
        DEFAULT_ITERS
    }
}

/// Timed runs per cell: three at least, so that runs which disagree are
/// seen (one run has no spread) and the speedup has an interval.
fn runs(options: &Options) -> usize {
    if options.fast { 3 } else { 5 }
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
    if let Some(interpreter) = model.interpreter() {
        format!(
            "CPython threads, {}",
            interpreter.label().trim_start_matches("CPython ")
        )
    } else if model.same_family(Model::GIL) {
        "gil (CPython-like lock)".into()
    } else {
        describe(model)
    }
}

/// One (model, N) cell.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Cell {
    /// The model, as on the command line; a CPython model with its
    /// interpreter: `py-thread (CPython 3.13.5, no GIL)`.
    pub model: String,
    /// The interpreter of a CPython model: version, GIL state as the
    /// interpreter reported it, program, label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python: Option<Interpreter>,
    /// Its family: `thread`, `process`, `gil`.
    pub family: String,
    /// The model itself, for comparisons.
    #[serde(skip)]
    pub kind: Model,
    /// Workers at once.
    pub workers: usize,
    /// Timed runs of the cell (all successful: a failed run ends the lesson).
    pub runs: usize,
    /// Median wall time.
    pub seconds: f64,
    /// How far the runs are from their median: their median absolute
    /// deviation over it (0 for one run).
    pub spread: f64,
    /// N·T(1)/T(N).
    pub speedup: f64,
    /// The speedup's 95 % bootstrap interval over the runs (two runs or more).
    pub speedup_interval: Option<(f64, f64)>,
    /// The workers' CPU seconds per wall second, median over runs.
    pub cores_busy: Option<f64>,
    /// CPUs that other work kept busy meanwhile (steal included), median
    /// over the runs.
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
    /// Iterations per CPython worker, when interpreters were named
    /// (`--python-exe`), and their reference result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python_iters: Option<(u64, u64)>,
    /// Every (model, N).
    pub cells: Vec<Cell>,
    /// Every run, with each worker's outcome.
    pub measurements: Vec<Measurement>,
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    run_in(options, &[])
}

/// The lesson, with CPython's own threads (`py-thread`) beside the Rust
/// models in each interpreter of `pythons` (`--python-exe a,b`), each its
/// own column and its own verdict. Each interpreter's GIL state is the one
/// it reports, never assumed from its version.
pub(crate) fn run_in(
    options: &Options,
    pythons: &[std::path::PathBuf],
) -> Result<Finding, LessonError> {
    let cpus = logical_cpus();
    let iters = iters(options);
    let mut found = Vec::new();
    for exe in pythons {
        let python = Python::find(Some(exe))
            .map_err(|error| LessonError(format!("--python-exe '{}': {error}", exe.display())))?;
        found.push(python);
    }
    let mut models = models();
    models.extend(found.iter().map(|p| py_thread(p.interpreter())));
    let plan = Plan {
        workloads: vec![Workload::Cpu { iters }],
        models,
        workers: (1..=cpus).collect(),
        runs: runs(options),
        warmup: 0,
    };
    // What else ran over the whole lesson, for runs too short to have
    // measured it themselves.
    let before = Counters::now();
    let mut experiment = Experiment::new(plan).worker_exe(&options.exe);
    let with_python = !found.is_empty();
    for python in found {
        experiment = experiment.python(python);
    }
    if with_python {
        experiment = experiment.python_iters(python_iters(options));
    }
    let results = experiment.run();
    let others = before.until(&Counters::now()).others_cpus;
    if let Some(failure) = results.failure {
        return Err(LessonError(format!("the cpu runs failed: {failure}")));
    }
    let mut measurements = results.measurements;
    for m in &mut measurements {
        m.others_cpus = m.others_cpus.or(others);
    }
    Ok(finding(Evidence {
        cpus,
        iters,
        result: Workload::Cpu { iters }.expected_result(),
        python_iters: with_python.then(|| {
            let iters = python_iters(options);
            (iters, Workload::Cpu { iters }.expected_result())
        }),
        cells: cells(&measurements),
        measurements,
    }))
}

/// The successful runs of `model` at `workers` workers.
fn runs_of(measurements: &[Measurement], model: Model, workers: usize) -> Vec<Measurement> {
    measurements
        .iter()
        .filter(|m| m.model == model && m.workers == workers && m.succeeded())
        .cloned()
        .collect()
}

fn walls(runs: &[Measurement]) -> Vec<f64> {
    runs.iter().map(|m| m.wall_s).collect()
}

/// The models of the lesson's runs: the Rust ones, then each
/// interpreter's py-thread in the order measured.
fn models_of(measurements: &[Measurement]) -> Vec<Model> {
    let mut all = models();
    for m in measurements {
        if !all.contains(&m.model) {
            all.push(m.model);
        }
    }
    all
}

fn cells(measurements: &[Measurement]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = Vec::new();
    for model in models_of(measurements) {
        let one = walls(&runs_of(measurements, model, 1));
        let Some(t1) = median(&one) else {
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
            let runs = runs_of(measurements, model, n);
            let at_n = walls(&runs);
            let Some(seconds) = median(&at_n) else {
                continue;
            };
            cells.push(Cell {
                model: model.to_string(),
                python: model.interpreter(),
                family: model.family().to_string(),
                kind: model,
                workers: n,
                runs: runs.len(),
                seconds,
                spread: spread(&at_n),
                speedup: n as f64 * t1 / seconds,
                speedup_interval: bootstrap_ratio(&one, &at_n, n as f64),
                cores_busy: cores_busy(&runs),
                others_cpus: taken_cpus(&runs),
            });
        }
    }
    cells
}

fn finding(evidence: Evidence) -> Finding {
    let mut header = vec!["workers".to_string()];
    let models = models_of(&evidence.measurements);
    for model in &models {
        header.push(short_name(*model));
    }
    let mut table = Table {
        title: format!(
            "cpu loop, {} iterations per worker, result {} checked in every worker: \
             time (± runs' spread)   speedup   cores busy",
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
                            "{:>8} ±{:<3}  ×{:.2}  {}",
                            seconds_fine(c.seconds),
                            percent(c.spread),
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
         core. CPython's threads hold the GIL while they compute, so only one computes at a time \
         (unless the CPython is a free-threaded build, 3.13t and later, which has no GIL).",
        evidence.cpus, evidence.cpus
    )];
    for interpreter in interpreters(&evidence) {
        notes.push(format!(
            "{}: CPython's own threads (py-thread) ran the loop too, {} iterations each (result {} checked in \
             every worker); this interpreter reported its GIL {} (sys._is_gil_enabled() where it exists, 3.13+){}.",
            interpreter.label(),
            thousands(evidence.python_iters.map_or(0, |(iters, _)| iters)),
            thousands(evidence.python_iters.map_or(0, |(_, result)| result)),
            if interpreter.gil_enabled() { "enabled" } else { "disabled" },
            if interpreter.gil_enabled() {
                ""
            } else {
                ": a free-threaded build, whose threads may compute at once"
            },
        ));
    }
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

/// The interpreters of the CPython cells, in order.
fn interpreters(evidence: &Evidence) -> Vec<Interpreter> {
    let mut found: Vec<Interpreter> = Vec::new();
    for cell in &evidence.cells {
        if let Some(interpreter) = cell.python
            && !found.contains(&interpreter)
        {
            found.push(interpreter);
        }
    }
    found
}

/// The cell of `model` (with its interpreter, if any) at the most workers
/// that fit on the CPUs.
fn best_of(evidence: &Evidence, model: Model) -> Option<&Cell> {
    evidence
        .cells
        .iter()
        .filter(|c| c.kind == model && c.workers <= evidence.cpus)
        .max_by_key(|c| c.workers)
}

/// The cell of the family at the most workers that fit on the CPUs.
fn best(evidence: &Evidence, family: Model) -> Option<&Cell> {
    evidence
        .cells
        .iter()
        .filter(|c| c.kind.same_family(family) && c.workers <= evidence.cpus)
        .max_by_key(|c| c.workers)
}

/// A speedup at or above this share of N: the N workers used N cores.
const USES_CORES: f64 = 0.75;

/// A speedup at or below this: the workers ran one at a time.
const ONE_AT_A_TIME: f64 = 1.25;

fn uses_cores(cell: &Cell) -> bool {
    cell.speedup >= USES_CORES * cell.workers as f64
}

fn one_at_a_time(cell: &Cell) -> bool {
    cell.speedup <= ONE_AT_A_TIME
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

/// Why `cell`'s figure says nothing about its model, if it does not: the
/// checks of [`crate::verdict::evidence`] on its runs and on the one-worker
/// runs it is compared with, then whether its speedup sits at the
/// threshold (`threshold`, named by `meaning`) between the verdicts.
fn doubt(evidence: &Evidence, cell: &Cell, threshold: f64, meaning: &str) -> Option<String> {
    let nouns = if cell.kind.same_family(FORK) {
        ["process", "processes"]
    } else {
        ["thread", "threads"]
    };
    let one = runs_of(&evidence.measurements, cell.kind, 1);
    let at_n = runs_of(&evidence.measurements, cell.kind, cell.workers);
    if let Some(reason) = cpu_scaling_doubt(&one, &at_n, evidence.cpus, nouns) {
        return Some(reason);
    }
    near_threshold(cell.speedup, cell.speedup_interval, &[threshold])
        .map(|reason| format!("{reason} ({meaning})"))
}

/// The verdict about `cell` (`who`: how its workers are named): the
/// result `result` when the evidence supports one, else inconclusive with
/// the figures and the reason.
fn judged(
    evidence: &Evidence,
    cell: &Cell,
    who: &str,
    threshold: (f64, &str),
    result: impl FnOnce() -> Verdict,
) -> Verdict {
    match doubt(evidence, cell, threshold.0, threshold.1) {
        Some(why) => Verdict::new(
            Outcome::Inconclusive,
            format!("{who}: {}; {why}", figures(cell)),
        ),
        None => result(),
    }
}

fn verdicts(evidence: &Evidence) -> Vec<Verdict> {
    if evidence.cpus < 2 {
        return vec![Verdict::new(
            Outcome::NotMeasured,
            "this machine gives paralab one CPU: there is nothing to run in parallel",
        )];
    }
    let mut verdicts = Vec::new();
    let one_at_a_time_ends = (
        ONE_AT_A_TIME,
        "the speedup up to which the workers count as running one at a time",
    );
    let cores_from = |cell: &Cell| {
        (
            USES_CORES * cell.workers as f64,
            format!(
                "{} of {} workers, from which they count as using {} cores",
                percent(USES_CORES),
                cell.workers,
                cell.workers
            ),
        )
    };
    match best(evidence, Model::GIL) {
        Some(gil) => verdicts.push(judged(
            evidence,
            gil,
            "Python-like threads (one global lock)",
            one_at_a_time_ends,
            || {
                if one_at_a_time(gil) {
                    Verdict::new(
                        Outcome::Holds,
                        format!(
                            "Python-like threads (one global lock) ran one at a time: {}",
                            figures(gil)
                        ),
                    )
                } else {
                    Verdict::new(
                        Outcome::DoesNotHold,
                        format!(
                            "Python-like threads (one global lock) did not run one at a time: {}",
                            figures(gil)
                        ),
                    )
                }
            },
        )),
        None => verdicts.push(Verdict::new(
            Outcome::NotMeasured,
            "Python-like threads: this build has no gil model, so CPython's threads are not reproduced here",
        )),
    }
    if let Some(process) = best(evidence, FORK) {
        let (at, meaning) = cores_from(process);
        verdicts.push(judged(
            evidence,
            process,
            "processes",
            (at, &meaning),
            || {
                let used = uses_cores(process);
                Verdict::new(
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
                )
            },
        ));
    }
    for interpreter in interpreters(evidence) {
        if let Some(cell) = best_of(evidence, py_thread(interpreter)) {
            verdicts.push(cpython_threads(evidence, cell, interpreter));
        }
    }
    if let Some(thread) = best(evidence, Model::THREAD) {
        let (at, meaning) = cores_from(thread);
        verdicts.push(judged(evidence, thread, "Rust threads", (at, &meaning), || {
            if uses_cores(thread) {
                Verdict::new(
                    Outcome::DoesNotHold,
                    format!(
                        "for Rust threads, which have no global lock and use several cores: {}",
                        figures(thread)
                    ),
                )
            } else {
                Verdict::new(
                    Outcome::Holds,
                    format!(
                        "for Rust threads on this run, although they have no global lock and had the CPUs free: {}",
                        figures(thread)
                    ),
                )
            }
        }));
    }
    verdicts
}

/// The claim for one interpreter's own threads: holds when they ran one
/// at a time, does not hold when they used several cores (or part of
/// them), inconclusive when the evidence cannot say. The threshold asked
/// about is the one nearest the figure, so the GIL state never picks the
/// answer: a free-threaded build whose threads took turns is said to.
fn cpython_threads(evidence: &Evidence, cell: &Cell, interpreter: Interpreter) -> Verdict {
    let who = format!("threads in {interpreter}");
    let cores_at = USES_CORES * cell.workers as f64;
    let cores_meaning = format!(
        "{} of {} workers, from which they count as using {} cores",
        percent(USES_CORES),
        cell.workers,
        cell.workers
    );
    let nearest =
        if (cell.speedup / ONE_AT_A_TIME).ln().abs() <= (cell.speedup / cores_at).ln().abs() {
            (
                ONE_AT_A_TIME,
                "the speedup up to which the workers count as running one at a time",
            )
        } else {
            (cores_at, cores_meaning.as_str())
        };
    judged(evidence, cell, &who, nearest, || {
        if one_at_a_time(cell) {
            Verdict::new(
                Outcome::Holds,
                format!(
                    "{who} cannot use several cores: they ran one at a time: {}",
                    figures(cell)
                ),
            )
        } else if uses_cores(cell) {
            Verdict::new(
                Outcome::DoesNotHold,
                format!("for {who}, which used several cores: {}", figures(cell)),
            )
        } else {
            Verdict::new(
                Outcome::DoesNotHold,
                format!(
                    "for {who}, which ran partly at once, as if {:.1} of {} used a core each: {}",
                    cell.speedup,
                    cell.workers,
                    figures(cell)
                ),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of `workers` workers of `model` that took `wall_s`, the
    /// workers busy for `busy` CPUs in all, with `others` CPUs taken by
    /// other work.
    fn run(
        model: Model,
        workers: usize,
        wall_s: f64,
        busy: f64,
        others: Option<f64>,
    ) -> Measurement {
        Measurement::made_up(
            model,
            workers,
            wall_s,
            busy * wall_s / workers as f64,
            others,
        )
    }

    /// The evidence of three models on 2 CPUs: for each, the wall times
    /// of its runs at 1 and at 2 workers, with the cores they kept busy
    /// and the CPUs others took.
    /// One model's runs: the model, the walls at 1 and at 2 workers, the
    /// cores busy at 2, the CPUs others took.
    type Case<'a> = (Model, &'a [f64], &'a [f64], f64, Option<f64>);

    fn evidence(cases: &[Case<'_>]) -> Evidence {
        let mut measurements = Vec::new();
        for &(model, one, two, busy_two, others) in cases {
            let busy_one = if others.is_some_and(|o| o > 1.5) {
                0.4
            } else {
                1.0
            };
            measurements.extend(one.iter().map(|&w| run(model, 1, w, busy_one, others)));
            measurements.extend(two.iter().map(|&w| run(model, 2, w, busy_two, others)));
        }
        Evidence {
            cpus: 2,
            iters: 1,
            result: 3,
            python_iters: None,
            cells: cells(&measurements),
            measurements,
        }
    }

    fn outcomes(verdicts: &[Verdict]) -> Vec<Outcome> {
        verdicts.iter().map(|v| v.outcome).collect()
    }

    const STEADY: &[f64] = &[0.50, 0.51, 0.50];

    /// Beside two busy loops on 2 CPUs, threads that got ×1.1 and used
    /// the 0.7 CPUs left: not "no parallelism" but inconclusive, saying
    /// they used all they were given.
    #[test]
    fn workers_short_of_cpus_are_inconclusive() {
        let slow: &[f64] = &[0.91, 0.90, 0.91];
        let busy = evidence(&[
            (Model::THREAD, STEADY, slow, 0.7, Some(1.3)),
            (FORK, STEADY, slow, 0.7, Some(1.3)),
            (Model::GIL, STEADY, &[1.0, 1.0, 1.01], 0.7, Some(1.3)),
        ]);
        let verdicts = verdicts(&busy);
        assert_eq!(
            outcomes(&verdicts),
            [Outcome::Inconclusive; 3],
            "{verdicts:?}"
        );
        for verdict in &verdicts {
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
        // Behind one lock, using what was left is not running at once.
        assert!(
            !verdicts[0].text.contains("in parallel")
                && verdicts[0].text.contains("all that was left"),
            "{verdicts:?}"
        );
    }

    fn interpreter(version: &str, gil: bool) -> Interpreter {
        use crate::model::python::interpreter::InterpreterInfo;
        Interpreter::new(InterpreterInfo {
            version: version.into(),
            gil_enabled: gil,
            executable: format!("/opt/python{version}/bin/python"),
            label: Interpreter::label_of(version, gil),
        })
    }

    /// Each interpreter's threads judged on their own runs, the GIL state
    /// never picking the answer: a free-threaded build whose threads took
    /// turns is said to.
    #[test]
    fn each_interpreter_has_its_own_verdict_from_its_own_runs() {
        let with_gil = interpreter("3.11.7", true);
        let free = interpreter("3.13.5", false);
        let free_taking_turns = interpreter("3.14.0", false);
        let quiet = evidence(&[
            (Model::THREAD, STEADY, &[0.50, 0.505, 0.51], 1.98, None),
            (py_thread(with_gil), STEADY, &[1.0, 1.01, 1.0], 1.0, None),
            (py_thread(free), STEADY, &[0.52, 0.53, 0.52], 1.9, None),
            (
                py_thread(free_taking_turns),
                STEADY,
                &[1.0, 1.0, 1.01],
                1.0,
                None,
            ),
        ]);
        let verdicts = verdicts(&quiet);
        let about = |i: Interpreter| {
            let mine: Vec<&Verdict> = verdicts
                .iter()
                .filter(|v| v.text.contains(&format!("threads in {i}")))
                .collect();
            assert_eq!(mine.len(), 1, "{i}: {verdicts:?}");
            mine[0].outcome
        };
        assert_eq!(about(with_gil), Outcome::Holds, "{verdicts:?}");
        assert_eq!(about(free), Outcome::DoesNotHold, "{verdicts:?}");
        assert_eq!(about(free_taking_turns), Outcome::Holds, "{verdicts:?}");
        let table = finding(quiet).tables[0].render();
        assert!(table.contains("CPython threads, 3.13.5, no GIL"), "{table}");
        assert!(
            table.contains("CPython threads, 3.11.7, with GIL"),
            "{table}"
        );
    }

    #[test]
    fn a_quiet_machine_gives_results() {
        for others in [None, Some(0.02)] {
            let quiet = evidence(&[
                (Model::THREAD, STEADY, &[0.50, 0.505, 0.51], 1.98, others),
                (FORK, STEADY, &[0.51, 0.52, 0.515], 1.96, others),
                (Model::GIL, STEADY, &[1.0, 1.01, 1.0], 1.0, others),
            ]);
            let verdicts = verdicts(&quiet);
            assert_eq!(
                outcomes(&verdicts),
                [Outcome::Holds, Outcome::Holds, Outcome::DoesNotHold],
                "{others:?}: {verdicts:?}"
            );
            assert!(quiet.cells.iter().all(|c| c.runs == 3 && c.spread < 0.05));
        }
    }

    /// Runs of one cell that disagree: inconclusive, giving the spread.
    #[test]
    fn runs_that_disagree_are_inconclusive_with_their_spread() {
        let noisy = evidence(&[
            (
                Model::THREAD,
                STEADY,
                &[0.5, 0.8, 0.6, 0.9, 0.5],
                1.9,
                Some(0.0),
            ),
            (FORK, STEADY, &[0.51, 0.52, 0.515], 1.96, Some(0.0)),
            (Model::GIL, STEADY, &[1.0, 1.01, 1.0], 1.0, Some(0.0)),
        ]);
        let verdicts = verdicts(&noisy);
        assert_eq!(verdicts[2].outcome, Outcome::Inconclusive, "{verdicts:?}");
        assert!(
            verdicts[2]
                .text
                .contains("the runs of a cell typically differ by"),
            "{verdicts:?}"
        );
        assert_eq!(verdicts[1].outcome, Outcome::Holds, "{verdicts:?}");
    }

    /// A speedup whose interval straddles the line between two verdicts:
    /// inconclusive, naming that line.
    #[test]
    fn a_speedup_at_a_threshold_is_inconclusive_naming_it() {
        // ×1.5 at 2 workers is where 'uses 2 cores' begins; the gil's ×1.25
        // is where 'one at a time' ends.
        let edge = evidence(&[
            (Model::THREAD, STEADY, &[0.64, 0.68, 0.66], 1.9, Some(0.0)),
            (FORK, STEADY, &[0.51, 0.52, 0.515], 1.96, Some(0.0)),
            (Model::GIL, STEADY, &[0.78, 0.82, 0.80], 1.2, Some(0.0)),
        ]);
        let verdicts = verdicts(&edge);
        assert_eq!(verdicts[2].outcome, Outcome::Inconclusive, "{verdicts:?}");
        assert!(verdicts[2].text.contains("straddles ×1.50"), "{verdicts:?}");
        assert!(
            verdicts[2].text.contains("count as using 2 cores"),
            "{verdicts:?}"
        );
        assert_eq!(verdicts[0].outcome, Outcome::Inconclusive, "{verdicts:?}");
        assert!(verdicts[0].text.contains("×1.25"), "{verdicts:?}");
        assert!(verdicts[0].text.contains("one at a time"), "{verdicts:?}");
    }

    /// A speedup above the CPUs' count is noise, never a result.
    #[test]
    fn an_impossible_speedup_is_inconclusive() {
        let impossible = evidence(&[
            (Model::THREAD, STEADY, &[0.20, 0.21, 0.20], 1.98, Some(0.0)),
            (FORK, STEADY, &[0.51, 0.52, 0.515], 1.96, Some(0.0)),
            (Model::GIL, STEADY, &[1.0, 1.01, 1.0], 1.0, Some(0.0)),
        ]);
        let verdicts = verdicts(&impossible);
        assert_eq!(verdicts[2].outcome, Outcome::Inconclusive, "{verdicts:?}");
        assert!(
            verdicts[2].text.contains("which this machine cannot do"),
            "{verdicts:?}"
        );
    }

    /// Cells under 5 ms are not timed honestly.
    #[test]
    fn cells_too_short_to_time_are_inconclusive() {
        let short: &[f64] = &[0.002, 0.002, 0.0021];
        let tiny = evidence(&[
            (Model::THREAD, short, short, 1.98, Some(0.0)),
            (FORK, short, short, 1.96, Some(0.0)),
            (Model::GIL, short, &[0.004, 0.004, 0.004], 1.0, Some(0.0)),
        ]);
        let verdicts = verdicts(&tiny);
        assert_eq!(
            outcomes(&verdicts),
            [Outcome::Inconclusive; 3],
            "{verdicts:?}"
        );
        assert!(
            verdicts
                .iter()
                .all(|v| v.text.contains("too short to time")),
            "{verdicts:?}"
        );
    }

    /// Without a record of other work, CPU-bound workers that got far less
    /// than a CPU waited for one: inconclusive.
    #[test]
    fn starved_workers_are_inconclusive() {
        let starved: &[f64] = &[0.9, 0.9, 0.91];
        let e = evidence(&[
            (Model::THREAD, STEADY, starved, 0.5, None),
            (FORK, STEADY, starved, 0.5, None),
            (Model::GIL, STEADY, starved, 0.5, None),
        ]);
        let verdicts = verdicts(&e);
        assert_eq!(
            outcomes(&verdicts),
            [Outcome::Inconclusive; 3],
            "{verdicts:?}"
        );
        assert!(
            verdicts
                .iter()
                .all(|v| v.text.contains("got only 0.50 CPUs")),
            "{verdicts:?}"
        );
    }

    /// Seen on a loaded 2-CPU machine: the others' work, read from
    /// `/proc/stat` to a tick, seemed to leave 1.2 CPUs, and the threads
    /// kept 0.88 busy at ×0.98. Not "threads do not use several cores":
    /// they waited for CPUs.
    #[test]
    fn threads_that_waited_for_cpus_are_never_a_result() {
        let loaded = evidence(&[
            (Model::THREAD, STEADY, &[0.85, 0.86, 0.84], 0.88, Some(0.8)),
            (FORK, STEADY, &[0.51, 0.52, 0.515], 1.96, Some(0.0)),
            (Model::GIL, STEADY, &[1.0, 1.01, 1.0], 1.0, Some(0.8)),
        ]);
        let verdicts = verdicts(&loaded);
        assert_eq!(verdicts[2].outcome, Outcome::Inconclusive, "{verdicts:?}");
        assert!(
            verdicts[2].text.contains("waited for a CPU"),
            "{verdicts:?}"
        );
        // One lock's threads keeping one CPU busy is the lock's doing.
        assert_eq!(verdicts[0].outcome, Outcome::Holds, "{verdicts:?}");
    }
}
