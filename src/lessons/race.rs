//! `race`: shared data needs a lock. Threads increment one shared counter
//! three ways (a read then a write, a `Mutex`, one atomic `fetch_add`);
//! then processes append lines to one file without and with `flock`.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use serde::Serialize;

use super::{Finding, Lesson, LessonError, Options, Outcome, StartGate, Verdict, child};
use crate::fmt::{Table, percent_of, seconds_fine, thousands};
use crate::measure::clock::MonoTime;
use crate::sys::children::ChildSet;

/// The lesson.
pub(crate) const LESSON: Lesson = Lesson {
    name: "race",
    summary: "threads add to one shared counter, processes append to one file: without and with a lock",
    claim: "Threads share their memory, so two threads updating the same data can overwrite each other's work; \
            a lock (acquire, update, release) prevents it. The same holds for processes writing one file.",
    notebook: "Les threads possèdent un espace mémoire partagé … Cependant il y a un fort risque de conflit lors \
               d'écriture de données. La bibliothèque permet alors l'utilisation de verrou … Verrou : acquire - release",
    plan,
    run,
    children: &[child::ChildKind {
        name: "append",
        play: append_child,
    }],
};

/// Threads sharing the counter.
pub(crate) const THREADS: usize = 4;
/// Processes sharing the file.
pub(crate) const PROCESSES: usize = 4;

fn increments(options: &Options) -> u64 {
    if options.fast { 100_000 } else { 5_000_000 }
}

fn lines(options: &Options) -> u64 {
    if options.fast { 300 } else { 2_000 }
}

fn plan(options: &Options) -> String {
    format!(
        "{THREADS} threads each add 1 to one shared counter {} times, in three ways: read the counter then \
         write it back plus one (two separate atomic steps, which another thread can slip between), under a Mutex (acquire, add, release), and with one atomic fetch_add. \
         Then {PROCESSES} processes each append {} lines to one file by seeking to its end then writing (two \
         steps again), without and with an exclusive flock around the two, and once with O_APPEND, where the \
         kernel does both in one step. Lost and torn lines are counted. With {}, {THREADS} CPython \
         threads each do the notebook's counter += 1 {} times, then a read, a function call and a write back.",
        thousands(increments(options)),
        thousands(lines(options)),
        options.python.as_ref().map_or_else(
            || "a python3 on PATH".to_string(),
            |python| format!("the Python at {}", python.executable())
        ),
        thousands(python_increments(options)),
    )
}

/// How the threads update the shared counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CounterMethod {
    /// `load` then `store(v + 1)`: each step atomic, the pair not.
    ReadThenWrite,
    /// A `Mutex<u64>` held across the read and the write.
    Mutex,
    /// One atomic read-modify-write.
    FetchAdd,
}

impl CounterMethod {
    /// Every method, in the order the lesson runs them.
    pub(crate) const ALL: [CounterMethod; 3] = [
        CounterMethod::ReadThenWrite,
        CounterMethod::Mutex,
        CounterMethod::FetchAdd,
    ];

    fn label(self) -> &'static str {
        match self {
            CounterMethod::ReadThenWrite => "read, then write (no lock)",
            CounterMethod::Mutex => "Mutex: acquire, add, release",
            CounterMethod::FetchAdd => "atomic fetch_add",
        }
    }
}

/// One counter run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct CounterRun {
    /// How the counter was updated.
    pub method: CounterMethod,
    /// Threads.
    pub threads: usize,
    /// Increments per thread.
    pub increments: u64,
    /// threads × increments.
    pub expected: u64,
    /// The counter at the end.
    pub counted: u64,
    /// expected − counted.
    pub lost: u64,
    /// Wall time from the common start to the last join.
    pub seconds: f64,
}

