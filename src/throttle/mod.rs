//! Throttle and ThrottleGroup, native half: the token buckets, the fair order of a group's
//! members, and the clock they wait on. `lib/throttle.js` owns the stream contract and the
//! bytes; this side only decides *when* how many units may pass.
//!
//! ```text
//!  JS _transform ── gate.acquire(cost) ──► GroupCore (bucket, fair queue)
//!       ▲   granted now: push at once            │ not enough tokens: arm the clock
//!       │                                        ▼
//!  hub dispatch ◄── grant signals ◄── GroupCore::run_slice at the deadline (runtime timer)
//! ```
//!
//! Invariants:
//! * A standalone throttle is a private group with one member; group members share their
//!   group's `GroupCore`. Options arrive validated by `lib/throttle.js`: rates are > 0 (or
//!   infinite: unthrottled), bursts > 0, weights > 0.
//! * `ThrottleGroup.shared(name)` groups live in a process-wide registry for the life of the
//!   process, so members in every `worker_threads` environment share one state.
//! * A gate leaves its group when it is collected or closed; a destroyed stream cancels its
//!   request first, so nothing is granted to it afterwards.

mod bucket;
mod group;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::Object;
use napi::{Env, Result};
use napi_derive::napi;

use crate::clock::{Clock, ManualClock};
use crate::transport::hub::SignalHub;
use group::{Acquired, GroupCore, MemberConfig};

pub use bucket::TokenBucket;

fn shared_groups() -> &'static Mutex<HashMap<String, Arc<GroupCore>>> {
  static SHARED: std::sync::OnceLock<Mutex<HashMap<String, Arc<GroupCore>>>> =
    std::sync::OnceLock::new();
  SHARED.get_or_init(Default::default)
}

/// The native side of a `ThrottleGroup` (and of a standalone `Throttle`'s private group).
#[napi]
pub struct ThrottleGroupHandle {
  core: Arc<GroupCore>,
  /// This handle's call made the group (`shared`: it did not exist yet; `create`: always).
  made: bool,
}

#[napi]
impl ThrottleGroupHandle {
  /// A new group; `burst_given`: the caller chose `burst` (a later `setRate` without one keeps
  /// it); `clock`: a manual clock instead of the monotonic one.
  #[napi(factory, catch_unwind)]
  pub fn create(
    rate: f64,
    burst: f64,
    initial: f64,
    burst_given: bool,
    clock: Option<&ManualClock>,
  ) -> Result<Self> {
    crate::runtime::start().map_err(napi::Error::from_reason)?;
    let clock = clock.map_or(Clock::Monotonic, ManualClock::clock);
    Ok(Self {
      core: GroupCore::new(rate, burst, initial, burst_given, clock),
      made: true,
    })
  }

  /// The process-wide group called `name`, made with these settings if it does not exist yet
  /// (the explicit burst with it, before any other caller can see the group).
  #[napi(factory, catch_unwind)]
  pub fn shared(
    name: String,
    rate: f64,
    burst: f64,
    initial: f64,
    burst_given: bool,
  ) -> Result<Self> {
    crate::runtime::start().map_err(napi::Error::from_reason)?;
    let mut groups = shared_groups().lock().unwrap_or_else(|p| p.into_inner());
    let mut made = false;
    let core = groups.entry(name).or_insert_with(|| {
      made = true;
      GroupCore::new(rate, burst, initial, burst_given, Clock::Monotonic)
    });
    Ok(Self {
      core: Arc::clone(core),
      made,
    })
  }

  /// Whether this handle's call made the group: its settings are the caller's, whatever other
  /// callers changed since (a `setRate` from another worker may already have).
  #[napi(getter)]
  pub fn made(&self) -> bool {
    self.made
  }

  /// The process-wide group called `name`, if it exists.
  #[napi(catch_unwind)]
  pub fn shared_lookup(name: String) -> Option<ThrottleGroupHandle> {
    let groups = shared_groups().lock().unwrap_or_else(|p| p.into_inner());
    groups.get(&name).map(|core| ThrottleGroupHandle {
      core: Arc::clone(core),
      made: false,
    })
  }

  /// `[rate per second, burst, initial tokens]`.
  #[napi(catch_unwind)]
  pub fn config(&self) -> Vec<f64> {
    let (rate, burst, initial) = self.core.config();
    vec![rate, burst, initial]
  }

  /// The rate from now on; the burst `burst` if given, else the one given before (at creation
  /// or by a `setRate`), else `default_burst`: decided under the group's lock, so two callers'
  /// `setRate`s (other workers') never mix one's rate with the other's burst.
  #[napi(catch_unwind)]
  pub fn set_rate(&self, rate: f64, burst: Option<f64>, default_burst: f64) {
    self.core.set_rate(rate, burst, default_burst);
  }

  /// A `shared(name, { burst })` caller found the group with that burst (`burst` as `config()`
  /// returned it): a later `setRate` without one keeps it, unless another caller's `setRate`
  /// changed the burst since (then that one's rule stands; false).
  #[napi(catch_unwind)]
  pub fn keep_burst(&self, burst: f64) -> bool {
    self.core.keep_burst(burst)
  }

