//! The `mpirun` command line paralab runs for the `mpi` model, and the
//! options of the command line that shape it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::RANK_ARG;
use crate::machine::MpiInfo;
use crate::model::process::worker::spawn_args;
use crate::workload::Workload;

/// How to launch ranks: `--mpirun PATH` and `--mpi-args '...'`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Launcher {
    /// The launcher program; `None`: `mpirun` on the PATH.
    pub mpirun: Option<PathBuf>,
    /// Passed to it as they are, before the program: `--hostfile hosts`,
    /// `--mca btl self,tcp`.
    pub args: Vec<String>,
    /// A launcher started paralab (`mpirun -n 4 paralab …`): the runs use
    /// the ranks of that job, named by the variable that said so.
    pub in_job: Option<String>,
}

/// The launcher the command line chose, set once before a sweep (the
/// models' runners take no options of their own).
static CHOSEN: OnceLock<Launcher> = OnceLock::new();

/// Sets the launcher for this process's runs; the first call wins.
pub(crate) fn choose(launcher: Launcher) {
    let _ = CHOSEN.set(launcher);
}

/// The launcher chosen, or the default one.
pub(crate) fn chosen() -> Launcher {
    CHOSEN.get().cloned().unwrap_or_default()
}

impl Launcher {
    /// The launcher program: `--mpirun`, or `mpirun` found on the PATH.
    pub(crate) fn program(&self) -> Result<PathBuf, String> {
        if let Some(path) = &self.mpirun {
            return if path.is_file() {
                Ok(path.clone())
            } else {
                Err(format!(
                    "--mpirun {}: no such file; give the path of Open MPI's mpirun",
                    path.display()
                ))
            };
        }
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join("mpirun"))
            .find(|path| path.is_file())
            .ok_or_else(|| {
                "no mpirun on the PATH; install Open MPI (apt-get install openmpi-bin) or give --mpirun PATH".to_string()
            })
    }

    /// The machine block's MPI line: the launcher and its version, the
    /// hosts the ranks may go to, the transport asked for.
    pub(crate) fn describe(&self, mpirun: &Path) -> MpiInfo {
        let version = Command::new(mpirun)
            .arg("--version")
            .output()
            .ok()
            .and_then(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .map(|line| line.trim().to_string())
            })
            .unwrap_or_default();
        MpiInfo {
            launcher: format!("{} {version}", mpirun.display()).trim().to_string(),
            args: self.args.clone(),
            hosts: self.hosts(),
            transport: self.transport(),
        }
    }

    /// The machine block's MPI line when a launcher started paralab: its
    /// hosts and transport were the launcher's to choose.
    pub(crate) fn in_job_described(&self, started_by: &str) -> MpiInfo {
        MpiInfo {
            launcher: format!("started by a launcher ({started_by})"),
            args: Vec::new(),
            hosts: self.hosts(),
            transport: "the launcher's choice".into(),
        }
    }

    /// The hosts of `--host a,b` or of a hostfile's lines; this host when
    /// neither is given.
    fn hosts(&self) -> Vec<String> {
        let after = |names: &[&str]| {
            self.args
                .windows(2)
                .find(|pair| names.contains(&pair[0].as_str()))
                .map(|pair| pair[1].clone())
        };
        if let Some(list) = after(&["--host", "-host", "-H"]) {
            return list
                .split(',')
                .map(|host| host.split(':').next().unwrap_or(host).to_string())
                .collect();
        }
        if let Some(file) = after(&["--hostfile", "-hostfile", "--machinefile"]) {
            return std::fs::read_to_string(&file)
                .unwrap_or_default()
                .lines()
                .filter_map(|line| line.split('#').next()?.split_whitespace().next())
                .map(str::to_string)
                .collect();
        }
        crate::machine::hostname().into_iter().collect()
    }

    /// Open MPI's `--mca btl` choice, or its default (shared memory
    /// between ranks of a host, TCP between hosts).
    fn transport(&self) -> String {
        self.args
            .windows(3)
            .find(|w| matches!(w[0].as_str(), "--mca" | "-mca") && w[1] == "btl")
            .map(|w| format!("btl {}", w[2]))
            .unwrap_or_else(|| "Open MPI's default (shared memory within a host)".into())
    }

    /// Whether the extra arguments say where ranks go (then their slots are
    /// the user's business, not `--oversubscribe`'s).
    pub(crate) fn places_ranks(&self) -> bool {
        self.args.iter().any(|arg| {
            [
                "--hostfile",
                "-hostfile",
                "--host",
                "-host",
                "-H",
                "--machinefile",
            ]
            .contains(&arg.as_str())
        })
    }

    /// `mpirun -n N [--oversubscribe] [--allow-run-as-root] ARGS… EXE
    /// __paralab-mpi-rank KIND AMOUNT`: `--oversubscribe` when N exceeds
    /// this machine's `cpus` and no host list is given, `--allow-run-as-root`
    /// when paralab runs as root (Open MPI refuses root otherwise).
    pub(crate) fn command(
        &self,
        mpirun: &Path,
        exe: &Path,
        ranks: usize,
        workload: &Workload,
        cpus: usize,
        root: bool,
    ) -> Command {
        let mut command = start(mpirun, ranks, ranks > cpus && !self.places_ranks(), root);
        command.args(&self.args).arg(exe).arg(RANK_ARG);
        // spawn_args: [WORKER_ARG, INDEX, KIND, AMOUNT]; a rank takes KIND AMOUNT.
        command.args(spawn_args(0, workload).into_iter().skip(2));
        command
    }
}

