//! The way back to JS: one stream's event queue, its threadsafe function (TSFN) and its
//! keep-alive.
//!
//! Invariants (see `../shared/DESIGN.md`, "The transport", and `research/feasibility.md` §4):
//! * One TSFN carries every event kind, so `Done` is ordered after the last `Data`. Calls are
//!   coalesced: the runtime calls only when no call is pending, and the callback drains the
//!   whole queue.
//! * The TSFN exists exactly while the stream is *busy*: input accepted but not consumed (and
//!   the worker not parked for want of a credit JS has not given), or a delivery not yet settled
//!   by JS. It is created strong (it keeps the event loop alive) when the stream becomes busy and
//!   released when it becomes idle. So a pipeline with work in flight cannot exit early (a weak
//!   TSFN let one exit with code 0 mid-stream), a stream with nothing in flight never holds the
//!   process (a never-released strong one hangs it), and an idle stream holds no handle at all
//!   (`jest --detectOpenHandles` lists none, as for a core stream).
//! * The JS stream object (`owner`) is referenced strongly exactly while busy, weakly otherwise:
//!   the TSFN's JS callback holds it only through a `WeakRef`, so an abandoned idle stream is
//!   collected like any core stream.
//! * The runtime only produces events while JS counts the stream busy (it runs only on input,
//!   credits and the flush timer, all of which keep it busy), so an event never waits for a TSFN.
//!   Should one find none, it waits in the queue and goes with the next TSFN.
//! * Every busy/idle transition, TSFN creation and reference change happens on the JS thread
//!   (`Pipe` methods, the TSFN callback). The runtime only queues events and calls the TSFN.
//! * After `cancel`, events are dropped here rather than handed to a destroyed stream.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use napi::bindgen_prelude::{FromNapiValue, Function, Object, ToNapiValue};
use napi::threadsafe_function::{
  ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{check_status, sys, Env, JsValue, Result};

use super::{StageError, ERR_HANDOFF};

/// What the runtime is parked on when it reports `Idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Waiting {
  Input,
  Credit,
}

pub(super) enum Event<D> {
  Data(D),
  Space,
  /// Bookkeeping for the keep-alive; not forwarded to JS.
  Idle {
    consumed: u64,
    /// With `Waiting::Credit`: the credits JS must have granted in all before the task runs
    /// again (`credit` wakes it then).
    wake_after_credits: u64,
    waiting: Waiting,
    /// Output the stage still holds (a partial batch waiting for its flush): the stream is not
    /// idle even when all input was consumed.
    output_pending: bool,
  },
  Done,
  Failed(StageError),
  /// The stage stopped after a report that ends the stream: nothing more will come, so the JS
  /// thread must stop keeping the process alive for it. Not forwarded to JS.
  Stopped,
}

/// Event kinds as JS sees them (`lib/transport.js` has the same table).
const KIND_DATA: u32 = 0;
const KIND_SPACE: u32 = 1;
const KIND_DONE: u32 = 2;
const KIND_FAILED: u32 = 3;

/// An event as handed to JS: `[kind, payload?]`.
enum JsEvent<D> {
  Data(D),
  Space,
  Done,
  Failed(StageError),
}

impl<D: ToNapiValue> ToNapiValue for JsEvent<D> {
  unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    match val {
      JsEvent::Data(d) => match ToNapiValue::to_napi_value(env, d) {
        Ok(value) => ToNapiValue::to_napi_value(env, (KIND_DATA, RawValue(value))),
        Err(e) => {
          // Making the JS value failed (say, a string over V8's maximum length): that is this
          // stream's error, not an uncaught exception. Clear what V8 may have thrown.
          let mut pending = false;
          // SAFETY: `env` is the live environment this conversion runs in (the TSFN callback,
          // on the JS thread); both calls only read or clear its pending exception.
          unsafe {
            sys::napi_is_exception_pending(env, &mut pending);
            if pending {
              let mut exception = std::ptr::null_mut();
              sys::napi_get_and_clear_last_exception(env, &mut exception);
            }
          }
          let message = format!("cannot hand a result to JavaScript: {}", e.reason);
          ToNapiValue::to_napi_value(env, (KIND_FAILED, ERR_HANDOFF, message))
        }
      },
      JsEvent::Space => ToNapiValue::to_napi_value(env, (KIND_SPACE,)),
      JsEvent::Done => ToNapiValue::to_napi_value(env, (KIND_DONE,)),
      JsEvent::Failed(e) => ToNapiValue::to_napi_value(env, (KIND_FAILED, e.code, e.message)),
    }
  }
}

/// An already-created JS value, to sit inside a tuple with other `ToNapiValue`s.
pub(crate) struct RawValue(pub(crate) sys::napi_value);

