//! Whether paralab's standard output was closed when it started
//! (`paralab >&-`): Rust's runtime puts `/dev/null` on a closed standard
//! descriptor before `main`, which makes a closed stdout look like
//! `1<>/dev/null`. So the question is asked earlier, by a function the C
//! runtime calls before Rust's (an `.init_array` entry, as the `ctor`
//! crate makes; it is three lines, not worth a dependency).

use std::sync::atomic::{AtomicBool, Ordering};

use nix::libc;

static STDOUT_CLOSED_AT_START: AtomicBool = AtomicBool::new(false);

extern "C" fn note_whether_stdout_is_closed() {
    // SAFETY: fcntl(F_GETFD) only reads descriptor 1's flags; it fails
    // (EBADF) only when the descriptor is not open.
    let closed = unsafe { libc::fcntl(1, libc::F_GETFD) } == -1;
    STDOUT_CLOSED_AT_START.store(closed, Ordering::Relaxed);
}

// SAFETY: the C runtime calls each `.init_array` entry once, before
// `main`, in the process's only thread; the function it calls touches
// nothing but an atomic.
#[used]
#[unsafe(link_section = ".init_array")]
static NOTE_WHETHER_STDOUT_IS_CLOSED: extern "C" fn() = note_whether_stdout_is_closed;

/// Whether descriptor 1 was closed when paralab started, whatever Rust's
/// runtime put there since.
pub(crate) fn stdout_closed_at_start() -> bool {
    STDOUT_CLOSED_AT_START.load(Ordering::Relaxed)
}
