//! `py-dask`: the notebook's work as N tasks of Dask distributed, on a
//! LocalCluster of N single-threaded worker processes, or on the workers
//! of an existing scheduler (`--dask-scheduler tcp://HOST:PORT`), which
//! may be on other machines. The driver's `run_dask` does the work; this
//! file holds what paralab knows of Dask: the scheduler chosen, whether
//! an interpreter can import it, and what its start-up was.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde::Deserialize;

use super::{PROBE_LIMIT, Python, PythonError};
use crate::model::process::run_in_group;

/// The pip package py-dask needs.
pub(crate) const PACKAGE: &str = "dask[distributed]";

/// What the driver is told when no scheduler is given: start a LocalCluster.
const LOCAL: &str = "local";

/// The scheduler `--dask-scheduler` named, set once before any run (as
/// MPI's launcher is): the runners' signatures need not carry it.
static SCHEDULER: OnceLock<Option<String>> = OnceLock::new();

/// Sets the scheduler for this process's runs (`None`: a LocalCluster);
/// the first call wins.
pub(crate) fn choose(scheduler: Option<String>) {
    let _ = SCHEDULER.set(scheduler);
}

/// The scheduler chosen, if any.
pub(crate) fn scheduler() -> Option<&'static str> {
    SCHEDULER.get().and_then(|s| s.as_deref())
}

/// What the driver is given as py-dask's "start method": the scheduler's
/// address, or `local`.
pub(super) fn driver_arg() -> &'static str {
    scheduler().unwrap_or(LOCAL)
}

/// `--dask-scheduler`: `tcp://HOST:PORT` (or `tls://`), as Dask names a
/// scheduler; anything else is refused with what is accepted.
pub(crate) fn parse_scheduler(text: &str) -> Result<String, String> {
    let refuse = || {
        format!(
            "--dask-scheduler '{text}' is not a scheduler address; give tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786) or tls://HOST:PORT"
        )
    };
    let rest = ["tcp://", "tls://"]
        .iter()
        .find_map(|scheme| text.strip_prefix(scheme))
        .ok_or_else(refuse)?;
    let (host, port) = rest.rsplit_once(':').ok_or_else(refuse)?;
    let port_ok = port.parse::<u16>().is_ok_and(|p| p > 0);
    let host_ok = !host.is_empty() && !host.contains(['/', ' ']);
    if port_ok && host_ok {
        Ok(text.to_string())
    } else {
        Err(refuse())
    }
}

/// What the start-up before the timing was, for the stderr line.
pub(super) fn startup(workers: usize) -> String {
    match scheduler() {
        Some(address) => format!("connecting a client to the Dask scheduler at {address}"),
        None => format!(
            "starting a Dask LocalCluster of {} with one thread each",
            crate::fmt::count(workers, "worker process")
        ),
    }
}

/// The cluster a run's tasks went to, as its scheduler described it when
/// the client connected.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq)]
pub(crate) struct Cluster {
    /// Its worker processes.
    pub workers: usize,
    /// Their threads, together: how many tasks run at once.
    pub threads: usize,
    /// The machines they are on.
    pub hosts: usize,
    /// Tasks timed by another machine's clock, whose start and end the
    /// driver left out.
    #[serde(default)]
    pub elsewhere: usize,
}

/// The cluster the last run saw, for the summary's note.
static SEEN: Mutex<Option<Cluster>> = Mutex::new(None);

/// Records the cluster a run of `tasks` tasks went to; says on stderr what
/// an existing cluster is, when it is first seen or has changed.
pub(super) fn saw(cluster: &Cluster, tasks: usize, model: &str) {
    let before = SEEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .replace(*cluster);
    let Some(address) = scheduler() else { return };
    if before.is_none_or(|b| {
        (b.workers, b.threads, b.hosts) != (cluster.workers, cluster.threads, cluster.hosts)
    }) {
        eprintln!(
            "paralab: {model}: the scheduler at {address} has {} ({}) on {}: each run's tasks went where it placed them",
            crate::fmt::count(cluster.workers, "worker"),
            crate::fmt::count(cluster.threads, "thread"),
            crate::fmt::count(cluster.hosts, "host"),
        );
    }
    if cluster.elsewhere > 0 {
        eprintln!(
            "paralab: {model}: {} of the {tasks} tasks ran on other machines: their start and end are left out, as their clocks are not this one's; the wall time is this machine's",
            cluster.elsewhere
        );
    }
}

