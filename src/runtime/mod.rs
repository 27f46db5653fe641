//! The one runtime every sluice stream in the process runs on: a fixed pool of worker threads
//! and one timer facility (`timer`). A stream is a `Job`, not a thread: an idle or waiting
//! stream costs memory only.
//!
//! Why our own pool and not tokio, measured here with `examples/runtime_probe.rs` (2 cores, 2
//! workers each, medians of 3 runs on a loaded machine, 2026-11-29):
//!
//! | measure | this runtime | tokio multi-thread |
//! |---|---|---|
//! | a 1 ms deadline fires late by (p50 / p99) | 94 µs / 0.7 ms | 1.10 ms / 1.2 ms |
//! | 10,000 staggered deadlines, late by (p50 / p99) | 56 µs / 0.17 ms | 1.7 ms / 2.8 ms |
//! | CPU per wake of a job doing 1 KiB of work | 0.25 µs | 0.36 µs |
//! | memory per idle job / task | ~48 B | ~418 B |
//! | 8 equal busy jobs: finish-time spread | 3.5 % | 29 % |
//! | wake-to-run latency (p50 / p99) | 13 µs / 63 µs | 16 µs / 45 µs |
//!
//! A job is synchronous CPU work (frame, validate, batch one slice), so tokio's I/O driver and
//! `async` machinery buy nothing, and its timer wheel has 1 ms resolution and rounds up: the
//! parser's 1 ms flush would fire after ~2 ms and a throttle could not pace below 1 ms. Its
//! per-worker queues give a better wake-up tail, which our single FIFO queue trades for
//! fairness (and pays for in contention on many cores).
//!
//! Invariants:
//! * A job runs on at most one worker at a time, and every `wake` after a run began is seen by a
//!   later run (the `Schedule` state machine below): a stream's work stays ordered and no
//!   wake-up is lost. Every access to the state is a read-modify-write, so wakes and runs are
//!   totally ordered and a run sees what was written before any wake it follows.
//! * A job's `run_slice` does a bounded amount of work (one input slice, one batch) and returns;
//!   a job with more to do goes to the back of the queue if any other job is waiting, so a busy
//!   stream cannot starve others (and keeps its worker while none is).
//! * Jobs never block a worker waiting for JS (no credit, no input: they park and are woken).
//! * The pool size is fixed when the first job is submitted (`configure` before, or
//!   `SLUICE_WORKERS`, validated in JS; default: the available parallelism). One pool per
//!   process, shared by every `worker_threads` environment.
//! * Worker threads are detached; process exit does not wait for them, and a job whose stream
//!   or environment is gone finds out at its next run (cancelled flag, aborted TSFN).

pub mod timer;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crossbeam_channel::{unbounded, Receiver, Sender};

use timer::Timers;

/// What a job wants after one slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
  /// More work is ready: queue me again (behind everyone already waiting).
  Again,
  /// Nothing to do until someone calls `wake` (input, a credit, a timer, cancellation).
  Park,
}

/// A unit of scheduling: one stream's work.
pub trait Job: Send + Sync + 'static {
  fn schedule(&self) -> &Schedule;
  /// Does one bounded slice of work. `me` is this job, for arming timers. Must not panic (a
  /// stream turns its own panics into stream errors); a panic that escapes is contained here
  /// and parks the job for good.
  fn run_slice(&self, me: &Arc<dyn Job>) -> Next;
  /// A job whose slice is a few microseconds of bookkeeping that never blocks (a throttle
  /// computing its grants) runs on the timer thread when its deadline comes, saving the hand-off
  /// to a worker (a futex wake and a context switch per release).
  fn runs_on_timer(&self) -> bool {
    false
  }
}

const IDLE: u8 = 0;
const QUEUED: u8 = 1;
const RUNNING: u8 = 2;
/// Running, and woken since the run began: run again when this run ends.
const NOTIFIED: u8 = 3;
/// A job whose run panicked past its own guard: never scheduled again.
const POISONED: u8 = 4;

