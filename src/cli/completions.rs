//! `paralab completions SHELL` and `paralab man`: the shell completion
//! script and the manual page, both generated from the clap definitions
//! the command line itself is parsed with, so they never fall behind it.
//!
//! To install them (paths of the usual per-user locations):
//!
//! ```text
//! paralab completions bash > ~/.local/share/bash-completion/completions/paralab
//! paralab completions zsh  > ~/.zfunc/_paralab      # with fpath+=(~/.zfunc)
//! paralab completions fish > ~/.config/fish/completions/paralab.fish
//! paralab man > ~/.local/share/man/man1/paralab.1   # then: man paralab
//! ```

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;
use super::error::{CliError, Exit};
use super::output::print_stdout;

/// Options of `paralab completions`.
#[derive(Debug, Clone, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete paralab's subcommands and options in
    #[arg(value_enum, value_name = "SHELL")]
    shell: Shell,
}

/// Options of `paralab man` (none: the page goes to stdout).
#[derive(Debug, Clone, Args)]
pub(crate) struct ManArgs {}

/// Prints the completion script for the chosen shell.
pub(crate) fn completions(args: CompletionsArgs) -> Result<Exit, CliError> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "paralab", &mut script);
    print_stdout(&String::from_utf8_lossy(&script));
    Ok(Exit::Success)
}

/// Prints the manual page, in roff: the command, its options and each
/// subcommand with its own options.
pub(crate) fn man(_: ManArgs) -> Result<Exit, CliError> {
    let command = Cli::command();
    let mut page = Vec::new();
    let write = |error| CliError::Write {
        output: "the manual page".into(),
        error,
    };
    // Man pages title themselves in capitals: `.TH PARALAB 1`.
    clap_mangen::Man::new(command.clone())
        .title("PARALAB")
        .render(&mut page)
        .map_err(write)?;
    // One page for everything: each subcommand follows as a section of
    // its own, its description, synopsis and options as subsections, so
    // that `man paralab` shows all of paralab.
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name().to_string();
        let man = clap_mangen::Man::new(sub.clone().bin_name(format!("paralab {name}")));
        let mut section = Vec::new();
        man.render_description_section(&mut section)
            .and_then(|()| man.render_synopsis_section(&mut section))
            .and_then(|()| man.render_options_section(&mut section))
            .map_err(write)?;
        page.extend_from_slice(format!(".SH \"PARALAB {}\"\n", name.to_uppercase()).as_bytes());
        let section = String::from_utf8_lossy(&section);
        for line in section.lines() {
            let line = match line.strip_prefix(".SH ") {
                Some(title) => format!(".SS {title}"),
                None => line.to_string(),
            };
            page.extend_from_slice(line.as_bytes());
            page.push(b'\n');
        }
    }
    print_stdout(&String::from_utf8_lossy(&page));
    Ok(Exit::Success)
}
