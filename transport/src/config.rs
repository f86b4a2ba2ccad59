//! Relay configuration: a TOML file, environment overrides, and validation.
//!
//! A file is parsed with `deny_unknown_fields`, so a misspelt key is an error.
//! Every key has a default, so a file names only what it changes. After
//! parsing, [`Config::load`] applies environment overrides and validates the
//! whole configuration, collecting every problem instead of stopping at the
//! first.
//!
//! # Environment overrides
//!
//! Every key can be overridden by an environment variable named `QRNM_`
//! followed by the key's path in upper case with dots replaced by
//! underscores: `listen` by `QRNM_LISTEN`, `data_dir` by `QRNM_DATA_DIR`,
//! `limits.max_body_bytes` by `QRNM_LIMITS_MAX_BODY_BYTES`, `log.level` by
//! `QRNM_LOG_LEVEL`. The value is read as the key's type (an integer or a
//! string). Any other variable that starts with `QRNM_` is an error, so a
//! misspelt override is not ignored.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Prefix of the environment variables that override single keys.
pub const ENV_PREFIX: &str = "QRNM_";

/// Storage backend for mailboxes and bundles.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// SQLite database in `data_dir`, fsynced before a deposit is acknowledged.
    Durable,
    /// Process memory only; everything is lost when the relay stops.
    Memory,
}

impl StoreKind {
    /// Name used in config files and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Durable => "durable",
            StoreKind::Memory => "memory",
        }
    }
}

/// Complete relay configuration.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Socket address to listen on; port 0 picks a free port. Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Directory of the durable store; created if missing. Default `data`.
    pub data_dir: PathBuf,
    /// Storage backend. Default `durable`.
    pub store: StoreKind,
    /// Seconds a message is kept before the retention task erases it. Default 604800 (7 days).
    pub retention_secs: u64,
    /// Milliseconds between two runs of the retention task. Default 60000.
    pub retention_sweep_interval_ms: u64,
    /// Milliseconds that shutdown waits for in-flight requests before closing
    /// the remaining connections. Default 10000.
    pub shutdown_deadline_ms: u64,
    /// Limits on requests, connections and mailboxes.
    pub limits: Limits,
    /// Owner request authentication.
    pub auth: AuthConfig,
    /// Logging.
    pub log: LogConfig,
}

/// Limits on untrusted input. Each one rejects with a standard status or closes
/// the connection, and the relay goes on serving other clients.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Maximum request body in bytes, counted as it arrives (also for chunked
    /// bodies); larger bodies get 413. Default 1048576 (1 MiB).
    pub max_body_bytes: u64,
    /// Maximum request head (request line and headers) in bytes; larger heads
    /// get 431. At least 8192, the smallest read buffer hyper accepts. Default 16384.
    pub max_header_bytes: u64,
    /// Maximum stored messages per mailbox; a deposit beyond it gets 429. Default 10000.
    pub max_messages_per_mailbox: u64,
    /// Maximum stored envelope bytes per mailbox; a deposit beyond it gets 429.
    /// Default 268435456 (256 MiB).
    pub max_bytes_per_mailbox: u64,
    /// Maximum open connections; further connections are closed at once. Default 10000.
    pub max_connections: u64,
    /// Sustained requests per second allowed from one peer IP address; more get 429. Default 100.
    pub requests_per_second_per_peer: u64,
    /// Requests one peer IP address may send at once above the sustained rate. Default 200.
    pub burst: u64,
    /// Maximum ms to receive a complete request head. For HTTP/1.1 hyper also
    /// runs this timer while a keep-alive connection waits for its next
    /// request, so it bounds the idle time of such connections too. Default 10000.
    pub header_read_timeout_ms: u64,
    /// Maximum ms a connection may stay open with no request in progress. Default 60000.
    pub idle_timeout_ms: u64,
    /// Maximum ms to read a request body and produce the response; a long poll
    /// gets its wait time on top. Slower requests get 408. Default 30000.
    pub request_timeout_ms: u64,
    /// Maximum concurrent HTTP/2 streams per connection. Default 128.
    pub h2_max_concurrent_streams: u64,
    /// Maximum HTTP/2 streams reset by the client before the server accepted
    /// them, per connection; more close the connection (rapid reset
    /// protection). Default 20.
    pub h2_max_pending_reset_streams: u64,
    /// Maximum HTTP/2 streams the server resets because of client protocol
    /// errors, per connection; more close the connection. Default 1024.
    pub h2_max_local_error_reset_streams: u64,
}

