//! Meter and MonitoredWritable, native half: the histograms, the rates, the snapshot arithmetic,
//! the Prometheus text, and the interval timer. `lib/meter.js` owns the stream contract and the
//! per-chunk counting; this side never sees a chunk.
//!
//! ```text
//!  JS write()/_transform: plain arithmetic into fields, sizes/latencies into a Float64Array
//!       │ batch full, every timer signal, before stats()/'summary'
//!       ▼
//!  MeterHandle::record(batch) ─► histograms    MeterHandle::snapshot_into(totals, out) ─► rates, ETA
//!       ▲
//!  hub dispatch ◄── TICK / CHECK signals ◄── MeterTimer::run_slice at each deadline (timer thread)
//! ```
//!
//! Why the split: a napi call per chunk (~0.1 µs plus argument conversion) would add a third or
//! more to the `PassThrough` it measures (~0.3 µs a chunk; `research/peers-baseline.md` §4),
//! against a budget of a quarter, so JS batches and the native side is called once per batch
//! (256 chunks) and once per tick.
//!
//! Invariants:
//! * Counts are JS's exact totals, passed whole at each snapshot; nothing is sampled but the
//!   latencies (JS decides which chunks to time).
//! * The timer runs on the runtime's timer thread (`runs_on_timer`: a few µs to queue a signal),
//!   against absolute deadlines `start + k·period`, so ticks do not drift and a late tick does
//!   not shift the following ones. A wake-up is rounded up to a slot shared by every meter (1 %
//!   of the period, at most 10 ms; none on a manual clock), so many meters share wake-ups.
//! * The timer stops for good at `stop()` (close/destroy) and when the handle is collected (the
//!   timer heap holds jobs weakly), and never holds the process open (JS waits on the hub with
//!   `holdsProcess` false).
//! * After a final snapshot (finish/close), elapsed time and rates are frozen.
//! * At most one TICK and one CHECK per meter wait for JS: a deadline that comes while the
//!   previous signal of its kind has not been handled (`MeterHandle::handled`) is skipped and
//!   counted, not queued. Without this, more ticks than JS could handle (1,000 meters at 1 ms)
//!   piled up in the hub faster than JS took them and the event loop never got to its timers.
//! * Deadline arithmetic saturates: an interval of years never wraps `now + interval` into the
//!   past (which made the timer fire in a busy loop); a saturated deadline is never armed.

mod histogram;
mod prometheus;
mod rate;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use napi::bindgen_prelude::Object;
use napi::{Env, Result};
use napi_derive::napi;

use crate::clock::{Clock, ManualClock, Nanos, NANOS_PER_MS};
use crate::runtime::{Job, Next, Schedule};
use crate::transport::hub::{Hub, SignalHub};

pub use histogram::Histogram;
pub use rate::Ewma;

/// Signal kinds (`lib/meter.js` has the same): an interval tick ('stats'), a stall check.
pub const SIGNAL_TICK: u32 = 1;
pub const SIGNAL_CHECK: u32 = 2;

/// The coarsest rounding of a meter's deadlines (see `TimerState::slot`).
const SLOT_MAX: Nanos = 10_000_000;

/// The totals JS passes at each snapshot, in this order (`lib/meter.js` has the same).
pub mod input {
  pub const BYTES: usize = 0;
  pub const CHUNKS: usize = 1;
  pub const BACKPRESSURE: usize = 2;
  pub const DRAINS: usize = 3;
  pub const BLOCKED_MS: usize = 4;
  pub const BUSY_MS: usize = 5;
  pub const STALLS: usize = 6;
  pub const BUFFERED: usize = 7;
  pub const BUFFERED_MAX: usize = 8;
  pub const HWM: usize = 9;
  pub const LEN: usize = 10;
}

/// What is measured: a pass-through stage (starved = not blocked downstream) or a sink
/// (starved = no write in progress).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
  Meter,
  Writable,
}

