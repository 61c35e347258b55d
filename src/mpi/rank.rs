//! One rank of the `mpi` model: `paralab __paralab-mpi-rank cpu ITERS`
//! (or `sleep NANOSECONDS`), started by `mpirun`.
//!
//! Every rank runs the workload between two barriers and times it with
//! `MPI_Wtime`, prints its own [`RankReport`] as soon as the workload is
//! done (should another rank die, that line is all that is left of it);
//! rank 0 gathers every rank's report and prints the [`JobReport`] as one
//! line on its standard output.

use std::ffi::OsString;
use std::io::Write;
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

use super::report::{JobReport, RankLine, RankReport};
use crate::measure::clock::MonoTime;
use crate::measure::cpu::CpuUsage;
use crate::model::process::worker::parse_spawn_args;
use crate::sys::mpi::World;
use crate::workload::{Workload, nanos};

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
    let world = match World::init() {
        Ok(world) => world,
        Err(problem) => {
            eprintln!("paralab mpi rank: {problem}");
            return 1;
        }
    };
    match one_run(&world, &workload, Announce::Own) {
        Ok(Some(job)) => {
            println!(
                "{}",
                serde_json::to_string(&job).expect("a job report is plain data")
            );
            0
        }
        Ok(None) => 0,
        Err(problem) => {
            eprintln!("paralab mpi rank 0: {problem}");
            1
        }
    }
}

/// Whether a rank prints its own report as soon as its workload is done.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Announce {
    /// Yes, for the paralab that launched `mpirun`: should another rank
    /// die before the gather, MPI ends the whole job, and these lines are
    /// all that is left of the ranks that had finished.
    Own,
    /// No: a launcher started paralab, and stdout is the user's.
    Silent,
}

/// One run on every rank of `world`: the workload between two barriers,
/// then rank 0 gathers every rank's report; `Some` on rank 0 only.
fn one_run(
    world: &World,
    workload: &Workload,
    announce: Announce,
) -> Result<Option<JobReport>, String> {
    let rank = world.rank();
    world.barrier();
    let t0 = world.time();
    let ready = MonoTime::now();
    let before = CpuUsage::now_thread();
    let start_s = world.time() - t0;
    let result = workload.run();
    let end_s = world.time() - t0;
    let usage = CpuUsage::thread_since(before).unwrap_or_default();
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
        host: world.processor_name(),
    };
    if announce == Announce::Own {
        announce_own(&mine);
    }
    world.barrier();
    let wall_s = world.time() - t0;

    let mut slot = [b' '; SLOT];
    let json = serde_json::to_vec(&mine).expect("a rank report is plain data");
    let len = json.len().min(SLOT);
    slot[..len].copy_from_slice(&json[..len]);

    let Some(all) = world.gather(&slot, 0) else {
        return Ok(None);
    };
    let ranks = all
        .chunks(SLOT)
        .map(|slot| serde_json::from_slice::<RankReport>(slot.trim_ascii_end()))
        .collect::<Result<Vec<RankReport>, _>>()
        .map_err(|error| format!("a rank's report did not arrive whole: {error}"))?;
    let library = world
        .library_version()
        .split(',')
        .next()
        .map(|name| name.trim().to_string())
        .unwrap_or_default();
    Ok(Some(JobReport {
        paralab_mpi: 1,
        wall_s,
        ready_mono_ns: ready.0,
        library,
        ranks,
    }))
}

/// Prints this rank's report as one marked line and flushes it, so that
/// `mpirun` forwards it at once.
fn announce_own(mine: &RankReport) {
    let line = serde_json::to_string(&RankLine {
        paralab_mpi_rank: mine.clone(),
    })
    .expect("a rank report is plain data");
    let mut out = std::io::stdout().lock();
    // Nothing to do if stdout is gone: rank 0's report still carries it.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// MPI in a paralab that a launcher started (`mpirun -n 4 paralab bench
/// --models mpi`): rank 0 runs the sweep and leads each run; the other
/// ranks follow its orders until it says stop.
static JOB: Mutex<Option<World>> = Mutex::new(None);

/// An order broadcast by rank 0: `[0, 0]` stop, `[1, iters]` cpu,
/// `[2, nanoseconds]` sleep.
type Order = [u64; 2];

/// Joins the launcher's job: initialises MPI (serialized: rank 0's sweep
/// may run on another thread than main). Returns the number of ranks.
pub(crate) fn join_job() -> Result<usize, String> {
    let world = World::init()?;
    let size = world.size();
    *JOB.lock().unwrap_or_else(|e| e.into_inner()) = Some(world);
    Ok(size)
}

/// A rank other than 0: runs every run rank 0 orders, silently, until
/// told to stop; then finalises MPI. Returns the exit code.
pub(crate) fn follow() -> i32 {
    let guard = JOB.lock().unwrap_or_else(|e| e.into_inner());
    let Some(world) = guard.as_ref() else {
        return 1;
    };
    loop {
        let order = broadcast_order(world, [0, 0]);
        let workload = match order {
            [1, iters] => Workload::Cpu { iters },
            [2, nanos] => Workload::Sleep {
                duration: Duration::from_nanos(nanos),
            },
            _ => break,
        };
        if one_run(world, &workload, Announce::Silent).is_err() {
            return 1;
        }
    }
    drop(guard);
    finish_job();
    0
}

/// Rank 0: one run of `workload` on every rank of the job.
pub(crate) fn lead(workload: &Workload) -> Result<JobReport, String> {
    let guard = JOB.lock().unwrap_or_else(|e| e.into_inner());
    let world = guard.as_ref().ok_or("paralab is not in an MPI job")?;
    let order: Order = match workload {
        Workload::Cpu { iters } => [1, *iters],
        Workload::Sleep { duration } => [2, nanos(*duration)],
        _ => return Err("only the cpu and sleep workloads run as MPI ranks".into()),
    };
    broadcast_order(world, order);
    one_run(world, workload, Announce::Silent)?.ok_or_else(|| "rank 0 got no report".into())
}

/// Rank 0 at the end of its sweep: tells the others to stop, and
/// finalises MPI. Does nothing outside a job.
pub(crate) fn end_job() {
    let guard = JOB.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(world) = guard.as_ref()
        && world.rank() == 0
    {
        broadcast_order(world, [0, 0]);
    }
    drop(guard);
    finish_job();
}

/// Rank 0's hold on the job: when the sweep ends, however it ends, the
/// other ranks are told to stop and MPI is finalised.
pub(crate) struct JobGuard;

impl Drop for JobGuard {
    fn drop(&mut self) {
        end_job();
    }
}

/// Rank 0's `order` to every rank: what rank 0 gives is what every rank
/// returns.
fn broadcast_order(world: &World, mut order: Order) -> Order {
    world.broadcast_words(&mut order, 0);
    order
}

/// Finalises MPI (dropping the world does).
fn finish_job() {
    let world = JOB.lock().unwrap_or_else(|e| e.into_inner()).take();
    drop(world);
}
