//! MPI's own primitives, measured the way the OSU Micro-Benchmarks measure
//! them: ping-pong latency (`osu_latency`), windowed bandwidth (`osu_bw`),
//! barrier (`osu_barrier`), an 8-byte allreduce (`osu_allreduce`), and the
//! launch of an MPI job (`mpirun` start to exit of a program that only
//! initialises and finalises MPI).
//!
//! paralab runs `mpirun -n 2 … paralab primitives --mpi-rank LIST`; the two
//! ranks are this program started again, and rank 0 prints one JSON line per
//! figure on stdout, which the launching paralab reads. Each figure is
//! measured in several rounds, each round one whole OSU measurement (untimed
//! warm-up iterations, then timed ones, averaged); the rounds give the
//! median and spread.
//!
//! The method is OSU 5.3's, read from its source: the same warm-up and
//! timed iterations for each size, page-aligned buffers written once
//! before timing, osu_bw's window of 64 non-blocking messages through one
//! buffer on each side (`sys::mpi::World::send_window`/`receive_window`)
//! and its 4-byte acknowledgement,
//! each barrier and allreduce timed on its own and averaged over the ranks.
//! When OSU's own programs are found (on the PATH, or in `--osu-dir`) they
//! run in the same run over the same transport, and their figures are
//! printed beside paralab's with the ratio.

// Without the `mpi` feature only the names are used (to refuse them with
// the sentence saying how to build paralab with MPI).
#![cfg_attr(not(feature = "mpi"), allow(dead_code))]

use serde::{Deserialize, Serialize};

use crate::fmt::{Column, Table, nanos, thousands};

/// Whether this binary can measure MPI's primitives.
pub(crate) const BUILT_WITH_MPI: bool = cfg!(feature = "mpi");

/// One of MPI's primitives that `paralab primitives --mpi` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MpiPrimitive {
    /// Half a round trip of 1 byte between two ranks.
    Latency1B,
    /// Half a round trip of 1 MiB between two ranks.
    Latency1MiB,
    /// 1 MiB messages, 64 in flight, then a 1-byte acknowledgement.
    Bandwidth,
    /// One `MPI_Barrier` of two ranks.
    Barrier,
    /// One `MPI_Allreduce` (sum) of 8 bytes (two floats) over two ranks.
    Allreduce,
    /// `mpirun -n 2` of a program doing `MPI_Init` and `MPI_Finalize` only,
    /// timed by paralab from start to exit.
    Launch,
}

/// One message of osu_latency's large size and of osu_bw's.
const MIB: usize = 1 << 20;
/// Messages in flight in the bandwidth test (osu_bw's default window).
const WINDOW: usize = 64;
/// Rounds per figure: each round is one whole OSU measurement.
const ROUNDS: usize = 10;
/// Timed launches (after one untimed one).
const LAUNCHES: usize = 5;

impl MpiPrimitive {
    /// Every MPI primitive, in the order they are printed.
    pub(crate) const ALL: [MpiPrimitive; 6] = [
        MpiPrimitive::Latency1B,
        MpiPrimitive::Latency1MiB,
        MpiPrimitive::Bandwidth,
        MpiPrimitive::Barrier,
        MpiPrimitive::Allreduce,
        MpiPrimitive::Launch,
    ];

    /// The short name used by `--only`.
    pub(crate) fn id(self) -> &'static str {
        match self {
            MpiPrimitive::Latency1B => "mpi-latency-1b",
            MpiPrimitive::Latency1MiB => "mpi-latency-1mib",
            MpiPrimitive::Bandwidth => "mpi-bw",
            MpiPrimitive::Barrier => "mpi-barrier",
            MpiPrimitive::Allreduce => "mpi-allreduce",
            MpiPrimitive::Launch => "mpi-launch",
        }
    }

    /// What one operation is.
    pub(crate) fn operation(self) -> &'static str {
        match self {
            MpiPrimitive::Latency1B => "MPI ping-pong latency, 1 B (half a round trip)",
            MpiPrimitive::Latency1MiB => "MPI ping-pong latency, 1 MiB (half a round trip)",
            MpiPrimitive::Bandwidth => "MPI bandwidth, 1 MiB messages, window 64",
            MpiPrimitive::Barrier => "MPI_Barrier, 2 ranks",
            MpiPrimitive::Allreduce => "MPI_Allreduce of 8 B, 2 ranks",
            MpiPrimitive::Launch => "mpirun -n 2 of MPI_Init + MPI_Finalize",
        }
    }

    /// `ns` for times, `MB/s` (10⁶ bytes a second, as OSU counts) for the
    /// bandwidth.
    pub(crate) fn unit(self) -> &'static str {
        match self {
            MpiPrimitive::Bandwidth => "MB/s",
            _ => "ns",
        }
    }

    /// What OSU 7.2 measured for the same thing on issue 13's machine (Open
    /// MPI 4.1.4, `mpirun -n 2`, idle), with the OSU program that did it.
    pub(crate) fn osu_reference(self) -> &'static str {
        match self {
            MpiPrimitive::Latency1B => "osu_latency: 0.20 µs shm, 6.0 µs tcp",
            MpiPrimitive::Latency1MiB => "osu_latency: 98 µs shm, 122 µs tcp",
            MpiPrimitive::Bandwidth => "osu_bw: 12,500 MB/s shm, 2,700–4,900 tcp",
            MpiPrimitive::Barrier => "osu_barrier: not measured",
            MpiPrimitive::Allreduce => "osu_allreduce -m 8:8: not measured",
            MpiPrimitive::Launch => "mpirun -n 2: 0.32–0.34 s",
        }
    }

    /// Untimed and timed iterations of one round: OSU 5.3's defaults for
    /// the message size (osu_pt2pt.h's LAT_/BW_ SKIP and LOOP, small up to
    /// 8 KiB, large above; osu_coll.c's skip and iterations, osu_barrier
    /// taking the large ones).
    fn iterations(self) -> (usize, usize) {
        match self {
            MpiPrimitive::Latency1B => (100, 10_000),
            MpiPrimitive::Latency1MiB => (10, 1_000),
            MpiPrimitive::Bandwidth => (2, 20),
            MpiPrimitive::Barrier => (10, 100),
            MpiPrimitive::Allreduce => (200, 1_000),
            MpiPrimitive::Launch => (1, LAUNCHES),
        }
    }

    /// The OSU program measuring the same thing, its arguments, and the
    /// message size of the output line that holds the figure (`None`: the
    /// program prints one figure without a size, as `osu_barrier` does).
    /// The launch has no OSU counterpart.
    pub(crate) fn osu_program(
        self,
    ) -> Option<(&'static str, &'static [&'static str], Option<u64>)> {
        match self {
            MpiPrimitive::Latency1B => Some(("osu_latency", &[], Some(1))),
            MpiPrimitive::Latency1MiB => Some(("osu_latency", &[], Some(MIB as u64))),
            MpiPrimitive::Bandwidth => Some(("osu_bw", &[], Some(MIB as u64))),
            MpiPrimitive::Barrier => Some(("osu_barrier", &[], None)),
            MpiPrimitive::Allreduce => Some(("osu_allreduce", &["-m", "8:8"], Some(8))),
            MpiPrimitive::Launch => None,
        }
    }
}

