//! Where outputs go, as a hostile or careless user arranges it: devices
//! made with mknod, FIFOs, symlinks (to devices, to files, dangling),
//! read-only directories, the same file named twice, the report's own
//! input named as an output. A property test generates such arrangements
//! and checks that no file other than the named outputs changes, that a
//! device, FIFO or symlink is written to and never replaced, and that
//! paralab refuses exactly the arrangements it must, before writing
//! anything. Devices are made in temporary directories (these tests run
//! as root): no real device file is ever a target.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{PARALAB, paralab};
use proptest::prelude::*;

/// Whether this process may make devices (root, or CAP_MKNOD).
fn can_mknod() -> bool {
    let dir = tempfile::tempdir().unwrap();
    mknod_null(&dir.path().join("probe"))
}

/// Makes a character device like /dev/null at `path`.
fn mknod_null(path: &Path) -> bool {
    Command::new("mknod")
        .arg(path)
        .args(["c", "1", "3"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes a character device like /dev/full (every write fails with ENOSPC).
fn mknod_full(path: &Path) -> bool {
    Command::new("mknod")
        .arg(path)
        .args(["c", "1", "7"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn mkfifo(path: &Path) {
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// A saved run, made once: `report` then renders every output from it
/// without running anything, so each case costs milliseconds.
fn saved_run() -> &'static Path {
    static SAVED: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = SAVED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("saved.jsonl");
        let status = paralab()
            .args(BENCH)
            .arg("--save")
            .arg(&path)
            .output()
            .unwrap()
            .status;
        assert!(status.success());
        (dir, path)
    });
    path
}

/// The smallest bench: one thread, one run, a 1 ms sleep.
const BENCH: [&str; 12] = [
    "bench",
    "--workers",
    "1",
    "--runs",
    "1",
    "--workloads",
    "sleep",
    "--sleep",
    "0.001",
    "--models",
    "thread",
    "-q",
];

// ─── snapshots ──────────────────────────────────────────────────────────

/// What a directory entry is, as far as "did it change" goes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    kind: &'static str,
    inode: u64,
    mode: u32,
    device: u64,
    /// A regular file's bytes, or a symlink's target.
    content: Vec<u8>,
}

/// Every entry under `root` (symlinks not followed, FIFOs not read).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut entries = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let status = std::fs::symlink_metadata(&path).unwrap();
            let kind = status.file_type();
            let (kind, content) = if kind.is_symlink() {
                (
                    "symlink",
                    std::fs::read_link(&path)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                )
            } else if kind.is_dir() {
                pending.push(path.clone());
                ("directory", Vec::new())
            } else if kind.is_file() {
                ("file", std::fs::read(&path).unwrap())
            } else if kind.is_char_device() {
                ("char device", Vec::new())
            } else if kind.is_fifo() {
                ("fifo", Vec::new())
            } else {
                ("other", Vec::new())
            };
            entries.insert(
                path,
                Entry {
                    kind,
                    inode: status.ino(),
                    mode: status.mode(),
                    device: status.rdev(),
                    content,
                },
            );
        }
    }
    entries
}

// ─── arrangements ───────────────────────────────────────────────────────

/// The options that name an output file or directory.
const OPTIONS: [&str; 5] = [
    "--export-json",
    "--export-csv",
    "--export-markdown",
    "--html",
    "--plot",
];

/// What one output path is, before paralab runs.
#[derive(Clone, Debug)]
enum Kind {
    /// Nothing there yet.
    New,
    /// A regular file with other content.
    ExistingFile,
    /// A character device like /dev/null.
    Device,
    /// A symlink to a device (in the victims' directory).
    LinkToDevice,
    /// A symlink to a regular file (in the victims' directory).
    LinkToFile,
    /// A symlink to nothing (in the victims' directory).
    DanglingLink,
    /// A FIFO that a thread of the test reads.
    Fifo,
    /// An existing directory.
    Directory,
    /// A new file in a read-only directory.
    InReadOnlyDirectory,
    /// The same path as an earlier output (or the first when none).
    SameAs(usize),
    /// A second name (a symlink) for an earlier output.
    LinkTo(usize),
    /// The report's own input.
    TheInput,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::New),
        Just(Kind::ExistingFile),
        Just(Kind::Device),
        Just(Kind::LinkToDevice),
        Just(Kind::LinkToFile),
        Just(Kind::DanglingLink),
        Just(Kind::Fifo),
        Just(Kind::Directory),
        Just(Kind::InReadOnlyDirectory),
        (0usize..4).prop_map(Kind::SameAs),
        (0usize..4).prop_map(Kind::LinkTo),
        Just(Kind::TheInput),
    ]
}

