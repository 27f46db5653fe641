//! One stream's work as a runtime job: its input queue, output credits, flush deadline,
//! cancellation and panics. `Pipe` is the JS-thread end (owned by `NativeStream`); `PipeTask`
//! is the job the runtime runs.
//!
//! Invariants:
//! * Input is bounded by bytes: a chunk is accepted while the queued bytes stay within
//!   `input_bytes`, and always when nothing is queued (so chunks larger than the budget still
//!   flow). Refused: JS holds the chunk and its `_transform` callback (that is the
//!   backpressure), and the task sends `Space` once the refused size fits.
//! * Once the stage stops for good (a failure, a fatal report), the input is closed before JS
//!   hears of it: what was queued is let go, and offers are refused with no `Space` to follow,
//!   so JS holds the next write until the failure arrives and fails it (`closed()`).
//! * The task takes input in slices of at most `SLICE_BYTES` (a large chunk is cut, for free:
//!   `Bytes` slices share the buffer), one slice per run, then goes back in the runtime's
//!   queue: a busy stream yields after every slice.
//! * Output is bounded by credits: a slice starts only while a credit is available; the
//!   slice's output spends credits, going into debt for the few batches one slice can make. JS
//!   gives a credit back when it starts pushing an event's values, and only while its readable
//!   side has room, so a consumer that does not read parks the task (not a thread) after
//!   `credits` + one slice of output.
//! * Output is handed over at most `IDLE_AFTER` after its input arrived, even when input
//!   trickles: the flush deadline is an absolute timer (`runtime::wake_at`), checked at every
//!   run.
//! * Accepted input starts at the next `kick` (JS calls it once per turn of the event loop, after
//!   that turn's writes). A little input on an idle task is run right there, on the JS thread,
//!   which claims the task like a worker would (`runtime::try_claim`) and flushes at once; its
//!   events are returned to JS instead of going through the TSFN. Anything else wakes the pool.
//! * Only the holder of the task's claim (a worker, or the JS thread in `kick` and `stop`)
//!   touches `Work`; the JS thread touches `Input` and `Credits` under their locks. A credit
//!   wakes the task only if it parked for want of one.
//! * `cancel` (from `_destroy`) and `Drop` (the stream was collected) mark the delivery
//!   cancelled and empty the input; the stage is dropped at once if the task is idle, else at its
//!   next run, without emitting anything JS would act on.
//! * A panic in the stage is caught around the slice and reported as `Failed` with code
//!   `ERR_SLUICE_PANIC`; the stage is dropped and the stream ends there.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use napi::bindgen_prelude::{Function, Object};
use napi::{sys, Env, Result};

use super::delivery::{Delivery, Event, Waiting};
use super::{PipeControl, Sink, Stage, StageError, Stop, ERR_PANIC};
use crate::runtime::{self, Job, Next, Schedule};
use crate::stats::Counters;

/// Tuning of one pipe. Together they bound the memory a stalled stream holds: `input_bytes` of
/// input queued, plus `credits` results (and one slice's worth) on their way to JS.
#[derive(Debug, Clone, Copy)]
pub struct PipeOptions {
  /// Input bytes that may be queued. Counting bytes rather than chunks lets tiny writes (one
  /// line per `write()`) pass in bulk.
  pub input_bytes: usize,
  pub credits: u32,
}

/// How long input may wait before its output is handed over: partial output is flushed once the
/// oldest unflushed input is this old, whether the input paused or still trickles in. Long
/// enough for a producer writing in a loop to fill whole batches; short enough not to matter as
/// latency.
const IDLE_AFTER: Duration = Duration::from_millis(1);

/// The most input one run hands the stage: the bound on how long a stream holds a worker
/// (~0.1–0.3 ms of parsing here) and on the output one slice can add beyond the credits.
const SLICE_BYTES: usize = 64 * 1024;

/// Input up to this size on an idle stream is processed inline on the JS thread by `kick`:
/// parsing it costs less than waking a worker and being woken back (~5–10 µs of futex and
/// context switch each way here); larger input goes to the pool, where it runs in parallel
/// with the JS thread.
const INLINE_BYTES: usize = 4 * 1024;
/// Slices an inline run may take at most (a few small chunks and the end).
const INLINE_RUNS: usize = 16;

