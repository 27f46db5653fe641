//! A throttle group: one token bucket shared by its members, and the fair order in which
//! waiting members are served. A standalone `Throttle` is a group of one, so there is one code
//! path for both.
//!
//! Fairness is start-time fair queueing over *pieces*: a waiting byte request is served in
//! pieces of at most `piece` bytes (about 5 ms of the member's share, at least 1 KiB and at most
//! the burst), and each piece gets a start tag `max(V, F)` (`V`: the tag of the piece served
//! last, `F`: the member's previous finish tag) and a finish tag `start + piece / weight`.
//! Pieces go in start-tag order. So equal active members take turns and finish together, a
//! member with weight 2 gets twice the share, and a member that was idle starts at `V` instead
//! of claiming the share it did not use. As each member has one chunk in the throttle at a time,
//! a member whose chunk just passed and that has more written is briefly waited for by those
//! well ahead of it (`anticipated`), or the tokens went to whoever asked first.
//!
//! Invariants:
//! * All state is behind one mutex (`GroupCore::state`); the group runs as a runtime job
//!   (`run_slice`) when its next deadline comes, and inline on the JS thread when a member asks
//!   (`acquire`, `poke`). Grants for a member go to its environment's hub (`transport::hub`),
//!   except those made inside the member's own `acquire`, which it returns.
//! * A member's own rate cap is a second bucket: a piece goes only when both have the tokens.
//!   Waiting on either, the timer wakes no sooner than `MIN_WAKE`, however small the burst, and
//!   what a late wake-up earned is credited to the bucket (`credit_lateness`): no rate is lost.
//! * Tokens are taken when a piece is granted, on whichever thread computes it, against the
//!   absolute clock: a late JS event loop delays when a release is *seen*, never when the next
//!   one is computed, so lateness does not add up into a lower rate.
//! * A member whose environment is gone (`Hub::is_closed`) loses its request, so a shared group
//!   never waits on a member that cannot take.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use super::bucket::TokenBucket;
use crate::clock::{Clock, Nanos};
use crate::runtime::{Job, Next, Schedule};
use crate::transport::hub::Hub;

/// The signal kind that carries a grant (`lib/throttle.js` has the same).
pub const SIGNAL_GRANT: u32 = 1;

/// A waiting request is woken no sooner than this after it began to wait: the bucket fills
/// meanwhile and the release carries more, so a fast stream of small items (100,000 objects/s)
/// costs 200 round trips a second, not one per item. Well under the 100 ms burst, so the rate
/// holds.
const MIN_WAIT: Nanos = 5_000_000;
/// How far behind the group's virtual time a member waiting for its own cap may stay, in
/// seconds of its cap's rate (plus one piece): enough not to lose its turns while the others
/// keep the group busy, too little to take the whole rate for long once its cap is lifted.
const CAP_LAG_S: f64 = 0.05;
/// The shortest wait between two wake-ups of a group's timer, however small the burst of the
/// bucket it waits on (see `credited_min_wait`).
const MIN_WAKE: Nanos = 1_000_000;
/// The most lateness of a wake-up that `credit_lateness` credits: a busy timer thread is late by
/// milliseconds, and that is what the credit makes up for. A wake-up seconds late is a process
/// that was stopped (Ctrl-Z, SIGSTOP), suspended or starved: crediting all of it released the
/// whole stop's worth at once (`sluice --rate 100kB/s` stopped for 3 s: 301,056 bytes within
/// 3 ms), where the rest of that time is idle time, which banks at most the burst.
const MAX_CREDITED_LATENESS: Nanos = 50_000_000;
/// A member whose last request was completed this long before its next `acquire` was held by a
/// late turn of its event loop (or wrote nothing meanwhile): see `catch_up_limit`. The timer's
/// own cadence (`MIN_WAIT`) does not count as late.
const LATE_TURN: Nanos = 2 * MIN_WAIT;
/// How long after its request was completed a member is expected back with its next one (see
/// `anticipated`): a writer's next chunk follows its grant within a turn of its event loop.
const ANTICIPATE: Nanos = MIN_WAIT;
/// How many of a pass's grants `serve` looks back through for the member's own (see there).
const MERGE_LOOKBACK: usize = 8;
/// A byte request waits in pieces of about this much time at the member's share. The trade:
/// releases on a grid of T ms put at most one late piece more than expected into any window, so
/// a 100 ms window carries at most (100/T + 1) pieces: 1.05x at 5 ms (8 ms measured 1.12x);
/// every piece is a round trip to JS, so CPU grows as T shrinks (peers release every 100 ms, at
/// 2x in a 100 ms window). `chunkSize` lets a user choose otherwise.
const PIECE_TIME_S: f64 = 0.005;
const MIN_PIECE_BYTES: f64 = 1024.0;

struct Request {
  remaining: f64,
  /// Bytes: served in pieces. Items: whole.
  splittable: bool,
  /// When it began to wait (None: not waiting yet).
  since: Option<Nanos>,
}

pub struct MemberConfig {
  pub weight: f64,
  /// The member's own rate cap: (rate, burst, initial tokens); None or an infinite rate: no cap.
  pub cap: Option<(f64, f64, f64)>,
  /// The cap's burst was given by the caller (kept by a later `setRate` without one).
  pub cap_burst_given: bool,
  /// The most bytes released at once while waiting; None: about 5 ms of the member's share.
  pub piece: Option<f64>,
}

struct Member {
  hub: Arc<Hub>,
  target: u32,
  weight: f64,
  cap: Option<TokenBucket>,
  /// The cap's burst a caller set explicitly (see `burst_after`).
  explicit_burst: Option<f64>,
  piece: Option<f64>,
  paused: bool,
  request: Option<Request>,
  /// Start tag of the member's next piece, fixed when it joins the queue.
  start: f64,
  finish: f64,
  /// Bumped whenever the member's queue entry becomes stale.
  generation: u64,
  queued: bool,
  units: f64,
  waited: Nanos,
  throttled: u64,
  /// When it was last granted a piece, and when a request of its was last completed by a signal
  /// (see `catch_up_limit`).
  granted_at: Option<Nanos>,
  done_at: Option<Nanos>,
  /// Its finish tag at `done_at`.
  done_tag: f64,
  /// The late turn (`Turn::at`) it is catching up in, if any: a catch-up lasts that turn, and a
  /// member is late again only after another request of its was completed by a signal.
  catching_up: Option<Nanos>,
  /// Its entry in `State::back`, renewed at each completion (see `anticipated`).
  back_gen: u64,
  /// Its writer had more written behind its current request when it asked.
  backlogged: bool,
}

/// A member's counters, read by `stats()`.
pub struct MemberStats {
  pub units: f64,
  pub waited_ms: f64,
  pub throttled: f64,
  pub tokens: f64,
  pub rate: f64,
  pub burst: f64,
  pub pending: f64,
}

pub struct GroupStats {
  pub units: f64,
  pub tokens: f64,
  pub rate: f64,
  pub burst: f64,
  pub members: f64,
  pub waiting: f64,
}

pub enum Acquired {
  /// Units granted now (the rest, if any, comes as grant signals).
  Granted(f64),
  /// Enforce mode: upstream is faster than the rate.
  RateExceeded,
  /// Enforce mode: the item costs more than the burst, so it could never pass.
  CostExceedsBurst,
}

