//! Naming the OS limit behind a refusal, with its current value, so the
//! user knows which knob to turn.

use std::io;

use nix::sys::resource::{Resource, getrlimit};

use super::procfs;

/// One line that names the limits that can cause `error` when starting a
/// worker, with their current values, e.g.
/// `limit hit: RLIMIT_NPROC (ulimit -u) = 4096, kernel.threads-max = 191831, …`.
pub(crate) fn explain(error: &io::Error) -> String {
    match error.raw_os_error() {
        Some(nix::libc::EAGAIN) if let Some(named) = process_limit_hit() => {
            format!("limit hit: {named} (raise it, or run fewer workers)")
        }
        Some(nix::libc::EAGAIN) => format!(
            "limit hit: one of {} (raise it, or run fewer workers)",
            [
                rlimit("RLIMIT_NPROC (ulimit -u)", Resource::RLIMIT_NPROC),
                proc_value("kernel.threads-max", "/proc/sys/kernel/threads-max"),
                proc_value("kernel.pid_max", "/proc/sys/kernel/pid_max"),
                cgroup_pids_max(),
                // glibc reports a thread stack that cannot be mapped as EAGAIN too.
                rlimit(
                    "RLIMIT_AS (ulimit -v, for thread stacks)",
                    Resource::RLIMIT_AS
                ),
                proc_value("vm.max_map_count", "/proc/sys/vm/max_map_count"),
            ]
            .join(", ")
        ),
        Some(nix::libc::ENOMEM) => format!(
            "limit hit: memory ({}, {}; run fewer workers)",
            rlimit("RLIMIT_AS (ulimit -v)", Resource::RLIMIT_AS),
            proc_value("vm.max_map_count", "/proc/sys/vm/max_map_count"),
        ),
        Some(nix::libc::EMFILE) => format!(
            "limit hit: {} (raise it with ulimit -n)",
            rlimit("RLIMIT_NOFILE", Resource::RLIMIT_NOFILE)
        ),
        Some(nix::libc::ENFILE) => format!(
            "limit hit: the system's open files, {}",
            proc_value("fs.file-max", "/proc/sys/fs/file-max")
        ),
        Some(nix::libc::EFBIG) => format!(
            "limit hit: {} (raise it with ulimit -f, or write a smaller file)",
            file_size_limit()
        ),
        _ => "no known OS limit matches this error".to_string(),
    }
}

/// `RLIMIT_FSIZE (ulimit -f) = 4096 bytes`: the largest file this
/// process may write, which a write beyond fails with `EFBIG` (paralab
/// ignores SIGXFSZ, see [`ignore_file_size_signal`]).
pub(crate) fn file_size_limit() -> String {
    match getrlimit(Resource::RLIMIT_FSIZE) {
        Ok((soft, _)) if soft == nix::libc::RLIM_INFINITY => {
            "RLIMIT_FSIZE (ulimit -f) = unlimited".to_string()
        }
        Ok((soft, _)) => format!("RLIMIT_FSIZE (ulimit -f) = {soft} bytes"),
        Err(_) => "RLIMIT_FSIZE (ulimit -f) = unknown".to_string(),
    }
}

/// The limit a failed write ran into, when it is one: RLIMIT_FSIZE and
/// its value for `EFBIG` (a file that outgrew `ulimit -f`), e.g.
/// `limit hit: RLIMIT_FSIZE (ulimit -f) = 4096 bytes (raise it …)`;
/// `None` for any other error.
// For cli/error.rs, whose owner appends it to CliError::Write.
#[allow(dead_code)]
pub(crate) fn write_limit(error: &io::Error) -> Option<String> {
    (error.raw_os_error() == Some(nix::libc::EFBIG)).then(|| explain(error))
}

/// Ignores SIGXFSZ in paralab, so that a write past RLIMIT_FSIZE fails
/// with `EFBIG` (and is reported, naming the limit) instead of killing
/// paralab with a core dump and losing what finished. Children start
/// with every signal at its default (see [`super::fork::default_signals`]).
pub(crate) fn ignore_file_size_signal() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_IGN runs no code in the process, so no handler can
    // break async-signal-safety; nothing else in paralab handles SIGXFSZ.
    let _ = unsafe { signal(Signal::SIGXFSZ, SigHandler::SigIgn) };
}