/// Settings of owner request authentication.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Maximum difference in seconds between a request's timestamp and the
    /// relay's clock. Default 300.
    pub max_clock_skew_secs: u64,
    /// Maximum nonces remembered for replay detection. When every entry is
    /// younger than twice the skew, new owner requests get 503 instead of
    /// evicting a nonce that could then be replayed. Default 1000000.
    pub nonce_cache_capacity: u64,
}

/// Logging settings.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `tracing` filter: a level (`error`, `warn`, `info`, `debug`, `trace`)
    /// or directives such as `qrnm_transport=debug,info`. The `RUST_LOG`
    /// variable, when set, takes precedence. Default `info`.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            store: StoreKind::Durable,
            retention_secs: 7 * 24 * 3600,
            retention_sweep_interval_ms: 60_000,
            shutdown_deadline_ms: 10_000,
            limits: Limits::default(),
            auth: AuthConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_header_bytes: 16 * 1024,
            max_messages_per_mailbox: 10_000,
            max_bytes_per_mailbox: 256 << 20,
            max_connections: 10_000,
            requests_per_second_per_peer: 100,
            burst: 200,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            request_timeout_ms: 30_000,
            h2_max_concurrent_streams: 128,
            h2_max_pending_reset_streams: 20,
            h2_max_local_error_reset_streams: 1024,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            max_clock_skew_secs: 300,
            nonce_cache_capacity: 1_000_000,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".to_owned(),
        }
    }
}

/// One invalid setting: which key, its value, what is wrong and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path, such as `limits.max_body_bytes`.
    pub key: String,
    /// The rejected value as written.
    pub value: String,
    /// Problem with the value.
    pub message: String,
    /// Change that fixes the value.
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} = {}: {}; fix: {}",
            self.key, self.value, self.message, self.fix
        )
    }
}

/// Reason a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error(
        "{path}: cannot read the config file: {source}; fix: check the path and its permissions"
    )]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file was read but is not valid UTF-8, which TOML requires.
    #[error(
        "{path}: the config file is not valid UTF-8 (first invalid byte at offset {offset}); fix: save it as UTF-8 text"
    )]
    NotUtf8 {
        /// The config file.
        path: PathBuf,
        /// Byte offset of the first byte that is not valid UTF-8.
        offset: usize,
    },
    /// The file is not valid TOML or a key is unknown or has the wrong type.
    #[error(
        "{origin}: {message}\nfix: correct the key or value shown above; docs/relay.md lists every key with its type and default"
    )]
    Parse {
        /// The config file, or `<env>` for an environment override.
        origin: String,
        /// The parser's message, which names the line, the key and the value.
        message: String,
    },
    /// An environment override could not be read as the key's type.
    #[error("environment variable {var}={value:?}: {message}")]
    Env {
        /// The variable name.
        var: String,
        /// Its value.
        value: String,
        /// Problem and its fix.
        message: String,
    },
    /// An environment variable starts with `QRNM_` but overrides no key,
    /// usually because its name is misspelt.
    #[error(
        "unknown environment variable{} {}: no config key has this name; fix: unset it or use one of {}",
        if .vars.len() == 1 { "" } else { "s" },
        .vars.join(", "),
        .accepted.join(", ")
    )]
    UnknownEnv {
        /// The unknown variable names.
        vars: Vec<String>,
        /// Every accepted variable name.
        accepted: Vec<String>,
    },
    /// One or more settings are out of range or inconsistent.
    #[error("{origin}: invalid configuration:{}", format_problems(.problems))]
    Invalid {
        /// The config file, with the environment variables that overrode keys.
        origin: String,
        /// Every invalid setting.
        problems: Vec<Problem>,
    },
}

