//! `interleave`: the notebook's first example. Two workers each print their
//! letter 20 times, pausing 0.2 s + 0.01–0.6 s after each; run at once,
//! their letters interleave. Done with threads and with processes, at the
//! same time and with the same pauses, so the two lines can be compared.

use std::io::{Read, Write};
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;

use super::{Contender, Finding, Lesson, LessonError, Options, Outcome, Verdict, child};
use crate::fmt::{Table, micros, plural, seconds_fine};
use crate::measure::clock::MonoTime;
use crate::sys::children::ChildSet;

/// The lesson.
pub(crate) const LESSON: Lesson = Lesson {
    name: "interleave",
    summary: "two workers print their letter 20 times with random pauses; as threads and as processes",
    claim: "Two threads (or two processes) run at the same time: when each prints its letter with random pauses, \
            the letters come out interleaved, in an order decided by the pauses, not by which worker started first.",
    notebook: "thread_1 = Afficheur(\"1\") … thread_1.start(); thread_2.start() → 12121212121222121212121211212211221212121",
    plan,
    run,
    children: &[child::ChildKind {
        name: "interleave",
        play: child,
    }],
};

/// Letters each worker prints, as in the notebook.
pub(crate) const LETTERS: usize = 20;

/// The two workers' letters, as in the notebook.
pub(crate) const WORKERS: [char; 2] = ['1', '2'];

/// `--fast` divides every pause by this.
const FAST_DIVISOR: u64 = 20;

fn plan(options: &Options) -> String {
    let (base, step) = pause_parts(options.fast);
    format!(
        "Two workers, '1' and '2', each write their letter {LETTERS} times into one shared pipe, \
         pausing {} + a random 1..60 × {} after each letter (the notebook's 0.2 s + randint(1, 60)/100{}). \
         Once as 2 threads and once as 2 processes (paralab started again), both at the same time and \
         with the same pauses, starting together {} after the lesson begins, so each takes about {} in all. Then the lines are compared with the order the \
         pauses predict, and the alternations between '1' and '2' are counted.",
        micros(base),
        micros(step),
        if options.fast {
            format!(", divided by {FAST_DIVISOR} for --fast")
        } else {
            String::new()
        },
        micros(START_AFTER.as_micros() as u64),
        micros(LETTERS as u64 * (base + 305 * step / 10)),
    )
}

/// The fixed part and the step of a pause, in microseconds.
fn pause_parts(fast: bool) -> (u64, u64) {
    let divisor = if fast { FAST_DIVISOR } else { 1 };
    (200_000 / divisor, 10_000 / divisor)
}