struct State {
  bucket: TokenBucket,
  members: Vec<Option<Member>>,
  free: Vec<usize>,
  /// Waiting members by (start tag bits, generation, key); stale entries are skipped.
  queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
  /// Queue entries of members waiting only for their own cap, set aside with their tags: they
  /// keep their place, and go back in the queue at the next `serve`.
  capped: Vec<(u64, u64, usize)>,
  vtime: f64,
  /// Members (`Some` entries of `members`).
  count: usize,
  /// The tokens the bucket started with (a shared group's later callers compare).
  initial: f64,
  /// The deadline a timer is armed for, if any.
  armed: Option<Nanos>,
  /// When the head of the queue (this member key) was due to have its tokens, as of the last
  /// `arm`: a timer that fires later credits what the lateness earned (`TokenBucket::refill_late`).
  due: Option<(Nanos, usize)>,
  /// The same for members' own caps (`next_wake` says which).
  cap_dues: Vec<(Nanos, usize)>,
  /// Members with a rate cap of their own: without any, `next_wake` need not look through the
  /// queue for caps.
  with_caps: usize,
  units: f64,
  /// The burst a caller set explicitly (see `burst_after`): here, under the group's lock, not in
  /// one JS object, as every handle of a shared group (other `shared(name)` callers, workers)
  /// changes the same group, and a `setRate` must read and write it in one step.
  explicit_burst: Option<f64>,
  /// The last late turn's survey of the active members (see `catch_up_limit`).
  turn: Option<Turn>,
  /// Members whose request was just completed, by finish tag, generation (`Member::back_gen`)
  /// and key: expected back with their next one (`anticipated`); stale entries are skipped.
  back: BinaryHeap<Reverse<(u64, u64, usize)>>,
}

/// The burst a `setRate` leaves, the one rule for groups, lone Throttles and members' caps: the
/// burst given (kept for later calls), else the one given before (made with, or an earlier
/// `setRate` with one), else `default` (100 ms of the new rate, `lib/throttle.js` computes it).
fn burst_after(explicit: &mut Option<f64>, given: Option<f64>, default: f64) -> f64 {
  if given.is_some() {
    *explicit = given;
  }
  explicit.unwrap_or(default)
}

pub struct GroupCore {
  schedule: Schedule,
  clock: Clock,
  me: Weak<GroupCore>,
  state: Mutex<State>,
}

type Grants = Vec<(Arc<Hub>, u32, f64)>;

impl GroupCore {
  /// `burst_given`: the caller chose `burst` (kept by a later `setRate` without one).
  pub fn new(rate: f64, burst: f64, initial: f64, burst_given: bool, clock: Clock) -> Arc<Self> {
    let now = clock.now();
    Arc::new_cyclic(|me| Self {
      schedule: Schedule::new(),
      clock,
      me: me.clone(),
      state: Mutex::new(State {
        bucket: TokenBucket::new(rate, burst, initial, now),
        members: Vec::new(),
        free: Vec::new(),
        queue: BinaryHeap::new(),
        capped: Vec::new(),
        vtime: 0.0,
        count: 0,
        initial,
        armed: None,
        due: None,
        cap_dues: Vec::new(),
        with_caps: 0,
        units: 0.0,
        explicit_burst: burst_given.then_some(burst),
        turn: None,
        back: BinaryHeap::new(),
      }),
    })
  }

