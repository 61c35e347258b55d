//! The notebook's CPU-bound loop, computed exactly as Python's unbounded
//! integers compute it.

/// Modulus of the notebook's `cpu_func`.
pub const MODULUS: u64 = 10_000_000;

/// Iterations per worker when none are given: about a quarter of a second
/// of one core of a current x86 server (7 ns per iteration measured on an
/// AMD EPYC, `paralab bench --workers 1 --workloads cpu`).
pub const DEFAULT_ITERS: u64 = 35_000_000;

/// One step of the notebook's loop:
/// `(result*result*i + 2*result*i*i + 3) % 10_000_000`, for any `result` and
/// any `i` up to `u64::MAX`, without overflow.
///
/// Every term is reduced modulo 10^7 before it is multiplied, so no product
/// exceeds 3·10^14; the value is the one Python's big integers give.
///
/// ```
/// assert_eq!(paralab::workload::cpu_step(1, 1), 6);
/// assert_eq!(paralab::workload::cpu_step(1, u64::MAX), 7_768_068);
/// ```
#[inline]
pub fn cpu_step(result: u64, i: u64) -> u64 {
    let r = result % MODULUS;
    let i = i % MODULUS;
    let r_r_i = (r * r % MODULUS) * i;
    let two_r_i_i = 2 * r * (i * i % MODULUS);
    (r_r_i + two_r_i_i + 3) % MODULUS
}

/// The notebook's `cpu_func(1, niters)`: the value one cpu worker returns.
///
/// `black_box` keeps the compiler from computing the loop at compile time
/// or dropping it when the result looks unused, so the time measured is the
/// time of the loop.
///
/// ```
/// assert_eq!(paralab::workload::cpu_func(1000), 9_707_240);
/// ```
pub fn cpu_func(niters: u64) -> u64 {
    let niters = std::hint::black_box(niters);
    let mut result = 1;
    for i in 0..niters {
        result = cpu_step(result, i);
    }
    std::hint::black_box(result)
}
