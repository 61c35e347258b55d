//! `crash`: crash isolation. One of N process workers dies; the others
//! finish and their results are kept. Then threads: a panic in one thread
//! is caught at join, but an abort or a segfault in one thread ends the
//! whole process, every other thread's work with it.
//!
//! Every crashing worker runs in a paralab child process (started again
//! with [`super::child`]), so the lesson itself survives and reports it.

use std::io::Write;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{Signal, raise};
use serde::Serialize;

use super::{
    Contender, CrashHow, Finding, Lesson, LessonError, Options, Outcome, StartGate, Verdict, child,
};
use crate::fmt::{Table, thousands};
use crate::measure::clock::MonoTime;
use crate::model::WorkerStatus;
use crate::model::thread::panic_message;
use crate::sys::children::{ChildSet, GroupChild};
use crate::sys::wait::{Exit, PANIC_EXIT, signal_name};
use crate::workload::cpu_func;

/// The lesson.
pub(crate) const LESSON: Lesson = Lesson {
    name: "crash",
    summary: "one worker crashes (segfault, abort, panic): the other processes go on; threads share the fate",
    claim: "If one process crashes, the other processes go on and finish their work; threads live in one \
            process, so a crash in one thread can take all of them down.",
    notebook: "Si un processus crash, les autres processus peuvent continuer leur exécution.",
    plan,
    run,
    children: &[
        child::ChildKind {
            name: "crash-worker",
            play: worker_child,
        },
        child::ChildKind {
            name: "crash-threads",
            play: threads_child,
        },
    ],
};

/// The worker that crashes, in every case.
pub(crate) const CRASHING_WORKER: usize = 1;

/// How long the crashing worker works before it crashes, so the others are
/// well under way when it does.
const CRASH_AFTER: Duration = Duration::from_millis(20);

fn workers(options: &Options) -> usize {
    if options.fast { 3 } else { 4 }
}

/// Enough iterations that the other workers are still computing when the
/// crash comes [`CRASH_AFTER`] in (about 8 ns an iteration on a 2020s
/// core): the verdicts check that they were.
fn iters(options: &Options) -> u64 {
    if options.fast { 10_000_000 } else { 20_000_000 }
}

/// The ways a thread crashes in the thread part: a panic, an abort, and
/// the process part's way if it is another.
fn thread_cases(how: CrashHow) -> Vec<CrashHow> {
    let mut cases = vec![CrashHow::Panic, CrashHow::Abort];
    if !cases.contains(&how) {
        cases.push(how);
    }
    cases
}

fn plan(options: &Options) -> String {
    let n = workers(options);
    format!(
        "{n} worker processes (paralab started again) each run the cpu loop for {} iterations; worker \
         {CRASHING_WORKER} instead dies after {} ms by {}. The others' results are compared with the reference. \
         Then {n} threads in one process do the same while thread {CRASHING_WORKER} crashes by {}; that \
         process is a child of the lesson, so the lesson survives to report what happened.",
        thousands(iters(options)),
        CRASH_AFTER.as_millis(),
        describe(options.how),
        thread_cases(options.how)
            .iter()
            .map(|&how| describe(how))
            .collect::<Vec<_>>()
            .join(", then by ")
    )
}

fn describe(how: CrashHow) -> &'static str {
    match how {
        CrashHow::Segfault => "a segfault (SIGSEGV, raised as a bad pointer would)",
        CrashHow::Abort => "abort() (SIGABRT)",
        CrashHow::Panic => "a panic (Rust's uncaught exception)",
    }
}

/// Crashes the calling thread's process (or, for a panic, the thread) the
/// way `how` says, after [`CRASH_AFTER`]; just before, writes `announce`
/// and the monotonic instant on standard output, so the lesson knows
/// which workers were still at work when it happened.
fn crash(how: CrashHow, announce: &str) {
    // No core file: this crash is on purpose.
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    std::thread::sleep(CRASH_AFTER);
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{announce} {}", MonoTime::now().0);
        let _ = out.flush();
    }
    match how {
        CrashHow::Segfault => loop {
            // Rust's runtime catches the first SIGSEGV (to report stack
            // overflows), puts back the default action and returns, as a
            // real bad pointer would fault again at once; so raise it again.
            let _ = raise(Signal::SIGSEGV);
        },
        CrashHow::Abort => std::process::abort(),
        CrashHow::Panic => panic!("worker {CRASHING_WORKER} panics on purpose"),
    }
}

