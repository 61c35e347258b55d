//! `memory`: what one more worker costs in memory. N idle threads, N forked
//! processes and N spawned processes, each worker sleeping while a
//! sampler reads `/proc` (RSS and PSS, see
//! [`crate::measure::memory`]).
//!
//! What is measured, exactly: the growth of user-space memory, as `/proc`
//! counts it, of paralab and its children while the workers are alive,
//! divided by the number of workers seen alive. For threads that is the
//! growth of paralab's own memory (each thread's stack pages actually
//! touched, its thread-local data); for processes it is their own pages.
//! Kernel memory (each thread's kernel stack, a process's page tables) is
//! not in RSS or PSS and is not counted.

use std::time::Duration;

use std::process::Stdio;

use serde::{Deserialize, Serialize};

use super::{Finding, Lesson, LessonError, Options, Outcome, Verdict, child};
use crate::fmt::{Table, kib_whole};
use crate::measure::memory::{MemoryUse, Snapshot};
use crate::model::{MemoryProbe, Model, RunContext, StartMethod};
use crate::sys::children::GroupChild;
use crate::workload::Workload;

/// The lesson.
pub(crate) const LESSON: Lesson = Lesson {
    name: "memory",
    summary: "memory per worker: N idle threads vs N forked vs N spawned processes, N = 1 … 64",
    claim: "Threads use less memory than processes, because threads share one memory space while each \
            process has its own.",
    notebook: "Les threads utilisent moins d'espace mémoire car cet espace est partagé entre les threads … \
               La création de nouveau processus nécessite plus de mémoire",
    plan,
    run,
    children: &[child::ChildKind {
        name: "memory",
        play: child,
    }],
};

/// The models compared, in column order.
pub(crate) const MODELS: [Model; 3] = [
    Model::THREAD,
    Model::process(StartMethod::Fork),
    Model::process(StartMethod::Spawn),
];

/// How often the sampler reads `/proc`.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

fn counts(options: &Options) -> Vec<usize> {
    if options.fast {
        vec![1, 16]
    } else {
        vec![1, 2, 4, 8, 16, 32, 64]
    }
}

/// How long each worker stays alive, idle.
fn hold(options: &Options) -> Duration {
    Duration::from_millis(if options.fast { 150 } else { 200 })
}

fn plan(options: &Options) -> String {
    format!(
        "For N = {}: start N workers that sleep {} ms (idle, like the notebook's IoThread), as threads, \
         as forked processes (copies of paralab) and as spawned processes (paralab started afresh), while a \
         sampler reads /proc every {} ms. Per worker: RSS (resident pages, shared ones counted \
         in every process, what `ps` and `top` show) and PSS (shared pages divided among their sharers: \
         each worker's fair share). For threads: paralab's RSS growth divided by the threads alive in the \
         sample with the most (a thread's new pages are its own, so its RSS and PSS are the same); for \
         processes: each child's own RSS and PSS, averaged. Each measurement runs in a fresh paralab process, so none inherits what \
         another left behind. Kernel memory (kernel stacks, page tables) is not in these figures.",
        counts(options)
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        hold(options).as_millis(),
        SAMPLE_EVERY.as_millis()
    )
}

/// One (model, N) measurement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Cost {
    /// `thread`, `process:fork`, `process:spawn`.
    pub model: String,
    /// Workers started.
    pub workers: usize,
    /// Workers alive in the peak sample (threads of paralab, or child processes).
    pub seen: usize,
    /// paralab and its children before the workers started.
    pub before: Snapshot,
    /// The sample with the most workers alive (then the most memory).
    pub peak: Snapshot,
    /// RSS per worker, KiB: for threads paralab's RSS growth / N, for
    /// processes a child's mean RSS.
    pub rss_per_worker_kib: f64,
    /// PSS per worker, KiB: for threads the same as RSS (a thread's new
    /// pages are all private), for processes a child's mean PSS.
    pub pss_per_worker_kib: f64,
}

