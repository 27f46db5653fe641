//! The shared timer facility: one thread that sleeps to the earliest absolute deadline and wakes
//! the jobs whose deadlines have passed. Flush deadlines today; throttle releases and meter
//! snapshots next.
//!
//! Invariants:
//! * Deadlines are absolute `Instant`s (monotonic), never chained relative sleeps: lateness does
//!   not accumulate (`research/feasibility.md` §5: +0.07 ms drift over 10 s for a thread sleeping
//!   to absolute deadlines, against +1.1 ms per tick for chained tokio sleeps).
//! * The heap holds jobs weakly: a stream that is dropped with a timer armed is not kept alive,
//!   and its entry is discarded when it comes due, or earlier by a sweep: an entry keeps its
//!   job's allocation (the `Weak`), and a deadline can be hours away (a meter's `interval`), so
//!   a process that makes and drops such streams would otherwise hold each one until then. The
//!   heap is swept each time it has doubled since the last sweep (or since it was last that
//!   small: fired entries lower the mark), so sweeps cost O(1) per timer armed and the heap
//!   holds at most about twice its live entries.
//! * A timer only *wakes* a job (or, for a job that `runs_on_timer`, runs its few microseconds
//!   of bookkeeping right here); the job checks the time itself when it runs, so a spurious or
//!   stale wake-up is harmless.
//! * The thread starts with the first timer and then lives for the process.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Instant;

use super::{run_here, wake, Job};

struct Entry {
  at: Instant,
  /// Insertion order breaks ties, so equal deadlines fire first-come first-served.
  seq: u64,
  job: Weak<dyn Job>,
}

impl PartialEq for Entry {
  fn eq(&self, other: &Self) -> bool {
    (self.at, self.seq) == (other.at, other.seq)
  }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
  fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
    Some(self.cmp(other))
  }
}
impl Ord for Entry {
  fn cmp(&self, other: &Self) -> Ordering {
    (self.at, self.seq).cmp(&(other.at, other.seq))
  }
}

/// No sweep below this many entries: a small heap of dead entries costs nothing worth a pass.
const SWEEP_MIN: usize = 1024;

#[derive(Default)]
struct Heap {
  entries: BinaryHeap<Reverse<Entry>>,
  seq: u64,
  thread_started: bool,
  /// The heap's length after the last sweep.
  swept_len: usize,
}

impl Heap {
  /// Drops the entries of jobs that are gone, once the heap has doubled since the last sweep.
  fn sweep_if_grown(&mut self) {
    let len = self.entries.len();
    if len >= SWEEP_MIN && len >= 2 * self.swept_len {
      self.entries.retain(|Reverse(e)| e.job.strong_count() > 0);
      self.swept_len = self.entries.len();
    }
  }
}

pub(super) struct Timers {
  heap: Arc<(Mutex<Heap>, Condvar)>,
}

impl Timers {
  pub(super) fn new() -> Self {
    Self {
      heap: Arc::new((Mutex::new(Heap::default()), Condvar::new())),
    }
  }

  pub(super) fn wake_at(&self, at: Instant, job: &Arc<dyn Job>) {
    let (lock, cond) = &*self.heap;
    let mut heap = lock.lock().unwrap_or_else(|p| p.into_inner());
    heap.sweep_if_grown();
    let earliest = heap.entries.peek().is_none_or(|Reverse(e)| at < e.at);
    heap.seq += 1;
    let seq = heap.seq;
    heap.entries.push(Reverse(Entry {
      at,
      seq,
      job: Arc::downgrade(job),
    }));
    if !heap.thread_started {
      let shared = Arc::clone(&self.heap);
      let spawned = std::thread::Builder::new()
        .name("sluice-timer".into())
        .spawn(move || run(&shared));
      match spawned {
        Ok(_) => heap.thread_started = true,
        Err(_) => {
          // No timer thread: wake the job now. It sees its deadline has not passed and
          // re-arms, so the timer is retried on its next run instead of being lost.
          drop(heap);
          wake(job);
          return;
        }
      }
    }
    if earliest {
      cond.notify_one();
    }
  }
}

