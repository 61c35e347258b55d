//! An external program as the workload: `--cmd 'PROGRAM ARGS…'`.
//!
//! The words are split as a POSIX shell splits them (quotes, backslashes),
//! by the `shlex` crate, and the program is run directly, without a shell,
//! so nothing else is expanded: no `$VAR`, no globs, no pipes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