impl ToNapiValue for RawValue {
  unsafe fn to_napi_value(_env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
    Ok(val.0)
  }
}

type Tsfn<D> = ThreadsafeFunction<(), (), Vec<JsEvent<D>>, napi::Status, false, false>;

struct Outbox<D: ToNapiValue + Send + 'static> {
  events: Vec<Event<D>>,
  call_pending: bool,
  /// Present exactly while JS counts the stream busy.
  tsfn: Option<Arc<Tsfn<D>>>,
  /// The JS thread is running the stream inline: events wait for `finish_inline`.
  inline: bool,
}

/// What JS knows of the runtime's progress; only the JS thread touches it (behind a mutex
/// because `Delivery` must be `Sync`).
pub(super) struct JsSide {
  /// Input messages (chunks and the end) accepted.
  pub(super) accepted: u64,
  /// Input messages the runtime has said it consumed (from `Idle`).
  consumed: u64,
  pub(super) credits_granted: u64,
  /// `wake_after_credits` of the last `Idle` that said "parked for a credit", until the next
  /// `Idle`: while fewer credits were granted, the task is parked on its consumer.
  parked_until_credits: Option<u64>,
  /// The last `Idle` said the stage holds output not yet handed over.
  output_pending: bool,
  /// Done, failed, stopped or cancelled: nothing more to wait for.
  finished: bool,
  /// Events were handed to the JS callback and it has not said it is done with them
  /// (`settle`): keep everything alive until it has, or the stream could be collected while
  /// napi-rs is still building the values of those events.
  pub(super) delivering: bool,
  busy: bool,
  env: sys::napi_env,
  /// The JS stream: strong exactly while `busy`. Null once closed.
  owner: sys::napi_ref,
  /// The JS function the TSFN calls (a closure that holds the stream weakly). Null once closed.
  callback: sys::napi_ref,
}

pub(super) struct Delivery<D: ToNapiValue + Send + 'static> {
  me: Weak<Delivery<D>>,
  cancelled: AtomicBool,
  out: Mutex<Outbox<D>>,
  js: Mutex<JsSide>,
}

