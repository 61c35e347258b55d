//! An external program as the workload: `--cmd 'PROGRAM ARGS…'`.
//!
//! As hyperfine does, a command runs through a shell (`sh -c TEXT`) unless
//! `-N` asks for none: then its words are split as a POSIX shell splits
//! them (quotes, backslashes), by the `shlex` crate, and the program is run
//! directly, so nothing else is expanded: no `$VAR`, no globs, no pipes.
//! [`shell_syntax`] finds the words that a user probably meant for a shell.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::Workload;

/// Splits `text` into a program and its arguments, as `sh` would.
pub(crate) fn parse_command(text: &str) -> Result<Vec<String>, String> {
    let words = shlex::split(text).ok_or_else(|| {
        format!("'{text}' is not a command line: a quote is not closed or a backslash ends it")
    })?;
    if words.is_empty() {
        return Err(format!(
            "'{text}' is an empty command; give a program and its arguments, e.g. 'gzip -9 file'"
        ));
    }
    Ok(words)
}

/// The words of a command run without a shell that a shell would have
/// read as syntax (`;`, `|`, `>&2`, `$HOME`, `*.txt`…): under `-N` they
/// reach the program as plain arguments, which is rarely what was meant.
pub(crate) fn shell_syntax(argv: &[String]) -> Vec<&str> {
    const OPERATORS: [&str; 10] = [";", "|", "||", "&", "&&", ">", ">>", "<", "<<", "2>"];
    argv.iter()
        .map(String::as_str)
        .filter(|word| {
            OPERATORS.contains(word)
                || word.ends_with(';')
                || word.starts_with('>')
                || word.starts_with('<')
                || word.starts_with("2>")
                || word.contains("&&")
                || word.contains('|')
                || word.contains('`')
                || word.contains("$(")
                || has_variable(word)
                || word.contains(['*', '?'])
                || (word.contains('[') && word.contains(']'))
                || word.starts_with('~')
        })
        .collect()
}

/// `$NAME`, `${NAME}`, `$1`, `$?`: what a shell would expand.
fn has_variable(word: &str) -> bool {
    word.match_indices('$').any(|(at, _)| {
        word[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || "_{?@*#!$-".contains(c))
    })
}

/// The words a shell runs itself (keywords and builtins): a command that
/// starts with one cannot be looked for in `$PATH` before it runs.
const SHELL_OWN_WORDS: [&str; 36] = [
    "if", "then", "else", "elif", "fi", "case", "esac", "for", "while", "until", "do", "done", "{",
    "}", "!", "(", ".", ":", "break", "cd", "continue", "eval", "exec", "exit", "export", "read",
    "readonly", "return", "set", "shift", "times", "trap", "umask", "unset", "wait", "command",
];

/// The program a shell would start first for `text`, when it can be
/// told without running the shell: a plain first word that is no keyword,
/// builtin, assignment or expansion. Checked before the sweep, it keeps
/// the precise errors of a command run without a shell ("not in $PATH",
/// "no '#!' line") instead of the shell's exit 127 or 126.
pub(crate) fn first_program(text: &str) -> Option<String> {
    let words = shlex::split(text)?;
    let first = words.first()?;
    let plain = !first.is_empty()
        && !SHELL_OWN_WORDS.contains(&first.as_str())
        && !first.contains([
            '=', '$', '`', '(', ')', ';', '|', '&', '<', '>', '*', '?', '[', '~', '{', '}', '\\',
            '\'', '"',
        ])
        && shell_syntax(std::slice::from_ref(first)).is_empty();
    plain.then(|| first.clone())
}

/// Where the programs' standard output and error go (`--output`, as
/// hyperfine's): nowhere by default, so they never tear the progress bar.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum OutputTo {
    /// `/dev/null`.
    #[default]
    Null,
    /// A pipe that paralab reads and throws away, for programs that behave
    /// differently when their output is not a file.
    Pipe,
    /// paralab's own standard output and error (`--show-output`).
    Inherit,
    /// A file, truncated once before the sweep and appended to by every run.
    File(PathBuf),
}