fn format_problems(problems: &[Problem]) -> String {
    let mut text = String::new();
    for problem in problems {
        text.push_str("\n  ");
        text.push_str(&problem.to_string());
    }
    text
}

impl Config {
    /// Reads `path`, applies `QRNM_*` environment overrides and validates the result.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] names the file, the key, the value and the fix.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| ConfigError::NotUtf8 {
            path: path.to_owned(),
            offset: e.utf8_error().valid_up_to(),
        })?;
        let origin = path.display().to_string();
        let env_names = std::env::vars_os().map(|(name, _)| name.to_string_lossy().into_owned());
        check_env_names(env_names)?;
        let (config, overridden) =
            Self::parse_with_env(&text, &origin, |name| std::env::var(name).ok())?;
        config.validate_as(&describe_origin(&origin, &overridden))?;
        Ok(config)
    }

    /// Parses TOML text and validates it, without environment overrides.
    ///
    /// `origin` names the text in errors, usually its file name.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Parse`] or [`ConfigError::Invalid`].
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config = parse_toml(text, origin)?;
        config.validate_as(origin)?;
        Ok(config)
    }

    /// Parses TOML text, then applies overrides looked up by `lookup` (given a
    /// variable name such as `QRNM_LISTEN`). Returns the configuration and the
    /// names of the variables that were applied. Does not validate.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Parse`] for the text, [`ConfigError::Env`] for an override.
    pub fn parse_with_env(
        text: &str,
        origin: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(Config, Vec<String>), ConfigError> {
        let parsed = parse_toml(text, origin)?;
        let mut table = to_table(&parsed)?;
        let mut applied = Vec::new();

        for (path, default) in leaf_keys(&to_table(&Config::default())?) {
            let var = env_var_name(&path);
            let Some(raw) = lookup(&var) else { continue };
            let value = env_value(&var, &raw, &default)?;
            set_path(&mut table, &path, value);
            applied.push(var);
        }

        let config =
            Config::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Parse {
                origin: format!("{origin} with overrides {}", applied.join(", ")),
                message: e.to_string(),
            })?;
        Ok((config, applied))
    }

    /// Checks every setting and returns all problems found.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] listing each problem; `origin` names the source in it.
    pub fn validate_as(&self, origin: &str) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid {
                origin: origin.to_owned(),
                problems,
            })
        }
    }

    /// Lists every invalid setting; empty when the configuration is valid.
    pub fn problems(&self) -> Vec<Problem> {
        let mut check = Checker::default();
        let l = &self.limits;

        if self.listen.port() == 0 && self.listen.ip().is_unspecified() {
            check.fail(
                "listen",
                self.listen,
                "port 0 on an unspecified address makes the relay unreachable at a known address",
                "give a fixed port, or bind a specific address such as 127.0.0.1:0 for tests",
            );
        }
        if self.store == StoreKind::Durable && self.data_dir.as_os_str().is_empty() {
            check.fail(
                "data_dir",
                "\"\"",
                "the durable store needs a directory",
                "set data_dir to a writable directory, or store = \"memory\"",
            );
        }
        check.range("retention_secs", self.retention_secs, 1, 366 * 24 * 3600);
        check.range(
            "retention_sweep_interval_ms",
            self.retention_sweep_interval_ms,
            100,
            3_600_000,
        );
        check.range(
            "shutdown_deadline_ms",
            self.shutdown_deadline_ms,
            1,
            600_000,
        );

        check.range("limits.max_body_bytes", l.max_body_bytes, 4096, 256 << 20);
        check.range("limits.max_header_bytes", l.max_header_bytes, 8192, 1 << 20);
        check.range(
            "limits.max_messages_per_mailbox",
            l.max_messages_per_mailbox,
            1,
            100_000_000,
        );
        check.range(
            "limits.max_bytes_per_mailbox",
            l.max_bytes_per_mailbox,
            1,
            1 << 40,
        );
        if l.max_bytes_per_mailbox < l.max_body_bytes {
            check.fail(
                "limits.max_bytes_per_mailbox",
                l.max_bytes_per_mailbox,
                "is smaller than limits.max_body_bytes, so a mailbox could not hold one maximum-size envelope",
                &format!("set it to at least {}", l.max_body_bytes),
            );
        }
        check.range("limits.max_connections", l.max_connections, 1, 1_000_000);
        check.range(
            "limits.requests_per_second_per_peer",
            l.requests_per_second_per_peer,
            1,
            u64::from(u32::MAX),
        );
        check.range("limits.burst", l.burst, 1, u64::from(u32::MAX));
        check.range(
            "limits.header_read_timeout_ms",
            l.header_read_timeout_ms,
            100,
            600_000,
        );
        check.range("limits.idle_timeout_ms", l.idle_timeout_ms, 100, 3_600_000);
        check.range(
            "limits.request_timeout_ms",
            l.request_timeout_ms,
            100,
            600_000,
        );
        check.range(
            "limits.h2_max_concurrent_streams",
            l.h2_max_concurrent_streams,
            1,
            10_000,
        );
        check.range(
            "limits.h2_max_pending_reset_streams",
            l.h2_max_pending_reset_streams,
            1,
            10_000,
        );
        check.range(
            "limits.h2_max_local_error_reset_streams",
            l.h2_max_local_error_reset_streams,
            1,
            100_000,
        );

        check.range(
            "auth.max_clock_skew_secs",
            self.auth.max_clock_skew_secs,
            1,
            3600,
        );
        check.range(
            "auth.nonce_cache_capacity",
            self.auth.nonce_cache_capacity,
            1000,
            100_000_000,
        );
        if let Err(message) = check_log_filter(&self.log.level) {
            check.fail(
                "log.level",
                format!("{:?}", self.log.level),
                &message,
                "use trace, debug, info, warn or error, or directives such as \"qrnm_transport=debug,info\"",
            );
        }
        check.problems
    }
}

