//! Reproduces a lost wake-up in `src/runtime/mod.rs` (found while writing `runtime_probe.rs`):
//! a job whose input is published with a plain atomic store can miss its last `wake`.
//!
//! ```text
//! cargo run --release --example runtime_lost_wake --target x86_64-unknown-linux-gnu [-- N [fence]]
//! ```
//!
//! The race (a store-buffering pattern; x86 lets each thread's load pass its own earlier store):
//!
//! * the waker: `input.store(i)`, then `wake` loads the state, sees `QUEUED` and returns (a run
//!   is coming, so it does nothing else);
//! * the worker that dequeued the job: `state.store(RUNNING)` (a plain store in `run`), then
//!   `run_slice` loads `input` and still sees `i - 1`: the waker's store is not visible yet, and
//!   the waker's load did not see `RUNNING` either. Nothing to do, so it returns `Park`, the
//!   CAS `RUNNING -> IDLE` succeeds, and the job sleeps with input it never saw.
//!
//! Acquire/release orderings cannot forbid this; only a total order between the two threads'
//! accesses to `state` can (an RMW in `wake` even when the job is `QUEUED`, plus a swap instead
//! of the store in `run`, or a `fence(SeqCst)` in both). With the optional `fence` argument the
//! job and the waker each issue `fence(SeqCst)` at exactly those two points, and the loss no
//! longer occurs: that is the fix, applied from outside.
//!
//! `PipeTask` is not affected today: its input and credits sit behind mutexes that the waker and
//! the run both lock, which orders them. A job signalled through atomics alone (a rate, a
//! cancel flag, a snapshot request) is.
//!
//! Exits 1 at the first lost wake-up (the job is idle, its input unseen for 2 s, and one more
//! `wake` gets it going again), 0 if none occurred in N rounds (default 1 000 000).

use std::hint::black_box;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice::runtime::{self, Job, Next, Schedule};

/// A job with one input value; it records the last value it saw.
struct Latest {
  schedule: Schedule,
  input: AtomicU64,
  seen: AtomicU64,
  fence: bool,
}

impl Job for Latest {
  fn schedule(&self) -> &Schedule {
    &self.schedule
  }

  fn run_slice(&self, _me: &Arc<dyn Job>) -> Next {
    if self.fence {
      fence(Ordering::SeqCst);
    }
    let input = self.input.load(Ordering::Acquire);
    if input == self.seen.load(Ordering::Relaxed) {
      return Next::Park;
    }
    self.seen.store(input, Ordering::Release);
    // Run once more: the job goes back to the queue, and the next wake finds it `QUEUED`.
    Next::Again
  }
}

fn main() {
  let args: Vec<String> = std::env::args().skip(1).collect();
  let rounds: u64 = args.first().map_or(1_000_000, |n| n.parse().expect("N"));
  let with_fence = args.get(1).map(String::as_str) == Some("fence");
  runtime::start().expect("start the pool");
  let latest = Arc::new(Latest {
    schedule: Schedule::new(),
    input: AtomicU64::new(0),
    seen: AtomicU64::new(0),
    fence: with_fence,
  });
  let job: Arc<dyn Job> = latest.clone();
  let started = Instant::now();
  let mut rng = 0x9e37_79b9_7f4a_7c15u64;
  for i in 1..=rounds {
    // A random pause of up to 64 spins, to sweep across the window.
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    for _ in 0..rng % 64 {
      std::hint::spin_loop();
    }
    latest.input.store(i, Ordering::Release);
    if with_fence {
      fence(Ordering::SeqCst);
    }
    runtime::wake(&job);
    // The job must see `i` eventually; spin (both workers stay warm) and give up after 2 s.
    let sent = Instant::now();
    let mut spins = 0u64;
    while latest.seen.load(Ordering::Acquire) != i {
      spins += 1;
      if spins.is_multiple_of(1024) && sent.elapsed() > Duration::from_secs(2) {
        println!(
          "LOST WAKE-UP at round {i} ({:.1?} in): input = {i}, seen = {} for {:.1?}",
          started.elapsed(),
          latest.seen.load(Ordering::SeqCst),
          sent.elapsed()
        );
        runtime::wake(&job);
        std::thread::sleep(Duration::from_millis(100));
        println!(
          "one more wake: seen = {} (the job was parked, not stuck)",
          latest.seen.load(Ordering::SeqCst)
        );
        std::process::exit(1);
      }
      black_box(spins);
      std::hint::spin_loop();
    }
  }
  println!(
    "no lost wake-up in {rounds} rounds ({:.1?}){}",
    started.elapsed(),
    if with_fence { ", with the fences" } else { "" }
  );
}
