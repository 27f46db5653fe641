//! Measures the sluice runtime (`src/runtime/`: a fixed worker pool fed by one channel, plus one
//! timer thread sleeping to absolute deadlines) against a tokio multi-thread runtime with the
//! same number of workers, on what decides which one every stream should run on:
//!
//! 1. wake-to-run latency: from `wake()` on a foreign thread to the job's `run_slice` starting
//!    (tokio: `Notify::notify_one()` to the task resuming after `notified().await`); idle pool,
//!    one wake every ~100 µs (`std::thread::sleep`, so ~150 µs with Linux timer slack).
//! 2. timer lateness: a job/task arms a deadline 1 ms ahead from inside its own run (as a
//!    stream arms its flush deadline), and we measure how late it runs after the deadline (our
//!    `wake_at` vs `tokio::time::sleep_until`). Then a burst: 10 000 streams armed at once with
//!    deadlines staggered 1 µs apart, 30 ms ahead (so every one is armed in time; the child
//!    reports how many were not, expected 0).
//! 3. per-stream cost: 10 000 jobs/tasks each summing its own 1 KiB per wake, every one woken
//!    10 times from the driver thread (a round of 10 000 wakes, then wait for the round to
//!    finish); process CPU (utime + stime from `/proc/self/stat`) and wall time, per batch of
//!    10 000 × 10 wakes, averaged over 20 batches (the CPU counter has 10 ms resolution). Then,
//!    in a fresh process, memory per idle job/task: RSS (`/proc/self/statm`) before and after
//!    creating 100 000 parked ones (tokio: spawned and polled once, so waiting on a `Notify`).
//! 4. fairness: 8 jobs/tasks each needing 2 000 slices of ~50 µs of CPU (a calibrated loop),
//!    yielding after every slice (ours: `Next::Again`; tokio: `yield_now().await`), woken
//!    together: finish-time spread, slowest / fastest − 1, and the makespan.
//!
//! Run (Linux only: it reads /proc):
//!
//! ```text
//! cargo run --release --example runtime_probe --target x86_64-unknown-linux-gnu [-- --repeat N]
//! ```
//!
//! Every (candidate, measure, repetition) runs in a fresh child process (this binary, `child
//! CANDIDATE MEASURE SPIN_ITERS`), so heap, RSS and CPU counters start clean and the two
//! runtimes never share a process or a core with each other's idle threads. The candidates
//! alternate which goes first. The parent prints a markdown table of the medians over `--repeat`
//! repetitions (default 3) and then every repetition's values. Both candidates use 2 workers (the
//! machine this was written for has 2 cores); the foreign "driver" thread is the child's main
//! thread, as the JS thread is for real streams.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// Worker threads for both candidates.
const WORKERS: usize = 2;

const WAKES: usize = 20_000;
const WAKE_GAP: Duration = Duration::from_micros(100);
const TIMERS: usize = 2_000;
const TIMER_AHEAD: Duration = Duration::from_millis(1);
const BURST: usize = 10_000;
const BURST_AHEAD: Duration = Duration::from_millis(30);
const BURST_STAGGER: Duration = Duration::from_micros(1);
const STREAMS: usize = 10_000;
const ROUNDS: usize = 10;
/// Batches of `STREAMS` × `ROUNDS` wakes per cost measure: CPU time from /proc/self/stat counts
/// in 10 ms, so one batch (~20–30 ms) alone would be too coarse; we report the mean batch.
const BATCHES: usize = 20;
const WORK_BYTES: usize = 1024;
const IDLE: usize = 100_000;
const FAIR_JOBS: usize = 8;
const FAIR_SLICES: u32 = 2_000;
const FAIR_SLICE: Duration = Duration::from_micros(50);
/// Unrecorded runs before each latency measure (first wakes pay for cold caches and stacks).
const WARMUP: usize = 200;

const CANDIDATES: [&str; 2] = ["ours", "tokio"];
const MEASURES: [&str; 6] = ["wake", "timer", "burst", "cost", "idle", "fair"];

