//! The native stream core shared by every sluice component: one worker thread per stream, fed by
//! a byte-bounded channel, answering through one threadsafe function (TSFN).
//!
//! ```text
//!  JS thread                                  worker thread
//!  Pipe::write ── send(Bytes) if budget ──► channel ──► Stage::chunk ──► Outbox::send
//!     ▲  (no budget: JS holds the chunk and its                            │ takes a credit
//!     │   `_transform` callback = backpressure)                            ▼
//!  TSFN callback ◄──────────── one coalesced call ◄────────── event queue (Data | Space | Idle | Done | Failed)
//! ```
//!
//! Invariants (see `../shared/DESIGN.md`, "The transport", and `research/feasibility.md` §4):
//! * Input is bounded by a byte budget on the channel. When it is spent, `write` sets
//!   `want_space` and looks once more (the worker may have emptied the channel between the check
//!   and the flag); the worker answers `Space` after its next `recv`.
//! * Output is bounded by credits: the worker takes one before queueing each `Data` event and
//!   blocks without one. JS gives one back when it starts pushing an event's values, and starts
//!   only while its readable side has room, so a consumer that does not read stops the worker.
//! * Output is handed over at most `IDLE_AFTER` after its input arrived, even when input trickles.
//! * One TSFN carries every event kind, so `Done` is ordered after the last `Data`. Calls are
//!   coalesced: the worker calls only when no call is pending, and the callback drains the queue.
//! * Keep-alive: the TSFN is weak, and the JS stream object (`owner`) is referenced weakly by the
//!   TSFN's callback. The JS thread makes both strong exactly while the worker can make progress
//!   (input accepted but not consumed, and not blocked on a credit JS has not given) or a
//!   delivery is not yet settled by JS. A weak TSFN alone let a pipeline exit with code 0
//!   mid-stream; a strong one hangs the process; a strong owner leaks abandoned streams and their
//!   threads. Every ref/unref happens on the JS thread (`Pipe` methods, the TSFN callback).
//! * `cancel` (from `_destroy`) and `Drop` (the stream was collected) set `cancelled`, wake the
//!   worker and drop the sender; the worker exits without emitting anything JS would act on.
//! * A panic in a stage is caught on the worker and reported as `Failed` with code
//!   `ERR_SLUICE_PANIC`; a JS exception in the event handler is JS's to catch.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender, TryRecvError};
use napi::bindgen_prelude::{Function, Object, ToNapiValue};
use napi::threadsafe_function::{
  ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode, ThreadsafeFunctionHandle,
};
use napi::{check_status, sys, Env, JsValue, Result, Status};
use napi_derive::napi;

use crate::stats::Counters;

/// Error codes the transport itself produces (components add their own).
pub const ERR_PANIC: &str = "ERR_SLUICE_PANIC";
pub const ERR_HANDOFF: &str = "ERR_SLUICE_HANDOFF";

/// A failure that ends the stream. `code` becomes `err.code` in JS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageError {
  pub code: &'static str,
  pub message: String,
}

impl StageError {
  pub fn new(code: &'static str, message: impl Into<String>) -> Self {
    Self {
      code,
      message: message.into(),
    }
  }
}

/// Why a stage call stopped early.
#[derive(Debug)]
pub enum Stop {
  /// The stream was destroyed (or its environment is going away): stop quietly.
  Cancelled,
  /// The stream must fail with this error.
  Failed(StageError),
  /// The stage already sent JS the report that ends the stream (as data, with its details).
  Reported,
}

/// The per-component work done on the worker thread. Knows nothing about threads or N-API.
pub trait Stage: Send + 'static {
  /// What one `Data` event carries to JS.
  type Data: ToNapiValue + Send + 'static;

  /// Handles one input chunk; may send any number of `Data` events.
  fn chunk(
    &mut self,
    chunk: &[u8],
    out: &mut dyn Sink<Self::Data>,
  ) -> std::result::Result<(), Stop>;

  /// The input channel is empty: a good moment to flush partial output for latency.
  fn idle(&mut self, _out: &mut dyn Sink<Self::Data>) -> std::result::Result<(), Stop> {
    Ok(())
  }

  /// The input has ended; flush everything.
  fn end(&mut self, out: &mut dyn Sink<Self::Data>) -> std::result::Result<(), Stop>;
}