/// The snapshot's fields, in order. NaN means "unknown" (JS turns it into `null`).
pub const FIELDS: &[&str] = &[
  "bytes",
  "chunks",
  "bytesWritten",
  "backpressureEvents",
  "drainEvents",
  "elapsedMs",
  "avgThroughput",
  "currentRate",
  "smoothedRate",
  "averageRate",
  "minRate",
  "maxRate",
  "blockedMs",
  "busyMs",
  "starvedMs",
  "stalls",
  "buffered",
  "bufferedMax",
  "highWaterMark",
  "bufferFillMax",
  "bufferFillMean",
  "total",
  "percent",
  "eta",
  "latencyCount",
  "latencyP50",
  "latencyP90",
  "latencyP99",
  "latencyMax",
  "latencyMean",
  "sizeCount",
  "sizeP50",
  "sizeP90",
  "sizeP99",
  "sizeMax",
  "sizeMean",
];

pub mod field {
  pub const BYTES: usize = 0;
  pub const CHUNKS: usize = 1;
  pub const BACKPRESSURE: usize = 3;
  pub const DRAINS: usize = 4;
  pub const ELAPSED_MS: usize = 5;
  pub const SMOOTHED_RATE: usize = 8;
  pub const BLOCKED_MS: usize = 12;
  pub const BUSY_MS: usize = 13;
  pub const STARVED_MS: usize = 14;
  pub const STALLS: usize = 15;
  pub const BUFFERED: usize = 16;
  pub const BUFFER_FILL_MAX: usize = 19;
  pub const PERCENT: usize = 22;
}

/// The measuring state of one stream, free of napi (tested with `cargo test`).
pub struct MeterCore {
  kind: Kind,
  /// Rates count items (object mode) rather than bytes.
  items: bool,
  total: Option<f64>,
  started: Nanos,
  ended: Option<Nanos>,
  pub sizes: Histogram,
  /// Latencies in µs.
  pub latencies: Histogram,
  last_tick: Nanos,
  last_units: f64,
  current: Option<f64>,
  smoothed: Ewma,
  min_rate: Option<f64>,
  max_rate: Option<f64>,
  /// Time-weighted buffer fill: the integral so far (fill × ns) and the last sample.
  fill_integral: f64,
  fill_last: Option<(Nanos, f64)>,
  /// The last snapshot, for the Prometheus text.
  pub last: Vec<f64>,
}

fn nan_if_none(v: Option<f64>) -> f64 {
  v.unwrap_or(f64::NAN)
}

impl MeterCore {
  pub fn new(kind: Kind, items: bool, half_life_ms: f64, total: Option<f64>, now: Nanos) -> Self {
    Self {
      kind,
      items,
      total,
      started: now,
      ended: None,
      sizes: Histogram::with_bounds(prometheus::SIZE_BOUNDS),
      latencies: Histogram::with_bounds(prometheus::LATENCY_BOUNDS_US),
      last_tick: now,
      last_units: 0.0,
      current: None,
      smoothed: Ewma::new(half_life_ms / 1000.0),
      min_rate: None,
      max_rate: None,
      fill_integral: 0.0,
      fill_last: None,
      last: vec![f64::NAN; FIELDS.len()],
    }
  }

  pub fn set_total(&mut self, total: Option<f64>) {
    self.total = total;
  }

  /// Folds in a batch: `sizes` are chunk sizes in bytes, `latencies` write latencies in ms.
  pub fn record(&mut self, sizes: &[f64], latencies_ms: &[f64]) {
    for &s in sizes {
      self.sizes.record(s);
    }
    for &l in latencies_ms {
      self.latencies.record(l * 1000.0);
    }
  }