fn parse_how(text: &str) -> Result<Option<CrashHow>, String> {
    match text {
        "none" => Ok(None),
        other => other.parse().map(Some),
    }
}

/// The child: `crash-worker ITERS HOW|none`: prints the cpu result and
/// the instant it was computed (`RESULT END_NS`), or `crashing AT_NS`
/// and crashes.
pub(crate) fn worker_child(args: &[String]) -> Result<i32, String> {
    let iters: u64 = child::arg(args, 0, "number of iterations")?;
    let how = parse_how(&child::arg::<String>(args, 1, "crash")?)?;
    if let Some(how) = how {
        crash(how, "crashing");
    }
    let result = cpu_func(iters);
    println!("{result} {}", MonoTime::now().0);
    Ok(0)
}

/// How the threads' process says the OS refused one of its threads, on
/// standard output, before the reason.
const REFUSED: &str = "refused: ";

/// The child: `crash-threads WORKERS ITERS HOW`: runs the threads, thread
/// [`CRASHING_WORKER`] crashing (`worker N crashing AT_NS` just before);
/// each other thread prints `worker N computed END_NS` when its loop ends
/// (the instant only: its result stays in memory); once all are joined,
/// prints `worker N finished RESULT` or `worker N panicked MESSAGE` for each.
pub(crate) fn threads_child(args: &[String]) -> Result<i32, String> {
    let workers: usize = child::arg(args, 0, "number of workers")?;
    let iters: u64 = child::arg(args, 1, "number of iterations")?;
    let how: CrashHow = child::arg::<String>(args, 2, "crash")?.parse()?;
    // The threads start together, once all are started: a thread the OS
    // refuses must not leave the crashing one to end the process first.
    let gate = std::sync::Arc::new(StartGate::new());
    let mut handles = Vec::new();
    for worker in 0..workers {
        let own_gate = std::sync::Arc::clone(&gate);
        // The panic's own report goes to stderr, which the lesson reads.
        let started = std::thread::Builder::new().spawn(move || {
            if !own_gate.wait() {
                // Sent home: no result, and none is read.
                return 0;
            }
            if worker == CRASHING_WORKER {
                crash(how, &format!("worker {worker} crashing"));
            }
            let result = cpu_func(iters);
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "worker {worker} computed {}", MonoTime::now().0);
            let _ = out.flush();
            result
        });
        match started {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                // Named here, where the limit was hit, for the lesson to quote.
                let refused =
                    LessonError::io(&format!("starting thread {worker} of {workers}"), error);
                gate.cancel();
                for handle in handles {
                    let _ = handle.join();
                }
                println!("{REFUSED}{refused}");
                return Ok(1);
            }
        }
    }
    gate.open();
    // As the notebook's main thread does: join every thread, then use the
    // results. Until then they exist only in this process's memory.
    let lines: Vec<String> = handles
        .into_iter()
        .enumerate()
        .map(|(worker, handle)| match handle.join() {
            Ok(result) => format!("worker {worker} finished {result}"),
            Err(payload) => format!(
                "worker {worker} panicked {}",
                panic_message(payload.as_ref())
            ),
        })
        .collect();
    let mut out = std::io::stdout().lock();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    Ok(0)
}

/// One case: N workers, one of which crashed, and how each ended.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Case {
    /// `process` or `thread`.
    pub model: Contender,
    /// How the crashing worker crashed.
    pub how: CrashHow,
    /// Workers.
    pub workers: usize,
    /// The worker that crashed.
    pub crashed_worker: usize,
    /// Each worker's end, in worker order.
    pub outcomes: Vec<WorkerStatus>,
    /// For threads: how their process ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process_status: Option<String>,
    /// Results kept that equal the reference.
    pub results_kept: usize,
    /// When the crashing worker announced its crash (monotonic
    /// nanoseconds), if it did.
    pub crashed_at_ns: Option<u64>,
    /// When each worker finished computing (monotonic nanoseconds), for
    /// those that said so.
    pub computed_at_ns: Vec<Option<u64>>,
}

