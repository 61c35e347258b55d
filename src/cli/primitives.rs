//! `paralab primitives`: the cost of each primitive the models use.

use std::io::IsTerminal;

use crate::measure::contention::Counters;
use crate::primitives::mpi::{self, MpiFigure, MpiPrimitive, OsuPrograms, Transport};
use crate::primitives::{Primitive, Timing, render_table};
use clap::{Args, ValueEnum};

use super::error::{self, CliError, Exit};
use super::output::print_stdout;

/// Options of `paralab primitives`.
#[derive(Debug, Clone, Args)]
pub(crate) struct PrimitivesArgs {
    /// Timed samples per primitive (a tenth as many untimed ones run first)
    #[arg(long, value_name = "N", value_parser = samples, default_value = "1000")]
    samples: usize,

    /// Only these primitives, comma-separated: thread, fork, exec, tokio-task, rayon-job, pipe,
    /// channel, mutex, mutex-contended, context-switch; with MPI: mpi-latency-1b,
    /// mpi-latency-1mib, mpi-bw, mpi-barrier, mpi-allreduce, mpi-launch
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = primitive)]
    only: Vec<Chosen>,

    /// MPI's primitives instead of the local ones, the OSU Micro-Benchmarks' way, over two
    /// ranks started with mpirun, over shared memory and TCP side by side (needs a paralab
    /// built with `--features mpi`)
    #[arg(long)]
    mpi: bool,

    /// Arguments for mpirun, placed before the program, e.g. '--mca btl self,tcp'; the MPI
    /// primitives are then measured this way only
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    mpi_args: Option<String>,

    /// Where the OSU Micro-Benchmarks' programs are (osu_latency, osu_bw, osu_barrier,
    /// osu_allreduce), flat or in OSU's installed layout (DIR/pt2pt, DIR/collective), e.g.
    /// /usr/local/libexec/osu-micro-benchmarks/mpi. Without it they are looked for on the PATH.
    /// Those found run in the same run, over the same transport, and are printed beside
    /// paralab's figures with the ratio; otherwise OSU's figures from issue 13 are cited
    #[arg(long, value_name = "DIR")]
    osu_dir: Option<std::path::PathBuf>,

    /// A rank of the MPI job that `--mpi` starts: what it measures
    #[arg(long, value_name = "LIST", hide = true)]
    mpi_rank: Option<String>,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Output formats of `primitives`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One row per primitive: median, spread, fastest
    Table,
    /// Every figure, in nanoseconds per operation
    Json,
}

fn samples(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=10_000_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}' is not a number of samples; give a whole number from 1 to 10000000"
        )),
    }
}

/// A primitive named by `--only`: a local one, or one of MPI's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chosen {
    Local(Primitive),
    Mpi(MpiPrimitive),
}

fn primitive(text: &str) -> Result<Chosen, String> {
    let text = text.trim();
    if let Ok(local) = text.parse() {
        return Ok(Chosen::Local(local));
    }
    text.parse().map(Chosen::Mpi).map_err(|_| {
        let local: Vec<&str> = Primitive::ALL.iter().map(|p| p.id()).collect();
        format!(
            "unknown primitive '{text}'; accepted: {}, and with MPI: {}",
            local.join(", "),
            mpi::names()
        )
    })
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    paralab_version: &'static str,
    logical_cpus: usize,
    primitives: &'a [Timing],
    #[serde(skip_serializing_if = "<[MpiFigure]>::is_empty")]
    mpi: &'a [MpiFigure],
}

/// Times each chosen primitive; prints what was measured even when one
/// fails, then names the failure.
pub(crate) fn run(args: PrimitivesArgs) -> Result<Exit, CliError> {
    if let Some(list) = &args.mpi_rank {
        return serve_rank(list);
    }
    let (chosen, chosen_mpi) = choose(&args)?;
    let transports = mpi::transports(
        mpi_args(&args, &chosen_mpi)?.map(|split| (args.mpi_args.as_deref().unwrap_or(""), split)),
    );
    let osu = osu_programs(&args, &chosen_mpi)?;
    let mut timings = Vec::new();
    let mut failure = None;
    let progress = std::io::stderr().is_terminal();
    for primitive in chosen {
        if progress {
            error::status(format_args!("timing {} …", primitive.operation()));
        }
        match primitive.measure(args.samples) {
            Ok(timing) => timings.push(timing),
            Err(error) => {
                failure = Some(format!("{}: {error}", primitive.operation()));
                break;
            }
        }
    }
    let mut figures = Vec::new();
    // What else ran while the MPI figures were measured (paralab's mpirun
    // jobs, reaped by then, count as paralab's own).
    let before_mpi = Counters::now();
    if failure.is_none() && !chosen_mpi.is_empty() {
        if progress {
            error::status(format_args!("timing MPI's primitives with mpirun -n 2 …"));
        }
        for transport in &transports {
            match measure_mpi(&chosen_mpi, transport) {
                Ok(mut measured) => {
                    if progress {
                        error::status(format_args!(
                            "running the OSU Micro-Benchmarks found over {} …",
                            transport.name
                        ));
                    }
                    let compared = compare_with_osu(&mut measured, transport, &osu);
                    figures.extend(measured);
                    if let Err(error) = compared {
                        failure = Some(format!(
                            "OSU's figures over {} (paralab's are printed): {error}",
                            transport.name
                        ));
                        break;
                    }
                }
                Err(error) => {
                    failure = Some(format!("MPI's primitives over {}: {error}", transport.name));
                    break;
                }
            }
        }
        // Each primitive's transports side by side.
        figures.sort_by_key(|f| chosen_mpi.iter().position(|p| p.id() == f.id));
    }
    let others_during_mpi = before_mpi
        .until(&Counters::now())
        .others_cpus
        .map(|others| (others, crate::machine::logical_cpus()));
    if progress {
        error::clear_status();
    }
    let text = match args.format {
        Format::Table => {
            let mut text = String::new();
            if !timings.is_empty() {
                text.push_str(&render_table(&timings));
            }
            if !figures.is_empty() {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&mpi::render_table(&figures, others_during_mpi));
            }
            text
        }
        Format::Json => {
            let report = JsonReport {
                paralab_version: env!("CARGO_PKG_VERSION"),
                logical_cpus: crate::machine::logical_cpus(),
                primitives: &timings,
                mpi: &figures,
            };
            let mut text = serde_json::to_string_pretty(&report).expect("plain data");
            text.push('\n');
            text
        }
    };
    print_stdout(&text);
    match failure {
        None => Ok(Exit::Success),
        Some(failure) if timings.is_empty() && figures.is_empty() => {
            Err(CliError::Failed(format!("could not time {failure}")))
        }
        Some(failure) => Err(CliError::Failed(format!(
            "could not time {failure}; the primitives timed before it are printed"
        ))),
    }
}