/// Level names that `tracing` reads in a filter directive.
const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// Checks a `tracing` filter. `EnvFilter` reads a bare word such as `warning`
/// as a target name, which gives a valid filter that lets no relay event
/// through. Each directive without `=` must therefore be a level name, a
/// module path (containing `::`) or a span filter (containing `[`).
fn check_log_filter(filter: &str) -> Result<(), String> {
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(filter) {
        return Err(format!("is not a valid tracing filter ({e})"));
    }
    if filter.trim().is_empty() {
        return Err("is empty, so the relay would log nothing".to_owned());
    }
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let bare = !directive.contains(['=', '[']) && !directive.contains("::");
        if bare && !LOG_LEVELS.contains(&directive.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "{directive:?} is not a level name, and tracing would read it as a target name, so the relay would log nothing"
            ));
        }
    }
    Ok(())
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, key: &str, value: impl fmt::Display, message: &str, fix: &str) {
        self.problems.push(Problem {
            key: key.to_owned(),
            value: value.to_string(),
            message: message.to_owned(),
            fix: fix.to_owned(),
        });
    }

    fn range(&mut self, key: &str, value: u64, min: u64, max: u64) {
        if value < min || value > max {
            self.fail(
                key,
                value,
                &format!("is out of range {min}..={max}"),
                &format!("set a value from {min} to {max}"),
            );
        }
    }
}

fn parse_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        origin: origin.to_owned(),
        message: e.to_string(),
    })
}

