'use strict'

// sluice/testing: what a user's tests need to drive sluice deterministically: a manual clock
// (`createClock()`) for `new Throttle({ clock })`, `new Meter({ clock })`… that moves only in
// `advance(ms)` (lib/clock.js). Only the public names: lib/testing.mjs and lib/testing.d.ts
// declare the same ones.

const { createClock, ManualClock } = require('./clock.js')

module.exports = { createClock, ManualClock }