/// A row of the table: the key a child prints, what it means, and its unit.
const METRICS: &[(&str, &str, &str)] = &[
  ("wake_p50", "1. wake-to-run, p50", "µs"),
  ("wake_p99", "1. wake-to-run, p99", "µs"),
  ("timer_p50", "2. 1 ms deadline, late by p50", "µs"),
  ("timer_p99", "2. 1 ms deadline, late by p99", "µs"),
  ("timer_max", "2. 1 ms deadline, late by max", "µs"),
  ("timer_early", "2. 1 ms deadline, early", "count"),
  ("burst_p50", "2. 10k deadlines, late by p50", "µs"),
  ("burst_p99", "2. 10k deadlines, late by p99", "µs"),
  ("burst_early", "2. 10k deadlines, early", "count"),
  ("burst_late_arm", "2. 10k deadlines, armed late", "count"),
  ("cost_cpu", "3. 10k streams × 10 wakes, CPU", "ms"),
  ("cost_cpu_wake", "3. CPU per wake (with 1 KiB)", "µs"),
  ("cost_wall", "3. 10k streams × 10 wakes, wall", "ms"),
  ("idle_bytes", "3. RSS per idle job/task¹", "bytes"),
  ("fair_spread", "4. fairness: finish spread²", "%"),
  ("fair_makespan", "4. fairness: makespan", "ms"),
];

