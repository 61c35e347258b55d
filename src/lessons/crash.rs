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

use super::{Contender, CrashHow, Finding, Lesson, LessonError, Options, Outcome, Verdict, child};
use crate::fmt::{Table, thousands};
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

fn iters(options: &Options) -> u64 {
    if options.fast { 1_000_000 } else { 20_000_000 }
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

/// Crashes the calling thread's process (or, for a panic, the thread) the way `how` says.
fn crash(how: CrashHow) {
    // No core file: this crash is on purpose.
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    std::thread::sleep(CRASH_AFTER);
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

/// The child: `crash-worker ITERS HOW|none`: prints the cpu result, or crashes.
pub(crate) fn worker_child(args: &[String]) -> Result<i32, String> {
    let iters: u64 = child::arg(args, 0, "number of iterations")?;
    let how = parse_how(&child::arg::<String>(args, 1, "crash")?)?;
    if let Some(how) = how {
        crash(how);
    }
    println!("{}", cpu_func(iters));
    Ok(0)
}

/// The child: `crash-threads WORKERS ITERS HOW`: runs the threads, thread
/// [`CRASHING_WORKER`] crashing; once all are joined, prints
/// `worker N finished RESULT` or `worker N panicked MESSAGE` for each.
pub(crate) fn threads_child(args: &[String]) -> Result<i32, String> {
    let workers: usize = child::arg(args, 0, "number of workers")?;
    let iters: u64 = child::arg(args, 1, "number of iterations")?;
    let how: CrashHow = child::arg::<String>(args, 2, "crash")?.parse()?;
    // The panic's own report goes to stderr, which the lesson reads.
    let handles: Vec<_> = (0..workers)
        .map(|worker| {
            std::thread::spawn(move || {
                if worker == CRASHING_WORKER {
                    crash(how);
                }
                cpu_func(iters)
            })
        })
        .collect();
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
    let outcomes: Vec<WorkerStatus> = children
        .outputs()
        .into_iter()
        .map(|output| match output {
            Err(error) => WorkerStatus::Lost {
                reason: format!("it could not be waited for: {error}"),
            },
            Ok(output) => {
                let stdout = String::from_utf8_lossy(&output.stdout);
                let stderr = String::from_utf8_lossy(&output.stderr);
                match Exit::from(output.status) {
                    Exit::Code(0) => match stdout.trim().parse() {
                        Ok(result) => check(result, reference),
                        Err(_) => WorkerStatus::Lost {
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
    Ok(case(Contender::Process, how, workers, outcomes, None))
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
    let stderr = String::from_utf8_lossy(&output.stderr);
    let process_status = describe_status(output.status);
    let outcomes = (0..workers)
        .map(|worker| {
            let prefix = format!("worker {worker} ");
            let reported = stdout.lines().find_map(|line| line.strip_prefix(&prefix));
            match reported.and_then(|rest| rest.split_once(' ')) {
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
    Ok(case(
        Contender::Thread,
        how,
        workers,
        outcomes,
        Some(process_status),
    ))
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
        outcomes,
        process_status,
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

fn process_verdict(evidence: &Evidence) -> Verdict {
    let case = &evidence.cases[0];
    let crashed_ok = !case.outcomes[case.crashed_worker].is_success();
    let others = case.workers - 1;
    if crashed_ok && case.results_kept == others {
        Verdict::new(
            Outcome::Holds,
            format!(
                "worker {} {}, and the other {others} processes finished with the reference result {}",
                case.crashed_worker,
                case.outcomes[case.crashed_worker],
                thousands(evidence.reference)
            ),
        )
    } else {
        Verdict::new(
            Outcome::DoesNotHold,
            format!(
                "{} of the other {others} processes kept their result; the crashing worker {}",
                case.results_kept, case.outcomes[case.crashed_worker]
            ),
        )
    }
}

fn thread_verdict(evidence: &Evidence) -> Verdict {
    let threads: Vec<&Case> = evidence
        .cases
        .iter()
        .filter(|c| c.model == Contender::Thread)
        .collect();
    let parts: Vec<String> = threads
        .iter()
        .map(|c| {
            format!(
                "{} {} kept {} of {} results{}",
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
            "with threads, {}: a thread's panic is contained, its crash is not",
            parts.join("; ")
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
}
