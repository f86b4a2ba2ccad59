//! The hidden `__relay` subcommand: the relay process that the harness starts itself.
//!
//! It loads the config file, listens on the address the harness gives, and always uses the
//! durable store in the data directory the harness gives, so that the restart scenario finds
//! every acknowledged message again. It prints `listening on ADDR` once bound and stops on
//! SIGTERM or when its stdin closes (the harness exited).

use std::io::Write;
use std::process::ExitCode;

use qrnm_transport::config::StoreKind;
use qrnm_transport::{Config, Relay};
use tokio::io::AsyncReadExt;

use crate::cli::RelayArgs;
use crate::relay_process::READY_PREFIX;

/// Runs the relay until SIGTERM or the end of its stdin, and returns the exit status.
pub fn run_relay(args: &RelayArgs) -> ExitCode {
    let mut config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    config.listen = args.listen;
    config.data_dir.clone_from(&args.data_dir);
    config.store = StoreKind::Durable;
    init_logging(&config.log.level);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("starting the async runtime failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(serve(config));
    // The stdin reader sits in a blocking read that never returns while the harness runs, so
    // the runtime is shut down without waiting for it.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("relay failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let relay = Relay::bind(config).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{READY_PREFIX}{}", relay.local_addr())?;
    stdout.flush()?;
    drop(stdout);

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let shutdown = async move {
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 64];
        let parent_gone = async {
            // Read until end of file: the harness keeps the other end open while it runs.
            while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
        };
        tokio::select! {
            _ = terminate.recv() => {}
            () = parent_gone => {}
        }
    };
    relay.serve(shutdown).await?;
    Ok(())
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second initialization fails harmlessly; the process sets it up only here.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