/// Runs `threads` threads adding 1 to one counter `increments` times each.
/// If the OS refuses a thread, the ones started are sent home without
/// counting, joined, and the error names the limit.
pub(crate) fn count(
    method: CounterMethod,
    threads: usize,
    increments: u64,
) -> Result<CounterRun, LessonError> {
    let atomic = AtomicU64::new(0);
    let locked = Mutex::new(0u64);
    let gate = StartGate::new();
    let mut t0 = MonoTime::now();
    std::thread::scope(|scope| {
        for index in 0..threads {
            let started = std::thread::Builder::new().spawn_scoped(scope, || {
                if !gate.wait() {
                    return;
                }
                for _ in 0..increments {
                    match method {
                        CounterMethod::ReadThenWrite => {
                            // Each step is atomic, the pair is not: another
                            // thread's store between them is overwritten.
                            // black_box keeps the compiler from fusing
                            // the loop's loads and stores into one store.
                            let seen = std::hint::black_box(atomic.load(Ordering::Relaxed));
                            atomic.store(seen + 1, Ordering::Relaxed);
                        }
                        CounterMethod::Mutex => {
                            // A poisoned lock still holds a valid count.
                            *locked.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                        }
                        CounterMethod::FetchAdd => {
                            atomic.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
            if let Err(error) = started {
                // Named now, while the threads started still count.
                let refused = LessonError::io(
                    &format!(
                        "starting counting thread {} of {threads} ({})",
                        index + 1,
                        method.label()
                    ),
                    error,
                );
                gate.cancel();
                return Err(refused);
            }
        }
        t0 = MonoTime::now();
        gate.open();
        Ok(())
    })?;
    let seconds = MonoTime::now().seconds_since(t0);
    let counted = match method {
        CounterMethod::Mutex => *locked.lock().unwrap_or_else(|p| p.into_inner()),
        _ => atomic.load(Ordering::Relaxed),
    };
    let expected = threads as u64 * increments;
    Ok(CounterRun {
        method,
        threads,
        increments,
        expected,
        counted,
        lost: expected.saturating_sub(counted),
        seconds,
    })
}

/// How the processes append their lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AppendMethod {
    /// Seek to the end, then write: two steps, no lock.
    SeekThenWrite,
    /// The same two steps under an exclusive `flock`.
    Flock,
    /// `O_APPEND`: the kernel seeks and writes in one step.
    OAppend,
}

impl AppendMethod {
    /// Every method, in the order the lesson runs them.
    pub(crate) const ALL: [AppendMethod; 3] = [
        AppendMethod::SeekThenWrite,
        AppendMethod::Flock,
        AppendMethod::OAppend,
    ];

    fn name(self) -> &'static str {
        match self {
            AppendMethod::SeekThenWrite => "seek-then-write",
            AppendMethod::Flock => "flock",
            AppendMethod::OAppend => "o-append",
        }
    }

    fn label(self) -> &'static str {
        match self {
            AppendMethod::SeekThenWrite => "seek to end, then write (no lock)",
            AppendMethod::Flock => "flock: lock, seek, write, unlock",
            AppendMethod::OAppend => "O_APPEND (one step, no lock)",
        }
    }
}

/// One file run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FileRun {
    /// How the lines were appended.
    pub method: AppendMethod,
    /// Processes.
    pub processes: usize,
    /// Lines per process.
    pub lines: u64,
    /// processes × lines.
    pub expected: u64,
    /// Distinct intact lines found.
    pub intact: u64,
    /// Expected lines not found intact.
    pub lost: u64,
    /// Lines found that are not any process's line (pieces of overwritten lines).
    pub torn: u64,
    /// Wall time from the first start to the last exit.
    pub seconds: f64,
}

/// The line process `worker` writes as its number `index`. Lines differ in
/// length from one process to the next, so a line written over another
/// leaves the end of the longer one behind, torn.
pub(crate) fn line(worker: usize, index: u64) -> String {
    format!("p{worker} l{index} {}\n", "x".repeat(4 + 6 * worker))
}

/// Counts the intact lines (distinct), lost and torn lines of `text`.
pub(crate) fn tally(text: &str, processes: usize, lines: u64) -> (u64, u64, u64) {
    let mut intact: HashSet<(usize, u64)> = HashSet::new();
    let mut torn = 0;
    for found in text.split_inclusive('\n') {
        match parse_line(found) {
            Some(key) if key.0 < processes && key.1 < lines => {
                intact.insert(key);
            }
            _ => torn += 1,
        }
    }
    let intact = intact.len() as u64;
    let expected = processes as u64 * lines;
    (intact, expected - intact, torn)
}

fn parse_line(found: &str) -> Option<(usize, u64)> {
    let mut words = found.strip_suffix('\n')?.split(' ');
    let worker: usize = words.next()?.strip_prefix('p')?.parse().ok()?;
    let index: u64 = words.next()?.strip_prefix('l')?.parse().ok()?;
    let valid = words
        .next()
        .is_some_and(|pad| pad == "x".repeat(4 + 6 * worker))
        && words.next().is_none();
    valid.then_some((worker, index))
}

/// The child: `append PATH METHOD WORKER LINES START_NANOS`: waits for the
/// common start instant, then appends its lines.
pub(crate) fn append_child(args: &[String]) -> Result<i32, String> {
    let path: PathBuf = child::arg(args, 0, "path")?;
    let method: String = child::arg(args, 1, "method")?;
    let worker: usize = child::arg(args, 2, "worker number")?;
    let lines: u64 = child::arg(args, 3, "number of lines")?;
    let start: u64 = child::arg(args, 4, "start instant")?;
    let method = AppendMethod::ALL
        .into_iter()
        .find(|m| m.name() == method)
        .ok_or(format!("unknown append method '{method}'"))?;
    // Start together, so the writers overlap however long each took to start.
    let wait = start.saturating_sub(MonoTime::now().0);
    std::thread::sleep(Duration::from_nanos(wait));
    match append(&path, method, worker, lines) {
        Ok(()) => Ok(0),
        Err(error) => {
            eprintln!(
                "paralab lesson child: appending to {} failed: {error}",
                path.display()
            );
            Ok(1)
        }
    }
}

fn append(path: &Path, method: AppendMethod, worker: usize, lines: u64) -> std::io::Result<()> {
    let mut file = match method {
        AppendMethod::OAppend => OpenOptions::new().append(true).open(path)?,
        _ => OpenOptions::new().write(true).open(path)?,
    };
    for index in 0..lines {
        let text = line(worker, index);
        match method {
            AppendMethod::SeekThenWrite => {
                file.seek(SeekFrom::End(0))?;
                file.write_all(text.as_bytes())?;
            }
            AppendMethod::Flock => {
                let mut locked = Flock::lock(file, FlockArg::LockExclusive)
                    .map_err(|(_, errno)| std::io::Error::from(errno))?;
                locked.seek(SeekFrom::End(0))?;
                locked.write_all(text.as_bytes())?;
                file = locked
                    .unlock()
                    .map_err(|(_, errno)| std::io::Error::from(errno))?;
            }
            AppendMethod::OAppend => file.write_all(text.as_bytes())?,
        }
    }
    Ok(())
}

/// Runs `processes` children appending `lines` lines each to a fresh file.
pub(crate) fn append_run(
    exe: &Path,
    method: AppendMethod,
    processes: usize,
    lines: u64,
) -> Result<FileRun, LessonError> {
    let path = std::env::temp_dir().join(format!(
        "paralab-race-{}-{}.txt",
        std::process::id(),
        MonoTime::now().0
    ));
    let result = append_into(exe, &path, method, processes, lines);
    let _ = std::fs::remove_file(&path);
    result
}

fn append_into(
    exe: &Path,
    path: &Path,
    method: AppendMethod,
    processes: usize,
    lines: u64,
) -> Result<FileRun, LessonError> {
    File::create(path).map_err(|e| LessonError::io(&format!("creating {}", path.display()), e))?;
    // Far enough ahead for every child to be started and waiting.
    let start = MonoTime::now().0 + 50_000_000;
    let t0 = MonoTime::now();
    // Whatever returns early, the processes are killed and reaped.
    let mut children = ChildSet::new();
    for worker in 0..processes {
        children
            .spawn(
                child::command(
                    exe,
                    "append",
                    &[
                        path.display().to_string(),
                        method.name().to_string(),
                        worker.to_string(),
                        lines.to_string(),
                        start.to_string(),
                    ],
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null()),
            )
            .map_err(|error| {
                LessonError::io(
                    &format!("starting {} again as an appending process", exe.display()),
                    error,
                )
            })?;
    }
    let statuses = children.wait_all();
    let seconds = MonoTime::now().seconds_since(t0);
    for (worker, status) in statuses.into_iter().enumerate() {
        match status {
            Ok(status) if status.success() => {}
            other => {
                return Err(LessonError(format!(
                    "appending process {worker} {}",
                    crate::fmt::child_ended(&other)
                )));
            }
        }
    }
    let bytes = std::fs::read(path).map_err(|e| LessonError::io("reading the file back", e))?;
    let (intact, lost, torn) = tally(&String::from_utf8_lossy(&bytes), processes, lines);
    Ok(FileRun {
        method,
        processes,
        lines,
        expected: processes as u64 * lines,
        intact,
        lost,
        torn,
        seconds,
    })
}

/// The notebook's counter in CPython's threads: `counter += 1` as written,
/// then a read, a function call and a write back.
pub(crate) const PYTHON_SCRIPT: &str = include_str!("race.py");

/// Increments per Python thread: the 4 × 1,000,000, which
/// CPython 3.11 counted exactly, twice.
fn python_increments(options: &Options) -> u64 {
    if options.fast { 100_000 } else { 1_000_000 }
}

/// One form of the increment in CPython.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct PythonCount {
    /// The counter at the end.
    pub counted: u64,
    /// How long the threads took, timed in Python.
    pub seconds: f64,
}

