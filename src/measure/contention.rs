//! What else ran: how many CPUs other work kept busy while paralab
//! measured, from the kernel's machine-wide counters (`/proc/stat`,
//! `/proc/pressure/cpu`) minus paralab's own process tree.
//!
//! paralab's own CPU is read with `getrusage`: `RUSAGE_SELF` covers every
//! thread of this process, alive or ended, and `RUSAGE_CHILDREN` every
//! child once it has been waited for. A run reaps all its worker
//! processes before it returns, so their whole CPU time is inside the
//! difference of two snapshots taken around the run (a child still
//! unreaped at the second snapshot would be missed; a run leaves none).

use std::time::{Duration, Instant};

use nix::sys::resource::{Usage, UsageWho, getrusage};
use nix::unistd::{SysconfVar, sysconf};

use crate::sys::procfs;

/// Other work below this many CPUs counts as a quiet machine: the noise of
/// a desktop's or a server's housekeeping, not work that competes.
pub(crate) const QUIET_CPUS: f64 = 0.1;

/// Runs shorter than this get no `others_cpus` or `steal_cpus`: the
/// machine's counters tick at `CLK_TCK` (100 Hz), so over a shorter window
/// each CPU's ±1 tick would be most of the figure.
const MIN_WINDOW_S: f64 = 0.05;

/// The machine-wide CPU counters of the `cpu` line of `/proc/stat`, in
/// clock ticks summed over every CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MachineTicks {
    /// Time the CPUs ran anything: user, nice, system, irq and softirq
    /// (a guest's time is already inside user and nice).
    pub busy: u64,
    /// Time a hypervisor ran something else while this VM wanted a CPU.
    pub steal: u64,
    /// How many CPUs the counters cover (the `cpuN` lines).
    pub cpus: usize,
}

/// Parses the text of `/proc/stat`: its first `cpu ` line, and the number
/// of `cpuN` lines.
pub(crate) fn parse_stat(text: &str) -> Option<MachineTicks> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal: kernels since 2.6.11.
    let field = |i: usize| fields.get(i).copied();
    let busy = field(0)? + field(1)? + field(2)? + field(5)? + field(6)?;
    let cpus = text
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .count();
    Some(MachineTicks {
        busy,
        steal: field(7).unwrap_or(0),
        cpus: cpus.max(1),
    })
}

/// Parses the text of `/proc/pressure/cpu`: the `total=` of its `some`
/// line, in microseconds during which at least one runnable task waited
/// for a CPU.
pub(crate) fn parse_pressure(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("some "))?;
    line.split_whitespace()
        .find_map(|word| word.strip_prefix("total="))?
        .parse()
        .ok()
}

/// Parses the text of `/proc/loadavg`: its first figure, the 1-minute
/// load average.
pub(crate) fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace().next()?.parse().ok()
}

/// The 1-minute load average now, from `/proc/loadavg`.
pub(crate) fn load_average_1m() -> Option<f64> {
    parse_loadavg(&procfs::read("/proc/loadavg").ok()?)
}

/// The counters contention is computed from, at one instant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counters {
    at: Instant,
    machine: Option<MachineTicks>,
    /// paralab's process tree's CPU time, in seconds.
    own_s: Option<f64>,
    /// `/proc/pressure/cpu` "some total", in microseconds.
    pressure_us: Option<u64>,
}

/// What else ran during a window, in average CPUs (or a share of it for
/// pressure); `None` where the kernel does not tell or the window is too
/// short to tell.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Contention {
    /// CPUs that work outside paralab's process tree kept busy.
    pub others_cpus: Option<f64>,
    /// CPUs the hypervisor took away (steal time).
    pub steal_cpus: Option<f64>,
    /// The share of the window during which some runnable task waited for
    /// a CPU: paralab's own workers, when they outnumber the CPUs, as much
    /// as anyone else's.
    pub cpu_pressure: Option<f64>,
}