  fn lock(&self) -> MutexGuard<'_, State> {
    // Every update below is completed before anything that could panic; a poisoned lock holds
    // consistent numbers.
    self.state.lock().unwrap_or_else(|p| p.into_inner())
  }

  /// A caller of a shared group that exists asked for the burst it has (`burst`, as `config()`
  /// read it): a later `setRate` without one keeps it, as if the group had been made with it.
  /// Checked and set in one step: if the burst is no longer that one (another caller's
  /// `setRate` since), nothing changes.
  pub fn keep_burst(&self, burst: f64) -> bool {
    let mut state = self.lock();
    // The very number `config()` returned, not one compared with a tolerance.
    #[allow(clippy::float_cmp)]
    let current = state.bucket.burst() == burst;
    if current {
      state.explicit_burst = Some(burst);
    }
    current
  }

  /// (rate, burst, initial tokens it was made with).
  pub fn config(&self) -> (f64, f64, f64) {
    let state = self.lock();
    (state.bucket.rate(), state.bucket.burst(), state.initial)
  }

  pub fn join(&self, hub: Arc<Hub>, target: u32, config: MemberConfig) -> usize {
    let now = self.clock.now();
    let member = Member {
      hub,
      target,
      weight: config.weight,
      cap: config
        .cap
        .filter(|(rate, _, _)| rate.is_finite())
        .map(|(rate, burst, initial)| TokenBucket::new(rate, burst, initial, now)),
      explicit_burst: config
        .cap
        .filter(|_| config.cap_burst_given)
        .map(|(_, burst, _)| burst),
      piece: config.piece,
      paused: false,
      request: None,
      start: 0.0,
      finish: 0.0,
      generation: fresh_generation(),
      queued: false,
      units: 0.0,
      waited: 0,
      throttled: 0,
      granted_at: None,
      done_at: None,
      done_tag: 0.0,
      catching_up: None,
      back_gen: 0,
      backlogged: false,
    };
    let mut state = self.lock();
    state.count += 1;
    state.with_caps += usize::from(member.cap.is_some());
    match state.free.pop() {
      Some(key) => {
        state.members[key] = Some(member);
        key
      }
      None => {
        state.members.push(Some(member));
        state.members.len() - 1
      }
    }
  }

  /// The member is gone (its stream was collected or destroyed for good).
  pub fn leave(&self, key: usize) {
    let mut state = self.lock();
    if let Some(member) = state.members.get_mut(key).and_then(Option::take) {
      state.with_caps -= usize::from(member.cap.is_some());
      state.count -= 1;
      state.free.push(key);
      state.capped.retain(|(_, _, k)| *k != key);
    }
  }

  /// A member asks for `cost` units. Returns what it gets now; the rest comes as grants.
  /// `backlogged`: more is written behind this request (see `anticipated`).
  pub fn acquire(
    &self,
    key: usize,
    cost: f64,
    splittable: bool,
    enforce: bool,
    backlogged: bool,
  ) -> Acquired {
    let now = self.clock.now();
    let mut grants = Grants::new();
    let mut own = 0.0;
    {
      let mut state = self.lock();
      let s = &mut *state;
      if enforce {
        if let Some(refused) = enforce_check(s, key, cost, now) {
          return refused;
        }
      }
      let Some(member) = s.members.get_mut(key).and_then(Option::as_mut) else {
        return Acquired::Granted(0.0);
      };
      member.request = Some(Request {
        remaining: cost,
        splittable,
        since: None,
      });
      // A writer told to wait for 'drain' writes the first chunk after it alone (nothing behind
      // it yet): a member that was backlogged and is back this soon still is.
      let back_soon = member
        .granted_at
        .is_some_and(|at| now.saturating_sub(at) < ANTICIPATE);
      member.backlogged = backlogged || (member.backlogged && back_soon);
      // Before this pass refills the waiting buckets up to their bursts (see `credit_lateness`).
      credit_lateness(s, now);
      enqueue(s, key);
      self.serve(s, now, &mut grants, Some((key, &mut own)));
      if let Some(member) = s.members.get_mut(key).and_then(Option::as_mut) {
        if let Some(request) = member.request.as_mut() {
          request.since = Some(now);
          member.throttled += 1;
        }
      }
      self.arm(s, now);
    }
    send(grants);
    Acquired::Granted(own)
  }

  /// The member stops waiting (destroy); its request is dropped.
  pub fn cancel(&self, key: usize) {
    let now = self.clock.now();
    let mut state = self.lock();
    if let Some(member) = state.members.get_mut(key).and_then(Option::as_mut) {
      // The time it waited so far still counts (stats' waitedMs never goes back).
      if let Some(since) = member.request.take().and_then(|r| r.since) {
        member.waited += now.saturating_sub(since);
      }
      member.generation = fresh_generation();
      member.queued = false;
    }
    state.capped.retain(|(_, _, k)| *k != key);
  }

  pub fn set_paused(&self, key: usize, paused: bool) {
    {
      let mut state = self.lock();
      let s = &mut *state;
      let Some(member) = s.members.get_mut(key).and_then(Option::as_mut) else {
        return;
      };
      if member.paused == paused {
        return;
      }
      member.paused = paused;
      if paused {
        member.generation = fresh_generation();
        member.queued = false;
        s.capped.retain(|(_, _, k)| *k != key);
      } else {
        enqueue(s, key);
      }
    }
    self.poke();
  }

  /// The group's rate from now on, and its burst (`burst_after` of the one `given` and `default`).
  pub fn set_rate(&self, rate: f64, given: Option<f64>, default: f64) {
    let now = self.clock.now();
    {
      let mut state = self.lock();
      let s = &mut *state;
      let burst = burst_after(&mut s.explicit_burst, given, default);
      s.bucket.set_rate(rate, burst, now);
    }
    self.poke();
  }

  /// A member's own cap from now on (an infinite rate removes it; a burst given is still kept
  /// for a later finite one).
  pub fn set_member_rate(&self, key: usize, rate: f64, given: Option<f64>, default: f64) {
    let now = self.clock.now();
    {
      let mut state = self.lock();
      let s = &mut *state;
      let Some(member) = s.members.get_mut(key).and_then(Option::as_mut) else {
        return;
      };
      let burst = burst_after(&mut member.explicit_burst, given, default);
      let had_cap = member.cap.is_some();
      member.cap = match member.cap.take() {
        _ if rate.is_infinite() => None,
        Some(mut cap) => {
          cap.set_rate(rate, burst, now);
          Some(cap)
        }
        None => Some(TokenBucket::new(rate, burst, burst, now)),
      };
      s.with_caps = s.with_caps + usize::from(member.cap.is_some()) - usize::from(had_cap);
    }
    self.poke();
  }

  /// The member's rate and burst: its cap if it has one, else the group's.
  pub fn member_config(&self, key: usize) -> (f64, f64) {
    let state = self.lock();
    match state
      .members
      .get(key)
      .and_then(Option::as_ref)
      .and_then(|m| m.cap.as_ref())
    {
      Some(cap) => (cap.rate(), cap.burst()),
      None => (state.bucket.rate(), state.bucket.burst()),
    }
  }

  pub fn member_stats(&self, key: usize) -> Option<MemberStats> {
    let now = self.clock.now();
    let mut state = self.lock();
    let s = &mut *state;
    s.bucket.refill(now);
    let group_tokens = s.bucket.tokens();
    let (group_rate, group_burst) = (s.bucket.rate(), s.bucket.burst());
    let member = s.members.get_mut(key).and_then(Option::as_mut)?;
    let waiting_now = member
      .request
      .as_ref()
      .and_then(|r| r.since)
      .map_or(0, |since| now.saturating_sub(since));
    let (tokens, rate, burst) = match member.cap.as_mut() {
      Some(cap) => {
        cap.refill(now);
        // An unthrottled group's bucket (rate Infinity, a nominal token) limits nothing: the
        // cap's own tokens are what the member may take at once.
        let tokens = if group_rate.is_infinite() {
          cap.tokens()
        } else {
          cap.tokens().min(group_tokens)
        };
        (tokens, cap.rate(), cap.burst())
      }
      None => (group_tokens, group_rate, group_burst),
    };
    Some(MemberStats {
      units: member.units,
      waited_ms: (member.waited + waiting_now) as f64 / 1e6,
      throttled: member.throttled as f64,
      tokens,
      rate,
      burst,
      pending: member.request.as_ref().map_or(0.0, |r| r.remaining),
    })
  }

  pub fn stats(&self) -> GroupStats {
    let now = self.clock.now();
    let mut state = self.lock();
    state.bucket.refill(now);
    let members = state.members.iter().flatten();
    let waiting = members.clone().filter(|m| m.request.is_some()).count();
    GroupStats {
      units: state.units,
      tokens: state.bucket.tokens(),
      rate: state.bucket.rate(),
      burst: state.bucket.burst(),
      members: members.count() as f64,
      waiting: waiting as f64,
    }
  }

  /// Serves what can be served now: inline if the group is idle, else on the pool.
  pub fn poke(&self) {
    if let Some(me) = self.me.upgrade() {
      crate::clock::run_now(me);
    }
  }

  /// Grants pieces in start-tag order while the buckets allow. `own`: the member asking, on the
  /// JS thread; its grant is returned instead of signalled, and one piece at most is granted.
  fn serve(
    &self,
    s: &mut State,
    now: Nanos,
    grants: &mut Grants,
    mut own: Option<(usize, &mut f64)>,
  ) {
    s.bucket.refill(now);
    // Members that were waiting for their cap get another look, in their old place (leaving
    // for a cap is not being idle: re-entering at the current virtual time would cost a capped
    // member a turn every time, and it got half its cap while the group was busy), but never
    // more than one piece and CAP_LAG_S of its cap behind the current virtual time: a member its
    // cap holds below its share falls further behind with every piece the others take, and once
    // the cap was lifted (or the group's rate fell below it) it was owed all that lag and took
    // the whole rate until it caught up (4 s of nothing for the other member after 5 s of a
    // 100/s cap in a 4,000/s group).
    for (start_bits, generation, key) in std::mem::take(&mut s.capped) {
      let mut start = f64::from_bits(start_bits);
      if let Some(member) = s.members.get_mut(key).and_then(Option::as_mut) {
        let piece = piece_for(&s.bucket, member).unwrap_or(0.0);
        let cap_rate = member.cap.as_ref().map_or(0.0, TokenBucket::rate);
        let behind = (piece + cap_rate * CAP_LAG_S) / member.weight;
        if member.generation == generation && start < s.vtime - behind {
          start = s.vtime - behind;
          member.start = start;
        }
      }
      s.queue.push(Reverse((start.to_bits(), generation, key)));
    }
    let catch_up = own
      .as_ref()
      .and_then(|(key, _)| catch_up_limit(s, *key, now));
    // Past the asking member's first piece of a catch-up: only its own pieces go on.
    let mut own_only = false;
    let mut capped = Vec::new();
    while let Some(&Reverse(entry)) = s.queue.peek() {
      let (_, generation, key) = entry;
      let Some(member) = s.members.get_mut(key).and_then(Option::as_mut) else {
        s.queue.pop();
        continue;
      };
      if member.generation != generation || !member.queued {
        s.queue.pop();
        continue;
      }
      let own_turn = matches!(&own, Some((k, _)) if *k == key);
      if own_only && !own_turn {
        // A catch-up is the asking member's own: the others' turns are the timer's.
        break;
      }
      let catch_up_own = catch_up.filter(|_| own_turn);
      if member.hub.is_closed() {
        s.queue.pop();
        member.request = None;
        member.queued = false;
        continue;
      }
      if member.request.is_none() {
        s.queue.pop();
        member.queued = false;
        continue;
      }
      // A member whose pieces start more than `ANTICIPATE` of the group's rate (`lead`, in its
      // tag's units) past the tag another member will take when it comes back with its next
      // chunk, which it is about to write (its last one was just completed), waits for it:
      // tokens there are now do not go to whoever asks first. Each member writes one chunk at a
      // time, so the queue seldom holds two; without this, two members of a 1 MB/s group writing
      // 1,000-byte chunks at weights 1:3 shared 1:1.17. The lead bounds how far a member runs
      // ahead, so shares still come out by weight, while a member that writes a little often
      // (at the virtual time) does not hold the others to its pace, nor a small-chunk writer
      // wait at every chunk (both cost the group its rate, or CPU). Never while the bucket holds
      // a lead's worth more than this piece (the member expected is not taking them), nor in a
      // catch-up (its own limit), nor without a group budget: the bucket keeps the tokens.
      let mut piece = piece_for(&s.bucket, member).unwrap_or(0.0);
      let mut expected = None;
      if catch_up.is_none() && s.count > 1 && !s.bucket.unlimited() {
        let (start, weight) = (member.start, member.weight);
        let lead = s.bucket.rate() * ANTICIPATE as f64 / 1e9;
        // Tokens piling up say the member expected is not taking them: at 20 ms of rate past
        // this piece, or half the burst when that is less (a burst smaller than that never
        // holds it: a light writer, backlogged behind the others, held them to its pace).
        if s.bucket.tokens() < (piece + 4.0 * lead).min(s.bucket.burst() / 2.0) {
          expected = anticipated(s, now);
          if expected.is_some_and(|next| start > next + lead / weight) {
            break;
          }
        }
      }
      let Some(member) = s.members.get_mut(key).and_then(Option::as_mut) else {
        unreachable!("checked at the top of the pass");
      };
      if let (Some(c), Some(request)) = (catch_up_own, member.request.as_ref()) {
        if request.splittable && piece > 0.0 {
          // All that the catch-up allows in one grant, in whole pieces, not piece by piece (a
          // `chunkSize` of 1 byte at 100 MB/s made one write take 5,000,000 turns of this loop).
          // A cap's tokens as of its last refill: it only ever has more.
          let cap_tokens = member
            .cap
            .as_ref()
            .map_or(f64::INFINITY, TokenBucket::tokens);
          let room = ((c.limit - member.start) * member.weight)
            .min(s.bucket.tokens())
            .min(cap_tokens);
          let merged = if room >= request.remaining {
            request.remaining
          } else {
            (room / piece).floor() * piece
          };
          piece = piece.max(merged);
        }
      }
      if let Some(cap) = member.cap.as_mut() {
        cap.refill(now);
        if !cap.ready(piece) {
          // Only this member waits; others may go on.
          s.queue.pop();
          capped.push(entry);
          continue;
        }
      }
      if !s.bucket.ready(piece) {
        break;
      }
      let (piece, cut_by_cap) = grown_piece(&s.bucket, member, piece);
      s.queue.pop();
      s.bucket.take(piece);
      if let Some(cap) = member.cap.as_mut() {
        cap.take(piece);
      }
      let start = member.start;
      // A member catching up (see `catch_up_limit`) takes the virtual time no further than the
      // other active members' lowest tag: those whose writes come later in the same turn were
      // not idle, and start from their own tags, not from where this one ran ahead to.
      // Nor past the tag of a member expected back (`anticipated`): it re-enters at the virtual
      // time, and would lose the lead the member served now took on it.
      let ceiling = catch_up.map_or(f64::INFINITY, |c| c.others);
      s.vtime = s
        .vtime
        .max(start.min(ceiling).min(expected.unwrap_or(f64::INFINITY)));
      member.finish = start + piece / member.weight;
      member.units += piece;
      s.units += piece;
      member.granted_at = Some(now);
      let request = member.request.as_mut().expect("checked above");
      request.remaining -= piece;
      let done = request.remaining <= 0.0;
      if done {
        if let Some(since) = request.since {
          member.waited += now.saturating_sub(since);
        }
        member.request = None;
        member.queued = false;
        if s.count > 1 && member.backlogged && !s.bucket.unlimited() {
          member.back_gen = fresh_generation();
          s.back.push(Reverse((
            member.finish.max(0.0).to_bits(),
            member.back_gen,
            key,
          )));
        }
        // Only a completion JS hears of later, by signal: one in the member's own `acquire` is
        // seen at once, and a catch-up goes on through the writes that follow it in that turn.
        if !own_turn {
          member.done_at = Some(now);
          member.done_tag = member.finish;
        }
      } else {
        member.start = member.finish;
        member.generation = fresh_generation();
        let entry = (member.start.to_bits(), member.generation, key);
        s.queue.push(Reverse(entry));
      }
      // A member served again in this pass (its credit, or a small piece size: members take
      // turns a piece at a time): one signal. All of a pass's grants are sent together, so
      // adding to a member's earlier grant changes no order JS can see; looking back a few
      // grants is enough for the turns of a small group (a burst of one byte shared by two
      // members sent a signal, and JS pushed a chunk, per byte).
      match own.as_mut() {
        Some((k, amount)) if *k == key => **amount += piece,
        _ => match grants
          .iter_mut()
          .rev()
          .take(MERGE_LOOKBACK)
          .find(|(hub, target, _)| *target == member.target && Arc::ptr_eq(hub, &member.hub))
        {
          Some((_, _, amount)) => *amount += piece,
          None => grants.push((Arc::clone(&member.hub), member.target, piece)),
        },
      }
      if own.is_some() && s.count > 1 && !cut_by_cap {
        // Inline (in a member's `acquire`): one piece only; the rest goes from the timer, at
        // least `MIN_WAIT` later, when members that arrive together are all queued and share
        // even the initial burst in turn. A piece its cap cut short does not count: that member
        // took all its cap holds and is set aside at its next look, so the pass goes on to the
        // next member (a cap with a burst of 1 byte, whose tag hardly moves, was at the head at
        // nearly every `acquire`, and took the one piece: the writers' chunks waited for the
        // timer, one per member per millisecond). Nor does another member's piece the pass met
        // first, its tag being lower: the asking member still gets its own piece if the tokens
        // allow (once members wait for each other's next chunk, `anticipated`, the one who
        // came back served the one held for it and left its own chunk to the timer: four
        // members writing 100-byte chunks passed 0.24x of the rate). A member back from a late
        // turn of its event loop goes on up to its share of the tokens (`catch_up_limit`).
        if !own_turn {
          continue;
        }
        let under_limit = !done && catch_up.is_some_and(|c| member.start < c.limit);
        if !under_limit {
          break;
        }
        own_only = true;
      }
    }
    s.capped = capped;
    prune_back(s);
  }

  /// Arms the timer for the next moment something can be served.
  fn arm(&self, s: &mut State, now: Nanos) {
    let Some(at) = next_wake(s, now) else {
      return;
    };
    if s.armed.is_some_and(|armed| armed > now && armed <= at) {
      return; // an earlier timer is already armed; it re-arms when it fires
    }
    s.armed = Some(at);
    if let Some(me) = self.me.upgrade() {
      let job: Arc<dyn Job> = me;
      self.clock.wake_at(at, &job);
    }
  }
}

