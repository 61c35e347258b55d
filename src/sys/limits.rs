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
        _ => "no known OS limit matches this error".to_string(),
    }
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
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let path = own
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .map(|group| format!("/sys/fs/cgroup{}/pids.max", group.trim_end_matches('/')));
    match path.and_then(|p| std::fs::read_to_string(p).ok()) {
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
    fn this_users_threads_are_counted() {
        let (mine, all) = count_tasks(nix::unistd::getuid().as_raw());
        assert!(mine >= 1 && all >= mine, "{mine} of {all}");
    }
}
