//! MPI: the ranks of the `mpi` model, how paralab launches them with
//! `mpirun`, and how it sees that a launcher started it.
//!
//! - [`report`]: the lines the ranks print for paralab: each rank's own line
//!   as its workload ends, rank 0's job report at the end.
//! - [`launch`]: the `mpirun` command line paralab runs, and the options
//!   (`--mpirun`, `--mpi-args`) the command line gave.
//! - `rank` (with the `mpi` feature only): the hidden entry each rank runs,
//!   `paralab __paralab-mpi-rank cpu ITERS`.
//!
//! Only `rank` links to MPI; everything else builds without the feature, so
//! that a paralab without it can say what to do.

pub(crate) mod launch;
#[cfg(feature = "mpi")]
pub(crate) mod rank;
pub(crate) mod report;

/// The first argument that turns a paralab process into one rank of the
/// `mpi` model.
pub(crate) const RANK_ARG: &str = "__paralab-mpi-rank";

/// What a paralab without the feature says when asked for the `mpi` model.
pub(crate) const NOT_BUILT: &str = "this paralab was built without MPI; build it with \
     `cargo build --release --features mpi` (after `apt-get install libopenmpi-dev openmpi-bin`)";

/// The environment variables by which MPI launchers tell a program it is a
/// rank of a job: Open MPI's `mpirun`, Hydra (MPICH) and PMIx (Slurm's `srun`).
const LAUNCHER_SIZE_VARS: [&str; 3] = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"];

/// The variables that give this process's rank in a launcher's job.
#[cfg(feature = "mpi")]
const LAUNCHER_RANK_VARS: [&str; 3] = ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"];

/// The variable, and its value, by which a launcher said that this process
/// is a rank of an MPI job; `None` when nothing did.
pub(crate) fn started_by_launcher() -> Option<(&'static str, String)> {
    LAUNCHER_SIZE_VARS
        .iter()
        .find_map(|name| std::env::var(name).ok().map(|value| (*name, value)))
}

/// This process's rank in a launcher's job (0 when no launcher says).
#[cfg(feature = "mpi")]
pub(crate) fn launcher_rank() -> usize {
    LAUNCHER_RANK_VARS
        .iter()
        .find_map(|name| std::env::var(name).ok()?.parse().ok())
        .unwrap_or(0)
}

/// Call first thing in `main`: when this process was started as a rank of
/// the `mpi` model, it runs its share and exits; otherwise it returns.
pub(crate) fn serve_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_none_or(|first| first != RANK_ARG) {
        return;
    }
    #[cfg(feature = "mpi")]
    {
        let rest: Vec<std::ffi::OsString> = args.collect();
        std::process::exit(rank::serve(&rest));
    }
    #[cfg(not(feature = "mpi"))]
    {
        eprintln!("paralab: {NOT_BUILT}");
        std::process::exit(2);
    }
}