/// The next moment something can be served, after a `serve` at `now`; notes when each waiting
/// bucket is due (`State::due`, `State::cap_dues`) for `credit_lateness`.
fn next_wake(s: &mut State, now: Nanos) -> Option<Nanos> {
  let mut next: Option<Nanos> = None;
  let mut consider = |at: Nanos| next = Some(next.map_or(at, |n: Nanos| n.min(at)));
  drop_stale_head(s);
  s.due = None;
  if let Some(&Reverse((_, _, key))) = s.queue.peek() {
    if let Some(piece) = s
      .members
      .get(key)
      .and_then(Option::as_ref)
      .and_then(|m| piece_for(&s.bucket, m))
    {
      let due = s.bucket.ready_at(piece);
      s.due = Some((due, key));
      consider(due.max(now + credited_min_wait(&s.bucket)));
    }
  }
  s.cap_dues.clear();
  let mut wait_on_cap = |key: usize, member: &Member, not_before: Nanos| {
    if let (Some(cap), Some(piece)) = (member.cap.as_ref(), piece_for(&s.bucket, member)) {
      let due = cap.ready_at(piece).max(not_before);
      s.cap_dues.push((due, key));
      consider(due.max(now + credited_min_wait(cap)));
    }
  };
  for &(_, _, key) in &s.capped {
    if let Some(member) = s.members.get(key).and_then(Option::as_ref) {
      wait_on_cap(key, member, 0);
    }
  }
  // The members still queued wait for the group's tokens (due for the head at `group_due`; now,
  // if this pass stopped after one piece because a member's `acquire` ran it, see `serve`) and
  // then for this wake-up, which the group's floor puts up to 5 ms (for a burst of 100 ms) after
  // them. Their caps wait on this wake-up as a capped member's does from then on, else what they
  // earn meanwhile overflows: a member capped at 500 KB/s with burst 1 beside another lost the
  // group's floor of its rate at every chunk the other began (0.87x on the manual clock), and at
  // every chunk of its own that it began with the group's tokens due a few µs later (1,000-byte
  // writes: 0.50x). A queue waiting for the group's tokens banks nothing in its caps meanwhile.
  if let Some((group_due, _)) = s.due.filter(|_| s.with_caps > 0) {
    for &Reverse((_, generation, key)) in s.queue.iter() {
      if let Some(member) = queued_member(&s.members, generation, key) {
        wait_on_cap(key, member, group_due.max(now));
      }
    }
  }
  next
}