impl Counters {
    /// Reads every counter now: just before a run's clock starts and
    /// just after it stops, never while it runs.
    pub(crate) fn now() -> Counters {
        let read = |path: &str| procfs::read(path).ok();
        Counters {
            machine: read("/proc/stat").as_deref().and_then(parse_stat),
            own_s: own_tree_cpu_s(),
            pressure_us: read("/proc/pressure/cpu")
                .as_deref()
                .and_then(parse_pressure),
            at: Instant::now(),
        }
    }

    /// What else ran between `self` (earlier) and `after`.
    pub(crate) fn until(&self, after: &Counters) -> Contention {
        let wall_s = after.at.duration_since(self.at).as_secs_f64();
        contention(
            wall_s,
            self.machine.zip(after.machine),
            self.own_s.zip(after.own_s),
            self.pressure_us.zip(after.pressure_us),
            clock_ticks_per_second(),
        )
    }
}

/// The arithmetic of [`Counters::until`], apart so that it can be tested
/// on made-up counters.
fn contention(
    wall_s: f64,
    machine: Option<(MachineTicks, MachineTicks)>,
    own_s: Option<(f64, f64)>,
    pressure_us: Option<(u64, u64)>,
    ticks_per_s: f64,
) -> Contention {
    if wall_s <= 0.0 {
        return Contention::default();
    }
    let long_enough = wall_s >= MIN_WINDOW_S;
    let ticks = |before: u64, after: u64| after.saturating_sub(before) as f64 / ticks_per_s;
    let others_cpus = machine.zip(own_s).filter(|_| long_enough).map(
        |((before, after), (own_before, own_after))| {
            let busy_s = ticks(before.busy, after.busy);
            let own_s = (own_after - own_before).max(0.0);
            ((busy_s - own_s) / wall_s).clamp(0.0, after.cpus as f64)
        },
    );
    let steal_cpus = machine.filter(|_| long_enough).map(|(before, after)| {
        (ticks(before.steal, after.steal) / wall_s).clamp(0.0, after.cpus as f64)
    });
    let cpu_pressure = pressure_us.map(|(before, after)| {
        (after.saturating_sub(before) as f64 / 1e6 / wall_s).clamp(0.0, 1.0)
    });
    Contention {
        others_cpus,
        steal_cpus,
        cpu_pressure,
    }
}

/// This process's CPU time (every thread) plus that of every child it has
/// waited for, in seconds.
fn own_tree_cpu_s() -> Option<f64> {
    let seconds = |usage: &Usage| {
        let (user, system) = (usage.user_time(), usage.system_time());
        (user.tv_sec() + system.tv_sec()) as f64 + (user.tv_usec() + system.tv_usec()) as f64 / 1e6
    };
    let own = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let children = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
    Some(seconds(&own) + seconds(&children))
}

/// `USER_HZ`, the unit of `/proc/stat`: 100 on every Linux in practice.
fn clock_ticks_per_second() -> f64 {
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(hz)) if hz > 0 => hz as f64,
        _ => 100.0,
    }
}

/// CPUs that other work keeps busy, measured over `window` while paralab
/// itself waits.
pub(crate) fn others_over(window: Duration) -> Option<f64> {
    let before = Counters::now();
    std::thread::sleep(window);
    before.until(&Counters::now()).others_cpus
}

/// What waiting for a quiet machine found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Waited {
    /// How long it waited.
    pub waited: Duration,
    /// The CPUs other work kept busy in the last window measured (`None`
    /// where `/proc/stat` cannot be read).
    pub others_cpus: Option<f64>,
    /// Whether that was under [`QUIET_CPUS`].
    pub quiet: bool,
}

