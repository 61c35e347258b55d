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

/// The value [`cpu_func`]`(niters)` returns, for any `niters`, in at most
/// 10^7 steps: the reference every cpu worker is checked against, bounded
/// in time even when the workers are not (`--iters 18446744073709551615`).
///
/// Why it holds: a step depends on `i` only modulo 10^7 (every term is
/// reduced modulo 10^7), and the step at an `i` that is a multiple of
/// 10^7 gives 3 whatever `result` was, since both of its products hold
/// `i`. So the loop forgets everything before its last such `i`, and from
/// there makes the same steps as the loop of `(niters − 1) mod 10^7 + 1`
/// iterations makes from its own `i = 0` (which also gives 3).
pub(crate) fn cpu_reference(niters: u64) -> u64 {
    match niters {
        0 => 1,
        n => cpu_func((n - 1) % MODULUS + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    #[test]
    fn cpu_func_gives_the_notebooks_values() {
        assert_eq!(cpu_func(1000), 9_707_240);
    }

    /// The loop run once, step by step, over three periods of 10^7: at
    /// every `niters` it passes, the shortcut must give what the loop holds.
    /// The first period is kept as a table, so each check costs nothing.
    #[test]
    fn the_reference_is_the_loop_for_every_niters_up_to_three_periods() {
        let period = MODULUS as usize;
        let mut first = Vec::with_capacity(period + 1);
        let mut result = 1;
        first.push(result as u32);
        for i in 0..period as u64 {
            result = cpu_step(result, i);
            first.push(result as u32);
        }
        let shortcut = |niters: u64| match niters {
            0 => 1,
            n => u64::from(first[((n - 1) % MODULUS + 1) as usize]),
        };
        let mut checked = 0_u64;
        for i in period as u64..3 * MODULUS + 17 {
            result = cpu_step(result, i);
            assert_eq!(shortcut(i + 1), result, "niters = {}", i + 1);
            checked += 1;
        }
        assert!(checked > 2 * MODULUS);
        // The table is cpu_reference's own path, shortened: check that too.
        for niters in [0, 1, 2, 999, MODULUS, MODULUS + 1, 2 * MODULUS + 5] {
            assert_eq!(cpu_reference(niters), shortcut(niters), "niters = {niters}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// The two facts the shortcut rests on, for any `result` and any
        /// `i`, far beyond what the loop above reaches.
        #[test]
        fn a_step_forgets_result_at_multiples_of_the_modulus(
            result in any::<u64>(),
            k in 0..u64::MAX / MODULUS,
            i in any::<u64>(),
        ) {
            prop_assert_eq!(cpu_step(result, k * MODULUS), 3);
            prop_assert_eq!(cpu_step(result, i), cpu_step(result, i % MODULUS));
        }

        /// Far past the loop's reach, the reference equals the loop run
        /// from the last multiple of 10^7 (where it restarts from 3).
        #[test]
        fn the_reference_restarts_at_the_last_multiple(
            blocks in 1..u64::MAX / MODULUS - 1,
            rest in 1..2000_u64,
        ) {
            let niters = blocks * MODULUS + rest;
            let mut result = 12_345; // anything: the step at blocks·10^7 forgets it
            for i in blocks * MODULUS..niters {
                result = cpu_step(result, i);
            }
            prop_assert_eq!(cpu_reference(niters), result);
        }
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
