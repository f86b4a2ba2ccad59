//! The fixed set of lanes that a run holds, and the phase that opens them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::lane::{Endpoint, Lane, LaneError};
use crate::stats::LatencyHistogram;

/// Attempts per connection during the connect phase. On loopback a connect usually fails only
/// when the server's accept backlog overflows, and a short pause lets the backlog drain.
const CONNECT_ATTEMPTS: u32 = 3;
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// `connections` lanes to one endpoint.
#[derive(Debug)]
pub struct Pool {
    endpoint: Arc<Endpoint>,
    lanes: Vec<Arc<Lane>>,
}

/// Result of opening every lane's connection.
#[derive(Debug, Clone)]
pub struct ConnectOutcome {
    /// Connections open after the phase.
    pub held: usize,
    /// Time of each successful connect, handshake included.
    pub times: LatencyHistogram,
    /// Wall time of the whole phase.
    pub elapsed: Duration,
    /// The first connect error, if any lane failed.
    pub first_error: Option<String>,
}

impl Pool {
    /// Creates `connections` unconnected lanes.
    pub fn new(endpoint: Arc<Endpoint>, connections: usize) -> Pool {
        let lanes = (0..connections)
            .map(|id| Arc::new(Lane::new(id, Arc::clone(&endpoint))))
            .collect();
        Pool { endpoint, lanes }
    }

    /// Returns the endpoint shared by the lanes.
    pub fn endpoint(&self) -> &Arc<Endpoint> {
        &self.endpoint
    }

    /// Returns every lane.
    pub fn lanes(&self) -> &[Arc<Lane>] {
        &self.lanes
    }

    /// Opens every lane that is not open, at most `concurrency` at a time, and counts the
    /// lanes open afterwards. `done` counts finished lanes for the progress display.
    pub async fn connect_all(&self, concurrency: usize, done: &Arc<AtomicUsize>) -> ConnectOutcome {
        let started = Instant::now();
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        let mut tasks = JoinSet::new();
        for lane in &self.lanes {
            let lane = Arc::clone(lane);
            let permits = Arc::clone(&permits);
            let done = Arc::clone(done);
            tasks.spawn(async move {
                // The semaphore is never closed, so acquiring only waits.
                let _permit = permits.acquire_owned().await;
                let result = connect_with_retries(&lane).await;
                done.fetch_add(1, Ordering::Relaxed);
                result
            });
        }

        let mut times = LatencyHistogram::new();
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(time)) if !time.is_zero() => times.record(time),
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    first_error.get_or_insert_with(|| error.to_string());
                }
                Err(join_error) => {
                    first_error.get_or_insert_with(|| format!("connect task failed: {join_error}"));
                }
            }
        }
        ConnectOutcome {
            held: self.held(),
            times,
            elapsed: started.elapsed(),
            first_error,
        }
    }

    /// Returns the number of lanes whose connection is open.
    pub fn held(&self) -> usize {
        self.lanes.iter().filter(|lane| lane.is_open()).count()
    }

    /// Closes every connection.
    pub async fn close_all(&self) {
        for lane in &self.lanes {
            lane.close().await;
        }
    }
}

async fn connect_with_retries(lane: &Lane) -> Result<Duration, LaneError> {
    let mut attempt = 1;
    loop {
        match lane.connect().await {
            Ok(time) => return Ok(time),
            Err(error) if attempt >= CONNECT_ATTEMPTS => return Err(error),
            Err(_) => {
                attempt += 1;
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
}
