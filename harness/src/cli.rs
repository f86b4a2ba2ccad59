//! Command-line options of `qrnm-load`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// Default number of concurrent keep-alive connections.
pub const DEFAULT_CONNECTIONS: usize = 10_000;
/// Upper bound on simulated users when `--users` is not given. Generating a hybrid
/// identity and key bundle costs about a millisecond of CPU, so 10,000 users would
/// add seconds of setup without changing what the run checks.
pub const MAX_DEFAULT_USERS: usize = 1_000;
/// Smallest payload that contains the message header that the receivers check.
pub const MIN_MESSAGE_SIZE: usize = crate::payload::HEADER_LEN;
/// Largest payload. A sealed envelope adds a few kilobytes of keys, ciphertext and signatures
/// to its payload, so 64 KiB keeps every envelope far below the relay's default body limit of
/// 1 MiB, and the queue of sealed envelopes stays small.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;
/// Largest `--batch`. A much larger batch makes one `seal_many` call so long that a short send
/// phase can end before its first envelope is sealed.
pub const MAX_BATCH: usize = 1024;
/// Largest open-loop `--rate`, in messages per second. It is far above what a relay on one
/// machine acknowledges, so only a typing mistake reaches it.
pub const MAX_RATE: f64 = 1_000_000.0;
/// Shortest `--drain-timeout`: one receiver poll waits up to a second, so a shorter drain
/// reports as lost messages that were never waited for.
pub const MIN_DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Options of a load run.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "qrnm-load",
    version,
    about = "Drive simulated qrnm users against a relay and check every message end to end",
    long_about = "Drive simulated qrnm users against a relay over many keep-alive connections. \
        Every delivered message is opened and checked against what was sent. Without --target, \
        a relay is started as a child process on loopback.\n\n\
        Exit status: 0 when every check and threshold passed, 1 when a check or threshold \
        failed, 2 when the run could not start (invalid option, open-file limit, relay start)."
)]
pub struct Options {
    /// Base URL of a running relay (loopback only), for example http://127.0.0.1:8080.
    /// Without it, a relay is started as a child process on 127.0.0.1 with --config.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,

    /// Relay config file for the relay started by the harness.
    /// [default: config/testing.toml in the workspace]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Number of concurrent keep-alive HTTP/1.1 connections, all opened before the measured phase.
    #[arg(long, default_value_t = DEFAULT_CONNECTIONS, value_name = "N")]
    pub connections: usize,

    /// Number of simulated users (identities with a mailbox).
    /// [default: connections / 10, at least 2 and at most 1000]
    #[arg(long, value_name = "N")]
    pub users: Option<usize>,

    /// Scenario to run: steady, mixed, strip, restart or all. Repeat to run several.
    #[arg(long = "scenario", value_name = "NAME", default_value = "all")]
    pub scenarios: Vec<ScenarioArg>,

