//! The `paralab` command; everything it does is in [`paralab::cli`].

fn main() -> std::process::ExitCode {
    paralab::cli::main()
}
