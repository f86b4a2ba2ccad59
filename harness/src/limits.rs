//! The open-file limit (`RLIMIT_NOFILE`) that bounds how many connections the harness can hold.
//!
//! Each connection is one socket descriptor in the harness. The relay runs in its own child
//! process, so the server ends of the connections count against the child's limit, which it
//! inherits from the harness.

use std::fmt;

use rlimit::Resource;

/// Descriptors needed beyond one per connection: standard streams, the epoll instance, the
/// relay child's pipes, the attacker proxy's connections and the files of the report.
pub const DESCRIPTOR_MARGIN: u64 = 256;

/// Returns the number of open files that `connections` connections need.
pub fn required_open_files(connections: usize) -> u64 {
    connections as u64 + DESCRIPTOR_MARGIN
}

/// The soft and hard open-file limits of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NofileLimit {
    /// Limit in force.
    pub soft: u64,
    /// Ceiling up to which an unprivileged process may raise the soft limit.
    pub hard: u64,
}

/// Action needed to reach a required number of open files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitPlan {
    /// The soft limit is already high enough.
    Enough,
    /// Raise the soft limit to the hard limit, which is high enough.
    RaiseSoftToHard,
    /// The hard limit is too low, so only a privileged process can raise it.
    RaiseHard,
}

impl NofileLimit {
    /// Reads the current limits.
    ///
    /// # Errors
    ///
    /// Returns the operating system's error from `getrlimit`.
    pub fn current() -> std::io::Result<NofileLimit> {
        let (soft, hard) = rlimit::getrlimit(Resource::NOFILE)?;
        Ok(NofileLimit { soft, hard })
    }

    /// Returns what it takes to allow `required` open files.
    pub fn plan(&self, required: u64) -> LimitPlan {
        if self.soft >= required {
            LimitPlan::Enough
        } else if self.hard >= required {
            LimitPlan::RaiseSoftToHard
        } else {
            LimitPlan::RaiseHard
        }
    }
}

/// The limit was too low and could not be raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitTooLow {
    /// Limits found at start.
    pub found: NofileLimit,
    /// Open files needed.
    pub required: u64,
    /// Number of connections requested.
    pub connections: usize,
}

impl fmt::Display for LimitTooLow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "open-file limit too low: RLIMIT_NOFILE is {} (hard limit {}), but --connections {} \
             needs at least {} open files, and this process may not raise the hard limit. \
             Raise it before starting, for example with `ulimit -n {}` in a shell allowed to, \
             or LimitNOFILE={} in the systemd unit, or run with --connections {} or fewer.",
            self.found.soft,
            self.found.hard,
            self.connections,
            self.required,
            self.required,
            self.required,
            self.found.hard.saturating_sub(DESCRIPTOR_MARGIN),
        )
    }
}

impl std::error::Error for LimitTooLow {}

/// The open-file limit before and after [`ensure_open_file_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitChange {
    /// Limits found at start.
    pub before: NofileLimit,
    /// Limits in force now.
    pub after: NofileLimit,
}

/// Raises the soft open-file limit so that `connections` connections fit.
///
/// The soft limit goes up to the hard limit, which every process may do. When the hard limit
/// is too low, a raise of both limits is tried, which succeeds only with `CAP_SYS_RESOURCE`.
///
/// # Errors
///
/// Returns [`LimitTooLow`], whose message names `RLIMIT_NOFILE`, the values and the fix, when
/// the limits cannot be read or raised far enough.
pub fn ensure_open_file_limit(connections: usize) -> Result<LimitChange, LimitTooLow> {
    let required = required_open_files(connections);
    let unknown = NofileLimit { soft: 0, hard: 0 };
    let before = NofileLimit::current().map_err(|_| LimitTooLow {
        found: unknown,
        required,
        connections,
    })?;
    let too_low = LimitTooLow {
        found: before,
        required,
        connections,
    };

    let after = match before.plan(required) {
        LimitPlan::Enough => before,
        LimitPlan::RaiseSoftToHard => {
            // The relay child inherits this limit, and it has the other end of every connection.
            rlimit::setrlimit(Resource::NOFILE, before.hard, before.hard)
                .map_err(|_| too_low.clone())?;
            NofileLimit {
                soft: before.hard,
                hard: before.hard,
            }
        }
        LimitPlan::RaiseHard => {
            rlimit::setrlimit(Resource::NOFILE, required, required).map_err(|_| too_low.clone())?;
            NofileLimit {
                soft: required,
                hard: required,
            }
        }
    };
    Ok(LimitChange { before, after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_cases() {
        let limit = NofileLimit {
            soft: 1024,
            hard: 20_000,
        };
        assert_eq!(limit.plan(512), LimitPlan::Enough);
        assert_eq!(limit.plan(10_256), LimitPlan::RaiseSoftToHard);
        assert_eq!(limit.plan(20_001), LimitPlan::RaiseHard);
    }

    #[test]
    fn message_names_limit_and_fix() {
        let error = LimitTooLow {
            found: NofileLimit {
                soft: 1024,
                hard: 1024,
            },
            required: required_open_files(10_000),
            connections: 10_000,
        };
        let message = error.to_string();
        assert!(message.contains("RLIMIT_NOFILE is 1024"), "{message}");
        assert!(message.contains("hard limit 1024"), "{message}");
        assert!(message.contains("at least 10256"), "{message}");
        assert!(message.contains("ulimit -n 10256"), "{message}");
        assert!(message.contains("LimitNOFILE=10256"), "{message}");
        assert!(message.contains("--connections 768"), "{message}");
    }

    #[test]
    fn current_limit_is_readable() {
        let limit = NofileLimit::current().unwrap();
        assert!(limit.soft <= limit.hard);
    }
}