/// The next piece of a member's request: items whole; bytes in pieces of `member.piece`, or
/// about `PIECE_TIME_S` of the member's share (at least `MIN_PIECE_BYTES`), never more than the
/// burst, and for a capped member at most half its cap's burst (so its cap keeps filling while
/// the piece waits for the group's tokens, instead of overflowing). Without a finite rate there
/// is nothing to pace: the request goes whole.
fn piece_for(bucket: &TokenBucket, member: &Member) -> Option<f64> {
  let request = member.request.as_ref()?;
  if !request.splittable {
    return Some(request.remaining);
  }
  let half_cap = |cap: &TokenBucket| (cap.burst() / 2.0).max(1.0);
  let (rate, burst) = match member.cap.as_ref() {
    Some(cap) if bucket.unlimited() => (cap.rate(), half_cap(cap)),
    Some(cap) => (
      cap.rate().min(bucket.rate()),
      half_cap(cap).min(bucket.burst()),
    ),
    None => (bucket.rate(), bucket.burst()),
  };
  if rate.is_infinite() {
    return Some(request.remaining);
  }
  let size = member
    .piece
    .unwrap_or_else(|| (rate * PIECE_TIME_S).max(MIN_PIECE_BYTES))
    .min(burst)
    .max(1.0)
    .floor();
  Some(request.remaining.min(size))
}

/// The piece a capped member takes once both buckets hold `piece` (`piece_for`'s): all that its
/// cap holds, credit included, up to the piece it would wait for without the half-burst limit
/// and what the group's bucket holds. A cap whose burst is below a piece (1 byte) was served a
/// byte at a time: its finish tag hardly moved, so it stayed at the head of the queue, and a
/// member's `acquire`, which serves one piece, granted that byte instead of the writer's chunk
/// (a group of four writing 100-byte chunks beside a member capped with burst 1 passed 0.50x
/// of its rate on the manual clock).
fn grown_piece(bucket: &TokenBucket, member: &Member, piece: f64) -> (f64, bool) {
  let (Some(cap), Some(request)) = (member.cap.as_ref(), member.request.as_ref()) else {
    return (piece, false);
  };
  if !request.splittable || cap.unlimited() {
    return (piece, false);
  }
  let (rate, room) = if bucket.unlimited() {
    (cap.rate(), f64::INFINITY)
  } else {
    (
      cap.rate().min(bucket.rate()),
      bucket.burst().min(bucket.tokens()),
    )
  };
  let size = member
    .piece
    .unwrap_or_else(|| (rate * PIECE_TIME_S).max(MIN_PIECE_BYTES));
  let uncapped = size.min(room).min(request.remaining);
  let piece = uncapped.min(cap.tokens()).floor().max(piece);
  (piece, piece < uncapped.floor())
}

/// Before a `serve` (the timer's, or a member's `acquire`): a bucket that a member has waited on
/// since before its tokens were due — the group's for the head of the queue, a capped member's
/// own cap — keeps what it earned after that moment even beyond its burst (as credit, for
/// `MIN_WAIT`), so a wake-up that comes late (the `credited_min_wait` floor, a busy timer
/// thread) does not lower the rate. A cap without it released one burst per wake-up: 500 KB/s
/// with burst 1 passed ~17 KB/s. Another member's write before the wake-up refilled the cap up
/// to its burst and dropped what it had earned since it was due: a member capped at 200 KB/s
/// with burst 1 beside one writing every 0.5 ms passed 0.51x.
fn credit_lateness(s: &mut State, now: Nanos) {
  // Lateness beyond the bound is counted as if the tokens were due that much before `now`.
  let credited_from = |due: Nanos| due.max(now.saturating_sub(MAX_CREDITED_LATENESS));
  if let Some((due, key)) = s.due.take() {
    if waiting_since(&mut s.members, key, due).is_some() {
      s.bucket
        .refill_late(now, credited_from(due), now + MIN_WAIT, MIN_WAKE);
    }
  }
  for (due, key) in std::mem::take(&mut s.cap_dues) {
    if let Some(cap) = waiting_since(&mut s.members, key, due).and_then(|m| m.cap.as_mut()) {
      cap.refill_late(now, credited_from(due), now + MIN_WAIT, MIN_WAKE);
    }
  }
}

/// The member `key` if it is still waiting, and has been since `due` or before (a request that
/// came later, or a member that paused meanwhile, earned nothing while the wake-up was late).
fn waiting_since(members: &mut [Option<Member>], key: usize, due: Nanos) -> Option<&mut Member> {
  members
    .get_mut(key)
    .and_then(Option::as_mut)
    .filter(|m| m.queued && !m.paused)
    .filter(|m| {
      m.request
        .as_ref()
        .and_then(|r| r.since)
        .is_some_and(|since| since <= due)
    })
}

/// The shortest wait worth a wake-up on `bucket`, whose lateness is credited
/// (`credit_lateness`): `MIN_WAIT`, or less when the whole burst refills sooner (else a small
/// burst at a high rate would pass one burst per `MIN_WAIT`: a 1,000/s throttle with burst 1
/// gave 200/s), but never under `MIN_WAKE`. A burst that refills in microseconds (1 byte at
/// 1 MB/s) had the timer wake every few µs, each wake-up a round trip to JS: 0.77 s of CPU per
/// second of throttling. A wake-up at most `MIN_WAKE` after the tokens were due releases what
/// that lateness earned with it, so the rate holds; what goes at once is then up to `MIN_WAKE`
/// of rate, however small the burst.
fn credited_min_wait(bucket: &TokenBucket) -> Nanos {
  if bucket.unlimited() {
    return MIN_WAKE;
  }
  let refill = (bucket.burst() / bucket.rate() * 1e9) as Nanos;
  MIN_WAIT.min(refill).max(MIN_WAKE)
}

/// What a member's own `acquire` may take when its event loop came back late (`catch_up_limit`).
#[derive(Clone, Copy, Debug)]
struct CatchUp {
  /// The lowest tag of the other active members (infinite: none).
  others: f64,
  /// The member's pieces may start below this tag.
  limit: f64,
}

/// The active members as a late turn's first catch-up found them (`survey`), for the catch-ups
/// that follow in the same turn: one pass over the members a turn, not one a write (with
/// thousands of late members, each write paid for the pass: 8.5 µs instead of 2.7 at 2,000).
#[derive(Clone, Copy, Debug)]
struct Turn {
  at: Nanos,
  /// What each unit of weight may take at once: the tokens there were, shared by weight.
  share: f64,
  /// The two lowest tags of the active members, with their keys.
  lowest: [(f64, usize); 2],
}

/// A turn's survey serves the catch-ups that come this soon after it: a turn of the event loop
/// that writes to many members takes a while, but the next late turn is at least `LATE_TURN`
/// away.
const TURN_REUSE: Nanos = MIN_WAIT;