// SAFETY: the raw N-API pointers in `JsSide` (`env`, `owner`, `callback`) are only passed to
// N-API on the JS thread of `env` (`Delivery::js`, `close` and the TSFN callback all run there);
// other threads only reach `Delivery` for `send` and `cancelled`, which never touch `js`.
unsafe impl<D: ToNapiValue + Send + 'static> Send for Delivery<D> {}
// SAFETY: as above; every field is behind a mutex or atomic.
unsafe impl<D: ToNapiValue + Send + 'static> Sync for Delivery<D> {}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  // A panic while holding one of these locks is already reported as a stream error; the data
  // (counters and a queue) stays consistent, so poisoning is not a reason to stop.
  m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<D: ToNapiValue + Send + 'static> Delivery<D> {
  /// Called on the JS thread. `on_events` receives arrays of `[kind, payload]` events.
  pub(super) fn new(
    env: &Env,
    owner: Object<'_>,
    on_events: Function<'_, (), ()>,
  ) -> Result<Arc<Self>> {
    let mut owner_ref = std::ptr::null_mut();
    let mut callback_ref = std::ptr::null_mut();
    // SAFETY: `owner` and `on_events` are live values of `env`, and we are on its thread (a
    // `#[napi]` call). The references are deleted once, in `close`.
    unsafe {
      check_status!(sys::napi_create_reference(
        env.raw(),
        owner.raw(),
        0,
        &mut owner_ref
      ))?;
      check_status!(sys::napi_create_reference(
        env.raw(),
        on_events.raw(),
        1,
        &mut callback_ref
      ))?;
    }
    Ok(Arc::new_cyclic(|me| Self {
      me: me.clone(),
      cancelled: AtomicBool::new(false),
      out: Mutex::new(Outbox {
        events: Vec::new(),
        call_pending: false,
        tsfn: None,
        inline: false,
      }),
      js: Mutex::new(JsSide {
        accepted: 0,
        consumed: 0,
        credits_granted: 0,
        parked_until_credits: None,
        output_pending: false,
        finished: false,
        delivering: false,
        busy: false,
        env: env.raw(),
        owner: owner_ref,
        callback: callback_ref,
      }),
    }))
  }

  pub(super) fn is_cancelled(&self) -> bool {
    self.cancelled.load(Ordering::Acquire)
  }

  /// The environment is going away (worker_threads termination, process exit): nothing sent
  /// will arrive.
  pub(super) fn is_aborted(&self) -> bool {
    lock(&self.out).tsfn.as_ref().is_some_and(|t| t.aborted())
  }

  /// Runtime side: queues an event; it goes to JS at the next `notify`.
  pub(super) fn send(&self, event: Event<D>) {
    lock(&self.out).events.push(event);
  }

  /// Runtime side: queues a run's events, in order, once its counters are published.
  pub(super) fn send_all(&self, events: Vec<Event<D>>) {
    if !events.is_empty() {
      lock(&self.out).events.extend(events);
    }
  }

  /// Runtime side: calls JS unless a call is already on its way or the JS thread itself is
  /// running the stream. A run's data reaches the queue only after its counters were published
  /// (`send_all`), so a `stats()` read on receipt covers what was delivered.
  pub(super) fn notify(&self) {
    let mut out = lock(&self.out);
    if !out.inline && !out.events.is_empty() {
      call_if_idle(&mut out);
    }
  }

  /// JS side: the stream is about to run inline; its events wait for `finish_inline`.
  pub(super) fn begin_inline(&self) {
    lock(&self.out).inline = true;
  }

  /// JS side: the inline run is over. Returns its events (with any still queued before them),
  /// as the JS array the TSFN callback would have received, for JS to handle now; their
  /// bookkeeping is done and the keep-alive updated.
  pub(super) fn finish_inline(&self, env: &Env) -> Result<sys::napi_value> {
    let (mut js, handed) = self.take_events(|out| out.inline = false);
    self.update_keep_alive(&mut js, env.raw())?;
    drop(js);
    // SAFETY: `env` is the live environment of the JS thread we are called on (a `#[napi]`
    // method); the events' values are created in it.
    unsafe { ToNapiValue::to_napi_value(env.raw(), handed) }
  }

  /// JS side: updates the bookkeeping with `f`, leaving the keep-alive for a later call.
  pub(super) fn note(&self, f: impl FnOnce(&mut JsSide)) {
    f(&mut lock(&self.js));
  }

  /// JS side: updates the bookkeeping with `f`, then the keep-alive.
  pub(super) fn js<R>(&self, env: &Env, f: impl FnOnce(&mut JsSide) -> R) -> Result<R> {
    let mut js = lock(&self.js);
    let r = f(&mut js);
    self.update_keep_alive(&mut js, env.raw())?;
    Ok(r)
  }

  /// JS side: the stream is destroyed; nothing it still has will be acted on.
  pub(super) fn cancel(&self, env: &Env) {
    self.cancelled.store(true, Ordering::Release);
    let mut js = lock(&self.js);
    js.finished = true;
    // Perhaps destroyed from inside the JS callback: nothing delivered will be acted on now.
    js.delivering = false;
    let _ = self.update_keep_alive(&mut js, env.raw());
    lock(&self.out).events.clear();
  }

  /// JS side, from the stream's finalizer (or environment teardown): cancels and lets go of
  /// every JS reference.
  pub(super) fn close(&self) {
    self.cancelled.store(true, Ordering::Release);
    let tsfn = {
      let mut out = lock(&self.out);
      out.events.clear();
      out.tsfn.take()
    };
    drop(tsfn);
    let mut guard = lock(&self.js);
    let js = &mut *guard;
    js.finished = true;
    js.busy = false;
    let env = js.env;
    for r in [&mut js.owner, &mut js.callback] {
      if !r.is_null() {
        // SAFETY: a `Delivery` is closed by its `Pipe`'s `Drop`, which only the GC finalizer of
        // the `NativeStream` runs, on the JS thread of `js.env`; each reference belongs to that
        // environment and is deleted once (nulled under this lock).
        unsafe { sys::napi_delete_reference(env, *r) };
        *r = std::ptr::null_mut();
      }
    }
  }

  /// Creates or releases the TSFN and strengthens or weakens `owner` as the stream becomes busy
  /// or idle. Call on the JS thread only.
  fn update_keep_alive(&self, js: &mut JsSide, env: sys::napi_env) -> Result<()> {
    let blocked_on_credit = js
      .parked_until_credits
      .is_some_and(|wake| js.credits_granted < wake);
    // Input not yet consumed, or output the stage still holds (its flush comes once a credit
    // does): without the latter, a stream parked on a credit with a partial batch was counted
    // idle, and the batch waited for the next write while the process could exit without it.
    let working = (js.accepted > js.consumed || js.output_pending) && !blocked_on_credit;
    // `delivering` counts even after Done: the last results travel with it.
    let busy = js.delivering || (!js.finished && working);
    if busy == js.busy || js.callback.is_null() {
      return Ok(());
    }
    if busy {
      let tsfn = Arc::new(self.create_tsfn(env, js.callback)?);
      let mut out = lock(&self.out);
      out.tsfn = Some(tsfn);
      // Events that found no TSFN (see the header) go now.
      if !out.events.is_empty() {
        call_if_idle(&mut out);
      }
    } else {
      let released = {
        let mut out = lock(&self.out);
        // A call still queued on the TSFN we release may never reach our callback (Node drops
        // the callback of a closing TSFN): do not wait for it. Events it would have carried are
        // still in our queue and go with the next TSFN; if it does arrive, it finds the queue
        // drained or delivers early, both harmless.
        out.call_pending = false;
        out.tsfn.take()
      };
      drop(released); // outside the lock
    }
    js.busy = busy;
    let mut count = 0;
    // SAFETY: `owner` was created by `napi_create_reference` in this environment, we are on its
    // JS thread, and it is only deleted by `close`, which also nulls it under the `js` lock we
    // hold.
    unsafe {
      if !js.owner.is_null() {
        if busy {
          sys::napi_reference_ref(env, js.owner, &mut count);
        } else {
          sys::napi_reference_unref(env, js.owner, &mut count);
        }
      }
    }
    Ok(())
  }

  fn create_tsfn(&self, env: sys::napi_env, callback: sys::napi_ref) -> Result<Tsfn<D>> {
    let mut value = std::ptr::null_mut();
    // SAFETY: `callback` is a live reference of this environment (not yet deleted: checked by
    // the caller under the `js` lock), and we are on its JS thread.
    check_status!(unsafe { sys::napi_get_reference_value(env, callback, &mut value) })?;
    // SAFETY: `value` is the function the reference was created from, in this environment.
    let function: Function<'_, (), ()> = unsafe { Function::from_napi_value(env, value) }?;
    let me = self.me.clone();
    function
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .weak::<false>()
      .build_callback(move |ctx: ThreadsafeCallContext<()>| {
        Ok(me.upgrade().map(|d| d.deliver(ctx.env)).unwrap_or_default())
      })
  }

  /// Runs on the JS thread inside the TSFN call: drains the queue, keeps the keep-alive
  /// bookkeeping for itself and returns what JS has to act on.
  fn deliver(&self, env: Env) -> Vec<JsEvent<D>> {
    let (mut js, handed) = self.take_events(|out| out.call_pending = false);
    // Stay alive until JS has handled these (it calls `settle`); only then may the process exit
    // or the stream be collected.
    js.delivering = !handed.is_empty();
    // A failure here (no TSFN could be created) leaves the stream as it was; there is no caller
    // to report it to, and the next JS call on the stream reports it.
    let _ = self.update_keep_alive(&mut js, env.raw());
    handed
  }

  /// JS side: takes every queued event (after `reset` marks the queue's state), does their
  /// bookkeeping and returns those JS acts on, with the `js` lock still held.
  fn take_events(
    &self,
    reset: impl FnOnce(&mut Outbox<D>),
  ) -> (MutexGuard<'_, JsSide>, Vec<JsEvent<D>>) {
    let events = {
      let mut out = lock(&self.out);
      reset(&mut out);
      std::mem::take(&mut out.events)
    };
    let mut js = lock(&self.js);
    let handed = self.absorb(&mut js, events);
    (js, handed)
  }

  /// Does the bookkeeping of `events` and returns those JS acts on.
  fn absorb(&self, js: &mut JsSide, events: Vec<Event<D>>) -> Vec<JsEvent<D>> {
    let mut handed = Vec::with_capacity(events.len());
    for event in events {
      match event {
        Event::Idle {
          consumed,
          wake_after_credits,
          waiting,
          output_pending,
        } => {
          js.consumed = js.consumed.max(consumed);
          js.output_pending = output_pending;
          js.parked_until_credits = (waiting == Waiting::Credit).then_some(wake_after_credits);
        }
        Event::Data(d) => handed.push(JsEvent::Data(d)),
        Event::Space => handed.push(JsEvent::Space),
        Event::Done => {
          js.finished = true;
          handed.push(JsEvent::Done)
        }
        Event::Failed(e) => {
          js.finished = true;
          handed.push(JsEvent::Failed(e))
        }
        Event::Stopped => js.finished = true,
      }
    }
    if self.is_cancelled() {
      // Destroyed: late events are dropped here rather than handed to a destroyed stream.
      handed.clear();
    }
    handed
  }
}

fn call_if_idle<D: ToNapiValue + Send + 'static>(out: &mut Outbox<D>) {
  if out.call_pending {
    return;
  }
  if let Some(tsfn) = &out.tsfn {
    // NonBlocking on an unbounded queue only fails when the TSFN is closing (environment
    // teardown); the stream is gone then, so there is nobody left to tell.
    if tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking) == napi::Status::Ok {
      out.call_pending = true;
    }
  }
}