fn main() {
  let args: Vec<String> = std::env::args().skip(1).collect();
  if args.first().map(String::as_str) == Some("child") {
    let iters = args[3].parse().expect("spin iterations");
    child(&args[1], &args[2], iters);
    // Skip tearing down 100 000 tasks and detached workers: nothing is measured after this.
    std::process::exit(0);
  }
  let repeat = match args.iter().position(|a| a == "--repeat") {
    Some(i) => args[i + 1].parse().expect("--repeat N"),
    None => 3,
  };
  let load_before = loadavg();
  let iters = calibrate_spin(FAIR_SLICE);
  eprintln!(
    "{} cores; {WORKERS} workers each; {iters} spin iterations ≈ {} µs; {repeat} repetitions",
    thread::available_parallelism().map_or(0, |n| n.get()),
    FAIR_SLICE.as_micros()
  );

  // (candidate, key) -> one value per repetition.
  let mut results: BTreeMap<(&'static str, String), Vec<f64>> = BTreeMap::new();
  let exe = std::env::current_exe().expect("own path");
  for r in 0..repeat {
    for measure in MEASURES {
      let mut order = CANDIDATES;
      if r % 2 == 1 {
        order.reverse();
      }
      for candidate in order {
        eprintln!("repetition {}/{repeat}: {candidate} {measure}", r + 1);
        let out = Command::new(&exe)
          .args(["child", candidate, measure, &iters.to_string()])
          .output()
          .expect("run child");
        assert!(
          out.status.success(),
          "child {candidate} {measure} failed: {}",
          String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
          let (key, value) = line.split_once(' ').expect("`key value` line");
          let value = value.parse().expect("numeric value");
          results
            .entry((candidate, key.to_string()))
            .or_default()
            .push(value);
        }
      }
    }
  }
  let load_after = loadavg();
  print_tables(&results, repeat);
  println!("\nLoad average (1, 5, 15 min) before: {load_before}; after: {load_after}.");
}

/// `/proc/loadavg`'s first three fields: other processes on the machine skew every measure.
fn loadavg() -> String {
  let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
  text
    .split_whitespace()
    .take(3)
    .collect::<Vec<_>>()
    .join(" ")
}

fn print_tables(results: &BTreeMap<(&'static str, String), Vec<f64>>, repeat: usize) {
  let get = |candidate: &'static str, key: &str| results.get(&(candidate, key.to_string()));
  println!("Medians of {repeat} runs, {WORKERS} workers each. Lower is better on every row.\n");
  println!("| measure | unit | ours | tokio | tokio ÷ ours |");
  println!("|---|---|---:|---:|---:|");
  for &(key, label, unit) in METRICS {
    let (Some(ours), Some(tokio)) = (get("ours", key), get("tokio", key)) else {
      continue;
    };
    let (ours, tokio) = (median(ours), median(tokio));
    let ratio = if ours.abs() > f64::EPSILON {
      format!("{:.2}", tokio / ours)
    } else {
      "—".into()
    };
    println!(
      "| {label} | {unit} | {} | {} | {ratio} |",
      fmt(ours),
      fmt(tokio)
    );
  }
  println!(
    "\n¹ Includes the probe's own handle per stream, the same for both: a `Box<dyn Fn()>` \
     (32 B chunk) and its `Vec` slot (16 B)."
  );
  println!("² slowest / fastest − 1, over 8 jobs of 2 000 slices × ~50 µs started together.");
  println!("\nEvery run (ours / tokio):\n");
  println!("| key | ours | tokio |");
  println!("|---|---|---|");
  for &(key, _, _) in METRICS {
    let list = |candidate| {
      get(candidate, key).map_or(String::new(), |values| {
        values
          .iter()
          .map(|v| fmt(*v))
          .collect::<Vec<_>>()
          .join(", ")
      })
    };
    println!("| {key} | {} | {} |", list("ours"), list("tokio"));
  }
}

fn fmt(v: f64) -> String {
  if v.abs() >= 100.0 || v == v.trunc() {
    format!("{v:.0}")
  } else if v.abs() >= 10.0 {
    format!("{v:.1}")
  } else {
    format!("{v:.2}")
  }
}

fn median(values: &[f64]) -> f64 {
  let mut sorted = values.to_vec();
  sorted.sort_by(f64::total_cmp);
  let mid = sorted.len() / 2;
  if sorted.len() % 2 == 1 {
    sorted[mid]
  } else {
    (sorted[mid - 1] + sorted[mid]) / 2.0
  }
}

/// One measure for one candidate, its results printed as `key value` lines.
fn child(candidate: &str, measure: &str, spin_iters: u64) {
  base(); // fix the clock origin before any thread starts
  let c: &dyn Candidate = match candidate {
    "ours" => &ours::Ours::new(),
    "tokio" => &tok::Tokio::new(),
    other => panic!("unknown candidate {other}"),
  };
  match measure {
    "wake" => measure_wake(c),
    "timer" => measure_timer(c),
    "burst" => measure_burst(c),
    "cost" => measure_cost(c),
    // Its own process: memory freed by another measure would be reused and hide the growth.
    "idle" => measure_idle_memory(c),
    "fair" => measure_fairness(c, spin_iters),
    other => panic!("unknown measure {other}"),
  }
}

fn emit(key: &str, value: f64) {
  println!("{key} {value}");
}

/// What a candidate runtime must provide: streams with a given per-wake behaviour, each
/// returned as its wake function. The measures below drive both candidates with the same code.
trait Candidate {
  /// Each wake: stores `now_ns()` in `ran`, then counts on `done`.
  fn stamper(&self, ran: Arc<AtomicU64>, done: Arc<Countdown>) -> Waker;
  /// Each wake: arms a deadline `TIMER_AHEAD` from now; when it fires, stores the lateness in
  /// `late` and counts on `done`.
  fn one_shot(&self, late: Arc<AtomicI64>, done: Arc<Countdown>) -> Waker;
  /// First wake: arms the deadline `deadline` (`now_ns()` scale), counting on `armed_late` if
  /// that is already past; when it fires, stores the lateness in `late` and counts on `done`.
  fn deadline(&self, s: Arc<BurstSlot>, done: Arc<Countdown>) -> Waker;
  /// Each wake: sums `data` (its own `WORK_BYTES`), then counts as stream `index` on `tally`.
  fn worker(&self, data: Vec<u8>, index: usize, tally: Arc<Tally>) -> Waker;
  /// An idle stream holding nothing but a run counter (tokio: polled until it waits), for the
  /// memory measure. `started` counts the ones that are parked.
  fn idle(&self, started: &Arc<AtomicUsize>) -> Waker;
  /// First wake: runs `slices` slices of `spin(iters)`, yielding after each; then stores the
  /// finish time in `finished` and counts on `done`.
  fn spinner(
    &self,
    slices: u32,
    iters: u64,
    finished: Arc<AtomicU64>,
    done: Arc<Countdown>,
  ) -> Waker;
}

/// Wakes one stream (ours: `runtime::wake`; tokio: `Notify::notify_one`).
type Waker = Box<dyn Fn() + Send + Sync>;

/// The shared state of one stream in the deadline burst.
#[derive(Default)]
struct BurstSlot {
  deadline: AtomicU64,
  late: AtomicI64,
  armed_late: AtomicBool,
}

fn measure_wake(c: &dyn Candidate) {
  let ran = Arc::new(AtomicU64::new(0));
  let done = Countdown::new();
  let wake = c.stamper(ran.clone(), done.clone());
  let mut latency = Vec::with_capacity(WAKES);
  for i in 0..WARMUP + WAKES {
    done.expect(i + 1);
    let sent = now_ns();
    wake();
    // The pool goes idle again (its workers park) before the next wake.
    thread::sleep(WAKE_GAP);
    done.wait();
    if i >= WARMUP {
      latency.push(ran.load(Ordering::SeqCst) as i64 - sent as i64);
    }
  }
  let d = Dist::new(latency);
  emit("wake_p50", d.pct_us(0.50));
  emit("wake_p99", d.pct_us(0.99));
}

fn measure_timer(c: &dyn Candidate) {
  let late = Arc::new(AtomicI64::new(0));
  let done = Countdown::new();
  let wake = c.one_shot(late.clone(), done.clone());
  let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
  let mut lateness = Vec::with_capacity(TIMERS);
  for i in 0..WARMUP + TIMERS {
    done.expect(i + 1);
    wake();
    done.wait();
    if i >= WARMUP {
      lateness.push(late.load(Ordering::SeqCst));
    }
    // A random phase for the next arm, so a timer with coarse ticks is not always hit at the
    // same point of its tick.
    thread::sleep(Duration::from_micros(rng.next() % 1000));
  }
  let d = Dist::new(lateness);
  emit("timer_p50", d.pct_us(0.50));
  emit("timer_p99", d.pct_us(0.99));
  emit("timer_max", d.pct_us(1.0));
  emit("timer_early", d.negatives() as f64);
}

fn measure_burst(c: &dyn Candidate) {
  let done = Countdown::new();
  let slots: Vec<Arc<BurstSlot>> = (0..BURST).map(|_| Arc::default()).collect();
  let wakes: Vec<Waker> = slots
    .iter()
    .map(|s| c.deadline(s.clone(), done.clone()))
    .collect();
  let first = now_ns() + BURST_AHEAD.as_nanos() as u64;
  for (i, s) in slots.iter().enumerate() {
    let at = first + i as u64 * BURST_STAGGER.as_nanos() as u64;
    s.deadline.store(at, Ordering::SeqCst);
  }
  done.expect(BURST);
  for wake in &wakes {
    wake();
  }
  done.wait();
  let lateness = slots.iter().map(|s| s.late.load(Ordering::SeqCst));
  let d = Dist::new(lateness.collect());
  emit("burst_p50", d.pct_us(0.50));
  emit("burst_p99", d.pct_us(0.99));
  emit("burst_early", d.negatives() as f64);
  let armed_late = slots.iter().filter(|s| s.armed_late.load(Ordering::SeqCst));
  emit("burst_late_arm", armed_late.count() as f64);
}

fn measure_cost(c: &dyn Candidate) {
  let tally = Tally::new(STREAMS);
  // The buffers first, in one run of memory: each candidate's own allocations then sit apart
  // from the data, and cannot share (and falsely share) cache lines with it.
  let buffers: Vec<Vec<u8>> = (0..STREAMS).map(|_| work_buffer()).collect();
  let wakes: Vec<Waker> = buffers
    .into_iter()
    .enumerate()
    .map(|(i, data)| c.worker(data, i, tally.clone()))
    .collect();
  let cpu = cpu_ms();
  let wall = Instant::now();
  for _ in 0..BATCHES * ROUNDS {
    for wake in &wakes {
      wake();
    }
    tally.wait_round();
  }
  let wall = wall.elapsed().as_secs_f64() * 1e3 / BATCHES as f64;
  let cpu = (cpu_ms() - cpu) / BATCHES as f64;
  emit("cost_cpu", cpu);
  emit("cost_cpu_wake", cpu * 1e3 / (STREAMS * ROUNDS) as f64);
  emit("cost_wall", wall);
}

fn measure_idle_memory(c: &dyn Candidate) {
  let started = Arc::new(AtomicUsize::new(0));
  let mut handles = Vec::with_capacity(IDLE);
  // Let the allocator and the runtime settle before the baseline.
  thread::sleep(Duration::from_millis(50));
  let before = rss_bytes();
  for _ in 0..IDLE {
    handles.push(c.idle(&started));
  }
  while started.load(Ordering::SeqCst) < IDLE {
    thread::sleep(Duration::from_millis(1));
  }
  thread::sleep(Duration::from_millis(50));
  let after = rss_bytes();
  emit("idle_bytes", (after - before) as f64 / IDLE as f64);
  black_box(&handles);
}

fn measure_fairness(c: &dyn Candidate, iters: u64) {
  let done = Countdown::new();
  let finished: Vec<Arc<AtomicU64>> = (0..FAIR_JOBS).map(|_| Arc::default()).collect();
  let wakes: Vec<Waker> = finished
    .iter()
    .map(|f| c.spinner(FAIR_SLICES, iters, f.clone(), done.clone()))
    .collect();
  done.expect(FAIR_JOBS);
  let start = now_ns();
  for wake in &wakes {
    wake();
  }
  done.wait();
  let times: Vec<u64> = finished
    .iter()
    .map(|f| f.load(Ordering::SeqCst) - start)
    .collect();
  let (fastest, slowest) = (times.iter().min().unwrap(), times.iter().max().unwrap());
  emit(
    "fair_spread",
    (*slowest as f64 / *fastest as f64 - 1.0) * 100.0,
  );
  emit("fair_makespan", *slowest as f64 / 1e6);
}

/// Our runtime: one `Job` per stream, woken with `runtime::wake`, timers by `runtime::wake_at`.
mod ours {
  use super::*;
  use sluice::runtime::{self, Job, Next, Schedule};

  pub struct Ours;

  impl Ours {
    pub fn new() -> Self {
      runtime::configure(Some(WORKERS), true).expect("configure");
      runtime::start().expect("start the pool");
      Ours
    }
  }

  /// A job whose slice is a closure (`me` is the job itself, for arming timers).
  struct FnJob<F> {
    schedule: Schedule,
    slice: F,
  }

  impl<F: Fn(&Arc<dyn Job>) -> Next + Send + Sync + 'static> Job for FnJob<F> {
    fn schedule(&self) -> &Schedule {
      &self.schedule
    }
    fn run_slice(&self, me: &Arc<dyn Job>) -> Next {
      (self.slice)(me)
    }
  }

  fn job(slice: impl Fn(&Arc<dyn Job>) -> Next + Send + Sync + 'static) -> Waker {
    let job: Arc<dyn Job> = Arc::new(FnJob {
      schedule: Schedule::new(),
      slice,
    });
    Box::new(move || runtime::wake(&job))
  }

  impl Candidate for Ours {
    fn stamper(&self, ran: Arc<AtomicU64>, done: Arc<Countdown>) -> Waker {
      job(move |_| {
        ran.store(now_ns(), Ordering::SeqCst);
        done.hit();
        Next::Park
      })
    }

    fn one_shot(&self, late: Arc<AtomicI64>, done: Arc<Countdown>) -> Waker {
      // 0: not armed (woken by the driver); otherwise the deadline (woken by the timer).
      let deadline = AtomicU64::new(0);
      job(move |me| {
        let now = now_ns();
        match deadline.load(Ordering::SeqCst) {
          0 => {
            let at = now + TIMER_AHEAD.as_nanos() as u64;
            deadline.store(at, Ordering::SeqCst);
            runtime::wake_at(at_ns(at), me);
          }
          at => {
            late.store(now as i64 - at as i64, Ordering::SeqCst);
            deadline.store(0, Ordering::SeqCst);
            done.hit();
          }
        }
        Next::Park
      })
    }

    fn deadline(&self, s: Arc<BurstSlot>, done: Arc<Countdown>) -> Waker {
      let armed = AtomicBool::new(false);
      job(move |me| {
        let now = now_ns();
        let at = s.deadline.load(Ordering::SeqCst);
        if !armed.swap(true, Ordering::SeqCst) {
          s.armed_late.store(now >= at, Ordering::SeqCst);
          runtime::wake_at(at_ns(at), me);
        } else {
          s.late.store(now as i64 - at as i64, Ordering::SeqCst);
          done.hit();
        }
        Next::Park
      })
    }

    fn worker(&self, data: Vec<u8>, index: usize, tally: Arc<Tally>) -> Waker {
      job(move |_| {
        black_box(sum(&data));
        tally.hit(index);
        Next::Park
      })
    }

    fn idle(&self, started: &Arc<AtomicUsize>) -> Waker {
      // A job is idle from its creation: nothing to poll.
      started.fetch_add(1, Ordering::SeqCst);
      let runs = AtomicU64::new(0);
      job(move |_| {
        runs.fetch_add(1, Ordering::Relaxed);
        Next::Park
      })
    }

    fn spinner(
      &self,
      slices: u32,
      iters: u64,
      finished: Arc<AtomicU64>,
      done: Arc<Countdown>,
    ) -> Waker {
      let left = AtomicU32::new(slices);
      job(move |_| {
        black_box(spin(iters));
        if left.fetch_sub(1, Ordering::SeqCst) > 1 {
          return Next::Again; // back of the queue
        }
        finished.store(now_ns(), Ordering::SeqCst);
        done.hit();
        Next::Park
      })
    }
  }
}

/// tokio: one task per stream, parked on a `Notify` that the driver's `notify_one` wakes,
/// timers by `tokio::time::sleep_until`, yields by `tokio::task::yield_now`.
mod tok {
  use super::*;
  use std::future::Future;
  use tokio::runtime::{Builder, Runtime};
  use tokio::sync::Notify;
  use tokio::time::sleep_until;

  pub struct Tokio(Runtime);

  impl Tokio {
    pub fn new() -> Self {
      let rt = Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_time()
        .build()
        .expect("tokio runtime");
      Tokio(rt)
    }

    /// Spawns `body(notify)` and returns the wake function: `notify_one` (which stores a permit
    /// if the task is not waiting yet, so no wake is lost).
    fn task<F: Future<Output = ()> + Send + 'static>(
      &self,
      body: impl FnOnce(Arc<Notify>) -> F,
    ) -> Waker {
      let notify = Arc::new(Notify::new());
      self.0.spawn(body(notify.clone()));
      Box::new(move || notify.notify_one())
    }
  }

  fn instant(ns: u64) -> tokio::time::Instant {
    tokio::time::Instant::from_std(at_ns(ns))
  }

  impl Candidate for Tokio {
    fn stamper(&self, ran: Arc<AtomicU64>, done: Arc<Countdown>) -> Waker {
      self.task(|notify| async move {
        loop {
          notify.notified().await;
          ran.store(now_ns(), Ordering::SeqCst);
          done.hit();
        }
      })
    }

    fn one_shot(&self, late: Arc<AtomicI64>, done: Arc<Countdown>) -> Waker {
      self.task(|notify| async move {
        loop {
          notify.notified().await;
          let at = now_ns() + TIMER_AHEAD.as_nanos() as u64;
          sleep_until(instant(at)).await;
          late.store(now_ns() as i64 - at as i64, Ordering::SeqCst);
          done.hit();
        }
      })
    }

    fn deadline(&self, s: Arc<BurstSlot>, done: Arc<Countdown>) -> Waker {
      self.task(|notify| async move {
        notify.notified().await;
        let at = s.deadline.load(Ordering::SeqCst);
        s.armed_late.store(now_ns() >= at, Ordering::SeqCst);
        sleep_until(instant(at)).await;
        s.late.store(now_ns() as i64 - at as i64, Ordering::SeqCst);
        done.hit();
      })
    }

    fn worker(&self, data: Vec<u8>, index: usize, tally: Arc<Tally>) -> Waker {
      self.task(|notify| async move {
        loop {
          notify.notified().await;
          black_box(sum(&data));
          tally.hit(index);
        }
      })
    }

    fn idle(&self, started: &Arc<AtomicUsize>) -> Waker {
      let started = started.clone();
      self.task(|notify| async move {
        let mut runs = 0u64;
        started.fetch_add(1, Ordering::SeqCst);
        loop {
          notify.notified().await;
          runs += 1;
          black_box(runs);
        }
      })
    }

    fn spinner(
      &self,
      slices: u32,
      iters: u64,
      finished: Arc<AtomicU64>,
      done: Arc<Countdown>,
    ) -> Waker {
      self.task(move |notify| async move {
        notify.notified().await;
        for slice in 1..=slices {
          black_box(spin(iters));
          if slice < slices {
            tokio::task::yield_now().await; // back of the queue
          }
        }
        finished.store(now_ns(), Ordering::SeqCst);
        done.hit();
      })
    }
  }
}