  /// A snapshot at `now` from JS's totals (`input::*` order). `tick`: an interval ended (the
  /// current and smoothed rates move on); `last`: the stream finished or closed (time stops).
  pub fn snapshot(&mut self, inputs: &[f64], now: Nanos, tick: bool, last: bool) -> &[f64] {
    let get = |i: usize| inputs.get(i).copied().unwrap_or(0.0);
    let (bytes, chunks) = (get(input::BYTES), get(input::CHUNKS));
    let units = if self.items { chunks } else { bytes };
    let frozen = self.ended.is_some();
    if last && !frozen {
      self.ended = Some(now);
    }
    let end = self.ended.unwrap_or(now).max(self.started);
    let elapsed_s = (end - self.started) as f64 / 1e9;
    let average = if elapsed_s > 0.0 {
      units / elapsed_s
    } else {
      0.0
    };
    if !frozen && (tick || last) && now > self.last_tick {
      let dt = (now - self.last_tick) as f64 / 1e9;
      let rate = (units - self.last_units).max(0.0) / dt;
      self.current = Some(rate);
      self.smoothed.update(rate, dt);
      // The final partial interval is too short to stand for the stage's rate.
      if tick {
        self.min_rate = Some(self.min_rate.map_or(rate, |m| m.min(rate)));
        self.max_rate = Some(self.max_rate.map_or(rate, |m| m.max(rate)));
      }
      self.last_tick = now;
      self.last_units = units;
    }
    let hwm = get(input::HWM);
    let fill = if hwm > 0.0 {
      get(input::BUFFERED) / hwm
    } else {
      0.0
    };
    if !frozen {
      if let Some((at, f)) = self.fill_last {
        self.fill_integral += f * now.saturating_sub(at) as f64;
      }
      self.fill_last = Some((now, fill));
    }
    // Unknown (NaN) until an interval has ended and sampled the fill, as the interval rates are,
    // rather than a 0 beside an exact, non-zero maximum.
    let fill_mean = if self.min_rate.is_none() {
      f64::NAN
    } else if end > self.started {
      self.fill_integral / (end - self.started) as f64
    } else {
      fill
    };
    let elapsed_ms = elapsed_s * 1000.0;
    let blocked = get(input::BLOCKED_MS);
    let busy = get(input::BUSY_MS);
    let starved = match self.kind {
      Kind::Meter => elapsed_ms - blocked,
      Kind::Writable => elapsed_ms - busy,
    }
    .max(0.0);
    // Before the first tick the only rate there is is the average.
    let current = self.current.unwrap_or(average);
    let smoothed = self.smoothed.value().unwrap_or(average);
    let (percent, eta) = progress(self.total, units, smoothed);
    let us = 1e-3; // µs → ms
    let lat = &self.latencies;
    let q = |h: &Histogram, p: f64, scale: f64| nan_if_none(h.quantile(p).map(|v| v * scale));
    let values = [
      bytes,
      chunks,
      bytes,
      get(input::BACKPRESSURE),
      get(input::DRAINS),
      elapsed_ms,
      if elapsed_s > 0.0 {
        bytes / elapsed_s
      } else {
        0.0
      },
      current,
      smoothed,
      average,
      nan_if_none(self.min_rate),
      nan_if_none(self.max_rate),
      blocked,
      busy,
      starved,
      get(input::STALLS),
      get(input::BUFFERED),
      get(input::BUFFERED_MAX),
      hwm,
      if hwm > 0.0 {
        get(input::BUFFERED_MAX) / hwm
      } else {
        0.0
      },
      fill_mean,
      nan_if_none(self.total),
      percent,
      eta,
      lat.count() as f64,
      q(lat, 0.5, us),
      q(lat, 0.9, us),
      q(lat, 0.99, us),
      nan_if_none(lat.max().map(|v| v as f64 * us)),
      nan_if_none(lat.mean().map(|v| v * us)),
      self.sizes.count() as f64,
      q(&self.sizes, 0.5, 1.0),
      q(&self.sizes, 0.9, 1.0),
      q(&self.sizes, 0.99, 1.0),
      nan_if_none(self.sizes.max().map(|v| v as f64)),
      nan_if_none(self.sizes.mean()),
    ];
    self.last.clear();
    self.last.extend_from_slice(&values);
    &self.last
  }
}