impl std::str::FromStr for MpiPrimitive {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        MpiPrimitive::ALL
            .into_iter()
            .find(|p| p.id() == s)
            .ok_or_else(|| format!("unknown MPI primitive '{s}'; accepted: {}", names()))
    }
}

/// The `--only` names of the MPI primitives, comma-separated.
pub(crate) fn names() -> String {
    let names: Vec<&str> = MpiPrimitive::ALL.iter().map(|p| p.id()).collect();
    names.join(", ")
}

/// One measured MPI figure: the rounds' median, spread and best, in the
/// primitive's unit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct MpiFigure {
    /// The primitive's `--only` name.
    pub id: &'static str,
    /// What one operation is.
    pub operation: &'static str,
    /// `ns` per operation, or `MB/s`.
    pub unit: &'static str,
    /// Rounds measured (launches, for the launch).
    pub rounds: usize,
    /// Timed iterations averaged in each round.
    pub iterations: usize,
    /// Median of the rounds.
    pub median: f64,
    /// 5th percentile of the rounds.
    pub p5: f64,
    /// 95th percentile of the rounds.
    pub p95: f64,
    /// The best round: the fastest time, or the highest bandwidth.
    pub best: f64,
    /// OSU 7.2's figure on issue 13's machine, not measured by paralab.
    pub osu_reference: &'static str,
    /// The transport the messages went through (see [`Transport`]).
    pub transport: String,
    /// Every round's figure, in the primitive's unit.
    pub values: Vec<f64>,
    /// The mpirun jobs the rounds were measured in (several when OSU's
    /// programs ran in between).
    pub jobs: usize,
    /// The OSU program's figure for the same thing, measured in this run
    /// over the same transport, when that program was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub osu: Option<OsuFigure>,
}

/// What an OSU Micro-Benchmark measured in this run, beside paralab.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct OsuFigure {
    /// The program and its arguments, e.g. `osu_allreduce -m 8:8`.
    pub program: String,
    /// Each run's figure, in the primitive's unit (ns or MB/s).
    pub runs: Vec<f64>,
    /// The median of the runs.
    pub median: f64,
    /// paralab's median cost over OSU's: paralab's time ÷ OSU's, or OSU's
    /// bandwidth ÷ paralab's; above 1, paralab is the slower.
    pub paralab_over_osu: f64,
}

/// Runs of each OSU program per transport (each run is one whole OSU
/// measurement, as a paralab round is).
pub(crate) const OSU_RUNS: usize = 3;

/// The target: paralab within this factor of OSU.
pub(crate) const OSU_TARGET: f64 = 1.1;

impl OsuFigure {
    /// OSU's runs of `primitive` beside paralab's median `paralab`.
    pub(crate) fn new(primitive: MpiPrimitive, runs: Vec<f64>, paralab: f64) -> Self {
        let (name, args, _) = primitive.osu_program().expect("an OSU counterpart");
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        let median = super::percentile(&sorted, 50.0);
        let paralab_over_osu = if primitive.unit() == "MB/s" {
            median / paralab
        } else {
            paralab / median
        };
        let mut program = name.to_string();
        for arg in args {
            program.push(' ');
            program.push_str(arg);
        }
        OsuFigure {
            program,
            runs,
            median,
            paralab_over_osu,
        }
    }
}

/// Where the OSU programs are: in `--osu-dir DIR` (flat, or OSU's
/// installed layout with `pt2pt/` and `collective/` under it), or on the
/// PATH.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct OsuPrograms {
    dir: Option<std::path::PathBuf>,
}