/// Where a stage sends its results. The worker's implementation blocks for a credit; tests can
/// collect into a `Vec`.
pub trait Sink<D> {
  fn send(&mut self, data: D) -> std::result::Result<(), Stop>;
}

impl<D> Sink<D> for Vec<D> {
  fn send(&mut self, data: D) -> std::result::Result<(), Stop> {
    self.push(data);
    Ok(())
  }
}

/// Tuning of one pipe. Together they bound the memory a stalled stream holds: `input_bytes` of
/// input queued to the worker, plus `credits` results on their way to JS.
#[derive(Debug, Clone, Copy)]
pub struct PipeOptions {
  /// Input bytes the worker may have queued. A chunk is accepted while the queue is below this,
  /// and always when the queue is empty, so chunks larger than the budget still flow. Counting
  /// bytes rather than chunks lets tiny writes (one line per `write()`) pass in bulk.
  pub input_bytes: usize,
  pub credits: u32,
}

/// How long input may wait in the worker before its output is handed over: the worker flushes
/// partial output once the oldest unflushed input is this old (input paused or still trickling
/// in), and reports idle after this long without input. Long enough for a producer writing in a
/// loop to fill whole batches; short enough not to matter as latency.
const IDLE_AFTER: Duration = Duration::from_millis(1);

enum Msg {
  Chunk(Bytes),
  End,
}

/// What the worker is blocked on when it reports `Idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
  Input,
  Credit,
}

enum Event<D> {
  Data(D),
  Space,
  Idle {
    consumed: u64,
    credits_seen: u64,
    waiting: Waiting,
  },
  Done,
  Failed(StageError),
  /// The worker stopped after a report that ends the stream: nothing more will come, so the
  /// JS thread must stop keeping the process alive for it. Not forwarded to JS.
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

struct OutQueue<D> {
  events: Vec<Event<D>>,
  call_pending: bool,
  credits: u32,
  credits_received: u64,
}

/// State only the JS thread touches (behind a mutex only because `Shared` must be `Sync`).
struct JsSide {
  accepted: u64,
  consumed: u64,
  credits_granted: u64,
  waiting_credit_seen: Option<u64>,
  finished: bool,
  referred: bool,
  tsfn: Weak<ThreadsafeFunctionHandle>,
  /// A reference to the JS stream that owns this pipe: strong exactly while `referred`, so a
  /// stream with work in flight cannot be collected, and an abandoned idle one can (the TSFN's
  /// callback holds it only weakly). Null once the pipe is dropped.
  owner: sys::napi_ref,
  env: sys::napi_env,
  /// Events were handed to the JS callback and it has not said it is done with them
  /// (`settle`): keep everything alive until it has, or the stream could be collected while
  /// napi-rs is still building the values of those events.
  delivering: bool,
}

// SAFETY: `JsSide` holds raw N-API pointers (`owner`, `env`) that are only dereferenced by N-API
// calls made on the JS thread (`update_keep_alive`, `Pipe::drop`); other threads only carry the
// struct inside `Shared` (behind its mutex) and never touch those fields.
unsafe impl Send for JsSide {}

struct Shared<D> {
  out: Mutex<OutQueue<D>>,
  credit_ready: Condvar,
  cancelled: AtomicBool,
  want_space: AtomicBool,
  /// Bytes sent to the worker and not yet received by it.
  queued_bytes: AtomicUsize,
  js: Mutex<JsSide>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  // A panic while holding one of these locks is already reported as a stream error; the data
  // (counters and a queue) stays consistent, so poisoning is not a reason to stop.
  m.lock().unwrap_or_else(|p| p.into_inner())
}

type Tsfn<D> = ThreadsafeFunction<(), (), Vec<JsEvent<D>>, Status, false, true>;

impl JsSide {
  /// Refs the TSFN exactly while the worker can make progress. Call on the JS thread only.
  fn update_keep_alive(&mut self, env: sys::napi_env) {
    let blocked_on_credit = self.waiting_credit_seen == Some(self.credits_granted);
    let working = self.accepted > self.consumed && !blocked_on_credit;
    // `delivering` counts even after Done: the last batches travel with it.
    let busy = self.delivering || (!self.finished && working);
    if busy == self.referred {
      return;
    }
    self.referred = busy;
    if let Some(handle) = self.tsfn.upgrade() {
      handle.with_read_aborted(|aborted| {
        if aborted {
          return;
        }
        // SAFETY: `env` is the environment of the JS thread we are called on (the TSFN
        // callback's or a `#[napi]` method's), and `handle` is a live, non-aborted TSFN created
        // in that environment; the read guard keeps it from being aborted while we call.
        unsafe {
          if busy {
            sys::napi_ref_threadsafe_function(env, handle.get_raw());
          } else {
            sys::napi_unref_threadsafe_function(env, handle.get_raw());
          }
        }
      });
    }
    if !self.owner.is_null() {
      let mut count = 0;
      // SAFETY: `owner` was created by `napi_create_reference` in this environment and is only
      // deleted by `Pipe::drop`, on this thread, which also nulls it under this same lock.
      unsafe {
        if busy {
          sys::napi_reference_ref(env, self.owner, &mut count);
        } else {
          sys::napi_reference_unref(env, self.owner, &mut count);
        }
      }
    }
  }
}

/// The JS-thread end of a stream: owned by a component's `#[napi]` class.
pub struct Pipe<D: ToNapiValue + Send + 'static> {
  tx: Option<Sender<Msg>>,
  input_bytes: usize,
  shared: Arc<Shared<D>>,
  _tsfn: Arc<Tsfn<D>>,
}

