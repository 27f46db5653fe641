//! Rates a meter reports: the rate over the last interval, an exponentially smoothed rate with a
//! half-life in time (not in samples, so irregular ticks — a late event loop — weigh what they
//! cover), and the extremes of the interval rates for the final summary.
//!
//! Why a half-life: the ETA users trust is the smoothed one (pv#28, progress-stream#5 and #31 in
//! `research/anchors.md` §3.2: a global average "counts upwards" after a burst, a raw window
//! jumps); a half-life says in time units how fast old rates are forgotten.

/// An exponentially weighted moving average of a rate, with its half-life in seconds.
#[derive(Debug, Clone)]
pub struct Ewma {
  half_life_s: f64,
  value: Option<f64>,
}

impl Ewma {
  pub fn new(half_life_s: f64) -> Self {
    debug_assert!(half_life_s > 0.0);
    Self {
      half_life_s,
      value: None,
    }
  }

  /// Folds in `rate`, observed over the last `dt_s` seconds. The first rate is taken as it is.
  pub fn update(&mut self, rate: f64, dt_s: f64) {
    self.value = Some(match self.value {
      None => rate,
      Some(old) => {
        let keep = 0.5f64.powf(dt_s / self.half_life_s);
        rate + (old - rate) * keep
      }
    });
  }

  pub fn value(&self) -> Option<f64> {
    self.value
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn one_half_life_halves_the_distance() {
    let mut e = Ewma::new(2.0);
    e.update(100.0, 1.0);
    e.update(0.0, 2.0);
    assert!((e.value().unwrap() - 50.0).abs() < 1e-9);
    // Two ticks of one second each are one tick of two seconds.
    let mut a = Ewma::new(2.0);
    a.update(100.0, 1.0);
    a.update(0.0, 1.0);
    a.update(0.0, 1.0);
    assert!((a.value().unwrap() - 50.0).abs() < 1e-9);
  }
}