/// Where in `--osu-dir` the programs may be: OSU's `make install` puts
/// them in `libexec/osu-micro-benchmarks/mpi/{pt2pt,collective}`.
const OSU_SUBDIRS: [&str; 5] = ["", "pt2pt", "collective", "mpi/pt2pt", "mpi/collective"];

impl OsuPrograms {
    /// The programs on the PATH.
    pub(crate) fn on_path() -> Self {
        OsuPrograms { dir: None }
    }

    /// The programs under `dir`; refused when it holds no `osu_latency`.
    pub(crate) fn in_dir(dir: &std::path::Path) -> Result<Self, String> {
        let programs = OsuPrograms {
            dir: Some(dir.to_path_buf()),
        };
        if !dir.is_dir() {
            return Err(format!(
                "--osu-dir '{}' is not a directory; give the directory of the OSU Micro-Benchmarks' \
                 programs, e.g. /usr/local/libexec/osu-micro-benchmarks/mpi",
                dir.display()
            ));
        }
        if programs.find("osu_latency").is_none() {
            return Err(format!(
                "--osu-dir '{}' holds no osu_latency (looked in it and in its {}); give the directory \
                 of the OSU Micro-Benchmarks' programs, e.g. /usr/local/libexec/osu-micro-benchmarks/mpi",
                dir.display(),
                OSU_SUBDIRS[1..].join(", ")
            ));
        }
        Ok(programs)
    }

    /// The program `name`, if it is there and executable.
    pub(crate) fn find(&self, name: &str) -> Option<std::path::PathBuf> {
        let dirs: Vec<std::path::PathBuf> = match &self.dir {
            Some(dir) => OSU_SUBDIRS.iter().map(|sub| dir.join(sub)).collect(),
            None => std::env::split_paths(&std::env::var_os("PATH")?).collect(),
        };
        dirs.into_iter().map(|d| d.join(name)).find(|path| {
            use std::os::unix::fs::PermissionsExt;
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    }
}

/// The figure in an OSU program's output: the value on the line for
/// message size `size` (`SIZE VALUE` lines, as osu_latency, osu_bw and
/// osu_allreduce print them), or the first value line (osu_barrier prints
/// one figure without a size). Lines starting with `#` are OSU's headers.
/// Anything that is not OSU's output is refused, naming what was missing.
pub(crate) fn parse_osu_output(
    program: &str,
    text: &str,
    size: Option<u64>,
) -> Result<f64, String> {
    let shown = || {
        let first: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .collect();
        if first.is_empty() {
            "it printed nothing".to_string()
        } else {
            format!("it printed: '{}'", first.join(" | "))
        }
    };
    if !text
        .lines()
        .any(|l| l.trim_start().starts_with("# OSU MPI"))
    {
        return Err(format!(
            "{program}'s output has no '# OSU MPI …' title, so it is not the OSU Micro-Benchmarks' \
             {program} ({}); put OSU's own program on the PATH or give --osu-dir",
            shown()
        ));
    }
    let values = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let mut found = None;
    for line in values {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let value = match size {
            None => fields.first(),
            Some(size) if fields.first().and_then(|f| f.parse::<u64>().ok()) == Some(size) => {
                fields.get(1)
            }
            Some(_) => continue,
        };
        found = Some((line, value.and_then(|v| v.parse::<f64>().ok())));
        break;
    }
    let wanted = match size {
        Some(size) => format!("line 'SIZE VALUE' for {size} bytes"),
        None => "line with its figure".to_string(),
    };
    match found {
        Some((_, Some(value))) if value.is_finite() && value > 0.0 => Ok(value),
        Some((line, _)) => Err(format!(
            "{program}'s line '{line}' holds no positive figure (expected a {wanted})"
        )),
        None => Err(format!("{program}'s output has no {wanted}; {}", shown())),
    }
}

/// A way for the two ranks to talk, chosen by mpirun's arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Transport {
    /// How the table names it.
    pub name: String,
    /// mpirun's arguments for it, before the program.
    pub mpirun_args: Vec<String>,
}

/// What `--mpi` measures: shared memory (Open MPI's default for two ranks
/// of one host) and TCP side by side, or, given `--mpi-args`, only what
/// they ask for.
pub(crate) fn transports(given: Option<(&str, Vec<String>)>) -> Vec<Transport> {
    match given {
        Some((text, mpirun_args)) => vec![Transport {
            name: format!("mpirun {text}"),
            mpirun_args,
        }],
        None => vec![
            Transport {
                name: "shared memory".to_string(),
                mpirun_args: Vec::new(),
            },
            Transport {
                name: "tcp".to_string(),
                mpirun_args: ["--mca", "btl", "self,tcp"].map(String::from).to_vec(),
            },
        ],
    }
}

impl MpiFigure {
    /// Summarises the rounds of `primitive`.
    pub(crate) fn from_rounds(primitive: MpiPrimitive, iterations: usize, rounds: &[f64]) -> Self {
        let mut sorted = rounds.to_vec();
        sorted.sort_by(f64::total_cmp);
        let best = if primitive == MpiPrimitive::Bandwidth {
            sorted[sorted.len() - 1]
        } else {
            sorted[0]
        };
        MpiFigure {
            id: primitive.id(),
            operation: primitive.operation(),
            unit: primitive.unit(),
            rounds: rounds.len(),
            iterations,
            median: super::percentile(&sorted, 50.0),
            p5: super::percentile(&sorted, 5.0),
            p95: super::percentile(&sorted, 95.0),
            best,
            osu_reference: primitive.osu_reference(),
            transport: String::new(),
            values: rounds.to_vec(),
            jobs: 1,
            osu: None,
        }
    }

