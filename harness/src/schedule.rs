//! Closed-loop and open-loop load schedules over a set of lanes.
//!
//! In the closed loop each lane starts its next operation as soon as the previous one
//! finishes, and an operation's latency counts from its actual start. In the open loop,
//! operations are due at fixed times (`start + n / rate`) whatever the server does. A due
//! operation waits for a free lane, and its latency counts from the due time, so a server
//! that stalls shows the stall in the latency of every operation it delayed instead of
//! sending fewer operations (no coordinated omission).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

/// Rule that starts operations: closed or open loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadModel {
    /// Each lane starts its next operation when the previous one finishes.
    Closed,
    /// Operations are due at a fixed rate per second over all lanes.
    Open {
        /// Operations per second.
        rate: f64,
    },
}

impl LoadModel {
    /// Returns "closed" or "open".
    pub fn name(&self) -> &'static str {
        match self {
            LoadModel::Closed => "closed",
            LoadModel::Open { .. } => "open",
        }
    }
}

/// One operation handed to a lane.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    /// Number of the operation, from 0, in the order they were issued.
    pub seq: u64,
    /// Time from which the operation's latency counts.
    pub intended: Instant,
}

/// Whether a lane goes on after an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Take the next operation.
    Continue,
    /// This lane has nothing more to do.
    Stop,
}

/// Counts of one schedule run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScheduleOutcome {
    /// Operations issued.
    pub issued: u64,
    /// Operations that a lane ran.
    pub started: u64,
    /// Open-loop operations never run: still waiting for a lane at the hard stop, or more than
    /// the grace period past their due time.
    pub abandoned: u64,
}