impl Case {
    /// How many of the other workers were still computing when the crash
    /// came; `None` when the instants are not known.
    pub(crate) fn others_at_work(&self) -> Option<usize> {
        let crash = self.crashed_at_ns?;
        let others: Vec<Option<u64>> = self
            .computed_at_ns
            .iter()
            .enumerate()
            .filter(|&(w, _)| w != self.crashed_worker)
            .map(|(_, &at)| at)
            .collect();
        // A worker that never said when it finished cannot be placed.
        let known: Option<Vec<u64>> = others.into_iter().collect();
        Some(known?.into_iter().filter(|&at| at > crash).count())
    }
}

/// The evidence, as data.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Evidence {
    /// Iterations of each worker's cpu loop.
    pub iters: u64,
    /// The reference result every finishing worker must return.
    pub reference: u64,
    /// The process case, then the thread cases.
    pub cases: Vec<Case>,
}

/// How a child ended, in words: `exited with code 0`, `was killed by SIGSEGV`.
fn describe_status(status: ExitStatus) -> String {
    match Exit::from(status) {
        Exit::Code(code) => format!("exited with code {code}"),
        Exit::Signal(number) => format!("was killed by {}", signal_name(number)),
    }
}

/// The panic's message in a child's stderr: the line after `panicked at …:`.
fn panic_text(stderr: &str) -> String {
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if line.contains("panicked at") {
            return lines.next().unwrap_or(line).trim().to_string();
        }
    }
    "a panic".to_string()
}

fn check(result: u64, reference: u64) -> WorkerStatus {
    if result == reference {
        WorkerStatus::Finished { result }
    } else {
        WorkerStatus::WrongResult {
            result,
            expected: reference,
        }
    }
}

/// N worker processes, one crashing.
pub(crate) fn process_case(
    options: &Options,
    how: CrashHow,
    reference: u64,
) -> Result<Case, LessonError> {
    let workers = workers(options);
    let iters = iters(options).to_string();
    // Whatever returns early, the workers are killed and reaped.
    let mut children = ChildSet::new();
    for worker in 0..workers {
        let crash = if worker == CRASHING_WORKER {
            how.name()
        } else {
            "none"
        };
        children
            .spawn(
                child::command(&options.exe, "crash-worker", &[iters.clone(), crash.into()])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped()),
            )
            .map_err(|error| {
                LessonError::io(
                    &format!(
                        "starting {} again as a worker process",
                        options.exe.display()
                    ),
                    error,
                )
            })?;
    }
    let mut crashed_at_ns = None;
    let mut computed_at_ns = Vec::new();
    let outcomes: Vec<WorkerStatus> = children
        .outputs()
        .into_iter()
        .map(|output| match output {
            Err(error) => {
                computed_at_ns.push(None);
                WorkerStatus::Lost {
                    reason: format!("it could not be waited for: {error}"),
                }
            }
            Ok(output) => {
                let stdout = String::from_utf8_lossy(&output.stdout);
                let stderr = String::from_utf8_lossy(&output.stderr);
                if let Some(at) = stdout.lines().find_map(|l| l.strip_prefix("crashing ")) {
                    crashed_at_ns = at.trim().parse().ok();
                }
                let mut words = stdout.split_whitespace();
                let result = words.next().and_then(|w| w.parse::<u64>().ok());
                computed_at_ns.push(words.next().and_then(|w| w.parse().ok()));
                match Exit::from(output.status) {
                    Exit::Code(0) => match result {
                        Some(result) => check(result, reference),
                        None => WorkerStatus::Lost {
                            reason: format!("it printed {stdout:?}"),
                        },
                    },
                    // A Rust program that panicked.
                    Exit::Code(PANIC_EXIT) => WorkerStatus::Panicked {
                        message: panic_text(&stderr),
                    },
                    Exit::Code(code) => WorkerStatus::Exited { code },
                    Exit::Signal(number) => WorkerStatus::Killed {
                        signal: signal_name(number),
                    },
                }
            }
        })
        .collect();
    let mut case = case(Contender::Process, how, workers, outcomes, None);
    case.crashed_at_ns = crashed_at_ns;
    case.computed_at_ns = computed_at_ns;
    Ok(case)
}