/// One output of an arrangement: which option, and what its path is.
fn arrangement() -> impl Strategy<Value = Vec<(usize, Kind)>> {
    prop::collection::vec((0..OPTIONS.len(), kind()), 1..5).prop_filter(
        "each option is given once",
        |outputs| {
            let options: BTreeSet<usize> = outputs.iter().map(|(o, _)| *o).collect();
            options.len() == outputs.len()
        },
    )
}

/// An arrangement made on disk.
struct Made {
    /// The output options and their paths, in order.
    args: Vec<(String, PathBuf)>,
    /// Every path the outputs name, symlinks followed, plot directories
    /// with all they hold: the only entries allowed to change.
    named: BTreeSet<PathBuf>,
    /// FIFOs whose reader threads must be released after the run.
    fifos: Vec<(PathBuf, Reader)>,
    /// Whether paralab must refuse it (exit 2, nothing written).
    refused: bool,
    /// What each path was: (path, kind) for devices, FIFOs and symlinks
    /// that must stay what they were.
    kept_kinds: Vec<(PathBuf, &'static str)>,
}

/// Makes `outputs` in `work` (symlink targets in `victims`), with the
/// report input at `input`.
fn make(outputs: &[(usize, Kind)], work: &Path, victims: &Path, input: &Path) -> Made {
    let mut made = Made {
        args: Vec::new(),
        named: BTreeSet::new(),
        fifos: Vec::new(),
        refused: false,
        kept_kinds: Vec::new(),
    };
    // What each path is, for the duplicate rule: Some(is_device) per
    // distinct file, by its resolved path.
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for (i, (option, kind)) in outputs.iter().enumerate() {
        let option = OPTIONS[*option];
        let is_plot = option == "--plot";
        let own = work.join(format!("out{i}"));
        let victim = victims.join(format!("victim{i}"));
        // (path given, what it resolves to, is a device, is a directory or
        // to be created as one)
        let (path, resolved): (PathBuf, PathBuf) = match kind {
            Kind::New => (own.clone(), own.clone()),
            Kind::ExistingFile => {
                std::fs::write(&own, b"an older file\n").unwrap();
                (own.clone(), own.clone())
            }
            Kind::Device => {
                assert!(mknod_null(&own));
                made.kept_kinds.push((own.clone(), "char device"));
                (own.clone(), own.clone())
            }
            Kind::LinkToDevice => {
                assert!(mknod_null(&victim));
                std::os::unix::fs::symlink(&victim, &own).unwrap();
                made.kept_kinds.push((own.clone(), "symlink"));
                made.kept_kinds.push((victim.clone(), "char device"));
                (own.clone(), victim.clone())
            }
            Kind::LinkToFile => {
                std::fs::write(&victim, b"the file the link names\n").unwrap();
                std::os::unix::fs::symlink(&victim, &own).unwrap();
                made.kept_kinds.push((own.clone(), "symlink"));
                (own.clone(), victim.clone())
            }
            Kind::DanglingLink => {
                std::os::unix::fs::symlink(&victim, &own).unwrap();
                made.kept_kinds.push((own.clone(), "symlink"));
                (own.clone(), victim.clone())
            }
            Kind::Fifo => {
                mkfifo(&own);
                made.kept_kinds.push((own.clone(), "fifo"));
                made.fifos.push((own.clone(), read_fifo(own.clone())));
                (own.clone(), own.clone())
            }
            Kind::Directory => {
                std::fs::create_dir(&own).unwrap();
                (own.clone(), own.clone())
            }
            Kind::InReadOnlyDirectory => {
                let dir = work.join(format!("read-only{i}"));
                std::fs::create_dir(&dir).unwrap();
                let file = dir.join("out");
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
                (file.clone(), file)
            }
            Kind::SameAs(earlier) => match made.args.get(*earlier).or(made.args.first()) {
                Some((_, path)) => {
                    let path = path.clone();
                    let resolved = resolve(&path);
                    (path, resolved)
                }
                None => (own.clone(), own.clone()),
            },
            Kind::LinkTo(earlier) => match made.args.get(*earlier).or(made.args.first()) {
                Some((_, path)) => {
                    std::os::unix::fs::symlink(path, &own).unwrap();
                    made.kept_kinds.push((own.clone(), "symlink"));
                    (own.clone(), resolve(&own))
                }
                None => (own.clone(), own.clone()),
            },
            Kind::TheInput => (input.to_path_buf(), input.to_path_buf()),
        };
        let status = std::fs::metadata(&resolved).ok();
        let is_device = status
            .as_ref()
            .is_some_and(|s| s.file_type().is_char_device());
        let is_dir = status.as_ref().is_some_and(|s| s.is_dir());
        let exists = status.is_some();
        let dangling = !exists && std::fs::symlink_metadata(&path).is_ok_and(|s| s.is_symlink());
        if is_plot {
            made.refused |= (exists && !is_dir) || dangling;
        } else {
            made.refused |= is_dir;
        }
        if resolved == input {
            made.refused = true;
        }
        if let Some((_, other_device)) = files.iter().find(|(p, _)| *p == resolved) {
            made.refused |= !(is_device && *other_device);
        }
        files.push((resolved.clone(), is_device));
        made.named.insert(path.clone());
        made.named.insert(resolved.clone());
        made.args.push((option.to_string(), path));
    }
    made
}

/// `path` with its symlinks followed, the last one possibly dangling.
fn resolve(path: &Path) -> PathBuf {
    let mut current = path.to_path_buf();
    while let Ok(target) = std::fs::read_link(&current) {
        current = current.parent().unwrap().join(target);
    }
    current
}

/// Lets each FIFO's reader thread finish (it waits for a writer when
/// paralab refused to write) and waits for it, at most [`READER_WAIT`]: a
/// FIFO replaced by a file would leave its reader waiting for good.
fn release(fifos: Vec<(PathBuf, Reader)>) -> Result<(), String> {
    for (path, reader) in fifos {
        // Succeeds only while the reader still waits; then it reads EOF.
        let _ = OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(&path);
        reader.recv_timeout(READER_WAIT).map_err(|_| {
            format!(
                "the reader of {} never saw its writer close",
                path.display()
            )
        })?;
    }
    Ok(())
}

/// How long a FIFO's reader may wait for paralab.
const READER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// What a FIFO's reader thread read, when it has read to the end.
type Reader = std::sync::mpsc::Receiver<Vec<u8>>;

/// Reads the FIFO at `path` to its end in a thread (which may be left
/// blocked if nobody ever writes: the test fails instead of hanging).
fn read_fifo(path: PathBuf) -> Reader {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        if let Ok(mut fifo) = std::fs::File::open(path) {
            let _ = fifo.read_to_end(&mut sink);
        }
        let _ = sender.send(sink);
    });
    receiver
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the arrangement, nothing but the named outputs changes;
    /// devices, FIFOs and symlinks stay what they were; an arrangement
    /// paralab must refuse is refused (exit 2, one line naming a path)
    /// before anything is written; no temporary file is left.
    #[test]
    fn no_file_but_the_named_outputs_changes(outputs in arrangement()) {
        if !can_mknod() {
            common::skip("mknod is not allowed here: the arrangements need devices");
            return Ok(());
        }
        let input_dir = tempfile::tempdir().unwrap();
        let input = input_dir.path().join("saved.jsonl");
        std::fs::copy(saved_run(), &input).unwrap();
        let work = tempfile::tempdir().unwrap();
        let victims = tempfile::tempdir().unwrap();
        let made = make(&outputs, work.path(), victims.path(), &input);
        let before: Vec<_> = [input_dir.path(), work.path(), victims.path()]
            .iter()
            .map(|root| snapshot(root))
            .collect();

        let mut command = Command::new(PARALAB);
        command.arg("report").arg(&input).arg("-q");
        for (option, path) in &made.args {
            command.arg(option).arg(path);
        }
        let output = command.stdout(Stdio::null()).output().unwrap();
        let released = release(made.fifos);
        prop_assert!(released.is_ok(), "{:?}: {:?}", made.args, released);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();

        let after: Vec<_> = [input_dir.path(), work.path(), victims.path()]
            .iter()
            .map(|root| snapshot(root))
            .collect();
        if made.refused {
            prop_assert_eq!(output.status.code(), Some(2), "{:?}: {}", made.args, stderr);
            prop_assert_eq!(stderr.lines().count(), 1, "{}", stderr);
            prop_assert!(made.args.iter().any(|(_, p)| stderr.contains(&*p.to_string_lossy())), "{}", stderr);
            prop_assert_eq!(&before, &after, "a refused arrangement changed files");
        } else {
            prop_assert_eq!(output.status.code(), Some(0), "{:?}: {}", made.args, stderr);
        }
        for (before, after) in before.iter().zip(&after) {
            for (path, entry) in before {
                let inside_named = made.named.iter().any(|n| path.starts_with(n));
                if !inside_named {
                    prop_assert_eq!(Some(entry), after.get(path), "{} changed ({:?})", path.display(), made.args);
                }
            }
            for path in after.keys() {
                let inside_named = made.named.iter().any(|n| path.starts_with(n));
                prop_assert!(inside_named || before.contains_key(path), "{} appeared ({:?})", path.display(), made.args);
            }
        }
        for (path, kind) in &made.kept_kinds {
            let now = after.iter().find_map(|s| s.get(path)).map(|e| e.kind);
            prop_assert_eq!(now, Some(*kind), "{} is no longer a {}", path.display(), kind);
        }
    }
}