/// The pauses of worker `worker`, in microseconds: the notebook's
/// `0.2 + random.randint(1, 60) / 100`, from a generator seeded by
/// `seed` and the worker, so threads and processes see the same pauses.
pub(crate) fn pauses(seed: u64, worker: usize, fast: bool) -> Vec<u64> {
    let (base, step) = pause_parts(fast);
    let mut rng =
        fastrand::Rng::with_seed(seed ^ (worker as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (0..LETTERS)
        .map(|_| base + step * rng.u64(1..=60))
        .collect()
}

/// How long after the lesson begins every worker writes its first
/// letter: time for the processes to be started (an exec each), so that
/// threads and processes start together and a late start does not pass
/// for the pauses' order.
const START_AFTER: Duration = Duration::from_millis(150);

/// Sleeps until the monotonic instant `start` (at once if it is past).
fn wait_until(start: MonoTime) {
    let now = MonoTime::now();
    if start > now {
        std::thread::sleep(Duration::from_nanos(start.0 - now.0));
    }
}

/// Writes `letter` once per pause into `out`, one `write` each, sleeping
/// the pause after each letter (as the notebook's `Afficheur.run`), the
/// first at the instant `start`.
fn print_letters(
    letter: char,
    pauses: &[u64],
    start: MonoTime,
    out: &mut impl Write,
) -> std::io::Result<()> {
    wait_until(start);
    let mut buffer = [0u8; 4];
    let bytes = letter.encode_utf8(&mut buffer).as_bytes();
    for &pause in pauses {
        out.write_all(bytes)?;
        out.flush()?;
        std::thread::sleep(Duration::from_micros(pause));
    }
    Ok(())
}

/// The child: `interleave WORKER SEED FAST(0|1) START_NS`, letters on
/// standard output from the monotonic instant `START_NS`.
pub(crate) fn child(args: &[String]) -> Result<i32, String> {
    let worker: usize = child::arg(args, 0, "worker number")?;
    let seed: u64 = child::arg(args, 1, "seed")?;
    let fast: u8 = child::arg(args, 2, "fast flag (0 or 1)")?;
    let start = MonoTime(child::arg(
        args,
        3,
        "start instant (monotonic nanoseconds)",
    )?);
    let letter = *WORKERS
        .get(worker)
        .ok_or(format!("worker {worker} does not exist; 0 or 1"))?;
    let pauses = pauses(seed, worker, fast == 1);
    match print_letters(letter, &pauses, start, &mut std::io::stdout().lock()) {
        Ok(()) => Ok(0),
        Err(error) => {
            eprintln!("paralab lesson child: writing letters failed: {error}");
            Ok(1)
        }
    }
}

/// The order of letters the pauses predict: each letter is written at the
/// sum of its worker's previous pauses. Letters due at the same instant
/// form one group, whose inner order is down to the scheduler.
pub(crate) fn predicted_groups(seed: u64, fast: bool) -> Vec<String> {
    let mut events: Vec<(u64, char)> = Vec::new();
    for (worker, &letter) in WORKERS.iter().enumerate() {
        let mut at = 0;
        for pause in pauses(seed, worker, fast) {
            events.push((at, letter));
            at += pause;
        }
    }
    events.sort();
    let mut groups: Vec<(u64, String)> = Vec::new();
    for (at, letter) in events {
        match groups.last_mut() {
            Some((time, group)) if *time == at => group.push(letter),
            _ => groups.push((at, letter.to_string())),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

/// How many groups of `line`, cut to the predicted group sizes, do not hold
/// the predicted letters (in any order).
pub(crate) fn groups_out_of_order(line: &str, groups: &[String]) -> usize {
    let letters: Vec<char> = line.chars().collect();
    let mut at = 0;
    let mut wrong = 0;
    for group in groups {
        let size = group.chars().count();
        let mut seen: Vec<char> = letters.iter().skip(at).take(size).copied().collect();
        let mut expected: Vec<char> = group.chars().collect();
        seen.sort_unstable();
        expected.sort_unstable();
        if seen != expected {
            wrong += 1;
        }
        at += size;
    }
    wrong
}

/// How many times the letter changes from one position to the next.
pub(crate) fn alternations(line: &str) -> usize {
    let letters: Vec<char> = line.chars().collect();
    letters.windows(2).filter(|pair| pair[0] != pair[1]).count()
}

/// The longest stretch of one letter.
pub(crate) fn longest_streak(line: &str) -> usize {
    let letters: Vec<char> = line.chars().collect();
    letters
        .chunk_by(|a, b| a == b)
        .map(<[char]>::len)
        .max()
        .unwrap_or(0)
}

/// How far from the pauses' order `line` strays: the most by which a
/// letter came out after one that was due later (seconds; 0 when every
/// letter came out in the order of its due time). A letter's due time is
/// the sum of its worker's pauses before it.
pub(crate) fn most_out_of_order_s(line: &str, seed: u64, fast: bool) -> f64 {
    let due: Vec<Vec<u64>> = (0..WORKERS.len())
        .map(|worker| {
            pauses(seed, worker, fast)
                .iter()
                .scan(0, |at, &pause| {
                    let this = *at;
                    *at += pause;
                    Some(this)
                })
                .collect()
        })
        .collect();
    let mut seen = [0usize; 2];
    let mut latest_due = 0u64;
    let mut most = 0u64;
    for letter in line.chars() {
        let Some(worker) = WORKERS.iter().position(|&w| w == letter) else {
            continue;
        };
        let Some(&at) = due[worker].get(seen[worker]) else {
            continue;
        };
        seen[worker] += 1;
        most = most.max(latest_due.saturating_sub(at));
        latest_due = latest_due.max(at);
    }
    most as f64 / 1e6
}

/// How long the pauses of the slower worker add up to: what a line takes
/// when every sleep lasts exactly its pause.
pub(crate) fn predicted_s(seed: u64, fast: bool) -> f64 {
    (0..WORKERS.len())
        .map(|worker| pauses(seed, worker, fast).iter().sum::<u64>())
        .max()
        .unwrap_or(0) as f64
        / 1e6
}

/// Letters due this close may come out in either order: a sleeping
/// worker wakes some time after its pause ends (timer slack, the
/// scheduler's latency), and these delays add up over 20 sleeps; a
/// worker started late (an exec slower than [`START_AFTER`]) is late by
/// more.
pub(crate) const REACTION_S: f64 = 0.002;

/// A line that took this much longer than its pauses add up to was held
/// back by the machine, not by its pauses: nothing it shows is the model's.
const HELD_BACK: f64 = 0.5;

/// One variant's line and what it shows.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Line {
    /// Threads or processes.
    pub model: Contender,
    /// The letters in the order they reached the pipe.
    pub line: String,
    /// How many of each worker's letters arrived.
    pub letters: [usize; 2],
    /// Changes of letter between neighbours (1 if the workers ran one after the other).
    pub alternations: usize,
    /// The longest run of one letter.
    pub longest_streak: usize,
    /// Groups of letters (due at one instant) not in the predicted place.
    pub groups_out_of_order: usize,
    /// The most by which a letter came out after one due later than it, in
    /// seconds (0: the pauses' order exactly).
    pub most_out_of_order_s: f64,
    /// From the instant both workers were to start to the last end.
    pub seconds: f64,
}

/// The evidence, as data.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Evidence {
    /// Seed of the pauses.
    pub seed: u64,
    /// Letters per worker.
    pub letters_per_worker: usize,
    /// Each worker's pauses, in seconds.
    pub pauses_s: [Vec<f64>; 2],
    /// The predicted order, groups of simultaneous letters in brackets.
    pub predicted: String,
    /// How many groups (single letters, or letters due at one instant) it has.
    pub predicted_groups: usize,
    /// How long a line takes if every sleep lasts exactly its pause.
    pub predicted_s: f64,
    /// The threads' line, then the processes'.
    pub lines: Vec<Line>,
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    let seed = options.seed.unwrap_or_else(|| fastrand::u64(..1_000_000));
    let fast = options.fast;
    let t0 = MonoTime::now();
    let start = MonoTime(t0.0 + START_AFTER.as_nanos() as u64);

    // Processes first: they take longer to start (an exec each).
    let (process_reader, process_writer) =
        std::io::pipe().map_err(|e| LessonError::io("creating a pipe", e))?;
    // Whatever returns early, the processes are killed and reaped.
    let mut children = ChildSet::new();
    for worker in 0..WORKERS.len() {
        let writer = process_writer
            .try_clone()
            .map_err(|e| LessonError::io("duplicating a pipe", e))?;
        children
            .spawn(
                child::command(
                    &options.exe,
                    "interleave",
                    &[
                        worker.to_string(),
                        seed.to_string(),
                        u8::from(fast).to_string(),
                        start.0.to_string(),
                    ],
                )
                .stdin(Stdio::null())
                .stdout(writer),
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
    drop(process_writer);

    let (thread_reader, thread_writer) =
        std::io::pipe().map_err(|e| LessonError::io("creating a pipe", e))?;
    let mut writers = Vec::new();
    for _ in WORKERS {
        writers.push(
            thread_writer
                .try_clone()
                .map_err(|e| LessonError::io("duplicating a pipe", e))?,
        );
    }
    drop(thread_writer);
    // A thread the OS refuses ends the lesson; the ones started finish
    // their few letters (nothing waits on the refused one) and are joined.
    let thread_result = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (worker, mut out) in writers.into_iter().enumerate() {
            let pauses = pauses(seed, worker, fast);
            let started = std::thread::Builder::new().spawn_scoped(scope, move || {
                print_letters(WORKERS[worker], &pauses, start, &mut out)
            });
            match started {
                Ok(handle) => handles.push(handle),
                Err(error) => {
                    return Err(LessonError::io(
                        &format!("starting the thread printing '{}'", WORKERS[worker]),
                        error,
                    ));
                }
            }
        }
        Ok(handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("a letter thread panicked")))
            })
            .collect::<std::io::Result<Vec<()>>>())
    })?;
    let thread_seconds = MonoTime::now().seconds_since(start);
    let process_statuses = children.wait_all();
    let process_seconds = MonoTime::now().seconds_since(start);
    thread_result.map_err(|e| LessonError::io("a thread writing its letters", e))?;
    for (worker, status) in process_statuses.iter().enumerate() {
        if !status.as_ref().is_ok_and(|s| s.success()) {
            return Err(LessonError(format!(
                "the process printing '{}' {}",
                WORKERS[worker],
                crate::fmt::child_ended(status)
            )));
        }
    }

    let groups = predicted_groups(seed, fast);
    let lines = [
        (Contender::Thread, thread_reader, thread_seconds),
        (Contender::Process, process_reader, process_seconds),
    ]
    .into_iter()
    .map(|(model, mut reader, seconds)| {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| LessonError::io("reading the letters", e))?;
        let line = String::from_utf8_lossy(&bytes).into_owned();
        Ok(Line {
            model,
            letters: WORKERS.map(|w| line.chars().filter(|&c| c == w).count()),
            alternations: alternations(&line),
            longest_streak: longest_streak(&line),
            groups_out_of_order: groups_out_of_order(&line, &groups),
            most_out_of_order_s: most_out_of_order_s(&line, seed, fast),
            line,
            seconds,
        })
    })
    .collect::<Result<Vec<Line>, LessonError>>()?;

    let evidence = Evidence {
        seed,
        letters_per_worker: LETTERS,
        pauses_s: [0, 1].map(|w| {
            pauses(seed, w, fast)
                .iter()
                .map(|&p| p as f64 / 1e6)
                .collect()
        }),
        predicted: groups
            .iter()
            .map(|g| {
                if g.len() > 1 {
                    format!("[{g}]")
                } else {
                    g.clone()
                }
            })
            .collect(),
        predicted_groups: groups.len(),
        predicted_s: predicted_s(seed, fast),
        lines,
    };
    Ok(finding(evidence))
}

