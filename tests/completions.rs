//! `paralab completions SHELL` and `paralab man`: generated from the same
//! definitions as `--help`, so what `--help` lists, they hold.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{paralab, stdout_of};

/// Stdout of a successful `paralab ARGS`.
fn run(args: &[&str]) -> String {
    stdout_of(&paralab().args(args).output().unwrap())
}

/// The subcommands `paralab --help` lists (`help` included).
fn subcommands() -> Vec<String> {
    let help = run(&["--help"]);
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
            continue;
        }
        if in_commands {
            if line.trim().is_empty() {
                break;
            }
            // A name is indented by two spaces; its wrapped help by more.
            if let Some(rest) = line.strip_prefix("  ")
                && !rest.starts_with(' ')
            {
                names.push(rest.split_whitespace().next().unwrap().to_string());
            }
        }
    }
    assert!(names.len() >= 5, "{help}");
    names
}

/// The long options a help text lists, at the start of their lines.
fn long_options(help: &str) -> Vec<String> {
    let mut options = Vec::new();
    for line in help.lines() {
        // An option's line is indented by a few spaces; its description's
        // wrapped lines by more, and they may begin with another option.
        let indent = line.len() - line.trim_start().len();
        let line = line.trim_start();
        if !line.starts_with('-') || indent > 6 {
            continue;
        }
        // Only the option's own names: `-r, --runs <RUNS>`, not the words
        // of its description, which may quote other commands' options.
        let names = line.split("  ").next().unwrap_or_default();
        for word in names.split([' ', ',', '=', '<', '[']) {
            if let Some(name) = word.strip_prefix("--")
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                options.push(format!("--{name}"));
            }
        }
    }
    options
}

#[test]
fn the_bash_script_completes_every_subcommand_and_option_and_parses() {
    let script = run(&["completions", "bash"]);
    let names = subcommands();
    assert!(names.iter().any(|n| n == "compare"), "{names:?}");
    for name in &names {
        assert!(script.contains(name.as_str()), "no subcommand {name}");
    }
    let top = long_options(&run(&["--help"]));
    assert!(
        top.len() > 10 && top.iter().any(|o| o == "--python-exe"),
        "{top:?}"
    );
    let compare = long_options(&run(&["compare", "--help"]));
    assert!(compare.iter().any(|o| o == "--threshold"), "{compare:?}");
    for option in top.iter().chain(&compare) {
        assert!(script.contains(option.as_str()), "no option {option}");
    }
    // bash itself accepts it.
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash is needed to check the completion script");
    bash.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let checked = bash.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn every_shell_gets_a_script_that_names_the_subcommands() {
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = run(&["completions", shell]);
        for name in subcommands() {
            assert!(script.contains(name.as_str()), "{shell}: no {name}");
        }
    }
}

#[test]
fn the_man_page_has_its_title_and_every_subcommand() {
    let page = run(&["man"]);
    assert!(
        page.lines().any(|l| l.starts_with(".TH PARALAB 1")),
        "{}",
        &page[..page.len().min(400)]
    );
    for name in subcommands().iter().filter(|n| *n != "help") {
        let section = format!(".SH \"PARALAB {}\"", name.to_uppercase());
        assert!(page.contains(&section), "no section {section}");
    }
    // The options of a subcommand are in its section.
    let compare = &page[page.find(".SH \"PARALAB COMPARE\"").unwrap()..];
    assert!(compare.contains("threshold"), "{compare}");
}

#[test]
fn an_unknown_shell_is_one_line_and_exit_2() {
    let output = paralab().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("'tcsh'") && stderr.contains("bash"),
        "{stderr}"
    );
}