/// `(percent, eta in seconds)` at `rate` units per second; NaN when unknown. Never negative,
/// never infinite: with no total or no rate there is no ETA, and past the total there is nothing
/// left to wait for.
pub fn progress(total: Option<f64>, units: f64, rate: f64) -> (f64, f64) {
  let Some(total) = total else {
    return (f64::NAN, f64::NAN);
  };
  if total <= 0.0 {
    return (100.0, 0.0);
  }
  let percent = (units / total * 100.0).clamp(0.0, 100.0);
  let remaining = total - units;
  if remaining <= 0.0 {
    return (percent, 0.0);
  }
  // `rate` is the smoothed rate, or the average until the smoothed rate has a value. Once it has
  // decayed to 0 in a long stall the time left is unknown (null), not the average's guess (eta
  // grew with the stall, then fell back to minutes when the smoothed rate underflowed to 0).
  let eta = remaining / rate;
  (
    percent,
    if eta.is_finite() && eta >= 0.0 {
      eta
    } else {
      f64::NAN
    },
  )
}

/// The interval timer: queues a TICK every `interval` and a CHECK every `check` (stall
/// detection), each against its own absolute grid.
struct MeterTimer {
  schedule: Schedule,
  clock: Clock,
  hub: Arc<Hub>,
  target: u32,
  me: Weak<MeterTimer>,
  state: Mutex<TimerState>,
  /// A TICK / a CHECK is queued or being handled by JS: the next deadline of its kind skips.
  tick_pending: AtomicBool,
  check_pending: AtomicBool,
  /// Deadlines skipped because JS had not handled the previous signal yet.
  skipped: AtomicU64,
}

struct TimerState {
  /// Deadlines are rounded up to a multiple of this (0: exact), so that meters created at
  /// different moments share wake-ups: 10,000 meters ticking each second on their own grids
  /// woke the timer thread 10,000 times a second and called JS as often; on 10 ms slots it is
  /// at most 100 wake-ups and JS calls, each carrying ~100 ticks.
  slot: Nanos,
  interval: Nanos,
  check: Option<Nanos>,
  next_tick: Nanos,
  next_check: Nanos,
  stopped: bool,
}

/// The first grid point after `now`.
fn next_on_grid(next: Nanos, period: Nanos, now: Nanos) -> Nanos {
  if next > now {
    return next;
  }
  let missed = (now - next) / period + 1;
  next.saturating_add(missed.saturating_mul(period))
}

impl MeterTimer {
  fn lock(&self) -> MutexGuard<'_, TimerState> {
    // Plain numbers and a flag: nothing is left half-updated by a panic.
    self.state.lock().unwrap_or_else(|p| p.into_inner())
  }

  fn arm(&self, at: Nanos, slot: Nanos) {
    // A saturated deadline (an interval beyond the clock's range) never comes.
    if at == Nanos::MAX {
      return;
    }
    let at = if slot > 1 {
      at.div_ceil(slot).saturating_mul(slot)
    } else {
      at
    };
    if let Some(me) = self.me.upgrade() {
      let job: Arc<dyn Job> = me;
      self.clock.wake_at(at, &job);
    }
  }

  fn stop(&self) {
    self.lock().stopped = true;
  }

  /// Queues a signal of `kind` unless one is still waiting for JS (then counts a skip).
  fn offer(&self, kind: u32, now_ms: f64) -> bool {
    let pending = if kind == SIGNAL_TICK {
      &self.tick_pending
    } else {
      &self.check_pending
    };
    if pending.swap(true, Ordering::AcqRel) {
      self.skipped.fetch_add(1, Ordering::Relaxed);
      return false;
    }
    self.hub.send(self.target, kind, now_ms);
    true
  }
}

impl Job for MeterTimer {
  fn schedule(&self) -> &Schedule {
    &self.schedule
  }

  fn runs_on_timer(&self) -> bool {
    true
  }