/// N threads in one child process, one crashing.
pub(crate) fn thread_case(
    options: &Options,
    how: CrashHow,
    reference: u64,
) -> Result<Case, LessonError> {
    let workers = workers(options);
    let output = GroupChild::output(
        child::command(
            &options.exe,
            "crash-threads",
            &[
                workers.to_string(),
                iters(options).to_string(),
                how.name().to_string(),
            ],
        )
        .stdin(Stdio::null()),
    )
    .map_err(|e| {
        LessonError::io(
            &format!("running {} as the threads' process", options.exe.display()),
            e,
        )
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if let Some(refused) = stdout.lines().find_map(|line| line.strip_prefix(REFUSED)) {
        return Err(LessonError(format!("the threads' process: {refused}")));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let process_status = describe_status(output.status);
    let outcomes = (0..workers)
        .map(|worker| {
            let prefix = format!("worker {worker} ");
            // The line of its join, not those of its instants.
            let reported = stdout
                .lines()
                .filter_map(|line| line.strip_prefix(&prefix)?.split_once(' '))
                .find(|(word, _)| matches!(*word, "finished" | "panicked"));
            match reported {
                Some(("finished", result)) => match result.parse() {
                    Ok(result) => check(result, reference),
                    Err(_) => WorkerStatus::Lost {
                        reason: format!("it reported {result:?}"),
                    },
                },
                Some(("panicked", _)) => WorkerStatus::Panicked {
                    message: panic_text(&stderr),
                },
                _ => WorkerStatus::Lost {
                    reason: format!("its process {process_status} before the thread was joined"),
                },
            }
        })
        .collect();
    let instant = |worker: usize, what: &str| {
        let prefix = format!("worker {worker} {what} ");
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&prefix)?.trim().parse().ok())
    };
    let mut case = case(
        Contender::Thread,
        how,
        workers,
        outcomes,
        Some(process_status),
    );
    case.crashed_at_ns = instant(CRASHING_WORKER, "crashing");
    case.computed_at_ns = (0..workers).map(|w| instant(w, "computed")).collect();
    Ok(case)
}

fn case(
    model: Contender,
    how: CrashHow,
    workers: usize,
    outcomes: Vec<WorkerStatus>,
    process_status: Option<String>,
) -> Case {
    Case {
        model,
        how,
        workers,
        crashed_worker: CRASHING_WORKER,
        results_kept: outcomes.iter().filter(|o| o.is_success()).count(),
        computed_at_ns: vec![None; outcomes.len()],
        outcomes,
        process_status,
        crashed_at_ns: None,
    }
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    let iters = iters(options);
    let reference = cpu_func(iters);
    let mut cases = vec![process_case(options, options.how, reference)?];
    for how in thread_cases(options.how) {
        cases.push(thread_case(options, how, reference)?);
    }
    Ok(finding(Evidence {
        iters,
        reference,
        cases,
    }))
}

/// The others' ends in a few words: `3 finished, results = reference`.
fn others(case: &Case) -> String {
    let others: Vec<&WorkerStatus> = case
        .outcomes
        .iter()
        .enumerate()
        .filter(|&(w, _)| w != case.crashed_worker)
        .map(|(_, o)| o)
        .collect();
    let finished = others.iter().filter(|o| o.is_success()).count();
    if finished == others.len() {
        format!("all {finished} finished, result = reference")
    } else {
        let mut kinds: Vec<String> = others
            .iter()
            .filter(|o| !o.is_success())
            .map(|o| short(o))
            .collect();
        kinds.dedup();
        format!(
            "{finished} finished; {} {}",
            others.len() - finished,
            kinds.join(", ")
        )
    }
}

fn short(status: &WorkerStatus) -> String {
    match status {
        WorkerStatus::Lost { .. } => "lost with their process".into(),
        WorkerStatus::WrongResult { .. } => "wrong result".into(),
        other => other.to_string(),
    }
}

fn crashed(case: &Case) -> String {
    let status = &case.outcomes[case.crashed_worker];
    match (case.model, status) {
        (Contender::Thread, WorkerStatus::Panicked { .. }) => "panicked, caught at join".into(),
        (Contender::Thread, WorkerStatus::Lost { .. }) => {
            format!(
                "its process {}",
                case.process_status.as_deref().unwrap_or("was lost")
            )
        }
        (_, WorkerStatus::Panicked { .. }) => "panicked: exited with code 101".into(),
        (_, other) => other.to_string(),
    }
}

fn finding(evidence: Evidence) -> Finding {
    let mut table = Table::new(
        format!(
            "worker {CRASHING_WORKER} crashes; every other worker runs the cpu loop ({} iterations, reference result {})",
            thousands(evidence.iters),
            thousands(evidence.reference)
        ),
        &[
            "case",
            "crashed worker",
            "the other workers",
            "results kept",
        ],
    );
    for case in &evidence.cases {
        table.row(vec![
            format!(
                "{} {}, one by {}",
                case.workers,
                if case.model == Contender::Process {
                    "processes"
                } else {
                    "threads"
                },
                case.how.name()
            ),
            crashed(case),
            others(case),
            format!("{} of {}", case.results_kept, case.workers),
        ]);
    }
    let notes = vec![
        "A process has its own memory: when it dies, the kernel reclaims it and the parent learns how it \
         ended (signal or exit code) from wait(). Threads share one process: a panic unwinds only its \
         thread and is returned by join(), but a signal such as SIGSEGV or SIGABRT kills the whole process."
            .to_string(),
    ];
    let verdicts = vec![process_verdict(&evidence), thread_verdict(&evidence)];
    Finding {
        tables: vec![table],
        notes,
        verdicts,
        evidence: serde_json::to_value(&evidence).expect("plain data serialises"),
    }
}

/// How the crashing worker should end when it crashes by `how`: as a
/// process (`Killed` by the signal, or `Panicked`) and, for threads, how
/// their process should end.
fn expected(how: CrashHow) -> (&'static str, &'static str) {
    match how {
        CrashHow::Segfault => ("SIGSEGV", "was killed by SIGSEGV"),
        CrashHow::Abort => ("SIGABRT", "was killed by SIGABRT"),
        CrashHow::Panic => ("a panic", "exited with code 0"),
    }
}

/// Whether the crashing worker of `case` died the way it was made to.
fn crashed_as_meant(case: &Case) -> bool {
    let (signal, process_end) = expected(case.how);
    let status = &case.outcomes[case.crashed_worker];
    match case.model {
        Contender::Process => match status {
            WorkerStatus::Killed { signal: s } => s == signal,
            WorkerStatus::Panicked { .. } => case.how == CrashHow::Panic,
            _ => false,
        },
        Contender::Thread => {
            case.process_status.as_deref() == Some(process_end)
                && (case.how != CrashHow::Panic || matches!(status, WorkerStatus::Panicked { .. }))
        }
    }
}

/// Why `case` tests nothing, if its crash did not happen as meant.
fn not_crashed(case: &Case) -> Option<String> {
    if crashed_as_meant(case) {
        return None;
    }
    let (signal, _) = expected(case.how);
    let worker = case.crashed_worker;
    let status = &case.outcomes[worker];
    Some(match (case.model, status.is_success()) {
        (_, true) => format!(
            "{} {worker} was to crash by {signal} but {status}: nothing crashed, so this run tests nothing",
            if case.model == Contender::Process {
                "worker"
            } else {
                "thread"
            }
        ),
        (Contender::Process, false) => format!(
            "worker {worker} was to die by {signal} but {status}, so this run does not show what a crash does"
        ),
        (Contender::Thread, false) => format!(
            "thread {worker} was to crash by {signal} but {status} and its process {}, so this run does not show \
             what such a crash does",
            case.process_status.as_deref().unwrap_or("was lost")
        ),
    })
}

fn process_verdict(evidence: &Evidence) -> Verdict {
    let case = &evidence.cases[0];
    let others = case.workers - 1;
    if let Some(why) = not_crashed(case) {
        return Verdict::new(Outcome::Inconclusive, format!("processes: {why}"));
    }
    if case.results_kept != others {
        return Verdict::new(
            Outcome::DoesNotHold,
            format!(
                "{} of the other {others} processes kept their result: {}; the crashing worker {}",
                case.results_kept,
                self::others(case),
                case.outcomes[case.crashed_worker]
            ),
        );
    }
    match case.others_at_work() {
        // Workers that had finished before the crash did not go on after it.
        Some(0) => Verdict::new(
            Outcome::Inconclusive,
            format!(
                "worker {} {}, but only after the other {others} processes had finished their work, so this run \
                 does not show them going on after a crash; run the lesson without --fast, whose workers work longer",
                case.crashed_worker, case.outcomes[case.crashed_worker]
            ),
        ),
        at_work => Verdict::new(
            Outcome::Holds,
            format!(
                "{}worker {} {}; the other {others} processes finished with the reference result {}",
                at_work.map_or(String::new(), |n| format!(
                    "while {n} of the other {others} processes were still computing, "
                )),
                case.crashed_worker,
                case.outcomes[case.crashed_worker],
                thousands(evidence.reference)
            ),
        ),
    }
}

fn thread_verdict(evidence: &Evidence) -> Verdict {
    let threads: Vec<&Case> = evidence
        .cases
        .iter()
        .filter(|c| c.model == Contender::Thread)
        .collect();
    let doubts: Vec<String> = threads.iter().filter_map(|c| not_crashed(c)).collect();
    if !doubts.is_empty() {
        return Verdict::new(
            Outcome::Inconclusive,
            format!("with threads: {}", doubts.join("; ")),
        );
    }
    let parts: Vec<String> = threads
        .iter()
        .map(|c| {
            let when = match c.others_at_work() {
                Some(0) => " after the other threads had finished computing".to_string(),
                Some(n) => format!(" while {n} other threads were computing"),
                None => String::new(),
            };
            format!(
                "{} {}{when} kept {} of {} results{}",
                if c.how == CrashHow::Abort { "an" } else { "a" },
                c.how.name(),
                c.results_kept,
                c.workers,
                match c.how {
                    CrashHow::Panic => " (caught at join)".to_string(),
                    _ => format!(
                        " (its process {})",
                        c.process_status.as_deref().unwrap_or("?")
                    ),
                }
            )
        })
        .collect();
    let as_expected = threads.iter().all(|c| match c.how {
        CrashHow::Panic => c.results_kept == c.workers - 1,
        _ => c.results_kept == 0,
    });
    Verdict::new(
        if as_expected {
            Outcome::Holds
        } else {
            Outcome::DoesNotHold
        },
        format!(
            "with threads, {}: {}",
            parts.join("; "),
            if as_expected {
                "a thread's panic is contained, its crash is not"
            } else {
                "not what a thread's panic and crash do"
            }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cases_always_show_a_panic_and_an_abort() {
        assert_eq!(
            thread_cases(CrashHow::Panic),
            [CrashHow::Panic, CrashHow::Abort]
        );
        assert_eq!(
            thread_cases(CrashHow::Abort),
            [CrashHow::Panic, CrashHow::Abort]
        );
        assert_eq!(
            thread_cases(CrashHow::Segfault),
            [CrashHow::Panic, CrashHow::Abort, CrashHow::Segfault]
        );
    }

    #[test]
    fn the_panic_message_is_found_in_stderr() {
        let stderr = "\nthread '<unnamed>' panicked at src/lessons/crash.rs:99:27:\nworker 1 panics on purpose\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_text(stderr), "worker 1 panics on purpose");
        assert_eq!(panic_text(""), "a panic");
    }

    /// A case of 3 workers, worker 1 crashing by `how` and ending as
    /// `crashed`, the others finishing at `ends` (ms) against a crash at
    /// 20 ms.
    fn synthetic(
        model: Contender,
        how: CrashHow,
        crashed: WorkerStatus,
        process: Option<&str>,
        ends: [u64; 2],
    ) -> Case {
        let done = WorkerStatus::Finished { result: 3 };
        let mut case = case(
            model,
            how,
            3,
            vec![done.clone(), crashed, done],
            process.map(str::to_string),
        );
        case.crashed_at_ns = Some(20_000_000);
        case.computed_at_ns = vec![Some(ends[0] * 1_000_000), None, Some(ends[1] * 1_000_000)];
        case
    }

    fn evidence(cases: Vec<Case>) -> Evidence {
        Evidence {
            iters: 1,
            reference: 3,
            cases,
        }
    }

    fn killed(signal: &str) -> WorkerStatus {
        WorkerStatus::Killed {
            signal: signal.into(),
        }
    }

    #[test]
    fn a_crash_among_working_processes_holds() {
        let e = evidence(vec![synthetic(
            Contender::Process,
            CrashHow::Segfault,
            killed("SIGSEGV"),
            None,
            [40, 45],
        )]);
        let verdict = process_verdict(&e);
        assert_eq!(verdict.outcome, Outcome::Holds, "{verdict:?}");
        assert!(
            verdict
                .text
                .contains("while 2 of the other 2 processes were still computing, worker 1 was killed by SIGSEGV"),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_crash_after_the_others_finished_is_inconclusive() {
        let e = evidence(vec![synthetic(
            Contender::Process,
            CrashHow::Segfault,
            killed("SIGSEGV"),
            None,
            [8, 9],
        )]);
        let verdict = process_verdict(&e);
        assert_eq!(verdict.outcome, Outcome::Inconclusive, "{verdict:?}");
        assert!(
            verdict.text.contains("had finished their work"),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_worker_that_did_not_crash_as_meant_is_inconclusive() {
        for (status, words) in [
            (WorkerStatus::Finished { result: 3 }, "nothing crashed"),
            (
                WorkerStatus::Exited { code: 1 },
                "was to die by SIGSEGV but exited with code 1",
            ),
            (killed("SIGKILL"), "was to die by SIGSEGV but"),
        ] {
            let e = evidence(vec![synthetic(
                Contender::Process,
                CrashHow::Segfault,
                status,
                None,
                [40, 45],
            )]);
            let verdict = process_verdict(&e);
            assert_eq!(verdict.outcome, Outcome::Inconclusive, "{verdict:?}");
            assert!(verdict.text.contains(words), "{verdict:?}");
        }
    }

    #[test]
    fn a_thread_crash_that_did_not_end_its_process_as_meant_is_inconclusive() {
        let lost = WorkerStatus::Lost {
            reason: "its process was killed".into(),
        };
        let good = synthetic(
            Contender::Thread,
            CrashHow::Abort,
            lost.clone(),
            Some("was killed by SIGABRT"),
            [40, 45],
        );
        let mut good = good;
        good.outcomes = vec![lost.clone(), lost.clone(), lost.clone()];
        good.results_kept = 0;
        let e = evidence(vec![good.clone()]);
        assert_eq!(
            thread_verdict(&e).outcome,
            Outcome::Holds,
            "{:?}",
            thread_verdict(&e)
        );
        let mut killed_outside = good;
        killed_outside.process_status = Some("was killed by SIGKILL".into());
        let verdict = thread_verdict(&evidence(vec![killed_outside]));
        assert_eq!(verdict.outcome, Outcome::Inconclusive, "{verdict:?}");
        assert!(
            verdict.text.contains("was to crash by SIGABRT"),
            "{verdict:?}"
        );
        assert!(
            verdict.text.contains("its process was killed by SIGKILL"),
            "{verdict:?}"
        );
    }
}
