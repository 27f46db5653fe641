//! A log-linear histogram (HDR-style) for chunk sizes and write latencies: exact below 32, then
//! 16 linear sub-buckets per power of two, so any quantile it reports is within 1/16 (6.25 %) of
//! a value that was really recorded, with the bucket's midpoint halving that on average.
//!
//! Invariants:
//! * `count` is the number of values recorded, `sum` their exact sum, `min`/`max` the exact
//!   extremes; quantiles come from the buckets and are clamped to `[min, max]`.
//! * The bucket vector grows only to the highest bucket used (a meter of 64 KiB chunks needs
//!   224 buckets, a latency histogram up to 10 s in µs about 340), so an idle meter costs
//!   nothing and 10,000 meters stay in the tens of MB at worst.

/// Values below this are their own bucket.
const LINEAR: u64 = 32;
/// Sub-buckets per power of two above `LINEAR`.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;

#[derive(Debug, Clone, Default)]
pub struct Histogram {
  buckets: Vec<u64>,
  count: u64,
  sum: f64,
  min: u64,
  max: u64,
}

/// The bucket of `v`.
fn index_of(v: u64) -> usize {
  if v < LINEAR {
    return v as usize;
  }
  let e = 63 - v.leading_zeros(); // >= 5
  let top = v >> (e - SUB_BITS); // in [SUB, 2 * SUB)
  (LINEAR + u64::from(e - 5) * SUB + (top - SUB)) as usize
}

/// The smallest and largest value that land in bucket `i`.
fn bounds_of(i: usize) -> (u64, u64) {
  let i = i as u64;
  if i < LINEAR {
    return (i, i);
  }
  let e = (i - LINEAR) / SUB + 5;
  let top = (i - LINEAR) % SUB + SUB;
  let shift = e as u32 - SUB_BITS;
  let low = top << shift;
  (low, low + (1u64 << shift) - 1)
}

impl Histogram {
  pub fn record(&mut self, value: f64) {
    // NaN and negatives (a clock read out of order) count as 0 rather than poisoning the sum.
    let v = if value.is_finite() && value > 0.0 {
      value.round() as u64
    } else {
      0
    };
    let i = index_of(v);
    if i >= self.buckets.len() {
      self.buckets.resize(i + 1, 0);
    }
    self.buckets[i] += 1;
    if self.count == 0 || v < self.min {
      self.min = v;
    }
    self.max = self.max.max(v);
    self.count += 1;
    self.sum += v as f64;
  }

  pub fn count(&self) -> u64 {
    self.count
  }

  pub fn sum(&self) -> f64 {
    self.sum
  }

  pub fn max(&self) -> Option<u64> {
    (self.count > 0).then_some(self.max)
  }

  pub fn mean(&self) -> Option<f64> {
    (self.count > 0).then(|| self.sum / self.count as f64)
  }

  /// The value at quantile `q` (0..=1): the midpoint of the bucket holding the ⌈q·count⌉-th
  /// smallest value, clamped to the exact extremes. None when empty.
  pub fn quantile(&self, q: f64) -> Option<f64> {
    if self.count == 0 {
      return None;
    }
    let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (i, &n) in self.buckets.iter().enumerate() {
      seen += n;
      if seen >= rank {
        let (low, high) = bounds_of(i);
        let mid = (low as f64 + high as f64) / 2.0;
        return Some(mid.clamp(self.min as f64, self.max as f64));
      }
    }
    Some(self.max as f64)
  }

  /// How many values are at most `le` (bucket resolution: a bucket counts when its upper bound
  /// is <= `le`, so the answer may be low by the values of one straddling bucket). For
  /// Prometheus's cumulative `_bucket{le}` lines.
  pub fn count_at_most(&self, le: f64) -> u64 {
    self
      .buckets
      .iter()
      .enumerate()
      .take_while(|(i, _)| bounds_of(*i).1 as f64 <= le)
      .map(|(_, n)| n)
      .sum()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn buckets_tile_the_number_line() {
    let mut expected_low = 0;
    for i in 0..900 {
      let (low, high) = bounds_of(i);
      assert_eq!(low, expected_low, "bucket {i}");
      assert_eq!(index_of(low), i);
      assert_eq!(index_of(high), i);
      assert!(high >= low);
      expected_low = high + 1;
    }
  }

  #[test]
  fn quantiles_are_within_the_bucket_error_of_a_naive_oracle() {
    let mut h = Histogram::default();
    let mut values: Vec<u64> = Vec::new();
    let mut x = 12345u64;
    for _ in 0..10_000 {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      let v = x % 1_000_000;
      values.push(v);
      h.record(v as f64);
    }
    values.sort_unstable();
    for q in [0.5, 0.9, 0.99, 1.0] {
      let rank = ((q * values.len() as f64).ceil() as usize).max(1);
      let truth = values[rank - 1] as f64;
      let got = h.quantile(q).unwrap();
      assert!(
        (got - truth).abs() <= truth / 16.0 + 1.0,
        "q{q}: {got} vs {truth}"
      );
    }
    assert_eq!(h.max(), values.last().copied());
    assert_eq!(h.count(), 10_000);
    assert_eq!(h.count_at_most(f64::INFINITY), 10_000);
  }

  #[test]
  fn small_values_are_exact() {
    let mut h = Histogram::default();
    for v in [3.0, 3.0, 7.0] {
      h.record(v);
    }
    assert_eq!(h.quantile(0.5), Some(3.0));
    assert_eq!(h.quantile(1.0), Some(7.0));
    assert_eq!(h.count_at_most(3.0), 2);
    assert_eq!(Histogram::default().quantile(0.5), None);
  }
}
