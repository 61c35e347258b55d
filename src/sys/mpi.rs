//! MPI for the `mpi` model, its primitives and the `messages` lesson: the
//! calls paralab makes, on `MPI_COMM_WORLD`, as safe methods of [`World`].
//!
//! They go through a small C file, `src/sys/mpi.c`, compiled by build.rs
//! with the MPI library's own `mpicc`. Why not the `mpi` crate (rsmpi): its
//! build generates bindings with bindgen, which needs libclang (often absent
//! on clusters), and when Open MPI or libclang is missing it fails with
//! pages of probe reports that no script of ours can come before. The C
//! file keeps MPI's handles (whose layout differs between Open MPI and
//! MPICH) on the C side, so the boundary is plain integers and buffers.
//!
//! MPI's default error handler, which paralab keeps, aborts the whole job
//! on any error: a call returns only when it succeeded, and the methods
//! return nothing. A rank that dies is seen by `mpirun` and reported there.

use std::cell::Cell;
use std::ffi::{c_char, c_double, c_int, c_void};
use std::marker::PhantomData;

unsafe extern "C" {
    fn paralab_mpi_init(serialized: c_int, provided: *mut c_int) -> c_int;
    fn paralab_mpi_thread_serialized() -> c_int;
    fn paralab_mpi_finalize() -> c_int;
    fn paralab_mpi_rank(rank: *mut c_int) -> c_int;
    fn paralab_mpi_size(size: *mut c_int) -> c_int;
    fn paralab_mpi_barrier() -> c_int;
    fn paralab_mpi_wtime() -> c_double;
    fn paralab_mpi_send(bytes: *const c_void, len: c_int, peer: c_int, tag: c_int) -> c_int;
    fn paralab_mpi_recv(bytes: *mut c_void, len: c_int, peer: c_int, tag: c_int) -> c_int;
    fn paralab_mpi_send_window(
        bytes: *const c_void,
        len: c_int,
        count: c_int,
        peer: c_int,
        tag: c_int,
    ) -> c_int;
    fn paralab_mpi_recv_window(
        bytes: *mut c_void,
        len: c_int,
        count: c_int,
        peer: c_int,
        tag: c_int,
    ) -> c_int;
    fn paralab_mpi_gather(mine: *const c_void, len: c_int, all: *mut c_void, root: c_int) -> c_int;
    fn paralab_mpi_broadcast(bytes: *mut c_void, len: c_int, root: c_int) -> c_int;
    fn paralab_mpi_allreduce_sum(mine: *const c_double, sum: *mut c_double, count: c_int) -> c_int;
    fn paralab_mpi_processor_name(name: *mut c_char, capacity: c_int) -> c_int;
    fn paralab_mpi_library_version(text: *mut c_char, capacity: c_int) -> c_int;
    fn paralab_mpi_iprobe(peer: c_int, tag: c_int, flag: *mut c_int) -> c_int;
}

/// The tag of every message: paralab's ranks exchange one kind at a time.
const TAG: c_int = 0;

/// MPI, initialised, for this process: one rank of `MPI_COMM_WORLD`.
/// Dropping it finalises MPI (every rank must, before it exits).
///
/// It may move to another thread (MPI is initialised with
/// `MPI_THREAD_SERIALIZED`), but not be shared by two at once: it is not
/// `Sync`, and a `Mutex` around it is how two threads take turns.
#[derive(Debug)]
pub(crate) struct World {
    rank: usize,
    size: usize,
    /// Not `Sync`: two threads calling MPI at the same moment is beyond
    /// what `MPI_THREAD_SERIALIZED` allows.
    _one_thread_at_a_time: PhantomData<Cell<()>>,
}

impl World {
    /// Initialises MPI (`MPI_Init_thread`, serialized); an error when it
    /// was initialised before or the library cannot serialize threads.
    pub(crate) fn init() -> Result<World, String> {
        let mut provided: c_int = 0;
        // SAFETY: MPI_Init_thread with null argc/argv is allowed by the
        // standard; `provided` is a valid place for the answer; the C side
        // refuses a second initialisation.
        let code = unsafe { paralab_mpi_init(1, &mut provided) };
        if code == -1 {
            return Err("MPI was already initialised in this process".into());
        }
        if code != 0 {
            return Err(format!("MPI_Init_thread failed (MPI error {code})"));
        }
        let (mut rank, mut size): (c_int, c_int) = (0, 0);
        // SAFETY: MPI is initialised; both out-pointers are valid.
        unsafe {
            paralab_mpi_rank(&mut rank);
            paralab_mpi_size(&mut size);
        }
        let world = World {
            rank: rank.max(0) as usize,
            size: size.max(1) as usize,
            _one_thread_at_a_time: PhantomData,
        };
        // SAFETY: a constant of the library, no argument.
        if provided < unsafe { paralab_mpi_thread_serialized() } {
            return Err("this MPI library cannot let threads take turns (MPI_THREAD_SERIALIZED); paralab needs it".into());
        }
        Ok(world)
    }

