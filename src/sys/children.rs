//! Child programs that cannot be forgotten: each started in its own process
//! group, with default signals and an empty mask, killed by the kernel if
//! paralab dies (see [`super::fork::start_as_worker`]), registered so that
//! a stop signal reaches it, and killed with its whole group and reaped
//! when dropped, whichever way the code that started it returns.

use std::io::{self, Read};
use std::os::fd::AsFd;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use super::fork::start_as_worker;
use super::signals::WorkerGroup;
use super::wait::wait_exited;

/// How long the output of a child that has exited is still read, once its
/// group is killed: what a descendant that left the group still holds
/// open is not waited for longer.
const DRAIN: Duration = Duration::from_secs(1);

/// How often a child whose output is read is checked for its exit.
const EXIT_CHECK: Duration = Duration::from_millis(50);

/// One child program leading its own registered process group; killed with
/// its group and reaped when dropped, unless it was waited for.
pub(crate) struct GroupChild {
    child: Child,
    /// Registered until the child is waited for.
    group: Option<WorkerGroup>,
}

impl GroupChild {
    /// Starts `command` as every child of paralab starts (a process group
    /// of its own, death with paralab, default signals, empty mask; see
    /// [`start_as_worker`]) and registers its group.
    pub(crate) fn spawn(command: &mut Command) -> io::Result<GroupChild> {
        let child = start_as_worker(command).spawn()?;
        let group = WorkerGroup::register(Pid::from_raw(child.id() as i32));
        Ok(GroupChild {
            child,
            group: Some(group),
        })
    }

    /// Starts `command`, its standard output and error collected, and
    /// waits for it: [`Command::output`] in a group of its own.
    pub(crate) fn output(command: &mut Command) -> io::Result<Output> {
        GroupChild::spawn(command.stdout(Stdio::piped()).stderr(Stdio::piped()))?.wait_with_output()
    }

    /// The child's pid, which is also its process group's id.
    pub(crate) fn id(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// The child, for its piped standard streams.
    pub(crate) fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Closes the child's standard input (if piped), waits for the child to
    /// end, kills what it left in its group, and reaps it.
    pub(crate) fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.child.stdin.take());
        if self.group.is_some() {
            wait_exited(self.id());
        }
        self.reap()
    }

    /// Closes its standard input, reads its standard output and error until
    /// the child has exited and its group is killed (a descendant that
    /// holds them open, in the background, does not make this wait for
    /// it), then waits for it as [`GroupChild::wait`] does.
    pub(crate) fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.child.stdin.take());
        let (stdout, stderr) = {
            let pid = self.id();
            let group = &self.group;
            let mut ended = || {
                let exited = has_exited(pid);
                if exited && let Some(group) = group {
                    // Not reaped yet: the group id is still this child's.
                    group.signal(Signal::SIGKILL);
                }
                exited
            };
            read_both(
                self.child.stdout.take(),
                self.child.stderr.take(),
                &mut ended,
            )?
        };
        let status = self.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// The child has exited (not yet reaped, so its pid and group id are
    /// still reserved): kill whatever it left in its group, unregister the
    /// group, then reap it.
    fn reap(&mut self) -> io::Result<ExitStatus> {
        if let Some(group) = self.group.take() {
            group.signal(Signal::SIGKILL);
        }
        self.child.wait()
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        if let Some(group) = &self.group {
            group.signal(Signal::SIGKILL);
            // Should it have left its group, the child itself still dies.
            let _ = self.child.kill();
            drop(self.child.stdin.take());
            wait_exited(self.id());
            let _ = self.reap();
        }
    }
}

/// Whether `child` has exited, without reaping it.
fn has_exited(child: Pid) -> bool {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
    loop {
        match waitid(Id::Pid(child), flags) {
            Err(Errno::EINTR) => continue,
            Ok(WaitStatus::StillAlive) => return false,
            // Exited, or not a child to wait for at all.
            _ => return true,
        }
    }
}

/// Reads both streams at once (whichever has data), so that a child
/// filling one pipe never waits for the other to be read, to their ends
/// or until [`DRAIN`] after `ended` (asked every [`EXIT_CHECK`]) says the
/// writer has ended.
fn read_both(
    mut stdout: Option<ChildStdout>,
    mut stderr: Option<ChildStderr>,
    ended: &mut dyn FnMut() -> bool,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut drain_until: Option<Instant> = None;
    while stdout.is_some() || stderr.is_some() {
        let timeout = match drain_until {
            None => EXIT_CHECK,
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                left.min(EXIT_CHECK)
            }
        };
        let (out_ready, err_ready) = {
            let mut fds: Vec<PollFd<'_>> = [
                stdout.as_ref().map(|s| s.as_fd()),
                stderr.as_ref().map(|s| s.as_fd()),
            ]
            .into_iter()
            .flatten()
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
            let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, timeout) {
                Ok(0) => {
                    if drain_until.is_none() && ended() {
                        drain_until = Some(Instant::now() + DRAIN);
                    }
                    continue;
                }
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(errno.into()),
            }
            let mut ready = fds
                .iter()
                .map(|fd| fd.revents().is_some_and(|events| !events.is_empty()));
            let out_ready = stdout.is_some() && ready.next() == Some(true);
            let err_ready = stderr.is_some() && ready.next() == Some(true);
            (out_ready, err_ready)
        };
        if out_ready {
            read_some(&mut stdout, &mut out)?;
        }
        if err_ready {
            read_some(&mut stderr, &mut err)?;
        }
    }
    Ok((out, err))
}

