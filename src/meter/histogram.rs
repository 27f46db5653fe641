//! A log-linear histogram (HDR-style) for chunk sizes and write latencies: exact below 32, then
//! 16 linear sub-buckets per power of two, so any quantile it reports is within 1/16 (6.25 %) of
//! a value that was really recorded, with the bucket's midpoint halving that on average.
//!
//! Invariants:
//! * `count` is the number of values recorded, `sum` their exact sum, `min`/`max` the exact
//!   extremes; quantiles come from the buckets and are clamped to `[min, max]`.
//! * Values at or under each of a few fixed bounds (`with_bounds`: the `le` of the Prometheus
//!   buckets) are also counted exactly, so an exported `le` bucket holds every value equal to its
//!   bound (a 64 KiB chunk is in `le="65536"`), which the log-linear buckets alone cannot tell
//!   from the values just above it.
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
  /// Ascending; `at_bound[j]` counts the values in `(bounds[j - 1], bounds[j]]`.
  bounds: &'static [u64],
  at_bound: Vec<u64>,
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
  /// A histogram that also counts exactly how many values are at most each of `bounds`
  /// (ascending), for `count_at_most`.
  pub fn with_bounds(bounds: &'static [u64]) -> Self {
    debug_assert!(bounds.windows(2).all(|w| w[0] < w[1]));
    Self {
      bounds,
      at_bound: vec![0; bounds.len()],
      ..Self::default()
    }
  }

  pub fn record(&mut self, value: f64) {
    // NaN and negatives (a clock read out of order) count as 0 rather than poisoning the sum.
    let exact = if value.is_finite() && value > 0.0 {
      value
    } else {
      0.0
    };
    let v = exact.round() as u64;
    let i = index_of(v);
    if i >= self.buckets.len() {
      self.buckets.resize(i + 1, 0);
    }
    self.buckets[i] += 1;
    // The value as given, not rounded: a latency of 100.4 µs is above a bound of 100.
    let slot = self.bounds.partition_point(|&b| (b as f64) < exact);
    if let Some(n) = self.at_bound.get_mut(slot) {
      *n += 1;
    }
    if self.count == 0 || v < self.min {
      self.min = v;
    }
    self.max = self.max.max(v);
    self.count += 1;
    self.sum += v as f64;
  }

  /// The bounds `count_at_most` is exact at (`with_bounds`).
  pub fn bounds(&self) -> &'static [u64] {
    self.bounds
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

  /// How many values are at most `le`, for Prometheus's cumulative `_bucket{le}` lines: exact
  /// when `le` is one of the histogram's bounds; otherwise at bucket resolution (a bucket counts
  /// when its upper bound is <= `le`, so the answer may be low by the values of one straddling
  /// bucket).
  pub fn count_at_most(&self, le: u64) -> u64 {
    if let Ok(j) = self.bounds.binary_search(&le) {
      return self.at_bound[..=j].iter().sum();
    }
    self
      .buckets
      .iter()
      .enumerate()
      .take_while(|(i, _)| bounds_of(*i).1 <= le)
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
    assert_eq!(h.count_at_most(u64::MAX), 10_000);
  }

  #[test]
  fn small_values_are_exact() {
    let mut h = Histogram::default();
    for v in [3.0, 3.0, 7.0] {
      h.record(v);
    }
    assert_eq!(h.quantile(0.5), Some(3.0));
    assert_eq!(h.quantile(1.0), Some(7.0));
    assert_eq!(h.count_at_most(3), 2);
    assert_eq!(Histogram::default().quantile(0.5), None);
  }

  #[test]
  fn values_equal_to_a_bound_are_counted_at_that_bound() {
    // 65536 shares its log-linear bucket with 65537..69631: only the exact counts tell them apart.
    const BOUNDS: &[u64] = &[64, 1000, 65536];
    let mut h = Histogram::with_bounds(BOUNDS);
    for v in [
      0.0, 64.0, 65.0, 999.6, 1000.0, 1000.4, 1001.0, 65536.0, 65537.0, 1e9,
    ] {
      h.record(v);
    }
    assert_eq!(h.count_at_most(64), 2);
    // 1000.4 rounds into 1000's bucket but is above the bound.
    assert_eq!(h.count_at_most(1000), 5);
    assert_eq!(h.count_at_most(65536), 8);
    assert_eq!(h.count_at_most(u64::MAX), 10);
    // Between bounds, bucket resolution as before.
    assert_eq!(Histogram::with_bounds(BOUNDS).count_at_most(7), 0);
  }
}