fn run(shared: &(Mutex<Heap>, Condvar)) {
  let (lock, cond) = shared;
  let mut heap = lock.lock().unwrap_or_else(|p| p.into_inner());
  let mut due = Vec::new();
  loop {
    let now = Instant::now();
    while let Some(Reverse(entry)) = heap.entries.peek() {
      if entry.at > now {
        break;
      }
      let Some(Reverse(entry)) = heap.entries.pop() else {
        break;
      };
      due.push(entry.job);
    }
    // Fired entries leave the heap: the next sweep is due at twice what is left, not twice a
    // past peak (dead entries would pile up to that peak after a burst of live timers).
    heap.swept_len = heap.swept_len.min(heap.entries.len());
    if !due.is_empty() {
      // Wake outside the lock: `wake` may submit to the pool, and jobs re-arm timers.
      drop(heap);
      for job in due.drain(..) {
        if let Some(job) = job.upgrade() {
          if job.runs_on_timer() {
            run_here(job);
          } else {
            wake(&job);
          }
        }
      }
      heap = lock.lock().unwrap_or_else(|p| p.into_inner());
      continue;
    }
    heap = match heap.entries.peek() {
      Some(Reverse(next)) => {
        let wait = next.at.saturating_duration_since(now);
        cond
          .wait_timeout(heap, wait)
          .unwrap_or_else(|p| p.into_inner())
          .0
      }
      None => cond.wait(heap).unwrap_or_else(|p| p.into_inner()),
    };
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::runtime::{Next, Schedule};
  use std::time::Duration;

  struct Idle(Schedule);
  impl Job for Idle {
    fn schedule(&self) -> &Schedule {
      &self.0
    }
    fn run_slice(&self, _me: &Arc<dyn Job>) -> Next {
      Next::Park
    }
  }

  fn idle() -> Arc<dyn Job> {
    Arc::new(Idle(Schedule::new()))
  }

  fn len(timers: &Timers) -> usize {
    timers.heap.0.lock().unwrap().entries.len()
  }

  #[test]
  fn entries_of_dropped_jobs_far_in_the_future_do_not_pile_up() {
    let timers = Timers::new();
    let far = Instant::now() + Duration::from_secs(3600);
    let live: Vec<_> = (0..100).map(|_| idle()).collect();
    for job in &live {
      timers.wake_at(far, job);
    }
    // 100 000 jobs armed an hour ahead and dropped at once (streams made and destroyed).
    for _ in 0..100_000 {
      timers.wake_at(far, &idle());
    }
    let n = len(&timers);
    assert!(n < 2 * SWEEP_MIN + 2 * live.len(), "{n} entries held");
    // The live jobs' entries are all still there.
    let heap = timers.heap.0.lock().unwrap();
    let alive = heap
      .entries
      .iter()
      .filter(|Reverse(e)| e.job.strong_count() > 0)
      .count();
    assert_eq!(alive, live.len());
  }

  #[test]
  fn a_burst_of_timers_that_fired_does_not_let_dead_entries_pile_up_to_its_size() {
    let timers = Timers::new();
    // 10 000 live jobs due at once (the heap sweeps on its way up, to their number)…
    let soon = Instant::now() + Duration::from_millis(20);
    let burst: Vec<_> = (0..10_000).map(|_| idle()).collect();
    for job in &burst {
      timers.wake_at(soon, job);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while len(&timers) > 0 {
      assert!(Instant::now() < deadline, "the burst never fired");
      std::thread::sleep(Duration::from_millis(5));
    }
    // …then 10 000 jobs armed an hour ahead and dropped: swept as the heap doubles from empty.
    let far = Instant::now() + Duration::from_secs(3600);
    for _ in 0..10_000 {
      timers.wake_at(far, &idle());
    }
    let n = len(&timers);
    assert!(n < 2 * SWEEP_MIN, "{n} entries held");
  }
}
