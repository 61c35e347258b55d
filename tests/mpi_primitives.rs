//! `paralab primitives --mpi`: MPI's primitive costs measured over
//! `mpirun -n 2`, over shared memory and over TCP. Needs a paralab built
//! with `--features mpi` and Open MPI's `mpirun`; without mpirun these
//! tests say so in one line and pass, unless PARALAB_REQUIRE_MPI=1.
#![cfg(feature = "mpi")]

mod common;

use common::paralab;
use predicates::prelude::*;
use serde_json::Value;

/// One MPI job at a time: each binds its two ranks to the same two CPUs
/// and polls without sleeping, so jobs side by side would time each other.
static ONE_JOB: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether mpirun is there to run the tests (then holds [`ONE_JOB`]); a
/// missing one fails the test when PARALAB_REQUIRE_MPI=1.
fn have_mpirun() -> Option<std::sync::MutexGuard<'static, ()>> {
    if common::find_program("mpirun").is_some() {
        return Some(ONE_JOB.lock().unwrap_or_else(|e| e.into_inner()));
    }
    assert!(
        std::env::var("PARALAB_REQUIRE_MPI").as_deref() != Ok("1"),
        "PARALAB_REQUIRE_MPI=1 but mpirun is not on the PATH"
    );
    eprintln!("skipped: mpirun is not on the PATH (install openmpi-bin)");
    None
}

/// The MPI figures of a JSON run with these extra arguments.
fn mpi_figures(extra: &[&str]) -> Vec<Value> {
    let output = paralab()
        .args(["primitives", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = common::json_of(&output);
    assert!(
        doc.get("primitives")
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty(),
        "only MPI's primitives were asked for: {doc}"
    );
    doc["mpi"].as_array().unwrap().clone()
}

fn figure<'a>(figures: &'a [Value], transport: &str, id: &str) -> &'a Value {
    figures
        .iter()
        .find(|f| f["id"] == id && f["transport"] == transport)
        .unwrap_or_else(|| panic!("no {id} over {transport} in {figures:?}"))
}

/// Over `transport`, every figure positive and ordered (p5 ≤ median ≤
/// p95, the best at the right end), and a 1 MiB message slower than a 1 B
/// one.
fn check_figures(figures: &[Value], transport: &str, ids: &[&str]) {
    for id in ids {
        let f = figure(figures, transport, id);
        let value = |key: &str| f[key].as_f64().unwrap();
        let (p5, median, p95, best) = (value("p5"), value("median"), value("p95"), value("best"));
        assert!(0.0 < p5 && p5 <= median && median <= p95, "{f}");
        if f["unit"] == "MB/s" {
            assert!(best >= p95, "{f}");
        } else {
            assert_eq!(f["unit"], "ns");
            assert!(best <= p5, "{f}");
        }
        assert!(f["rounds"].as_u64().unwrap() >= 5, "{f}");
        assert!(f["osu_reference"].as_str().unwrap().contains("osu_") || *id == "mpi-launch");
    }
    let best = |id: &str| figure(figures, transport, id)["best"].as_f64().unwrap();
    // A megabyte is copied at most at tens of GB/s (≥ 20 µs); a byte's
    // round trip costs far less on any transport.
    assert!(
        best("mpi-latency-1mib") > best("mpi-latency-1b"),
        "{figures:?}"
    );
    assert!(best("mpi-bw") > 0.0);
}

#[test]
fn every_mpi_primitive_over_shared_memory_and_tcp() {
    let Some(_one_job) = have_mpirun() else {
        return;
    };
    let figures = mpi_figures(&["--mpi"]);
    let ids = [
        "mpi-latency-1b",
        "mpi-latency-1mib",
        "mpi-bw",
        "mpi-barrier",
        "mpi-allreduce",
        "mpi-launch",
    ];
    // Shared memory and TCP side by side, nothing else.
    assert_eq!(figures.len(), 2 * ids.len(), "{figures:?}");
    for transport in ["shared memory", "tcp"] {
        check_figures(&figures, transport, &ids);
        // Starting two processes through mpirun takes milliseconds at
        // least; a 1-byte message, microseconds at most.
        let best = |id: &str| figure(&figures, transport, id)["best"].as_f64().unwrap();
        assert!(best("mpi-launch") > 100.0 * best("mpi-latency-1b"));
    }
}