/// One read from a stream `poll` found ready (so it does not block);
/// at its end, the stream is closed.
fn read_some(stream: &mut Option<impl Read>, into: &mut Vec<u8>) -> io::Result<()> {
    let Some(reader) = stream else {
        return Ok(());
    };
    let mut chunk = [0u8; 8192];
    match reader.read(&mut chunk) {
        Ok(0) => *stream = None,
        Ok(read) => into.extend_from_slice(&chunk[..read]),
        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
        Err(error) => return Err(error),
    }
    Ok(())
}

/// Children started together ([`GroupChild`]ren): whatever is still running
/// when the set is dropped is killed with its group and reaped.
#[derive(Default)]
pub(crate) struct ChildSet {
    children: Vec<GroupChild>,
}

impl ChildSet {
    /// An empty set.
    pub(crate) fn new() -> ChildSet {
        ChildSet::default()
    }

    /// Starts `command` as the next child of the set.
    pub(crate) fn spawn(&mut self, command: &mut Command) -> io::Result<&mut GroupChild> {
        self.children.push(GroupChild::spawn(command)?);
        Ok(self.children.last_mut().expect("just pushed"))
    }

    /// Waits for every child, in the order they were started.
    pub(crate) fn wait_all(&mut self) -> Vec<io::Result<ExitStatus>> {
        self.children.iter_mut().map(GroupChild::wait).collect()
    }

    /// Collects every child's output and waits for it, in the order they
    /// were started.
    pub(crate) fn outputs(self) -> Vec<io::Result<Output>> {
        self.children
            .into_iter()
            .map(GroupChild::wait_with_output)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::sys::procfs;

    fn sleeper() -> Command {
        let mut command = Command::new("sleep");
        command.arg("30");
        command
    }

    #[test]
    fn dropped_children_are_killed_and_reaped() {
        let start = Instant::now();
        let mut set = ChildSet::new();
        let pids: Vec<u32> = (0..3)
            .map(|_| set.spawn(&mut sleeper()).unwrap().id().as_raw() as u32)
            .collect();
        drop(set);
        let mine = procfs::children_of(std::process::id());
        assert!(
            pids.iter().all(|pid| !mine.contains(pid)),
            "{pids:?} in {mine:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_child_leads_its_own_group() {
        let child = GroupChild::spawn(&mut sleeper()).unwrap();
        let group = nix::unistd::getpgid(Some(child.id())).unwrap();
        assert_eq!(group, child.id());
    }

    #[test]
    fn waited_children_give_their_status_and_output() {
        let mut set = ChildSet::new();
        set.spawn(Command::new("sh").args(["-c", "exit 3"]))
            .unwrap();
        set.spawn(&mut Command::new("true")).unwrap();
        let statuses: Vec<Option<i32>> = set
            .wait_all()
            .into_iter()
            .map(|s| s.unwrap().code())
            .collect();
        assert_eq!(statuses, [Some(3), Some(0)]);

        let output =
            GroupChild::output(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 4"]))
                .unwrap();
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        assert_eq!(output.status.code(), Some(4));
    }

    #[test]
    fn a_full_pipe_on_one_stream_does_not_block_the_other() {
        let script = "head -c 200000 /dev/zero >&2; head -c 300000 /dev/zero";
        let output = GroupChild::output(Command::new("sh").args(["-c", script])).unwrap();
        assert_eq!(
            (output.stdout.len(), output.stderr.len()),
            (300_000, 200_000)
        );
    }

    #[test]
    fn a_background_descendant_holding_the_output_does_not_hold_the_wait() {
        let start = Instant::now();
        let output =
            GroupChild::output(Command::new("sh").args(["-c", "sleep 30 & echo $!; echo done"]))
                .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.ends_with("done\n"), "{stdout}");
        assert!(output.status.success());
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        let sleep: i32 = stdout.lines().next().unwrap().parse().unwrap();
        // Killed with the group; reaped by init or a subreaper, soon.
        let deadline = Instant::now() + Duration::from_secs(5);
        while procfs::Stat::of(sleep as u32).is_some_and(|s| s.state != 'Z')
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            procfs::Stat::of(sleep as u32).is_none_or(|s| s.state == 'Z'),
            "the background sleep {sleep} survived"
        );
    }

    #[test]
    fn a_child_starts_with_default_signals_and_an_empty_mask() {
        use nix::sys::signal::SigSet;
        // Blocked in this thread, as paralab blocks its stop signals.
        let mut blocked = SigSet::empty();
        blocked.add(Signal::SIGUSR1);
        blocked.add(Signal::SIGWINCH);
        let before = blocked
            .thread_swap_mask(nix::sys::signal::SigmaskHow::SIG_BLOCK)
            .unwrap();
        // grep reads its own status (a shell may block signals for a
        // moment while it forks).
        let output = GroupChild::output(Command::new("grep").args([
            "-E",
            "^Sig(Blk|Ign):",
            "/proc/self/status",
        ]));
        before.thread_set_mask().unwrap();
        let text = String::from_utf8(output.unwrap().stdout).unwrap();
        assert!(text.contains("SigBlk:\t0000000000000000"), "{text}");
        assert!(text.contains("SigIgn:\t0000000000000000"), "{text}");
    }

    #[test]
    fn a_piped_child_sees_the_end_of_its_input_when_waited_for() {
        let mut cat = GroupChild::spawn(
            Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null()),
        )
        .unwrap();
        assert!(cat.child().stdin.is_some());
        assert!(cat.wait().unwrap().success());
    }
}
