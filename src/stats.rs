//! `Counters`: the stats plumbing every component shares.
//!
//! A fixed, named set of `AtomicU64`s. The worker thread updates them with relaxed atomics (each
//! counter is independent; a snapshot is not a transaction) and the JS thread reads a snapshot
//! through `NativeStream::stats()` as a plain object, named by the component's own field names.

use std::sync::atomic::{AtomicU64, Ordering};

pub struct Counters {
  names: &'static [&'static str],
  values: Box<[AtomicU64]>,
}

impl Counters {
  pub fn new(names: &'static [&'static str]) -> Self {
    Self {
      names,
      values: names.iter().map(|_| AtomicU64::new(0)).collect(),
    }
  }

  #[inline]
  pub fn add(&self, field: usize, n: u64) {
    self.values[field].fetch_add(n, Ordering::Relaxed);
  }

  #[inline]
  pub fn raise_to(&self, field: usize, v: u64) {
    self.values[field].fetch_max(v, Ordering::Relaxed);
  }

  pub fn get(&self, field: usize) -> u64 {
    self.values[field].load(Ordering::Relaxed)
  }

  /// `(name, value)` pairs in declaration order.
  pub fn snapshot(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
    self
      .names
      .iter()
      .copied()
      .zip(self.values.iter().map(|v| v.load(Ordering::Relaxed)))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn named_counters() {
    let c = Counters::new(&["lines", "longest"]);
    c.add(0, 2);
    c.raise_to(1, 7);
    c.raise_to(1, 3);
    assert_eq!(
      c.snapshot().collect::<Vec<_>>(),
      vec![("lines", 2), ("longest", 7)]
    );
  }
}