/// Lets the driver thread sleep until the jobs/tasks have counted a given number of
/// completions: `expect(total)` before waking them, `wait()` after.
struct Countdown {
  done: AtomicUsize,
  target: AtomicUsize,
  driver: Thread,
}

impl Countdown {
  fn new() -> Arc<Self> {
    Arc::new(Self {
      done: AtomicUsize::new(0),
      target: AtomicUsize::new(usize::MAX),
      driver: thread::current(),
    })
  }

  fn expect(&self, total: usize) {
    self.target.store(total, Ordering::SeqCst);
  }

  fn hit(&self) {
    let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
    if n == self.target.load(Ordering::SeqCst) {
      self.driver.unpark();
    }
  }

  fn wait(&self) {
    let target = self.target.load(Ordering::SeqCst);
    let give_up = Instant::now() + Duration::from_secs(60);
    while self.done.load(Ordering::SeqCst) < target {
      assert!(
        Instant::now() < give_up,
        "stuck: {} of {target} completions after 60 s (a lost wake-up?)",
        self.done.load(Ordering::SeqCst)
      );
      thread::park_timeout(Duration::from_millis(10));
    }
  }
}

/// `Countdown` for many streams woken once per round: one counter that every run bumps would be
/// the hottest cache line of the measure (it cost ~15% of the CPU in a first version). Streams
/// count in padded shards instead; only the last of a shard's streams to finish a round touches
/// the shared counter, and the last shard wakes the driver.
struct Tally {
  shards: Vec<Shard>,
  /// Shards that have finished, over all rounds.
  full: AtomicUsize,
  round: AtomicUsize,
  driver: Thread,
}

