'use strict'

// A Meter under jest's modern fake timers, which fake Date and `performance` too: its 'stats'
// and 'stall' come from a timer in Rust and its time from the clock sluice took when it loaded,
// so a test that never advances the fake timers still sees them, on the real clock.

const { once } = require('node:events')
const { Meter } = require('../..')

jest.setTimeout(20000)

beforeEach(() => {
  jest.useFakeTimers()
})

afterEach(() => {
  jest.useRealTimers()
})

test("a Meter made under fake timers keeps its time: 'stats' and a 'stall' come on the real clock", async () => {
  const ran = []
  setTimeout(() => ran.push('timeout'), 0)
  const meter = new Meter({ interval: 20, stallMs: 100 })
  meter.write('abc')
  const [stats] = await once(meter, 'stats')
  expect(stats.bytes).toBe(3)
  const [stall] = await once(meter, 'stall')
  expect(stall.reason).toBe('starved')
  // Never early, at most stallMs/4 late by the meter's checks (generous: a loaded machine).
  expect(stall.ms).toBeGreaterThanOrEqual(100)
  expect(meter.stats().elapsedMs).toBeGreaterThanOrEqual(100)
  // The fake timers were on all along.
  expect(ran).toEqual([])
  meter.destroy()
})
