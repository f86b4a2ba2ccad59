//! `qrnm-load`: the qrnm load harness. See `qrnm-load --help`.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

use qrnm_harness::cli::{Internal, Options};
use qrnm_harness::{limits, relay_child, report, run};

fn main() -> ExitCode {
    let options = Options::parse();
    if let Some(Internal::Relay(args)) = &options.internal {
        return relay_child::run_relay(args);
    }
    if let Err(message) = options
        .validate()
        .and_then(|()| run::check_outputs(&options))
    {
        eprintln!("qrnm-load: {message}");
        return ExitCode::from(2);
    }

    // The limit is checked before anything else starts, so a run never begins with too few descriptors.
    match limits::ensure_open_file_limit(options.connections) {
        Ok(change) if change.before != change.after => eprintln!(
            "qrnm-load: raised RLIMIT_NOFILE from {} to {} for {} connections",
            change.before.soft, change.after.soft, options.connections
        ),
        Ok(_) => {}
        Err(error) => {
            eprintln!("qrnm-load: {error}");
            return ExitCode::from(2);
        }
    }

    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(error) => {
            eprintln!("qrnm-load: cannot find its own executable to start the relay: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("qrnm-load: starting the async runtime failed: {error}");
            return ExitCode::from(2);
        }
    };

    let outcome = runtime.block_on(async {
        let interrupted = run::listen_for_interruption().map_err(|source| run::RunError::Io {
            action: "installing the SIGINT and SIGTERM handlers".to_owned(),
            source,
        })?;
        run::run(options.clone(), exe, interrupted).await
    });
    match outcome {
        Ok(report) => {
            print!("{}", report::render_text(&report));
            if let Err(message) = run::write_outputs(&options, &report) {
                eprintln!("qrnm-load: {message}");
                return ExitCode::from(2);
            }
            if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("qrnm-load: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