/// Measures other work over windows of `window` until it keeps fewer than
/// [`QUIET_CPUS`] busy or `bound` has passed (a Ctrl-C meanwhile ends
/// paralab at once: nothing is measured yet).
pub(crate) fn wait_quiet(window: Duration, bound: Duration) -> Waited {
    let start = Instant::now();
    loop {
        let others_cpus = others_over(window);
        // Unmeasurable (no /proc/stat) is nothing to wait for.
        let done = others_cpus.is_none_or(|cpus| cpus < QUIET_CPUS);
        let waited = start.elapsed();
        if done || waited >= bound {
            return Waited {
                waited,
                others_cpus,
                quiet: others_cpus.is_some_and(|cpus| cpus < QUIET_CPUS),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  4705 150 1120 16250 520 20 30 40 0 0\n\
cpu0 2355 75 560 8125 260 10 15 20 0 0\n\
cpu1 2350 75 560 8125 260 10 15 20 0 0\n\
intr 114930548 113199788 3 0 5 263 0 4 [... lots more numbers ...]\n\
ctxt 1990473\nbtime 1062191376\nprocesses 2915\nprocs_running 1\nprocs_blocked 0\n";

    #[test]
    fn proc_stat_gives_busy_steal_and_cpus() {
        let ticks = parse_stat(STAT).unwrap();
        assert_eq!(ticks.busy, 4705 + 150 + 1120 + 20 + 30);
        assert_eq!(ticks.steal, 40);
        assert_eq!(ticks.cpus, 2);
        // An old kernel without steal, and garbage.
        let old = parse_stat("cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\n").unwrap();
        assert_eq!((old.busy, old.steal, old.cpus), (1 + 2 + 3 + 6 + 7, 0, 1));
        assert_eq!(parse_stat("cpu  1 2 x 4 5 6 7 8\n"), None);
        assert_eq!(parse_stat("cpu  1 2 3\n"), None);
        assert_eq!(parse_stat(""), None);
    }

    #[test]
    fn pressure_and_load_average_parse() {
        let pressure = "some avg10=1.53 avg60=0.87 avg300=0.30 total=12345678\n\
full avg10=0.00 avg60=0.00 avg300=0.00 total=42\n";
        assert_eq!(parse_pressure(pressure), Some(12_345_678));
        assert_eq!(
            parse_pressure("full avg10=0.00 avg60=0.00 avg300=0.00 total=42\n"),
            None
        );
        assert_eq!(parse_pressure("some avg10=0.00\n"), None);
        assert_eq!(parse_loadavg("1.52 0.98 0.40 3/512 12345\n"), Some(1.52));
        assert_eq!(parse_loadavg(""), None);
    }

    fn ticks(busy: u64, steal: u64) -> MachineTicks {
        MachineTicks {
            busy,
            steal,
            cpus: 2,
        }
    }

    #[test]
    fn others_are_the_machine_minus_paralab() {
        // Over 2 s at 100 ticks a second: 300 busy ticks are 3 CPU-seconds,
        // of which paralab used 1: others kept 1 CPU busy.
        let c = contention(
            2.0,
            Some((ticks(1000, 0), ticks(1300, 20))),
            Some((5.0, 6.0)),
            Some((1_000_000, 1_500_000)),
            100.0,
        );
        assert_eq!(c.others_cpus, Some(1.0));
        assert_eq!(c.steal_cpus, Some(0.1));
        assert_eq!(c.cpu_pressure, Some(0.25));
        // Tick rounding can make paralab look busier than the machine.
        let c = contention(
            1.0,
            Some((ticks(0, 0), ticks(90, 0))),
            Some((0.0, 1.0)),
            None,
            100.0,
        );
        assert_eq!(c.others_cpus, Some(0.0));
        assert_eq!(c.cpu_pressure, None);
    }

    #[test]
    fn a_window_too_short_for_the_ticks_gives_no_others() {
        let c = contention(
            0.01,
            Some((ticks(0, 0), ticks(2, 0))),
            Some((0.0, 0.0)),
            Some((0, 5_000)),
            100.0,
        );
        assert_eq!(c.others_cpus, None);
        assert_eq!(c.steal_cpus, None);
        assert_eq!(c.cpu_pressure, Some(0.5));
        assert_eq!(
            contention(0.0, None, None, None, 100.0),
            Contention::default()
        );
    }

    #[test]
    fn this_machine_can_be_read() {
        let before = Counters::now();
        std::thread::sleep(Duration::from_millis(60));
        let c = before.until(&Counters::now());
        if std::path::Path::new("/proc/stat").exists() {
            let others = c.others_cpus.unwrap();
            assert!((0.0..=crate::machine::logical_cpus().max(64) as f64).contains(&others));
        }
        if let Some(pressure) = c.cpu_pressure {
            assert!((0.0..=1.0).contains(&pressure));
        }
    }
}