/// How far the virtual time of member `key`'s pieces may go in its own `acquire` (see `serve`),
/// when its event loop came back late: `None` (one piece, as always) unless a request of its was
/// completed by a signal at least `LATE_TURN` ago and no catch-up has started since, or it is
/// catching up in the current turn already.
///
/// Why: grants made while the JS thread runs a long task are seen only when it comes back, and a
/// member then writes its next chunk, of which the inline pass granted one piece and the timer
/// the rest, seen a turn later again. So each member passed about one chunk per turn, whatever
/// the rate: two members of a 1 MB/s group writing 16 KiB chunks under 100 ms tasks got 0.33×.
/// Back from such a turn, a member may take its share of the tokens at once (`Turn::share` times
/// its weight, shared among the active members when the turn began): its tags may run that far
/// past the lowest tag of the other active members, or past its own tag when the turn began, or
/// the virtual time, whichever is highest (a member that wants less than its share, 40 KB a turn
/// of its 50 KB, held the others to its pace, which left a third of the rate unused; and the
/// timer, finishing the lightest member's chunk last in a task, took the virtual time past the
/// others' limits: weights 1:2:3:4 got one chunk each a turn). The others take theirs when their
/// writes come: the virtual time goes no further than their tags meanwhile (`serve`), so they
/// are not taken for idle members that re-enter at it. A member that went quiet longer ago is
/// idle and takes no share.
fn catch_up_limit(s: &mut State, key: usize, now: Nanos) -> Option<CatchUp> {
  if s.bucket.unlimited() {
    return None;
  }
  let current = s
    .turn
    .filter(|turn| now.saturating_sub(turn.at) < TURN_REUSE);
  let member = s.members.get(key)?.as_ref()?;
  let done_tag = member.done_tag;
  let turn = match current {
    // The writes that follow in the same turn go on with it.
    Some(turn) if member.catching_up == Some(turn.at) => turn,
    _ => {
      let lag = now.saturating_sub(member.done_at?);
      if lag < LATE_TURN {
        return None;
      }
      let turn = current.unwrap_or_else(|| survey(s, now, lag.saturating_mul(2)));
      s.turn = Some(turn);
      let member = s.members.get_mut(key)?.as_mut()?;
      // Once: writes that then pass inline, a while apart, are not late turns (a writer of 4 KiB
      // every 20 ms looked late at every write, and its catch-ups held the virtual time back).
      member.done_at = None;
      member.catching_up = Some(turn.at);
      turn
    }
  };
  let others = match turn.lowest {
    [(_, k), (second, _)] if k == key => second,
    [(first, _), _] => first,
  };
  Some(CatchUp {
    others,
    limit: others.max(done_tag).max(s.vtime) + turn.share,
  })
}

/// The active members at `now`: those queued (at their start tag) and those granted within
/// `recent` (at their finish tag: their grant may be waiting for the same turn, and they will
/// be back in it), but for members their own cap holds back now, who cannot use the group's
/// tokens (a member capped at 50 KB/s with its cap empty held an uncapped one to its pace).
fn survey(s: &State, now: Nanos, recent: Nanos) -> Turn {
  let mut weights = 0.0;
  let mut lowest = [(f64::INFINITY, usize::MAX); 2];
  for (key, member) in s.members.iter().enumerate() {
    let Some(member) = member.as_ref().filter(|m| !m.paused) else {
      continue;
    };
    let tag = if member.queued && member.request.is_some() {
      member.start
    } else if member
      .granted_at
      .is_some_and(|at| now.saturating_sub(at) <= recent)
    {
      member.finish
    } else {
      continue;
    };
    let held_by_cap = member
      .cap
      .as_ref()
      .is_some_and(|cap| cap.ready_at(piece_for(&s.bucket, member).unwrap_or(1.0)) > now);
    if held_by_cap {
      continue;
    }
    weights += member.weight;
    if tag < lowest[0].0 {
      lowest = [(tag, key), lowest[0]];
    } else if tag < lowest[1].0 {
      lowest[1] = (tag, key);
    }
  }
  Turn {
    at: now,
    share: s.bucket.tokens().min(s.bucket.burst()) / weights.max(f64::MIN_POSITIVE),
    lowest,
  }
}

/// Enforce mode: refuses a request that cannot pass at once, in full.
fn enforce_check(s: &mut State, key: usize, cost: f64, now: Nanos) -> Option<Acquired> {
  s.bucket.refill(now);
  let member = s.members.get_mut(key).and_then(Option::as_mut)?;
  if let Some(cap) = member.cap.as_mut() {
    cap.refill(now);
  }
  let buckets = std::iter::once(&s.bucket).chain(member.cap.as_ref());
  let mut refused = None;
  for bucket in buckets {
    if bucket.unlimited() {
      continue;
    }
    if cost > bucket.burst() {
      return Some(Acquired::CostExceedsBurst);
    }
    if bucket.tokens() + 1e-6 < cost {
      refused = Some(Acquired::RateExceeded);
    }
  }
  // Members queued ahead go first: this one would have to wait.
  let ahead = s
    .members
    .iter()
    .enumerate()
    .any(|(k, m)| k != key && m.as_ref().is_some_and(|m| m.queued));
  if refused.is_none() && ahead {
    refused = Some(Acquired::RateExceeded);
  }
  refused
}

/// Pops stale entries off the top of the queue, so that its head is a waiting member.
fn drop_stale_head(s: &mut State) {
  while let Some(&Reverse((_, generation, key))) = s.queue.peek() {
    if queued_member(&s.members, generation, key).is_some() {
      return;
    }
    s.queue.pop();
  }
}

/// The member a queue entry is for, unless the entry is stale or the member no longer waits.
fn queued_member(members: &[Option<Member>], generation: u64, key: usize) -> Option<&Member> {
  members
    .get(key)
    .and_then(Option::as_ref)
    .filter(|m| m.queued && m.generation == generation && m.request.is_some())
}

