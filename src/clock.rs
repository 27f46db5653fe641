//! Time for the components whose work is waiting (throttle releases; meter snapshots next): a
//! monotonic clock whose deadlines go to the runtime's timer facility, or a manual clock a
//! test steps by hand (`sluice/testing`), because test frameworks' fake timers cannot reach a
//! clock in Rust.
//!
//! Invariants:
//! * Time is nanoseconds since one process-wide epoch (`Nanos`), never wall-clock time.
//! * A deadline only *wakes* a job; the job reads `now()` itself and re-arms if it is early, so
//!   a stale or spurious wake-up is harmless (as with `runtime::wake_at`).
//! * A manual clock moves only in `advance_to`, on the JS thread that owns it; it runs the jobs
//!   that come due at each deadline in turn (inline when they are idle), so a test that advances
//!   one second sees what one second of real time would have released, in order.

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use napi_derive::napi;

use crate::runtime::{self, Job};

pub type Nanos = u64;

pub const NANOS_PER_MS: f64 = 1e6;

fn epoch() -> Instant {
  static EPOCH: OnceLock<Instant> = OnceLock::new();
  *EPOCH.get_or_init(Instant::now)
}

/// Where a component reads the time and arms its deadlines.
#[derive(Clone, Default)]
pub enum Clock {
  #[default]
  Monotonic,
  Manual(Arc<ManualTime>),
}

impl Clock {
  pub fn now(&self) -> Nanos {
    match self {
      Clock::Monotonic => epoch().elapsed().as_nanos() as Nanos,
      Clock::Manual(time) => time.now(),
    }
  }

  /// Wakes `job` once `now() >= at`.
  pub fn wake_at(&self, at: Nanos, job: &Arc<dyn Job>) {
    match self {
      Clock::Monotonic => runtime::wake_at(epoch() + Duration::from_nanos(at), job),
      Clock::Manual(time) => time.wake_at(at, job),
    }
  }

  pub fn is_manual(&self) -> bool {
    matches!(self, Clock::Manual(_))
  }
}

#[derive(Default)]
struct ManualState {
  now: Nanos,
  /// Armed deadlines, unordered (a test arms few).
  due: Vec<(Nanos, Weak<dyn Job>)>,
}

/// The state of a manual clock, shared by the components that use it.
#[derive(Default)]
pub struct ManualTime {
  state: Mutex<ManualState>,
}

impl ManualTime {
  fn lock(&self) -> std::sync::MutexGuard<'_, ManualState> {
    self.state.lock().unwrap_or_else(|p| p.into_inner())
  }

  pub fn now(&self) -> Nanos {
    self.lock().now
  }

  fn wake_at(&self, at: Nanos, job: &Arc<dyn Job>) {
    self.lock().due.push((at, Arc::downgrade(job)));
  }

  /// The earliest armed deadline, if any.
  fn next_deadline(&self) -> Option<Nanos> {
    let mut state = self.lock();
    state.due.retain(|(_, job)| job.strong_count() > 0);
    state.due.iter().map(|(at, _)| *at).min()
  }

  /// Moves the clock to `to` (never backwards) and runs the jobs due by then.
  fn advance_to(&self, to: Nanos) {
    let due: Vec<Arc<dyn Job>> = {
      let mut state = self.lock();
      state.now = state.now.max(to);
      let now = state.now;
      let mut due = Vec::new();
      state.due.retain(|(at, job)| {
        if *at > now {
          return true;
        }
        if let Some(job) = job.upgrade() {
          due.push(job);
        }
        false
      });
      due
    };
    for job in due {
      run_now(job);
    }
  }
}

/// Runs `job` on this thread if it is idle, else makes sure it runs soon.
pub fn run_now(job: Arc<dyn Job>) {
  runtime::run_here(job);
}

/// A clock that moves only when told to (`sluice/testing`'s `createClock()` wraps it).
#[napi]
pub struct ManualClock {
  pub(crate) time: Arc<ManualTime>,
}

#[napi]
impl ManualClock {
  #[napi(constructor)]
  pub fn new() -> Self {
    Self {
      time: Arc::new(ManualTime::default()),
    }
  }

  /// Milliseconds since the clock was made.
  #[napi]
  pub fn now(&self) -> f64 {
    self.time.now() as f64 / NANOS_PER_MS
  }

  /// The earliest armed deadline in ms, or null.
  #[napi]
  pub fn next_deadline(&self) -> Option<f64> {
    self.time.next_deadline().map(|at| at as f64 / NANOS_PER_MS)
  }

  /// Moves the clock to `ms` and runs what came due (JS steps from deadline to deadline).
  #[napi(catch_unwind)]
  pub fn advance_to(&self, ms: f64) {
    self.time.advance_to((ms * NANOS_PER_MS).round() as Nanos);
  }

  pub(crate) fn clock(&self) -> Clock {
    Clock::Manual(Arc::clone(&self.time))
  }
}

impl Default for ManualClock {
  fn default() -> Self {
    Self::new()
  }
}