    /// Measured send time of each scenario, as seconds ("10", "10s"), milliseconds ("500ms")
    /// or minutes ("2m").
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "TIME")]
    pub duration: Duration,

    /// Open-loop arrival rate in messages per second over all connections.
    /// Without it the load is closed loop: each connection sends as soon as the response to its previous one arrives.
    /// At most 1000000.
    #[arg(long, value_name = "MSGS_PER_S")]
    pub rate: Option<f64>,

    /// Payload size in bytes of each message, header included, from 28 to 65536.
    #[arg(long, default_value_t = 256, value_name = "BYTES")]
    pub message_size: usize,

    /// Shares of users by strongest mode, as MODE=WEIGHT pairs, for example hybrid=90,pq=10.
    /// Only hybrid and pq are accepted; the mixed scenario adds classical-only users itself.
    #[arg(long, default_value = "hybrid=100", value_name = "SPEC")]
    pub mode_mix: ModeMix,

    /// Share of classical-only users in the mixed scenario, between 0 and 1 (exclusive).
    #[arg(long, default_value_t = 0.2, value_name = "FRACTION")]
    pub classical_share: f64,

    /// Messages per seal_many / open_many call, from 1 to 1024.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub batch: usize,

    /// Number of connections being opened at the same time during setup.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub connect_concurrency: usize,

    /// Maximum time to wait for every acknowledged message to arrive after a scenario's send phase.
    /// At least 1s.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "TIME")]
    pub drain_timeout: Duration,

    /// Write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write an SVG chart of latency percentiles and throughput over time to this file.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,

    /// Fail the run when the send latency p99 exceeds this many milliseconds.
    #[arg(long, value_name = "MS")]
    pub max_p99_ms: Option<f64>,

    /// Fail the run when the throughput is below this many messages per second.
    #[arg(long, value_name = "MSGS_PER_S")]
    pub min_rate: Option<f64>,

    /// Progress output on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain or off.
    #[arg(long, default_value = "auto", value_name = "KIND")]
    pub progress: ProgressKind,

    /// Internal subcommand; the harness runs it in its own child processes.
    #[command(subcommand)]
    pub internal: Option<Internal>,
}

/// Hidden subcommands that the harness runs in its own child processes.
#[derive(Debug, Clone, Subcommand)]
pub enum Internal {
    /// Run a relay in this process and print its bound address on stdout.
    #[command(name = "__relay", hide = true)]
    Relay(RelayArgs),
}

/// Arguments of the hidden `__relay` subcommand.
#[derive(Debug, Clone, Args)]
pub struct RelayArgs {
    /// Relay config file.
    #[arg(long)]
    pub config: PathBuf,
    /// Address to listen on, replacing the config's.
    #[arg(long)]
    pub listen: std::net::SocketAddr,
    /// Directory of the durable message store, replacing the config's.
    #[arg(long)]
    pub data_dir: PathBuf,
}

impl Options {
    /// Returns the number of simulated users for this run.
    pub fn user_count(&self) -> usize {
        self.users
            .unwrap_or_else(|| (self.connections / 10).clamp(2, MAX_DEFAULT_USERS))
    }

    /// Returns the scenarios to run, in their fixed order, without repeats.
    pub fn selected_scenarios(&self) -> Vec<ScenarioArg> {
        let all = self.scenarios.contains(&ScenarioArg::All);
        ScenarioArg::ORDER
            .into_iter()
            .filter(|s| all || self.scenarios.contains(s))
            .collect()
    }

    /// Checks the options that clap cannot check alone.
    ///
    /// # Errors
    ///
    /// Returns a sentence naming the option, its value and the accepted range.
    pub fn validate(&self) -> Result<(), String> {
        let users = self.user_count();
        if self.connections < 2 {
            return Err(format!(
                "--connections {} is too small: at least 2 are needed",
                self.connections
            ));
        }
        if users < 2 {
            return Err(format!(
                "--users {users} is too small: at least 2 are needed"
            ));
        }
        if users >= self.connections {
            return Err(format!(
                "--users {users} must be below --connections {}: each user has one receiving \
                 connection and the rest send",
                self.connections
            ));
        }
        if self.message_size < MIN_MESSAGE_SIZE {
            return Err(format!(
                "--message-size {} is below the {MIN_MESSAGE_SIZE}-byte message header",
                self.message_size
            ));
        }
        if self.message_size > MAX_MESSAGE_SIZE {
            return Err(format!(
                "--message-size {} is above the maximum of {MAX_MESSAGE_SIZE} bytes, which keeps \
                 every sealed envelope below the relay's body limit",
                self.message_size
            ));
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE) {
                return Err(format!(
                    "--rate {rate} must be a positive number of messages per second, at most \
                     {MAX_RATE}"
                ));
            }
        }
        for (name, value) in [
            ("--max-p99-ms", self.max_p99_ms),
            ("--min-rate", self.min_rate),
        ] {
            if let Some(value) = value {
                if !(value.is_finite() && value >= 0.0) {
                    return Err(format!(
                        "{name} {value} must be a finite number, zero or more"
                    ));
                }
            }
        }
        if !(self.classical_share > 0.0 && self.classical_share < 1.0) {
            return Err(format!(
                "--classical-share {} must be between 0 and 1, both excluded",
                self.classical_share
            ));
        }
        if self.batch == 0 || self.connect_concurrency == 0 {
            return Err("--batch and --connect-concurrency must be at least 1".to_owned());
        }
        if self.batch > MAX_BATCH {
            return Err(format!(
                "--batch {} is above the maximum of {MAX_BATCH} messages per seal_many call",
                self.batch
            ));
        }
        if self.duration.is_zero() {
            return Err("--duration must be longer than zero".to_owned());
        }
        if self.drain_timeout < MIN_DRAIN_TIMEOUT {
            return Err(format!(
                "--drain-timeout {:?} is too short: at least 1s is needed for the receivers' \
                 polls to collect what was acknowledged",
                self.drain_timeout
            ));
        }
        Ok(())
    }
}

