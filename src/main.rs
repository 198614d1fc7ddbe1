//! The `hbmon` binary: everything happens in `hbmon::run`; this maps its outcome to an
//! exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(hbmon::main_with_args(std::env::args_os()))
}