    /// This figure with the rounds of `later` (the same primitive, measured
    /// again in another mpirun job) added to its own.
    pub(crate) fn with_job(self, later: &MpiFigure) -> Result<MpiFigure, String> {
        let primitive: MpiPrimitive = self.id.parse()?;
        let mut values = self.values.clone();
        values.extend_from_slice(&later.values);
        Ok(MpiFigure {
            transport: self.transport,
            jobs: self.jobs + later.jobs,
            osu: self.osu,
            ..MpiFigure::from_rounds(primitive, self.iterations, &values)
        })
    }
}

/// One line rank 0 prints: a figure's id, its timed iterations per round,
/// and each round's result in the primitive's unit.
#[derive(Debug, Serialize, Deserialize)]
struct RankLine {
    id: String,
    iterations: usize,
    rounds: Vec<f64>,
}

/// The table of MPI figures, each transport's beside the others': with
/// OSU's figures of this run and the ratio when OSU's programs ran, else
/// with OSU's cited ones. `others` is the CPUs other work (outside
/// paralab, its mpirun, its ranks and OSU's) kept busy while they were
/// measured, and the logical CPUs, to say when the comparison is
/// inconclusive.
pub(crate) fn render_table(figures: &[MpiFigure], others: Option<(f64, usize)>) -> String {
    let compared = figures.iter().any(|f| f.osu.is_some());
    let mut headers = vec![
        "MPI primitive",
        "transport",
        "median",
        "spread (p5 … p95)",
        "best",
        "rounds",
    ];
    if compared {
        headers.extend(["OSU in this run (median)", "paralab ÷ OSU"]);
    } else {
        headers.push("OSU 7.2 on issue 13's machine");
    }
    let mut table = Table::new("", &headers);
    let show = |unit: &str, value: f64| {
        if unit == "MB/s" {
            format!("{} MB/s", thousands(value.round() as u64))
        } else {
            nanos(value)
        }
    };
    let mut outside = 0;
    for f in figures {
        let mut row = vec![
            f.operation.to_string(),
            f.transport.clone(),
            show(f.unit, f.median),
            format!("{:>9} … {:<9}", show(f.unit, f.p5), show(f.unit, f.p95)),
            show(f.unit, f.best),
            f.rounds.to_string(),
        ];
        match (&f.osu, compared) {
            (Some(osu), _) => {
                let ratio = osu.paralab_over_osu;
                let beyond = !(1.0 / OSU_TARGET..=OSU_TARGET).contains(&ratio);
                outside += usize::from(beyond);
                row.push(format!("{} ({})", show(f.unit, osu.median), osu.program));
                row.push(format!(
                    "{ratio:.2}{}",
                    if beyond { " (beyond 1.1×)" } else { "" }
                ));
            }
            (None, true) => {
                row.push(format!("not run; cited {}", f.osu_reference));
                row.push(String::new());
            }
            (None, false) => row.push(f.osu_reference.to_string()),
        }
        table.row(row);
    }
    let mut columns = vec![
        Column::LEFT,
        Column::LEFT,
        Column::right(11),
        Column::right(27),
        Column::right(11),
        Column::right(6),
        Column::LEFT,
    ];
    if compared {
        columns.push(Column::LEFT);
    }
    let mut out = table.render_rows(" ", &columns);
    out.push_str(
        "Two ranks on this machine; shared memory is Open MPI's default between ranks of one \
         host, tcp is --mca btl self,tcp (standing in for a second host). Each round is one \
         measurement by OSU 5.3's method (its warm-up and timed iterations, window and \
         buffers); the launch is timed by paralab, mpirun start to exit.",
    );
    if compared {
        out.push_str(&format!(
            " OSU's programs ran in this run, {OSU_RUNS} times each over the same transport, one \
             job at a time, taking turns with paralab's own jobs (its rounds are pooled over \
             {OSU_RUNS} jobs: figures move from one job to the next); paralab ÷ OSU is paralab's time over OSU's (OSU's bandwidth over \
             paralab's), so above 1 paralab is the slower; the target is within {OSU_TARGET}×. \
             Rows marked 'not run' had no OSU program (or none found) and cite OSU 7.2's figure \
             from issue 13's idle machine (Open MPI 4.1.4).\n"
        ));
        if let Some((others, cpus)) =
            others.filter(|(others, _)| outside > 0 && *others >= BUSY_CPUS)
        {
            out.push_str(&format!(
                "The machine was busy (other processes kept {others:.1} of the {cpus} CPUs busy \
                 while these were measured): the ratios beyond 1.1× are inconclusive, as they \
                 took the CPUs from both programs at different moments; run again on an idle \
                 machine.\n"
            ));
        }
    } else {
        out.push_str(
            " The last column is OSU 7.2's, measured for issue 13 on an idle machine (Open MPI \
             4.1.4), not by this run: put osu_latency, osu_bw, osu_barrier and osu_allreduce on \
             the PATH, or give --osu-dir, to measure them beside paralab.\n",
        );
    }
    out
}

/// Other work keeping this many CPUs busy makes a ratio beyond the target
/// inconclusive: two ranks each need a CPU, and MPI's ranks spin while
/// they wait, so any CPU taken from them shows in their figures.
const BUSY_CPUS: f64 = 0.2;

#[cfg(feature = "mpi")]
pub(crate) use with_mpi::{compare_with_osu, measure, serve_rank};

/// A rank started by `measure` is `paralab primitives --mpi-rank LIST`:
/// served here, before paralab's signal thread starts, so that mpirun's
/// SIGTERM to a rank (when another rank fails) ends it quietly instead of
/// printing paralab's own "interrupted" line. Exits when this process is a
/// rank; returns otherwise. (Without this call first in `main`, the
/// `primitives` subcommand serves the rank itself.)
#[cfg(feature = "mpi")]
pub(crate) fn serve_rank_if_requested() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).take(4).collect();
    if args.len() != 3 || args[0] != "primitives" || args[1] != "--mpi-rank" {
        return;
    }
    let code = match args[2].to_str().map(serve_rank) {
        Some(Ok(())) => 0,
        Some(Err(error)) => {
            eprintln!("paralab: {error}");
            1
        }
        None => {
            eprintln!("paralab: the --mpi-rank list is not UTF-8");
            2
        }
    };
    std::process::exit(code);
}

