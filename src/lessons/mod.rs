//! Lessons: short guided experiments, each testing one claim of the
//! notebook "threading vs multiprocessing" on this machine.
//!
//! A [`Lesson`] states its claim in one English sentence, says what it will
//! do, runs, and returns a [`Finding`]: the evidence as tables (for people)
//! and as JSON (for programs), and one verdict per claim, each with the
//! numbers behind it. Every lesson lives in its own file; [`LESSONS`] lists
//! them in the order `paralab lesson all` runs them.
//! `paralab lesson NAME` finds the lesson in [`LESSONS`], prints
//! [`render_intro`], calls its `run` and prints [`render_finding`].

pub(crate) mod child;
pub(crate) mod crash;
pub(crate) mod interleave;
pub(crate) mod memory;
pub(crate) mod messages;
pub(crate) mod parallelism;
pub(crate) mod pipe;
pub(crate) mod race;

use std::path::PathBuf;

use serde::Serialize;

use crate::fmt::Table;
pub(crate) use crate::verdict::{Outcome, Verdict};

/// What the user chose for a lesson run.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Small sizes and short pauses, for tests: each lesson in well under a second or two.
    pub fast: bool,
    /// Seed of the random pauses (`interleave`); `None` picks one and prints it.
    pub seed: Option<u64>,
    /// How the crashing worker of `crash` dies.
    pub how: CrashHow,
    /// The paralab program, re-executed for the lessons' child processes
    /// (it must call [`child::serve_if_requested`] first thing in `main`).
    pub exe: PathBuf,
    /// The CPython `race` runs its Python part on (`--python-exe`, found
    /// and checked once by the command line); `None`: `python3` on PATH.
    pub python: Option<std::sync::Arc<crate::model::python::Python>>,
}

impl Options {
    /// The defaults: full sizes, a random seed, a segfault.
    pub(crate) fn new(exe: impl Into<PathBuf>) -> Options {
        Options {
            fast: false,
            seed: None,
            how: CrashHow::Segfault,
            exe: exe.into(),
            python: None,
        }
    }
}

/// The two models the notebook sets against each other, as a lesson that
/// compares them names its cases (`thread` and `process` in its JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Contender {
    /// Threads of one process.
    Thread,
    /// Processes of their own.
    Process,
}

impl Contender {
    /// `thread` or `process`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Contender::Thread => "thread",
            Contender::Process => "process",
        }
    }
}

/// How the crashing worker of the `crash` lesson dies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum CrashHow {
    /// Killed by `SIGSEGV`, as by a bad pointer.
    #[default]
    Segfault,
    /// `abort()`: killed by `SIGABRT`.
    Abort,
    /// A Rust panic (an uncaught exception, in Python's terms).
    Panic,
}

impl CrashHow {
    /// Every way, as named on the command line.
    pub(crate) const ALL: [CrashHow; 3] = [CrashHow::Segfault, CrashHow::Abort, CrashHow::Panic];

    /// The name used on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            CrashHow::Segfault => "segfault",
            CrashHow::Abort => "abort",
            CrashHow::Panic => "panic",
        }
    }
}

impl std::str::FromStr for CrashHow {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CrashHow::ALL
            .into_iter()
            .find(|how| how.name() == s)
            .ok_or_else(|| format!("unknown crash '{s}'; accepted: segfault, abort, panic"))
    }
}

/// One lesson: its claim, its plan, and the experiment that tests it.
pub(crate) struct Lesson {
    /// The name on the command line: `paralab lesson NAME`.
    pub name: &'static str,
    /// One line for the list of lessons.
    pub summary: &'static str,
    /// The notebook's idea, in one English sentence.
    pub claim: &'static str,
    /// The notebook's own words (French), quoted.
    pub notebook: &'static str,
    /// What the lesson will do with these options, in a sentence or two.
    pub plan: fn(&Options) -> String,
    /// Runs the experiment.
    pub run: fn(&Options) -> Result<Finding, LessonError>,
    /// The child processes it starts (paralab started again as each).
    pub children: &'static [child::ChildKind],
}

/// Every lesson, in the order `paralab lesson all` runs them.
pub(crate) const LESSONS: [&Lesson; 7] = [
    &interleave::LESSON,
    &race::LESSON,
    &memory::LESSON,
    &pipe::LESSON,
    &crash::LESSON,
    &parallelism::LESSON,
    &messages::LESSON,
];

/// The lesson called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Lesson> {
    LESSONS.into_iter().find(|lesson| lesson.name == name)
}

/// The names of every lesson, comma-separated, for messages.
pub(crate) fn names() -> String {
    LESSONS.map(|lesson| lesson.name).join(", ")
}

/// What a lesson measured and concluded.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    /// The evidence, for people.
    pub tables: Vec<Table>,
    /// Lines printed after the tables: how to read them, caveats.
    pub notes: Vec<String>,
    /// One verdict per claim tested.
    pub verdicts: Vec<Verdict>,
    /// The evidence, for programs (`--format json`).
    pub evidence: serde_json::Value,
}

/// Why a lesson could not run its experiment.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LessonError(pub String);

impl LessonError {
    /// `doing: error`, for an OS error met while doing something; when
    /// the OS refused on a limit (processes, memory, open files), followed
    /// by `; limit hit: …` naming the limit and its value, so the user
    /// knows which knob to turn.
    pub(crate) fn io(doing: &str, error: std::io::Error) -> LessonError {
        if crate::sys::limits::is_os_limit(&error) {
            LessonError(format!(
                "{doing}: {error}; {}",
                crate::sys::limits::explain(&error)
            ))
        } else {
            LessonError(format!("{doing}: {error}"))
        }
    }
}