    /// This process's rank, 0 … size − 1.
    pub(crate) fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// `MPI_Barrier`: returns when every rank has called it.
    pub(crate) fn barrier(&self) {
        // SAFETY: MPI is initialised while `self` lives.
        unsafe { paralab_mpi_barrier() };
    }

    /// `MPI_Wtime`: seconds on this rank's clock (only differences mean
    /// something).
    pub(crate) fn time(&self) -> f64 {
        // SAFETY: MPI is initialised while `self` lives.
        unsafe { paralab_mpi_wtime() }
    }

    /// Sends `bytes` to rank `peer` and returns when the buffer may be
    /// reused (`MPI_Send`).
    pub(crate) fn send(&self, peer: usize, bytes: &[u8]) {
        // SAFETY: the buffer is valid for `len` bytes and only read.
        unsafe { paralab_mpi_send(bytes.as_ptr().cast(), len(bytes), rank_arg(peer), TAG) };
    }

    /// Receives a message of at most `bytes.len()` bytes from rank `peer`
    /// into `bytes` (`MPI_Recv`).
    pub(crate) fn receive(&self, peer: usize, bytes: &mut [u8]) {
        // SAFETY: the buffer is valid and exclusively ours for `len` bytes.
        unsafe { paralab_mpi_recv(bytes.as_mut_ptr().cast(), len(bytes), rank_arg(peer), TAG) };
    }

    /// Whether a message from rank `peer` is waiting to be received
    /// (`MPI_Iprobe`): a look that never blocks.
    pub(crate) fn has_message(&self, peer: usize) -> bool {
        let mut flag: c_int = 0;
        // SAFETY: `flag` is a valid place for the answer.
        unsafe { paralab_mpi_iprobe(rank_arg(peer), TAG, &mut flag) };
        flag != 0
    }

    /// osu_bw's sending side: `count` sends of `bytes` in flight at once
    /// (`MPI_Isend` each, then `MPI_Waitall`).
    pub(crate) fn send_window(&self, peer: usize, bytes: &[u8], count: usize) {
        // SAFETY: the buffer is only read, and outlives the requests: the
        // C side waits for all of them before it returns.
        unsafe {
            paralab_mpi_send_window(
                bytes.as_ptr().cast(),
                len(bytes),
                count_arg(count),
                rank_arg(peer),
                TAG,
            )
        };
    }

    /// osu_bw's receiving side: `count` receives posted at once into the
    /// same `bytes` (`MPI_Irecv` each, then `MPI_Waitall`); the buffer
    /// ends with one of the messages, whichever landed last.
    pub(crate) fn receive_window(&self, peer: usize, bytes: &mut [u8], count: usize) {
        // SAFETY: the buffer is exclusively ours and outlives the requests
        // (the C side waits for all of them). The messages overwrite one
        // another in it, as in osu_bw: bytes, never read while in flight.
        unsafe {
            paralab_mpi_recv_window(
                bytes.as_mut_ptr().cast(),
                len(bytes),
                count_arg(count),
                rank_arg(peer),
                TAG,
            )
        };
    }

    /// `MPI_Gather` of every rank's `mine` (all of the same length) to
    /// `root`: `Some(all ranks' bytes, in rank order)` on the root,
    /// `None` elsewhere.
    pub(crate) fn gather(&self, mine: &[u8], root: usize) -> Option<Vec<u8>> {
        let mut all = vec![
            0u8;
            if self.rank == root {
                mine.len() * self.size
            } else {
                0
            }
        ];
        // SAFETY: `mine` is valid for its length; on the root `all` holds
        // size × len bytes, as MPI_Gather writes; elsewhere it is unused.
        unsafe {
            paralab_mpi_gather(
                mine.as_ptr().cast(),
                len(mine),
                all.as_mut_ptr().cast(),
                rank_arg(root),
            )
        };
        (self.rank == root).then_some(all)
    }

    /// `MPI_Bcast`: `root`'s `bytes` are copied into every rank's.
    pub(crate) fn broadcast(&self, bytes: &mut [u8], root: usize) {
        // SAFETY: the buffer is valid and exclusively ours for its length.
        unsafe { paralab_mpi_broadcast(bytes.as_mut_ptr().cast(), len(bytes), rank_arg(root)) };
    }

    /// [`World::send`] of 64-bit words (little-endian on the wire).
    pub(crate) fn send_words(&self, peer: usize, words: &[u64]) {
        self.send(peer, &words_to_bytes(words));
    }

