'use strict'

// The manual clock behind sluice/testing (lib/testing.js exports its public part: createClock,
// ManualClock), and what the components use to take a `clock` option (kNativeClock,
// validateClockOption), which is not public. The throttle's clock lives in Rust, out of reach of
// jest's or sinon's fake timers, so a test passes a manual clock instead
// (`new Throttle({ rate, clock })`) and moves its time with `advance(ms)`.
//
// `advance` goes from deadline to deadline up to the target, like a fake timer's
// `advanceTimersByTime`: at each one the due work runs on this thread and its results are
// handled before `advance` returns (pushes, callbacks, the next writes already buffered), so a
// test that advances one second sees what one second of real time would have let through.

const { setImmediate } = require('node:timers')
const native = require('./native.js')
const { dispatchQueued } = require('./signals.js')
const { rangeError, typeError } = require('./options.js')

const kNativeClock = Symbol.for('sluice.nativeClock')

// A deadline that keeps coming back at the same instant would loop forever.
const MAX_STEPS = 10_000_000
const MAX_ADVANCE_MS = 365 * 24 * 3600 * 1000

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
    // The clock counts nanoseconds in 64 bits: about 584 years. A year at a time is plenty.
    if (!Number.isFinite(ms) || ms < 0 || ms > MAX_ADVANCE_MS) throw rangeError('ms', `a finite number >= 0 and <= ${MAX_ADVANCE_MS}`, ms)
    const clock = this[kNativeClock]
    const target = clock.now() + ms
    // A listener that throws (run by a release) does not stop the clock short of its target: as
    // a fake timer's tick does, the rest comes due and the first error is thrown at the end
    // (later ones as uncaught exceptions, as signals.js reports a batch's others).
    const thrown = []
    const dispatch = () => {
      try {
        dispatchQueued()
      } catch (err) {
        thrown.push(err)
      }
    }
    for (let step = 0; step < MAX_STEPS; step++) {
      const next = clock.nextDeadline()
      if (next === null || next > target) break
      clock.advanceTo(next)
      dispatch()
    }
    clock.advanceTo(target)
    dispatch()
    if (thrown.length > 0) {
      for (const err of thrown.slice(1)) setImmediate(() => { throw err })
      throw thrown[0]
    }
    return this.now()
  }
}

/** A clock for `Throttle({ clock })` / `ThrottleGroup({ clock })` that moves only when told to. */
function createClock () {
  return new ManualClock()
}

/**
 * The `clock` option of a component (Throttle, ThrottleGroup, Meter, MonitoredWritable): undefined,
 * or a clock `createClock()` made. One check for all, so a look-alike (an object with this
 * prototype, but no native clock behind it) is refused everywhere instead of quietly running on
 * the real clock.
 */
function validateClockOption (opts) {
  const clock = opts.clock
  if (clock === undefined) return undefined
  if (!(clock instanceof ManualClock) || clock[kNativeClock] === undefined) {
    // Another copy of sluice's clock (jest.resetModules(), jest.isolateModules() load the package
    // again): it would move only that copy's streams. Said so, since it looks like the right thing.
    const elsewhere = clock?.constructor?.name === 'ManualClock' && clock[kNativeClock] !== undefined
    throw typeError('options.clock', elsewhere
      ? "a clock from the same copy of sluice (this one is from another: after jest.resetModules() or in jest.isolateModules(), require 'sluice/testing' again beside the streams)"
      : "a clock from require('sluice/testing').createClock()", clock)
  }
  return clock
}

module.exports = { createClock, ManualClock, kNativeClock, validateClockOption }