/// How the commands of a sweep are run beyond their words: hyperfine's
/// `--prepare`, `--setup`, `--cleanup`, `--ignore-failure` and `--output`.
/// Chosen once by the command line ([`choose`]), as the MPI launcher is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CommandSettings {
    /// Run before every run, warm-ups included, off the clock.
    pub prepare: Option<String>,
    /// Run once before the runs of each (command, workers) cell.
    pub setup: Option<String>,
    /// Run once after them, whatever happened.
    pub cleanup: Option<String>,
    /// A non-zero exit is a finished run, not a failure.
    pub ignore_failure: bool,
    /// Where the programs' output goes.
    pub output: OutputTo,
    /// The shell that runs `prepare`, `setup` and `cleanup` (`sh` under `-N`).
    pub shell: Option<String>,
}

static SETTINGS: std::sync::Mutex<Option<CommandSettings>> = std::sync::Mutex::new(None);

/// Sets how the commands of this process's sweeps are run.
pub(crate) fn choose(settings: CommandSettings) {
    *SETTINGS.lock().unwrap_or_else(|e| e.into_inner()) = Some(settings);
}

/// How commands are run: what [`choose`] set, else hyperfine's defaults.
pub(crate) fn settings() -> CommandSettings {
    SETTINGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

/// `text` with `{n}` (the worker count), `{i}` (the worker index, from 0)
/// and each `{NAME}` of `parameters` replaced by its value.
pub(crate) fn substitute(
    text: &str,
    parameters: &std::collections::BTreeMap<String, String>,
    workers: usize,
    index: Option<usize>,
) -> String {
    let mut out = text.replace("{n}", &workers.to_string());
    if let Some(index) = index {
        out = out.replace("{i}", &index.to_string());
    }
    for (name, value) in parameters {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// `text` with each `{NAME}` of `parameters` replaced by its value (`{n}`
/// and `{i}` are left for the run).
pub(crate) fn substitute_parameters(
    text: &str,
    parameters: &std::collections::BTreeMap<String, String>,
) -> String {
    let mut out = text.to_string();
    for (name, value) in parameters {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The empty command run by the shell that runs `workload`
/// (`[SHELL, -c, ""]`): what the shell's start-up alone costs, which
/// hyperfine measures and subtracts. `None` for a command run without a
/// shell (`-N`) and for the other workloads.
pub(crate) fn shell_startup_workload(
    workload: &Workload,
    settings: &CommandSettings,
) -> Option<Workload> {
    let Workload::Command { argv, .. } = workload else {
        return None;
    };
    settings.shell.as_ref()?;
    let [shell_words @ .., dash_c, _text] = argv.as_slice() else {
        return None;
    };
    (dash_c == "-c").then(|| Workload::Command {
        argv: shell_words
            .iter()
            .cloned()
            .chain([dash_c.clone(), String::new()])
            .collect(),
        name: None,
        parameters: Default::default(),
    })
}

/// Runs a `--prepare`, `--setup` or `--cleanup` command through the shell
/// and waits; its output goes where the commands' does. An error names
/// the option and what the command did.
pub(crate) fn run_helper(
    option: &str,
    text: &str,
    settings: &CommandSettings,
) -> Result<(), String> {
    use std::os::unix::process::ExitStatusExt;
    let shell = settings.shell.as_deref().unwrap_or("sh");
    let mut command = Command::new(shell);
    command.arg("-c").arg(text).stdin(Stdio::null());
    match &settings.output {
        OutputTo::Inherit => {}
        _ => {
            command.stdout(Stdio::null()).stderr(Stdio::piped());
        }
    }
    let output = command
        .output()
        .map_err(|e| format!("{option} '{text}' could not be started with {shell}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let said = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let how = match (output.status.code(), output.status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => "failed".to_string(),
    };
    let said = match said {
        "" => String::new(),
        said => format!(" ({said})"),
    };
    Err(format!(
        "{option} '{text}' {how}{said}; fix it or leave it out (-i lets the timed command fail, not {option})"
    ))
}

/// Why an external program cannot be run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    /// A path that names no executable file.
    #[error("the program '{0}' does not exist or is not executable")]
    NotExecutable(String),
    /// A name found nowhere in `$PATH`.
    #[error("the program '{0}' was not found in $PATH; give its full path or install it")]
    NotInPath(String),
    /// No program at all.
    #[error("the command is empty")]
    Empty,
    /// A NUL byte, which no program argument can hold.
    #[error("the command holds a NUL byte, which no program argument can")]
    NulByte,
    /// A script whose `#!` line names an interpreter that cannot be run:
    /// `exec` would fail with "No such file or directory" on a file that
    /// exists.
    #[error(
        "could not run '{program}': its first line asks for the interpreter '{interpreter}', which does not exist or is not executable; fix that '#!' line"
    )]
    NoInterpreter {
        /// The script.
        program: String,
        /// What its `#!` line names.
        interpreter: String,
    },
    /// An executable file that is neither a binary nor a `#!` script, which
    /// `exec` refuses ("Exec format error").
    #[error(
        "could not run '{0}': it is neither a program the kernel can run nor a script that begins with '#!'; add a line such as '#!/bin/sh', or give --cmd 'sh {0}'"
    )]
    NotRunnable(String),
}

/// Where `program` is: itself when it holds a `/`, else the first
/// executable file of that name in `$PATH`, as `execvp` looks for it.
pub(crate) fn resolve_program(program: &str) -> Result<PathBuf, ProgramError> {
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let path = if program.contains('/') {
        let path = PathBuf::from(program);
        if !executable(&path) {
            return Err(ProgramError::NotExecutable(program.to_string()));
        }
        path
    } else {
        let search = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
        std::env::split_paths(&search)
            .map(|dir| dir.join(program))
            .find(|candidate| executable(candidate))
            .ok_or_else(|| ProgramError::NotInPath(program.to_string()))?
    };
    check_runnable(&path)?;
    Ok(path)
}

/// Refuses, by its first bytes, a file that `exec` would refuse though it
/// is executable: a script whose interpreter is missing, or a file that is
/// neither a script nor a binary the kernel knows. Found here, before any
/// worker starts, the error names the program and the reason; found by a
/// forked child's failed `exec`, it would be only "exit code 127". A file
/// that cannot be read (mode `--x`) is left to `exec`.
fn check_runnable(path: &Path) -> Result<(), ProgramError> {
    use std::io::Read;
    let mut head = [0_u8; 256];
    let Ok(read) = std::fs::File::open(path).and_then(|mut file| file.read(&mut head)) else {
        return Ok(());
    };
    let head = &head[..read];
    let name = || path.display().to_string();
    if let Some(line) = head.strip_prefix(b"#!") {
        let line = line.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let Some(interpreter) = line.split_whitespace().next() else {
            return Err(ProgramError::NotRunnable(name()));
        };
        let runnable = Path::new(interpreter)
            .metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
        if !runnable {
            return Err(ProgramError::NoInterpreter {
                program: name(),
                interpreter: interpreter.to_string(),
            });
        }
        return Ok(());
    }
    // ELF, and the formats binfmt_misc may add (Java, Wine, QEMU), start
    // with a magic number: only text, which a shell would run, is refused.
    let text = !head.is_empty()
        && head
            .iter()
            .all(|&b| b == b'\n' || b == b'\t' || b == b'\r' || (0x20..0x7f).contains(&b));
    if head.is_empty() || text {
        return Err(ProgramError::NotRunnable(name()));
    }
    Ok(())
}

/// The command line as a shell would read it back.
pub(crate) fn display(argv: &[String]) -> String {
    shlex::try_join(argv.iter().map(String::as_str)).unwrap_or_else(|_| argv.join(" "))
}

/// Runs the program and waits: 0 when it succeeded, else its exit code
/// (or 128 + the signal that killed it, as shells report it).
pub(crate) fn run_and_wait(argv: &[String]) -> u64 {
    use std::os::unix::process::ExitStatusExt;
    let Some((program, args)) = argv.split_first() else {
        return 127;
    };
    match Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
    {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => code as u64,
            (None, Some(signal)) => 128 + signal as u64,
            (None, None) => 255,
        },
        Err(_) => 127,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_a_shell_without_expanding() {
        assert_eq!(
            parse_command(r#"sh -c "echo \"hi\"; exit 3" $HOME *"#).unwrap(),
            ["sh", "-c", "echo \"hi\"; exit 3", "$HOME", "*"]
        );
    }

    #[test]
    fn programs_are_found_in_path_or_refused_by_name() {
        assert!(resolve_program("true").unwrap().ends_with("true"));
        let missing = resolve_program("no-such-program-xyz")
            .unwrap_err()
            .to_string();
        assert!(missing.contains("'no-such-program-xyz'") && missing.contains("PATH"));
        assert!(
            resolve_program("/nonexistent/x")
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/x")
        );
    }

    #[test]
    fn files_exec_would_refuse_are_refused_by_name() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path.display().to_string()
        };
        let missing = file("missing", b"#!/nonexistent/interp -x\necho hi\n");
        let error = resolve_program(&missing).unwrap_err().to_string();
        assert!(
            error.contains(&format!("'{missing}'")) && error.contains("'/nonexistent/interp'"),
            "{error}"
        );
        for plain in [
            file("text", b"echo hi\n"),
            file("empty", b""),
            file("bang", b"#!\n"),
        ] {
            let error = resolve_program(&plain).unwrap_err().to_string();
            assert!(
                error.contains(&format!("'{plain}'")) && error.contains("#!"),
                "{error}"
            );
        }
        let script = file("script", b"#!/bin/sh\nexit 0\n");
        assert_eq!(resolve_program(&script), Ok(PathBuf::from(&script)));
        let binary = file("binary", b"\x7fELF\x02\x01\x01\0");
        assert!(resolve_program(&binary).is_ok());
        assert!(resolve_program("sh").is_ok());
    }

    #[test]
    fn the_shells_empty_command_keeps_the_shell_and_drops_the_text() {
        let command = Workload::Command {
            argv: vec!["bash".into(), "-e".into(), "-c".into(), "make -j{n}".into()],
            name: Some("make".into()),
            parameters: [("n".to_string(), "2".to_string())].into(),
        };
        let shell = CommandSettings {
            shell: Some("bash -e".into()),
            ..CommandSettings::default()
        };
        let Some(Workload::Command {
            argv,
            name,
            parameters,
        }) = shell_startup_workload(&command, &shell)
        else {
            panic!("a command through a shell has an empty command");
        };
        assert_eq!(argv, ["bash", "-e", "-c", ""]);
        assert_eq!((name, parameters.len()), (None, 0));
        assert_eq!(
            shell_startup_workload(&command, &CommandSettings::default()),
            None
        );
        assert_eq!(
            shell_startup_workload(&Workload::Cpu { iters: 1 }, &shell),
            None
        );
    }

    #[test]
    fn exit_codes_are_the_result() {
        assert_eq!(run_and_wait(&["true".into()]), 0);
        assert_eq!(run_and_wait(&["false".into()]), 1);
        assert_eq!(run_and_wait(&["no-such-program-xyz".into()]), 127);
    }

    #[test]
    fn parse_command_example() {
        use crate::workload::parse_command;
        assert_eq!(
            parse_command("gzip -c 'my file'").unwrap(),
            ["gzip", "-c", "my file"]
        );
        assert!(parse_command("echo 'unclosed").is_err());
        assert!(parse_command("   ").is_err());
    }
}
