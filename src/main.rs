//! The `herald` command: parse arguments and dispatch to `cli`.

fn main() -> std::process::ExitCode {
    herald::cli::main()
}
