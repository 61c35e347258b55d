//! Killing the process groups of a run that outlives its deadline.

use std::sync::mpsc;
use std::time::Instant;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Kills the worker groups of a run that outlives its deadline: a thread
/// that sleeps until then, unless the run ends first. No thread at all
/// when the run has no deadline.
pub(crate) struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<bool>>,
}

impl Watchdog {
    /// Watches `groups` (process group ids) until `deadline`, when it
    /// sends each SIGKILL.
    pub(crate) fn start(groups: &[Pid], deadline: Option<Instant>) -> Watchdog {
        let Some(deadline) = deadline else {
            return Watchdog::idle();
        };
        let groups = groups.to_vec();
        let (done, finished) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("paralab-timeout".into())
            .spawn(move || {
                let left = deadline.saturating_duration_since(Instant::now());
                match finished.recv_timeout(left) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        for &group in &groups {
                            let _ = killpg(group, Signal::SIGKILL);
                        }
                        true
                    }
                    _ => false,
                }
            });
        match thread {
            Ok(thread) => Watchdog {
                done: Some(done),
                thread: Some(thread),
            },
            // Without a thread to watch the clock, kill at the deadline
            // is impossible; the run goes on without a limit.
            Err(_) => Watchdog::idle(),
        }
    }

    fn idle() -> Watchdog {
        Watchdog {
            done: None,
            thread: None,
        }
    }

    /// Stops watching; whether the deadline had passed and the groups were killed.
    pub(crate) fn stop(mut self) -> bool {
        drop(self.done.take());
        self.thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn no_deadline_no_kill() {
        assert!(!Watchdog::start(&[], None).stop());
    }

    #[test]
    fn a_passed_deadline_kills_the_group() {
        use std::os::unix::process::CommandExt;
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let group = Pid::from_raw(child.id() as i32);
        let watchdog = Watchdog::start(&[group], Some(Instant::now() + Duration::from_millis(50)));
        let status = child.wait().unwrap();
        assert!(watchdog.stop());
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9)
        );
    }

    #[test]
    fn watchdog_example() {
        use crate::sys::watchdog::Watchdog;
        use std::time::{Duration, Instant};
        let watchdog = Watchdog::start(&[], Some(Instant::now() + Duration::from_secs(60)));
        assert!(
            !watchdog.stop(),
            "stopped before the deadline: nothing was killed"
        );
    }
}