fn to_table(config: &Config) -> Result<toml::Table, ConfigError> {
    toml::Table::try_from(config).map_err(|e| ConfigError::Parse {
        origin: "<defaults>".to_owned(),
        message: e.to_string(),
    })
}

fn describe_origin(origin: &str, overridden: &[String]) -> String {
    if overridden.is_empty() {
        origin.to_owned()
    } else {
        format!("{origin} (overridden by {})", overridden.join(", "))
    }
}

/// Lists every leaf key as a dotted path with its default value.
fn leaf_keys(table: &toml::Table) -> BTreeMap<String, toml::Value> {
    let mut keys = BTreeMap::new();
    for (name, value) in table {
        match value {
            toml::Value::Table(inner) => {
                for (path, leaf) in leaf_keys(inner) {
                    keys.insert(format!("{name}.{path}"), leaf);
                }
            }
            leaf => {
                keys.insert(name.clone(), leaf.clone());
            }
        }
    }
    keys
}

fn env_var_name(path: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        path.replace('.', "_").to_ascii_uppercase()
    )
}

/// Lists the names of every accepted override variable, sorted.
pub fn env_var_names() -> Vec<String> {
    let defaults = to_table(&Config::default()).unwrap_or_default();
    leaf_keys(&defaults)
        .keys()
        .map(|path| env_var_name(path))
        .collect()
}

/// Rejects environment variables that start with `QRNM_` but override no key,
/// so that a misspelt override fails instead of being ignored. No other
/// program of qrnm reads `QRNM_` variables, so every such name is an override.
///
/// # Errors
///
/// [`ConfigError::UnknownEnv`] naming the unknown and the accepted variables.
pub fn check_env_names(names: impl IntoIterator<Item = String>) -> Result<(), ConfigError> {
    let accepted = env_var_names();
    let mut unknown: Vec<String> = names
        .into_iter()
        .filter(|name| name.starts_with(ENV_PREFIX) && !accepted.contains(name))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    Err(ConfigError::UnknownEnv {
        vars: unknown,
        accepted,
    })
}

