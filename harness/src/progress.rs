//! Progress output on stderr: a bar on a terminal, plain periodic lines otherwise.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;

use crate::cli::ProgressKind;

/// Time between plain progress lines.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// Time between updates of the bar.
const TICK: Duration = Duration::from_millis(200);

/// How progress is shown, resolved from [`ProgressKind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// An indicatif bar.
    Bar,
    /// A line every few seconds.
    Plain,
    /// Nothing.
    Off,
}

impl Display {
    /// Resolves `auto` by whether stderr is a terminal.
    pub fn resolve(kind: ProgressKind) -> Display {
        match kind {
            ProgressKind::Auto if std::io::stderr().is_terminal() => Display::Bar,
            ProgressKind::Auto | ProgressKind::Plain => Display::Plain,
            ProgressKind::Bar => Display::Bar,
            ProgressKind::Off => Display::Off,
        }
    }
}

/// Progress of one phase (connecting, a scenario's send phase, a drain).
#[derive(Debug)]
pub struct Phase {
    display: Display,
    label: String,
    length: u64,
    bar: Option<ProgressBar>,
    last_line: Mutex<Instant>,
}

impl Phase {
    /// Starts showing a phase whose position goes from 0 to `length`.
    pub fn start(display: Display, label: &str, length: u64) -> Arc<Phase> {
        let bar = (display == Display::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(label.to_owned());
            bar
        });
        if display == Display::Plain {
            eprintln!("{label}: started");
        }
        Arc::new(Phase {
            display,
            label: label.to_owned(),
            length,
            bar,
            last_line: Mutex::new(Instant::now()),
        })
    }

    /// Updates the position and the status text.
    pub fn update(&self, position: u64, status: &str) {
        match self.display {
            Display::Bar => {
                if let Some(bar) = &self.bar {
                    bar.set_position(position.min(self.length));
                    bar.set_message(status.to_owned());
                }
            }
            Display::Plain => {
                let mut last = self
                    .last_line
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if last.elapsed() >= PLAIN_EVERY {
                    *last = Instant::now();
                    eprintln!(
                        "{}: {}/{} {}",
                        self.label,
                        position.min(self.length),
                        self.length,
                        status
                    );
                }
            }
            Display::Off => {}
        }
    }

    /// Ends the phase with a final status line.
    pub fn finish(&self, status: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.display != Display::Off {
            eprintln!("{}: {status}", self.label);
        }
    }
}

/// Updates `phase` every tick from `read`, which returns the position and status text,
/// until the returned task is aborted.
pub fn spawn_ticker<F>(phase: Arc<Phase>, read: F) -> JoinHandle<()>
where
    F: Fn() -> (u64, String) + Send + 'static,
{
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        loop {
            interval.tick().await;
            let (position, status) = read();
            phase.update(position, &status);
        }
    })
}
