//! `qrnm-relay`: runs the relay, or checks a config file.
#![forbid(unsafe_code)]

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qrnm_transport::{Config, Relay};
use tracing_subscriber::EnvFilter;

// jemalloc returns the pages of freed buffers to the system (its background
// thread purges them after a decay time of about 10 s). Together with the
// parking of idle connections this is what keeps an idle keep-alive
// connection at a few KiB of resident memory: glibc's malloc keeps freed
// chunks in the middle of its heaps resident.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "qrnm-relay",
    version,
    about = "Relay of qrnm: mailboxes for sealed envelopes"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Config file (TOML) to run with.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on, overriding `listen` of the config file; port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Directory of the durable store, overriding `data_dir` of the config file.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Validates a config file (with QRNM_* overrides) and exits non-zero on errors.
    CheckConfig {
        /// Config file to check.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    if let Err(error) = tikv_jemalloc_ctl::background_thread::write(true) {
        eprintln!("warning: cannot start jemalloc's background purge thread: {error}");
    }
    let cli = Cli::parse();
    match (&cli.command, &cli.config) {
        (Some(Command::CheckConfig { file }), _) => check_config(file),
        (None, Some(file)) => run(file, cli.listen, cli.data_dir),
        (None, None) => {
            eprintln!("error: missing --config FILE; see qrnm-relay --help");
            ExitCode::from(2)
        }
    }
}

fn check_config(file: &Path) -> ExitCode {
    match Config::load(file) {
        Ok(config) => {
            println!(
                "{}: valid (listen {}, store {}, data_dir {})",
                file.display(),
                config.listen,
                config.store.as_str(),
                config.data_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn run(file: &Path, listen: Option<SocketAddr>, data_dir: Option<PathBuf>) -> ExitCode {
    let mut config = match Config::load(file) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let mut origin = file.display().to_string();
    if let Some(listen) = listen {
        config.listen = listen;
        origin.push_str(" with --listen");
    }
    if let Some(dir) = data_dir {
        config.data_dir = dir;
        origin.push_str(" with --data-dir");
    }
    if let Err(error) = config.validate_as(&origin) {
        eprintln!("{error}");
        return ExitCode::FAILURE;
    }
    init_logging(&config.log.level);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config, file)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "relay failed");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, file: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let store_kind = config.store.as_str();
    let relay = Relay::bind(config).await?;
    let address = relay.local_addr();
    tracing::info!(
        %address,
        config = %file.display(),
        store = store_kind,
        location = %relay.store_description(),
        "relay started"
    );
    // Tests and scripts read the bound address from this line when the port was 0.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {address}")?;
    stdout.flush()?;
    drop(stdout);

    let signals = shutdown_signal()?;
    relay.serve(signals).await?;
    Ok(())
}

/// Completes on the first SIGTERM or SIGINT.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutdown requested");
    })
}

fn init_logging(level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