/// A job's scheduling state: idle, queued (exactly one queue entry exists), running, or
/// running-and-notified.
#[derive(Debug, Default)]
pub struct Schedule {
  state: AtomicU8,
}

impl Schedule {
  pub fn new() -> Self {
    Self::default()
  }
}

/// Makes sure `job` runs (again) after this call. Cheap when it is already queued.
pub fn wake(job: &Arc<dyn Job>) {
  let state = &job.schedule().state;
  let mut current = state.load(Ordering::Acquire);
  loop {
    let next = match current {
      IDLE => QUEUED,
      RUNNING => NOTIFIED,
      // A run is coming. Still a read-modify-write, not a plain load: it orders this wake after
      // the caller's own writes for the runner's `swap` in `run` (with plain accesses, x86 may let
      // the runner miss those writes while this load still sees `QUEUED`: a lost wake-up,
      // reproduced by the test `a_wake_after_a_plain_store_is_never_lost`).
      QUEUED | NOTIFIED => current,
      _ => return, // POISONED: never again
    };
    match state.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
      Ok(_) => {
        if current == IDLE {
          submit(Arc::clone(job));
        }
        return;
      }
      Err(actual) => current = actual,
    }
  }
}

/// Wakes `job` at `deadline` (absolute, monotonic).
pub fn wake_at(deadline: Instant, job: &Arc<dyn Job>) {
  pool().timers.wake_at(deadline, job);
}

fn run(job: Arc<dyn Job>, queue: &Receiver<Arc<dyn Job>>) {
  let state = &job.schedule().state;
  // Only the holder of the single queue entry gets here. A swap, not a store: it reads the last
  // wake's write, so the run sees everything written before that wake (see `wake`).
  state.swap(RUNNING, Ordering::AcqRel);
  loop {
    match catch_unwind(AssertUnwindSafe(|| job.run_slice(&job))) {
      // Nobody is waiting for a worker: go on with this job here rather than passing it
      // through the queue (a wake-up of the other worker and a migration per 64 KiB slice
      // cost ~8 % of a busy parser's throughput). The swap acquires a wake that came meanwhile.
      Ok(Next::Again) if queue.is_empty() => {
        state.swap(RUNNING, Ordering::AcqRel);
      }
      Ok(next) => return release(job, next),
      Err(_) => return state.store(POISONED, Ordering::Release),
    }
  }
}

/// Claims an idle job to run slices of it on the calling thread (the JS thread runs small
/// amounts of work inline rather than paying two thread hand-offs). `false`: it is queued or
/// running elsewhere; wake it instead. After `true`, the caller must `release` it.
pub fn try_claim(job: &Arc<dyn Job>) -> bool {
  job
    .schedule()
    .state
    .compare_exchange(IDLE, RUNNING, Ordering::AcqRel, Ordering::Acquire)
    .is_ok()
}

/// Runs `job` on this thread if it is idle, else makes sure it runs soon.
pub fn run_here(job: Arc<dyn Job>) {
  if try_claim(&job) {
    // A panic that escapes the job's own guard must not leave it claimed for good.
    let next = catch_unwind(AssertUnwindSafe(|| job.run_slice(&job))).unwrap_or(Next::Park);
    release(job, next);
  } else {
    wake(&job);
  }
}

/// Ends a run (on a worker, or inline after `try_claim`): queues the job again if it has more to
/// do or was woken while running.
pub fn release(job: Arc<dyn Job>, next: Next) {
  let state = &job.schedule().state;
  let again = match next {
    Next::Again => true,
    Next::Park => state
      .compare_exchange(RUNNING, IDLE, Ordering::AcqRel, Ordering::Acquire)
      .is_err(), // NOTIFIED: woken while running
  };
  if again {
    // A swap: it acquires a wake that came during the run, for the next runner to see.
    state.swap(QUEUED, Ordering::AcqRel);
    submit(job);
  }
}

fn submit(job: Arc<dyn Job>) {
  // The workers hold the receiver for the life of the process, so the send cannot fail.
  let _ = pool().queue.send(job);
}