impl<D: ToNapiValue + Send + 'static> Pipe<D> {
  /// Starts the worker thread for `stage`. `on_events` is called on the JS thread with an array
  /// of `[kind, payload]` events.
  pub fn start<S: Stage<Data = D>>(
    env: &Env,
    owner: Object<'_>,
    stage: S,
    on_events: Function<'_, (), ()>,
    options: PipeOptions,
  ) -> Result<Self> {
    let mut owner_ref = std::ptr::null_mut();
    // SAFETY: `owner` is a live object of `env`, and we are on its thread (a `#[napi]` call).
    check_status!(unsafe {
      sys::napi_create_reference(env.raw(), owner.raw(), 0, &mut owner_ref)
    })?;
    let shared = Arc::new(Shared {
      out: Mutex::new(OutQueue {
        events: Vec::new(),
        call_pending: false,
        credits: options.credits.max(1),
        credits_received: 0,
      }),
      credit_ready: Condvar::new(),
      cancelled: AtomicBool::new(false),
      want_space: AtomicBool::new(false),
      queued_bytes: AtomicUsize::new(0),
      js: Mutex::new(JsSide {
        accepted: 0,
        consumed: 0,
        credits_granted: 0,
        waiting_credit_seen: None,
        finished: false,
        referred: false,
        tsfn: Weak::new(),
        owner: owner_ref,
        env: env.raw(),
        delivering: false,
      }),
    });
    let in_callback = Arc::clone(&shared);
    let tsfn: Tsfn<D> = on_events
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .weak::<true>()
      .build_callback(move |ctx: ThreadsafeCallContext<()>| Ok(deliver(&in_callback, ctx.env)))?;
    let tsfn = Arc::new(tsfn);
    lock(&shared.js).tsfn = Arc::downgrade(&tsfn.handle);

    let (tx, rx) = unbounded();
    let worker = Outbox {
      shared: Arc::clone(&shared),
      tsfn: Arc::clone(&tsfn),
    };
    std::thread::Builder::new()
      .name("sluice-worker".into())
      .spawn(move || worker.run(stage, rx))
      .map_err(|e| napi::Error::from_reason(format!("cannot start worker thread: {e}")))?;
    Ok(Self {
      tx: Some(tx),
      input_bytes: options.input_bytes.max(1),
      shared,
      _tsfn: tsfn,
    })
  }

  /// Offers a chunk (copied). `false`: the input is full; JS keeps the chunk and its callback
  /// and retries on the next `Space` event.
  pub fn write(&mut self, env: &Env, chunk: &[u8]) -> bool {
    self.offer(env, Msg::Chunk(Bytes::copy_from_slice(chunk)))
  }

  /// Signals the end of input. `false`: the input is full; retry on `Space`.
  pub fn end(&mut self, env: &Env) -> bool {
    self.offer(env, Msg::End)
  }

  fn offer(&mut self, env: &Env, msg: Msg) -> bool {
    let Some(tx) = &self.tx else { return false };
    let len = match &msg {
      Msg::Chunk(bytes) => bytes.len(),
      Msg::End => 0,
    };
    let queued = &self.shared.queued_bytes;
    let has_room = |queued: usize| queued == 0 || queued + len <= self.input_bytes;
    if !has_room(queued.load(Ordering::SeqCst)) {
      self.shared.want_space.store(true, Ordering::SeqCst);
      // Look again: the worker may have drained the queue before it could see the flag.
      if !has_room(queued.load(Ordering::SeqCst)) {
        return false;
      }
    }
    // Counted before the send, so the worker's decrement can never come first.
    queued.fetch_add(len, Ordering::SeqCst);
    if tx.send(msg).is_err() {
      queued.fetch_sub(len, Ordering::SeqCst);
      return false;
    }
    let mut js = lock(&self.shared.js);
    js.accepted += 1;
    js.update_keep_alive(env.raw());
    true
  }

  /// Returns `n` output credits (JS pushed everything of `n` events without backpressure).
  pub fn credit(&mut self, env: &Env, n: u32) {
    {
      let mut q = lock(&self.shared.out);
      q.credits += n;
      q.credits_received += n as u64;
    }
    self.shared.credit_ready.notify_one();
    let mut js = lock(&self.shared.js);
    js.credits_granted += n as u64;
    js.update_keep_alive(env.raw());
  }

  /// JS has handled the events of the last delivery.
  pub fn settle(&mut self, env: &Env) {
    let mut js = lock(&self.shared.js);
    js.delivering = false;
    js.update_keep_alive(env.raw());
  }

  /// Stops the worker; nothing it still sends will be acted on. Idempotent.
  pub fn cancel(&mut self, env: &Env) {
    self.stop();
    let mut js = lock(&self.shared.js);
    js.finished = true;
    // Destroyed, perhaps from inside the JS callback: nothing delivered will be acted on now.
    js.delivering = false;
    js.update_keep_alive(env.raw());
  }

  fn stop(&mut self) {
    self.shared.cancelled.store(true, Ordering::SeqCst);
    // Take the lock so a worker between its `cancelled` check and its wait cannot miss this.
    drop(lock(&self.shared.out));
    self.shared.credit_ready.notify_all();
    self.tx = None;
  }
}

