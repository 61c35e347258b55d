//! When each thread of another process was running, sampled from
//! `/proc/PID/task/TID/stat` (its state letter: `R` is running or ready
//! to run). Used where a program cannot say it itself: CPython's threads
//! under the GIL, whose waiting for the lock is a sleep (`S`) and whose
//! holding it is a run (`R`), so the samples draw the GIL's turns.
//!
//! The state is read by the one `/proc/PID/stat` parser,
//! [`crate::sys::procfs::Stat`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::measure::clock::MonoTime;
use crate::sys::procfs::{self, Stat};

/// How often the threads are looked at: a fifth of CPython's 5 ms switch
/// interval, so that each turn at the GIL is seen.
pub(crate) const SAMPLE_EVERY: Duration = Duration::from_millis(1);

/// The spans in which each thread was seen running, by thread id, in
/// `CLOCK_MONOTONIC` nanoseconds: a span begins halfway between the last
/// sample that did not see it running and the first that did, and ends
/// halfway between the last that did and the first that did not, so that
/// its length is neither over- nor underestimated on average.
pub(crate) type RunningSpans = BTreeMap<i32, Vec<[u64; 2]>>;

/// A thread that samples the threads of one process until stopped.
pub(crate) struct RunningSampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<RunningSpans>>,
}

impl RunningSampler {
    /// Starts sampling the threads of `pid` every [`SAMPLE_EVERY`]; no
    /// sampler when a thread cannot be started (the run goes on without
    /// the picture).
    pub(crate) fn start(pid: nix::unistd::Pid) -> RunningSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("paralab-running".into())
            .spawn(move || sample(pid.as_raw(), &flag))
            .ok();
        RunningSampler { stop, handle }
    }

    /// Stops sampling and gives what was seen.
    pub(crate) fn stop(mut self) -> RunningSpans {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for RunningSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn sample(pid: i32, stop: &AtomicBool) -> RunningSpans {
    let tasks = format!("/proc/{pid}/task");
    let mut spans = RunningSpans::new();
    let mut open: BTreeMap<i32, u64> = BTreeMap::new();
    let mut last: Option<u64> = None;
    while !stop.load(Ordering::Relaxed) {
        let Ok(entries) = std::fs::read_dir(&tasks) else {
            break; // The process is gone.
        };
        let sampled = MonoTime::now().0;
        let now = last.map_or(sampled, |last| last + (sampled - last) / 2);
        last = Some(sampled);
        let mut seen_running = Vec::new();
        for entry in entries.flatten() {
            let Some(tid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            let path = format!("/proc/{pid}/task/{tid}/stat");
            let state = procfs::read(&path).ok().and_then(|text| Stat::parse(&text));
            if state.is_some_and(|s| s.state == 'R') {
                seen_running.push(tid);
                open.entry(tid).or_insert(now);
            }
        }
        close_unseen(&mut open, &seen_running, now, &mut spans);
        std::thread::sleep(SAMPLE_EVERY);
    }
    close_unseen(&mut open, &[], MonoTime::now().0, &mut spans);
    spans
}

/// Ends the open spans of the threads not seen running at `now`.
fn close_unseen(
    open: &mut BTreeMap<i32, u64>,
    running: &[i32],
    now: u64,
    spans: &mut RunningSpans,
) {
    open.retain(|tid, since| {
        let still = running.contains(tid);
        if !still {
            spans.entry(*tid).or_default().push([*since, now]);
        }
        still
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_thread_is_seen_running_and_a_sleeping_one_is_not() {
        let busy = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let sleeping = std::process::Command::new("sleep")
            .arg("0.3")
            .spawn()
            .unwrap();
        let (busy_sampler, sleep_sampler) = (
            RunningSampler::start(nix::unistd::Pid::from_raw(busy.id() as i32)),
            RunningSampler::start(nix::unistd::Pid::from_raw(sleeping.id() as i32)),
        );
        std::thread::sleep(Duration::from_millis(200));
        let (mut busy, mut sleeping) = (busy, sleeping);
        let (busy_spans, sleep_spans) = (busy_sampler.stop(), sleep_sampler.stop());
        let _ = busy.kill();
        let _ = busy.wait();
        let _ = sleeping.kill();
        let _ = sleeping.wait();
        let total = |spans: &RunningSpans| -> u64 {
            spans.values().flatten().map(|[from, to]| to - from).sum()
        };
        // The loop ran (or was ready to) most of the 200 ms, even on a
        // busy machine; the sleep was seen running for no more than its
        // start.
        assert!(total(&busy_spans) > 50_000_000, "{busy_spans:?}");
        assert!(total(&sleep_spans) < 20_000_000, "{sleep_spans:?}");
    }
}
