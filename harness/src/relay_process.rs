//! The relay that the harness starts as a child process.
//!
//! The child is the harness's own executable run with the hidden `__relay` subcommand, so the
//! server ends of the connections live in another process with its own open-file limit. The
//! child prints `listening on ADDR` on stdout once bound, logs to a file, and exits when its
//! stdin closes, so it never outlives the harness.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{self, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// Prefix of the line the child prints once it listens.
pub const READY_PREFIX: &str = "listening on ";

/// Maximum time the child may take to bind and print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Maximum time to retry binding the old port after a restart, which the kernel may still hold.
const REBIND_WINDOW: Duration = Duration::from_secs(10);
/// Maximum time a stopping relay may take to drain before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Error of starting, restarting or stopping the relay child.
#[derive(Debug, thiserror::Error)]
pub enum RelayProcessError {
    /// Spawning the process failed.
    #[error("starting the relay process {exe} failed: {source}")]
    Spawn {
        /// The executable.
        exe: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The process exited or closed stdout before printing its address.
    #[error("the relay process exited before listening; its log {log} ends with:\n{tail}")]
    Exited {
        /// Path of the child's log.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
    /// The process printed no address within the start timeout.
    #[error("the relay process printed no address within {timeout:?}; see its log {log}")]
    Timeout {
        /// How long the harness waited.
        timeout: Duration,
        /// Path of the child's log.
        log: PathBuf,
    },
    /// Signalling or waiting for the process failed.
    #[error("controlling the relay process failed: {0}")]
    Control(#[from] std::io::Error),
}

/// A running relay child.
#[derive(Debug)]
pub struct RelayProcess {
    exe: PathBuf,
    config: PathBuf,
    data_dir: PathBuf,
    log: PathBuf,
    addr: SocketAddr,
    child: Child,
    // Kept open so that the child reads end-of-file on stdin when the harness exits.
    _stdin: Option<ChildStdin>,
    restarts: u32,
}

impl RelayProcess {
    /// Starts `exe __relay` on `listen` (port 0 picks a free port) and waits until it listens.
    ///
    /// # Errors
    ///
    /// Returns [`RelayProcessError`] when the process cannot start or does not report an address.
    pub async fn start(
        exe: &Path,
        config: &Path,
        data_dir: &Path,
        log: &Path,
        listen: SocketAddr,
    ) -> Result<RelayProcess, RelayProcessError> {
        let (child, stdin, addr) = spawn_relay(exe, config, data_dir, log, listen).await?;
        Ok(RelayProcess {
            exe: exe.to_owned(),
            config: config.to_owned(),
            data_dir: data_dir.to_owned(),
            log: log.to_owned(),
            addr,
            child,
            _stdin: stdin,
            restarts: 0,
        })
    }

    /// Returns the address the relay listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the path of the relay's log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Returns how many times the relay was restarted.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// Kills the relay with SIGKILL, as a crash would, and waits for it to exit.
    ///
    /// # Errors
    ///
    /// Returns the error of signalling or waiting.
    pub async fn kill(&mut self) -> Result<(), RelayProcessError> {
        self.child.kill().await?;
        Ok(())
    }

    /// Starts the relay again on the same address and data directory.
    ///
    /// # Errors
    ///
    /// Returns [`RelayProcessError`] when it does not listen again within the rebind window.
    pub async fn restart(&mut self) -> Result<(), RelayProcessError> {
        let deadline = Instant::now() + REBIND_WINDOW;
        loop {
            match spawn_relay(
                &self.exe,
                &self.config,
                &self.data_dir,
                &self.log,
                self.addr,
            )
            .await
            {
                Ok((child, stdin, addr)) => {
                    self.child = child;
                    self._stdin = stdin;
                    self.addr = addr;
                    self.restarts += 1;
                    return Ok(());
                }
                Err(RelayProcessError::Exited { .. }) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Stops the relay with SIGTERM, and with SIGKILL if it has not exited after the drain time.
    ///
    /// # Errors
    ///
    /// Returns the error of signalling or waiting.
    pub async fn stop(&mut self) -> Result<ExitStatus, RelayProcessError> {
        if let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            // The process may have exited already, which makes the signal fail harmlessly.
            let _ = signal::kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                self.child.kill().await?;
                Ok(self.child.wait().await?)
            }
        }
    }
}

async fn spawn_relay(
    exe: &Path,
    config: &Path,
    data_dir: &Path,
    log: &Path,
    listen: SocketAddr,
) -> Result<(Child, Option<ChildStdin>, SocketAddr), RelayProcessError> {
    let spawn_error = |source| RelayProcessError::Spawn {
        exe: exe.to_owned(),
        source,
    };
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(spawn_error)?;

    let mut child = Command::new(exe)
        .arg("__relay")
        .arg("--config")
        .arg(config)
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_error)?;

    let stdin = child.stdin.take();
    let Some(stdout) = child.stdout.take() else {
        unreachable!("stdout was requested as a pipe");
    };
    let mut lines = BufReader::new(stdout).lines();
    let read_address = async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(addr) = line
                .strip_prefix(READY_PREFIX)
                .and_then(|a| a.trim().parse().ok())
            {
                return Some(addr);
            }
        }
        None
    };

    match tokio::time::timeout(START_TIMEOUT, read_address).await {
        Ok(Some(addr)) => Ok((child, stdin, addr)),
        Ok(None) => {
            let _ = child.wait().await;
            Err(RelayProcessError::Exited {
                log: log.to_owned(),
                tail: log_tail(log),
            })
        }
        Err(_) => {
            let _ = child.kill().await;
            Err(RelayProcessError::Timeout {
                timeout: START_TIMEOUT,
                log: log.to_owned(),
            })
        }
    }
}

/// Returns the last lines of the log, for error messages.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}
