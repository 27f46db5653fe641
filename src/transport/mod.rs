//! The native stream core shared by every sluice component.
//!
//! ```text
//!  JS thread                          runtime (crate::runtime: worker pool + timers)
//!  Pipe::write ─ input queue (bytes budget) ─► PipeTask::run_slice ─► Stage::chunk
//!     ▲  no budget: JS holds the chunk and its         one slice per run,     │ Sink::send
//!     │  `_transform` callback = backpressure          then back in the queue  ▼ (spends a credit)
//!  TSFN callback ◄──── one coalesced call ◄──── Delivery: events (Data | Space | Idle | Done | Failed)
//! ```
//!
//! Three rooms, each with its own invariants in its header:
//! * `crate::runtime`: the pool and the timer facility; knows nothing about streams.
//! * `pipe`: one stream's work as a runtime job: input budget, output credits, flush deadline,
//!   cancellation, panics.
//! * `delivery`: the way back to JS: the event queue, the threadsafe function (TSFN), the
//!   keep-alive.
//!
//! This module holds what a component implements (`Stage`, `Sink`) and the handle JS drives
//! (`NativeStream`).

pub mod arrays;
mod delivery;
pub mod hub;
mod pipe;

use std::sync::Arc;

use napi::bindgen_prelude::{Object, ToNapiValue, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

use crate::stats::Counters;
pub(crate) use delivery::RawValue;
pub use pipe::{Pipe, PipeOptions};

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

/// The per-component work, run by the runtime one slice at a time. Knows nothing about threads
/// or N-API. Calls for one stream never overlap and come in input order.
pub trait Stage: Send + 'static {
  /// What one `Data` event carries to JS.
  type Data: ToNapiValue + Send + 'static;

  /// Names of the counters in `tally()`, in `stats()` order.
  const STATS: &'static [&'static str] = &[];

  /// Handles one slice of input (a chunk, or part of a large one); may send any number of
  /// `Data` events.
  fn chunk(
    &mut self,
    chunk: &[u8],
    out: &mut dyn Sink<Self::Data>,
  ) -> std::result::Result<(), Stop>;

  /// The oldest input not yet handed over is `IDLE_AFTER` old, or input paused: a good moment
  /// to flush partial output for latency.
  fn idle(&mut self, _out: &mut dyn Sink<Self::Data>) -> std::result::Result<(), Stop> {
    Ok(())
  }

  /// The input has ended; flush everything.
  fn end(&mut self, out: &mut dyn Sink<Self::Data>) -> std::result::Result<(), Stop>;

  /// Current counter values (`STATS` order), published after every slice.
  fn tally(&self) -> &[u64] {
    &[]
  }
}

/// Where a stage sends its results. The pipe's implementation never blocks (the pipe checks for
/// an output credit before each slice); tests can collect into a `Vec`.
pub trait Sink<D> {
  fn send(&mut self, data: D) -> std::result::Result<(), Stop>;
}

impl<D> Sink<D> for Vec<D> {
  fn send(&mut self, data: D) -> std::result::Result<(), Stop> {
    self.push(data);
    Ok(())
  }
}

/// What `NativeStream` needs of a `Pipe`, whatever its stage.
trait PipeControl {
  fn write(&mut self, chunk: &[u8]) -> Result<bool>;
  fn end(&mut self) -> Result<bool>;
  fn credit(&mut self, env: &Env, n: u32) -> Result<()>;
  fn settle(&mut self, env: &Env) -> Result<()>;
  fn kick(&mut self, env: &Env) -> Result<napi::sys::napi_value>;
  fn cancel(&mut self, env: &Env);
  fn counters(&self) -> &Arc<Counters>;
  fn closed(&self) -> bool;
}

/// The native handle behind every sluice stream class (`lib/transport.js` drives it). Each
/// component has a `create…` function that builds its `Stage` and returns one of these.
#[napi]
pub struct NativeStream {
  pipe: Box<dyn PipeControl>,
}

impl NativeStream {
  pub fn new<S: Stage>(pipe: Pipe<S>) -> Self {
    Self {
      pipe: Box::new(pipe),
    }
  }
}

#[napi]
impl NativeStream {
  /// Offers a chunk; false means "full, retry after the next Space event". Accepted input
  /// starts at the next `kick`.
  #[napi(catch_unwind)]
  pub fn write(&mut self, chunk: &[u8]) -> Result<bool> {
    self.pipe.write(chunk)
  }

  /// Ends the input; false means "full, retry after the next Space event".
  #[napi(catch_unwind)]
  pub fn end(&mut self) -> Result<bool> {
    self.pipe.end()
  }

  /// The stage stopped for good (its failure is on its way to JS): no input is taken any more,
  /// so a write refused now was never taken.
  #[napi(catch_unwind)]
  pub fn closed(&self) -> bool {
    self.pipe.closed()
  }

  /// Gives `n` output credits back to the worker.
  #[napi(catch_unwind)]
  pub fn credit(&mut self, env: Env, n: u32) -> Result<()> {
    self.pipe.credit(&env, n)
  }

  /// Starts the work written since the last kick (once per turn of the event loop): runs a
  /// little of it inline and returns those events for JS to handle now, or wakes the pool and
  /// returns an empty array.
  #[napi(catch_unwind, ts_return_type = "Array<[number, unknown?, unknown?]>")]
  pub fn kick(&mut self, env: Env) -> Result<Unknown<'_>> {
    let value = self.pipe.kick(&env)?;
    // SAFETY: `value` was just created in `env`, on this thread.
    Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), value) })
  }

  /// Says that JS has handled the events of the last call.
  #[napi(catch_unwind)]
  pub fn settle(&mut self, env: Env) -> Result<()> {
    self.pipe.settle(&env)
  }

  /// Stops the stream's work for good (from `_destroy`).
  #[napi(catch_unwind)]
  pub fn cancel(&mut self, env: Env) {
    self.pipe.cancel(&env)
  }

  /// The component's counters as a plain object, all from one consistent state.
  #[napi(catch_unwind, ts_return_type = "Record<string, number>")]
  pub fn stats(&self, env: Env) -> Result<Object<'_>> {
    let snapshot = self.pipe.counters().snapshot();
    crate::stats::to_object(&env, snapshot.into_iter().map(|(name, v)| (name, v as f64)))
  }
}

/// Sizes the shared worker pool. `workers` (validated by `lib/runtime.js`) applies if the pool
/// has not started yet; returns the size in use or to be used. With `strict`, errors if the pool
/// already runs with another size.
#[napi(catch_unwind)]
pub fn configure_runtime(workers: Option<u32>, strict: bool) -> Result<u32> {
  crate::runtime::configure(workers.map(|n| n as usize), strict)
    .map(|n| n as u32)
    .map_err(napi::Error::from_reason)
}
