//! A token bucket on an abstract clock: `rate` units per second flow in, at most `burst` are
//! kept. Pure arithmetic, no time source of its own (the caller passes `now`), so it is tested
//! without waiting.
//!
//! Invariants:
//! * Idle time never banks more than `burst` (no catch-up burst after a pause); only the
//!   one-time `initial` fill may exceed it, and it is never topped up.
//! * A request for `amount` may go once the bucket holds `min(amount, burst)`: an item that costs
//!   more than the whole burst goes when the bucket is full and leaves it in debt, so its wait is
//!   proportional to its cost and the long-run rate still holds.
//! * An infinite rate is an unlimited bucket: every request may go at once.
//! * Tokens a waiting request earns after the moment it was due, while its wake-up is late, are
//!   not lost to the cap: they are kept as *credit* beside the bucket for a short while
//!   (`refill_late`), so lateness does not add up into a lower rate when the burst is small
//!   (a 5,000/s throttle with burst 1, woken every 200 µs plus a round trip to JS, passed 0.7× its
//!   rate). Credit never outlives its deadline, so idle time still banks at most `burst`, and
//!   what one wake-up leaves unused adds to the next one's only up to a limit the caller gives.

use crate::clock::Nanos;

/// Tolerance for float rounding when comparing token counts (a deadline computed for exactly
/// `need` tokens must find them).
const EPSILON: f64 = 1e-6;

#[derive(Debug, Clone)]
pub struct TokenBucket {
  rate: f64,
  burst: f64,
  tokens: f64,
  at: Nanos,
  /// Tokens earned past a waiting request's due time, beyond the cap; usable until `credit_until`.
  credit: f64,
  credit_until: Nanos,
}

impl TokenBucket {
  pub fn new(rate: f64, burst: f64, initial: f64, now: Nanos) -> Self {
    Self {
      rate,
      burst,
      tokens: initial,
      at: now,
      credit: 0.0,
      credit_until: 0,
    }
  }

  pub fn rate(&self) -> f64 {
    self.rate
  }

  pub fn burst(&self) -> f64 {
    self.burst
  }

  pub fn tokens(&self) -> f64 {
    if self.unlimited() {
      self.burst
    } else {
      self.tokens + self.credit
    }
  }

  pub fn unlimited(&self) -> bool {
    self.rate.is_infinite()
  }

  /// Adds what flowed in since the last call.
  pub fn refill(&mut self, now: Nanos) {
    if now <= self.at {
      return;
    }
    if now > self.credit_until {
      self.credit = 0.0;
    }
    if self.tokens < self.burst {
      let earned = self.rate * (now - self.at) as f64 / 1e9;
      self.tokens = (self.tokens + earned).min(self.burst);
    }
    self.at = now;
  }

  /// `refill(now)` for a bucket whose waiting request was due at `due`: what it earned after
  /// `due` and the cap would drop becomes credit, usable until `keep_until` (then dropped: see
  /// the module's invariants). Credit an earlier call left unused (the request waited on
  /// something else meanwhile, or ended before it used it all) is kept up to `carry` of rate: added
  /// in full, two wake-ups' lateness went at once (a group member's cap of 500 KB/s with burst 1
  /// released 977 bytes at a time, two milliseconds of its rate, beside a member writing 16 KiB
  /// chunks); dropped, a capped member whose chunks end between wake-ups lost the rest of each
  /// wake-up's credit (0.83x of its cap in 1,000-byte writes beside an uncapped member).
  pub fn refill_late(&mut self, now: Nanos, due: Nanos, keep_until: Nanos, carry: Nanos) {
    if self.unlimited() || due >= now {
      self.refill(now);
      return;
    }
    self.refill(due);
    let from = self.at.max(due);
    let before = self.tokens;
    self.refill(now);
    let earned = self.rate * now.saturating_sub(from) as f64 / 1e9;
    let dropped = earned - (self.tokens - before);
    if dropped > 0.0 {
      self.credit = self.credit.min(self.rate * carry as f64 / 1e9) + dropped;
      self.credit_until = keep_until;
    }
  }