/// A scenario name on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScenarioArg {
    /// Every scenario, in the order steady, mixed, strip, restart.
    All,
    /// Hybrid users only.
    Steady,
    /// Classical-only users beside hybrid ones, fallback allowed and then forbidden.
    Mixed,
    /// Bundles with their post-quantum keys removed by a relay-side attacker.
    Strip,
    /// The relay is killed and restarted in the middle of the send phase.
    Restart,
}

impl ScenarioArg {
    /// The order in which scenarios run.
    pub const ORDER: [ScenarioArg; 4] = [
        ScenarioArg::Steady,
        ScenarioArg::Mixed,
        ScenarioArg::Strip,
        ScenarioArg::Restart,
    ];

    /// Returns the scenario's name as written in reports.
    pub fn name(self) -> &'static str {
        match self {
            ScenarioArg::All => "all",
            ScenarioArg::Steady => "steady",
            ScenarioArg::Mixed => "mixed",
            ScenarioArg::Strip => "strip",
            ScenarioArg::Restart => "restart",
        }
    }
}

/// Progress output kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressKind {
    /// A bar when stderr is a terminal, plain lines otherwise.
    Auto,
    /// Always a bar.
    Bar,
    /// Plain lines every few seconds.
    Plain,
    /// No progress output.
    Off,
}

/// Shares of users by their strongest mode.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeMix {
    /// Weight of users whose bundle lists hybrid only.
    pub hybrid: u32,
    /// Weight of users whose bundle lists hybrid and pq.
    pub pq: u32,
}

impl ModeMix {
    /// Returns whether user number `index` of `users` has pq as its strongest mode.
    ///
    /// Users are assigned in blocks so that the shares hold exactly up to rounding.
    pub fn is_pq_user(&self, index: usize, users: usize) -> bool {
        let total = u64::from(self.hybrid) + u64::from(self.pq);
        let pq_users = (users as u64 * u64::from(self.pq)).div_ceil(total.max(1));
        (index as u64) < pq_users
    }
}

impl FromStr for ModeMix {
    type Err = String;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let mut mix = ModeMix { hybrid: 0, pq: 0 };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (mode, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("invalid mode-mix entry {part:?}: expected MODE=WEIGHT"))?;
            let weight: u32 = weight.trim().parse().map_err(|_| {
                format!("invalid weight {weight:?} for {mode}: expected a whole number")
            })?;
            match mode.trim() {
                "hybrid" => mix.hybrid = weight,
                "pq" => mix.pq = weight,
                "classical" => {
                    return Err(
                        "classical is not accepted in --mode-mix: the mixed scenario adds \
                                classical-only users, sized by --classical-share"
                            .to_owned(),
                    );
                }
                other => {
                    return Err(format!(
                        "unknown mode {other:?} in --mode-mix: expected hybrid or pq"
                    ));
                }
            }
        }
        if mix.hybrid == 0 && mix.pq == 0 {
            return Err(format!("--mode-mix {spec:?} gives every mode weight zero"));
        }
        Ok(mix)
    }
}

