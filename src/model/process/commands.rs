//! `--cmd`: N copies of an external program at once, each one's exit
//! status its outcome. `fork` forks paralab and execs the program in the
//! child with paralab's own allocation-free child code; `spawn` starts it
//! without copying paralab, by a clone that shares paralab's memory until
//! the exec, as `posix_spawn` does (see `sys::spawn`). Both set the child
//! up alike: its own process group, death with paralab (which
//! `posix_spawn` cannot ask for), default signals.
//!
//! `{n}` in the words becomes the worker count and `{i}` each worker's
//! index; the programs' output goes where `--output` says (nowhere by
//! default, so that it never tears the progress bar).

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nix::unistd::Pid;

use super::super::{ModelError, RunContext, StartMethod, WorkerStatus};
use super::supervise::{Launcher, Supervised, killed_by, supervise};
use crate::measure::clock::MonoTime;
use crate::sys::fork::{ExecArgs, fork_exec};
use crate::sys::limits;
use crate::sys::spawn::spawn_exec;
use crate::sys::wait::Exit;
use crate::workload::{CommandSettings, OutputTo, ProgramError, resolve_program, substitute};

/// Runs `workers` copies of the program `argv` at once and reaps them.
pub(super) fn run(
    method: StartMethod,
    argv: &[String],
    workers: usize,
    context: &RunContext,
) -> Result<Supervised, ModelError> {
    let settings = crate::workload::settings();
    let shell_text = shell_text(argv, &settings);
    let per_index = argv.iter().any(|word| word.contains("{i}"));
    let no_parameters = Default::default();
    let words = |index: Option<usize>| -> Vec<String> {
        argv.iter()
            .map(|word| substitute(word, &no_parameters, workers, index))
            .collect()
    };
    let worker_argv: Vec<Vec<String>> = match per_index {
        true => (0..workers).map(|i| words(Some(i))).collect(),
        false => vec![words(None)],
    };
    let (program, _) = worker_argv[0].split_first().ok_or(ProgramError::Empty)?;
    let path = resolve_program(program)?;
    let (output, drain) = output_file(&settings.output)?;
    // Everything exec needs is built before forking, so the child only
    // calls dup2, execv and _exit.
    let execs = worker_argv
        .iter()
        .map(|argv| ExecArgs::new(&path, argv))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ProgramError::NulByte)?;
    let mut launcher = Commands {
        method,
        path,
        execs,
        devnull: output,
        // Its standard error goes where its output goes, as hyperfine's
        // does, unless that is paralab's own terminal.
        errors_too: !matches!(settings.output, OutputTo::Inherit),
        ignore_failure: settings.ignore_failure,
        shell_text,
        shell_said: std::cell::OnceCell::new(),
    };
    let supervised = supervise(&mut launcher, workers, context);
    // The pipe's last writer is gone once the workers are reaped.
    drop(launcher);
    if let Some(drain) = drain {
        let _ = drain.join();
    }
    supervised
}

/// The shell and the text of a command run through one (`[SHELL, -c,
/// TEXT]` while a shell is chosen), for the shell's own error messages.
fn shell_text(argv: &[String], settings: &CommandSettings) -> Option<(String, String)> {
    match (argv, &settings.shell) {
        ([shell, .., dash_c, text], Some(_)) if dash_c == "-c" => {
            Some((shell.clone(), text.clone()))
        }
        _ => None,
    }
}

/// The file a forked copy gets as its standard input and output, and the
/// thread that empties the pipe of `--output pipe`.
fn output_file(
    output: &OutputTo,
) -> Result<(File, Option<std::thread::JoinHandle<()>>), ModelError> {
    let resource = |doing: &str| {
        let doing = doing.to_string();
        move |cause: io::Error| ModelError::Resource {
            doing: doing.clone(),
            limit: limits::explain(&cause),
            cause,
        }
    };
    match output {
        OutputTo::Null => {
            let file = File::options()
                .read(true)
                .write(true)
                .open("/dev/null")
                .map_err(resource("open /dev/null"))?;
            Ok((file, None))
        }
        OutputTo::Inherit => {
            use std::os::fd::AsFd;
            let file = io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map_err(resource("share paralab's standard output"))?;
            Ok((File::from(file), None))
        }
        OutputTo::File(path) => {
            let file = File::options()
                .append(true)
                .create(true)
                .open(path)
                .map_err(resource(&format!("open --output {}", path.display())))?;
            Ok((file, None))
        }
        OutputTo::Pipe => {
            let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| resource("create the output pipe")(io::Error::from(e)))?;
            let drain = std::thread::spawn(move || {
                let _ = io::copy(&mut File::from(read), &mut io::sink());
            });
            Ok((File::from(write), Some(drain)))
        }
    }
}