/// Without MPI no process is ever a rank.
#[cfg(not(feature = "mpi"))]
pub(crate) fn serve_rank_if_requested() {}

#[cfg(feature = "mpi")]
mod with_mpi {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::time::Instant;

    use crate::sys::children::GroupChild;
    use crate::sys::mpi::World;

    use super::{
        LAUNCHES, MIB, MpiFigure, MpiPrimitive, OSU_RUNS, OsuFigure, OsuPrograms, ROUNDS, RankLine,
        Transport, WINDOW, parse_osu_output,
    };

    /// A page: the alignment osu_latency and osu_bw give their buffers
    /// (`posix_memalign(…, getpagesize(), …)`).
    const PAGE: usize = 4096;

    /// A message buffer that starts on a page boundary, every byte written
    /// before the timing (OSU's `touch_data`), so that no first-touch page
    /// fault lands in a timed iteration.
    struct AlignedBuffer {
        storage: Vec<u8>,
        start: usize,
        len: usize,
    }

    impl AlignedBuffer {
        /// `len` bytes, each set to `fill`.
        fn new(len: usize, fill: u8) -> Self {
            let storage = vec![fill; len + PAGE];
            // Past a page, an alignment the allocator cannot give: the
            // buffer is then used unaligned, which only costs speed.
            let start = Some(storage.as_ptr().align_offset(PAGE))
                .filter(|offset| *offset < PAGE)
                .unwrap_or(0);
            AlignedBuffer {
                storage,
                start,
                len,
            }
        }

        fn bytes(&self) -> &[u8] {
            &self.storage[self.start..self.start + self.len]
        }

        fn bytes_mut(&mut self) -> &mut [u8] {
            &mut self.storage[self.start..self.start + self.len]
        }
    }

    /// The hidden `--mpi-rank` value of a rank that only initialises MPI.
    const INIT_ONLY: &str = "init";