impl fmt::Display for ModeMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hybrid={},pq={}", self.hybrid, self.pq)
    }
}

/// Parses "10", "10s", "1.5s", "500ms" or "2m" into a duration.
///
/// # Errors
///
/// Returns a sentence naming the value when it has no number, an unknown unit or a negative value.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected a number with s, ms or m"))?;
    let seconds = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        other => {
            return Err(format!(
                "invalid duration unit {other:?} in {text:?}: expected s, ms or m"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("invalid duration {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_units() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn mode_mix_parse() {
        let mix: ModeMix = "hybrid=90, pq=10".parse().unwrap();
        assert_eq!(mix, ModeMix { hybrid: 90, pq: 10 });
        assert!("classical=10".parse::<ModeMix>().is_err());
        assert!("hybrid=0".parse::<ModeMix>().is_err());
        assert!("hybrid".parse::<ModeMix>().is_err());
        assert!("rsa=1".parse::<ModeMix>().is_err());
    }

    #[test]
    fn mode_mix_shares() {
        let mix = ModeMix { hybrid: 3, pq: 1 };
        let pq = (0..100).filter(|&i| mix.is_pq_user(i, 100)).count();
        assert_eq!(pq, 25);
        let only_hybrid = ModeMix { hybrid: 1, pq: 0 };
        assert!(!(0..10).any(|i| only_hybrid.is_pq_user(i, 10)));
    }

    #[test]
    fn defaults_and_validation() {
        let options = Options::try_parse_from(["qrnm-load"]).unwrap();
        assert_eq!(options.connections, 10_000);
        assert_eq!(options.user_count(), 1_000);
        assert_eq!(options.selected_scenarios(), ScenarioArg::ORDER.to_vec());
        assert!(options.validate().is_ok());

        let small =
            Options::try_parse_from(["qrnm-load", "--connections", "300", "--scenario", "strip"])
                .unwrap();
        assert_eq!(small.user_count(), 30);
        assert_eq!(small.selected_scenarios(), vec![ScenarioArg::Strip]);

        let bad =
            Options::try_parse_from(["qrnm-load", "--connections", "10", "--users", "10"]).unwrap();
        assert!(bad.validate().unwrap_err().contains("--users 10"));
        let tiny = Options::try_parse_from(["qrnm-load", "--message-size", "8"]).unwrap();
        assert!(tiny.validate().unwrap_err().contains("--message-size 8"));
    }

    fn rejection(args: &[&str]) -> String {
        let options =
            Options::try_parse_from(std::iter::once("qrnm-load").chain(args.iter().copied()))
                .unwrap();
        options.validate().unwrap_err()
    }

    #[test]
    fn upper_bounds_and_non_finite_values_are_rejected() {
        assert!(rejection(&["--message-size", "999999999"]).contains("65536"));
        assert!(rejection(&["--rate", "1e9"]).contains("1000000"));
        assert!(rejection(&["--batch", "100000"]).contains("1024"));
        assert!(rejection(&["--max-p99-ms", "NaN"]).contains("--max-p99-ms"));
        assert!(rejection(&["--max-p99-ms", "inf"]).contains("--max-p99-ms"));
        assert!(rejection(&["--min-rate", "NaN"]).contains("--min-rate"));
        assert!(rejection(&["--drain-timeout", "0"]).contains("--drain-timeout"));

        let largest = Options::try_parse_from([
            "qrnm-load",
            "--message-size",
            "65536",
            "--batch",
            "1024",
            "--rate",
            "1000000",
            "--drain-timeout",
            "1s",
            "--max-p99-ms",
            "0",
        ])
        .unwrap();
        assert_eq!(largest.validate(), Ok(()));
    }
}