#[test]
fn mpi_args_reach_mpirun() {
    let Some(_one_job) = have_mpirun() else {
        return;
    };
    let ids = ["mpi-latency-1b", "mpi-latency-1mib", "mpi-bw"];
    let only = ids.join(",");
    let figures = mpi_figures(&["--only", &only, "--mpi-args", "--mca btl self,tcp"]);
    assert_eq!(figures.len(), ids.len(), "{figures:?}");
    check_figures(&figures, "mpirun --mca btl self,tcp", &ids);
    // A transport that does not exist: mpirun refuses, and paralab says so.
    paralab()
        .args(["primitives", "--only", "mpi-latency-1b"])
        .args(["--mpi-args", "--mca btl self,no_such_transport"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("mpirun ended with"));
}

#[test]
fn table_names_osu_figures_as_osu_s() {
    let Some(_one_job) = have_mpirun() else {
        return;
    };
    // No OSU program on the PATH: OSU's figures are cited.
    paralab()
        .env("PATH", path_with(None))
        .args(["primitives", "--only", "mpi-barrier,mpi-latency-1b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("OSU 7.2 on issue 13's machine"))
        .stdout(predicate::str::contains("osu_latency: 0.20 µs shm"))
        .stdout(predicate::str::contains("MPI_Barrier, 2 ranks"))
        .stdout(predicate::str::contains("not by this run"))
        .stdout(predicate::str::contains("MPI bandwidth").not());
}

#[test]
fn bad_mpi_options_are_refused_before_anything_runs() {
    paralab()
        .args([
            "primitives",
            "--only",
            "thread",
            "--mpi-args",
            "--mca btl tcp",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no MPI primitive is chosen"));
    paralab()
        .args(["primitives", "--mpi", "--mpi-args", "--host 'a"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unclosed quote"));
    paralab()
        .args(["primitives", "--only", "mpi-ping"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("mpi-latency-1b"));
}

/// The pids of this paralab's mpirun and ranks still running: their
/// command lines hold this binary's path and the hidden `--mpi-rank`.
fn mpirun_and_ranks() -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline);
        if text.contains(common::PARALAB) && text.contains("--mpi-rank") {
            found.push(pid);
        }
    }
    found
}

#[test]
fn a_stop_signal_leaves_no_mpirun_nor_rank() {
    use std::time::{Duration, Instant};
    let Some(_one_job) = have_mpirun() else {
        return;
    };
    let paralab = std::process::Command::new(common::PARALAB)
        .args(["primitives", "--only", "mpi-latency-1mib,mpi-bw"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // mpirun and its two ranks.
    while mpirun_and_ranks().len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the ranks never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = nix::unistd::Pid::from_raw(paralab.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let output = paralab.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The ranks end when their mpirun is gone; give them a moment.
    let ended = Instant::now();
    while !mpirun_and_ranks().is_empty() {
        assert!(
            ended.elapsed() < Duration::from_secs(10),
            "still running after paralab ended: {:?}",
            mpirun_and_ranks()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// OSU 5.3's own output, as its programs print it (rank 0 only; the other
/// rank of the fake prints nothing, as OSU's does).
const FAKE_OSU: [(&str, &str); 4] = [
    (
        "osu_latency",
        "# OSU MPI Latency Test v5.3\n# Size          Latency (us)\n0                       0.42\n\
         1                       0.50\n2                       0.41\n1048576               \
         120.00\n2097152               747.82",
    ),
    (
        "osu_bw",
        "# OSU MPI Bandwidth Test v5.3\n# Size      Bandwidth (MB/s)\n1                       \
         7.55\n524288               5083.75\n1048576              8000.00\n",
    ),
    (
        "osu_barrier",
        "\n# OSU MPI Barrier Latency Test v5.3\n# Avg Latency(us)\n             0.70",
    ),
    (
        "osu_allreduce",
        "\n# OSU MPI Allreduce Latency Test v5.3\n# Size       Avg Latency(us)\n8                 \
         0.60",
    ),
];

/// A fake OSU program `name` in `dir` printing `output` from rank 0.
fn fake_osu(dir: &std::path::Path, name: &str, output: &str) {
    common::fake_program(
        dir,
        name,
        &format!("[ \"${{OMPI_COMM_WORLD_RANK:-0}}\" = 0 ] || exit 0\ncat <<'OSU'\n{output}\nOSU"),
    );
}

/// PATH with `dir` first and no directory holding a real osu_latency.
fn path_with(dir: Option<&std::path::Path>) -> std::ffi::OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let kept = std::env::split_paths(&current).filter(|d| !d.join("osu_latency").exists());
    std::env::join_paths(
        dir.map(std::path::Path::to_path_buf)
            .into_iter()
            .chain(kept),
    )
    .unwrap()
}

#[test]
fn osu_programs_on_the_path_run_beside_paralab_with_the_ratio() {
    let Some(_one_job) = have_mpirun() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (name, output) in FAKE_OSU {
        fake_osu(dir.path(), name, output);
    }
    let ids = [
        "mpi-latency-1b",
        "mpi-barrier",
        "mpi-allreduce",
        "mpi-launch",
    ];
    let output = paralab()
        .env("PATH", path_with(Some(dir.path())))
        .args(["primitives", "--format", "json", "--only", &ids.join(",")])
        .args(["--mpi-args", "--mca btl self,tcp"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let figures = common::json_of(&output)["mpi"].as_array().unwrap().clone();
    // The fakes' figures, in ns, read from their lines for the right sizes.
    for (id, osu_ns, program) in [
        ("mpi-latency-1b", 500.0, "osu_latency"),
        ("mpi-barrier", 700.0, "osu_barrier"),
        ("mpi-allreduce", 600.0, "osu_allreduce -m 8:8"),
    ] {
        let f = figure(&figures, "mpirun --mca btl self,tcp", id);
        let osu = &f["osu"];
        assert_eq!(osu["program"], program, "{f}");
        let runs: Vec<f64> = osu["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(runs.len(), 3, "{f}");
        assert!(runs.iter().all(|r| (r - osu_ns).abs() < 1e-6), "{f}");
        let ratio = osu["paralab_over_osu"].as_f64().unwrap();
        let median = f["median"].as_f64().unwrap();
        assert!(
            (ratio - median / osu_ns).abs() < 1e-9 * ratio.max(1.0),
            "{f}"
        );
    }
    // The launch has no OSU counterpart.
    let launch = figure(&figures, "mpirun --mca btl self,tcp", "mpi-launch");
    assert!(launch.get("osu").is_none(), "{launch}");
}

#[test]
fn osu_dir_finds_the_installed_layout_and_the_table_shows_both_figures() {
    let Some(_one_job) = have_mpirun() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pt2pt")).unwrap();
    let (name, output) = FAKE_OSU[0];
    fake_osu(&dir.path().join("pt2pt"), name, output);
    paralab()
        .env("PATH", path_with(None))
        .args(["primitives", "--only", "mpi-latency-1mib"])
        .args(["--mpi-args", "--mca btl self,tcp", "--osu-dir"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("OSU in this run (median)"))
        .stdout(predicate::str::contains("120.0 µs (osu_latency)"))
        .stdout(predicate::str::contains("paralab ÷ OSU"));
}

#[test]
fn garbage_from_an_osu_program_is_refused_and_paralab_s_figures_kept() {
    let Some(_one_job) = have_mpirun() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    fake_osu(dir.path(), "osu_barrier", "hello\n1 2 3");
    paralab()
        .env("PATH", path_with(Some(dir.path())))
        .args(["primitives", "--only", "mpi-barrier"])
        .args(["--mpi-args", "--mca btl self,tcp"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("MPI_Barrier, 2 ranks"))
        .stderr(predicate::str::contains(
            "osu_barrier's output has no '# OSU MPI …' title",
        ))
        .stderr(predicate::str::contains("it printed: 'hello | 1 2 3'"));
    // OSU's title but no line for the size asked for.
    fake_osu(
        dir.path(),
        "osu_allreduce",
        "# OSU MPI Allreduce Latency Test v5.3\n4 0.5",
    );
    paralab()
        .env("PATH", path_with(Some(dir.path())))
        .args(["primitives", "--only", "mpi-allreduce"])
        .args(["--mpi-args", "--mca btl self,tcp"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "osu_allreduce's output has no line 'SIZE VALUE' for 8 bytes",
        ));
}

#[test]
fn a_bad_osu_dir_is_refused_before_anything_runs() {
    paralab()
        .args(["primitives", "--mpi", "--osu-dir", "/no/such/dir"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--osu-dir '/no/such/dir' is not a directory",
        ));
    let empty = tempfile::tempdir().unwrap();
    paralab()
        .args(["primitives", "--mpi", "--osu-dir"])
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds no osu_latency"));
    paralab()
        .args(["primitives", "--only", "thread", "--osu-dir"])
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no MPI primitive is chosen"));
}
