//! `qrnm-load`: the qrnm load harness. See `qrnm-load --help`.

#![forbid(unsafe_code)]

use clap::Parser;

use qrnm_harness::cli::Options;

fn main() -> std::process::ExitCode {
    let options = Options::parse();
    if let Err(message) = options.validate() {
        eprintln!("qrnm-load: {message}");
        return std::process::ExitCode::from(2);
    }
    std::process::ExitCode::SUCCESS
}
