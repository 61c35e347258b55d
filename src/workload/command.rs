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
}

/// Where `program` is: itself when it holds a `/`, else the first
/// executable file of that name in `$PATH`, as `execvp` looks for it.
pub(crate) fn resolve_program(program: &str) -> Result<PathBuf, ProgramError> {
    let executable = |path: &Path| {
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return if executable(&path) {
            Ok(path)
        } else {
            Err(ProgramError::NotExecutable(program.to_string()))
        };
    }
    let search = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    std::env::split_paths(&search)
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate))
        .ok_or_else(|| ProgramError::NotInPath(program.to_string()))
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