  fn run_slice(&self, _me: &Arc<dyn Job>) -> Next {
    if self.hub.is_closed() {
      self.stop();
    }
    let now = self.clock.now();
    let mut sent = false;
    let at = {
      let mut s = self.lock();
      if s.stopped {
        return Next::Park;
      }
      let now_ms = now as f64 / NANOS_PER_MS;
      if now >= s.next_tick {
        sent |= self.offer(SIGNAL_TICK, now_ms);
        s.next_tick = next_on_grid(s.next_tick, s.interval, now);
      }
      if let Some(check) = s.check {
        if now >= s.next_check {
          sent |= self.offer(SIGNAL_CHECK, now_ms);
          s.next_check = next_on_grid(s.next_check, check, now);
        }
      }
      // A wake-up before the deadline (spurious, or a manual clock's) re-arms and waits.
      let at = match s.check {
        Some(_) => s.next_tick.min(s.next_check),
        None => s.next_tick,
      };
      (at, s.slot)
    };
    if sent {
      self.hub.notify();
    }
    self.arm(at.0, at.1);
    Next::Park
  }
}

/// A Float64Array JS owns and this side fills (an alias: napi's macro would read a literal
/// `&mut [f64]` argument as a class reference).
type OutBuffer<'a> = &'a mut [f64];

/// The native side of one `Meter` or `MonitoredWritable`.
#[napi]
pub struct MeterHandle {
  core: MeterCore,
  clock: Clock,
  timer: Arc<MeterTimer>,
}

#[napi]
impl MeterHandle {
  /// Starts measuring now. `kind`: 0 meter, 1 writable; `items`: rates count items; signals for
  /// `target` go to `hub` every `interval_ms` (TICK) and every `check_ms` if > 0 (CHECK);
  /// `total` < 0: unknown; `clock`: a manual clock instead of the monotonic one.
  #[napi(factory, catch_unwind)]
  #[allow(clippy::too_many_arguments)]
  pub fn create(
    hub: &SignalHub,
    target: u32,
    kind: u32,
    items: bool,
    interval_ms: f64,
    check_ms: f64,
    half_life_ms: f64,
    total: f64,
    clock: Option<&ManualClock>,
  ) -> Result<Self> {
    crate::runtime::start().map_err(napi::Error::from_reason)?;
    let clock = clock.map_or(Clock::Monotonic, ManualClock::clock);
    let now = clock.now();
    let kind = if kind == 1 {
      Kind::Writable
    } else {
      Kind::Meter
    };
    let to_ns = |ms: f64| ((ms * NANOS_PER_MS).round() as Nanos).max(1);
    let interval = to_ns(interval_ms);
    let check = (check_ms > 0.0).then(|| to_ns(check_ms));
    // A manual clock's test expects its deadlines exactly; a real one can be up to 1 % of the
    // period (at most 10 ms) late for the sake of shared wake-ups.
    let period = check.map_or(interval, |c| c.min(interval));
    let slot = if clock.is_manual() {
      0
    } else {
      (period / 100).min(SLOT_MAX)
    };
    let timer = Arc::new_cyclic(|me| MeterTimer {
      schedule: Schedule::new(),
      clock: clock.clone(),
      hub: Arc::clone(&hub.hub),
      target,
      me: me.clone(),
      state: Mutex::new(TimerState {
        slot,
        interval,
        check,
        next_tick: now.saturating_add(interval),
        next_check: now.saturating_add(check.unwrap_or(0)),
        stopped: false,
      }),
      tick_pending: AtomicBool::new(false),
      check_pending: AtomicBool::new(false),
      skipped: AtomicU64::new(0),
    });
    timer.arm(now.saturating_add(period), slot);
    Ok(Self {
      core: MeterCore::new(
        kind,
        items,
        half_life_ms,
        (total >= 0.0).then_some(total),
        now,
      ),
      clock,
      timer,
    })
  }

  /// Folds in a batch: the first `n_sizes` of `sizes` (bytes), the first `n_latencies` of
  /// `latencies` (ms).
  #[napi(catch_unwind)]
  pub fn record(&mut self, sizes: &[f64], n_sizes: u32, latencies: &[f64], n_latencies: u32) {
    let s = &sizes[..(n_sizes as usize).min(sizes.len())];
    let l = &latencies[..(n_latencies as usize).min(latencies.len())];
    self.core.record(s, l);
  }