    /// [`World::receive`] of 64-bit words sent by [`World::send_words`].
    pub(crate) fn receive_words(&self, peer: usize, words: &mut [u64]) {
        let mut bytes = vec![0u8; words.len() * 8];
        self.receive(peer, &mut bytes);
        bytes_to_words(&bytes, words);
    }

    /// [`World::broadcast`] of 64-bit words.
    pub(crate) fn broadcast_words(&self, words: &mut [u64], root: usize) {
        let mut bytes = words_to_bytes(words);
        self.broadcast(&mut bytes, root);
        bytes_to_words(&bytes, words);
    }

    /// `MPI_Allreduce` with `MPI_SUM`: every rank gets the element-wise sum
    /// of every rank's `mine` in `sum` (of the same length).
    pub(crate) fn all_reduce_sum(&self, mine: &[f64], sum: &mut [f64]) {
        assert_eq!(mine.len(), sum.len(), "allreduce buffers of two lengths");
        // SAFETY: both buffers are valid for `count` doubles; `sum` is ours.
        unsafe {
            paralab_mpi_allreduce_sum(mine.as_ptr(), sum.as_mut_ptr(), count_arg(mine.len()))
        };
    }

    /// The name MPI knows this rank's host by (`MPI_Get_processor_name`).
    pub(crate) fn processor_name(&self) -> String {
        // SAFETY: the C side writes at most `capacity` bytes.
        text(|buffer, capacity| unsafe { paralab_mpi_processor_name(buffer, capacity) })
    }

    /// The library's own description, e.g. `Open MPI v4.1.4, …`.
    pub(crate) fn library_version(&self) -> String {
        // SAFETY: the C side writes at most `capacity` bytes.
        text(|buffer, capacity| unsafe { paralab_mpi_library_version(buffer, capacity) })
    }
}

impl Drop for World {
    fn drop(&mut self) {
        // SAFETY: MPI was initialised by `init`; the C side finalises once.
        unsafe { paralab_mpi_finalize() };
    }
}

fn words_to_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|word| word.to_le_bytes()).collect()
}

fn bytes_to_words(bytes: &[u8], words: &mut [u64]) {
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        *word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
    }
}

/// A buffer's length as MPI counts it; paralab's messages are far below
/// 2 GiB, MPI's `int` limit.
fn len(bytes: &[u8]) -> c_int {
    c_int::try_from(bytes.len()).expect("an MPI message of 2 GiB or more")
}

fn count_arg(count: usize) -> c_int {
    c_int::try_from(count).expect("more than 2³¹ MPI items")
}

fn rank_arg(rank: usize) -> c_int {
    c_int::try_from(rank).expect("a rank beyond 2³¹")
}

/// A string the C side writes into a buffer, returning its length.
fn text(write: impl FnOnce(*mut c_char, c_int) -> c_int) -> String {
    let mut buffer = vec![0u8; 4096];
    let written = write(buffer.as_mut_ptr().cast(), len(&buffer));
    buffer.truncate(written.clamp(0, 4096) as usize);
    String::from_utf8_lossy(&buffer)
        .trim_end_matches('\0')
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One rank on its own (MPI's singleton mode, no launcher): every call
    /// answers as a job of one rank must. MPI initialises once per
    /// process, so this is the crate's only test that initialises it.
    #[test]
    fn a_job_of_one_rank_answers_every_call() {
        let world = World::init().expect("MPI initialises as a singleton");
        assert_eq!((world.rank(), world.size()), (0, 1));
        assert!(World::init().is_err(), "a second init must be refused");
        world.barrier();
        let before = world.time();
        let mut word = *b"paralab!";
        world.broadcast(&mut word, 0);
        assert_eq!(&word, b"paralab!");
        let mut words = [7, u64::MAX];
        world.broadcast_words(&mut words, 0);
        assert_eq!(words, [7, u64::MAX]);
        world.send_words(0, &[1 << 40, 3]);
        let mut got_words = [0; 2];
        world.receive_words(0, &mut got_words);
        assert_eq!(got_words, [1 << 40, 3]);
        assert_eq!(world.gather(b"abc", 0), Some(b"abc".to_vec()));
        let mut sum = [0.0; 2];
        world.all_reduce_sum(&[1.5, -2.0], &mut sum);
        assert_eq!(sum, [1.5, -2.0]);
        assert!(!world.has_message(0));
        // A small message to oneself is buffered (eager), so it cannot block.
        world.send(0, b"hi");
        assert!(world.has_message(0));
        let mut got = [0u8; 2];
        world.receive(0, &mut got);
        assert_eq!(&got, b"hi");
        assert!(world.time() >= before);
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(world.processor_name(), host.trim());
        let library = world.library_version();
        assert!(
            library.contains("MPI"),
            "the library's description names no MPI: {library:?}"
        );
    }
}