/// `mpirun -n RANKS [--oversubscribe] [--allow-run-as-root]`, the start
/// of every MPI job paralab launches (the model's runs, the primitives):
/// `oversubscribe` when the ranks outnumber the slots Open MPI would find,
/// `root` when paralab runs as root, which Open MPI refuses otherwise.
pub(crate) fn start(mpirun: &Path, ranks: usize, oversubscribe: bool, root: bool) -> Command {
    let mut command = Command::new(mpirun);
    command.arg("-n").arg(ranks.to_string());
    if oversubscribe {
        command.arg("--oversubscribe");
    }
    if root {
        command.arg("--allow-run-as-root");
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn words(command: &Command) -> Vec<String> {
        command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_command_line_oversubscribes_only_beyond_the_cpus() {
        let launcher = Launcher {
            mpirun: None,
            args: vec!["--mca".into(), "btl".into(), "self,tcp".into()],
            in_job: None,
        };
        let sleep = Workload::Sleep {
            duration: Duration::from_millis(5),
        };
        let two = launcher.command(Path::new("mpirun"), Path::new("/p"), 2, &sleep, 2, false);
        assert_eq!(
            words(&two),
            [
                "-n", "2", "--mca", "btl", "self,tcp", "/p", RANK_ARG, "sleep", "5000000"
            ]
        );
        let three = launcher.command(Path::new("mpirun"), Path::new("/p"), 3, &sleep, 2, true);
        assert_eq!(
            words(&three)[..4],
            ["-n", "3", "--oversubscribe", "--allow-run-as-root"]
        );
        let hosts = Launcher {
            mpirun: None,
            args: vec!["--hostfile".into(), "h".into()],
            in_job: None,
        };
        let placed = hosts.command(Path::new("mpirun"), Path::new("/p"), 8, &sleep, 2, false);
        assert!(!words(&placed).contains(&"--oversubscribe".to_string()));
    }

    #[test]
    fn hosts_and_transport_come_from_the_arguments() {
        let launcher = Launcher {
            mpirun: None,
            args: ["--host", "a:2,b", "--mca", "btl", "self,tcp"]
                .map(String::from)
                .to_vec(),
            in_job: None,
        };
        assert_eq!(launcher.hosts(), ["a", "b"]);
        assert_eq!(launcher.transport(), "btl self,tcp");
        assert!(Launcher::default().transport().contains("default"));
    }

    #[test]
    fn a_missing_launcher_says_what_to_install() {
        let launcher = Launcher {
            mpirun: Some("/nonexistent/mpirun".into()),
            args: vec![],
            in_job: None,
        };
        assert!(launcher.program().unwrap_err().contains("--mpirun"));
    }
}