fn finding(evidence: Evidence) -> Finding {
    let predicted = evidence.predicted.replace(['[', ']'], "");
    let mut table = Table::new(
        format!(
            "letters in the order they reached the pipe (seed {}; a run alone would give 1 alternation)",
            evidence.seed
        ),
        &[
            "model",
            "line",
            "alternations",
            "longest run",
            "as predicted",
            "time",
        ],
    );
    table.row(vec![
        "predicted by the pauses".into(),
        predicted.clone(),
        alternations(&predicted).to_string(),
        longest_streak(&predicted).to_string(),
        "-".into(),
        seconds_fine(evidence.predicted_s),
    ]);
    for line in &evidence.lines {
        table.row(vec![
            format!("2 {}", plural(line.model.name())),
            line.line.clone(),
            line.alternations.to_string(),
            line.longest_streak.to_string(),
            if line.groups_out_of_order == 0 {
                "yes".into()
            } else {
                format!(
                    "{} of {} differ",
                    line.groups_out_of_order, evidence.predicted_groups
                )
            },
            seconds_fine(line.seconds),
        ]);
    }
    let ties = evidence.predicted.matches('[').count();
    let notes = vec![format!(
        "Predicted: {} (brackets: letters due at the same instant, {ties} such ties, in either order). \
             Rerun with --seed {} to get the same pauses.",
        evidence.predicted, evidence.seed
    )];
    let verdicts = verdicts(&evidence);
    Finding {
        tables: vec![table],
        notes,
        verdicts,
        evidence: serde_json::to_value(&evidence).expect("plain data serialises"),
    }
}

