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
use crate::mpi::report::JobReport;
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
        let launched = MonoTime::now();
        let clock = Instant::now();
        let ran = run_in_group(&mut command, context.timeout, &context.stop).map_err(|cause| {
            ModelError::Exec {
                program: mpirun.clone(),
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
        if ran.timed_out {
            return Ok(RunOutput::timed_by_caller(ended_by(
                WorkerStatus::TimedOut {
                    still_running: false,
                },
            )));
        }
        if let Some(signal) = ran.interrupted {
            return Ok(RunOutput::timed_by_caller(ended_by(
                WorkerStatus::Interrupted {
                    signal: signal.as_str().to_string(),
                },
            )));
        }
        match JobReport::find(&stdout) {
            Some(Ok(job)) => {
                let launch_s = launched_s(&job, launched);
                say_launch(&job, launch_s, clock.elapsed().as_secs_f64());
                Ok(RunOutput {
                    outcomes: job.outcomes(workers),
                    own_wall_s: Some(job.wall_s),
                    launch_s,
                })
            }
            Some(Err(problem)) => Ok(RunOutput::timed_by_caller(ended_by(WorkerStatus::Lost {
                reason: problem,
            }))),
            None => Ok(RunOutput::timed_by_caller(failed_job(
                workers,
                ran.output.status,
                &stderr,
            ))),
        }
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
fn say_launch(job: &JobReport, launch_s: Option<f64>, mpirun_s: f64) {
    let launch = match launch_s {
        Some(s) => format!("launch (mpirun start to every MPI_Init done) {s:.3} s"),
        None => "launch not measured (rank 0 ran on another host)".into(),
    };
    let peak = job.ranks.iter().map(|r| r.maxrss_kib).max().unwrap_or(0);
    eprintln!(
        "paralab: mpi: {} on {}: {launch}, wall (rank 0, barrier to barrier) {:.3} s, whole mpirun {mpirun_s:.3} s; largest peak RSS of a rank {:.1} MiB; {}",
        crate::fmt::count(job.ranks.len(), "rank"),
        job.hosts().join(", "),
        job.wall_s,
        peak as f64 / 1024.0,
        job.library,
    );
}

/// The launch: from paralab starting `mpirun` to every rank past
/// `MPI_Init` (rank 0 leaving the first barrier). Only when rank 0 ran on
/// this host, where its monotonic clock is paralab's.
fn launched_s(job: &JobReport, launched: MonoTime) -> Option<f64> {
    let here = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let rank0 = job.ranks.first()?;
    (rank0.host == here.trim() && job.ready_mono_ns >= launched.0)
        .then(|| MonoTime(job.ready_mono_ns).seconds_since(launched))
}

/// Outcomes of a job that printed no report: the rank `mpirun` names as
/// having died is killed by its signal or exited with its code; the others
/// are lost, with mpirun's own words.
fn failed_job(
    workers: usize,
    status: std::process::ExitStatus,
    stderr: &str,
) -> Vec<WorkerOutcome> {
    let said = mpirun_said(stderr)
        .unwrap_or_else(|| format!("mpirun ended ({status}) without rank 0's report"));
    let died = stderr.lines().find_map(dead_rank);
    (0..workers)
        .map(|worker| {
            let status = match &died {
                Some((rank, how)) if *rank == worker => how.clone(),
                _ => WorkerStatus::Lost {
                    reason: said.clone(),
                },
            };
            WorkerOutcome::ended(worker, status)
        })
        .collect()
}

/// mpirun's first line of substance on standard error, without its rules
/// of dashes.
fn mpirun_said(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("----"))
        .collect();
    lines
        .iter()
        .find(|line| line.contains("noticed that process rank"))
        .or_else(|| lines.first())
        .map(|line| line.to_string())
}

/// Reads Open MPI's "mpirun noticed that process rank 1 with PID 7 on node
/// h exited on signal 9 (Killed)." (or "exited with status 3").
fn dead_rank(line: &str) -> Option<(usize, WorkerStatus)> {
    let after = line.split("process rank ").nth(1)?;
    let rank: usize = after.split_whitespace().next()?.parse().ok()?;
    if let Some(signal) = after.split("on signal ").nth(1) {
        let number: i32 = signal.split_whitespace().next()?.parse().ok()?;
        let name = nix::sys::signal::Signal::try_from(number)
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|_| format!("signal {number}"));
        return Some((rank, WorkerStatus::Killed { signal: name }));
    }
    let code = after.split("status ").nth(1)?;
    let code: i32 = code
        .trim_end_matches('.')
        .split_whitespace()
        .next()?
        .trim_end_matches('.')
        .parse()
        .ok()?;
    Some((rank, WorkerStatus::Exited { code }))
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

    #[test]
    fn a_dead_rank_is_read_from_mpiruns_words() {
        let stderr = "--------\nmpirun noticed that process rank 1 with PID 0 on node h exited on signal 9 (Killed).\n--------\n";
        let outcomes = failed_job(3, std::process::ExitStatus::default(), stderr);
        assert_eq!(
            outcomes[1].status,
            WorkerStatus::Killed {
                signal: "SIGKILL".into()
            }
        );
        match &outcomes[0].status {
            WorkerStatus::Lost { reason } => assert!(reason.contains("process rank 1"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            dead_rank(
                "mpirun noticed that process rank 2 with PID 5 on node h exited with status 3."
            ),
            Some((2, WorkerStatus::Exited { code: 3 }))
        );
    }
}