/// The summary's note for py-dask.
pub(super) fn note() -> String {
    let seen = *SEEN.lock().unwrap_or_else(|e| e.into_inner());
    match (scheduler(), seen) {
        (Some(address), Some(c)) => format!(
            " [Dask tasks on the {} ({}, {}) of the scheduler at {address}, wherever it placed them; connecting is on stderr]",
            crate::fmt::count(c.workers, "worker"),
            crate::fmt::count(c.threads, "thread"),
            crate::fmt::count(c.hosts, "host"),
        ),
        (Some(address), None) => format!(
            " [Dask tasks on the workers of the scheduler at {address}, wherever it placed them; connecting is on stderr]"
        ),
        (None, _) => " [Dask tasks on a LocalCluster of single-threaded worker processes; starting it is on stderr, not in the wall time]".into(),
    }
}

/// Whether each interpreter (by the path the user gave) can import
/// `dask.distributed`: asked once per interpreter, as importing it takes
/// a second.
static IMPORTABLE: Mutex<Option<HashMap<PathBuf, bool>>> = Mutex::new(None);

/// Why `python` cannot run py-dask: `dask.distributed` cannot be imported
/// in it (paralab never installs it). `None`: it can.
pub(super) fn missing(python: &Python, model: &str) -> Option<PythonError> {
    let mut known = IMPORTABLE.lock().unwrap_or_else(|e| e.into_inner());
    let importable = *known
        .get_or_insert_with(HashMap::new)
        .entry(python.exe.clone())
        .or_insert_with(|| imports_dask(python));
    (!importable).then(|| PythonError::MissingLibrary {
        model: model.to_string(),
        package: PACKAGE,
        exe: python.exe.display().to_string(),
    })
}

/// Asks the interpreter to import `dask.distributed`, in a process group of
/// its own bounded by [`PROBE_LIMIT`]; one that cannot say yes cannot run it.
fn imports_dask(python: &Python) -> bool {
    let mut probe = Command::new(&python.exe);
    probe
        .args(["-c", "import dask.distributed"])
        .current_dir("/");
    let stop = crate::sys::signals::stop_token();
    run_in_group(&mut probe, Some(PROBE_LIMIT), &stop)
        .is_ok_and(|ran| !ran.timed_out && ran.output.status.success())
}

/// An argument of a shell command line, quoted when a shell would expand
/// it (`"dask[distributed]"`): what the user can paste as it is.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.=/:+@".contains(c);
    if word.chars().all(plain) {
        word.to_string()
    } else {
        format!("\"{word}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduler_is_a_tcp_address() {
        assert_eq!(
            parse_scheduler("tcp://127.0.0.1:8786").as_deref(),
            Ok("tcp://127.0.0.1:8786")
        );
        assert!(parse_scheduler("tls://node7.example:8786").is_ok());
        for bad in [
            "127.0.0.1:8786",
            "tcp://127.0.0.1",
            "tcp://:8786",
            "tcp://h:0",
            "tcp://h:99999",
            "http://h:1",
        ] {
            let error = parse_scheduler(bad).unwrap_err();
            assert!(
                error.contains(bad) && error.contains("tcp://HOST:PORT"),
                "{error}"
            );
        }
    }

    #[test]
    fn pip_arguments_are_quoted_where_a_shell_would_expand_them() {
        assert_eq!(shell_word("dask[distributed]"), "\"dask[distributed]\"");
        assert_eq!(shell_word("interpreters-pep-734"), "interpreters-pep-734");
    }
}