/// The stack paralab's code needs: argument parsing and reports go deeper
/// than 256 KiB in a debug build.
const STACK_NEEDED: u64 = 8 << 20;

/// Runs `body` with at least [`STACK_NEEDED`] of stack: on this thread if
/// RLIMIT_STACK (`ulimit -s`, the main thread's stack) allows it, else on
/// a thread of that stack size, whose stack is mapped whatever
/// RLIMIT_STACK says, so a small `ulimit -s` cannot end paralab with a
/// stack overflow. That thread starts with this thread's signal mask; this
/// one blocks the stop signals (see [`super::signals`]) while it waits,
/// so that a signal is never delivered to it and acted on by default. If
/// the OS refuses the thread, `body` runs here.
pub(crate) fn with_enough_stack<T: Send>(body: impl FnOnce() -> T + Send) -> T {
    let enough = match getrlimit(Resource::RLIMIT_STACK) {
        Ok((soft, _)) => soft == nix::libc::RLIM_INFINITY || soft >= STACK_NEEDED,
        Err(_) => true,
    };
    if enough {
        return body();
    }
    use nix::sys::signal::{SigmaskHow, pthread_sigmask};
    let mut own_mask = nix::sys::signal::SigSet::empty();
    if pthread_sigmask(
        SigmaskHow::SIG_BLOCK,
        Some(&super::signals::stop_signals()),
        Some(&mut own_mask),
    )
    .is_err()
    {
        return body();
    }
    let mut body = Some(body);
    let ran = std::thread::scope(|scope| {
        let body = &mut body;
        let started = std::thread::Builder::new()
            .name("main".into())
            .stack_size(STACK_NEEDED as usize)
            .spawn_scoped(scope, move || {
                let _ = own_mask.thread_set_mask();
                body.take().map(|body| body())
            });
        started.ok().map(|thread| thread.join())
    });
    let _ = own_mask.thread_set_mask();
    match ran {
        Some(Ok(Some(value))) => value,
        // A panic on that thread goes on here, as it would have.
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        _ => (body.take().expect("the body runs once"))(),
    }
}

/// Memory maps one more Rust thread adds to its process: its stack and
/// the guard page below it, and the alternative signal stack the standard
/// library gives every thread, with its own guard page (1,000 threads
/// added 4,018 maps, measured).
const MAPS_PER_THREAD: u64 = 4;

/// Maps kept spare beside the threads' own: glibc's malloc gives threads
/// up to 8 arenas per CPU, of two maps each, and the run allocates too.
fn spare_maps() -> u64 {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    64 + 16 * cpus
}

/// Address space one more Rust thread reserves: its stack (the standard
/// library's 2 MiB unless `RUST_MIN_STACK` says otherwise), guard pages
/// and the alternative signal stack.
fn address_space_per_thread() -> u64 {
    let stack = std::env::var("RUST_MIN_STACK")
        .ok()
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(2 << 20);
    stack + (64 << 10)
}

