'use strict'

// A user's jest test with modern fake timers (`jest.useFakeTimers()`) stepping a Throttle: the
// throttle's clock lives in Rust, out of jest's reach, so the test gives it a manual clock
// (`sluice/testing`) and moves both times together. Nothing the throttle does may wait on a JS
// timer or tick that jest fakes: every release must come out of `clock.advance()` itself.

const { once } = require('node:events')
const { Writable } = require('node:stream')
const { pipeline } = require('node:stream/promises')
const { Throttle } = require('../..')
const { createClock } = require('sluice/testing')

jest.setTimeout(20000)

beforeEach(() => {
  jest.useFakeTimers()
})

afterEach(() => {
  jest.useRealTimers()
})

test('the fake timers are on, and jest alone does not move a throttle', () => {
  const ran = []
  setTimeout(() => ran.push('timeout'), 0)
  expect(ran).toEqual([])

  const clock = createClock()
  const throttle = new Throttle({ rate: 100, burst: 10, clock })
  const out = []
  throttle.on('data', (c) => out.push(c.length))
  throttle.write(Buffer.alloc(100))
  expect(out).toEqual([10])
  jest.advanceTimersByTime(60000)
  jest.runAllTicks()
  expect(ran).toEqual(['timeout'])
  expect(out).toEqual([10])
  clock.advance(900)
  expect(out.reduce((a, b) => a + b, 0)).toBe(100)
})

test('a producer on fake timers and a Throttle on the manual clock, stepped together: the same output every run', () => {
  // Every 100 ms (fake) the producer writes 40 bytes; the throttle lets 200 B/s through after a
  // 20-byte burst, in pieces of at most the burst. Stepping both clocks by 100 ms gives exact
  // totals at every step.
  function run () {
    const clock = createClock()
    const throttle = new Throttle({ rate: 200, burst: 20, clock })
    const seen = []
    throttle.on('data', (c) => seen.push({ at: clock.now(), bytes: c.length }))
    let written = 0
    const timer = setInterval(() => {
      throttle.write(Buffer.alloc(40, written % 256))
      written += 40
    }, 100)
    const totals = []
    for (let step = 1; step <= 10; step++) {
      jest.advanceTimersByTime(100)
      clock.advance(100)
      totals.push(seen.reduce((n, s) => n + s.bytes, 0))
    }
    clearInterval(timer)
    const backlog = throttle.writableLength
    throttle.destroy()
    return { written, totals, seen, backlog }
  }
  const first = run()
  expect(first.written).toBe(400)
  // Step k: the producer writes at (k - 1) × 100 ms of the throttle's clock, which then moves
  // 100 ms: the 20-byte burst at the first write, then 20 bytes per 100 ms.
  expect(first.totals).toEqual(Array.from({ length: 10 }, (_, k) => 20 + 20 * (k + 1)))
  expect(first.seen.every((s) => s.at % 100 === 0)).toBe(true)
  expect(first.backlog).toBeGreaterThan(0)
  expect(run()).toEqual(first)
})

test('a pipeline through a throttle ends once the clock has released the last piece, with fake timers on', async () => {
  const clock = createClock()
  const throttle = new Throttle({ rate: 1000, burst: 100, clock })
  const input = Buffer.alloc(1000)
  for (let i = 0; i < input.length; i++) input[i] = i & 0xff
  const parts = []
  const sink = new Writable({
    write (chunk, encoding, callback) {
      parts.push(chunk)
      callback()
    }
  })
  const done = pipeline(throttle, sink)
  throttle.end(input)
  expect(Buffer.concat(parts).length).toBe(100)
  clock.advance(899)
  expect(Buffer.concat(parts).length).toBe(900)
  clock.advance(1)
  await done
  expect(Buffer.concat(parts)).toEqual(input)
  expect(throttle.stats()).toMatchObject({ units: 1000, waitedMs: 900 })
})

test('destroy() while waiting, with fake timers on: close comes, nothing after it', async () => {
  const clock = createClock()
  const throttle = new Throttle({ rate: 10, burst: 1, objectMode: true, clock })
  const out = []
  throttle.on('data', (v) => out.push(v))
  for (let i = 0; i < 10; i++) throttle.write(i)
  clock.advance(250)
  expect(out).toEqual([0, 1, 2])
  throttle.destroy()
  await once(throttle, 'close')
  clock.advance(10000)
  jest.advanceTimersByTime(10000)
  expect(out).toEqual([0, 1, 2])
})

test('destroy() while a write waits, with fake timers on: every write callback runs, before close, in write order', async () => {
  const clock = createClock()
  const throttle = new Throttle({ rate: 10, burst: 1, objectMode: true, clock })
  throttle.on('data', () => {})
  const calls = []
  for (let i = 0; i < 5; i++) throttle.write(i, (err) => calls.push([i, err?.code ?? 'ok']))
  throttle.destroy()
  await once(throttle, 'close')
  // 0 passed at once; 1 was held by the throttle (answered by destroy), 2-4 were queued by core.
  expect(calls).toEqual([[0, 'ok'], [1, 'ok'], [2, 'ERR_STREAM_DESTROYED'], [3, 'ERR_STREAM_DESTROYED'], [4, 'ERR_STREAM_DESTROYED']])
})