  fn need(&self, amount: f64) -> f64 {
    amount.min(self.burst)
  }

  /// May a request for `amount` go now? (Call `refill` first.)
  pub fn ready(&self, amount: f64) -> bool {
    self.unlimited() || self.tokens + self.credit + EPSILON >= self.need(amount)
  }

  /// Takes from the credit first (it expires), then from the bucket.
  pub fn take(&mut self, amount: f64) {
    if !self.unlimited() {
      let from_credit = amount.min(self.credit);
      self.credit -= from_credit;
      self.tokens -= amount - from_credit;
    }
  }

  /// When a request for `amount` may go (after the last `refill`).
  pub fn ready_at(&self, amount: f64) -> Nanos {
    let missing = self.need(amount) - self.tokens - self.credit;
    if missing <= 0.0 || self.unlimited() {
      return self.at;
    }
    // Rounded up: waking a hair early would only re-arm. Saturating (a rate of 1e-300 waits
    // "forever"): the float-to-int cast saturates, and so does the sum.
    self
      .at
      .saturating_add((missing / self.rate * 1e9).ceil() as Nanos)
  }

  /// Changes rate and burst from `now` on: what flowed in so far counts at the old rate, and the
  /// bucket keeps its tokens (at most the new burst, but an initial fill above the burst that
  /// has not been used yet stays: it is given once, and a `setRate` before the first write,
  /// even to the same rate, cut it to the burst).
  pub fn set_rate(&mut self, rate: f64, burst: f64, now: Nanos) {
    self.refill(now);
    if self.unlimited() {
      // From unlimited to limited: start full, as a new bucket does.
      self.tokens = burst;
    }
    // Only an initial fill puts tokens above the burst.
    let above_burst = if self.tokens > self.burst {
      self.tokens
    } else {
      0.0
    };
    self.rate = rate;
    self.burst = burst;
    self.tokens = self.tokens.min(burst.max(above_burst));
    self.credit = 0.0;
    self.at = now;
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const SEC: Nanos = 1_000_000_000;

  #[test]
  fn idle_time_banks_at_most_the_burst() {
    let mut b = TokenBucket::new(100.0, 10.0, 0.0, 0);
    b.refill(60 * SEC);
    assert_eq!(b.tokens(), 10.0);
  }

  #[test]
  fn the_initial_fill_may_exceed_the_burst_once() {
    let mut b = TokenBucket::new(100.0, 10.0, 50.0, 0);
    b.refill(SEC);
    assert_eq!(b.tokens(), 50.0);
    b.take(45.0);
    b.refill(2 * SEC);
    assert_eq!(b.tokens(), 10.0);
  }

  #[test]
  fn a_request_waits_exactly_for_its_missing_tokens() {
    let mut b = TokenBucket::new(1000.0, 100.0, 0.0, 0);
    assert!(!b.ready(50.0));
    let at = b.ready_at(50.0);
    assert_eq!(at, 50_000_000);
    b.refill(at);
    assert!(b.ready(50.0));
  }

  #[test]
  fn an_item_costing_more_than_the_burst_waits_in_proportion() {
    let mut b = TokenBucket::new(10.0, 1.0, 1.0, 0);
    assert!(b.ready(30.0));
    b.take(30.0);
    // 29 units of debt, then one more for the next item: 3 s at 10/s.
    assert_eq!(b.ready_at(1.0), 3 * SEC);
  }

  #[test]
  fn fractional_rates_release_whole_items() {
    let mut b = TokenBucket::new(0.5, 1.0, 0.0, 0);
    assert_eq!(b.ready_at(1.0), 2 * SEC);
    b.refill(2 * SEC);
    assert!(b.ready(1.0));
  }

  #[test]
  fn an_initial_fill_above_the_burst_outlives_a_set_rate_until_used() {
    let mut b = TokenBucket::new(10.0, 5.0, 100.0, 0);
    b.set_rate(10.0, 5.0, SEC);
    assert_eq!(b.tokens(), 100.0);
    b.take(98.0);
    // Used: what is left is within the burst again, and a lower burst cuts it as usual.
    b.set_rate(10.0, 1.0, SEC);
    assert_eq!(b.tokens(), 1.0);
    // A full bucket of the old burst is cut to a new, smaller one.
    let mut full = TokenBucket::new(10.0, 50.0, 50.0, 0);
    full.set_rate(10.0, 5.0, SEC);
    assert_eq!(full.tokens(), 5.0);
  }

  #[test]
  fn set_rate_counts_the_past_at_the_old_rate() {
    let mut b = TokenBucket::new(10.0, 100.0, 0.0, 0);
    b.set_rate(1000.0, 100.0, SEC);
    assert!((b.tokens() - 10.0).abs() < 1e-9);
    b.refill(SEC + SEC / 100);
    assert!((b.tokens() - 20.0).abs() < 1e-9);
  }

  #[test]
  fn a_late_wake_up_keeps_what_the_cap_would_drop_as_credit_for_a_while() {
    // 1,000/s, burst 1: a request due at 1 ms, woken at 3 ms. The cap keeps 1; the 2 earned late
    // become credit, until 8 ms.
    let mut b = TokenBucket::new(1000.0, 1.0, 0.0, 0);
    assert_eq!(b.ready_at(1.0), SEC / 1000);
    b.refill_late(3 * SEC / 1000, SEC / 1000, 8 * SEC / 1000, 0);
    assert!((b.tokens() - 3.0).abs() < 1e-9);
    b.take(1.0);
    b.take(1.0);
    assert!(b.ready(1.0));
    b.take(1.0);
    assert!(!b.ready(1.0));
    // Credit not used in time is dropped: idle time still banks at most the burst.
    let mut b = TokenBucket::new(1000.0, 1.0, 0.0, 0);
    b.refill_late(10 * SEC / 1000, SEC / 1000, 15 * SEC / 1000, 0);
    assert!((b.tokens() - 10.0).abs() < 1e-9);
    b.refill(16 * SEC / 1000);
    assert!((b.tokens() - 1.0).abs() < 1e-9);
    // Woken on time (or early): no credit.
    let mut b = TokenBucket::new(1000.0, 1.0, 0.0, 0);
    b.refill_late(SEC / 1000, SEC / 1000, SEC, 0);
    assert!((b.tokens() - 1.0).abs() < 1e-9);
  }

  #[test]
  fn credit_left_unused_is_carried_up_to_the_limit_given() {
    // 1,000/s, burst 1, full and due at 0, woken 3 ms late: 3 of credit. Nothing taken (the
    // request waited on another bucket), then woken 3 ms late again: 3 more, and of the 3 left
    // only `carry` (1 ms of rate: 1). It was added in full: 7 at once, two wake-ups' lateness.
    const MS: Nanos = SEC / 1000;
    let mut b = TokenBucket::new(1000.0, 1.0, 1.0, 0);
    b.refill_late(3 * MS, 0, 8 * MS, MS);
    assert!((b.tokens() - 4.0).abs() < 1e-9);
    b.refill_late(6 * MS, 3 * MS, 11 * MS, MS);
    assert!((b.tokens() - 5.0).abs() < 1e-9, "{}", b.tokens());
    // Without a carry, only the last wake-up's lateness.
    let mut b = TokenBucket::new(1000.0, 1.0, 1.0, 0);
    b.refill_late(3 * MS, 0, 8 * MS, 0);
    b.refill_late(6 * MS, 3 * MS, 11 * MS, 0);
    assert!((b.tokens() - 4.0).abs() < 1e-9);
  }

  #[test]
  fn an_unlimited_bucket_never_waits() {
    let mut b = TokenBucket::new(f64::INFINITY, 1.0, 0.0, 0);
    assert!(b.ready(1e12));
    b.take(1e12);
    assert!(b.ready(1e12));
    assert_eq!(b.ready_at(5.0), 0);
  }
}