impl<D: ToNapiValue + Send + 'static> Drop for Pipe<D> {
  fn drop(&mut self) {
    // Collected without `destroy()` (or the environment is shutting down): stop the worker.
    self.stop();
    let mut js = lock(&self.shared.js);
    js.finished = true;
    if !js.owner.is_null() {
      // SAFETY: a `Pipe` lives in a `NativeStream`, which only its GC finalizer drops, on the
      // JS thread of `js.env`; the reference belongs to that environment and is deleted once.
      unsafe { sys::napi_delete_reference(js.env, js.owner) };
      js.owner = std::ptr::null_mut();
    }
  }
}

/// Runs on the JS thread inside the TSFN call: drains the queue, keeps the keep-alive bookkeeping
/// for itself and returns what JS has to act on.
fn deliver<D>(shared: &Shared<D>, env: Env) -> Vec<JsEvent<D>> {
  let events = {
    let mut q = lock(&shared.out);
    q.call_pending = false;
    std::mem::take(&mut q.events)
  };
  let mut js = lock(&shared.js);
  let mut out = Vec::with_capacity(events.len());
  for event in events {
    match event {
      Event::Idle {
        consumed,
        credits_seen,
        waiting,
      } => {
        js.consumed = js.consumed.max(consumed);
        js.waiting_credit_seen = (waiting == Waiting::Credit).then_some(credits_seen);
      }
      Event::Data(d) => out.push(JsEvent::Data(d)),
      Event::Space => out.push(JsEvent::Space),
      Event::Done => {
        js.finished = true;
        out.push(JsEvent::Done)
      }
      Event::Failed(e) => {
        js.finished = true;
        out.push(JsEvent::Failed(e))
      }
      Event::Stopped => js.finished = true,
    }
  }
  if shared.cancelled.load(Ordering::SeqCst) {
    // Destroyed: late events are dropped here rather than handed to a destroyed stream.
    out.clear();
  }
  // Stay alive until JS has handled these (it calls `settle`); only then may the process exit or
  // the stream be collected.
  js.delivering = !out.is_empty();
  js.update_keep_alive(env.raw());
  out
}