/// One shard's count, alone on its cache lines; `size`: its streams (index % SHARDS == shard).
#[repr(align(128))]
struct Shard {
  runs: AtomicUsize,
  size: usize,
}

const SHARDS: usize = 64;

impl Tally {
  fn new(streams: usize) -> Arc<Self> {
    assert!(streams >= SHARDS);
    let shards = (0..SHARDS)
      .map(|k| Shard {
        runs: AtomicUsize::new(0),
        size: (k..streams).step_by(SHARDS).count(),
      })
      .collect();
    Arc::new(Self {
      shards,
      full: AtomicUsize::new(0),
      round: AtomicUsize::new(0),
      driver: thread::current(),
    })
  }

  /// Stream `index` has run once this round (each stream runs exactly once per round).
  fn hit(&self, index: usize) {
    let shard = &self.shards[index % SHARDS];
    let runs = shard.runs.fetch_add(1, Ordering::SeqCst) + 1;
    if runs.is_multiple_of(shard.size) {
      let full = self.full.fetch_add(1, Ordering::SeqCst) + 1;
      if full == self.round.load(Ordering::SeqCst) * SHARDS {
        self.driver.unpark();
      }
    }
  }

  /// Call after waking every stream once: returns when all of them have run.
  fn wait_round(&self) {
    let round = self.round.fetch_add(1, Ordering::SeqCst) + 1;
    let give_up = Instant::now() + Duration::from_secs(60);
    while self.full.load(Ordering::SeqCst) < round * SHARDS {
      assert!(Instant::now() < give_up, "stuck in round {round}");
      thread::park_timeout(Duration::from_millis(10));
    }
  }
}

