//! What safe rsmpi cannot do for `paralab primitives --mpi`: a window of
//! non-blocking messages that all use ONE buffer, the way `osu_bw` posts 64
//! `MPI_Irecv` into one receive buffer (and 64 `MPI_Isend` of one send
//! buffer) before it waits for them all; and the page-aligned buffers OSU
//! allocates with `posix_memalign`. rsmpi's scopes lend a buffer mutably to
//! one request at a time, so 64 receives in flight into one buffer need the
//! raw `mpi::ffi` calls, kept here behind a safe interface.

use std::os::raw::{c_int, c_void};

use mpi::ffi;
use mpi::raw::AsRaw;
use mpi::topology::SimpleCommunicator;

/// One page: the alignment `osu_bw` and `osu_latency` give their buffers
/// (`posix_memalign(…, getpagesize(), …)`).
#[repr(C, align(4096))]
#[derive(Clone, Copy)]
struct Page([u8; 4096]);

/// A message buffer that starts on a page boundary, every page of it
/// written once (OSU's `touch_data`), so that no first-touch page fault
/// lands in a timed iteration.
pub(crate) struct AlignedBuffer {
    pages: Vec<Page>,
    len: usize,
}

impl AlignedBuffer {
    /// `len` bytes, each set to `fill`.
    pub(crate) fn new(len: usize, fill: u8) -> Self {
        let pages = vec![Page([fill; 4096]); len.div_ceil(4096).max(1)];
        AlignedBuffer { pages, len }
    }

    /// The bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `pages` is one allocation of `pages.len() * 4096`
        // initialised bytes (Page is repr(C), a plain byte array without
        // padding), `len` is at most that, and the shared borrow of `self`
        // keeps it alive and unchanged for the slice's lifetime.
        unsafe { std::slice::from_raw_parts(self.pages.as_ptr().cast::<u8>(), self.len) }
    }

    /// The bytes, to be written.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; the exclusive borrow of `self` makes this
        // the only view of those bytes while it lives, and any byte value
        // is a valid `Page`.
        unsafe { std::slice::from_raw_parts_mut(self.pages.as_mut_ptr().cast::<u8>(), self.len) }
    }
}

/// The requests of one window, kept from one window to the next so that
/// none is allocated while timing.
pub(crate) struct Window {
    requests: Vec<ffi::MPI_Request>,
}

impl Window {
    /// Room for `size` messages in flight.
    pub(crate) fn new(size: usize) -> Self {
        // SAFETY: RSMPI_REQUEST_NULL is an immutable handle set up by the
        // MPI library when it is linked; reading it is a plain copy.
        let null = unsafe { ffi::RSMPI_REQUEST_NULL };
        Window {
            requests: vec![null; size],
        }
    }

    /// `MPI_Isend` of all of `message` to `peer`, once for each request of
    /// the window, then `MPI_Waitall`: osu_bw's sender.
    pub(crate) fn send_all(
        &mut self,
        world: &SimpleCommunicator,
        peer: i32,
        tag: i32,
        message: &[u8],
    ) -> Result<(), String> {
        let count = count_of(message.len())?;
        for request in &mut self.requests {
            // SAFETY: `message` is valid for `count` bytes and stays
            // borrowed (unchanged) until the MPI_Waitall below has
            // completed every request that reads it; `request` is a valid
            // slot for the handle; the datatype and communicator are live
            // handles of an initialised MPI (a `SimpleCommunicator` exists
            // only between MPI_Init and MPI_Finalize).
            let code = unsafe {
                ffi::MPI_Isend(
                    message.as_ptr().cast::<c_void>(),
                    count,
                    ffi::RSMPI_UINT8_T,
                    peer,
                    tag,
                    world.as_raw(),
                    request,
                )
            };
            check("MPI_Isend", code)?;
        }
        self.wait_all()
    }

    /// `MPI_Irecv` of `buffer.len()` bytes from `peer` into the same
    /// `buffer`, once for each request of the window, then `MPI_Waitall`:
    /// osu_bw's receiver. The buffer ends holding one of the messages.
    pub(crate) fn receive_all(
        &mut self,
        world: &SimpleCommunicator,
        peer: i32,
        tag: i32,
        buffer: &mut [u8],
    ) -> Result<(), String> {
        let count = count_of(buffer.len())?;
        let target = buffer.as_mut_ptr().cast::<c_void>();
        for request in &mut self.requests {
            // SAFETY: `buffer` is valid for `count` bytes and exclusively
            // borrowed until the MPI_Waitall below has completed every
            // receive writing into it, so no Rust code reads or writes it
            // meanwhile; the receives overwrite each other's bytes with
            // messages of the same length (that is the benchmark: only the
            // transfer matters, never the content), which leaves every
            // byte initialised. Handles as in `send_all`.
            let code = unsafe {
                ffi::MPI_Irecv(
                    target,
                    count,
                    ffi::RSMPI_UINT8_T,
                    peer,
                    tag,
                    world.as_raw(),
                    request,
                )
            };
            check("MPI_Irecv", code)?;
        }
        self.wait_all()
    }

    fn wait_all(&mut self) -> Result<(), String> {
        let count = count_of(self.requests.len())?;
        // SAFETY: `requests` holds `count` handles, each from a successful
        // MPI_Isend/MPI_Irecv above (or the null request, which MPI_Waitall
        // accepts); MPI_Waitall sets each to the null request when done.
        // RSMPI_STATUSES_IGNORE is MPI's own constant for "no statuses".
        let code = unsafe {
            ffi::MPI_Waitall(
                count,
                self.requests.as_mut_ptr(),
                ffi::RSMPI_STATUSES_IGNORE,
            )
        };
        check("MPI_Waitall", code)
    }
}

fn count_of(len: usize) -> Result<c_int, String> {
    c_int::try_from(len).map_err(|_| format!("{len} is too many for one MPI call (at most 2^31-1)"))
}

fn check(call: &str, code: c_int) -> Result<(), String> {
    if code == ffi::MPI_SUCCESS as c_int {
        Ok(())
    } else {
        Err(format!("{call} failed with MPI error code {code}"))
    }
}
