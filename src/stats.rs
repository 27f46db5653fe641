//! The stats plumbing every component shares: a `Tally` the stage keeps while it works, and the
//! `Counters` that `stats()` reads.
//!
//! Invariants:
//! * Only the stage touches its `Tally` (plain numbers, on whichever worker runs the stream).
//! * The transport publishes the whole tally into `Counters` after each slice of work, under one
//!   lock, so numbers read together always agree (`values <= lines` at every instant, and a
//!   `stats()` taken as the stream is destroyed is a state the stream really was in). A reading
//!   may lag the stage by at most one slice.

use std::sync::Mutex;

use napi::bindgen_prelude::Object;
use napi::{Env, Result};

/// A stage's own counters, indexed by the component's field order.
#[derive(Debug, Clone)]
pub struct Tally {
  values: Box<[u64]>,
}

impl Tally {
  pub fn new(names: &[&str]) -> Self {
    Self {
      values: vec![0; names.len()].into_boxed_slice(),
    }
  }

  #[inline]
  pub fn add(&mut self, field: usize, n: u64) {
    self.values[field] += n;
  }

  #[inline]
  pub fn raise_to(&mut self, field: usize, v: u64) {
    let slot = &mut self.values[field];
    *slot = (*slot).max(v);
  }

  pub fn get(&self, field: usize) -> u64 {
    self.values[field]
  }

  pub fn as_slice(&self) -> &[u64] {
    &self.values
  }
}

/// The published, named copy of a stage's tally.
pub struct Counters {
  names: &'static [&'static str],
  values: Mutex<Box<[u64]>>,
}

impl Counters {
  pub fn new(names: &'static [&'static str]) -> Self {
    Self {
      names,
      values: Mutex::new(vec![0; names.len()].into_boxed_slice()),
    }
  }

  /// Replaces every counter at once.
  pub fn publish(&self, tally: &[u64]) {
    let mut values = self.values.lock().unwrap_or_else(|p| p.into_inner());
    let n = values.len().min(tally.len());
    values[..n].copy_from_slice(&tally[..n]);
  }

  /// `(name, value)` pairs in declaration order, all from one published state.
  pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
    let values = self.values.lock().unwrap_or_else(|p| p.into_inner());
    self
      .names
      .iter()
      .copied()
      .zip(values.iter().copied())
      .collect()
  }
}

/// A snapshot as the plain object every `stats()` returns (JSON-serialisable numbers).
pub fn to_object<'o, N: AsRef<str>>(
  env: &Env,
  fields: impl IntoIterator<Item = (N, f64)>,
) -> Result<Object<'o>> {
  let mut obj = Object::new(env)?;
  for (name, value) in fields {
    obj.set(name.as_ref(), value)?;
  }
  Ok(obj)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_tally_is_published_whole() {
    const NAMES: &[&str] = &["lines", "longest"];
    let mut t = Tally::new(NAMES);
    let c = Counters::new(NAMES);
    t.add(0, 2);
    t.raise_to(1, 7);
    t.raise_to(1, 3);
    assert_eq!(c.snapshot(), vec![("lines", 0), ("longest", 0)]);
    c.publish(t.as_slice());
    assert_eq!(c.snapshot(), vec![("lines", 2), ("longest", 7)]);
  }
}