enum Msg {
  Chunk(Bytes),
  End,
}

struct Input {
  queue: VecDeque<Msg>,
  queued_bytes: usize,
  budget: usize,
  /// JS holds a refused message of this many bytes: send `Space` once it fits.
  want_space: Option<usize>,
  /// The stage stopped for good (a failure, a fatal report): input is refused from now on, so
  /// JS holds the next write and its callback until its failure arrives (and destroy answers
  /// them with it), instead of completing writes whose bytes nothing would ever read.
  closed: bool,
}

impl Input {
  fn has_room(&self, len: usize) -> bool {
    self.queued_bytes == 0 || self.queued_bytes + len <= self.budget
  }

  /// Lets go of what is queued (and of a refused message's wait for room).
  fn clear(&mut self) {
    self.queue.clear();
    self.queued_bytes = 0;
    self.want_space = None;
  }

  /// The stage is gone: what is queued is let go, and nothing more is taken.
  fn close(&mut self) {
    self.closed = true;
    self.clear();
  }
}

struct Credits {
  available: i64,
  /// Credits JS has given back in all (`Idle` tells JS the total that will wake the task).
  received: u64,
  /// The task parked for want of a credit: the grant that brings `available` to `wake_at` must
  /// wake it (and only that one, so the credit JS returns for every batch costs no wake-up).
  parked: bool,
  /// Half the window, at least one: a parked task is woken once it can make a few batches
  /// rather than one, which halves the wake-ups (a futex wake costs the JS thread ~15 µs here;
  /// one per 64 KiB batch was ~7 % of its time on real records). Live: once JS has started
  /// every event it holds, it has given back every credit and `available` is the whole window.
  wake_at: i64,
}

/// What one run takes from the input.
enum Slice {
  /// Input bytes; `last`: the end of a chunk (a whole input message consumed).
  Bytes {
    bytes: Bytes,
    last: bool,
  },
  End,
}

/// The runtime-side state of a stream: only the run in progress touches it.
struct Work<S> {
  /// `None` once the stream has finished, failed, or was cancelled.
  stage: Option<S>,
  /// Input messages fully consumed.
  consumed: u64,
  /// When the oldest input not yet flushed was taken.
  unflushed_since: Option<Instant>,
  /// The flush timer armed last, if still ahead.
  timer_at: Option<Instant>,
  /// `consumed` at the last `Idle { Input }` sent, to send one per idle period.
  idle_reported: Option<u64>,
  /// An `Idle { Credit }` was sent since the last slice that had a credit.
  credit_wait_reported: bool,
}

pub(super) struct PipeTask<S: Stage> {
  schedule: Schedule,
  /// The JS thread is running this task (`Pipe::kick`): flush at once instead of arming the
  /// timer, since nothing else is coming in this turn of the event loop.
  inline: AtomicBool,
  delivery: Arc<Delivery<S::Data>>,
  input: Mutex<Input>,
  credits: Mutex<Credits>,
  work: Mutex<Work<S>>,
  counters: Arc<Counters>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  // A panic while holding one of these locks is already reported as a stream error; the data
  // (counters and queues) stays consistent, so poisoning is not a reason to stop.
  m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The JS-thread end of a stream: owned by a component's `NativeStream`.
pub struct Pipe<S: Stage> {
  task: Arc<PipeTask<S>>,
  job: Arc<dyn Job>,
}

impl<S: Stage> Pipe<S> {
  /// Creates the stream's job for `stage`. `owner` is the JS stream (held strongly only while
  /// busy); `on_events` is called on the JS thread with arrays of `[kind, payload]` events.
  pub fn start(
    env: &Env,
    owner: Object<'_>,
    stage: S,
    on_events: Function<'_, (), ()>,
    options: PipeOptions,
  ) -> Result<Self> {
    runtime::start().map_err(napi::Error::from_reason)?;
    let delivery = Delivery::new(env, owner, on_events)?;
    // A stage may start with counts (a parser taking over from JS): `stats()` shows them at once.
    let counters = Arc::new(Counters::new(S::STATS));
    counters.publish(stage.tally());
    let task = Arc::new(PipeTask {
      schedule: Schedule::new(),
      inline: AtomicBool::new(false),
      delivery,
      input: Mutex::new(Input {
        queue: VecDeque::new(),
        queued_bytes: 0,
        budget: options.input_bytes.max(1),
        want_space: None,
        closed: false,
      }),
      credits: Mutex::new(Credits {
        available: options.credits.max(1) as i64,
        received: 0,
        parked: false,
        wake_at: (options.credits as i64 / 2).max(1),
      }),
      work: Mutex::new(Work {
        stage: Some(stage),
        consumed: 0,
        unflushed_since: None,
        timer_at: None,
        idle_reported: None,
        credit_wait_reported: false,
      }),
      counters,
    });
    let job: Arc<dyn Job> = task.clone();
    Ok(Self { task, job })
  }