/// Queue entries carry a generation; one that is not the member's current one is stale. Unique
/// across the process, so an entry left by a member that left never matches the slot's next one.
fn fresh_generation() -> u64 {
  static NEXT: AtomicU64 = AtomicU64::new(1);
  NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The lowest tag a member whose request was just completed will start its next one at
/// (`max(vtime, finish)`), among those expected back: completed within `ANTICIPATE`, not
/// waiting, not paused, and its own cap (if any) not empty. Entries that no longer are (the
/// member came back, went quiet, or left) are dropped on the way; a member whose environment is
/// gone does not come back, and is no longer expected once `ANTICIPATE` has passed.
fn anticipated(s: &mut State, now: Nanos) -> Option<f64> {
  while let Some(&Reverse((tag_bits, generation, key))) = s.back.peek() {
    let expected = back_member(&s.members, generation, key).is_some_and(|m| {
      !m.queued
        && m.request.is_none()
        && !m.paused
        && m
          .granted_at
          .is_some_and(|at| now.saturating_sub(at) < ANTICIPATE)
        && m.cap.as_ref().is_none_or(|cap| cap.ready_at(1.0) <= now)
    });
    if expected {
      return Some(f64::from_bits(tag_bits).max(s.vtime));
    }
    s.back.pop();
  }
  None
}

/// Drops the stale entries of `State::back` once they outnumber the members well. Entries are
/// otherwise dropped as `anticipated` meets them, which it does only while the bucket is short:
/// a group whose members' caps, not its budget, bound them kept one per chunk (24 bytes each,
/// for good). Each member has one live entry at most.
fn prune_back(s: &mut State) {
  if s.back.len() <= 2 * s.count + 16 {
    return;
  }
  let members = &s.members;
  s.back
    .retain(|Reverse((_, generation, key))| back_member(members, *generation, *key).is_some());
}

/// The member a `State::back` entry is for, unless the entry is stale (a later completion made
/// another) or the member left.
fn back_member(members: &[Option<Member>], generation: u64, key: usize) -> Option<&Member> {
  members
    .get(key)
    .and_then(Option::as_ref)
    .filter(|m| m.back_gen == generation)
}

/// Puts a member with a request in the queue (once), tagged with its start time.
fn enqueue(s: &mut State, key: usize) {
  let vtime = s.vtime;
  let Some(member) = s.members.get_mut(key).and_then(Option::as_mut) else {
    return;
  };
  if member.queued || member.paused || member.request.is_none() {
    return;
  }
  member.start = vtime.max(member.finish);
  member.generation = fresh_generation();
  member.queued = true;
  s.queue
    .push(Reverse((member.start.to_bits(), member.generation, key)));
}

/// Sends grants to their hubs, one call per hub.
fn send(grants: Grants) {
  let mut hubs: Vec<Arc<Hub>> = Vec::new();
  for (hub, target, amount) in grants {
    hub.send(target, SIGNAL_GRANT, amount);
    if !hubs.iter().any(|h| Arc::ptr_eq(h, &hub)) {
      hubs.push(hub);
    }
  }
  for hub in hubs {
    hub.notify();
  }
}

impl Job for GroupCore {
  fn schedule(&self) -> &Schedule {
    &self.schedule
  }

  fn runs_on_timer(&self) -> bool {
    true
  }

  fn run_slice(&self, _me: &Arc<dyn Job>) -> Next {
    let now = self.clock.now();
    let mut grants = Grants::new();
    {
      let mut state = self.lock();
      let s = &mut *state;
      if s.armed.is_some_and(|at| at <= now) {
        s.armed = None;
      }
      credit_lateness(s, now);
      self.serve(s, now, &mut grants, None);
      self.arm(s, now);
    }
    send(grants);
    Next::Park
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const MS: Nanos = 1_000_000;

  /// A group's state at time 0, its bucket (a burst of 100 ms) holding `tokens`.
  fn group(rate: f64, tokens: f64) -> State {
    State {
      bucket: TokenBucket::new(rate, rate / 10.0, tokens, 0),
      members: Vec::new(),
      free: Vec::new(),
      queue: BinaryHeap::new(),
      capped: Vec::new(),
      vtime: 0.0,
      count: 0,
      initial: tokens,
      armed: None,
      due: None,
      cap_dues: Vec::new(),
      with_caps: 0,
      units: 0.0,
      explicit_burst: None,
      turn: None,
      back: BinaryHeap::new(),
    }
  }

  /// Adds a member waiting since 0 for `cost` bytes, capped at `cap.0`/s with a burst of one
  /// unit and `cap.1` tokens, if given; returns its queue entry, which the caller files.
  fn waiting(s: &mut State, cap: Option<(f64, f64)>, cost: f64) -> (u64, u64, usize) {
    let generation = fresh_generation();
    let key = s.members.len();
    s.members.push(Some(Member {
      hub: Hub::unconnected(),
      target: key as u32,
      weight: 1.0,
      cap: cap.map(|(rate, tokens)| TokenBucket::new(rate, 1.0, tokens, 0)),
      explicit_burst: None,
      piece: None,
      paused: false,
      request: Some(Request {
        remaining: cost,
        splittable: true,
        since: Some(0),
      }),
      start: key as f64,
      finish: 0.0,
      generation,
      queued: true,
      units: 0.0,
      waited: 0,
      throttled: 0,
      granted_at: None,
      done_at: None,
      done_tag: 0.0,
      catching_up: None,
      back_gen: 0,
      backlogged: false,
    }));
    s.count += 1;
    s.with_caps += usize::from(cap.is_some());
    ((key as f64).to_bits(), generation, key)
  }

  #[test]
  fn a_member_just_served_is_expected_back_at_its_tag_for_a_while() {
    let mut s = group(1e6, 0.0);
    let (_, _, key) = waiting(&mut s, None, 1000.0);
    // Served in full at 2 ms, finishing at tag 40: expected back at its tag (or the virtual
    // time, when that is higher) until ANTICIPATE has passed.
    let member = s.members[key].as_mut().unwrap();
    member.request = None;
    member.queued = false;
    member.finish = 40.0;
    member.granted_at = Some(2 * MS);
    member.back_gen = fresh_generation();
    let entry = (40f64.to_bits(), member.back_gen, key);
    s.back.push(Reverse(entry));
    s.vtime = 10.0;
    assert_eq!(anticipated(&mut s, 2 * MS), Some(40.0));
    s.vtime = 50.0;
    assert_eq!(anticipated(&mut s, 2 * MS + ANTICIPATE - 1), Some(50.0));
    // Back (waiting again), or gone quiet: no longer expected, and the entry is dropped.
    s.members[key].as_mut().unwrap().queued = true;
    assert_eq!(anticipated(&mut s, 3 * MS), None);
    assert!(s.back.is_empty());
    s.members[key].as_mut().unwrap().queued = false;
    s.back.push(Reverse(entry));
    assert_eq!(anticipated(&mut s, 2 * MS + ANTICIPATE), None);
    assert!(s.back.is_empty());
  }

  #[test]
  fn stale_entries_of_the_expected_members_are_pruned() {
    let mut s = group(1e6, 0.0);
    let (_, _, key) = waiting(&mut s, None, 1000.0);
    // A thousand completions, each a new entry: only the last one is the member's.
    for _ in 0..1000 {
      let member = s.members[key].as_mut().unwrap();
      member.back_gen = fresh_generation();
      let entry = (1f64.to_bits(), member.back_gen, key);
      s.back.push(Reverse(entry));
    }
    prune_back(&mut s);
    assert_eq!(s.back.len(), 1);
    // Few entries are left as they are (`anticipated` drops them as it meets them).
    s.back.push(Reverse((2f64.to_bits(), 0, key)));
    prune_back(&mut s);
    assert_eq!(s.back.len(), 2);
  }

  /// A group's state at time 0 with one member, capped at `cap_rate`/s with a burst of one unit,
  /// waiting since 0 for `cost` bytes; its cap is empty, so `serve` set it aside in `capped`.
  fn waiting_on_its_cap(group_rate: f64, cap_rate: f64, cost: f64) -> (State, usize) {
    let mut s = group(group_rate, group_rate / 10.0);
    let entry = waiting(&mut s, Some((cap_rate, 0.0)), cost);
    s.capped.push(entry);
    (s, entry.2)
  }

  #[test]
  fn a_member_back_from_a_late_turn_may_run_a_share_of_the_burst_past_the_active_others() {
    let limit = |s: &mut State, key, now| catch_up_limit(s, key, now).map(|c| c.limit);
    // Two members of a 1 MB/s group (burst 100,000), both through with their requests: `a`'s
    // completed by a signal at `a_done`, `b`'s at 60 ms, where `b`'s tags ended at 50,000.
    let setup = |a_done: Nanos| {
      let mut s = group(1e6, 1e5);
      let a = waiting(&mut s, None, 16384.0).2;
      let b = waiting(&mut s, None, 16384.0).2;
      for (key, done) in [(a, a_done), (b, 60 * MS)] {
        let m = s.members[key].as_mut().unwrap();
        m.request = None;
        m.queued = false;
        m.done_at = Some(done);
        m.granted_at = Some(done);
        m.finish = 50_000.0;
      }
      (s, a, b)
    };
    // `a` writes again 90 ms after its grant: late. `b`, granted 40 ms ago, comes back in the same
    // turn: `a` may run half the burst past `b`'s tag.
    let (mut s, a, _) = setup(10 * MS);
    assert_eq!(limit(&mut s, a, 100 * MS), Some(100_000.0));
    // Its writes that follow in the same turn go on with it; after the turn, it is late again
    // only after a request of its was completed by a signal.
    assert_eq!(limit(&mut s, a, 100 * MS + TURN_REUSE - 1), Some(100_000.0));
    assert_eq!(limit(&mut s, a, 100 * MS + TURN_REUSE), None);
    // Back at once (the timer's cadence): one piece, as always.
    let (mut s, a, _) = setup(10 * MS);
    assert_eq!(limit(&mut s, a, 10 * MS + LATE_TURN - 1), None);
    // `b` granted longer ago than twice `a`'s lag: idle, it takes no share.
    let (mut s, a, _) = setup(130 * MS);
    assert_eq!(limit(&mut s, a, 160 * MS), Some(f64::INFINITY));
    // A paused member takes no share either; a queued one counts with its start tag.
    let (mut s, a, b) = setup(10 * MS);
    s.members[b].as_mut().unwrap().paused = true;
    assert_eq!(limit(&mut s, a, 100 * MS), Some(f64::INFINITY));
    let (mut s, a, b) = setup(10 * MS);
    let m = s.members[b].as_mut().unwrap();
    m.request = Some(Request {
      remaining: 1.0,
      splittable: true,
      since: Some(60 * MS),
    });
    m.queued = true;
    m.start = 70_000.0;
    m.granted_at = Some(0);
    assert_eq!(limit(&mut s, a, 100 * MS), Some(120_000.0));
  }

  #[test]
  fn a_burst_given_is_kept_until_another_is_given() {
    let mut explicit = None;
    assert_eq!(burst_after(&mut explicit, None, 300.0), 300.0);
    assert_eq!(burst_after(&mut explicit, Some(7.0), 300.0), 7.0);
    assert_eq!(burst_after(&mut explicit, None, 500.0), 7.0);
    assert_eq!(burst_after(&mut explicit, Some(9.0), 500.0), 9.0);
    assert_eq!(explicit, Some(9.0));
  }

  /// A 1 MB/s group at time 0 holding `group_tokens`, with an uncapped member waiting for
  /// `head_bytes` at the head of the queue and, queued behind it, a member capped at 500 KB/s
  /// (burst 1, full) waiting for 100 KB; returns the state and the capped member's key.
  fn capped_behind(group_tokens: f64, head_bytes: f64) -> (State, usize) {
    let mut s = group(1e6, group_tokens);
    let head = waiting(&mut s, None, head_bytes);
    let capped = waiting(&mut s, Some((5e5, 1.0)), 1e5);
    s.queue.extend([Reverse(head), Reverse(capped)]);
    (s, capped.2)
  }

  /// The member's cap tokens at `now` (credit included).
  fn cap_tokens(s: &mut State, key: usize, now: Nanos) -> f64 {
    let cap = s.members[key].as_mut().unwrap().cap.as_mut().unwrap();
    cap.refill(now);
    cap.tokens()
  }

  #[test]
  fn a_cap_with_a_tiny_burst_wakes_once_a_millisecond_and_keeps_what_the_wait_earned() {
    // 500,000 B/s with a burst of 1: the cap refills in 2 µs. The timer waited that long (one
    // byte per wake-up, ~17 KB/s once each wake-up was a round trip to JS); now it waits
    // `MIN_WAKE`, and the cap keeps all that the millisecond earned.
    let (mut s, key) = waiting_on_its_cap(1e6, 5e5, 1e5);
    assert_eq!(next_wake(&mut s, 0), Some(MIN_WAKE));
    credit_lateness(&mut s, MIN_WAKE);
    let tokens = cap_tokens(&mut s, key, MIN_WAKE);
    assert!((tokens - 500.0).abs() < 1e-6, "{tokens}");
    // A wake-up later than that (a busy timer thread) keeps what its lateness earned too.
    let (mut s, key) = waiting_on_its_cap(1e6, 5e5, 1e5);
    next_wake(&mut s, 0);
    credit_lateness(&mut s, 3 * MS);
    assert!((cap_tokens(&mut s, key, 3 * MS) - 1500.0).abs() < 1e-6);
    // Also in an unlimited group.
    let (mut s, key) = waiting_on_its_cap(f64::INFINITY, 5e5, 1e5);
    assert_eq!(next_wake(&mut s, 0), Some(MIN_WAKE));
    credit_lateness(&mut s, MIN_WAKE);
    assert!((cap_tokens(&mut s, key, MIN_WAKE) - 500.0).abs() < 1e-6);
  }

  #[test]
  fn a_wake_up_seconds_late_credits_at_most_max_credited_lateness() {
    // The process stopped for 3 s (Ctrl-Z) while a member waited on its cap: what goes at once
    // is the burst and 50 ms of rate, not 3 s of it.
    let (mut s, key) = waiting_on_its_cap(1e6, 5e5, 1e6);
    next_wake(&mut s, 0);
    credit_lateness(&mut s, 3000 * MS);
    let tokens = cap_tokens(&mut s, key, 3000 * MS);
    assert!((tokens - 25_001.0).abs() < 1e-6, "{tokens}");
    // The group's own bucket (burst 100 ms of rate), its head waiting since 0 for tokens due
    // at 5 ms: the burst and 50 ms of rate.
    let mut s = group(1e6, 0.0);
    let entry = waiting(&mut s, None, 1e6);
    s.queue.push(Reverse(entry));
    assert_eq!(next_wake(&mut s, 0), Some(5 * MS));
    credit_lateness(&mut s, 3000 * MS);
    s.bucket.refill(3000 * MS);
    let tokens = s.bucket.tokens();
    assert!((tokens - 150_000.0).abs() < 1e-6, "{tokens}");
  }

  #[test]
  fn a_cap_earns_no_credit_for_time_nobody_waited_on_it() {
    // A request that came after the cap was due, or a member paused meanwhile: idle time banks
    // at most the burst.
    let (mut s, key) = waiting_on_its_cap(1e6, 5e5, 1e5);
    next_wake(&mut s, 0);
    s.members[key]
      .as_mut()
      .unwrap()
      .request
      .as_mut()
      .unwrap()
      .since = Some(MS / 2);
    credit_lateness(&mut s, MIN_WAKE);
    assert_eq!(cap_tokens(&mut s, key, MIN_WAKE), 1.0);
    let (mut s, key) = waiting_on_its_cap(1e6, 5e5, 1e5);
    next_wake(&mut s, 0);
    s.members[key].as_mut().unwrap().paused = true;
    credit_lateness(&mut s, MIN_WAKE);
    assert_eq!(cap_tokens(&mut s, key, MIN_WAKE), 1.0);
    // Credit that is not used in time is dropped.
    let (mut s, key) = waiting_on_its_cap(1e6, 5e5, 1e5);
    next_wake(&mut s, 0);
    credit_lateness(&mut s, MIN_WAKE);
    assert_eq!(cap_tokens(&mut s, key, MIN_WAKE + MIN_WAIT + 1), 1.0);
  }

  #[test]
  fn a_cap_due_sooner_than_min_wake_wakes_the_timer_at_min_wake() {
    // 5,000/s with a burst of 1: the next unit is due in 200 µs (the timer woke then, one item
    // per wake-up).
    let (mut s, key) = waiting_on_its_cap(1e6, 5000.0, 10.0);
    assert_eq!(next_wake(&mut s, 0), Some(MIN_WAKE));
    credit_lateness(&mut s, MIN_WAKE);
    assert!((cap_tokens(&mut s, key, MIN_WAKE) - 5.0).abs() < 1e-6);
    // Due later than `MIN_WAKE`: when it is due.
    let (mut s, _) = waiting_on_its_cap(1e6, 100.0, 10.0);
    assert_eq!(next_wake(&mut s, 0), Some(10 * MS));
  }

  #[test]
  fn caps_of_members_an_acquire_left_queued_wait_on_the_wake_up_too() {
    // A member's `acquire` served one piece and left the others queued, the group's tokens
    // there: the timer waited the group's floor (5 ms, for its 100 ms burst), and the full cap
    // of a member capped at 500 KB/s with burst 1 dropped what those 5 ms earned.
    let (mut s, capped) = capped_behind(1e5, 1e5);
    assert_eq!(next_wake(&mut s, 0), Some(MIN_WAKE));
    credit_lateness(&mut s, MIN_WAKE);
    let tokens = cap_tokens(&mut s, capped, MIN_WAKE);
    assert!(
      (tokens - 501.0).abs() < 1e-6,
      "the burst and 1 ms of rate: {tokens}"
    );
    // The same queue waiting for the group's tokens (the head's 5 ms piece): the cap waits for
    // them as well, and banks nothing beyond its burst meanwhile.
    let (mut s, capped) = capped_behind(0.0, 1e5);
    assert_eq!(next_wake(&mut s, 0), Some(5 * MS));
    credit_lateness(&mut s, 5 * MS);
    assert_eq!(cap_tokens(&mut s, capped, 5 * MS), 1.0);
  }

  #[test]
  fn caps_of_members_queued_for_group_tokens_due_sooner_than_the_floor_wait_on_the_wake_up_too() {
    // The head's group tokens are due in 1 µs (a member began a chunk with the group's bucket a
    // byte short): the group's floor put the wake-up at 5 ms, and the full cap of a member queued
    // behind it dropped what those 5 ms earned (a member capped at 300 KB/s with burst 1 writing
    // 1,000-byte chunks beside an uncapped one passed 0.50x on the manual clock).
    let (mut s, capped) = capped_behind(999.0, 1000.0);
    assert_eq!(next_wake(&mut s, 0), Some(MIN_WAKE));
    credit_lateness(&mut s, MIN_WAKE);
    let tokens = cap_tokens(&mut s, capped, MIN_WAKE);
    assert!(
      (tokens - 500.5).abs() < 1e-6,
      "the burst and what the cap earned after the group's tokens were due: {tokens}"
    );
  }
}