/// Samples in nanoseconds (signed: an early timer shows as negative lateness).
struct Dist(Vec<i64>);

impl Dist {
  fn new(mut samples: Vec<i64>) -> Self {
    samples.sort_unstable();
    Self(samples)
  }

  /// The `q` quantile (nearest rank), in µs.
  fn pct_us(&self, q: f64) -> f64 {
    let i = ((self.0.len() - 1) as f64 * q).round() as usize;
    self.0[i] as f64 / 1e3
  }

  fn negatives(&self) -> usize {
    self.0.iter().filter(|&&v| v < 0).count()
  }
}

/// The clock origin of this process: every timestamp is nanoseconds since it.
fn base() -> Instant {
  static BASE: OnceLock<Instant> = OnceLock::new();
  *BASE.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
  base().elapsed().as_nanos() as u64
}

fn at_ns(ns: u64) -> Instant {
  base() + Duration::from_nanos(ns)
}

fn work_buffer() -> Vec<u8> {
  (0..WORK_BYTES).map(|i| i as u8).collect()
}

fn sum(data: &[u8]) -> u64 {
  black_box(data).iter().map(|&b| u64::from(b)).sum()
}

/// About `iters` × 1.3 ns of CPU that the optimiser cannot remove (a dependent LCG chain).
fn spin(iters: u64) -> u64 {
  let mut x = black_box(1u64);
  for _ in 0..iters {
    // `black_box` every step: otherwise LLVM folds the chain and the cost is not linear.
    x = black_box(x)
      .wrapping_mul(6_364_136_223_846_793_005)
      .wrapping_add(1_442_695_040_888_963_407);
  }
  x
}