/// The worker-thread end: sends events, waiting for credits for data.
struct Outbox<D: ToNapiValue + Send + 'static> {
  shared: Arc<Shared<D>>,
  tsfn: Arc<Tsfn<D>>,
}

impl<D: ToNapiValue + Send + 'static> Outbox<D> {
  fn run<S: Stage<Data = D>>(mut self, mut stage: S, rx: Receiver<Msg>) {
    let result = catch_unwind(AssertUnwindSafe(|| self.pump(&mut stage, &rx)));
    let last = match result {
      Ok(Ok(())) => Event::Done,
      Ok(Err(Stop::Cancelled)) => return,
      Ok(Err(Stop::Reported)) => Event::Stopped,
      Ok(Err(Stop::Failed(e))) => Event::Failed(e),
      Err(panic) => {
        let what = panic
          .downcast_ref::<&str>()
          .map(|s| s.to_string())
          .or_else(|| panic.downcast_ref::<String>().cloned())
          .unwrap_or_else(|| "unknown panic".into());
        Event::Failed(StageError::new(
          ERR_PANIC,
          format!("sluice native worker panicked: {what}"),
        ))
      }
    };
    let mut q = lock(&self.shared.out);
    self.queue(&mut q, last);
  }

  fn pump<S: Stage<Data = D>>(
    &mut self,
    stage: &mut S,
    rx: &Receiver<Msg>,
  ) -> std::result::Result<(), Stop> {
    let mut consumed = 0u64;
    // When the oldest input not yet flushed arrived: output is handed over at most IDLE_AFTER
    // later, whether the input pauses or keeps trickling in.
    let mut unflushed_since: Option<Instant> = None;
    loop {
      let msg = match rx.try_recv() {
        Ok(msg) => msg,
        Err(TryRecvError::Disconnected) => return Err(Stop::Cancelled),
        Err(TryRecvError::Empty) => {
          let deadline = unflushed_since.unwrap_or_else(Instant::now) + IDLE_AFTER;
          match rx.recv_deadline(deadline) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Disconnected) => return Err(Stop::Cancelled),
            Err(RecvTimeoutError::Timeout) => {
              stage.idle(self)?;
              unflushed_since = None;
              self.control(Event::Idle {
                consumed,
                credits_seen: 0,
                waiting: Waiting::Input,
              });
              rx.recv().map_err(|_| Stop::Cancelled)?
            }
          }
        }
      };
      match unflushed_since {
        None => unflushed_since = Some(Instant::now()),
        Some(since) if since.elapsed() >= IDLE_AFTER => {
          stage.idle(self)?;
          unflushed_since = Some(Instant::now());
        }
        Some(_) => {}
      }
      if let Msg::Chunk(bytes) = &msg {
        self
          .shared
          .queued_bytes
          .fetch_sub(bytes.len(), Ordering::SeqCst);
      }
      if self.shared.cancelled.load(Ordering::SeqCst) {
        return Err(Stop::Cancelled);
      }
      if self.shared.want_space.swap(false, Ordering::SeqCst) {
        self.control(Event::Space);
      }
      consumed += 1;
      match msg {
        Msg::Chunk(bytes) => stage.chunk(&bytes, self)?,
        Msg::End => return stage.end(self),
      }
    }
  }

  /// Queues an event that needs no credit.
  fn control(&self, event: Event<D>) {
    let mut q = lock(&self.shared.out);
    self.queue(&mut q, event);
  }

  fn queue(&self, q: &mut OutQueue<D>, event: Event<D>) {
    q.events.push(event);
    if !q.call_pending {
      q.call_pending = true;
      // NonBlocking on an unbounded queue only fails when the TSFN is closing (environment
      // teardown); the stream is gone then, so there is nobody left to tell.
      self.tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
    }
  }
}

