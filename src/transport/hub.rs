//! The way back to JS for components that send *signals* rather than data (a throttle's
//! releases; a meter's snapshots next): one `SignalHub` per JS environment, one threadsafe
//! function (TSFN) for all of its streams. A signal is three numbers, `(target, kind, value)`:
//! `target` is the id JS gave the stream, `kind` and `value` are the component's.
//!
//! Why not a TSFN per stream, as for byte stages (`delivery`): a throttle waits and is released
//! dozens of times a second, and 1,000 throttled responses would create, reference and release
//! 1,000 TSFNs at that pace. Through the hub, every release due at one moment reaches JS in one
//! call, whatever the number of streams.
//!
//! Invariants:
//! * Calls are coalesced: the hub calls JS only when no call is pending, and JS takes the whole
//!   queue (a `Float64Array` of triples) in that call. `drain` lets the JS thread take the queue
//!   itself (a manual clock's `advance`), after which a pending call finds it empty.
//! * The TSFN is weak by default; JS makes it strong (`keepAlive(true)`) while any of its streams
//!   waits for a signal, and weak again when none does. JS counts; only the JS thread calls
//!   `keepAlive`, so a waiting throttle holds the process and an idle one never does.
//! * Once the environment is torn down (worker_threads exit, process exit) the TSFN is aborted:
//!   `is_closed` says so, and components drop what they were holding for that environment's
//!   streams (a shared throttle group must not wait on a member that can no longer take).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::{Float64Array, Function};
use napi::threadsafe_function::{
  ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, Result};
use napi_derive::napi;

type Tsfn = ThreadsafeFunction<(), (), Float64Array, napi::Status, false, true>;

#[derive(Default)]
struct Queue {
  /// Flat triples: target, kind, value.
  signals: Vec<f64>,
  call_pending: bool,
}

/// One environment's signal queue; components hold it in an `Arc` and send from any thread.
pub struct Hub {
  queue: Mutex<Queue>,
  tsfn: Mutex<Option<Tsfn>>,
  closed: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  // Nothing here can be left half-updated by a panic (a Vec push, a flag).
  m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
  /// Queues a signal; it goes to JS at the next `notify`.
  pub fn send(&self, target: u32, kind: u32, value: f64) {
    lock(&self.queue)
      .signals
      .extend_from_slice(&[target as f64, kind as f64, value]);
  }

  /// Calls JS unless a call is on its way already or nothing is queued.
  pub fn notify(&self) {
    let mut queue = lock(&self.queue);
    if queue.call_pending || queue.signals.is_empty() {
      return;
    }
    let status = match &*lock(&self.tsfn) {
      Some(tsfn) => tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking),
      None => napi::Status::Closing,
    };
    if status == napi::Status::Ok {
      queue.call_pending = true;
    } else {
      // NonBlocking on an unbounded queue fails only when the TSFN is closing: the environment
      // is going away and nobody is left to deliver to.
      self.closed.store(true, Ordering::Release);
      queue.signals.clear();
    }
  }

  /// A hub without its threadsafe function (`SignalHub::new` adds it). It counts as closed; Rust
  /// tests give one to a component's state that must hold a hub but never sends.
  pub(crate) fn unconnected() -> Arc<Self> {
    Arc::new(Hub {
      queue: Mutex::new(Queue::default()),
      tsfn: Mutex::new(None),
      closed: AtomicBool::new(false),
    })
  }

  /// The environment this hub delivers to is gone.
  pub fn is_closed(&self) -> bool {
    self.closed.load(Ordering::Acquire) || lock(&self.tsfn).as_ref().is_none_or(|t| t.aborted())
  }

  fn take(&self, from_call: bool) -> Vec<f64> {
    let mut queue = lock(&self.queue);
    if from_call {
      queue.call_pending = false;
    }
    std::mem::take(&mut queue.signals)
  }
}

/// The JS handle of an environment's hub (`lib/signals.js` makes one per environment).
#[napi]
pub struct SignalHub {
  pub(crate) hub: Arc<Hub>,
}

#[napi]
impl SignalHub {
  /// `dispatch` receives a `Float64Array` of `(target, kind, value)` triples.
  #[napi(constructor)]
  pub fn new(dispatch: Function<'_, Float64Array, ()>) -> Result<Self> {
    let hub = Hub::unconnected();
    let weak = Arc::downgrade(&hub);
    let tsfn = dispatch
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .weak::<true>()
      .build_callback(move |_ctx: ThreadsafeCallContext<()>| {
        let signals = weak.upgrade().map(|h| h.take(true)).unwrap_or_default();
        Ok(Float64Array::new(signals))
      })?;
    *lock(&hub.tsfn) = Some(tsfn);
    Ok(Self { hub })
  }

  /// Holds the process open (a stream waits for a signal) or lets it go (none does).
  #[napi(catch_unwind)]
  #[allow(deprecated)] // napi_ref/unref_threadsafe_function: exactly what is meant here
  pub fn keep_alive(&self, env: Env, on: bool) -> Result<()> {
    match lock(&self.hub.tsfn).as_mut() {
      Some(tsfn) if on => tsfn.refer(&env),
      Some(tsfn) => tsfn.unref(&env),
      None => Ok(()),
    }
  }

  /// Takes what is queued now, on the JS thread, rather than waiting for the TSFN's call.
  #[napi(catch_unwind)]
  pub fn drain(&self) -> Float64Array {
    Float64Array::new(self.hub.take(false))
  }
}