// ─── the cases of the issue, one by one, as a user runs them ─────────────

/// `bench` with `args` after the smallest plan, in `dir`.
fn bench(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(PARALAB)
        .current_dir(dir)
        .args(BENCH)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn an_export_to_a_device_or_a_link_to_one_writes_to_it() {
    if !can_mknod() {
        return common::skip("mknod is not allowed here");
    }
    let dir = tempfile::tempdir().unwrap();
    let null = dir.path().join("null");
    assert!(mknod_null(&null));
    std::os::unix::fs::symlink(&null, dir.path().join("link")).unwrap();
    let output = bench(
        dir.path(),
        &["--export-csv", "null", "--export-json", "link"],
    );
    assert!(output.status.success(), "{output:?}");
    let status = std::fs::symlink_metadata(&null).unwrap();
    assert!(
        status.file_type().is_char_device(),
        "the device was replaced"
    );
    assert_eq!(
        status.rdev(),
        std::fs::metadata("/dev/null").unwrap().rdev()
    );
    assert!(
        std::fs::symlink_metadata(dir.path().join("link"))
            .unwrap()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "a file was left beside them"
    );
}

#[test]
fn an_export_to_a_fifo_reaches_its_reader() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let reader = read_fifo(fifo.clone());
    let output = bench(dir.path(), &["--export-csv", "fifo"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(
        reader
            .recv_timeout(READER_WAIT)
            .expect("the FIFO was written"),
    )
    .unwrap();
    assert!(text.starts_with("workload,iters,"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn a_planted_temporary_symlink_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me\n").unwrap();
    // What the old temporary name was, and any guess of the new one.
    for name in [".out.csv.paralab-tmp", ".paralab-out.csv.tmp"] {
        std::os::unix::fs::symlink(&victim, dir.path().join(name)).unwrap();
    }
    let output = bench(dir.path(), &["--export-csv", "out.csv"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
    let csv = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert!(csv.starts_with("workload,"), "{csv}");
}

#[test]
fn a_symlink_given_as_the_output_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.csv");
    std::fs::write(&target, "old\n").unwrap();
    std::os::unix::fs::symlink("real.csv", dir.path().join("link.csv")).unwrap();
    let output = bench(dir.path(), &["--export-csv", "link.csv"]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        std::fs::symlink_metadata(dir.path().join("link.csv"))
            .unwrap()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .starts_with("workload,")
    );
}

#[test]
fn a_255_byte_file_name_works() {
    let dir = tempfile::tempdir().unwrap();
    let name = "n".repeat(255);
    let output = bench(dir.path(), &["--export-json", &name]);
    assert!(output.status.success(), "{output:?}");
    let json = std::fs::read_to_string(dir.path().join(&name)).unwrap();
    serde_json::from_str::<serde_json::Value>(&json).unwrap();
}

#[test]
fn parallel_runs_exporting_to_one_path_never_fail_on_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let input = saved_run();
    let runs: Vec<_> = (0..6)
        .map(|_| {
            Command::new(PARALAB)
                .current_dir(dir.path())
                .arg("report")
                .arg(input)
                .args(["-q", "--export-json", "one.json", "--html", "one.html"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let json = std::fs::read_to_string(dir.path().join("one.json")).unwrap();
    serde_json::from_str::<serde_json::Value>(&json).unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "temporary files left: {names:?}");
}

#[test]
fn an_export_replacing_a_file_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    std::fs::write(&path, "old\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let output = bench(dir.path(), &["--export-csv", "r.csv"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o640);
}

#[test]
fn a_full_stdout_is_one_line_and_exit_1_in_every_subcommand() {
    if !can_mknod() {
        return common::skip("mknod is not allowed here");
    }
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full");
    assert!(mknod_full(&full));
    let input = saved_run().to_string_lossy().into_owned();
    let mut cases: Vec<Vec<&str>> = Vec::new();
    for format in ["table", "json", "notebook"] {
        cases.push([&BENCH[..], &["--format", format]].concat());
        cases.push(vec!["report", &input, "--format", format]);
    }
    cases.push([&BENCH[..], &["--export-csv", "-"]].concat());
    cases.push(vec!["lesson"]);
    cases.push(vec!["lesson", "--format", "json"]);
    cases.push(vec!["lesson", "race"]);
    for args in cases {
        let output = Command::new(PARALAB)
            .args(&args)
            .stdout(std::fs::File::create(&full).unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("running lesson"))
            .collect();
        assert_eq!(errors.len(), 1, "{args:?}: {stderr}");
        assert!(
            errors[0].contains("No space left on device"),
            "{args:?}: {stderr}"
        );
    }
    assert!(
        std::fs::metadata(&full)
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn a_closed_stdout_is_an_error_and_a_closed_pipe_or_a_read_write_null_is_not() {
    // `>&-` through a shell: Rust's runtime reopens fd 1 on /dev/null.
    let input = saved_run().to_string_lossy().into_owned();
    let closed = Command::new("sh")
        .args(["-c", r#""$0" report "$1" >&-"#, PARALAB, &input])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&closed.stderr);
    assert_eq!(closed.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("stdout is closed"), "{stderr}");

    // `1<>/dev/null` opens it read and write, as Rust's runtime does for
    // a closed one: open all the same, written to as `>` would be.
    let read_write = Command::new("sh")
        .args(["-c", r#""$0" report "$1" 1<>/dev/null"#, PARALAB, &input])
        .output()
        .unwrap();
    assert!(
        read_write.status.success() && read_write.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&read_write.stderr)
    );

    let piped = Command::new("sh")
        .args([
            "-c",
            r#""$0" report "$1" --format json | head -c 1 >/dev/null"#,
            PARALAB,
            &input,
        ])
        .output()
        .unwrap();
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
}

#[test]
fn save_refuses_to_append_to_a_file_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes\n").unwrap();
    let output = bench(dir.path(), &["--save", "notes.txt"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    // Its own file, it appends to.
    let saved = dir.path().join("s.jsonl");
    std::fs::copy(saved_run(), &saved).unwrap();
    let before = common::line_count(&saved);
    let output = bench(dir.path(), &["--save", "s.jsonl"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(common::line_count(&saved), 2 * before);
}

#[test]
fn outputs_that_cannot_be_written_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let read_only = dir.path().join("ro");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let target = read_only.join("r.csv");
    // As root every directory is writable: ask as nobody when we can.
    let as_nobody = Command::new("runuser")
        .args(["-u", "nobody", "--", PARALAB])
        .args(BENCH)
        .arg("--export-csv")
        .arg(&target)
        .output();
    match as_nobody {
        Ok(output) if output.status.code() != Some(127) && output.status.code() != Some(1) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{stderr}");
            assert!(stderr.contains(&*target.to_string_lossy()), "{stderr}");
            assert!(!stderr.contains("running"), "{stderr}");
        }
        _ => common::skip("runuser is not available to test as an unprivileged user"),
    }
    for args in [
        vec!["--export-csv", "a", "--html", "a"],
        vec!["--plot", "p", "--html", "p"],
        vec!["--export-json", "."],
        vec!["--export-json", "missing/r.json"],
    ] {
        let output = bench(dir.path(), &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert_eq!(output.stderr.iter().filter(|&&b| b == b'\n').count(), 1);
    }
}