/// The counter in CPython's threads.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub(crate) struct PythonRace {
    /// The interpreter's version.
    pub version: String,
    /// Whether its threads shared a GIL during the run
    /// (`sys._is_gil_enabled()` read by the script, 3.13+; true before).
    pub gil_enabled: bool,
    /// The interpreter's program (`sys.executable`; filled in by paralab).
    #[serde(default)]
    pub interpreter: String,
    /// The GIL state the interpreter reported when paralab checked it,
    /// before the run (filled in by paralab).
    #[serde(default)]
    pub gil_enabled_at_start: bool,
    /// Threads (filled in by paralab).
    #[serde(default)]
    pub threads: usize,
    /// Increments per thread (filled in by paralab).
    #[serde(default)]
    pub increments: u64,
    /// `counter += 1`, the notebook's form.
    pub plain: PythonCount,
    /// `seen = counter; counter = increment(seen)`.
    pub read_call_write: PythonCount,
}

/// Why the CPython part did not run.
#[derive(Debug, PartialEq)]
pub(crate) enum PythonSkip {
    /// No interpreter by that name: nothing to run.
    Absent(String),
    /// An interpreter that could not run the script.
    Failed(String),
}

/// Runs [`PYTHON_SCRIPT`] on `exe` (default `python3` on PATH) with
/// `threads` × `increments`. The interpreter is found and checked by
/// [`Python::find`](crate::model::python::Python::find), which also reads
/// its GIL state; the script reads it again inside the run, and the run's
/// own word is kept (an extension module can switch the GIL back on).
pub(crate) fn python_race(
    chosen: Option<&crate::model::python::Python>,
    threads: usize,
    increments: u64,
) -> Result<PythonRace, PythonSkip> {
    use crate::model::python::{Python, PythonError};
    // The interpreter the command line already found, or python3 on PATH.
    let found;
    let python = match chosen {
        Some(python) => python,
        None => match Python::find(None) {
            Ok(python) => {
                found = python;
                &found
            }
            Err(error @ PythonError::NotFound { .. }) => {
                return Err(PythonSkip::Absent(error.to_string()));
            }
            Err(error) => return Err(PythonSkip::Failed(error.to_string())),
        },
    };
    let shown = python.executable().to_string();
    // In a process group of its own, with default signals, dying with
    // paralab: like every child paralab starts.
    let output = crate::sys::children::GroupChild::output(
        std::process::Command::new(&shown)
            .args([
                "-c",
                PYTHON_SCRIPT,
                &threads.to_string(),
                &increments.to_string(),
            ])
            .stdin(Stdio::null()),
    )
    .map_err(|e| PythonSkip::Failed(format!("{shown} could not be started: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("no message");
        return Err(PythonSkip::Failed(format!(
            "{shown} {}: {last}",
            crate::fmt::child_ended(&Ok(output.status))
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut race: PythonRace = serde_json::from_str(stdout.trim()).map_err(|e| {
        PythonSkip::Failed(format!(
            "{shown} printed something paralab cannot read ({e})"
        ))
    })?;
    race.interpreter = shown;
    race.gil_enabled_at_start = python.gil_enabled();
    race.threads = threads;
    race.increments = increments;
    Ok(race)
}

/// The evidence, as data.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Evidence {
    /// One per counter method.
    pub counter: Vec<CounterRun>,
    /// One per append method.
    pub file: Vec<FileRun>,
    /// The counter in CPython's threads, when a python3 ran it.
    pub python: Option<PythonRace>,
    /// Why the Python part did not run, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub python_skipped: Option<String>,
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    let counter = CounterMethod::ALL
        .into_iter()
        .map(|method| count(method, THREADS, increments(options)))
        .collect::<Result<_, _>>()?;
    let file = AppendMethod::ALL
        .into_iter()
        .map(|method| append_run(&options.exe, method, PROCESSES, lines(options)))
        .collect::<Result<_, _>>()?;
    let (python, python_skipped) = match python_race(
        options.python.as_deref(),
        THREADS,
        python_increments(options),
    ) {
        Ok(race) => (Some(race), None),
        Err(PythonSkip::Absent(why) | PythonSkip::Failed(why)) => (None, Some(why)),
    };
    Ok(finding(Evidence {
        counter,
        file,
        python,
        python_skipped,
    }))
}

fn finding(evidence: Evidence) -> Finding {
    let first = &evidence.counter[0];
    let mut counter_table = Table::new(
        format!(
            "shared counter: {} threads × {} increments, {} expected",
            first.threads,
            thousands(first.increments),
            thousands(first.expected)
        ),
        &["method", "final count", "lost updates", "lost", "time"],
    );
    for run in &evidence.counter {
        counter_table.row(vec![
            run.method.label().into(),
            thousands(run.counted),
            thousands(run.lost),
            percent_of(run.lost, run.expected),
            seconds_fine(run.seconds),
        ]);
    }
    let first = &evidence.file[0];
    let mut file_table = Table::new(
        format!(
            "one file: {} processes × {} lines, {} expected",
            first.processes,
            thousands(first.lines),
            thousands(first.expected)
        ),
        &["method", "intact lines", "lost lines", "torn lines", "time"],
    );
    for run in &evidence.file {
        file_table.row(vec![
            run.method.label().into(),
            thousands(run.intact),
            thousands(run.lost),
            thousands(run.torn),
            seconds_fine(run.seconds),
        ]);
    }
    let mut notes = vec![
        "A lost update: two threads read the same value, both write it + 1, one increment vanishes. \
         A lost line: two processes find the same end of file and write at the same place; a torn line \
         is what is left of a longer line partly overwritten by a shorter one."
            .to_string(),
    ];
    let mut tables = vec![counter_table];
    let mut verdicts = vec![counter_verdict(&evidence.counter)];
    if let Some(race) = &evidence.python {
        tables.push(python_table(race));
        notes.push(python_note(race));
        verdicts.push(python_verdict(race));
    } else if let Some(why) = &evidence.python_skipped {
        notes.push(format!("The Python part was skipped: {why}."));
    }
    tables.push(file_table);
    verdicts.push(file_verdict(&evidence.file));
    Finding {
        tables,
        notes,
        verdicts,
        evidence: serde_json::to_value(&evidence).expect("plain data serialises"),
    }
}

fn counter_verdict(runs: &[CounterRun]) -> Verdict {
    let by = |method| {
        runs.iter()
            .find(|r| r.method == method)
            .expect("every method ran")
    };
    let (racy, mutex, atomic) = (
        by(CounterMethod::ReadThenWrite),
        by(CounterMethod::Mutex),
        by(CounterMethod::FetchAdd),
    );
    let safe = format!(
        "with the Mutex {} and with fetch_add {} were lost (the lock cost {:.1}× the time of fetch_add)",
        thousands(mutex.lost),
        thousands(atomic.lost),
        mutex.seconds / atomic.seconds.max(1e-9)
    );
    if mutex.lost > 0 || atomic.lost > 0 {
        Verdict::new(
            Outcome::DoesNotHold,
            format!("updates were lost even with a lock: {safe}"),
        )
    } else if racy.lost > 0 {
        Verdict::new(
            Outcome::Holds,
            format!(
                "without a lock {} of {} updates were lost ({}); {safe}",
                thousands(racy.lost),
                thousands(racy.expected),
                percent_of(racy.lost, racy.expected)
            ),
        )
    } else {
        Verdict::new(
            Outcome::NotShown,
            format!(
                "no update was lost without a lock this time (the threads happened not to collide; run again), {safe}"
            ),
        )
    }
}

/// The counter in CPython, one row per form.
fn python_table(race: &PythonRace) -> Table {
    let expected = race.threads as u64 * race.increments;
    let gil = if race.gil_enabled {
        "with its GIL"
    } else {
        "free-threaded, no GIL"
    };
    let mut table = Table::new(
        format!(
            "the same counter in CPython {} ({gil}): {} threads × {} increments, {} expected",
            race.version,
            race.threads,
            thousands(race.increments),
            thousands(expected)
        ),
        &["Python form", "final count", "lost updates", "lost", "time"],
    );
    for (form, count) in [
        ("counter += 1", &race.plain),
        (
            "seen = counter; counter = increment(seen)",
            &race.read_call_write,
        ),
    ] {
        let lost = expected.saturating_sub(count.counted);
        table.row(vec![
            form.into(),
            thousands(count.counted),
            thousands(lost),
            percent_of(lost, expected),
            seconds_fine(count.seconds),
        ]);
    }
    table
}

/// Why `counter += 1` may count exactly in CPython, and why that is luck;
/// without a GIL, what this run's `counter += 1` showed.
fn python_note(race: &PythonRace) -> String {
    let expected = race.threads as u64 * race.increments;
    let plain_lost = expected.saturating_sub(race.plain.counted);
    let mut note = if race.gil_enabled {
        "CPython 3.10 and later switch threads only at certain points (a loop's jump back, a function's \
         start), not between counter += 1's read and write, so that form rarely loses an update; \
         3.9 and older could switch between them. A call between the read and the write is such a \
         point: another thread runs there, and its increments are overwritten by the write back. \
         The GIL is no lock for your data."
            .to_string()
    } else if plain_lost > 0 {
        format!(
            "This CPython is free-threaded and ran without a GIL: nothing kept its threads from running at \
             once, and counter += 1 (a read, then a write) lost {} updates here, as Rust's read-then-write does. Without a GIL \
             nothing stands between the read and the write; only a lock (threading.Lock) keeps the count.",
            thousands(plain_lost)
        )
    } else {
        "This CPython is free-threaded and ran without a GIL: its threads can run at once, so counter += 1 \
         (a read, then a write) can lose updates, but it lost none in this run: the threads happened not \
         to collide. Only a lock (threading.Lock) makes the count certain."
            .to_string()
    };
    if race.gil_enabled != race.gil_enabled_at_start {
        note.push_str(&format!(
            " (The interpreter reported its GIL {} when paralab checked it and {} during the run, \
             as a module that needs the GIL can switch it back on; the figures are the run's.)",
            if race.gil_enabled_at_start {
                "on"
            } else {
                "off"
            },
            if race.gil_enabled { "on" } else { "off" },
        ));
    }
    note
}

/// Whether CPython's threads lost updates without a lock: the form with a
/// call between read and write shows it when the plain form does not.
fn python_verdict(race: &PythonRace) -> Verdict {
    let expected = race.threads as u64 * race.increments;
    let lost = |c: &PythonCount| expected.saturating_sub(c.counted);
    let (plain, call) = (lost(&race.plain), lost(&race.read_call_write));
    let gil = if race.gil_enabled {
        "with its GIL"
    } else {
        "free-threaded, no GIL"
    };
    let text = format!(
        "in CPython {} ({gil}) threads, counter += 1 lost {} of {} updates; read, call, write back lost {} ({})",
        race.version,
        thousands(plain),
        thousands(expected),
        thousands(call),
        percent_of(call, expected)
    );
    if race.plain.counted > expected || race.read_call_write.counted > expected {
        Verdict::new(
            Outcome::DoesNotHold,
            format!("{text}: more than expected, which no race explains"),
        )
    } else if plain > 0 || call > 0 {
        Verdict::new(Outcome::Holds, text)
    } else if race.gil_enabled {
        Verdict::new(
            Outcome::NotShown,
            format!(
                "{text}: the threads happened not to switch between a read and its write this time"
            ),
        )
    } else {
        Verdict::new(
            Outcome::NotShown,
            format!(
                "{text}: the threads happened not to collide between a read and its write this time"
            ),
        )
    }
}

fn file_verdict(runs: &[FileRun]) -> Verdict {
    let by = |method| {
        runs.iter()
            .find(|r| r.method == method)
            .expect("every method ran")
    };
    let (racy, locked, append) = (
        by(AppendMethod::SeekThenWrite),
        by(AppendMethod::Flock),
        by(AppendMethod::OAppend),
    );
    let damage = |r: &FileRun| format!("{} lost, {} torn", thousands(r.lost), thousands(r.torn));
    let safe = format!(
        "with flock {}; with O_APPEND, where the kernel finds the end and writes in one step, {}",
        damage(locked),
        damage(append)
    );
    if locked.lost + locked.torn > 0 {
        Verdict::new(
            Outcome::DoesNotHold,
            format!("lines were damaged even under flock: {safe}"),
        )
    } else if racy.lost + racy.torn > 0 {
        Verdict::new(
            Outcome::Holds,
            format!(
                "for processes too: without a lock {} of {} lines were lost and {} torn; {safe}",
                thousands(racy.lost),
                thousands(racy.expected),
                thousands(racy.torn)
            ),
        )
    } else {
        Verdict::new(
            Outcome::NotShown,
            format!("the processes happened not to collide without a lock this time; {safe}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_and_atomic_counters_lose_nothing() {
        for method in [CounterMethod::Mutex, CounterMethod::FetchAdd] {
            let run = count(method, 3, 10_000).unwrap();
            assert_eq!((run.counted, run.lost), (30_000, 0), "{method:?}");
        }
        let racy = count(CounterMethod::ReadThenWrite, 3, 10_000).unwrap();
        assert!(racy.counted <= 30_000 && racy.counted >= 10_000);
    }

    #[test]
    fn python_race_verdicts_follow_the_counts() {
        let race = |plain: u64, call: u64, gil_enabled| PythonRace {
            version: "3.11.7".into(),
            gil_enabled,
            interpreter: "/usr/bin/python3.11".into(),
            gil_enabled_at_start: gil_enabled,
            threads: 4,
            increments: 1000,
            plain: PythonCount {
                counted: plain,
                seconds: 0.1,
            },
            read_call_write: PythonCount {
                counted: call,
                seconds: 0.1,
            },
        };
        let exact = python_verdict(&race(4000, 1500, true));
        assert_eq!(exact.outcome, Outcome::Holds);
        assert!(
            exact.text.contains("counter += 1 lost 0 of 4,000"),
            "{}",
            exact.text
        );
        assert!(exact.text.contains("lost 2,500"), "{}", exact.text);
        assert_eq!(
            python_verdict(&race(4000, 4000, true)).outcome,
            Outcome::NotShown
        );
        assert_eq!(
            python_verdict(&race(4001, 4000, true)).outcome,
            Outcome::DoesNotHold
        );
        assert!(python_note(&race(4000, 4000, true)).contains("3.10"));
        // Without a GIL, the note says what this run's counter += 1 did.
        let free_lost = python_note(&race(3000, 3000, false));
        assert!(free_lost.contains("without a GIL"), "{free_lost}");
        assert!(free_lost.contains("lost 1,000 updates here"), "{free_lost}");
        let free_exact = python_note(&race(4000, 4000, false));
        assert!(free_exact.contains("lost none in this run"), "{free_exact}");
        assert!(!free_exact.contains("3.10"), "{free_exact}");
        assert!(
            python_verdict(&race(3000, 3000, false))
                .text
                .contains("no GIL")
        );
        assert!(
            !python_table(&race(1, 1, false))
                .render()
                .contains("with its GIL")
        );
    }

    #[test]
    fn the_python_script_counts_when_python3_is_present() {
        match python_race(None, 2, 1000) {
            Ok(race) => {
                assert!(race.plain.counted <= 2000 && race.plain.counted >= 1000);
                assert!(race.read_call_write.counted <= 2000);
                assert!(race.read_call_write.counted >= 1000);
            }
            Err(PythonSkip::Absent(why))
                if std::env::var("PARALAB_REQUIRE_PYTHON").is_ok_and(|v| v == "1") =>
            {
                panic!("PARALAB_REQUIRE_PYTHON=1, but no python3 was found: {why}")
            }
            Err(PythonSkip::Absent(_)) => {
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "skipped the_python_script_counts_when_python3_is_present: no python3 found"
                );
            }
            Err(PythonSkip::Failed(why)) => panic!("{why}"),
        }
    }

    #[test]
    fn tally_finds_lost_and_torn_lines() {
        let mut text = String::new();
        for index in 0..3 {
            text.push_str(&line(0, index));
            text.push_str(&line(1, index));
        }
        assert_eq!(tally(&text, 2, 3), (6, 0, 0));
        // Process 0's line written over the start of process 1's: the
        // tail of the longer line is left behind.
        let long = line(1, 7);
        let short = line(0, 7);
        let overwritten = format!("{short}{}", &long[short.len()..]);
        assert_eq!(tally(&overwritten, 2, 8), (1, 15, 1));
        assert_eq!(tally(&format!("{short}{short}"), 2, 8), (1, 15, 0));
    }
}