  fn offer(&mut self, msg: Msg) -> Result<bool> {
    if self.task.delivery.is_cancelled() {
      return Ok(false);
    }
    let len = match &msg {
      Msg::Chunk(bytes) => bytes.len(),
      Msg::End => 0,
    };
    {
      let mut input = lock(&self.task.input);
      if input.closed {
        // No `Space` will come: the write waits for the failure that closed the input.
        return Ok(false);
      }
      if !input.has_room(len) {
        input.want_space = Some(len);
        return Ok(false);
      }
      input.queue.push_back(msg);
      input.queued_bytes += len;
    }
    // The keep-alive and the wake-up wait for `kick`, once per turn of the event loop.
    self.task.delivery.note(|js| js.accepted += 1);
    Ok(true)
  }

  /// Starts the work accepted since the last kick (JS calls it once per turn of the event loop,
  /// after its writes). A little input on an idle stream runs here, on the JS thread: a
  /// short-lived or trickling stream then costs no thread hand-off, no timer and no TSFN. More
  /// goes to the pool. Returns the events of an inline run for JS to handle now (an array, empty
  /// otherwise).
  fn kick(&mut self, env: &Env) -> Result<sys::napi_value> {
    let small = lock(&self.task.input).queued_bytes <= INLINE_BYTES;
    if small && !self.task.delivery.is_cancelled() && runtime::try_claim(&self.job) {
      self.task.delivery.begin_inline();
      self.task.inline.store(true, Ordering::Release);
      let mut next = Next::Again;
      // Bounded: the input is small and nothing is added while we run.
      for _ in 0..INLINE_RUNS {
        next = self.job.run_slice(&self.job);
        if next == Next::Park {
          break;
        }
      }
      self.task.inline.store(false, Ordering::Release);
      runtime::release(Arc::clone(&self.job), next);
      return self.task.delivery.finish_inline(env);
    }
    // Busy (and so a TSFN to answer through) before the task can run.
    self.task.delivery.js(env, |_| ())?;
    runtime::wake(&self.job);
    self.task.delivery.finish_inline(env)
  }

  fn stop(&mut self) {
    lock(&self.task.input).clear();
    // Drop the stage (and what it buffers) here if the task is idle, else at its next run.
    if runtime::try_claim(&self.job) {
      lock(&self.task.work).stage = None;
      runtime::release(Arc::clone(&self.job), Next::Park);
    } else {
      runtime::wake(&self.job);
    }
  }
}

impl<S: Stage> PipeControl for Pipe<S> {
  /// Offers a chunk (copied). `false`: the input is full; JS keeps the chunk and its callback
  /// and retries on the next `Space` event. Accepted input starts at the next `kick`.
  fn write(&mut self, chunk: &[u8]) -> Result<bool> {
    self.offer(Msg::Chunk(Bytes::copy_from_slice(chunk)))
  }

  /// Signals the end of input. `false`: the input is full; retry on `Space`.
  fn end(&mut self) -> Result<bool> {
    self.offer(Msg::End)
  }

  /// Returns `n` output credits (JS started pushing `n` events).
  fn credit(&mut self, env: &Env, n: u32) -> Result<()> {
    let wake = {
      let mut credits = lock(&self.task.credits);
      credits.available += n as i64;
      credits.received += n as u64;
      let wake = credits.parked && credits.available >= credits.wake_at;
      if wake {
        credits.parked = false;
      }
      wake
    };
    self
      .task
      .delivery
      .js(env, |js| js.credits_granted += n as u64)?;
    if wake {
      runtime::wake(&self.job);
    }
    Ok(())
  }

