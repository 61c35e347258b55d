//! The notebook's CPU-bound loop, computed exactly as Python's unbounded
//! integers compute it.

/// Modulus of the notebook's `cpu_func`.
pub(crate) const MODULUS: u64 = 10_000_000;

/// Iterations per worker when none are given: about a quarter of a second
/// of one core of a current x86 server (7 ns per iteration measured on an
/// AMD EPYC, `paralab bench --workers 1 --workloads cpu`).
pub(crate) const DEFAULT_ITERS: u64 = 35_000_000;

/// One step of the notebook's loop:
/// `(result*result*i + 2*result*i*i + 3) % 10_000_000`, for any `result` and
/// any `i` up to `u64::MAX`, without overflow.
///
/// Every term is reduced modulo 10^7 before it is multiplied, so no product
/// exceeds 3·10^14; the value is the one Python's big integers give.
#[inline]
pub(crate) fn cpu_step(result: u64, i: u64) -> u64 {
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
pub(crate) fn cpu_func(niters: u64) -> u64 {
    let niters = std::hint::black_box(niters);
    let mut result = 1;
    for i in 0..niters {
        result = cpu_step(result, i);
    }
    std::hint::black_box(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_func_gives_the_notebooks_values() {
        assert_eq!(cpu_func(1000), 9_707_240);
    }

    /// Single steps with `i` up to `u64::MAX`, where every product overflows
    /// 128 bits in the naive formula. CPython 3.11's big integers printed
    /// these (`print((r*r*i + 2*r*i*i + 3) % 10000000)`).
    #[test]
    fn single_steps_at_huge_i() {
        let cases: &[(u64, u64, u64)] = &[
            (0, 18_446_744_073_709_551_615, 3),
            (1, 1, 6),
            (1, 10_000_000, 3),
            (1, 4_294_967_303, 3_154_924),
            (1, 9_223_372_036_854_775_808, 8_881_539),
            (1, 18_446_744_073_709_551_615, 7_768_068),
            (1, 18_446_744_073_709_551_557, 1_800_058),
            (9_999_999, 1, 2),
            (9_999_999, 4_294_967_303, 6_779_688),
            (9_999_999, 9_223_372_036_854_775_808, 670_083),
            (9_999_999, 18_446_744_073_709_551_615, 1_335_168),
            (9_999_999, 18_446_744_073_709_551_557, 7_303_062),
            (1_234_567, 1, 8_146_626),
            (1_234_567, 4_294_967_303, 1_133_576),
            (1_234_567, 9_223_372_036_854_775_808, 3_685_891),
            (1_234_567, 18_446_744_073_709_551_615, 7_121_888),
            (1_234_567, 18_446_744_073_709_551_557, 1_230_742),
        ];
        for &(result, i, expected) in cases {
            assert_eq!(
                cpu_step(result, i),
                expected,
                "step(result={result}, i={i})"
            );
        }
    }

    /// The loop's body, run by the machine's python3 on steps chosen here,
    /// so that the references are not only the ones written above. Skipped
    /// with one line without python3, a failure then when
    /// `PARALAB_REQUIRE_PYTHON=1` (as `.ci/run` sets it).
    #[test]
    fn python_agrees_on_single_steps_at_huge_i() {
        let steps = [
            (3_u64, u64::MAX - 12),
            (9_999_998, 1 << 40),
            (42, 10_000_001),
        ];
        let script = format!("for r, i in {steps:?}: print((r*r*i + 2*r*i*i + 3) % 10000000)\n");
        let output = match std::process::Command::new("python3")
            .arg("-c")
            .arg(&script)
            .output()
        {
            Ok(output) => output,
            Err(error) if std::env::var("PARALAB_REQUIRE_PYTHON").is_ok_and(|v| v == "1") => {
                panic!("PARALAB_REQUIRE_PYTHON=1, but python3 cannot be run: {error}")
            }
            Err(error) => {
                eprintln!("skipped python_agrees_on_single_steps_at_huge_i: no python3 ({error})");
                return;
            }
        };
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let python: Vec<u64> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| line.parse().unwrap())
            .collect();
        let ours: Vec<u64> = steps.iter().map(|&(r, i)| cpu_step(r, i)).collect();
        assert_eq!(ours, python);
    }
}