/// The local primitives and MPI's that the options choose, in order; MPI's
/// are bad input in a paralab built without them.
fn choose(args: &PrimitivesArgs) -> Result<(Vec<Primitive>, Vec<MpiPrimitive>), CliError> {
    let (local, mut chosen_mpi): (Vec<Primitive>, Vec<MpiPrimitive>) = if args.only.is_empty() {
        if args.mpi {
            (Vec::new(), MpiPrimitive::ALL.to_vec())
        } else {
            (Primitive::ALL.to_vec(), Vec::new())
        }
    } else {
        let local = args
            .only
            .iter()
            .filter_map(|c| match c {
                Chosen::Local(p) => Some(*p),
                Chosen::Mpi(_) => None,
            })
            .collect();
        let mpi = args
            .only
            .iter()
            .filter_map(|c| match c {
                Chosen::Mpi(p) => Some(*p),
                Chosen::Local(_) => None,
            })
            .collect();
        (local, mpi)
    };
    chosen_mpi.dedup();
    if (args.mpi || !chosen_mpi.is_empty()) && !mpi::BUILT_WITH_MPI {
        return Err(CliError::Usage(crate::mpi::NOT_BUILT.to_string()));
    }
    Ok((local, chosen_mpi))
}

/// `--mpi-args` split as a shell would; only meaningful with MPI primitives.
fn mpi_args(
    args: &PrimitivesArgs,
    chosen_mpi: &[MpiPrimitive],
) -> Result<Option<Vec<String>>, CliError> {
    let Some(text) = &args.mpi_args else {
        return Ok(None);
    };
    if chosen_mpi.is_empty() {
        return Err(CliError::Usage(format!(
            "--mpi-args '{text}' is given but no MPI primitive is chosen; add --mpi, or mpi-… names to --only"
        )));
    }
    shlex::split(text).map(Some).ok_or_else(|| {
        CliError::Usage(format!(
            "--mpi-args '{text}' has an unclosed quote; give mpirun's arguments as a shell would, e.g. '--mca btl self,tcp'"
        ))
    })
}

/// The OSU programs to compare with: in `--osu-dir`, or on the PATH.
fn osu_programs(
    args: &PrimitivesArgs,
    chosen_mpi: &[MpiPrimitive],
) -> Result<OsuPrograms, CliError> {
    let Some(dir) = &args.osu_dir else {
        return Ok(OsuPrograms::on_path());
    };
    if chosen_mpi.is_empty() {
        return Err(CliError::Usage(format!(
            "--osu-dir '{}' is given but no MPI primitive is chosen; add --mpi, or mpi-… names to --only",
            dir.display()
        )));
    }
    OsuPrograms::in_dir(dir).map_err(CliError::Usage)
}

#[cfg(feature = "mpi")]
fn compare_with_osu(
    figures: &mut [MpiFigure],
    transport: &Transport,
    osu: &OsuPrograms,
) -> Result<(), String> {
    mpi::compare_with_osu(figures, transport, osu)
}

#[cfg(not(feature = "mpi"))]
fn compare_with_osu(_: &mut [MpiFigure], _: &Transport, _: &OsuPrograms) -> Result<(), String> {
    Err(crate::mpi::NOT_BUILT.to_string())
}

#[cfg(feature = "mpi")]
fn measure_mpi(chosen: &[MpiPrimitive], transport: &Transport) -> Result<Vec<MpiFigure>, String> {
    mpi::measure(chosen, transport)
}

#[cfg(not(feature = "mpi"))]
fn measure_mpi(_: &[MpiPrimitive], _: &Transport) -> Result<Vec<MpiFigure>, String> {
    Err(crate::mpi::NOT_BUILT.to_string())
}

/// This process is a rank started by mpirun for `--mpi`.
#[cfg(feature = "mpi")]
fn serve_rank(list: &str) -> Result<Exit, CliError> {
    mpi::serve_rank(list)
        .map(|()| Exit::Success)
        .map_err(CliError::Failed)
}

#[cfg(not(feature = "mpi"))]
fn serve_rank(_: &str) -> Result<Exit, CliError> {
    Err(CliError::Usage(crate::mpi::NOT_BUILT.to_string()))
}
