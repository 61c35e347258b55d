//! The OS layer: every call into the kernel that needs care (fork and exec,
//! wait statuses, process groups, signals, `/proc`, limits) lives here, and
//! so does every `unsafe` block of paralab. The layers above (`model`,
//! `measure`, `experiment`, `lessons`, …) ask this one for processes and
//! facts; they never call `libc` themselves. This layer is the lowest: it
//! imports nothing from the others.
//!
//! - [`fork`]: a forked worker running an allocation-free body, fork + exec
//!   of a prepared program, the setup every child does before it runs
//!   anything (own group, death with paralab, default signals, empty mask;
//!   [`fork::start_as_worker`] for a `Command`), and the forks
//!   `paralab primitives` times.
//! - [`spawn`]: a program started without copying paralab (a clone
//!   that shares its memory until the exec, as `posix_spawn` does), set
//!   up as every child is: `--cmd`'s `spawn` start method.
//! - [`wait`]: the one decoding of a wait status ([`wait::Exit`]), reaping
//!   with `wait4` (a child's own CPU time), waiting without reaping.
//! - [`signals`]: the stop signals (SIGINT, SIGTERM, SIGHUP, SIGQUIT,
//!   SIGUSR1/2, SIGALRM, SIGPIPE), graceful sections, the registry of
//!   worker process groups ([`signals::WorkerGroup`]) and of temporaries
//!   a hard stop removes ([`signals::RemoveOnStop`]).
//! - [`watchdog`]: kills process groups at a deadline.
//! - [`children`]: child programs killed with their group and reaped when
//!   dropped ([`children::ChildSet`]).
//! - [`procfs`]: `/proc/PID/stat` and `Name: value` fields.
//! - [`limits`]: the OS limit behind EAGAIN, ENOMEM, EMFILE, ENFILE,
//!   EFBIG; the room for more threads, checked before they start.
//! - [`stop`]: the decision to stop, passed down to models.
//! - `mpi` (with the `mpi` feature): MPI's calls, through the C file
//!   `mpi.c` that build.rs compiles with `mpicc`.
//! - [`threads`]: threads started so that a refusal is an error, not a
//!   panic (a ticker, a probe before a runtime starts its threads).
//! - [`stdio`]: whether stdout was closed at start, asked before Rust's
//!   runtime hides it.

pub(crate) mod children;
#[allow(unsafe_code)]
pub(crate) mod fork;
#[allow(unsafe_code)]
pub(crate) mod limits;
#[cfg(feature = "mpi")]
#[allow(unsafe_code)]
pub(crate) mod mpi;
pub(crate) mod procfs;
pub(crate) mod signals;
#[allow(unsafe_code)]
pub(crate) mod spawn;
#[allow(unsafe_code)]
pub(crate) mod stdio;
pub(crate) mod stop;
pub(crate) mod threads;
#[allow(unsafe_code)]
pub(crate) mod wait;
pub(crate) mod watchdog;