    /// Runs `mpirun -n 2` of this program as ranks that measure `chosen`
    /// (the launch is timed here), with `mpi_args` given to mpirun before
    /// the program.
    pub(crate) fn measure(
        chosen: &[MpiPrimitive],
        transport: &Transport,
    ) -> Result<Vec<MpiFigure>, String> {
        let mpi_args = &transport.mpirun_args;
        let program = std::env::current_exe()
            .map_err(|e| format!("could not find paralab's own program to start as ranks: {e}"))?;
        let ranked: Vec<&str> = chosen
            .iter()
            .filter(|p| **p != MpiPrimitive::Launch)
            .map(|p| p.id())
            .collect();
        let mut figures = Vec::new();
        if !ranked.is_empty() {
            // A child of paralab's own kind: its group killed by a stop
            // signal, itself killed with paralab, signals unblocked (else
            // mpirun would inherit paralab's blocked SIGINT and SIGTERM).
            let mut child = GroupChild::spawn(
                mpirun(mpi_args, &program, &ranked.join(",")).stdout(Stdio::piped()),
            )
            .map_err(no_mpirun)?;
            let stdout = child.child().stdout.take().expect("piped");
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let line = line.map_err(|e| format!("could not read the ranks' output: {e}"))?;
                match serde_json::from_str::<RankLine>(&line) {
                    Ok(parsed) => lines.push(parsed),
                    // mpirun's own words, or a rank's: diagnostics.
                    Err(_) => eprintln!("{line}"),
                }
            }
            let status = child.wait();
            // A signal ending paralab killed mpirun: let it finish and
            // exit as it says, rather than report mpirun's death.
            crate::sys::signals::wait_if_stopping_now();
            let status = status.map_err(|e| format!("could not wait for mpirun: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "mpirun ended with {status} (its own message is above); the MPI figures before it are lost"
                ));
            }
            for primitive in chosen {
                if *primitive == MpiPrimitive::Launch {
                    continue;
                }
                let line = lines
                    .iter()
                    .find(|l| l.id == primitive.id())
                    .ok_or_else(|| format!("rank 0 printed no figure for {}", primitive.id()))?;
                if line.rounds.is_empty() || line.rounds.iter().any(|v| !v.is_finite() || *v <= 0.0)
                {
                    return Err(format!(
                        "rank 0 printed impossible figures for {}: {:?}",
                        primitive.id(),
                        line.rounds
                    ));
                }
                figures.push(MpiFigure::from_rounds(
                    *primitive,
                    line.iterations,
                    &line.rounds,
                ));
            }
        }
        if chosen.contains(&MpiPrimitive::Launch) {
            let launches = time_launches(mpi_args, &program)?;
            figures.push(MpiFigure::from_rounds(MpiPrimitive::Launch, 1, &launches));
        }
        // In the order asked for.
        figures.sort_by_key(|f| chosen.iter().position(|p| p.id() == f.id));
        for figure in &mut figures {
            figure.transport = transport.name.clone();
        }
        Ok(figures)
    }

    /// `mpirun -n 2 [--allow-run-as-root] [--oversubscribe] ARGS program
    /// primitives --mpi-rank LIST`.
    fn mpirun(mpi_args: &[String], program: &std::path::Path, list: &str) -> Command {
        let mut command = crate::mpi::launch::start(
            std::path::Path::new("mpirun"),
            2,
            crate::machine::logical_cpus() < 2,
            nix::unistd::geteuid().is_root(),
        );
        command
            .args(mpi_args)
            .arg(program)
            .args(["primitives", "--mpi-rank", list])
            .stdin(Stdio::null());
        command
    }

    fn no_mpirun(error: std::io::Error) -> String {
        if error.kind() == std::io::ErrorKind::NotFound {
            "mpirun is not on the PATH; install Open MPI (Debian: apt-get install openmpi-bin)"
                .to_string()
        } else {
            format!("could not start mpirun: {error}")
        }
    }

    /// One untimed launch, then `LAUNCHES` timed ones, in seconds → ns.
    fn time_launches(mpi_args: &[String], program: &std::path::Path) -> Result<Vec<f64>, String> {
        let mut ns = Vec::new();
        for launch in 0..=LAUNCHES {
            let start = Instant::now();
            let status =
                GroupChild::spawn(mpirun(mpi_args, program, INIT_ONLY).stdout(Stdio::null()))
                    .map_err(no_mpirun)?
                    .wait();
            crate::sys::signals::wait_if_stopping_now();
            let status = status.map_err(|e| format!("could not wait for mpirun: {e}"))?;
            let elapsed = start.elapsed().as_nanos() as f64;
            if !status.success() {
                return Err(format!(
                    "mpirun of ranks that only initialise MPI ended with {status} (its own message is above)"
                ));
            }
            if launch > 0 {
                ns.push(elapsed);
            }
        }
        Ok(ns)
    }

    /// The work of one rank started by `measure`: `list` is `init` or
    /// comma-separated primitive ids. Rank 0 prints a JSON line per figure.
    pub(crate) fn serve_rank(list: &str) -> Result<(), String> {
        let chosen: Vec<MpiPrimitive> = if list == INIT_ONLY {
            Vec::new()
        } else {
            list.split(',').map(str::parse).collect::<Result<_, _>>()?
        };
        let world = World::init()?;
        if world.size() != 2 {
            return Err(format!(
                "the MPI primitives need exactly 2 ranks; this job has {}",
                world.size()
            ));
        }
        let rank = world.rank();
        let mut out = std::io::stdout().lock();
        for primitive in chosen {
            let (skip, iterations) = primitive.iterations();
            let rounds: Vec<f64> = (0..ROUNDS)
                .map(|_| one_round(&world, primitive, skip, iterations))
                .collect();
            if rank == 0 {
                let line = RankLine {
                    id: primitive.id().to_string(),
                    iterations,
                    rounds,
                };
                let text = serde_json::to_string(&line).expect("plain data");
                writeln!(out, "{text}")
                    .and_then(|()| out.flush())
                    .map_err(|e| format!("rank 0 could not print its figures: {e}"))?;
            }
        }
        Ok(())
    }

    /// One OSU measurement of `primitive`: `skip` untimed iterations, then
    /// `iterations` timed with `MPI_Wtime`, each the way OSU 5.3's program
    /// does it; rank 0's result in the primitive's unit (ns per operation,
    /// or MB/s).
    fn one_round(world: &World, primitive: MpiPrimitive, skip: usize, iterations: usize) -> f64 {
        let rank = world.rank();
        let peer = 1 - rank;
        let mut start = 0.0;
        match primitive {
            // osu_latency: blocking send and receive of a page-aligned,
            // touched buffer, a barrier first.
            MpiPrimitive::Latency1B | MpiPrimitive::Latency1MiB => {
                let size = if primitive == MpiPrimitive::Latency1B {
                    1
                } else {
                    MIB
                };
                let send = AlignedBuffer::new(size, b'a');
                let mut receive = AlignedBuffer::new(size, b'b');
                world.barrier();
                for i in 0..skip + iterations {
                    if i == skip {
                        start = world.time();
                    }
                    if rank == 0 {
                        world.send(peer, send.bytes());
                        world.receive(peer, receive.bytes_mut());
                    } else {
                        world.receive(peer, receive.bytes_mut());
                        world.send(peer, send.bytes());
                    }
                }
                (world.time() - start) * 1e9 / (2.0 * iterations as f64)
            }
            // osu_bw: the sender posts WINDOW MPI_Isend of one buffer, the
            // receiver WINDOW MPI_Irecv into one buffer; both wait for all,
            // then the receiver sends a 4-byte acknowledgement. osu_bw
            // has no barrier before its loop.
            MpiPrimitive::Bandwidth => {
                let send = AlignedBuffer::new(MIB, b'a');
                let mut receive = AlignedBuffer::new(MIB, b'b');
                let mut ack = [0u8; 4];
                for i in 0..skip + iterations {
                    if i == skip {
                        start = world.time();
                    }
                    if rank == 0 {
                        world.send_window(peer, send.bytes(), WINDOW);
                        world.receive(peer, &mut ack);
                    } else {
                        world.receive_window(peer, receive.bytes_mut(), WINDOW);
                        world.send(peer, &ack);
                    }
                }
                let seconds = world.time() - start;
                (MIB * WINDOW * iterations) as f64 / 1e6 / seconds
            }
            // osu_barrier: each barrier timed on its own, the times of
            // the timed ones summed; the figure is the ranks' average.
            MpiPrimitive::Barrier => {
                let mut timer = 0.0;
                for i in 0..skip + iterations {
                    let t = world.time();
                    world.barrier();
                    if i >= skip {
                        timer += world.time() - t;
                    }
                }
                world.barrier();
                ranks_average(world, timer * 1e9 / iterations as f64)
            }
            // osu_allreduce: each MPI_Allreduce of 8 bytes timed on its
            // own, a barrier after each; the ranks' average. (OSU sums two
            // floats, paralab one double: 8 bytes either way.)
            MpiPrimitive::Allreduce => {
                let send = [1.0f64];
                let mut sum = [0.0f64];
                world.barrier();
                let mut timer = 0.0;
                for i in 0..skip + iterations {
                    let t = world.time();
                    world.all_reduce_sum(&send, &mut sum);
                    if i >= skip {
                        timer += world.time() - t;
                    }
                    world.barrier();
                }
                ranks_average(world, timer * 1e9 / iterations as f64)
            }
            MpiPrimitive::Launch => 0.0,
        }
    }

    /// The average over the ranks of each one's figure (OSU's collectives
    /// print the ranks' average).
    fn ranks_average(world: &World, mine: f64) -> f64 {
        let mut sum = [0.0f64];
        world.all_reduce_sum(&[mine], &mut sum);
        sum[0] / world.size() as f64
    }

    /// Runs the OSU program of each figure `OSU_RUNS` times over
    /// `transport` (one mpirun at a time, after paralab's own ranks have
    /// ended) and sets the figure's `osu`. Figures whose program is not
    /// found keep only the cited reference.
    pub(crate) fn compare_with_osu(
        figures: &mut [MpiFigure],
        transport: &Transport,
        osu: &OsuPrograms,
    ) -> Result<(), String> {
        // The OSU programs to run (osu_latency serves 1 B and 1 MiB alike).
        let mut programs: Vec<(&'static str, &'static [&'static str], std::path::PathBuf)> =
            Vec::new();
        for figure in figures.iter() {
            let primitive: MpiPrimitive = figure.id.parse()?;
            if let Some((name, args, _)) = primitive.osu_program()
                && let Some(program) = osu.find(name)
                && !programs.iter().any(|(n, _, _)| *n == name)
            {
                programs.push((name, args, program));
            }
        }
        if programs.is_empty() {
            return Ok(());
        }
        // Figures move from one mpirun job to the next by more than the
        // 1.1× target (where the two ranks land, what else runs), for
        // OSU's programs and paralab's alike: so the two take turns, job
        // for job, and paralab's rounds are pooled over as many jobs as
        // OSU's runs.
        let again: Vec<MpiPrimitive> = figures
            .iter()
            .filter(|f| f.id != MpiPrimitive::Launch.id())
            .map(|f| f.id.parse())
            .collect::<Result<_, _>>()?;
        let mut outputs: Vec<(&'static str, Vec<String>)> = programs
            .iter()
            .map(|(name, _, _)| (*name, Vec::new()))
            .collect();
        for run in 0..OSU_RUNS {
            for ((_, args, program), (_, texts)) in programs.iter().zip(outputs.iter_mut()) {
                texts.push(run_osu(program, args, transport)?);
            }
            if run + 1 < OSU_RUNS && !again.is_empty() {
                let later = measure(&again, transport)?;
                for figure in figures.iter_mut() {
                    if let Some(next) = later.iter().find(|l| l.id == figure.id) {
                        *figure = figure.clone().with_job(next)?;
                    }
                }
            }
        }
        for figure in figures.iter_mut() {
            let primitive: MpiPrimitive = figure.id.parse()?;
            let Some((name, _, size)) = primitive.osu_program() else {
                continue;
            };
            let Some((_, texts)) = outputs.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            let mut runs = Vec::new();
            for text in texts {
                let value = parse_osu_output(name, text, size)?;
                // OSU prints µs, and MB/s as paralab does.
                runs.push(if primitive.unit() == "ns" {
                    value * 1e3
                } else {
                    value
                });
            }
            figure.osu = Some(OsuFigure::new(primitive, runs, figure.median));
        }
        Ok(())
    }

    /// `mpirun -n 2 … ARGS program args`: its stdout.
    fn run_osu(
        program: &std::path::Path,
        args: &[&str],
        transport: &Transport,
    ) -> Result<String, String> {
        let mut command = crate::mpi::launch::start(
            std::path::Path::new("mpirun"),
            2,
            crate::machine::logical_cpus() < 2,
            nix::unistd::geteuid().is_root(),
        );
        command
            .args(&transport.mpirun_args)
            .arg(program)
            .args(args)
            .stdin(Stdio::null());
        let output = GroupChild::output(&mut command).map_err(no_mpirun);
        crate::sys::signals::wait_if_stopping_now();
        let output = output?;
        let name = program.display();
        if !output.status.success() {
            let said = String::from_utf8_lossy(&output.stderr);
            let first = said
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("nothing");
            return Err(format!(
                "mpirun of {name} ended with {}; it said: {first}",
                output.status
            ));
        }
        String::from_utf8(output.stdout)
            .map_err(|_| format!("{name} printed bytes that are not text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for p in MpiPrimitive::ALL {
            assert_eq!(p.id().parse::<MpiPrimitive>(), Ok(p));
        }
        assert!(
            "mpi-ping"
                .parse::<MpiPrimitive>()
                .unwrap_err()
                .contains("mpi-latency-1b, mpi-latency-1mib")
        );
    }

    #[test]
    fn bandwidth_best_is_the_highest_and_times_best_the_lowest() {
        let rounds = [3.0, 1.0, 2.0];
        assert_eq!(
            MpiFigure::from_rounds(MpiPrimitive::Bandwidth, 1, &rounds).best,
            3.0
        );
        let latency = MpiFigure::from_rounds(MpiPrimitive::Latency1B, 1, &rounds);
        assert_eq!((latency.best, latency.median), (1.0, 2.0));
    }

    const LATENCY_5_3: &str = "# OSU MPI Latency Test v5.3\n# Size          Latency (us)\n\
        0                       0.42\n1                       0.43\n1048576               442.18\n";

    #[test]
    fn osu_output_gives_the_line_of_the_size_asked_for() {
        assert_eq!(
            parse_osu_output("osu_latency", LATENCY_5_3, Some(1)),
            Ok(0.43)
        );
        assert_eq!(
            parse_osu_output("osu_latency", LATENCY_5_3, Some(1 << 20)),
            Ok(442.18)
        );
        let barrier =
            "\n# OSU MPI Barrier Latency Test v5.3\n# Avg Latency(us)\n             0.68\n";
        assert_eq!(parse_osu_output("osu_barrier", barrier, None), Ok(0.68));
        // OSU 7.4 as modified here: its allocation lines start with '#'.
        let v7 = "# OSU MPI Latency Test v7.4\n# Datatype: MPI_CHAR.\n# Size       Avg Latency(us)\n\
            # HOST/POSIX_MEMALIGN: allocated 2 bytes at 0x55\n1                       0.20\n";
        assert_eq!(parse_osu_output("osu_latency", v7, Some(1)), Ok(0.20));
    }

    #[test]
    fn garbage_is_not_read_as_osu_figures() {
        let no_title = parse_osu_output("osu_bw", "1048576 9000\n", Some(1 << 20)).unwrap_err();
        assert!(no_title.contains("no '# OSU MPI …' title"), "{no_title}");
        assert!(
            no_title.contains("it printed: '1048576 9000'"),
            "{no_title}"
        );
        let empty = parse_osu_output("osu_bw", "", Some(1)).unwrap_err();
        assert!(empty.contains("it printed nothing"), "{empty}");
        let no_size = parse_osu_output("osu_latency", LATENCY_5_3, Some(8)).unwrap_err();
        assert!(
            no_size.contains("no line 'SIZE VALUE' for 8 bytes"),
            "{no_size}"
        );
        for bad in ["1 fast", "1 -3.0", "1 NaN", "1"] {
            let text = format!("# OSU MPI Latency Test v5.3\n{bad}\n");
            let error = parse_osu_output("osu_latency", &text, Some(1)).unwrap_err();
            assert!(error.contains("holds no positive figure"), "{bad}: {error}");
        }
    }

    #[test]
    fn the_ratio_is_above_one_when_paralab_is_the_slower() {
        let latency = OsuFigure::new(MpiPrimitive::Latency1B, vec![100.0, 300.0, 200.0], 400.0);
        assert_eq!((latency.median, latency.paralab_over_osu), (200.0, 2.0));
        let bandwidth = OsuFigure::new(MpiPrimitive::Bandwidth, vec![8000.0], 4000.0);
        assert_eq!(bandwidth.paralab_over_osu, 2.0);
        let allreduce = OsuFigure::new(MpiPrimitive::Allreduce, vec![1.0], 1.0);
        assert_eq!(allreduce.program, "osu_allreduce -m 8:8");
    }

    #[test]
    fn the_table_shows_osu_s_figures_of_this_run_or_cites_them() {
        let mut figure = MpiFigure::from_rounds(MpiPrimitive::Latency1B, 1, &[220.0]);
        let cited = render_table(std::slice::from_ref(&figure), None);
        assert!(
            cited.contains("OSU 7.2 on issue 13's machine") && cited.contains("not by this run")
        );
        figure.osu = Some(OsuFigure::new(MpiPrimitive::Latency1B, vec![200.0], 220.0));
        let launch = MpiFigure::from_rounds(MpiPrimitive::Launch, 1, &[3e8]);
        let table = render_table(&[figure.clone(), launch], Some((1.2, 2)));
        assert!(
            table.contains("200 ns (osu_latency)") && table.contains("1.10"),
            "{table}"
        );
        assert!(table.contains("not run; cited mpirun -n 2"), "{table}");
        // Within the target: no word about a busy machine.
        assert!(!table.contains("inconclusive"), "{table}");
        figure.osu = Some(OsuFigure::new(MpiPrimitive::Latency1B, vec![100.0], 220.0));
        let table = render_table(std::slice::from_ref(&figure), Some((1.2, 2)));
        assert!(
            table.contains("2.20 (beyond 1.1×)") && table.contains("kept 1.2 of the 2 CPUs"),
            "{table}"
        );
        // Beyond the target on a quiet machine: the ratio stands.
        let quiet = render_table(&[figure], Some((0.05, 2)));
        assert!(
            quiet.contains("2.20 (beyond 1.1×)") && !quiet.contains("inconclusive"),
            "{quiet}"
        );
    }
}