impl<D: ToNapiValue + Send + 'static> Sink<D> for Outbox<D> {
  fn send(&mut self, data: D) -> std::result::Result<(), Stop> {
    let mut q = lock(&self.shared.out);
    let mut announced = false;
    while q.credits == 0 {
      if self.shared.cancelled.load(Ordering::SeqCst) || self.tsfn.aborted() {
        return Err(Stop::Cancelled);
      }
      if !announced {
        // Tell the JS thread we are blocked on its consumer, so it can let the process exit if
        // nothing else is alive (a core Transform with a full buffer does not hold it either).
        let credits_seen = q.credits_received;
        self.queue(
          &mut q,
          Event::Idle {
            consumed: 0,
            credits_seen,
            waiting: Waiting::Credit,
          },
        );
        announced = true;
      }
      // The timeout only matters when the environment is torn down under a blocked worker
      // (process exit, worker_threads termination): then nobody will notify us.
      q = self
        .shared
        .credit_ready
        .wait_timeout(q, Duration::from_millis(200))
        .unwrap_or_else(|p| p.into_inner())
        .0;
    }
    if self.shared.cancelled.load(Ordering::SeqCst) {
      return Err(Stop::Cancelled);
    }
    q.credits -= 1;
    self.queue(&mut q, Event::Data(data));
    Ok(())
  }
}

/// What `NativeStream` needs of a `Pipe`, whatever its data type.
trait PipeControl {
  fn write(&mut self, env: &Env, chunk: &[u8]) -> bool;
  fn end(&mut self, env: &Env) -> bool;
  fn credit(&mut self, env: &Env, n: u32);
  fn settle(&mut self, env: &Env);
  fn cancel(&mut self, env: &Env);
}

impl<D: ToNapiValue + Send + 'static> PipeControl for Pipe<D> {
  fn write(&mut self, env: &Env, chunk: &[u8]) -> bool {
    Pipe::write(self, env, chunk)
  }
  fn end(&mut self, env: &Env) -> bool {
    Pipe::end(self, env)
  }
  fn credit(&mut self, env: &Env, n: u32) {
    Pipe::credit(self, env, n)
  }
  fn settle(&mut self, env: &Env) {
    Pipe::settle(self, env)
  }
  fn cancel(&mut self, env: &Env) {
    Pipe::cancel(self, env)
  }
}

/// The native handle behind every sluice stream class (`lib/transport.js` drives it). Each
/// component has a `create…` function that builds its `Stage` and returns one of these.
#[napi]
pub struct NativeStream {
  pipe: Box<dyn PipeControl>,
  counters: Arc<Counters>,
}

impl NativeStream {
  pub fn new<D: ToNapiValue + Send + 'static>(pipe: Pipe<D>, counters: Arc<Counters>) -> Self {
    Self {
      pipe: Box::new(pipe),
      counters,
    }
  }
}

#[napi]
impl NativeStream {
  /// Offers a chunk; false means "full, retry after the next Space event".
  #[napi(catch_unwind)]
  pub fn write(&mut self, env: Env, chunk: &[u8]) -> bool {
    self.pipe.write(&env, chunk)
  }

  /// Ends the input; false means "full, retry after the next Space event".
  #[napi(catch_unwind)]
  pub fn end(&mut self, env: Env) -> bool {
    self.pipe.end(&env)
  }

  /// Gives `n` output credits back to the worker.
  #[napi(catch_unwind)]
  pub fn credit(&mut self, env: Env, n: u32) {
    self.pipe.credit(&env, n)
  }

  /// Says that JS has handled the events of the last call.
  #[napi(catch_unwind)]
  pub fn settle(&mut self, env: Env) {
    self.pipe.settle(&env)
  }

  /// Stops the worker for good (from `_destroy`).
  #[napi(catch_unwind)]
  pub fn cancel(&mut self, env: Env) {
    self.pipe.cancel(&env)
  }

  /// The component's counters as a plain object.
  #[napi(catch_unwind, ts_return_type = "Record<string, number>")]
  pub fn stats(&self, env: Env) -> Result<napi::bindgen_prelude::Object<'_>> {
    let mut obj = napi::bindgen_prelude::Object::new(&env)?;
    for (name, value) in self.counters.snapshot() {
      obj.set(name, value as f64)?;
    }
    Ok(obj)
  }
}