/// Starts `workers` idle workers under `model` and measures what they cost.
pub(crate) fn cost(
    model: Model,
    workers: usize,
    hold: Duration,
    exe: &std::path::Path,
) -> Result<Cost, LessonError> {
    let context = RunContext::new(exe);
    let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
    let runner = std::thread::Builder::new()
        .name("memory-runner".into())
        .spawn(move || {
            // Started before the baseline, so its own thread is not charged
            // to the workers.
            let _ = wait_for_go.recv();
            model.run(&Workload::Sleep { duration: hold }, workers, &context)
        })
        .map_err(|e| {
            LessonError::io(
                &format!(
                    "{model} with {}: starting the thread that runs them",
                    crate::fmt::count(workers, "worker")
                ),
                e,
            )
        })?;
    std::thread::sleep(SAMPLE_EVERY);
    let before = Snapshot::now().map_err(|e| LessonError::io("reading /proc", e));
    let _ = go.send(());
    // Not MemorySnapshotr, which keeps the sample of largest total PSS: for
    // threads that can be a sample taken after they ended, since glibc
    // keeps the stacks of ended threads for reuse. The sample wanted is the
    // one with the most workers alive (then the most memory).
    let mut peak: Option<(usize, Snapshot)> = None;
    let in_children = model.memory() == MemoryProbe::Children;
    let alive = |snapshot: &Snapshot, before: &Snapshot| {
        if in_children {
            snapshot.children.len()
        } else {
            snapshot
                .parent
                .threads
                .saturating_sub(before.parent.threads) as usize
        }
    };
    while !runner.is_finished() {
        if let (Ok(snapshot), Ok(before)) = (Snapshot::now(), before.as_ref()) {
            let seen = alive(&snapshot, before);
            let better = peak.as_ref().is_none_or(|(best, best_snapshot)| {
                seen > *best
                    || (seen == *best && snapshot.total_pss_kib() > best_snapshot.total_pss_kib())
            });
            if better {
                peak = Some((seen, snapshot));
            }
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
    let ran = runner.join().map_err(|_| {
        LessonError(format!(
            "{model} with {}: the runner panicked",
            crate::fmt::count(workers, "worker")
        ))
    })?;
    let before = before?;
    let outcomes = ran
        .map_err(|e| {
            LessonError(format!(
                "{model} with {}: {e}",
                crate::fmt::count(workers, "worker")
            ))
        })?
        .outcomes;
    if let Some(failed) = outcomes.iter().find(|o| !o.status.is_success()) {
        return Err(LessonError(format!(
            "{model} with {}: worker {} {}",
            crate::fmt::count(workers, "worker"),
            failed.worker,
            failed.status
        )));
    }
    let Some((seen, peak)) = peak.filter(|(seen, _)| *seen > 0) else {
        return Err(LessonError(format!(
            "{model} with {}: no sample of /proc caught a worker alive",
            crate::fmt::count(workers, "worker")
        )));
    };
    let per_worker = |kib: f64| kib / seen as f64;
    let (rss_per_worker_kib, pss_per_worker_kib) = if in_children {
        (
            per_worker(peak.children.iter().map(|c| c.rss_kib).sum::<u64>() as f64),
            per_worker(peak.children.iter().map(|c| c.pss_kib).sum::<u64>() as f64),
        )
    } else {
        // A thread's new pages (its stack) are private anonymous pages,
        // which RSS, PSS and private memory all count in full. paralab's RSS
        // growth measures them; its PSS or private memory would also move
        // whenever an unrelated process starts or stops sharing paralab's
        // program pages.
        let growth = per_worker(peak.parent.rss_kib as f64 - before.parent.rss_kib as f64);
        (growth, growth)
    };
    Ok(Cost {
        model: model.to_string(),
        workers,
        seen,
        pss_per_worker_kib,
        rss_per_worker_kib,
        before,
        peak,
    })
}

/// Measures one (model, N) `rounds` times, one round right after the
/// other, in a fresh paralab child, so that nothing one measurement leaves
/// behind (glibc keeps the stacks of ended threads for the next ones; the
/// allocator keeps freed memory) lowers another's first round. The second
/// round is the one that inherits them, on purpose.
fn cost_in_child(
    options: &Options,
    model: Model,
    workers: usize,
    rounds: usize,
) -> Result<Vec<Cost>, LessonError> {
    let output = GroupChild::output(
        child::command(
            &options.exe,
            "memory",
            &[
                model.to_string(),
                workers.to_string(),
                hold(options).as_millis().to_string(),
                rounds.to_string(),
            ],
        )
        .stdin(Stdio::null()),
    )
    .map_err(|e| {
        LessonError::io(
            &format!(
                "starting {} again to measure {model}",
                options.exe.display()
            ),
            e,
        )
    })?;
    if !output.status.success() {
        return Err(LessonError(format!(
            "measuring {workers} × {model}: the child {}: {}",
            crate::fmt::child_ended(&Ok(output.status)),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let costs = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(serde_json::from_str::<Cost>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            LessonError(format!(
                "reading the measurement of {workers} × {model}: {e}"
            ))
        })?;
    if costs.len() != rounds {
        return Err(LessonError(format!(
            "measuring {workers} × {model}: {rounds} rounds asked for, {} reported",
            costs.len()
        )));
    }
    Ok(costs)
}

/// The child: `memory MODEL WORKERS HOLD_MS [ROUNDS]`: measures ROUNDS
/// times (default 1), one right after the other, and prints each [`Cost`]
/// as one line of JSON.
pub(crate) fn child(args: &[String]) -> Result<i32, String> {
    let model: Model = child::arg::<String>(args, 0, "model")?.parse()?;
    let workers: usize = child::arg(args, 1, "number of workers")?;
    let hold = Duration::from_millis(child::arg(args, 2, "milliseconds")?);
    let rounds: usize = if args.len() > 3 {
        child::arg(args, 3, "number of rounds")?
    } else {
        1
    };
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    for _ in 0..rounds {
        match cost(model, workers, hold, &exe) {
            Ok(cost) => println!(
                "{}",
                serde_json::to_string(&cost).expect("plain data serialises")
            ),
            Err(error) => {
                eprintln!("{error}");
                return Ok(1);
            }
        }
    }
    Ok(0)
}

/// The evidence, as data.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Evidence {
    /// Every (model, N), N within each model, each on a fresh process.
    pub costs: Vec<Cost>,
    /// Threads again, one round right after each thread cost of
    /// [`costs`](Evidence::costs) in the same process: glibc hands the
    /// stacks the first round's threads left to these.
    pub reused_thread_costs: Vec<Cost>,
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    let mut costs = Vec::new();
    let mut reused_thread_costs = Vec::new();
    for &workers in &counts(options) {
        for model in MODELS {
            let rounds = if model == Model::THREAD { 2 } else { 1 };
            let mut measured = cost_in_child(options, model, workers, rounds)?.into_iter();
            costs.extend(measured.next());
            reused_thread_costs.extend(measured);
        }
    }
    Ok(finding(Evidence {
        costs,
        reused_thread_costs,
    }))
}

/// The model as the memory table names it: `forked process`.
fn label(model: Model) -> String {
    match model.start_method() {
        Some(StartMethod::Fork) => "forked process".into(),
        Some(StartMethod::Spawn) => "spawned process".into(),
        None => model.to_string(),
    }
}

fn finding(evidence: Evidence) -> Finding {
    let mut header = vec!["N".to_string()];
    for model in MODELS {
        header.push(format!("{} RSS", label(model)));
        header.push(format!("{} PSS", label(model)));
        if model == Model::THREAD {
            header.push(REUSED_COLUMN.to_string());
        }
    }
    let mut table = Table {
        title: "memory per worker (RSS: what top shows; PSS: shared pages split fairly)".into(),
        header,
        rows: Vec::new(),
    };
    let mut counts: Vec<usize> = evidence.costs.iter().map(|c| c.workers).collect();
    counts.dedup();
    let mut partial = Vec::new();
    for &n in &counts {
        let mut row = vec![n.to_string()];
        for model in MODELS {
            match evidence
                .costs
                .iter()
                .find(|c| c.workers == n && c.model == model.to_string())
            {
                Some(cost) => {
                    if cost.seen != cost.workers {
                        partial.push(format!("{} × {}: {} seen", n, cost.model, cost.seen));
                    }
                    row.push(kib_whole(cost.rss_per_worker_kib));
                    row.push(kib_whole(cost.pss_per_worker_kib));
                }
                None => row.extend(["-".to_string(), "-".to_string()]),
            }
            if model == Model::THREAD {
                row.push(reused_at(&evidence, n).map_or_else(|| "-".to_string(), reused_cell));
            }
        }
        table.row(row);
    }
    let mut notes = vec![
        "A forked process starts as a copy of paralab sharing all its pages (copy-on-write), so its RSS \
         counts paralab's whole memory while its PSS shows what it really adds; a spawned process loads \
         the program afresh. An idle Rust thread touches only a few pages of its stack; a Python thread \
         also carries interpreter state, so the notebook's threads cost more than these. \
         Per-process PSS falls as N grows because the pages all the workers share are split N ways."
            .to_string(),
    ];
    if let Some(note) = reuse_note(&evidence) {
        notes.push(note);
    }
    if !partial.is_empty() {
        notes.push(format!(
            "Not every worker was alive in the peak sample ({}); figures are per worker seen.",
            partial.join(", ")
        ));
    }
    Finding {
        tables: vec![table],
        notes,
        verdicts: vec![verdict(&evidence)],
        evidence: serde_json::to_value(&evidence).expect("plain data serialises"),
    }
}

/// The thread table's column of the second round.
const REUSED_COLUMN: &str = "thread, stacks reused";

/// The second round of threads at `n` workers.
fn reused_at(evidence: &Evidence, n: usize) -> Option<&Cost> {
    evidence.reused_thread_costs.iter().find(|c| c.workers == n)
}

/// A thread round's growth of paralab, judged against what `/proc` resolves.
fn thread_growth(cost: &Cost) -> MemoryUse {
    MemoryUse::between(&cost.before, &cost.peak, cost.seen.max(1), true)
}

/// A second round's figure, or why there is none.
fn reused_cell(cost: &Cost) -> String {
    if thread_growth(cost).measured() {
        kib_whole(cost.rss_per_worker_kib)
    } else {
        "too small".to_string()
    }
}

/// Why threads cost less the second time, with this run's figures, and
/// which of the two `paralab bench` reports.
fn reuse_note(evidence: &Evidence) -> Option<String> {
    let n = evidence
        .reused_thread_costs
        .iter()
        .map(|c| c.workers)
        .max()?;
    let fresh = evidence
        .costs
        .iter()
        .find(|c| c.workers == n && c.model == Model::THREAD.to_string())?;
    let reused = reused_at(evidence, n)?;
    let second = if thread_growth(reused).measured() {
        format!("{} per thread", kib_whole(reused.rss_per_worker_kib))
    } else {
        format!(
            "a growth too small for /proc to tell ({} KiB in all, within its {} KiB)",
            thread_growth(reused).growth_kib(),
            thread_growth(reused).resolution_kib
        )
    };
    Some(format!(
        "Threads were measured twice, in one process: on a fresh process ({n} threads: {} each), then \
         right after, when glibc hands the stacks the ended threads left behind, already in memory, to \
         the new ones, as many as its cache keeps ({second}, column '{REUSED_COLUMN}'{too_small}). `paralab bench` times its runs one after \
         another in one process: only its first run's threads get fresh stacks, so its 'memory per \
         worker' (the median over its runs) is the reused figure when it has 3 runs or more.",
        kib_whole(fresh.rss_per_worker_kib),
        too_small = if evidence
            .reused_thread_costs
            .iter()
            .any(|c| !thread_growth(c).measured())
        {
            "; 'too small': that round grew paralab by no more than /proc can tell"
        } else {
            ""
        },
    ))
}

fn verdict(evidence: &Evidence) -> Verdict {
    let Some(n) = evidence.costs.iter().map(|c| c.workers).max() else {
        return Verdict::new(Outcome::NotMeasured, "nothing was measured");
    };
    let at = |model: Model| {
        evidence
            .costs
            .iter()
            .find(|c| c.workers == n && c.model == model.to_string())
            .map(|c| c.pss_per_worker_kib)
    };
    let (Some(thread), Some(fork), Some(spawn)) = (at(MODELS[0]), at(MODELS[1]), at(MODELS[2]))
    else {
        return Verdict::new(
            Outcome::NotMeasured,
            "a model is missing from the measurements",
        );
    };
    let times = |other: f64| {
        if thread > 0.0 {
            format!(" ({:.0}×)", other / thread)
        } else {
            String::new()
        }
    };
    // Threads on fresh stacks, as each process is on a fresh copy; the
    // figure with reused stacks, which only lowers the threads', follows.
    let reused = reused_at(evidence, n).map_or_else(String::new, |cost| {
        if thread_growth(cost).measured() {
            format!(
                " on fresh stacks, {} with reused ones",
                kib_whole(cost.rss_per_worker_kib)
            )
        } else {
            " on fresh stacks, too little for /proc to tell with reused ones".to_string()
        }
    });
    let text = format!(
        "with {n} workers, PSS per worker: thread {}{reused}, forked process {}{}, spawned process {}{}",
        kib_whole(thread),
        kib_whole(fork),
        times(fork),
        kib_whole(spawn),
        times(spawn)
    );
    // A thread's figure is a growth of paralab's memory: when that growth
    // is within what /proc resolves, it orders nothing.
    let thread_growth = evidence
        .costs
        .iter()
        .find(|c| c.workers == n && c.model == MODELS[0].to_string())
        .map(|c| MemoryUse::between(&c.before, &c.peak, c.seen.max(1), true));
    if let Some(growth) = thread_growth.filter(|g| !g.measured()) {
        return Verdict::new(
            Outcome::Inconclusive,
            format!(
                "{text}; the {n} threads grew paralab by {} KiB, within the {} KiB /proc can tell \
                 from nothing",
                growth.growth_kib(),
                growth.resolution_kib
            ),
        );
    }
    if thread < fork && thread < spawn {
        Verdict::new(Outcome::Holds, text)
    } else {
        Verdict::new(Outcome::DoesNotHold, text)
    }
}