/// What the lines show: whether the workers ran at the same time, and
/// whether the pauses set the order. Each a result, or inconclusive when
/// letters went missing or the machine held a worker back for longer
/// than the pauses could explain.
fn verdicts(evidence: &Evidence) -> Vec<Verdict> {
    let inconclusive = |text: String| vec![Verdict::new(Outcome::Inconclusive, text)];
    let missing: Vec<String> = evidence
        .lines
        .iter()
        .filter(|l| l.letters != [LETTERS, LETTERS])
        .map(|l| {
            format!(
                "the {} delivered {} and {} of the {LETTERS} letters each",
                plural(l.model.name()),
                l.letters[0],
                l.letters[1]
            )
        })
        .collect();
    if !missing.is_empty() {
        return inconclusive(format!(
            "{}, so the lines cannot be compared with the pauses' order",
            missing.join("; ")
        ));
    }
    let held_back: Vec<String> = evidence
        .lines
        .iter()
        .filter(|l| l.seconds > evidence.predicted_s * (1.0 + HELD_BACK))
        .map(|l| {
            format!(
                "the {} took {} where their pauses add up to {}",
                plural(l.model.name()),
                seconds_fine(l.seconds),
                seconds_fine(evidence.predicted_s)
            )
        })
        .collect();
    let counts = evidence
        .lines
        .iter()
        .map(|l| format!("{} {} times", plural(l.model.name()), l.alternations))
        .collect::<Vec<_>>()
        .join(" and ");
    let apart: Vec<&Line> = evidence
        .lines
        .iter()
        .filter(|l| l.alternations <= 1)
        .collect();
    if !apart.is_empty() {
        // Workers that never overlapped on a machine that held them back
        // say nothing about threads or processes.
        if !held_back.is_empty() {
            return inconclusive(format!(
                "the letters alternated only {counts}; {}: the machine held the workers back, so this \
                 run cannot tell whether they ran at the same time",
                held_back.join("; ")
            ));
        }
        return vec![Verdict::new(
            Outcome::DoesNotHold,
            format!(
                "the workers did not overlap: the letters alternated {counts} in {} letters, though each line took \
                 no longer than its pauses allow",
                2 * LETTERS
            ),
        )];
    }
    let overlap = Verdict::new(
        Outcome::Holds,
        format!(
            "the workers ran at the same time: the letters alternated {counts} in {} letters (one worker after \
             the other would alternate once)",
            2 * LETTERS
        ),
    );
    let most = evidence
        .lines
        .iter()
        .map(|l| l.most_out_of_order_s)
        .fold(0.0, f64::max);
    let order = if most == 0.0 {
        Verdict::new(
            Outcome::Holds,
            "both lines follow exactly the order the pauses predict, so it is the pauses, not threads vs \
             processes, that set the order",
        )
    } else if most <= REACTION_S {
        Verdict::new(
            Outcome::Holds,
            format!(
                "the pauses set the order: where a line differs from the prediction, the letters that swapped \
                 were due at most {} apart, within the {} by which sleeping workers may wake late",
                seconds_fine(most),
                seconds_fine(REACTION_S)
            ),
        )
    } else {
        Verdict::new(
            Outcome::Inconclusive,
            format!(
                "whether the pauses set the order: a letter came out after one due {} later than it, so one worker \
                 ran that far behind its pauses, more than the {} by which a sleeping worker may wake late: a slow \
                 start or other work held it back{}; run the lesson again on a quieter machine",
                seconds_fine(most),
                seconds_fine(REACTION_S),
                if held_back.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", held_back.join("; "))
                }
            ),
        )
    };
    vec![overlap, order]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_follow_the_notebook_and_the_seed() {
        let slow = pauses(7, 0, false);
        assert_eq!(slow.len(), LETTERS);
        assert!(
            slow.iter()
                .all(|&p| (210_000..=800_000).contains(&p) && p % 10_000 == 0)
        );
        assert_eq!(slow, pauses(7, 0, false));
        assert_ne!(slow, pauses(7, 1, false));
        assert_ne!(slow, pauses(8, 0, false));
        let fast = pauses(7, 0, true);
        assert_eq!(
            fast,
            slow.iter().map(|p| p / FAST_DIVISOR).collect::<Vec<_>>()
        );
    }

    #[test]
    fn alternations_and_streaks_are_counted() {
        assert_eq!(alternations("1212"), 3);
        assert_eq!(alternations("1122"), 1);
        assert_eq!(alternations(""), 0);
        assert_eq!(longest_streak("1222112"), 3);
    }

    #[test]
    fn predicted_groups_hold_every_letter_once() {
        let groups = predicted_groups(3, false);
        let all: String = groups.concat();
        assert_eq!(all.matches('1').count(), LETTERS);
        assert_eq!(all.matches('2').count(), LETTERS);
        // Both workers write their first letter at once.
        assert_eq!(groups[0].len(), 2);
        assert_eq!(groups_out_of_order(&all, &groups), 0);
        let swapped: String = all.chars().rev().collect();
        assert!(groups_out_of_order(&swapped, &groups) > 0);
    }

    /// The line the pauses of `seed` predict, ties in worker order.
    fn predicted_line(seed: u64) -> String {
        predicted_groups(seed, true).concat()
    }

    #[test]
    fn the_predicted_line_is_in_order_and_a_late_worker_is_measured() {
        let line = predicted_line(5);
        assert_eq!(most_out_of_order_s(&line, 5, true), 0.0);
        // Worker '1' written entirely first: its last letter was due long
        // after the '2's that follow it.
        let apart = format!("{}{}", "1".repeat(LETTERS), "2".repeat(LETTERS));
        let late = most_out_of_order_s(&apart, 5, true);
        assert!(late > 0.1, "{late}");
        assert!(late <= predicted_s(5, true));
    }

    /// A synthetic line: `alternations` changes of letter, `seconds` long,
    /// a letter `most` seconds out of the pauses' order.
    fn line(
        model: Contender,
        letters: [usize; 2],
        alternations: usize,
        seconds: f64,
        most: f64,
    ) -> Line {
        Line {
            model,
            line: String::new(),
            letters,
            alternations,
            longest_streak: 3,
            groups_out_of_order: usize::from(most > 0.0),
            most_out_of_order_s: most,
            seconds,
        }
    }

    fn judge(lines: [(usize, usize, f64, f64); 2]) -> Vec<Verdict> {
        verdicts(&Evidence {
            seed: 1,
            letters_per_worker: LETTERS,
            pauses_s: [Vec::new(), Vec::new()],
            predicted: String::new(),
            predicted_groups: 39,
            predicted_s: 0.5,
            lines: [Contender::Thread, Contender::Process]
                .into_iter()
                .zip(lines)
                .map(|(model, (letters, alternations, seconds, most))| {
                    line(model, [LETTERS, letters], alternations, seconds, most)
                })
                .collect(),
        })
    }

    fn outcomes(verdicts: &[Verdict]) -> Vec<Outcome> {
        verdicts.iter().map(|v| v.outcome).collect()
    }

    #[test]
    fn lines_in_the_pauses_order_hold() {
        let exact = judge([(LETTERS, 28, 0.52, 0.0), (LETTERS, 27, 0.53, 0.0)]);
        assert_eq!(
            outcomes(&exact),
            [Outcome::Holds, Outcome::Holds],
            "{exact:?}"
        );
        let close = judge([(LETTERS, 28, 0.52, 0.001), (LETTERS, 27, 0.53, 0.0)]);
        assert_eq!(
            outcomes(&close),
            [Outcome::Holds, Outcome::Holds],
            "{close:?}"
        );
        assert!(close[1].text.contains("at most 1.0 ms apart"), "{close:?}");
    }

    #[test]
    fn a_worker_far_behind_its_pauses_leaves_the_order_inconclusive() {
        let late = judge([(LETTERS, 28, 0.52, 0.0), (LETTERS, 25, 0.6, 0.0065)]);
        assert_eq!(
            outcomes(&late),
            [Outcome::Holds, Outcome::Inconclusive],
            "{late:?}"
        );
        assert!(late[1].text.contains("due 6.5 ms later"), "{late:?}");
    }

    #[test]
    fn missing_letters_are_inconclusive() {
        let lost = judge([(LETTERS, 28, 0.52, 0.0), (LETTERS - 3, 25, 0.5, 0.0)]);
        assert_eq!(outcomes(&lost), [Outcome::Inconclusive], "{lost:?}");
        assert!(lost[0].text.contains("delivered 20 and 17"), "{lost:?}");
    }

    #[test]
    fn workers_that_never_overlapped_are_a_result_only_on_time() {
        let apart = judge([(LETTERS, 1, 0.55, 0.3), (LETTERS, 27, 0.55, 0.0)]);
        assert_eq!(outcomes(&apart), [Outcome::DoesNotHold], "{apart:?}");
        // The same line from a machine that held the workers back: it
        // says nothing of threads.
        let held = judge([(LETTERS, 1, 1.2, 0.3), (LETTERS, 27, 0.55, 0.0)]);
        assert_eq!(outcomes(&held), [Outcome::Inconclusive], "{held:?}");
        assert!(
            held[0]
                .text
                .contains("took 1.20 s where their pauses add up to"),
            "{held:?}"
        );
    }
}