fn env_value(var: &str, raw: &str, default: &toml::Value) -> Result<toml::Value, ConfigError> {
    match default {
        toml::Value::Integer(_) => {
            raw.trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .map_err(|_| ConfigError::Env {
                    var: var.to_owned(),
                    value: raw.to_owned(),
                    message: "is not an integer; fix: set a whole number such as 1000".to_owned(),
                })
        }
        toml::Value::Boolean(_) => match raw.trim() {
            "true" => Ok(toml::Value::Boolean(true)),
            "false" => Ok(toml::Value::Boolean(false)),
            _ => Err(ConfigError::Env {
                var: var.to_owned(),
                value: raw.to_owned(),
                message: "is not a boolean; fix: set true or false".to_owned(),
            }),
        },
        _ => Ok(toml::Value::String(raw.to_owned())),
    }
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    match path.split_once('.') {
        None => {
            table.insert(path.to_owned(), value);
        }
        Some((section, rest)) => {
            let entry = table
                .entry(section.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let config = Config::from_toml("", "empty.toml").unwrap();
        assert_eq!(config, Config::default());
    }

    #[test]
    fn misspelt_key_is_rejected() {
        let err = Config::from_toml("[limits]\nmax_body_byte = 10\n", "x.toml").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("x.toml"), "{text}");
        assert!(text.contains("max_body_byte"), "{text}");
    }

    #[test]
    fn zero_limit_names_key_value_and_fix() {
        let err = Config::from_toml("[limits]\nmax_connections = 0\n", "x.toml").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("x.toml"), "{text}");
        assert!(text.contains("limits.max_connections = 0"), "{text}");
        assert!(text.contains("fix: set a value from 1"), "{text}");
    }

    #[test]
    fn every_problem_is_reported() {
        let text = "retention_secs = 0\n[limits]\nburst = 0\nmax_header_bytes = 10\n";
        let Err(ConfigError::Invalid { problems, .. }) = Config::from_toml(text, "x.toml") else {
            panic!("expected an invalid configuration");
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["retention_secs", "limits.max_header_bytes", "limits.burst"]
        );
    }

    #[test]
    fn unknown_log_level_is_rejected() {
        for level in ["warning", "loud", "info,verbose", ""] {
            let text = format!("[log]\nlevel = {level:?}\n");
            let err = Config::from_toml(&text, "x.toml").unwrap_err().to_string();
            assert!(err.contains("x.toml"), "{err}");
            assert!(err.contains(&format!("log.level = {level:?}")), "{err}");
            assert!(
                err.contains("fix: use trace, debug, info, warn or error"),
                "{err}"
            );
        }
    }

    #[test]
    fn log_levels_and_directives_are_accepted() {
        for level in [
            "trace",
            "debug",
            "info",
            "warn",
            "error",
            "off",
            "WARN",
            "qrnm_transport=debug,info",
            "qrnm_transport::server=trace",
            "hyper=warn, info",
        ] {
            let text = format!("[log]\nlevel = {level:?}\n");
            if let Err(e) = Config::from_toml(&text, "x.toml") {
                panic!("{level}: {e}");
            }
        }
    }

    #[test]
    fn bad_store_kind_is_rejected() {
        let err = Config::from_toml("store = \"disk\"\n", "x.toml").unwrap_err();
        assert!(err.to_string().contains("disk"), "{err}");
    }

    #[test]
    fn env_overrides_single_keys() {
        let lookup = |name: &str| match name {
            "QRNM_LISTEN" => Some("127.0.0.1:9000".to_owned()),
            "QRNM_LIMITS_MAX_BODY_BYTES" => Some("8192".to_owned()),
            "QRNM_STORE" => Some("memory".to_owned()),
            _ => None,
        };
        let (config, applied) =
            Config::parse_with_env("listen = \"127.0.0.1:1\"\n", "x.toml", lookup).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(config.limits.max_body_bytes, 8192);
        assert_eq!(config.store, StoreKind::Memory);
        assert_eq!(applied.len(), 3);
    }

    #[test]
    fn unknown_env_var_is_rejected() {
        let names = ["PATH", "QRNM_LIMIT_MAX_BODY_BYTES", "QRNM_LOG_LEVEL"].map(String::from);
        let err = check_env_names(names).unwrap_err().to_string();
        assert!(err.contains("QRNM_LIMIT_MAX_BODY_BYTES"), "{err}");
        assert!(!err.contains("PATH,"), "{err}");
        assert!(err.contains("use one of QRNM_AUTH_"), "{err}");
        assert!(err.contains("QRNM_LIMITS_MAX_BODY_BYTES"), "{err}");
    }

    #[test]
    fn known_env_vars_are_accepted() {
        let names = env_var_names();
        assert!(names.contains(&"QRNM_LOG_LEVEL".to_owned()), "{names:?}");
        assert!(names.contains(&"QRNM_DATA_DIR".to_owned()), "{names:?}");
        check_env_names(names.into_iter().chain(["HOME".to_owned()])).unwrap();
    }

    #[test]
    fn env_override_of_wrong_type_is_rejected() {
        let lookup = |name: &str| (name == "QRNM_RETENTION_SECS").then(|| "a week".to_owned());
        let err = Config::parse_with_env("", "x.toml", lookup).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("QRNM_RETENTION_SECS"), "{text}");
        assert!(text.contains("a week"), "{text}");
    }

    #[test]
    fn shipped_configs_are_valid() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        for name in ["development.toml", "testing.toml"] {
            let path = root.join(name);
            let text = std::fs::read_to_string(&path).unwrap();
            if let Err(e) = Config::from_toml(&text, name) {
                panic!("{e}");
            }
        }
    }
}
