//! The `transition-bot` binary: everything lives in the library's `cli`;
//! this is the only place the process exits.

fn main() -> std::process::ExitCode {
    transition_bot::cli::main()
}