/// The program of a run, ready to start either way.
struct Commands {
    method: StartMethod,
    path: PathBuf,
    /// Each copy's exec arguments, alike.
    execs: Vec<ExecArgs>,
    /// Standard input and output of a copy.
    devnull: File,
    /// Whether `devnull` is a copy's standard error too.
    errors_too: bool,
    /// `-i`: a non-zero exit is a finished run.
    ignore_failure: bool,
    /// The shell and text, when the command runs through a shell.
    shell_text: Option<(String, String)>,
    /// What the shell said when it could not run the command (once a run).
    shell_said: std::cell::OnceCell<Option<String>>,
}

impl Launcher for Commands {
    type Reports = ();

    fn start(&mut self, index: usize) -> io::Result<Pid> {
        let copy = index.min(self.execs.len() - 1);
        match self.method {
            StartMethod::Fork => fork_exec(&self.execs[copy], &self.devnull, self.errors_too),
            StartMethod::Spawn => spawn_exec(&self.execs[copy], &self.devnull, self.errors_too),
        }
    }

    fn start_error(&self, cause: io::Error) -> Result<ModelError, io::Error> {
        Ok(ModelError::Exec {
            program: self.path.clone(),
            cause,
        })
    }

    /// A program tells nothing but its exit status.
    fn collect(&mut self, _workers: usize) {}

    /// Exit 0 is success (result 0), and so is any exit with `-i`. A
    /// shell's 126 or 127 (it could not run a program) says what the shell
    /// said.
    fn status(&self, _worker: usize, exit: Exit, _reports: &()) -> WorkerStatus {
        match exit {
            Exit::Signal(number) => killed_by(number),
            Exit::Code(0) => WorkerStatus::Finished { result: 0 },
            Exit::Code(code) if self.ignore_failure => WorkerStatus::IgnoredExit { code },
            Exit::Code(code @ (126 | 127)) => match (&self.shell_text, shell_said(self)) {
                (Some((shell, text)), Some(said)) => WorkerStatus::Lost {
                    reason: format!(
                        "{shell} could not run '{text}' (exit {code}): it said \"{said}\""
                    ),
                },
                _ => WorkerStatus::Exited { code },
            },
            Exit::Code(code) => WorkerStatus::Exited { code },
        }
    }

    /// When it was started and when paralab saw it exit: a program says
    /// nothing of its own work, so its start-up and exit are in its bar.
    fn times(
        &self,
        _worker: usize,
        started: MonoTime,
        exited: Option<MonoTime>,
        _reports: &(),
        t0: MonoTime,
    ) -> (Option<f64>, Option<f64>) {
        (
            Some(started.seconds_since(t0)),
            exited.map(|at| at.seconds_since(t0)),
        )
    }
}

/// What the shell says on its standard error when it runs the command
/// alone, found by running it once more (only after an exit of 126 or
/// 127, whose message went where the output goes), for at most two
/// seconds.
fn shell_said(commands: &Commands) -> Option<String> {
    commands
        .shell_said
        .get_or_init(|| ask_the_shell(commands.shell_text.as_ref()?))
        .clone()
}

/// Runs `text` once more through `shell` and returns the last line it
/// wrote on its standard error.
fn ask_the_shell((shell, text): &(String, String)) -> Option<String> {
    let mut child = Command::new(shell)
        .arg("-c")
        .arg(text)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while child.try_wait().ok()?.is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut said = String::new();
    io::Read::read_to_string(child.stderr.as_mut()?, &mut said).ok()?;
    said.lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map(|line| line.trim().to_string())
}