/// Checks that `count` more threads fit in this process's limits now,
/// before any starts. Two of them abort a Rust program instead of failing
/// the thread's start, when a new thread cannot map its alternative signal
/// stack: `vm.max_map_count` ("failed to set up alternative stack guard
/// page") and RLIMIT_AS; the others (RLIMIT_NPROC, `kernel.threads-max`,
/// `kernel.pid_max`, the cgroup's `pids.max`) would refuse a thread part
/// way, after thousands started. The error is one line naming the
/// tightest limit, its value, and how many threads fit.
pub(crate) fn room_for_threads(count: usize) -> Result<(), String> {
    let count = count as u64;
    let mut rooms: Vec<(u64, String)> = Vec::new();
    if let (Some(max_maps), Ok(maps)) = (
        read_number("/proc/sys/vm/max_map_count"),
        std::fs::read_to_string("/proc/self/maps"),
    ) {
        let maps = maps.lines().count() as u64;
        rooms.push((
            max_maps.saturating_sub(maps + spare_maps()) / MAPS_PER_THREAD,
            format!(
                "vm.max_map_count = {max_maps}: this process has {maps} memory maps and each thread adds {MAPS_PER_THREAD}"
            ),
        ));
    }
    if let Ok((soft, _)) = getrlimit(Resource::RLIMIT_AS)
        && soft != nix::libc::RLIM_INFINITY
        && let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Ok(size_kib) = procfs::field(&status, "VmSize:")
    {
        let per_thread = address_space_per_thread();
        rooms.push((
            soft.saturating_sub(size_kib * 1024) / per_thread,
            format!(
                "RLIMIT_AS (ulimit -v) = {} KiB: this process uses {size_kib} KiB and each thread reserves about {} KiB",
                soft / 1024,
                per_thread / 1024
            ),
        ));
    }
    if count < TASK_SCAN_FROM {
        return tightest(rooms, count);
    }
    let uid = nix::unistd::getuid();
    let (mine, all) = count_tasks(uid.as_raw());
    if let Ok((soft, _)) = getrlimit(Resource::RLIMIT_NPROC)
        && !uid.is_root()
        && soft != nix::libc::RLIM_INFINITY
    {
        rooms.push((
            soft.saturating_sub(mine),
            format!(
                "RLIMIT_NPROC (ulimit -u) = {soft}: user {} already runs {mine} threads and processes",
                uid.as_raw()
            ),
        ));
    }
    for (name, path) in [
        ("kernel.threads-max", "/proc/sys/kernel/threads-max"),
        ("kernel.pid_max", "/proc/sys/kernel/pid_max"),
    ] {
        if let Some(max) = read_number(path) {
            rooms.push((
                max.saturating_sub(all),
                format!("{name} = {max}: the system already runs {all} threads and processes"),
            ));
        }
    }
    if let Some((max, current)) = cgroup_pids() {
        rooms.push((
            max.saturating_sub(current),
            format!("cgroup pids.max = {max}: the cgroup already runs {current}"),
        ));
    }
    tightest(rooms, count)
}

/// From how many threads [`room_for_threads`] counts the tasks of the
/// whole system (a scan of `/proc`, a few milliseconds, inside the timed
/// run): fewer that do not fit are refused one by one with `EAGAIN`,
/// which [`explain`] names, and cost nothing in the meantime.
const TASK_SCAN_FROM: u64 = 64;

/// The error naming the smallest of `rooms` (room, why), if `count` does
/// not fit in it.
fn tightest(rooms: Vec<(u64, String)>, count: u64) -> Result<(), String> {
    match rooms.into_iter().min_by_key(|(room, _)| *room) {
        Some((room, why)) if room < count => Err(format!(
            "limit hit: {why}, so {room} more threads can start, not {count} (raise it, or run fewer workers)"
        )),
        _ => Ok(()),
    }
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The cgroup (v2) `pids.max` of this process and its `pids.current`,
/// when it has a number (not `max`).
fn cgroup_pids() -> Option<(u64, u64)> {
    let dir = cgroup_dir()?;
    Some((
        read_number(&format!("{dir}/pids.max"))?,
        read_number(&format!("{dir}/pids.current"))?,
    ))
}

fn cgroup_dir() -> Option<String> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    own.lines()
        .find_map(|line| line.strip_prefix("0::"))
        .map(|group| format!("/sys/fs/cgroup{}", group.trim().trim_end_matches('/')))
}

/// Whether starting a worker failed on an OS limit (processes, memory,
/// open files) rather than on the program itself.
pub(crate) fn is_os_limit(cause: &io::Error) -> bool {
    matches!(
        cause.raw_os_error(),
        Some(nix::libc::EAGAIN | nix::libc::ENOMEM | nix::libc::EMFILE | nix::libc::ENFILE)
    )
}