/// The `spin` iterations that take `target` on this machine (best of several tries).
fn calibrate_spin(target: Duration) -> u64 {
  const N: u64 = 2_000_000;
  let best = (0..7)
    .map(|_| {
      let t = Instant::now();
      black_box(spin(N));
      t.elapsed()
    })
    .min()
    .unwrap();
  (N as f64 * target.as_secs_f64() / best.as_secs_f64()) as u64
}

struct XorShift(u64);

impl XorShift {
  fn next(&mut self) -> u64 {
    self.0 ^= self.0 << 13;
    self.0 ^= self.0 >> 7;
    self.0 ^= self.0 << 17;
    self.0
  }
}

/// This process's user + system CPU time, from `/proc/self/stat` (clock ticks of 1/100 s, the
/// fixed USER_HZ of Linux on x86).
fn cpu_ms() -> f64 {
  let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
  // Fields after the command name (which may contain spaces), from field 3 on.
  let rest = &stat[stat.rfind(')').expect("comm") + 2..];
  let fields: Vec<&str> = rest.split_whitespace().collect();
  let ticks = |i: usize| fields[i - 3].parse::<u64>().expect("tick count");
  (ticks(14) + ticks(15)) as f64 * 10.0
}

/// Resident set size, from `/proc/self/statm` (pages of 4 KiB).
fn rss_bytes() -> i64 {
  let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
  let pages: i64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
  pages * 4096
}