  fn kick(&mut self, env: &Env) -> Result<sys::napi_value> {
    Pipe::kick(self, env)
  }

  /// JS has handled the events of the last delivery.
  fn settle(&mut self, env: &Env) -> Result<()> {
    self.task.delivery.js(env, |js| js.delivering = false)
  }

  /// Stops the stream's work; nothing it still sends will be acted on. Idempotent.
  fn cancel(&mut self, env: &Env) {
    self.task.delivery.cancel(env);
    self.stop();
  }

  fn counters(&self) -> &Arc<Counters> {
    &self.task.counters
  }

  fn closed(&self) -> bool {
    lock(&self.task.input).closed
  }
}

impl<S: Stage> Drop for Pipe<S> {
  fn drop(&mut self) {
    // Collected without `destroy()` (or the environment is shutting down).
    self.task.delivery.close();
    self.stop();
  }
}

impl<S: Stage> Job for PipeTask<S> {
  fn schedule(&self) -> &Schedule {
    &self.schedule
  }

  fn run_slice(&self, me: &Arc<dyn Job>) -> Next {
    let next = self.run(me);
    self.delivery.notify();
    next
  }
}

impl<S: Stage> PipeTask<S> {
  /// One run; its events are queued, for `notify` to hand over.
  fn run(&self, me: &Arc<dyn Job>) -> Next {
    let mut work = lock(&self.work);
    let Some(mut stage) = work.stage.take() else {
      return Next::Park;
    };
    if self.delivery.is_cancelled() || self.delivery.is_aborted() {
      return Next::Park; // the stage is dropped here
    }
    // The run's events wait here until its counters are published: JS must never receive a
    // value that `stats()` does not count yet.
    let mut events = Vec::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
      self.step(&mut work, &mut stage, &mut events, me)
    }));
    self.counters.publish(stage.tally());
    let (next, last) = match result {
      Ok(Ok(Some(next))) => {
        work.stage = Some(stage);
        (next, None)
      }
      Ok(Ok(None)) => (Next::Park, Some(Event::Done)),
      Ok(Err(Stop::Cancelled)) => return Next::Park,
      Ok(Err(Stop::Reported)) => (Next::Park, Some(Event::Stopped)),
      Ok(Err(Stop::Failed(e))) => (Next::Park, Some(Event::Failed(e))),
      Err(panic) => {
        let what = panic
          .downcast_ref::<&str>()
          .map(|s| s.to_string())
          .or_else(|| panic.downcast_ref::<String>().cloned())
          .unwrap_or_else(|| "unknown panic".into());
        let e = StageError::new(ERR_PANIC, format!("sluice native worker panicked: {what}"));
        (Next::Park, Some(Event::Failed(e)))
      }
    };
    if matches!(last, Some(Event::Stopped | Event::Failed(_))) {
      // Before JS can see the failure: a write it offers from then on is held, not taken.
      lock(&self.input).close();
    }
    events.extend(last);
    self.delivery.send_all(events);
    next
  }

  /// One run: at most one slice of input. `Ok(None)`: the input ended and was flushed.
  fn step(
    &self,
    work: &mut Work<S>,
    stage: &mut S,
    events: &mut Vec<Event<S::Data>>,
    me: &Arc<dyn Job>,
  ) -> std::result::Result<Option<Next>, Stop> {
    if !self.take_credit_turn(work, events) {
      return Ok(Some(Next::Park)); // `credit` wakes us
    }
    let mut out = PipeSink {
      task: self,
      events: &mut *events,
    };
    let now = Instant::now();
    if work
      .unflushed_since
      .is_some_and(|since| now >= since + IDLE_AFTER)
    {
      stage.idle(&mut out)?;
      work.unflushed_since = None;
    }
    match self.next_slice() {
      Some(Slice::End) => {
        work.consumed += 1;
        stage.end(&mut out)?;
        Ok(None)
      }
      Some(Slice::Bytes { bytes, last }) => {
        work.consumed += last as u64;
        work.unflushed_since.get_or_insert(now);
        stage.chunk(&bytes, &mut out)?;
        if self.has_input() {
          return Ok(Some(Next::Again));
        }
        self.park_idle(work, stage, &mut out, me)
      }
      None => self.park_idle(work, stage, &mut out, me),
    }
  }

  /// Whether a slice may start now. Without a credit, tells JS once that the task is parked
  /// on its consumer, so it can let the process exit if nothing else is alive (a core Transform
  /// with a full buffer does not hold it either).
  fn take_credit_turn(&self, work: &mut Work<S>, events: &mut Vec<Event<S::Data>>) -> bool {
    let mut credits = lock(&self.credits);
    if credits.available > 0 {
      work.credit_wait_reported = false;
      return true;
    }
    credits.parked = true;
    if !work.credit_wait_reported {
      work.credit_wait_reported = true;
      // Only JS changes `available` and `received` while we are parked, and by the same amount,
      // so the total it must have granted for `credit` to wake us is known now.
      let wake_after_credits = credits.received + (credits.wake_at - credits.available) as u64;
      drop(credits);
      events.push(Event::Idle {
        consumed: work.consumed,
        wake_after_credits,
        waiting: Waiting::Credit,
        output_pending: work.unflushed_since.is_some(),
      });
    }
    false
  }

  /// No input left: arm the flush timer if output is waiting, else tell JS everything it gave
  /// was consumed (once per idle period).
  fn park_idle(
    &self,
    work: &mut Work<S>,
    stage: &mut S,
    out: &mut PipeSink<'_, S>,
    me: &Arc<dyn Job>,
  ) -> std::result::Result<Option<Next>, Stop> {
    if work.unflushed_since.is_some() && self.inline.load(Ordering::Acquire) {
      stage.idle(out)?;
      work.unflushed_since = None;
    }
    if let Some(since) = work.unflushed_since {
      let at = since + IDLE_AFTER;
      if work.timer_at != Some(at) {
        work.timer_at = Some(at);
        runtime::wake_at(at, me);
      }
    } else if work.idle_reported != Some(work.consumed) {
      work.idle_reported = Some(work.consumed);
      out.events.push(Event::Idle {
        consumed: work.consumed,
        wake_after_credits: 0,
        waiting: Waiting::Input,
        output_pending: false,
      });
    }
    Ok(Some(Next::Park))
  }

  fn has_input(&self) -> bool {
    !lock(&self.input).queue.is_empty()
  }

  fn next_slice(&self) -> Option<Slice> {
    let mut input = lock(&self.input);
    let slice = match input.queue.pop_front()? {
      Msg::End => Slice::End,
      Msg::Chunk(mut bytes) if bytes.len() > SLICE_BYTES => {
        let head = bytes.split_to(SLICE_BYTES);
        input.queue.push_front(Msg::Chunk(bytes));
        Slice::Bytes {
          bytes: head,
          last: false,
        }
      }
      Msg::Chunk(bytes) => Slice::Bytes { bytes, last: true },
    };
    if let Slice::Bytes { bytes, .. } = &slice {
      input.queued_bytes -= bytes.len();
    }
    let space = input.want_space.is_some_and(|len| input.has_room(len));
    if space {
      input.want_space = None;
    }
    drop(input);
    if space {
      // At once, not at the end of the run: JS refills the input while this slice is parsed.
      self.delivery.send(Event::Space);
      self.delivery.notify();
    }
    Some(slice)
  }
}

/// The stage's output: gathered for the end of the run, spending a credit each (possibly into
/// debt within the slice; the next slice waits for the debt to be paid back).
struct PipeSink<'a, S: Stage> {
  task: &'a PipeTask<S>,
  events: &'a mut Vec<Event<S::Data>>,
}

impl<S: Stage> Sink<S::Data> for PipeSink<'_, S> {
  fn send(&mut self, data: S::Data) -> std::result::Result<(), Stop> {
    if self.task.delivery.is_cancelled() {
      return Err(Stop::Cancelled);
    }
    lock(&self.task.credits).available -= 1;
    self.events.push(Event::Data(data));
    Ok(())
  }
}