  /// A snapshot from JS's totals (see `input`), written into `out` in the order of `FIELDS`
  /// (NaN: unknown). A buffer JS keeps rather than an object built here: 36 property sets
  /// through N-API cost ~15 µs a snapshot, which at 10,000 meters ticking once a second was
  /// 18 % of a core.
  #[napi(
    catch_unwind,
    ts_args_type = "totals: Float64Array, tick: boolean, last: boolean, out: Float64Array"
  )]
  pub fn snapshot_into(&mut self, totals: &[f64], tick: bool, last: bool, out: OutBuffer<'_>) {
    let now = self.clock.now();
    let values = self.core.snapshot(totals, now, tick, last);
    let n = values.len().min(out.len());
    out[..n].copy_from_slice(&values[..n]);
  }

  /// The same snapshot as a plain object (`FIELDS` names), for inspection and tests.
  #[napi(catch_unwind, ts_return_type = "Record<string, number>")]
  pub fn snapshot(
    &mut self,
    env: Env,
    totals: &[f64],
    tick: bool,
    last: bool,
  ) -> Result<Object<'_>> {
    let now = self.clock.now();
    let values = self.core.snapshot(totals, now, tick, last);
    crate::stats::to_object(&env, FIELDS.iter().copied().zip(values.iter().copied()))
  }

  /// Milliseconds on this meter's clock (the manual clock's time in tests).
  #[napi(catch_unwind)]
  pub fn now(&self) -> f64 {
    self.clock.now() as f64 / NANOS_PER_MS
  }

  /// The total from now on (< 0: unknown).
  #[napi(catch_unwind)]
  pub fn set_total(&mut self, total: f64) {
    self.core.set_total((total >= 0.0).then_some(total));
  }

  /// The sample lines of each metric family for this stream, labelled `name` (in the order of
  /// `prometheusHeaders()`), from the last snapshot.
  #[napi(catch_unwind)]
  pub fn prometheus_samples(&self, name: String) -> Vec<String> {
    prometheus::samples(&self.core, &name)
  }

  /// The samples of each family as `suffix\tle\tvalue` lines, from the last snapshot (for the
  /// prom-client bridge, which does its own labelling and escaping).
  #[napi(catch_unwind)]
  pub fn prometheus_values(&self) -> Vec<String> {
    prometheus::tab_values(&self.core)
  }

  /// JS has handled the last signal of `kind` (TICK or CHECK): the next deadline of that kind
  /// may queue one again.
  #[napi(catch_unwind)]
  pub fn handled(&self, kind: u32) {
    let pending = if kind == SIGNAL_TICK {
      &self.timer.tick_pending
    } else {
      &self.timer.check_pending
    };
    pending.store(false, Ordering::Release);
  }

  /// How many deadlines were skipped because JS had not handled the previous signal yet.
  #[napi(catch_unwind)]
  pub fn skipped(&self) -> f64 {
    self.timer.skipped.load(Ordering::Relaxed) as f64
  }

  /// Stops the timer for good (close/destroy): no signal is queued after this returns.
  #[napi(catch_unwind)]
  pub fn stop(&self) {
    self.timer.stop();
  }
}

impl Drop for MeterHandle {
  fn drop(&mut self) {
    self.timer.stop();
  }
}

/// The `# HELP` and `# TYPE` lines of each metric family, in the order of `prometheusSamples`.
#[napi(catch_unwind)]
pub fn prometheus_headers() -> Vec<String> {
  prometheus::headers()
}

/// The names of the snapshot's fields, in the order `snapshotInto` writes them.
#[napi(catch_unwind)]
pub fn meter_fields() -> Vec<&'static str> {
  FIELDS.to_vec()
}

