//! State shared by every task of a run: the users, their verified bundles, the ledger, the
//! metrics of each scenario and the failures found so far.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use qrnm_engine::{Engine, VerifiedBundle};

use crate::ledger::Ledger;
use crate::metrics::Metrics;
use crate::report::Failure;
use crate::users::User;

/// Failures kept in memory; later ones are only counted.
const MAX_KEPT_FAILURES: usize = 1000;

/// Failure kinds that count as a duplicate delivery rather than a verification failure.
pub const DUPLICATE_KINDS: [&str; 1] = ["duplicate"];
/// Failure kinds that count as a lost message rather than a verification failure.
pub const LOST_KINDS: [&str; 1] = ["lost"];

/// One scenario's metrics and failure counts.
#[derive(Debug)]
struct ScenarioSlot {
    name: String,
    metrics: Arc<Metrics>,
    failure_kinds: BTreeMap<String, u64>,
}

/// Everything the load tasks share.
#[derive(Debug)]
pub struct World {
    /// The crypto engine.
    pub engine: Engine,
    /// Random id of the run, written into every payload.
    pub run_id: u64,
    /// The simulated users.
    pub users: Vec<User>,
    /// Each user's bundle, fetched from the relay and verified, by user index.
    pub directory: Vec<VerifiedBundle>,
    /// Every sealed message.
    pub ledger: Ledger,
    /// Payload size in bytes.
    pub message_size: usize,
    /// Messages per seal_many and open_many call.
    pub batch: usize,
    scenarios: Mutex<Vec<ScenarioSlot>>,
    failures: Mutex<Vec<Failure>>,
}

impl World {
    /// Creates the shared state of a run.
    pub fn new(
        engine: Engine,
        run_id: u64,
        users: Vec<User>,
        directory: Vec<VerifiedBundle>,
        message_size: usize,
        batch: usize,
    ) -> World {
        World {
            engine,
            run_id,
            users,
            directory,
            ledger: Ledger::new(),
            message_size,
            batch,
            scenarios: Mutex::new(Vec::new()),
            failures: Mutex::new(Vec::new()),
        }
    }

    fn scenarios(&self) -> MutexGuard<'_, Vec<ScenarioSlot>> {
        self.scenarios
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a scenario: its metrics become the current ones. Returns its index.
    pub fn begin_scenario(&self, name: &str) -> (usize, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::new());
        let mut scenarios = self.scenarios();
        scenarios.push(ScenarioSlot {
            name: name.to_owned(),
            metrics: Arc::clone(&metrics),
            failure_kinds: BTreeMap::new(),
        });
        (scenarios.len() - 1, metrics)
    }

    /// Returns the index and metrics of the scenario running now.
    ///
    /// Before the first scenario, a "setup" scenario is created to hold what happens then.
    pub fn current(&self) -> (usize, Arc<Metrics>) {
        {
            let scenarios = self.scenarios();
            if let Some(slot) = scenarios.last() {
                return (scenarios.len() - 1, Arc::clone(&slot.metrics));
            }
        }
        self.begin_scenario("setup")
    }

    /// Returns the metrics of scenario `index`, or the current ones when it is unknown.
    pub fn metrics_of(&self, index: usize) -> Arc<Metrics> {
        let found = self
            .scenarios()
            .get(index)
            .map(|slot| Arc::clone(&slot.metrics));
        // The lock is released before `current`, which takes it again.
        found.unwrap_or_else(|| self.current().1)
    }

    /// Returns the metrics of every scenario, setup included.
    pub fn all_metrics(&self) -> Vec<Arc<Metrics>> {
        self.scenarios()
            .iter()
            .map(|slot| Arc::clone(&slot.metrics))
            .collect()
    }

    /// Records a failure of scenario `index`, or of the current scenario when `None`.
    pub fn fail(&self, index: Option<usize>, mut failure: Failure) {
        {
            let mut scenarios = self.scenarios();
            let last = scenarios.len().saturating_sub(1);
            if let Some(slot) = scenarios.get_mut(index.unwrap_or(last)) {
                failure.scenario.clone_from(&slot.name);
                *slot.failure_kinds.entry(failure.kind.clone()).or_insert(0) += 1;
            }
        }
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() < MAX_KEPT_FAILURES {
            failures.push(failure);
        }
    }

    /// Returns the failure counts by kind of scenario `index`.
    pub fn failure_kinds(&self, index: usize) -> BTreeMap<String, u64> {
        self.scenarios()
            .get(index)
            .map(|s| s.failure_kinds.clone())
            .unwrap_or_default()
    }

    /// Returns the failures kept so far.
    pub fn failures(&self) -> Vec<Failure> {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Returns the indices of users that are not classical-only, which send in every scenario.
    pub fn modern_users(&self) -> Vec<u32> {
        self.users
            .iter()
            .filter(|u| u.kind != crate::users::UserKind::Classical)
            .map(|u| u.index)
            .collect()
    }
}
