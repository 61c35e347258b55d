//! The lines the ranks of the `mpi` model print on their standard output
//! for paralab, as JSON: each rank's own [`RankLine`] as soon as its
//! workload is done, and rank 0's [`JobReport`] of every rank at the end.

use serde::{Deserialize, Serialize};

use crate::measure::cpu::CpuUsage;
use crate::model::{WorkerOutcome, WorkerStatus};

/// What marks rank 0's line among whatever else `mpirun` or the ranks print.
pub(crate) const MARK: &str = "paralab_mpi";

/// What marks a rank's own line.
pub(crate) const RANK_MARK: &str = "paralab_mpi_rank";

/// The line a rank prints as soon as its workload is done, before the
/// gather: if another rank dies, MPI ends the job before rank 0 can print,
/// and these lines keep what the finished ranks did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RankLine {
    /// The rank's report.
    pub paralab_mpi_rank: RankReport,
}

impl RankLine {
    /// Every rank's own report found among the lines of `stdout`, in rank
    /// order, one per rank; unreadable lines (cut by a death) are skipped.
    pub(crate) fn find_all(stdout: &str) -> Vec<RankReport> {
        let mark = format!("{{\"{RANK_MARK}\":");
        let mut ranks: Vec<RankReport> = stdout
            .lines()
            .filter(|line| line.starts_with(&mark))
            .filter_map(|line| serde_json::from_str::<RankLine>(line).ok())
            .map(|line| line.paralab_mpi_rank)
            .collect();
        ranks.sort_by_key(|rank| rank.rank);
        ranks.dedup_by_key(|rank| rank.rank);
        ranks
    }
}

/// What one rank did, measured by itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RankReport {
    /// Its rank in `MPI_COMM_WORLD`.
    pub rank: usize,
    /// The workload's result.
    pub result: u64,
    /// When its workload started, in seconds after it left the first
    /// barrier (its own `MPI_Wtime`: clocks of two hosts are never compared).
    pub start_s: f64,
    /// When its workload ended, on the same clock.
    pub end_s: f64,
    /// CPU time of the workload (`getrusage` of the rank's thread).
    pub user_s: f64,
    /// Kernel time of the workload.
    pub system_s: f64,
    /// Times it gave up its CPU to wait.
    pub voluntary_switches: u64,
    /// Times the scheduler took its CPU away.
    pub involuntary_switches: u64,
    /// Its peak resident memory (`ru_maxrss`), MPI's own buffers included.
    pub maxrss_kib: u64,
    /// `MPI_Get_processor_name`: the host it ran on.
    pub host: String,
}

/// What rank 0 prints: the job and every rank.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct JobReport {
    /// Always 1: the line's mark and version.
    pub paralab_mpi: u32,
    /// Rank 0's time from leaving the first barrier to leaving the second.
    pub wall_s: f64,
    /// Rank 0's `CLOCK_MONOTONIC` (ns) as it left the first barrier, when
    /// every rank had finished `MPI_Init`: paralab, on the same host,
    /// subtracts the moment it started `mpirun` to get the launch time.
    pub ready_mono_ns: u64,
    /// `MPI_Get_library_version`'s first line.
    pub library: String,
    /// Every rank, in rank order.
    pub ranks: Vec<RankReport>,
}

impl JobReport {
    /// Finds the report among the lines of `stdout`.
    pub(crate) fn find(stdout: &str) -> Option<Result<JobReport, String>> {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(&format!("{{\"{MARK}\":")))?;
        Some(serde_json::from_str(line).map_err(|e| format!("rank 0's report is unreadable: {e}")))
    }

    /// The distinct hosts the ranks ran on, in rank order.
    pub(crate) fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for rank in &self.ranks {
            if !hosts.contains(&rank.host) {
                hosts.push(rank.host.clone());
            }
        }
        hosts
    }

    /// One outcome per worker (rank), in rank order; a rank missing from
    /// the report is lost.
    pub(crate) fn outcomes(&self, workers: usize) -> Vec<WorkerOutcome> {
        (0..workers)
            .map(
                |worker| match self.ranks.iter().find(|r| r.rank == worker) {
                    Some(rank) => rank.outcome(),
                    None => WorkerOutcome::ended(
                        worker,
                        WorkerStatus::Lost {
                            reason: format!("rank {worker} is missing from rank 0's report"),
                        },
                    ),
                },
            )
            .collect()
    }
}

impl RankReport {
    /// The rank's outcome: finished with its result, its times and CPU use.
    pub(crate) fn outcome(&self) -> WorkerOutcome {
        WorkerOutcome::ended(
            self.rank,
            WorkerStatus::Finished {
                result: self.result,
            },
        )
        .with_times(Some(self.start_s), Some(self.end_s))
        .with_usage(Some(CpuUsage {
            user_s: self.user_s,
            system_s: self.system_s,
            voluntary_switches: self.voluntary_switches,
            involuntary_switches: self.involuntary_switches,
        }))
        .with_host(Some(self.host.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank(rank: usize, host: &str) -> RankReport {
        RankReport {
            rank,
            result: 42,
            start_s: 0.0,
            end_s: 0.5,
            user_s: 0.4,
            system_s: 0.1,
            voluntary_switches: 1,
            involuntary_switches: 2,
            maxrss_kib: 9000,
            host: host.into(),
        }
    }

    #[test]
    fn the_line_is_found_among_others_and_read_back() {
        let job = JobReport {
            paralab_mpi: 1,
            wall_s: 0.5,
            ready_mono_ns: 7,
            library: "Open MPI v4.1.4".into(),
            ranks: vec![rank(0, "a"), rank(1, "b"), rank(2, "a")],
        };
        let stdout = format!("noise\n{}\nmore\n", serde_json::to_string(&job).unwrap());
        let read = JobReport::find(&stdout).unwrap().unwrap();
        assert_eq!(read, job);
        assert_eq!(read.hosts(), ["a", "b"]);
        let outcomes = read.outcomes(4);
        assert_eq!(outcomes[1].status, WorkerStatus::Finished { result: 42 });
        assert_eq!(outcomes[1].cpu_s, Some(0.5));
        assert!(matches!(outcomes[3].status, WorkerStatus::Lost { .. }));
        assert!(JobReport::find("nothing here\n").is_none());
        // A rank's own line is not rank 0's report, though its mark begins alike.
        let own = serde_json::to_string(&RankLine {
            paralab_mpi_rank: rank(2, "a"),
        })
        .unwrap();
        assert!(JobReport::find(&own).is_none());
        assert!(
            JobReport::find("{\"paralab_mpi\": oops\n")
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn each_ranks_own_line_is_found_once_in_rank_order() {
        let line = |r: usize| {
            serde_json::to_string(&RankLine {
                paralab_mpi_rank: rank(r, "h"),
            })
            .unwrap()
        };
        let stdout = format!(
            "{}\nnoise\n{}\n{}\n{{\"paralab_mpi_rank\":{{\"rank\":1,\"res\n",
            line(2),
            line(0),
            line(2)
        );
        let ranks = RankLine::find_all(&stdout);
        assert_eq!(
            ranks.iter().map(|r| r.rank).collect::<Vec<_>>(),
            [0, 2],
            "the cut line of rank 1 is skipped, rank 2 kept once"
        );
        assert_eq!(ranks[1].outcome().cpu_s, Some(0.5));
    }
}
