'use strict'

// sluice/testing: what a user's tests need to drive sluice deterministically. The throttle's
// clock lives in Rust, out of reach of jest's or sinon's fake timers, so a test passes a manual
// clock instead (`new Throttle({ rate, clock })`) and moves its time with `advance(ms)`.
//
// `advance` goes from deadline to deadline up to the target, like a fake timer's
// `advanceTimersByTime`: at each one the due work runs on this thread and its results are
// handled before `advance` returns (pushes, callbacks, the next writes already buffered), so a
// test that advances one second sees what one second of real time would have let through.

const native = require('../binding.js')
const { dispatchQueued } = require('./signals.js')
const { rangeError, typeError } = require('./options.js')

const kNativeClock = Symbol.for('sluice.nativeClock')

// A deadline that keeps coming back at the same instant would loop forever.
const MAX_STEPS = 10_000_000

class ManualClock {
  constructor () {
    this[kNativeClock] = new native.ManualClock()
  }

  /** Milliseconds since the clock was made (it starts at 0 and moves only in `advance`). */
  now () {
    return this[kNativeClock].now()
  }

  /** Moves the clock forward by `ms` and runs everything that comes due, in order. */
  advance (ms) {
    if (typeof ms !== 'number') throw typeError('ms', 'a number', ms)
    if (!Number.isFinite(ms) || ms < 0) throw rangeError('ms', 'a finite number >= 0', ms)
    const clock = this[kNativeClock]
    const target = clock.now() + ms
    for (let step = 0; step < MAX_STEPS; step++) {
      const next = clock.nextDeadline()
      if (next === null || next > target) break
      clock.advanceTo(next)
      dispatchQueued()
    }
    clock.advanceTo(target)
    dispatchQueued()
    return this.now()
  }
}

/** A clock for `Throttle({ clock })` / `ThrottleGroup({ clock })` that moves only when told to. */
function createClock () {
  return new ManualClock()
}

module.exports = { createClock, ManualClock, kNativeClock }