  #[napi(catch_unwind, ts_return_type = "Record<string, number>")]
  pub fn stats(&self, env: Env) -> Result<Object<'_>> {
    let s = self.core.stats();
    crate::stats::to_object(
      &env,
      [
        ("units", s.units),
        ("tokens", s.tokens),
        ("rate", s.rate),
        ("burst", s.burst),
        ("members", s.members),
        ("waiting", s.waiting),
      ],
    )
  }

  /// Adds a member whose grants go to `hub` as signals for `target`.
  #[napi(catch_unwind)]
  pub fn join(&self, hub: &SignalHub, target: u32, options: MemberOptions) -> ThrottleGate {
    let key = self.core.join(
      Arc::clone(&hub.hub),
      target,
      MemberConfig {
        weight: options.weight,
        cap: Some((options.cap_rate, options.cap_burst, options.cap_initial)),
        cap_burst_given: options.cap_burst_given,
        piece: (options.piece > 0.0).then_some(options.piece),
      },
    );
    ThrottleGate {
      core: Arc::clone(&self.core),
      key: Some(key),
    }
  }
}

/// A member's settings, validated by `lib/throttle.js`.
#[napi(object)]
pub struct MemberOptions {
  /// Its share relative to the other members.
  pub weight: f64,
  /// Its own rate cap per second (Infinity: none), with the cap's burst and initial tokens.
  pub cap_rate: f64,
  pub cap_burst: f64,
  pub cap_initial: f64,
  /// `cap_burst` was given (a later `setRate` without a burst keeps it).
  pub cap_burst_given: bool,
  /// The most bytes released at once while waiting (0: automatic).
  pub piece: f64,
}

/// One throttled stream's place in its group.
///
/// Once closed, the place goes back to the group, which gives it to the next member that joins:
/// `key` is then None, so nothing here can act on that place any more (a destroyed stream's
/// `setRate()` or `pause()` capped or stopped whichever stream joined next). Its last stats are
/// lib/throttle.js's to keep (`kFinalStats`, taken before `close`).
#[napi]
pub struct ThrottleGate {
  core: Arc<GroupCore>,
  /// The member's place in its group, while it has one.
  key: Option<usize>,
}

/// `acquire` results below zero (`lib/throttle.js` has the same).
const REFUSED_RATE: f64 = -1.0;
const REFUSED_BURST: f64 = -2.0;

#[napi]
impl ThrottleGate {
  /// Asks for `cost` units: returns the units granted now (the rest comes as grant signals), or
  /// in enforce mode -1 (upstream outruns the rate) / -2 (costs more than the burst).
  /// `backlogged`: more is written behind this chunk (the member will ask again at once).
  #[napi(catch_unwind)]
  pub fn acquire(&self, cost: f64, splittable: bool, enforce: bool, backlogged: bool) -> f64 {
    let Some(key) = self.key else {
      return 0.0;
    };
    match self
      .core
      .acquire(key, cost, splittable, enforce, backlogged)
    {
      Acquired::Granted(n) => n,
      Acquired::RateExceeded => REFUSED_RATE,
      Acquired::CostExceedsBurst => REFUSED_BURST,
    }
  }

  /// The member's own cap from now on (Infinity removes it); its burst as for the group's
  /// `setRate`.
  #[napi(catch_unwind)]
  pub fn set_rate(&self, rate: f64, burst: Option<f64>, default_burst: f64) {
    if let Some(key) = self.key {
      self.core.set_member_rate(key, rate, burst, default_burst);
    }
  }

  /// `[rate per second, burst]` that apply to this member (empty once it left its group).
  #[napi(catch_unwind)]
  pub fn config(&self) -> Vec<f64> {
    self.key.map_or_else(Vec::new, |key| {
      let (rate, burst) = self.core.member_config(key);
      vec![rate, burst]
    })
  }

  #[napi(catch_unwind)]
  pub fn set_paused(&self, paused: bool) {
    if let Some(key) = self.key {
      self.core.set_paused(key, paused);
    }
  }

  /// Drops the pending request (destroy): nothing more is granted to it.
  #[napi(catch_unwind)]
  pub fn cancel(&self) {
    if let Some(key) = self.key {
      self.core.cancel(key);
    }
  }

  /// Leaves the group for good (the stream closed).
  #[napi(catch_unwind)]
  pub fn close(&mut self) {
    self.leave_group();
  }

  #[napi(catch_unwind, ts_return_type = "Record<string, number>")]
  pub fn stats(&self, env: Env) -> Result<Object<'_>> {
    let s = self.key.and_then(|key| self.core.member_stats(key));
    let fields = s.map(|s| {
      [
        ("units", s.units),
        ("waitedMs", s.waited_ms),
        ("throttled", s.throttled),
        ("tokens", s.tokens),
        ("rate", s.rate),
        ("burst", s.burst),
        ("pending", s.pending),
      ]
    });
    crate::stats::to_object(&env, fields.into_iter().flatten())
  }
}

impl ThrottleGate {
  fn leave_group(&mut self) {
    if let Some(key) = self.key.take() {
      self.core.cancel(key);
      self.core.leave(key);
    }
  }
}

impl Drop for ThrottleGate {
  fn drop(&mut self) {
    self.leave_group();
  }
}