/// Where threads that must start together stand: waiting for the others
/// to be started, going, or sent home because the OS refused one of them
/// (a `Barrier` cannot be released for a thread that never started, so
/// the threads already waiting would wait forever).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Start {
    Wait,
    Go,
    Cancel,
}

/// The common start of a lesson's threads: they [`wait`](Self::wait) on
/// it, and the thread that started them opens it once all are started,
/// or cancels it when the OS refuses one.
pub(crate) struct StartGate {
    state: std::sync::Mutex<Start>,
    changed: std::sync::Condvar,
}

impl StartGate {
    /// A closed gate.
    pub(crate) fn new() -> StartGate {
        StartGate {
            state: std::sync::Mutex::new(Start::Wait),
            changed: std::sync::Condvar::new(),
        }
    }

    /// Waits until the gate opens (true) or is cancelled (false).
    pub(crate) fn wait(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        while *state == Start::Wait {
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        *state == Start::Go
    }

    /// Lets every waiting thread go.
    pub(crate) fn open(&self) {
        self.set(Start::Go);
    }

    /// Sends every waiting thread home.
    pub(crate) fn cancel(&self) {
        self.set(Start::Cancel);
    }

    fn set(&self, to: Start) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = to;
        self.changed.notify_all();
    }
}

/// Claim, notebook quote and plan: what is printed before the lesson runs.
pub(crate) fn render_intro(lesson: &Lesson, options: &Options) -> String {
    let mut out = format!("━━ lesson {} ━━ {}\n", lesson.name, lesson.summary);
    out.push_str(&labelled("Claim", lesson.claim));
    out.push_str(&labelled("Notebook", &format!("« {} »", lesson.notebook)));
    out.push_str(&labelled("Plan", &(lesson.plan)(options)));
    out
}

/// Evidence, notes and verdicts: what is printed after the lesson ran.
pub(crate) fn render_finding(finding: &Finding) -> String {
    let mut out = String::from("Evidence\n");
    for table in &finding.tables {
        out.push_str(&table.render());
    }
    for note in &finding.notes {
        out.push_str(&wrap(note, "  ", "  "));
    }
    for verdict in &finding.verdicts {
        out.push_str(&labelled(
            "Verdict",
            &format!("{}: {}", verdict.outcome, verdict.text),
        ));
    }
    out
}

/// A lesson's result as data, for `--format json`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Record {
    /// The lesson's name.
    pub lesson: &'static str,
    /// The claim tested.
    pub claim: &'static str,
    /// The notebook's words.
    pub notebook: &'static str,
    /// What was done.
    pub plan: String,
    /// The measurements.
    pub evidence: serde_json::Value,
    /// The conclusions.
    pub verdicts: Vec<Verdict>,
    /// How long the lesson took.
    pub seconds: f64,
}

impl Record {
    /// The record of `lesson`, run with `options`, having found `finding` in `seconds`.
    pub(crate) fn new(
        lesson: &Lesson,
        options: &Options,
        finding: &Finding,
        seconds: f64,
    ) -> Record {
        Record {
            lesson: lesson.name,
            claim: lesson.claim,
            notebook: lesson.notebook,
            plan: (lesson.plan)(options),
            evidence: finding.evidence.clone(),
            verdicts: finding.verdicts.clone(),
            seconds,
        }
    }
}

/// The list printed by `paralab lesson` with no name.
pub(crate) fn render_list() -> String {
    let width = LESSONS.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let mut out = String::from(
        "Lessons (run one with 'paralab lesson NAME', all with 'paralab lesson all'):\n",
    );
    for lesson in LESSONS {
        out.push_str(&format!("  {:<width$}  {}\n", lesson.name, lesson.summary));
    }
    out
}

const LABEL_WIDTH: usize = 9;
const LINE_WIDTH: usize = 100;

/// `Label    text…`, the text wrapped under itself.
fn labelled(label: &str, text: &str) -> String {
    let first = format!("{label:<LABEL_WIDTH$} ");
    wrap(text, &first, &" ".repeat(LABEL_WIDTH + 1))
}

/// Wraps `text` at word boundaries to [`LINE_WIDTH`] columns, the first line
/// after `first`, the others after `rest`. (A dozen lines by hand rather
/// than a crate for paragraphs of plain ASCII-and-French prose.)
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > LINE_WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lesson_is_found_by_its_name_once() {
        for lesson in LESSONS {
            assert_eq!(find(lesson.name).unwrap().claim, lesson.claim);
        }
        assert!(find("all").is_none() && find("gil2").is_none());
        assert_eq!(
            names(),
            "interleave, race, memory, pipe, crash, parallelism, messages"
        );
    }

    #[test]
    fn long_text_wraps_under_its_label() {
        let text = "word ".repeat(40);
        let out = labelled("Claim", &text);
        assert!(out.lines().count() > 1);
        assert!(out.lines().all(|l| l.chars().count() <= LINE_WIDTH));
        assert!(out.lines().skip(1).all(|l| l.starts_with("          word")));
    }

    #[test]
    fn crash_ways_parse_by_name() {
        assert_eq!("abort".parse(), Ok(CrashHow::Abort));
        assert!(
            "explode"
                .parse::<CrashHow>()
                .unwrap_err()
                .contains("segfault, abort, panic")
        );
    }
}