/// Which process limit was reached, when the counts show it: the threads
/// and processes of this user against `RLIMIT_NPROC` (which does not apply
/// to root), all threads against `kernel.threads-max`. Called right after
/// the refusal, while the workers already started are still alive.
fn process_limit_hit() -> Option<String> {
    let uid = nix::unistd::getuid();
    let (mine, all) = count_tasks(uid.as_raw());
    if let Ok((soft, _)) = getrlimit(Resource::RLIMIT_NPROC)
        && !uid.is_root()
        && soft != nix::libc::RLIM_INFINITY
        && mine + 1 >= soft
    {
        return Some(format!(
            "RLIMIT_NPROC (ulimit -u) = {soft}: user {} already runs {mine} threads and processes",
            uid.as_raw()
        ));
    }
    let threads_max: u64 = std::fs::read_to_string("/proc/sys/kernel/threads-max")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (all + 1 >= threads_max).then(|| {
        format!("kernel.threads-max = {threads_max}: the system already runs {all} threads")
    })
}

/// Threads of user `uid`, and of everyone, from `/proc/*/status`.
fn count_tasks(uid: u32) -> (u64, u64) {
    let mut mine = 0;
    let mut all = 0;
    for pid in procfs::pids() {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let threads = procfs::field(&status, "Threads:").unwrap_or(0);
        all += threads;
        if procfs::field(&status, "Uid:").ok() == Some(u64::from(uid)) {
            mine += threads;
        }
    }
    (mine, all)
}

fn rlimit(name: &str, resource: Resource) -> String {
    match getrlimit(resource) {
        Ok((soft, _hard)) if soft == nix::libc::RLIM_INFINITY => format!("{name} = unlimited"),
        Ok((soft, _hard)) => format!("{name} = {soft}"),
        Err(_) => format!("{name} = unknown"),
    }
}

fn proc_value(name: &str, path: &str) -> String {
    match std::fs::read_to_string(path) {
        Ok(value) => format!("{name} = {}", value.trim()),
        Err(_) => format!("{name} = unknown"),
    }
}

/// The `pids.max` of this process's cgroup (v2), where containers put
/// their process limit.
fn cgroup_pids_max() -> String {
    match cgroup_dir().and_then(|dir| std::fs::read_to_string(format!("{dir}/pids.max")).ok()) {
        Some(value) => format!("cgroup pids.max = {}", value.trim()),
        None => "cgroup pids.max = none".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eagain_names_the_process_limits_with_values() {
        let line = explain(&io::Error::from_raw_os_error(nix::libc::EAGAIN));
        assert!(line.contains("RLIMIT_NPROC"), "{line}");
        assert!(line.contains("kernel.threads-max = "), "{line}");
        assert!(line.contains("kernel.pid_max = "), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn emfile_names_the_open_file_limit() {
        let line = explain(&io::Error::from_raw_os_error(nix::libc::EMFILE));
        assert!(line.contains("RLIMIT_NOFILE = "), "{line}");
    }

    #[test]
    fn os_limits_are_told_from_other_errors() {
        assert!(is_os_limit(&io::Error::from_raw_os_error(
            nix::libc::EAGAIN
        )));
        assert!(is_os_limit(&io::Error::from_raw_os_error(
            nix::libc::ENFILE
        )));
        assert!(!is_os_limit(&io::Error::from_raw_os_error(
            nix::libc::ENOENT
        )));
    }

    #[test]
    fn efbig_names_the_file_size_limit() {
        let line = write_limit(&io::Error::from_raw_os_error(nix::libc::EFBIG)).unwrap();
        assert!(line.contains("RLIMIT_FSIZE (ulimit -f) = "), "{line}");
        assert_eq!(
            write_limit(&io::Error::from_raw_os_error(nix::libc::ENOSPC)),
            None
        );
    }

    #[test]
    fn a_few_threads_fit_and_ten_million_do_not() {
        room_for_threads(4).unwrap();
        let line = room_for_threads(10_000_000).unwrap_err();
        assert!(line.starts_with("limit hit: "), "{line}");
        assert!(
            line.contains(" = ") && line.contains("not 10000000"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn this_users_threads_are_counted() {
        let (mine, all) = count_tasks(nix::unistd::getuid().as_raw());
        assert!(mine >= 1 && all >= mine, "{mine} of {all}");
    }
}
