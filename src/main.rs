//! The `transition-bot` binary: everything lives in the library's `cli`.

fn main() -> std::process::ExitCode {
    transition_bot::cli::main()
}