/// Runs operations on `lanes` for `duration`, then waits for the running ones.
///
/// Operations due before the end of `duration` still run afterwards, until `grace` has also
/// passed. Then waiting operations are abandoned and counted, and running ones are cancelled.
/// An open-loop operation more than `grace` past its due time is abandoned at once.
pub async fn run_schedule<L, F, Fut>(
    model: LoadModel,
    lanes: &[Arc<L>],
    duration: Duration,
    grace: Duration,
    operation: F,
) -> ScheduleOutcome
where
    L: Send + Sync + 'static,
    F: Fn(Arc<L>, Ticket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Flow> + Send + 'static,
{
    let start = Instant::now();
    let end = start + duration;
    let hard_stop = end + grace;
    match model {
        LoadModel::Closed => run_closed(lanes, end, hard_stop, operation).await,
        LoadModel::Open { rate } => run_open(lanes, rate, start, end, hard_stop, operation).await,
    }
}

async fn run_closed<L, F, Fut>(
    lanes: &[Arc<L>],
    end: Instant,
    hard_stop: Instant,
    operation: F,
) -> ScheduleOutcome
where
    L: Send + Sync + 'static,
    F: Fn(Arc<L>, Ticket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Flow> + Send + 'static,
{
    let issued = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for lane in lanes {
        let lane = Arc::clone(lane);
        let operation = operation.clone();
        let issued = Arc::clone(&issued);
        tasks.spawn(async move {
            loop {
                let now = Instant::now();
                if now >= end {
                    break;
                }
                let seq = issued.fetch_add(1, Ordering::Relaxed);
                if operation(Arc::clone(&lane), Ticket { seq, intended: now }).await == Flow::Stop {
                    break;
                }
            }
        });
    }
    join_until(tasks, hard_stop).await;
    let issued = issued.load(Ordering::Relaxed);
    ScheduleOutcome {
        issued,
        started: issued,
        abandoned: 0,
    }
}

async fn run_open<L, F, Fut>(
    lanes: &[Arc<L>],
    rate: f64,
    start: Instant,
    end: Instant,
    hard_stop: Instant,
    operation: F,
) -> ScheduleOutcome
where
    L: Send + Sync + 'static,
    F: Fn(Arc<L>, Ticket) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Flow> + Send + 'static,
{
    // At most one ticket per lane waits in the channel. A backlog that the lanes cannot take
    // is not kept in memory but counted as abandoned.
    let (sender, receiver) = async_channel::bounded::<Ticket>(lanes.len().max(1));
    let started = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for lane in lanes {
        let lane = Arc::clone(lane);
        let operation = operation.clone();
        let receiver = receiver.clone();
        let started = Arc::clone(&started);
        tasks.spawn(async move {
            while let Ok(ticket) = receiver.recv().await {
                if Instant::now() >= hard_stop {
                    break;
                }
                started.fetch_add(1, Ordering::Relaxed);
                if operation(Arc::clone(&lane), ticket).await == Flow::Stop {
                    break;
                }
            }
        });
    }

    // Due times come from the schedule alone, so when the lanes fall behind, each ticket keeps
    // its own due time. A ticket more than `grace` past its due time is counted as issued
    // and abandoned without being created.
    let grace = hard_stop.saturating_duration_since(end);
    let interval = interval_nanos(rate);
    let due_before = |instant: Instant| -> u64 {
        let elapsed = instant.saturating_duration_since(start).as_nanos();
        u64::try_from(elapsed.div_ceil(u128::from(interval))).unwrap_or(u64::MAX)
    };
    let total = due_before(end);
    let mut next = 0u64;
    while next < total {
        let now = Instant::now();
        if now >= hard_stop {
            break;
        }
        let due = start + Duration::from_nanos(interval.saturating_mul(next));
        if let Some(cutoff) = now.checked_sub(grace).filter(|&cutoff| cutoff > due) {
            next = due_before(cutoff).clamp(next + 1, total);
            continue;
        }
        tokio::time::sleep_until(due.into()).await;
        let ticket = Ticket {
            seq: next,
            intended: due,
        };
        match tokio::time::timeout_at(hard_stop.into(), sender.send(ticket)).await {
            Ok(Ok(())) => next += 1,
            // Either every lane stopped, so nothing would run the ticket, or the hard stop
            // came while the lanes were busy.
            Ok(Err(_)) | Err(_) => break,
        }
    }
    sender.close();

    join_until(tasks, hard_stop).await;
    let started = started.load(Ordering::Relaxed);
    // Every operation due before the end counts as issued, including those skipped above or
    // never reached because the lanes stopped or the hard stop came first.
    let issued = total;
    ScheduleOutcome {
        issued,
        started,
        abandoned: issued.saturating_sub(started),
    }
}

/// Returns the time between two open-loop operations in nanoseconds, at least 1.
fn interval_nanos(rate: f64) -> u64 {
    // The options bound the rate, so the interval is a few microseconds at least.
    ((1e9 / rate).round() as u64).max(1)
}

/// Waits for every task until `hard_stop`, then cancels the rest.
async fn join_until(mut tasks: JoinSet<()>, hard_stop: Instant) {
    let wait_all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout_at(hard_stop.into(), wait_all)
        .await
        .is_err()
    {
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn open_loop_issues_at_rate() {
        let lanes: Vec<Arc<()>> = (0..4).map(|_| Arc::new(())).collect();
        let outcome = run_schedule(
            LoadModel::Open { rate: 200.0 },
            &lanes,
            Duration::from_millis(500),
            Duration::from_secs(5),
            |_lane, _ticket| async { Flow::Continue },
        )
        .await;
        assert_eq!(outcome.issued, 100);
        assert_eq!(outcome.started, 100);
        assert_eq!(outcome.abandoned, 0);
    }

    #[tokio::test]
    async fn open_loop_backlog_keeps_due_times() {
        // One lane, each operation taking 50 ms, while operations are due every 10 ms:
        // the backlog grows, and the latency from the due time must show it.
        let lanes = vec![Arc::new(())];
        let latencies = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&latencies);
        let outcome = run_schedule(
            LoadModel::Open { rate: 100.0 },
            &lanes,
            Duration::from_millis(200),
            Duration::from_secs(10),
            move |_lane, ticket| {
                let recorded = Arc::clone(&recorded);
                async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    recorded.lock().unwrap().push(ticket.intended.elapsed());
                    Flow::Continue
                }
            },
        )
        .await;
        assert_eq!(outcome.issued, 20);
        let latencies = latencies.lock().unwrap();
        assert_eq!(latencies.len(), 20);
        let last = *latencies.last().unwrap();
        // The 20th operation finishes near 20 * 50 ms = 1 s after start but was due at 190 ms.
        assert!(last >= Duration::from_millis(700), "last latency {last:?}");
    }

    #[tokio::test]
    async fn open_loop_backlog_stays_bounded() {
        // 100 million operations are due within 100 ms on one lane whose every operation
        // takes 20 ms. Every operation more than the grace of 100 ms late is abandoned
        // without being queued, so the run ends near 200 ms with a handful started.
        let lanes = vec![Arc::new(())];
        let began = Instant::now();
        let outcome = run_schedule(
            LoadModel::Open { rate: 1e9 },
            &lanes,
            Duration::from_millis(100),
            Duration::from_millis(100),
            |_lane, _ticket| async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Flow::Continue
            },
        )
        .await;
        assert!(
            began.elapsed() < Duration::from_secs(2),
            "{:?}",
            began.elapsed()
        );
        assert_eq!(outcome.issued, 100_000_000, "{outcome:?}");
        assert!(outcome.started <= 20, "{outcome:?}");
        assert_eq!(outcome.abandoned, outcome.issued - outcome.started);
    }

    #[tokio::test]
    async fn closed_loop_stops_at_deadline() {
        let lanes: Vec<Arc<()>> = (0..3).map(|_| Arc::new(())).collect();
        let outcome = run_schedule(
            LoadModel::Closed,
            &lanes,
            Duration::from_millis(100),
            Duration::from_secs(5),
            |_lane, _ticket| async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                Flow::Continue
            },
        )
        .await;
        // At most 11 operations per lane fit in 100 ms; a loaded machine may run fewer.
        assert!(
            (3..=33).contains(&outcome.issued),
            "issued {}",
            outcome.issued
        );
    }

    #[tokio::test]
    async fn hard_stop_abandons_waiting_tickets() {
        let lanes = vec![Arc::new(())];
        let outcome = run_schedule(
            LoadModel::Open { rate: 100.0 },
            &lanes,
            Duration::from_millis(100),
            Duration::from_millis(100),
            |_lane, _ticket| async {
                tokio::time::sleep(Duration::from_millis(80)).await;
                Flow::Continue
            },
        )
        .await;
        assert_eq!(outcome.issued, 10);
        assert!(outcome.abandoned >= 5, "{outcome:?}");
    }
}