/// `name\ttype\thelp` of each metric family, in the order of `prometheusValues`.
#[napi(catch_unwind)]
pub fn prometheus_families() -> Vec<String> {
  prometheus::families()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn inputs(bytes: f64, chunks: f64) -> Vec<f64> {
    let mut v = vec![0.0; input::LEN];
    v[input::BYTES] = bytes;
    v[input::CHUNKS] = chunks;
    v[input::HWM] = 16384.0;
    v
  }

  const S: Nanos = 1_000_000_000;

  #[test]
  fn rates_and_eta_follow_the_ticks() {
    let mut m = MeterCore::new(Kind::Meter, false, 1000.0, Some(4000.0), 0);
    let s = m.snapshot(&inputs(1000.0, 1.0), S, true, false).to_vec();
    assert_eq!(s[field::BYTES], 1000.0);
    assert_eq!(s[7], 1000.0); // current
    assert!((s[field::PERCENT] - 25.0).abs() < 1e-9);
    assert!((s[23] - 3.0).abs() < 1e-9); // 3000 left at 1000/s
    let s = m
      .snapshot(&inputs(1000.0, 1.0), 2 * S, true, false)
      .to_vec();
    assert_eq!(s[7], 0.0);
    assert!((s[field::SMOOTHED_RATE] - 500.0).abs() < 1e-9);
    assert_eq!(s[10], 0.0); // min
    assert_eq!(s[11], 1000.0); // max
                               // Stalled with no rate at all: no ETA, never Infinity.
    let mut stalled = MeterCore::new(Kind::Meter, false, 1000.0, Some(10.0), 0);
    let s = stalled.snapshot(&inputs(0.0, 0.0), S, true, false).to_vec();
    assert!(s[23].is_nan());
  }

  #[test]
  fn grid_arithmetic_saturates_instead_of_wrapping() {
    let half = Nanos::MAX / 2;
    assert_eq!(next_on_grid(half, half, Nanos::MAX - 1), Nanos::MAX);
    assert_eq!(next_on_grid(Nanos::MAX, half, 5), Nanos::MAX);
    assert_eq!(next_on_grid(10, 10, 25), 30);
  }

  #[test]
  fn eta_is_never_negative_or_infinite() {
    assert_eq!(progress(Some(10.0), 20.0, 1.0), (100.0, 0.0));
    assert!(progress(None, 5.0, 1.0).1.is_nan());
    assert!(
      progress(Some(10.0), 5.0, 0.0).1.is_nan(),
      "no rate, or one decayed to 0"
    );
  }

  #[test]
  fn time_stops_at_the_last_snapshot() {
    let mut m = MeterCore::new(Kind::Writable, false, 1000.0, None, 0);
    let mut i = inputs(10.0, 1.0);
    i[input::BUSY_MS] = 400.0;
    let s = m.snapshot(&i, S, false, true).to_vec();
    assert_eq!(s[field::ELAPSED_MS], 1000.0);
    assert_eq!(s[field::STARVED_MS], 600.0);
    let s = m.snapshot(&i, 5 * S, true, false).to_vec();
    assert_eq!(s[field::ELAPSED_MS], 1000.0);
  }

  #[test]
  fn fields_and_values_line_up() {
    let mut m = MeterCore::new(Kind::Meter, true, 1000.0, None, 0);
    assert_eq!(
      m.snapshot(&inputs(0.0, 0.0), S, false, false).len(),
      FIELDS.len()
    );
    assert_eq!(FIELDS[field::STALLS], "stalls");
    assert_eq!(FIELDS[field::BUFFER_FILL_MAX], "bufferFillMax");
    assert_eq!(FIELDS[field::DRAINS], "drainEvents");
    assert_eq!(FIELDS[field::BACKPRESSURE], "backpressureEvents");
    assert_eq!(FIELDS[field::BUFFERED], "buffered");
    assert_eq!(FIELDS[field::BLOCKED_MS], "blockedMs");
    assert_eq!(FIELDS[field::BUSY_MS], "busyMs");
    assert_eq!(FIELDS[field::CHUNKS], "chunks");
  }
}