struct Pool {
  queue: Sender<Arc<dyn Job>>,
  workers: usize,
  timers: Timers,
}

/// The size `configure` asked for before the pool started.
static REQUESTED: Mutex<Option<usize>> = Mutex::new(None);
static POOL: OnceLock<Pool> = OnceLock::new();

/// Upper bound on the pool size (the JS validator says the same).
pub const MAX_WORKERS: usize = 1024;

fn default_workers() -> usize {
  std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Fixes the pool size. Before the pool started: records it; `strict` (an explicit
/// `configure({ workers })`) over anything recorded, a default (`SLUICE_WORKERS`, read by each
/// worker_threads environment's copy of the JS side) only where nothing is: one environment's
/// default must not undo another's explicit size. After: fine if it is the size in use or
/// `strict` is false, an error otherwise.
pub fn configure(workers: Option<usize>, strict: bool) -> Result<usize, String> {
  let mut requested = REQUESTED.lock().unwrap_or_else(|p| p.into_inner());
  if let Some(pool) = POOL.get() {
    return match workers {
      Some(n) if strict && n != pool.workers => Err(format!(
        "the sluice runtime already runs with {} workers; configure({{ workers }}) must come before the first stream",
        pool.workers
      )),
      _ => Ok(pool.workers),
    };
  }
  if let Some(n) = workers {
    if strict || requested.is_none() {
      *requested = Some(n.clamp(1, MAX_WORKERS));
    }
  }
  Ok(requested.unwrap_or_else(default_workers))
}

/// Starts the pool if needed; an error if no worker thread could be started.
pub fn start() -> Result<(), String> {
  if POOL.get().is_some() {
    return Ok(());
  }
  let requested = REQUESTED.lock().unwrap_or_else(|p| p.into_inner());
  let workers = requested.unwrap_or_else(default_workers);
  let mut failure = None;
  POOL.get_or_init(|| {
    let (queue, rx) = unbounded::<Arc<dyn Job>>();
    let mut started = 0;
    for i in 0..workers {
      let rx = rx.clone();
      let spawned = std::thread::Builder::new()
        .name(format!("sluice-worker-{i}"))
        .spawn(move || {
          for job in rx.iter() {
            run(job, &rx);
          }
        });
      match spawned {
        Ok(_) => started += 1,
        Err(e) => failure = Some(e.to_string()),
      }
    }
    Pool {
      queue,
      workers: started,
      timers: Timers::new(),
    }
  });
  drop(requested);
  match POOL.get() {
    Some(pool) if pool.workers > 0 => Ok(()),
    _ => Err(format!(
      "cannot start the sluice worker threads: {}",
      failure.unwrap_or_else(|| "unknown error".into())
    )),
  }
}

fn pool() -> &'static Pool {
  // `start` runs before any job exists (`Pipe::start`), so this never initialises.
  POOL.get().expect("sluice runtime used before start()")
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::atomic::AtomicUsize;
  use std::sync::mpsc;
  use std::time::Duration;

  /// Counts slices; `Again` until `budget` slices ran, then reports on `done`.
  struct Counter {
    schedule: Schedule,
    runs: AtomicUsize,
    running: AtomicUsize,
    overlap: AtomicUsize,
    budget: usize,
    stop: std::sync::atomic::AtomicBool,
    done: Mutex<Option<mpsc::Sender<usize>>>,
  }

  impl Job for Counter {
    fn schedule(&self) -> &Schedule {
      &self.schedule
    }
    fn run_slice(&self, _me: &Arc<dyn Job>) -> Next {
      if self.stop.load(Ordering::SeqCst) {
        return Next::Park;
      }
      if self.running.fetch_add(1, Ordering::SeqCst) > 0 {
        self.overlap.fetch_add(1, Ordering::SeqCst);
      }
      std::thread::yield_now();
      let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
      self.running.fetch_sub(1, Ordering::SeqCst);
      if n >= self.budget {
        if let Some(tx) = self.done.lock().unwrap().take() {
          tx.send(n).unwrap();
        }
        Next::Park
      } else {
        Next::Again
      }
    }
  }

  fn counter(budget: usize, tx: mpsc::Sender<usize>) -> Arc<Counter> {
    Arc::new(Counter {
      schedule: Schedule::new(),
      runs: AtomicUsize::new(0),
      running: AtomicUsize::new(0),
      overlap: AtomicUsize::new(0),
      budget,
      stop: std::sync::atomic::AtomicBool::new(false),
      done: Mutex::new(Some(tx)),
    })
  }

  #[test]
  fn a_job_never_runs_on_two_workers_and_wakes_are_not_lost() {
    start().unwrap();
    let (tx, rx) = mpsc::channel();
    let c = counter(200, tx);
    let job: Arc<dyn Job> = c.clone();
    // Wake from several threads while it runs: it must neither overlap nor lose the last wake.
    let wakers: Vec<_> = (0..4)
      .map(|_| {
        let job = Arc::clone(&job);
        std::thread::spawn(move || {
          for _ in 0..500 {
            wake(&job);
          }
        })
      })
      .collect();
    for w in wakers {
      w.join().unwrap();
    }
    rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(c.overlap.load(Ordering::SeqCst), 0);
  }

  #[test]
  fn a_busy_job_does_not_starve_another() {
    start().unwrap();
    // More never-finishing jobs than there are workers, then a small one: it must finish.
    let busy: Vec<_> = (0..8)
      .map(|_| {
        let (tx, _rx) = mpsc::channel();
        let c = counter(usize::MAX, tx);
        let job: Arc<dyn Job> = c.clone();
        wake(&job);
        c
      })
      .collect();
    let (tx, rx) = mpsc::channel();
    let small: Arc<dyn Job> = counter(50, tx);
    wake(&small);
    let finished = rx.recv_timeout(Duration::from_secs(20));
    for c in &busy {
      c.stop.store(true, Ordering::SeqCst);
    }
    assert_eq!(finished.unwrap(), 50);
  }

  /// A job whose input is a plain atomic (no lock shared with the waker).
  struct Latest {
    schedule: Schedule,
    input: std::sync::atomic::AtomicU64,
    seen: std::sync::atomic::AtomicU64,
  }

  impl Job for Latest {
    fn schedule(&self) -> &Schedule {
      &self.schedule
    }
    fn run_slice(&self, _me: &Arc<dyn Job>) -> Next {
      let input = self.input.load(Ordering::Acquire);
      if input == self.seen.load(Ordering::Relaxed) {
        return Next::Park;
      }
      self.seen.store(input, Ordering::Release);
      Next::Again
    }
  }

  #[test]
  fn a_wake_after_a_plain_store_is_never_lost() {
    // Store-buffering: with a plain load in `wake` and a plain store in `run`, x86 let the waker
    // see QUEUED and the runner miss the store (found by the runtime probe, within ~12k rounds).
    start().unwrap();
    let latest = Arc::new(Latest {
      schedule: Schedule::new(),
      input: Default::default(),
      seen: Default::default(),
    });
    let job: Arc<dyn Job> = latest.clone();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for i in 1..=30_000u64 {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      for _ in 0..rng % 64 {
        std::hint::spin_loop(); // sweep across the window
      }
      latest.input.store(i, Ordering::Release);
      wake(&job);
      let sent = Instant::now();
      while latest.seen.load(Ordering::Acquire) != i {
        assert!(
          sent.elapsed() < Duration::from_secs(5),
          "wake-up lost at round {i}"
        );
        std::hint::spin_loop();
      }
    }
  }

  #[test]
  fn timers_wake_jobs_at_their_deadline() {
    start().unwrap();
    let (tx, rx) = mpsc::channel();
    let job: Arc<dyn Job> = counter(1, tx);
    let at = Instant::now() + Duration::from_millis(20);
    wake_at(at, &job);
    rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(Instant::now() >= at, "woken before its deadline");
  }
}
