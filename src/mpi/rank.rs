//! One rank of the `mpi` model: `paralab __paralab-mpi-rank cpu ITERS`
//! (or `sleep NANOSECONDS`), started by `mpirun`.
//!
//! Every rank runs the workload between two barriers and times it with
//! `MPI_Wtime`; rank 0 gathers every rank's [`RankReport`] and prints the
//! [`JobReport`] as one line on its standard output.

use std::ffi::OsString;

use mpi::traits::*;
use nix::sys::resource::{UsageWho, getrusage};

use super::report::{JobReport, RankReport};
use crate::measure::clock::MonoTime;
use crate::measure::cpu::CpuUsage;
use crate::model::process::worker::parse_spawn_args;

/// Room for one rank's report in the gather: a fixed size, so one
/// `MPI_Gather` carries them all.
const SLOT: usize = 1024;

/// Runs this rank; returns the exit code.
pub(crate) fn serve(args: &[OsString]) -> i32 {
    let mut words = vec![OsString::from("0")];
    words.extend_from_slice(args);
    let workload = match parse_spawn_args(&words) {
        Ok((_, workload)) => workload,
        Err(problem) => {
            eprintln!(
                "paralab mpi rank: {problem} (this command line is paralab's own; run 'paralab --help')"
            );
            return 2;
        }
    };
    let Some(universe) = mpi::initialize() else {
        eprintln!("paralab mpi rank: MPI was already initialised");
        return 1;
    };
    let world = universe.world();
    let rank = world.rank() as usize;

    world.barrier();
    let t0 = mpi::time();
    let ready = MonoTime::now();
    let before = CpuUsage::now_thread();
    let start_s = mpi::time() - t0;
    let result = workload.run();
    let end_s = mpi::time() - t0;
    let usage = CpuUsage::thread_since(before).unwrap_or_default();
    world.barrier();
    let wall_s = mpi::time() - t0;

    let mine = RankReport {
        rank,
        result,
        start_s,
        end_s,
        user_s: usage.user_s,
        system_s: usage.system_s,
        voluntary_switches: usage.voluntary_switches,
        involuntary_switches: usage.involuntary_switches,
        maxrss_kib: getrusage(UsageWho::RUSAGE_SELF)
            .map(|u| u.max_rss().max(0) as u64)
            .unwrap_or(0),
        host: mpi::environment::processor_name().unwrap_or_else(|_| "?".into()),
    };
    let mut slot = [b' '; SLOT];
    let json = serde_json::to_vec(&mine).expect("a rank report is plain data");
    let len = json.len().min(SLOT);
    slot[..len].copy_from_slice(&json[..len]);

    let root = world.process_at_rank(0);
    if rank != 0 {
        root.gather_into(&slot[..]);
        return 0;
    }
    let mut all = vec![0u8; SLOT * world.size() as usize];
    root.gather_into_root(&slot[..], &mut all[..]);
    let ranks: Result<Vec<RankReport>, _> = all
        .chunks(SLOT)
        .map(|slot| serde_json::from_slice::<RankReport>(slot.trim_ascii_end()))
        .collect();
    let ranks = match ranks {
        Ok(ranks) => ranks,
        Err(error) => {
            eprintln!("paralab mpi rank 0: a rank's report did not arrive whole: {error}");
            return 1;
        }
    };
    let library = mpi::environment::library_version()
        .ok()
        .and_then(|text| text.split(',').next().map(|l| l.trim().to_string()))
        .unwrap_or_default();
    let job = JobReport {
        paralab_mpi: 1,
        wall_s,
        ready_mono_ns: ready.0,
        library,
        ranks,
    };
    println!(
        "{}",
        serde_json::to_string(&job).expect("a job report is plain data")
    );
    0
}
