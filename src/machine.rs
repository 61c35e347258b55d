//! The machine a run was made on, so that a saved result says where its
//! numbers come from: CPU, cores, memory, kernel, OS, paralab's version and
//! the exact command line.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

/// The logical CPUs this process may run on (the notebook's `cpu_count()`,
/// narrowed by affinity and cgroup quotas where they apply).
pub fn logical_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// This machine's host name (the kernel's, as MPI and Python name it);
/// `None` where `/proc` cannot tell.
pub(crate) fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
}

/// Where and how a run was made. Every field but the core counts may be
/// unknown (`None`) where `/proc` or `/etc/os-release` cannot be read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Machine {
    /// The CPU's model name, from `/proc/cpuinfo`.
    pub cpu_model: Option<String>,
    /// Logical CPUs this process could use (the notebook's `cpu_count()`).
    pub logical_cpus: usize,
    /// Physical cores (distinct (package, core) pairs in `/proc/cpuinfo`).
    pub physical_cores: Option<usize>,
    /// Total memory, in bytes.
    pub memory_bytes: Option<u64>,
    /// The kernel: `Linux 6.1.0-18-amd64`.
    pub kernel: Option<String>,
    /// The distribution: `Debian GNU/Linux 12 (bookworm)`.
    pub os: Option<String>,
    /// The version of paralab that made the run.
    pub paralab_version: String,
    /// The command line, word by word, as it was typed.
    pub command_line: Vec<String>,
    /// The Python interpreter the Python models ran in, when they ran
    /// (absent in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<PythonInfo>,
    /// CPUs that other work kept busy just before the sweep, measured over
    /// half a second while paralab waited (absent in older files, and where
    /// `/proc/stat` cannot be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others_cpus_before: Option<f64>,
    /// The 1-minute load average just before the sweep (`/proc/loadavg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_average_1m: Option<f64>,
    /// How the mpi model launched its ranks, when it ran (absent in older
    /// files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mpi: Option<MpiInfo>,
}

/// The MPI behind the mpi model: the launcher, where the ranks may go and
/// how they talk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct MpiInfo {
    /// The launcher and its version: `/usr/bin/mpirun (Open MPI) 4.1.4`.
    pub(crate) launcher: String,
    /// What `--mpi-args` passed to it.
    pub(crate) args: Vec<String>,
    /// The hosts the ranks may run on: those of `--hostfile`/`--host`, or
    /// this one.
    pub(crate) hosts: Vec<String>,
    /// How ranks exchange messages: Open MPI's `btl` choice.
    pub(crate) transport: String,
}

/// The interpreter behind the Python models, as it describes itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PythonInfo {
    /// Its program (`sys.executable`).
    pub(crate) exe: String,
    /// Its version: `3.13.1`.
    pub(crate) version: String,
    /// Whether its threads share a GIL: false only for a free-threaded
    /// CPython (3.13t and later) running without it
    /// (`sys._is_gil_enabled()`).
    pub(crate) gil_enabled: bool,
}

impl Machine {
    /// The machine this process runs on, with the given command line.
    pub(crate) fn this(command_line: Vec<String>) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        Machine {
            cpu_model: cpu_model(&cpuinfo),
            logical_cpus: logical_cpus(),
            physical_cores: physical_cores(&cpuinfo),
            memory_bytes: memory_bytes(&meminfo),
            kernel: nix::sys::utsname::uname().ok().map(|u| {
                format!(
                    "{} {}",
                    u.sysname().to_string_lossy(),
                    u.release().to_string_lossy()
                )
            }),
            os: os_name(&os_release),
            paralab_version: env!("CARGO_PKG_VERSION").to_string(),
            command_line,
            python: None,
            others_cpus_before: None,
            load_average_1m: None,
            mpi: None,
        }
    }

    /// The machine this process runs on, with this process's command line
    /// (bytes that are not UTF-8, in a path or the program's name, become
    /// U+FFFD: `std::env::args` would panic on them).
    pub(crate) fn current() -> Machine {
        Machine::this(
            std::env::args_os()
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect(),
        )
    }

    /// The command line as one shell-quoted string, for people to copy.
    pub(crate) fn command_line_text(&self) -> String {
        self.command_line
            .iter()
            .map(|word| shell_quote(word))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `name: value` pairs for people, unknown values as `unknown`.
    pub(crate) fn describe(&self) -> Vec<(&'static str, String)> {
        let unknown = || "unknown".to_string();
        vec![
            ("CPU", self.cpu_model.clone().unwrap_or_else(unknown)),
            (
                "cores",
                match self.physical_cores {
                    Some(p) => format!("{} logical, {p} physical", self.logical_cpus),
                    None => format!("{} logical", self.logical_cpus),
                },
            ),
            (
                "memory",
                self.memory_bytes.map_or_else(unknown, |b| {
                    format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
                }),
            ),
            ("kernel", self.kernel.clone().unwrap_or_else(unknown)),
            ("OS", self.os.clone().unwrap_or_else(unknown)),
            ("paralab", self.paralab_version.clone()),
            ("command", self.command_line_text()),
        ]
        .into_iter()
        .chain(self.mpi.as_ref().map(|mpi| {
            (
                "MPI",
                format!(
                    "{}, hosts {}, transport {}",
                    mpi.launcher,
                    mpi.hosts.join(", "),
                    mpi.transport
                ),
            )
        }))
        .collect()
    }
}

fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn cpuinfo_values<'a>(cpuinfo: &'a str, key: &str) -> impl Iterator<Item = &'a str> {
    cpuinfo.lines().filter_map(move |line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

fn cpu_model(cpuinfo: &str) -> Option<String> {
    // x86 says "model name"; some ARM kernels only "Hardware" or "Processor".
    ["model name", "Hardware", "Processor", "cpu model"]
        .iter()
        .find_map(|key| cpuinfo_values(cpuinfo, key).next())
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Distinct (physical id, core id) pairs; `None` when the kernel does not
/// list them (some ARM and virtual machines).
fn physical_cores(cpuinfo: &str) -> Option<usize> {
    let mut cores = HashSet::new();
    for block in cpuinfo.split("\n\n") {
        let package = cpuinfo_values(block, "physical id").next();
        let core = cpuinfo_values(block, "core id").next();
        if let (Some(package), Some(core)) = (package, core) {
            cores.insert((package.to_string(), core.to_string()));
        }
    }
    (!cores.is_empty()).then_some(cores.len())
}

fn memory_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn os_name(os_release: &str) -> Option<String> {
    let value = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))?;
    Some(value.trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPUINFO: &str = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\nphysical id\t: 0\ncore id\t\t: 0\n\n\
processor\t: 1\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\nphysical id\t: 0\ncore id\t\t: 0\n\n\
processor\t: 2\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\nphysical id\t: 0\ncore id\t\t: 1\n";

    #[test]
    fn reads_cpu_model_and_physical_cores() {
        assert_eq!(
            cpu_model(CPUINFO).as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
        assert_eq!(physical_cores(CPUINFO), Some(2));
        assert_eq!(physical_cores("processor\t: 0\n"), None);
    }

    #[test]
    fn reads_memory_and_os() {
        assert_eq!(
            memory_bytes("MemTotal:       24578316 kB\nMemFree: 1 kB\n"),
            Some(24578316 * 1024)
        );
        assert_eq!(
            os_name("NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn this_machine_is_described() {
        let m = Machine::current();
        assert!(m.logical_cpus >= 1);
        assert!(m.memory_bytes.unwrap_or(1) > 0);
        assert_eq!(m.describe().len(), 7);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Machine>(&json).unwrap(), m);
    }

    #[test]
    fn files_without_the_load_before_read_and_write_as_before() {
        let mut m = Machine::this(vec!["paralab".into()]);
        let old = serde_json::to_string(&m).unwrap();
        assert!(!old.contains("others_cpus_before") && !old.contains("load_average_1m"));
        assert_eq!(serde_json::from_str::<Machine>(&old).unwrap(), m);
        m.others_cpus_before = Some(0.25);
        m.load_average_1m = Some(1.5);
        let new = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Machine>(&new).unwrap(), m);
    }

    #[test]
    fn machine_example() {
        let machine = crate::machine::Machine::this(vec!["paralab".into(), "bench".into()]);
        assert!(machine.logical_cpus >= 1);
        assert_eq!(machine.command_line, ["paralab", "bench"]);
    }

    #[test]
    fn command_line_text_example() {
        let mut m = crate::machine::Machine::this(vec![]);
        m.command_line = vec!["paralab".into(), "--html".into(), "my report.html".into()];
        assert_eq!(m.command_line_text(), "paralab --html 'my report.html'");
    }
}
