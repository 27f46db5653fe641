'use strict'

// Throttle and ThrottleGroup: options, token-bucket timing, splitting, setRate/pause, enforce
// mode, stats, groups (weights, caps, idle members, shared groups across worker_threads), real
// sockets, destroy, process lifetime and throwing listeners.
//
// Timing is asserted on the manual clock (`createClock()` from sluice/testing) wherever it can
// be: there it is exact, and a busy machine changes nothing. The few real-time tests (a shared
// group across workers, an HTTP transfer, a child process kept alive) assert a lower bound of
// ~90% of the ideal time, which load can only make safer, and a generous upper bound. Whatever
// only a whole process shows runs in child processes (fixtures/throttle-child.js).

const crypto = require('node:crypto')
const { once } = require('node:events')
const http = require('node:http')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const { PassThrough, Readable, Writable, getDefaultHighWaterMark } = require('node:stream')
const { pipeline } = require('node:stream/promises')
const { Worker } = require('node:worker_threads')
const test = require('ava')
const { Meter, MonitoredWritable, SluiceError, Throttle, ThrottleGroup } = require('..')
const { createClock } = require('sluice/testing')
const { cpuSeconds, runChild } = require('./helpers.js')

const CHILD = path.join(__dirname, 'fixtures', 'throttle-child.js')
const WORKER = path.join(__dirname, 'fixtures', 'throttle-worker.js')

/** `n` bytes of a fixed, non-uniform pattern (a lost or reordered piece changes the bytes). */
function pattern (n, seed = 0) {
  const buf = Buffer.alloc(n)
  for (let i = 0; i < n; i++) buf[i] = (i * 7 + (i >> 8) + seed) & 0xff
  return buf
}

const sha = (buf) => crypto.createHash('sha256').update(buf).digest('hex')

/**
 * Records what `stream` emits, with the manual clock's time: `log` of { at, chunk }, `units()`
 * (bytes, or items in object mode), `at(ms)` what had arrived by then.
 */
function record (stream, clock) {
  const log = []
  stream.on('data', (chunk) => log.push({ at: clock.now(), chunk }))
  const size = (chunk) => (stream.readableObjectMode ? 1 : chunk.length)
  return {
    log,
    units: () => log.reduce((n, e) => n + size(e.chunk), 0),
    at: (ms) => log.filter((e) => e.at <= ms).reduce((n, e) => n + size(e.chunk), 0),
    bytes: () => Buffer.concat(log.map((e) => e.chunk))
  }
}

/** A Throttle on a fresh manual clock, its output recorded. */
function manual (options) {
  const clock = createClock()
  const t = new Throttle({ ...options, clock })
  return { clock, t, out: record(t, clock) }
}

/** Runs the node child scenario `name`; resolves with its exit status and JSON line. */
async function child (name, args = [], timeout = 60000) {
  const r = await runChild([CHILD, name, ...args.map(String)], { timeout })
  const lines = r.stdout.trim().split('\n').filter(Boolean)
  return { ...r, out: lines.length ? JSON.parse(lines[lines.length - 1]) : null }
}

// ---- 1. options ----------------------------------------------------------------------------

test('every bad option is a TypeError or RangeError that names the option', (t) => {
  const clock = createClock()
  const bad = [
    // [options, error class, code, the name the message must contain]
    [{}, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.rate'],
    [{ rate: 0 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.rate'],
    [{ rate: -5 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.rate'],
    [{ rate: NaN }, RangeError, 'ERR_OUT_OF_RANGE', 'options.rate'],
    [{ rate: -Infinity }, RangeError, 'ERR_OUT_OF_RANGE', 'options.rate'],
    [{ rate: '100' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.rate'],
    [{ rate: null }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.rate'],
    [{ rate: 10n }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.rate'],
    // A rate that underflows to 0 per second is no rate at all.
    [{ rate: 1e-300, per: 1e300 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.rate'],
    // Nor one that overflows to Infinity per second: it would silently be no limit at all.
    [{ rate: 1e300, per: 1e-300 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.rate'],
    [{ rate: 1.7e308, per: 100 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.rate'],
    [{ rate: 1, per: 0 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.per'],
    [{ rate: 1, per: -1000 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.per'],
    [{ rate: 1, per: NaN }, RangeError, 'ERR_OUT_OF_RANGE', 'options.per'],
    [{ rate: 1, per: Infinity }, RangeError, 'ERR_OUT_OF_RANGE', 'options.per'],
    [{ rate: 1, per: '1s' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.per'],
    [{ rate: 1, burst: 0 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.burst'],
    [{ rate: 1, burst: -1 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.burst'],
    [{ rate: 1, burst: NaN }, RangeError, 'ERR_OUT_OF_RANGE', 'options.burst'],
    [{ rate: 1, burst: Infinity }, RangeError, 'ERR_OUT_OF_RANGE', 'options.burst'],
    [{ rate: 1, burst: '10' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.burst'],
    [{ rate: 1, initialBurst: -1 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.initialBurst'],
    [{ rate: 1, initialBurst: NaN }, RangeError, 'ERR_OUT_OF_RANGE', 'options.initialBurst'],
    [{ rate: 1, initialBurst: Infinity }, RangeError, 'ERR_OUT_OF_RANGE', 'options.initialBurst'],
    [{ rate: 1, initialBurst: 'all' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.initialBurst'],
    [{ rate: 1, mode: 'drop' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.mode'],
    [{ rate: 1, mode: 1 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.mode'],
    [{ rate: 1, cost: 'lines' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.cost'],
    [{ rate: 1, cost: 3 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.cost'],
    [{ rate: 1, weight: 2 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.weight'],
    [{ rate: 1, clock: {} }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.clock'],
    [{ rate: 1, clock: { now: () => 0, advance: () => 0 } }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.clock'],
    [{ rate: 1, group: {} }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.group'],
    [{ rate: 1, chunkSize: 0 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.chunkSize'],
    [{ rate: 1, chunkSize: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.chunkSize'],
    // Only bytes are split, and only when shaping: elsewhere a chunkSize would do nothing.
    [{ rate: 1, chunkSize: 1024, objectMode: true }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.chunkSize'],
    [{ rate: 1, chunkSize: 1024, mode: 'enforce' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.chunkSize'],
    [{ rate: 1, chunkSize: 1024, cost: 'items' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.chunkSize'],
    [{ rate: 1, chunkSize: 1024, cost: () => 1 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.chunkSize'],
    [{ rate: 1, objectMode: 1 }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.objectMode'],
    [{ rate: 1, rat: 2 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.rat'],
    [{ rate: 1, burstSize: 2 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.burstSize']
  ]
  for (const [options, type, code, name] of bad) {
    const label = JSON.stringify(options, (k, v) => (typeof v === 'bigint' ? `${v}n` : Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v))
    const err = t.throws(() => new Throttle(options), { instanceOf: type, code }, label)
    t.true(err?.message.includes(`"${name}"`), `${label}: ${err?.message}`)
  }
  t.throws(() => new Throttle(null), { instanceOf: TypeError, message: /"options"/ })
  t.throws(() => new Throttle(1000), { instanceOf: TypeError, message: /"options"/ })

  // The edges that are allowed.
  t.notThrows(() => new Throttle({ rate: 1, initialBurst: 0, clock }))
  t.notThrows(() => new Throttle({ rate: 0.001, burst: 0.5, clock }))

  // Group members: weight is theirs; the clock belongs to the group.
  const group = new ThrottleGroup({ rate: 10, clock })
  for (const weight of [0, -1, NaN, Infinity, 1e-310, 5e-324, 1e-10, 1e10]) {
    t.throws(() => group.throttle({ weight }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE', message: /"options\.weight"/ }, String(weight))
  }
  // A weight so small that a chunk's cost over it overflowed shared 1:1, whatever it said.
  for (const weight of [1e-9, 1e9]) group.throttle({ weight }).destroy()
  t.throws(() => group.throttle({ weight: '2' }), { instanceOf: TypeError, message: /"options\.weight"/ })
  t.throws(() => group.throttle({ rate: 0 }), { instanceOf: RangeError, message: /"options\.rate"/ })
  t.throws(() => group.throttle({ clock }), { instanceOf: TypeError, message: /options\.clock/ })
  t.throws(() => new Throttle({ group, clock }), { instanceOf: TypeError, message: /"options\.clock"/ })
  t.throws(() => new ThrottleGroup({ rate: 10, weight: 1 }), { instanceOf: TypeError, message: /options\.weight/ })
  t.throws(() => new ThrottleGroup({ rate: 10, clock: {} }), { instanceOf: TypeError, message: /"options\.clock"/ })
  t.throws(() => new ThrottleGroup(), { instanceOf: TypeError, message: /"options\.rate"/ })
  t.throws(() => new ThrottleGroup({ rate: -1 }), { instanceOf: RangeError, message: /"options\.rate"/ })
  t.throws(() => new ThrottleGroup({ rate: 1, burst: 0 }), { instanceOf: RangeError, message: /"options\.burst"/ })
})

test('options are read as core reads them (options.rate): getters of a class and options inherited through the prototype chain count, and are validated', (t) => {
  class Limits {
    get rate () { return 250 }
    get burst () { return 50 }
  }
  const fromClass = new Throttle(new Limits())
  t.like(fromClass.stats(), { rate: 250, burst: 50 })
  fromClass.destroy()
  const inherited = new Throttle(Object.create({ rate: 10, objectMode: true }))
  t.like(inherited.stats(), { rate: 10 })
  t.true(inherited.writableObjectMode)
  inherited.destroy()
  t.throws(() => new Throttle(Object.create({ rate: -1 })), { instanceOf: RangeError, message: /options\.rate/ })
})

test('setRate() validates its arguments like the constructor, and a refused call changes nothing', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1000, burst: 100 })
  const group = new ThrottleGroup({ rate: 1000, clock })
  for (const target of [throttle, group]) {
    for (const rate of [0, -1, NaN, -Infinity]) t.throws(() => target.setRate(rate), { instanceOf: RangeError, message: /rate/ }, String(rate))
    for (const rate of ['5', undefined, null]) t.throws(() => target.setRate(rate), { instanceOf: TypeError, message: /rate/ }, String(rate))
    t.throws(() => target.setRate(5, { burst: 0 }), { instanceOf: RangeError, message: /"options\.burst"/ })
    t.throws(() => target.setRate(5, { per: -1 }), { instanceOf: RangeError, message: /"options\.per"/ })
    t.throws(() => target.setRate(5, { initialBurst: 1 }), { instanceOf: TypeError, message: /options\.initialBurst/ })
    t.throws(() => target.setRate(5, null), { instanceOf: TypeError, message: /"options"/ })
  }
  t.like(throttle.stats(), { rate: 1000, burst: 100 })
  t.like(group.stats(), { rate: 1000 })
  throttle.write(pattern(300))
  clock.advance(1000)
  t.is(out.units(), 300, 'still 1000/s')
})

test('rate: Infinity is unthrottled: every chunk passes at once and whole, alone or in a group', (t) => {
  const clock = createClock()
  const input = pattern(1 << 20)
  const alone = new Throttle({ rate: Infinity, clock })
  const aloneOut = record(alone, clock)
  alone.write(input)
  alone.write(input.subarray(0, 1000))
  const group = new ThrottleGroup({ rate: Infinity, clock })
  const members = [group.throttle(), group.throttle()]
  const outs = members.map((m) => record(m, clock))
  for (const m of members) m.write(input)
  // No time passes at all.
  t.is(clock.now(), 0)
  t.deepEqual(aloneOut.log.map((e) => e.chunk.length), [input.length, 1000])
  t.true(aloneOut.log[0].chunk.equals(input))
  t.like(alone.stats(), { units: input.length + 1000, throttled: 0, waitedMs: 0, rate: Infinity })
  for (const out of outs) {
    t.deepEqual(out.log.map((e) => e.chunk.length), [input.length], 'one chunk in, one chunk out')
    t.true(out.bytes().equals(input))
  }
  // A member with a cap of its own in an unthrottled group: its tokens are its cap's (the
  // group's nominal token limits nothing), and a write of that much passes at once.
  const capped = new ThrottleGroup({ rate: Infinity, clock }).throttle({ rate: 100000 })
  t.like(capped.stats(), { tokens: 10000, burst: 10000, rate: 100000 })
  const cappedOut = record(capped, clock)
  capped.write(pattern(10000))
  clock.advance(0)
  t.is(cappedOut.units(), 10000, 'the whole burst, without time passing')
})

test('setRate(Infinity) while a chunk waits releases the rest at once, in one piece', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1000, burst: 100 })
  const input = pattern(10000)
  throttle.write(input)
  clock.advance(500)
  const before = out.log.length
  t.is(out.units(), 600)
  throttle.setRate(Infinity)
  clock.advance(0)
  t.is(out.units(), input.length, 'everything, without time passing')
  t.is(out.log.length, before + 1, 'the rest as one piece')
  t.true(out.bytes().equals(input))
})

test.serial('rate: Infinity costs about what a PassThrough costs (CPU time, beside a reference run)', async (t) => {
  // 32 MiB in 64 KiB writes plus one 16 MiB write, through a PassThrough and an unthrottled
  // Throttle. CPU time, not wall time: a busy machine slows both alike.
  const block = pattern(65536)
  const big = pattern(16 << 20)
  const run = (make) => cpuSeconds(async () => {
    const s = make()
    let n = 0
    s.on('data', (c) => { n += c.length })
    for (let i = 0; i < 512; i++) if (!s.write(block)) await once(s, 'drain')
    s.end(big)
    await once(s, 'end')
    return n
  })
  await run(() => new Throttle({ rate: Infinity })) // warm-up
  const pass = await run(() => new PassThrough())
  const throttled = await run(() => new Throttle({ rate: Infinity }))
  t.is(throttled.result, pass.result)
  t.true(throttled.cpu < pass.cpu * 4 + 0.05, `Throttle({ rate: Infinity }) ${(throttled.cpu * 1000).toFixed(1)} ms CPU vs PassThrough ${(pass.cpu * 1000).toFixed(1)} ms`)
})

test('fractional and tiny rates never drop data: 3 bytes at 0.5 B/s with burst 1 come one every 2 s', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 0.5, burst: 1 })
  const done = []
  throttle.write('abc', () => done.push(clock.now()))
  t.deepEqual(out.log.map((e) => [e.at, e.chunk.toString()]), [[0, 'a']])
  clock.advance(1999)
  t.is(out.units(), 1)
  clock.advance(1)
  t.is(out.units(), 2)
  clock.advance(60000)
  t.deepEqual(out.log.map((e) => [e.at, e.chunk.toString()]), [[0, 'a'], [2000, 'b'], [4000, 'c']])
  t.deepEqual(done, [4000])

  // The same rate written another way, for objects, and at a rate far below one per second.
  const items = manual({ rate: 1, per: 2000, objectMode: true })
  for (const v of ['x', 'y', 'z']) items.t.write(v)
  items.clock.advance(10000)
  t.deepEqual(items.out.log.map((e) => [e.at, e.chunk]), [[0, 'x'], [2000, 'y'], [4000, 'z']])
  const slow = manual({ rate: 0.01, burst: 1 })
  slow.t.write(pattern(4))
  slow.clock.advance(300000)
  t.deepEqual(slow.out.log.map((e) => e.at), [0, 100000, 200000, 300000])
  t.true(slow.out.bytes().equals(pattern(4)))
})

// ---- 2. token bucket -----------------------------------------------------------------------

test('the initial burst passes at once, then exactly `rate` per second', (t) => {
  const rate = 1000
  const burst = 100
  const { clock, t: throttle, out } = manual({ rate, burst })
  const input = pattern(burst + 3 * rate)
  let done = null
  throttle.write(input, () => { done = clock.now() })
  t.is(out.units(), burst, 'the burst, before any time passes')
  for (let s = 1; s <= 3; s++) {
    clock.advance(999)
    t.true(out.units() < burst + s * rate, `not all of second ${s} before it ends`)
    clock.advance(1)
    t.is(out.units(), burst + s * rate, `burst + ${s} s × rate`)
  }
  t.is(done, 3000, 'the write callback comes with the last byte')
  t.true(out.bytes().equals(input))
  // At every moment, no more than burst + rate × elapsed has passed.
  for (const { at } of out.log) t.true(out.at(at) <= burst + rate * at / 1000 + 1e-9, `at ${at} ms`)
})

test('the default burst is 100 ms of rate (at least one unit), and `per` sets the unit of time', (t) => {
  const a = manual({ rate: 5000 })
  t.like(a.t.stats(), { burst: 500, rate: 5000, per: 1000 })
  a.t.write(pattern(5000))
  t.is(a.out.units(), 500)
  const b = manual({ rate: 3, per: 100, objectMode: true })
  t.like(b.t.stats(), { rate: 3, per: 100, burst: 3 })
  for (let i = 0; i < 100; i++) b.t.write(i)
  b.clock.advance(1000)
  t.is(b.out.units(), 3 + 30, '3 per 100 ms')
  const c = manual({ rate: 2, objectMode: true })
  t.like(c.t.stats(), { burst: 1 })
})

test('idle time banks at most `burst`; only the initial burst may be larger, once', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1000, burst: 100, initialBurst: 400 })
  throttle.write(pattern(1000))
  t.is(out.units(), 400, 'the initial burst')
  clock.advance(600)
  t.is(out.units(), 1000)
  clock.advance(3600_000) // an hour idle
  const before = out.units()
  throttle.write(pattern(5000))
  t.is(out.units() - before, 100, 'after an hour idle, only the burst passes at once')
  clock.advance(1000)
  t.is(out.units() - before, 1100)
})

test('initialBurst: 0 — nothing passes before the first tokens are earned', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1000, burst: 100, initialBurst: 0 })
  const input = pattern(300)
  throttle.write(input)
  t.is(out.units(), 0)
  clock.advance(99)
  t.is(out.units(), 0)
  clock.advance(1)
  t.is(out.units(), 100)
  clock.advance(200)
  t.is(out.units(), 300)
  t.true(out.bytes().equals(input))
})

test('shape mode: an item costing more than the burst passes when the bucket is full, and the next waits in proportion to its cost', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 10, burst: 1, objectMode: true, cost: (x) => x.n })
  for (const n of [30, 10, 1, 1]) throttle.write({ n })
  clock.advance(60000)
  // 30 units at 10/s: the next item waits 3 s; 10 units: 1 s; then 0.1 s per unit.
  t.deepEqual(out.log.map((e) => [e.at, e.chunk.n]), [[0, 30], [3000, 10], [4000, 1], [4100, 1]])
  t.like(throttle.stats(), { units: 42 })
})

test('a cost function: units per item; cost 0 passes at once; bad costs and throwing cost functions fail the stream', async (t) => {
  const { clock, t: throttle, out } = manual({ rate: 100, burst: 10, objectMode: true, cost: (x) => x.cost })
  for (let i = 0; i < 10; i++) throttle.write({ i, cost: 5 })
  t.is(out.units(), 2, '10 tokens: two items of 5')
  clock.advance(50)
  t.is(out.units(), 3, 'then one every 50 ms')
  clock.advance(350)
  t.is(out.units(), 10)
  throttle.write({ i: 10, cost: 0 })
  t.is(out.units(), 11, 'free while the bucket is empty')
  t.deepEqual(out.log.map((e) => e.chunk.i), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

  for (const cost of [-1, NaN, Infinity, '3', undefined]) {
    const bad = new Throttle({ rate: 100, objectMode: true, cost: () => cost, clock: createClock() })
    const [err] = await Promise.all([once(bad, 'error').then(([e]) => e), bad.write({})])
    t.like(err, { code: 'ERR_SLUICE_INVALID_COST' }, String(cost))
  }
  // A cost with no string form (String() throws on it): the error still describes it, write() does not throw.
  const formless = Object.create(null)
  const odd = new Throttle({ rate: 100, objectMode: true, cost: () => formless, clock: createClock() })
  const [oddErr] = await Promise.all([once(odd, 'error').then(([e]) => e), odd.write({})])
  t.like(oddErr, { code: 'ERR_SLUICE_INVALID_COST', cost: formless })
  t.regex(oddErr.message, /options\.cost gave \[Object with no string form\]/)
  const boom = new Error('cost failed')
  const throwing = new Throttle({ rate: 100, objectMode: true, cost: () => { throw boom }, clock: createClock() })
  throwing.write({})
  const [err] = await once(throwing, 'error')
  t.is(err, boom)
  // A throw of something that is no error, falsy ones too: the stream fails all the same (a
  // write callback given null would read as success, the chunk lost uncounted).
  for (const thrown of [null, undefined, 0, '', false, 'oops']) {
    const s = new Throttle({ rate: 1000, objectMode: true, cost: (i) => { if (i === 2) throw thrown; return 1 }, clock: createClock() })
    const seen = []
    const failure = await pipeline(Readable.from([1, 2, 3]), s, new Writable({ objectMode: true, write (c, e, cb) { seen.push(c); cb() } })).then(() => null, (e) => e)
    t.like(failure, { code: 'ERR_SLUICE_INVALID_COST', cause: thrown }, `thrown ${String(thrown)}`)
    t.regex(failure.message, /options\.cost threw/)
    t.false(seen.includes(3), 'nothing after the failing chunk')
  }
  // A cost that spells a number is not shown as one.
  for (const [cost, shown] of [['5', /gave the string '5'/], [5n, /gave the BigInt 5n/]]) {
    const s = new Throttle({ rate: 100, objectMode: true, cost: () => cost, clock: createClock() })
    const [e] = await Promise.all([once(s, 'error').then(([x]) => x), s.write({})])
    t.regex(e.message, shown)
  }

  // cost 'items' on a byte stream: each chunk is one unit and passes whole.
  const items = manual({ rate: 2, cost: 'items' })
  for (const size of [10000, 1, 500]) items.t.write(pattern(size))
  items.clock.advance(1000)
  t.deepEqual(items.out.log.map((e) => [e.at, e.chunk.length]), [[0, 10000], [500, 1], [1000, 500]])
})

// ---- 3. splitting --------------------------------------------------------------------------

test('a 64 KiB chunk at a low rate comes out in pieces as tokens come, and the pieces are the input', (t) => {
  const rate = 16384
  const { clock, t: throttle, out } = manual({ rate })
  const burst = throttle.stats().burst
  const input = pattern(65536)
  let done = null
  throttle.write(input, () => { done = clock.now() })
  clock.advance(10000)
  t.true(out.log.length >= 16, `${out.log.length} pieces`)
  t.true(out.bytes().equals(input))
  t.true(out.log[0].chunk.length <= burst)
  for (const { at } of out.log) t.true(out.at(at) <= burst + rate * at / 1000 + 1e-6, `no more than the rate allows by ${at} ms`)
  const ideal = (input.length - burst) / rate * 1000
  t.true(done >= ideal && done <= ideal + 100, `the write completed at ${done} ms; ideal ${ideal} ms`)
  // Zero-copy pieces of the written buffer.
  t.true(out.log.every((e) => e.chunk.buffer === input.buffer))

  // A string: its bytes, in pieces, in order.
  const text = 'héllo wörld ✓ '.repeat(2000)
  const s = manual({ rate: 4096 })
  s.t.write(text)
  s.clock.advance(20000)
  t.true(s.out.log.length > 1)
  t.is(s.out.bytes().toString(), text)
})

test('objects are never split: a 64 KiB Buffer in object mode passes whole (the same object), at its cost in bytes', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 16384, objectMode: true, cost: 'bytes' })
  const a = pattern(65536)
  const b = pattern(100)
  throttle.write(a)
  throttle.write(b)
  clock.advance(10000)
  t.is(out.log.length, 2)
  t.is(out.log[0].chunk, a)
  t.is(out.log[0].at, 0, 'it went when the bucket was full')
  t.is(out.log[1].chunk, b)
  // a left (65536 - burst) of debt: b waits until it is paid and 100 more are earned.
  const burst = throttle.stats().burst
  const expected = (65536 - burst + 100) / 16384 * 1000
  t.true(Math.abs(out.log[1].at - expected) < 0.001, `b at ${out.log[1].at} ms, expected ${expected}`)
})

test("object mode, cost 'bytes': a string costs its UTF-8 bytes, as it passes on, whatever encoding its write named; an ArrayBuffer or a DataView its bytes; as Meter counts them", (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1e6, objectMode: true, cost: 'bytes' })
  const vm = require('node:vm')
  const items = [
    ['6869', 'hex', 4], ['zzzz', 'hex', 4], ['!!!!', 'base64', 4], ['aGk=', 'base64', 4], ['héllo', undefined, 6], ['é', 'latin1', 2],
    [new ArrayBuffer(5), undefined, 5], [new DataView(new ArrayBuffer(7)), undefined, 7], [vm.runInNewContext('new ArrayBuffer(3)'), undefined, 3]
  ]
  let expected = 0
  for (const [item, encoding, bytes] of items) {
    throttle.write(item, encoding)
    clock.advance(10)
    expected += bytes
    t.is(throttle.stats().units, expected, `${typeof item === 'string' ? `'${item}' (${encoding})` : item.constructor.name}: ${bytes}`)
  }
  // What passes on is the string as written: a byte stream after it makes its UTF-8 bytes.
  const passed = out.log.map(({ chunk }) => chunk)
  t.deepEqual(passed, items.map(([item]) => item))
  t.is(passed.reduce((sum, c) => sum + (typeof c === 'string' ? Buffer.from(c).length : c.byteLength), 0), expected)
  const meter = new Meter({ objectMode: true })
  meter.resume()
  for (const [item, encoding] of items) meter.write(item, encoding)
  t.is(meter.stats().bytes, expected, 'the same as Meter counts')
  meter.destroy()
  throttle.destroy()
})

test('object mode: N items per second, in order', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 10, objectMode: true })
  for (let i = 0; i < 50; i++) throttle.write({ i })
  const burst = throttle.stats().burst
  t.is(out.units(), burst)
  for (let s = 1; s <= 3; s++) {
    clock.advance(1000)
    t.is(out.units(), burst + 10 * s)
  }
  t.deepEqual(out.log.map((e) => e.chunk.i), Array.from({ length: out.units() }, (_, k) => k))
  t.deepEqual(out.log.slice(0, 4).map((e) => e.at), [0, 100, 200, 300])
})

test('object mode: undefined items pass like any other, whether they waited for tokens or not (as through a Meter)', (t) => {
  const items = [undefined, 1, undefined, 2, undefined, 0, '', false]
  for (const options of [{ rate: Infinity }, { rate: 1000, burst: 1000 }, { rate: 10, burst: 1 }, { rate: 10, cost: () => 0 }]) {
    const { clock, t: throttle, out } = manual({ ...options, objectMode: true })
    for (const item of items) throttle.write(item)
    clock.advance(1000)
    t.deepEqual(out.log.map((e) => e.chunk), items, JSON.stringify(options))
    t.is(throttle.stats().units, options.cost ? 0 : items.length)
  }
})

test('backpressure: write() returns false once the writable buffer is full, and drain comes as tokens do', async (t) => {
  const hwm = getDefaultHighWaterMark(false)
  const { clock, t: throttle, out } = manual({ rate: hwm, burst: 1024 })
  t.is(throttle.writableHighWaterMark, hwm)
  const block = pattern(hwm / 2)
  const results = []
  for (let i = 0; i < 4; i++) results.push(throttle.write(block))
  t.deepEqual(results, [true, false, false, false], 'the held chunk and the buffered ones count against highWaterMark')
  const drained = once(throttle, 'drain')
  clock.advance(4000)
  await drained
  t.is(out.units(), 2 * hwm)
  t.true(out.bytes().equals(Buffer.concat([block, block, block, block])))
})

// ---- 4. setRate, pause, resume --------------------------------------------------------------

test('setRate() mid-stream: faster, then slower; the tokens earned so far are kept', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1000, burst: 100 })
  throttle.write(pattern(20000))
  clock.advance(1050)
  t.is(out.units(), 1100)
  t.is(throttle.stats().tokens, 50, '50 ms earned at 1000/s')
  t.is(throttle.setRate(4000, { burst: 100 }), throttle)
  t.like(throttle.stats(), { tokens: 50, rate: 4000, burst: 100 })
  // The next 100-byte piece needs 50 more tokens: 12.5 ms at 4000/s, then one every 25 ms.
  clock.advance(12)
  t.is(out.units(), 1100)
  clock.advance(1)
  t.is(out.units(), 1200)
  clock.advance(937)
  // By 2000 ms: the burst, 1050 ms at 1000/s and 950 ms at 4000/s, in whole 100-byte pieces.
  const at2000 = out.units()
  t.is(at2000, Math.floor((100 + 1000 * 1.05 + 4000 * 0.95) / 100) * 100)
  // Slower: pieces every 200 ms at 500/s (the 50 tokens left are kept).
  throttle.setRate(500, { burst: 100 })
  clock.advance(1000)
  const last = out.log.slice(-5).map((e) => e.at)
  t.deepEqual(last, [2100, 2300, 2500, 2700, 2900])
  t.is(out.units(), at2000 + 500)

  // Without a burst, setRate keeps the one given before (a default one follows the rate: below).
  throttle.setRate(20000)
  t.like(throttle.stats(), { rate: 20000, burst: 100 })
  throttle.setRate(30, { per: 10 })
  t.like(throttle.stats(), { rate: 30, per: 10, burst: 100 })
})

test('pause() stops releases and resume() restarts them; the bucket fills meanwhile, to the burst at most', (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1000, burst: 100 })
  const input = pattern(2000)
  throttle.write(input)
  clock.advance(500)
  t.is(out.units(), 600)
  throttle.pause()
  clock.advance(3000)
  t.is(out.units(), 600, 'nothing while paused')
  t.is(throttle.readableLength, 0, 'not even into the readable buffer')
  t.like(throttle.stats(), { tokens: 100, pending: 1400 })
  throttle.resume()
  clock.advance(0)
  t.is(out.units(), 700, 'the banked burst at once, no more')
  clock.advance(1300)
  t.is(out.units(), 2000)
  t.true(out.bytes().equals(input))
})

test("pause() holds the budget only while nothing reads: for await, 'readable' + read() and read() after pause() get everything, as from a paused PassThrough", async (t) => {
  const input = pattern(50000)
  const consumers = {
    async forAwait (s) {
      const parts = []
      for await (const c of s) parts.push(c)
      return Buffer.concat(parts)
    },
    readable (s) {
      const parts = []
      s.on('readable', () => {
        let c
        while ((c = s.read()) !== null) parts.push(c)
      })
      return once(s, 'end').then(() => Buffer.concat(parts))
    },
    async readFirst (s) {
      // A read() with no listener at all: what is there (a PassThrough has it all already; a
      // throttle, its burst or nothing), and the stream reads ahead for the consumer.
      const first = s.read() ?? Buffer.alloc(0)
      return Buffer.concat([first, await consumers.readable(s)])
    }
  }
  for (const [name, consume] of Object.entries(consumers)) {
    for (const make of [() => new PassThrough(), () => new Throttle({ rate: 1e6, burst: 1000 }), () => new ThrottleGroup({ rate: 1e6, burst: 1000 }).throttle()]) {
      const s = make()
      s.pause()
      s.end(input)
      const got = await consume(s)
      t.true(got.equals(input), `${name} on ${s.constructor.name}`)
      if (s instanceof Throttle) t.like(s.stats(), { units: input.length, pending: 0 }, name)
    }
  }
})

test("with a manual clock, a 'readable' listener added to a paused throttle lets releases go on at advance()", (t) => {
  const clock = createClock()
  const throttle = new Throttle({ rate: 1000, burst: 100, clock })
  throttle.pause()
  throttle.write(pattern(1000))
  clock.advance(500)
  t.is(throttle.readableLength, 0, 'paused, nobody reading: nothing released')
  t.is(throttle.stats().tokens, 100, 'the bucket filled, to the burst')
  const got = []
  throttle.on('readable', () => {
    let c
    while ((c = throttle.read()) !== null) got.push(c)
  })
  t.is(throttle.readableLength, 100, 'the banked burst at once')
  clock.advance(900)
  t.is(throttle.readableLength + got.reduce((n, c) => n + c.length, 0), 1000)
})

test('a member made with an already-aborted signal is not counted as a member (a plain group and a shared one)', (t) => {
  const group = new ThrottleGroup({ rate: 1000 })
  const shared = ThrottleGroup.shared('test:aborted-signal-member', { rate: 1000 })
  for (const g of [group, shared]) {
    for (let i = 0; i < 3; i++) {
      const member = g.throttle({ signal: AbortSignal.abort() })
      member.on('error', () => {})
      t.true(member.destroyed)
      t.is(member.stats().units, 0)
    }
    t.is(g.stats().members, 0)
    const live = g.throttle()
    t.is(g.stats().members, 1)
    live.destroy()
    t.is(g.stats().members, 0)
  }
})

test("a destroyed member's setRate(), pause() and stats() do not reach the member that took its place in the group (manual clock)", (t) => {
  // A group hands a leaving member's place to the next one that joins: a destroyed stream's
  // setRate() (an admin endpoint acting on a closed connection) or pause() capped or stopped
  // that stranger.
  for (const act of [(s) => s.setRate(1000), (s) => s.pause(), (s) => s.setRate(0.001, { burst: 1 })]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate: 1e6, clock })
    const old = group.throttle({ rate: 5e5 })
    old.write(pattern(100))
    clock.advance(10)
    const before = old.stats()
    old.destroy()
    const fresh = group.throttle()
    const out = record(fresh, clock)
    act(old)
    fresh.write(pattern(500000))
    clock.advance(1000)
    t.true(out.units() >= 0.9 * 500000, `the new member kept the group's rate: ${out.units()} bytes in 1 s`)
    t.is(fresh.stats().rate, 1e6)
    t.like(old.stats(), { units: before.units, rate: 5e5 }, "the destroyed member's stats are its own, as they were")
    fresh.destroy()
  }
})

test('group.setRate() changes the shared budget; a member’s setRate() changes only its cap', (t) => {
  const clock = createClock()
  const group = new ThrottleGroup({ rate: 1000, burst: 100, clock })
  const a = group.throttle({ rate: 200, burst: 20 })
  const b = group.throttle()
  const outA = record(a, clock)
  const outB = record(b, clock)
  a.write(pattern(100000))
  b.write(pattern(100000))
  clock.advance(10000)
  const a0 = outA.units()
  const b0 = outB.units()
  t.true(a0 <= 20 + 200 * 10, `a kept to its cap: ${a0}`)
  t.true(a0 + b0 <= 100 + 1000 * 10, 'both within the group budget')
  group.setRate(4000, { burst: 400 })
  t.like(group.stats(), { rate: 4000, per: 1000, burst: 400 })
  group.setRate(40, { per: 10, burst: 400 })
  t.like(group.stats(), { rate: 40, per: 10, burst: 400 }, 'the rate as set, per `per` ms, as a Throttle reports it')
  group.setRate(4000, { burst: 400 })
  t.like(a.stats(), { rate: 200 }, "a member's stats show its own cap")
  clock.advance(10000)
  t.true(outA.units() - a0 <= 20 + 200 * 10)
  t.true(outB.units() - b0 >= 0.9 * (4000 - 200) * 10, `b took the raised budget: ${outB.units() - b0}`)
  a.setRate(2000, { burst: 200 })
  t.like(a.stats(), { rate: 2000, burst: 200 })
  const a1 = outA.units()
  clock.advance(5000)
  t.true(outA.units() - a1 > 4 * (20 + 200 * 5), `a's raised cap lets it well past the old one: ${outA.units() - a1} in 5 s`)
})

test.serial('a burst far below one wake-up of rate does not lower the long-run rate (real clock, generous bounds)', async (t) => {
  // Serial: the manual-clock tests of this file hold the event loop for a second or more together
  // (several seconds on a loaded machine), which only this test's wall time would see.
  // 1 MB/s with a burst of one byte: a wake-up every microsecond is impossible, so what a late
  // wake-up earned beyond the burst is released with it. Before, each wake-up carried one byte:
  // 300 KB took ~12 s.
  for (const [rate, burst] of [[1e6, 1], [1e6, 100]]) {
    const throttle = new Throttle({ rate, burst })
    const input = pattern(300000, 5)
    const start = performance.now()
    const parts = []
    throttle.on('data', (c) => parts.push(c))
    throttle.end(input)
    await once(throttle, 'end')
    const elapsed = performance.now() - start
    t.true(Buffer.concat(parts).equals(input))
    const ideal = (input.length - burst) / rate * 1000
    t.true(elapsed >= ideal - 1, `burst ${burst}: ${elapsed.toFixed(0)} ms; ideal ${ideal.toFixed(0)} ms`)
    // What each release carries is what the bug cut (one byte each, 300 KB in ~12 s): a wake-up
    // comes at least a millisecond after the last and carries what its lateness earned, a
    // millisecond of rate (1,000 bytes) or more however starved the process; half of that on
    // average leaves room for the first and last releases and fails a credit cut to half. Wall
    // time only generously: a loaded runner starves the JS thread (5.5x beside a Rust build on
    // both cores; 25x once at a load average of 13 on 2 cores).
    t.true(input.length / parts.length >= 500, `burst ${burst}: ${parts.length} releases for ${input.length} bytes`)
    t.true(elapsed <= 60 * ideal, `burst ${burst}: ${elapsed.toFixed(0)} ms; ideal ${ideal.toFixed(0)} ms`)
    // The group's timer wakes at most once a millisecond (MIN_WAKE in src/throttle/group.rs),
    // each wake-up one release: with a burst of one byte it woke every few µs (6,400 releases
    // for these 300 KB, 0.77 s of CPU per second of throttling). A loaded machine only makes
    // wake-ups later, so fewer.
    t.true(parts.length <= elapsed + 2, `burst ${burst}: ${parts.length} releases in ${elapsed.toFixed(0)} ms`)
  }
  // The same in a group of two, whose members take turns a piece (a byte) at a time: each
  // wake-up is one release per member, not one per byte (800,000 a second before).
  const group = new ThrottleGroup({ rate: 1e6, burst: 1 })
  const members = [group.throttle(), group.throttle()]
  const input = pattern(150000, 3)
  const received = members.map(() => [])
  members.forEach((m, i) => m.on('data', (c) => received[i].push(c)))
  const start = performance.now()
  for (const m of members) m.end(input)
  await Promise.all(members.map((m) => once(m, 'end')))
  const elapsed = performance.now() - start
  for (const parts of received) t.true(Buffer.concat(parts).equals(input))
  const releases = received[0].length + received[1].length
  t.true(releases <= 2 * (elapsed + 2), `group of two, burst 1: ${releases} releases in ${elapsed.toFixed(0)} ms`)
})

/** The most units `out` (a `record()`) received within any `ms` ms (a window ending at a release). */
function mostIn (out, ms) {
  const size = (e) => (Buffer.isBuffer(e.chunk) ? e.chunk.length : 1)
  let most = 0
  let sum = 0
  let from = 0
  for (const e of out.log) {
    sum += size(e)
    while (out.log[from].at <= e.at - ms) sum -= size(out.log[from++])
    most = Math.max(most, sum)
  }
  return most
}

test("a group member's own cap with a burst far below a millisecond of its rate keeps its rate, released at most once a millisecond (manual clock)", (t) => {
  // 500 KB/s with a burst of one byte refills in 2 µs: its timer woke that often, each wake-up
  // one byte (on a real clock each a round trip to JS, so it passed ~17 KB/s). Now it wakes at
  // most once a millisecond and what the wait earned goes with the release, as for a group's
  // own bucket.
  for (const beside of [false, true]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate: 1e6, clock })
    const capped = group.throttle({ rate: 5e5, burst: 1 })
    const out = record(capped, clock)
    capped.write(pattern(200000))
    const other = beside ? group.throttle() : null
    other?.write(pattern(400000))
    clock.advance(100)
    const what = beside ? 'beside an uncapped member' : 'alone'
    const times = new Set(out.log.map((e) => e.at)).size
    t.true(times <= 101, `${what}: releases at ${times} moments in 100 ms`)
    t.true(out.units() >= 0.99 * 5e5 * 0.1 && out.units() <= 1 + 5e5 * 0.1, `${what}: ${out.units()} bytes in 100 ms`)
    // In any 10 ms: 10 ms of rate, the burst, and at most 1 ms of rate that a wake-up's credit
    // carries.
    t.true(mostIn(out, 10) <= 5e5 * 0.011 + 1, `${what}: ${mostIn(out, 10)} bytes in 10 ms`)
    t.is(out.bytes().toString('hex'), pattern(200000).subarray(0, out.units()).toString('hex'))
    capped.destroy()
    other?.destroy()
  }
  // Objects: 5,000 items/s with a burst of 1 woke the timer every 200 µs, one item each.
  const clock = createClock()
  const group = new ThrottleGroup({ rate: 1e5, clock })
  const items = group.throttle({ objectMode: true, rate: 5000, burst: 1 })
  const out = record(items, clock)
  for (let i = 0; i < 2000; i++) items.write({ i })
  clock.advance(100)
  t.is(out.units(), 1 + 500, 'objects: the burst, then exactly 5,000/s')
  t.deepEqual(out.log.map((e) => e.chunk.i), [...Array(501).keys()])
  const times = new Set(out.log.map((e) => e.at)).size
  t.true(times <= 101, `objects: releases at ${times} moments in 100 ms`)
  items.destroy()
})

test("a group member's own cap with a burst far below a millisecond of its rate keeps it when the writes come in chunks, beside another member (manual clock)", (t) => {
  // A member that begins a chunk is served one piece in its write and leaves the rest of the
  // group queued for the timer, which then waits the group's floor (5 ms here): the full caps
  // of the members left queued dropped what they earned meanwhile (a cap passed 0.87x of its
  // rate with chunks of 16 KiB, beside either kind of member).
  const chunk = 16384
  for (const [name, other] of [['uncapped', {}], ['capped the same', { rate: 5e5, burst: 1 }]]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate: 1e6, clock })
    const members = [{ rate: 5e5, burst: 1 }, other].map((o) => group.throttle({ ...o, highWaterMark: 64 * chunk }))
    const outs = members.map((m) => record(m, clock))
    for (const m of members) for (let i = 0; i < 64; i++) m.write(pattern(chunk, i))
    clock.advance(1000)
    const capped = outs[0].units()
    t.true(capped >= 0.99 * 5e5 && capped <= 1 + 5e5, `beside a member ${name}: ${capped} bytes in 1 s`)
    t.true(mostIn(outs[0], 10) <= 5e5 * 0.011 + 1, `beside a member ${name}: ${mostIn(outs[0], 10)} bytes in 10 ms`)
    const moments = new Set(outs[0].log.map((e) => e.at)).size
    t.true(moments <= 1001, `beside a member ${name}: releases at ${moments} moments in 1 s`)
    const both = capped + outs[1].units()
    t.true(both <= 1e5 + 1e6, `the group's budget holds: ${both} bytes in 1 s`)
    for (const m of members) m.destroy()
  }
})

test("a group member's own cap with a burst far below a millisecond of its rate keeps it with 1,000-byte writes, beside other members (manual clock)", (t) => {
  // A member that begins a chunk with the group's tokens due a few µs later waits for the
  // group's floor (5 ms here), and its full cap dropped what it earned meanwhile at every chunk:
  // 0.50x of its cap beside one uncapped member, 0.40x for a cap above its share (fair: 0.5 MB/s).
  for (const [capRate, fair, others] of [[3e5, 3e5, 1], [6e5, 5e5, 1], [5e5, 1e6 / 3, 2]]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate: 1e6, clock })
    const capped = group.throttle({ rate: capRate, burst: 1, highWaterMark: 1 << 23 })
    const rest = Array.from({ length: others }, () => group.throttle({ highWaterMark: 1 << 23 }))
    const out = record(capped, clock)
    for (const m of [capped, ...rest]) for (let i = 0; i < 3000; i++) m.write(pattern(1000, i))
    for (const m of rest) m.resume()
    clock.advance(200)
    const before = out.units()
    clock.advance(1000)
    const passed = out.units() - before
    t.true(passed >= 0.97 * fair && passed <= 1 + fair * 1.002 + capRate / 1000, `cap ${capRate} beside ${others}: ${passed} bytes in 1 s, fair ${fair}`)
    for (const m of [capped, ...rest]) m.destroy()
  }
})

test('members writing 100-byte chunks beside a member capped with a burst of one byte keep the group\'s rate, and so does that member (manual clock)', (t) => {
  // A cap with a burst of 1 byte was served a byte at a time: its tag hardly moved, so it was at
  // the head of the queue at nearly every write, and the one piece a write's `acquire` serves
  // went to it; the writers' chunks waited for the timer, one per member per millisecond. The
  // group passed 0.50 MB in 1 s of its 1.1 MB (1 MB/s and its initial burst of 100 KB), also
  // beside a cap of 2 MB/s that never binds; the capped member 0.50x of its 200 KB/s.
  for (const [cap, least] of [[2e5, 2e5], [2e6, 2.5e5]]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate: 1e6, clock })
    const members = [{ rate: cap, burst: 1 }, {}, {}, {}].map((o) => group.throttle({ ...o, highWaterMark: 1 << 22 }))
    const outs = members.map((m) => record(m, clock))
    members.forEach((m, k) => { for (let n = 0; n < 6e5; n += 100) m.write(pattern(100, n + k)) })
    clock.advance(1000)
    const units = outs.map((o) => o.units())
    const total = units.reduce((a, b) => a + b)
    t.true(total >= 0.99 * 1.1e6 && total <= 1.1e6, `cap ${cap}: the group passed ${total} bytes in 1 s (${units.join(' / ')})`)
    // The capped member: its cap, or its share of the group's 1 MB/s when the cap is above it.
    t.true(units[0] >= 0.95 * least && units[0] <= 1 + cap, `cap ${cap}: the capped member passed ${units[0]} bytes in 1 s`)
    for (const m of members) m.destroy()
  }
})

/**
 * A 1 MB/s group on a manual clock with two members, one capped at 200 KB/s with a burst of one
 * byte and one uncapped, each recorded.
 */
function cappedBesideUncapped (highWaterMark) {
  const clock = createClock()
  const group = new ThrottleGroup({ rate: 1e6, clock })
  const capped = group.throttle({ rate: 2e5, burst: 1, highWaterMark })
  const other = group.throttle({ highWaterMark })
  return { clock, capped, other, outCapped: record(capped, clock), outOther: record(other, clock) }
}

test("a write's own chunk goes at once when a member capped with a tiny burst is at the head of the queue with little in its cap (manual clock)", (t) => {
  // A write serves one piece at once, the head's: a member capped at 200 KB/s with a burst of
  // 1 byte sat at the head with 1 byte in its cap, took it, and the writer waited for the timer.
  // A piece its cap cut short no longer counts as the one piece.
  const { clock, capped, other, outCapped, outOther } = cappedBesideUncapped(1 << 20)
  other.write(pattern(1000))
  capped.write(pattern(100000))
  clock.advance(0)
  t.is(outOther.units(), 1000)
  t.is(outCapped.units(), 1, 'the burst')
  // Its tag (1) is below the other's (1,000): it is the head.
  clock.advance(0.5)
  other.write(pattern(100, 1))
  t.is(outOther.units(), 1100, "the other's 100 bytes went in its write")
  clock.advance(0)
  t.true(outCapped.units() <= 1 + 2e5 * 0.0005 + 1, `the capped member: ${outCapped.units()} bytes by 0.5 ms`)
  clock.advance(100)
  t.true(outCapped.units() >= 0.99 * 2e5 * 0.1, `the capped member keeps its rate: ${outCapped.units()} bytes by 100.5 ms`)
  capped.destroy()
  other.destroy()
})

test("a group member's own cap with a tiny burst keeps its rate while another member writes between the timer's wake-ups (manual clock)", (t) => {
  // Each write serves the queue and refilled the waiting cap up to its burst, dropping what it
  // had earned since it was due: the wake-up after credited only the time since that write. A
  // member capped at 200 KB/s with burst 1, beside one writing 100 bytes every 0.5 ms, passed
  // 101,001 bytes in 1 s.
  const { clock, capped, other, outCapped, outOther } = cappedBesideUncapped(1 << 22)
  capped.write(pattern(400000))
  for (let i = 0; i < 2000; i++) {
    other.write(pattern(100, i))
    clock.advance(0.5)
  }
  t.is(outOther.units(), 200000)
  const passed = outCapped.units()
  t.true(passed >= 0.99 * 2e5 && passed <= 1 + 2e5, `the capped member: ${passed} bytes in 1 s`)
  t.true(mostIn(outCapped, 10) <= 2e5 * 0.011 + 1, `${mostIn(outCapped, 10)} bytes in 10 ms`)
  capped.destroy()
  other.destroy()
})

test("a group member's own cap with a burst of one byte keeps its rate, alone or beside another member (real clock, generous bounds)", async (t) => {
  // Before, each wake-up of its timer carried one byte: 500 KB/s passed ~17 KB/s (these 200 KB
  // took ~12 s, not 0.4 s).
  const rate = 5e5
  for (const beside of [false, true]) {
    const group = new ThrottleGroup({ rate: 1e6 })
    const capped = group.throttle({ rate, burst: 1 })
    const other = beside ? group.throttle() : null
    const input = pattern(200000, 7)
    const parts = []
    capped.on('data', (c) => parts.push(c))
    other?.resume()
    const otherEnded = other && once(other, 'end')
    const start = performance.now()
    capped.end(input)
    other?.end(pattern(400000))
    await once(capped, 'end')
    const elapsed = performance.now() - start
    const what = beside ? 'beside an uncapped member' : 'alone'
    t.true(Buffer.concat(parts).equals(input))
    const ideal = (input.length - 1) / rate * 1000
    t.true(elapsed >= ideal - 1, `${what}: ${elapsed.toFixed(0)} ms; ideal ${ideal.toFixed(0)} ms`)
    // No bound on the wall time: a loaded runner starves the JS thread (20x the ideal bound failed
    // beside two busy loops). What each release carries holds however starved the process: a
    // wake-up comes at least a millisecond after the last and carries what the cap earned
    // meanwhile, 500 bytes or more; half of that on average leaves room for the burst's first
    // byte and fails a credit cut to half. One byte per release, the bug, fails it at once.
    t.true(input.length / parts.length >= 250, `${what}: ${parts.length} releases for ${input.length} bytes`)
    // At most one wake-up a millisecond, each one release (17 a millisecond before).
    t.true(parts.length <= elapsed + 2, `${what}: ${parts.length} releases in ${elapsed.toFixed(0)} ms`)
    await otherEnded
  }
})

// ---- 5. enforce mode -------------------------------------------------------------------------

test("mode 'enforce': upstream faster than the rate fails with ERR_SLUICE_RATE_EXCEEDED, in pipeline's callback, after what fit", async (t) => {
  const clock = createClock()
  const throttle = new Throttle({ rate: 1000, burst: 500, mode: 'enforce', clock })
  const got = []
  const err = await pipeline(
    Readable.from([pattern(300), pattern(200), pattern(10)]),
    throttle,
    new Writable({ write (c, e, cb) { got.push(c.length); cb() } })
  ).then(() => null, (e) => e)
  t.deepEqual(got, [300, 200])
  t.like(err, { name: 'SluiceError', code: 'ERR_SLUICE_RATE_EXCEEDED', cost: 10, burst: 500, rate: 1000, per: 1000, tokens: 0 })
  t.true(err instanceof Error)
  t.regex(err.message, /1000 per 1000 ms/)

  // In the unit of `per`, in object mode.
  const items = new Throttle({ rate: 10, per: 100, burst: 5, mode: 'enforce', objectMode: true, clock })
  const seen = []
  items.on('data', (x) => seen.push(x))
  for (let i = 0; i < 5; i++) items.write(i)
  clock.advance(100)
  for (let i = 5; i < 15; i++) items.write(i)
  const [err2] = await once(items, 'error')
  t.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'the bucket refilled to its burst, no more')
  t.like(err2, { code: 'ERR_SLUICE_RATE_EXCEEDED', rate: 10, per: 100, burst: 5, cost: 1 })
})

test("mode 'enforce': an item bigger than the burst fails with ERR_SLUICE_COST_EXCEEDS_BURST", async (t) => {
  const throttle = new Throttle({ rate: 1000, burst: 500, mode: 'enforce', clock: createClock() })
  const err = await pipeline(Readable.from([pattern(600)]), throttle, new Writable({ write (c, e, cb) { cb() } })).then(() => null, (e) => e)
  t.like(err, { code: 'ERR_SLUICE_COST_EXCEEDS_BURST', cost: 600, burst: 500, rate: 1000, per: 1000 })
  t.regex(err.message, /burst/)
})

test("mode 'enforce': upstream within the rate passes untouched, nothing waits", (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1000, burst: 100, mode: 'enforce' })
  const errors = []
  throttle.on('error', (e) => errors.push(e))
  for (let i = 0; i < 20; i++) {
    throttle.write(pattern(100, i))
    clock.advance(100)
  }
  t.deepEqual(errors, [])
  t.is(out.units(), 2000)
  t.deepEqual(out.log.map((e) => e.at), Array.from({ length: 20 }, (_, i) => i * 100), 'each at the moment it was written')
  t.like(throttle.stats(), { units: 2000, throttled: 0, waitedMs: 0 })
})

// ---- 6. stats --------------------------------------------------------------------------------

test('stats(): units, waitedMs, throttled, tokens, rate, burst, pending; still readable after close', async (t) => {
  // 10 per 100 ms is 100/s; pieces are at most the burst (20).
  const { clock, t: throttle, out } = manual({ rate: 10, per: 100, burst: 20 })
  t.deepEqual(Object.keys(throttle.stats()).sort(), ['burst', 'pending', 'per', 'rate', 'throttled', 'tokens', 'units', 'waitedMs'])
  t.like(throttle.stats(), { units: 0, waitedMs: 0, throttled: 0, tokens: 20, rate: 10, burst: 20, pending: 0, per: 100 })
  throttle.write(pattern(15))
  t.like(throttle.stats(), { units: 15, throttled: 0, tokens: 5, pending: 0 })
  throttle.write(pattern(25))
  t.like(throttle.stats(), { units: 15, throttled: 1, tokens: 5, pending: 25 }, 'a 20-byte piece waits for 15 more tokens')
  clock.advance(100)
  t.like(throttle.stats(), { units: 15, waitedMs: 100, tokens: 15, pending: 25 })
  clock.advance(50)
  t.like(throttle.stats(), { units: 35, waitedMs: 150, tokens: 0, pending: 5 })
  clock.advance(50)
  t.like(throttle.stats(), { units: 40, waitedMs: 200, throttled: 1, pending: 0, tokens: 0 })
  clock.advance(50)
  t.like(throttle.stats(), { waitedMs: 200, tokens: 5 }, 'waiting stopped with the last piece')
  const closed = once(throttle, 'close')
  throttle.end()
  await closed
  t.is(out.units(), 40)
  const final = throttle.stats()
  t.like(final, { units: 40, waitedMs: 200, throttled: 1, rate: 10, per: 100, burst: 20, pending: 0 })
  clock.advance(10000)
  t.deepEqual(throttle.stats(), final, 'frozen at close')
})

test('stats() after destroy() keeps the time the held chunk waited', (t) => {
  const { clock, t: throttle } = manual({ rate: 1000, burst: 100 })
  throttle.write(pattern(1000))
  clock.advance(250)
  t.like(throttle.stats(), { units: 300, waitedMs: 250, throttled: 1 })
  throttle.destroy()
  t.like(throttle.stats(), { units: 300, waitedMs: 250, throttled: 1 }, 'waitedMs does not go back')
})

// ---- 7. groups -----------------------------------------------------------------------------

test('a group: 4 equal members writing together share the rate and finish together', (t) => {
  const rate = 40000
  const size = 40000
  const clock = createClock()
  const group = new ThrottleGroup({ rate, clock })
  const burst = group.stats().burst
  const members = [0, 1, 2, 3].map(() => group.throttle())
  const outs = members.map((m) => record(m, clock))
  const inputs = members.map((m, i) => pattern(size, i))
  const done = []
  members.forEach((m, i) => m.write(inputs[i], () => { done[i] = clock.now() }))
  clock.advance(2000)
  const shares = outs.map((o) => o.units())
  t.true(Math.max(...shares) - Math.min(...shares) <= 2 * 1024, `even shares midway: ${shares}`)
  clock.advance(10000)
  outs.forEach((o, i) => t.true(o.bytes().equals(inputs[i]), `member ${i} intact`))
  const ideal = (4 * size - burst) / rate * 1000
  t.true(Math.min(...done) >= ideal - 4 * 1024 / rate * 1000, `finished at ${done}; alone, one would be done by ${(size - burst) / rate * 1000} ms`)
  t.true(Math.max(...done) - Math.min(...done) <= 4 * 1024 / rate * 1000, `together: ${done}`)
  t.true(Math.max(...done) >= ideal && Math.max(...done) <= ideal + 50, `the last at ${Math.max(...done)} ms, ideal ${ideal}`)
  t.like(group.stats(), { units: 4 * size, members: 4, waiting: 0 })
})

test('a group: weights 2:1 give a 2:1 share while both are active, and the group budget is used in full', (t) => {
  const rate = 30000
  const clock = createClock()
  const group = new ThrottleGroup({ rate, clock })
  const heavy = group.throttle({ weight: 2 })
  const light = new Throttle({ group, weight: 1 })
  const outH = record(heavy, clock)
  const outL = record(light, clock)
  heavy.write(pattern(200000))
  light.write(pattern(200000))
  clock.advance(500)
  const [h0, l0] = [outH.units(), outL.units()]
  clock.advance(4000)
  const ratio = (outH.units() - h0) / (outL.units() - l0)
  t.true(ratio > 1.8 && ratio < 2.2, `ratio ${ratio}`)
  t.true(outL.units() < 200000 && outH.units() < 200000, 'both still active')
  const total = outH.units() + outL.units()
  t.true(total <= group.stats().burst + rate * 4.5 && total >= rate * 4.5 - 2048, `the group's budget: ${total} in 4.5 s`)
})

test('a group: weights hold for members writing chunk after chunk, small or large, each waiting for its last to pass (manual clock)', (t) => {
  // Each member has one chunk in the throttle at a time: the group's queue seldom holds two, and
  // the tokens went to whichever asked first (1,000-byte chunks at weights 1:3 shared 1:1.17).
  for (const [rate, chunk, weights] of [[1e6, 1000, [1, 3]], [1e5, 100, [1, 3]], [1e6, 10, [1, 3]], [1e7, 65536, [1, 3]], [1e6, 16384, [1, 3]], [1e6, 1000, [1, 2, 3, 4]]]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate, clock })
    const members = weights.map((weight) => group.throttle({ weight }))
    const outs = members.map((m) => record(m, clock))
    for (const m of members) {
      const pump = () => { while (m.write(pattern(chunk))); }
      m.on('drain', pump)
      pump()
    }
    clock.advance(500)
    const before = outs.map((o) => o.units())
    for (let ms = 0; ms < 3000; ms += 10) clock.advance(10)
    const got = outs.map((o, k) => o.units() - before[k])
    const total = got.reduce((a, b) => a + b)
    const wsum = weights.reduce((a, b) => a + b)
    const shares = got.map((g, k) => g / total / (weights[k] / wsum))
    const label = `${rate}/s, ${chunk}-byte chunks, weights ${weights}: ${shares.map((x) => x.toFixed(2)).join(' / ')} of their shares`
    t.true(shares.every((x) => Math.abs(x - 1) <= 0.05), label)
    t.true(Math.abs(total / (3 * rate) - 1) <= 0.02, `${label}; the group passed ${total} in 3 s`)
    for (const m of members) m.destroy()
  }
})

test("a group: a member that writes a little often does not hold the others to its pace, nor does a member's cap in a group without a budget (manual clock)", (t) => {
  // Waiting for a member's next chunk is for writers that have more written (backlogged): one
  // that writes 100 bytes every 2 ms re-enters at the virtual time each time, and held a bulk
  // writer to its own pace (0.05x of the rate; 0.000x beside 1 byte every ms).
  // Also with a burst under 20 ms of rate (where tokens never pile up that far): 0.05x there.
  for (const [every, size, burst] of [[1, 1], [2, 100], [3, 1000], [2, 100, 16384], [2, 100, 10000]]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate: 1e6, burst, clock })
    const bulk = group.throttle()
    const light = group.throttle()
    const [outB, outL] = [record(bulk, clock), record(light, clock)]
    const pump = () => { while (bulk.write(pattern(16384))); }
    bulk.on('drain', pump)
    pump()
    const step = (ms) => { for (let i = 0; i < ms; i++) { if (i % every === 0) light.write(pattern(size)); clock.advance(1) } }
    step(500)
    const [b0, l0] = [outB.units(), outL.units()]
    step(3000)
    const [b, l] = [outB.units() - b0, outL.units() - l0]
    const wanted = size * 1000 / every
    const label = `${size} B every ${every} ms${burst ? `, burst ${burst}` : ''}`
    t.true(Math.abs(l - 3 * wanted) <= 2 * size + 1, `${label}: the light member passed ${l} of ${3 * wanted}`)
    t.true(b >= 0.99 * (3e6 - 3 * wanted), `${label}: the bulk member beside it passed ${b} in 3 s`)
    bulk.destroy()
    light.destroy()
  }
  // No group budget (rate Infinity): each member only has its own cap, and gets it.
  const clock = createClock()
  const group = new ThrottleGroup({ rate: Infinity, clock })
  const a = group.throttle({ rate: 1e6 })
  const b = group.throttle({ rate: 5e5 })
  const outB = record(b, clock)
  const pump = () => { while (b.write(pattern(16384))); }
  b.on('drain', pump)
  pump()
  for (let ms = 0; ms < 2000; ms++) { a.write(pattern(100)); clock.advance(1) }
  t.true(outB.units() >= 0.97 * 5e5 * 2, `beside a member writing 100 B a ms, the member capped at 500 KB/s passed ${outB.units()} in 2 s`)
  a.destroy()
  b.destroy()
})

test("a group: a member's own rate caps it, and the others take the rest of the budget", (t) => {
  const clock = createClock()
  const group = new ThrottleGroup({ rate: 30000, clock })
  const capped = group.throttle({ rate: 5000 })
  const free = group.throttle()
  const outC = record(capped, clock)
  const outF = record(free, clock)
  capped.write(pattern(200000))
  free.write(pattern(200000))
  clock.advance(4000)
  const c = outC.units()
  const f = outF.units()
  t.true(c <= 500 + 5000 * 4, `capped: ${c} in 4 s`)
  t.true(c >= 0.9 * 5000 * 4, `capped gets its cap (its fair share is 15000/s): ${c} in 4 s`)
  t.true(c + f >= 30000 * 4 - 2048 && c + f <= 3000 + 30000 * 4, `group budget used: ${c + f}`)
  t.like(capped.stats(), { rate: 5000, burst: 500 })
  t.like(free.stats(), { rate: 30000 })
})

// A capped member that waits for its own cap keeps its place in the fair queue, and its pieces
// are at most half its cap's burst, so its cap keeps filling while a piece waits for the group
// (it got 2200/s of a 4000/s cap when it re-entered the queue behind everyone each time).
test('a group: a capped member whose cap is below its fair share gets its cap when many members are busy', (t) => {
  // 6 busy members of a 30000/s group: a fair share is 5000/s; one member is capped at 4000/s.
  const clock = createClock()
  const group = new ThrottleGroup({ rate: 30000, clock })
  const capped = group.throttle({ rate: 4000 })
  const others = [1, 2, 3, 4, 5].map(() => group.throttle())
  const outC = record(capped, clock)
  const outs = others.map((m) => record(m, clock))
  for (const m of [capped, ...others]) m.write(pattern(300000))
  clock.advance(10000)
  const c = outC.units()
  t.true(c <= 400 + 4000 * 10, `never above the cap: ${c}`)
  t.true(c >= 0.9 * 4000 * 10, `capped member got ${c / 10}/s of its 4000/s cap; the others ${outs.map((o) => o.units() / 10).join(', ')}`)
})

test('a group: a member its cap held below its share is owed nothing once the cap is lifted or the group slows down', (t) => {
  // While its cap holds it back the others take more: that is no debt. It was one (its virtual
  // start stayed where the cap stopped it), paid back by taking the whole rate until caught up:
  // 4 s of nothing for the other member after b's 100/s cap was lifted, 500/s instead of 750/s
  // for 40 s after the group's rate fell below the two members' needs.
  const clock = createClock()
  const group = new ThrottleGroup({ rate: 4000, burst: 10, clock })
  const a = group.throttle()
  const b = group.throttle({ rate: 100 })
  const [outA, outB] = [a, b].map((m) => record(m, clock))
  for (const m of [a, b]) m.write(pattern(1e6))
  clock.advance(5000)
  t.true(outB.units() <= 100 * 5 + 10, `b kept to its cap: ${outB.units()}`)
  b.setRate(Infinity)
  const [a0, b0] = [outA.units(), outB.units()]
  clock.advance(1000)
  const [da, db] = [outA.units() - a0, outB.units() - b0]
  t.true(da >= 0.9 * 2000 && db >= 0.9 * 2000, `the second after b's cap was lifted: a ${da}, b ${db} (fair: 2000 each)`)
  for (const m of [a, b]) m.destroy()

  const slower = new ThrottleGroup({ rate: 4000, burst: 10, clock })
  const c = slower.throttle()
  const d = slower.throttle({ rate: 1000 })
  const [outC, outD] = [c, d].map((m) => record(m, clock))
  for (const m of [c, d]) m.write(pattern(1e6))
  clock.advance(10000)
  slower.setRate(1500)
  const [c0, d0] = [outC.units(), outD.units()]
  clock.advance(10000)
  const [dc, dd] = [outC.units() - c0, outD.units() - d0]
  t.true(dc >= 0.95 * 7500 && dd >= 0.95 * 7500, `10 s at 1500/s once d's 1000/s cap no longer binds: c ${dc}, d ${dd} (fair: 7500 each)`)
  for (const m of [c, d]) m.destroy()
})

test('a group: an idle member takes no share, and one that starts late gets no catch-up', (t) => {
  const rate = 30000
  const clock = createClock()
  const group = new ThrottleGroup({ rate, clock })
  const busy = group.throttle()
  const late = group.throttle()
  const outB = record(busy, clock)
  const outL = record(late, clock)
  busy.write(pattern(300000))
  clock.advance(2000)
  t.true(outB.units() >= rate * 2 - 1024, `alone, the busy member had the whole rate: ${outB.units()} in 2 s`)
  t.is(outL.units(), 0)
  const b0 = outB.units()
  late.write(pattern(300000))
  clock.advance(2000)
  const db = outB.units() - b0
  const dl = outL.units()
  t.true(Math.abs(db - dl) <= 0.1 * rate, `even from the late start: ${db} vs ${dl}`)
  t.true(db + dl <= group.stats().burst + rate * 2)
})

/**
 * Moves `clock` by `ms` as a JavaScript thread busy for that long (one long task) sees it: the
 * throttles' timer runs at each deadline on the way, as it does off this thread, but what it
 * releases is handled only at the end, when the event loop comes back.
 */
function advanceBusy (clock, ms) {
  const native = clock[Symbol.for('sluice.nativeClock')]
  const target = native.now() + ms
  for (let next = native.nextDeadline(); next !== null && next <= target; next = native.nextDeadline()) native.advanceTo(next)
  native.advanceTo(target)
  clock.advance(0)
}

test('a group keeps its rate and its shares while the event loop runs long tasks (manual clock)', (t) => {
  // Grants made during a long task are seen only when the loop comes back. A member's next chunk
  // then got one piece at once and the rest from the timer, seen a turn later again: each member
  // passed about one chunk per turn (two members writing 16 KiB chunks under 100 ms tasks: 0.33×
  // of the group's 1 MB/s, four 0.65×). Back from such a turn, a member now takes its share of a
  // burst at once.
  const rate = 1e6
  // Weights 1:2:3 came out 217:273:426 (the timer, finishing the lightest member's chunk last in
  // a task, took the virtual time past the others' limits; found in the second review).
  for (const [weights, task] of [[[1, 1], 100], [[1, 1, 1, 1], 100], [[2, 1], 100], [[1, 2, 3], 100], [[1, 1, 1], 50]]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate, clock })
    const members = weights.map((weight) => group.throttle({ weight, highWaterMark: 1 << 24 }))
    const outs = members.map((m) => record(m, clock))
    members.forEach((m, k) => { for (let i = 0; i < 200; i++) m.write(pattern(16384, i + k)) })
    for (let ms = 0; ms < 500; ms += task) advanceBusy(clock, task)
    const before = outs.map((o) => o.units())
    for (let ms = 0; ms < 3000; ms += task) advanceBusy(clock, task)
    const passed = outs.map((o, k) => o.units() - before[k])
    const total = passed.reduce((a, b) => a + b)
    const what = `weights ${weights.join(':')}, ${task} ms tasks`
    t.true(total >= 0.95 * 3 * rate && total <= 3 * rate + group.stats().burst, `${what}: ${total} bytes in 3 s`)
    const weightSum = weights.reduce((a, b) => a + b)
    weights.forEach((w, k) => {
      const fair = (total * w) / weightSum
      // Within 8 %: a chunk still waiting when a task starts is finished by the timer, per chunk
      // and not per weight (1:2:3 passes 1.06:1.00:0.98 of the shares here; equal bytes before).
      t.true(Math.abs(passed[k] - fair) <= 0.08 * fair, `${what}: member ${k} passed ${passed[k]}, its share ${fair}`)
    })
    for (const m of members) m.destroy()
  }
})

test('a group under long tasks keeps its rate when a member that writes now and then counts as active (manual clock)', (t) => {
  // A member writing 4 KiB chunks (one piece each) beside one writing 16 KiB every 120 ms: with
  // every piece held to the catch-up's limit, the light member's unused share was lost each
  // turn (0.64× of the rate; found in the third review).
  const rate = 1e6
  const clock = createClock()
  const group = new ThrottleGroup({ rate, clock })
  const light = group.throttle({ highWaterMark: 1 << 24 })
  const busy = group.throttle({ weight: 0.5, highWaterMark: 1 << 24 })
  const outs = [record(light, clock), record(busy, clock)]
  for (let i = 0; i < 1200; i++) busy.write(pattern(4096, i))
  let next = 0
  const run = (ms) => {
    for (let elapsed = 0; elapsed < ms; elapsed += 100) {
      for (; next <= clock.now(); next += 120) light.write(pattern(16384, next))
      advanceBusy(clock, 100)
    }
  }
  run(500)
  const before = outs.map((o) => o.units())
  run(3000)
  const [l, b] = outs.map((o, k) => o.units() - before[k])
  t.true(l >= 0.95 * 3 * (16384 / 0.12), `the light member passed ${l} in 3 s`)
  t.true(l + b >= 0.95 * 3 * rate, `the group passed ${l + b} in 3 s (${l} + ${b})`)
  light.destroy()
  busy.destroy()
})

test('a group member that wrote less than its share, on a prompt or a late event loop, keeps what it wants and leaves the rest to the others (manual clock)', (t) => {
  // A member whose chunks pass at once, written a while apart, looks late to the catch-up rule
  // at every write. Its passes left the group's virtual time behind while its own tags went on,
  // so a member joining 10 s later was taken for one owed all of it: the first member got
  // nothing for a second (found in review). And a member that wants less than its share held a
  // busy one to its own pace under long tasks: 491 KB/s of the 600 KB/s left (164 KB/s before
  // the catch-up rule).
  const rate = 1e6
  for (const [task, steps] of [[20, 500], [100, 100]]) {
    const clock = createClock()
    const group = new ThrottleGroup({ rate, clock })
    const modest = group.throttle({ highWaterMark: 1 << 26 })
    const busy = group.throttle({ highWaterMark: 1 << 26 })
    const [outM, outB] = [record(modest, clock), record(busy, clock)]
    // 200 KB/s of 4 KiB writes on a prompt loop; 400 KB/s of 40 KB writes under 100 ms tasks.
    const piece = task === 20 ? 4096 : 40000
    const step = () => (task === 20 ? clock.advance(task) : advanceBusy(clock, task))
    // A member that wrote once and then stays quiet, and one that writes 1 KiB every 100 ms: the
    // modest member's writes were late turns one after another, and held the virtual time at
    // their tags (found in the second review).
    const quiet = group.throttle()
    const trickle = group.throttle()
    quiet.resume()
    trickle.resume()
    quiet.write(pattern(16384))
    modest.write(pattern(65536))
    step()
    const trickleEvery = 100 / task
    for (let i = 0; i < steps; i++) {
      modest.write(pattern(piece, i))
      if (i % trickleEvery === 0) trickle.write(pattern(1024, i))
      step()
    }
    const [m0, b0] = [outM.units(), outB.units()]
    // On the prompt loop the newcomer writes one large buffer: one long request, which left the
    // modest member nothing while it lasted (chunks that end now and then let it in).
    if (task === 20) busy.write(pattern(4e6))
    for (let i = 0; i < 3000 / task; i++) {
      modest.write(pattern(piece, i))
      while (task !== 20 && busy.writableLength < 64 * 16384) busy.write(pattern(16384, i))
      step()
    }
    const wants = (piece * 1000) / task
    const [m, b] = [outM.units() - m0, outB.units() - b0]
    const what = `${task} ms ${task === 20 ? 'steps' : 'tasks'}`
    t.true(m >= 0.95 * 3 * wants, `${what}: the modest member passed ${m} of the ${3 * wants} it wrote in 3 s`)
    // Under long tasks the busy member's last chunk of a turn waits for the timer: 0.95× here.
    t.true(b >= 0.9 * 3 * (rate - wants), `${what}: the busy one ${b} of the ${3 * (rate - wants)} left`)
    t.true(m + b <= 3 * rate + group.stats().burst, `${what}: the group passed ${m + b}`)
    for (const m of [modest, busy, quiet, trickle]) m.destroy()
  }
})

test('a group: a destroyed member stops taking its share; the others get the whole rate', (t) => {
  const rate = 10000
  const clock = createClock()
  const group = new ThrottleGroup({ rate, clock })
  const [a, b] = [group.throttle(), group.throttle()]
  const outA = record(a, clock)
  const outB = record(b, clock)
  a.write(pattern(100000))
  b.write(pattern(100000))
  clock.advance(2000)
  a.destroy()
  const a0 = outA.units()
  const b0 = outB.units()
  clock.advance(2000)
  t.is(outA.units(), a0)
  t.true(outB.units() - b0 >= rate * 2 - 1024, `b alone: ${outB.units() - b0} in 2 s`)
  t.like(group.stats(), { members: 1 })
})

test('ThrottleGroup.shared(): one budget per name; mismatched options fail with ERR_SLUICE_SHARED_GROUP_MISMATCH', (t) => {
  const name = `sluice-test-shared-${process.pid}-${Date.now()}`
  const first = ThrottleGroup.shared(name, { rate: 1000, burst: 100 })
  const again = ThrottleGroup.shared(name)
  const same = ThrottleGroup.shared(name, { rate: 1, per: 1 }) // 1000/s written another way
  const member = again.throttle()
  member.resume()
  member.write(pattern(60))
  t.like(first.stats(), { units: 60, members: 1, rate: 1000, burst: 100 })
  t.like(same.stats(), { units: 60, members: 1 })
  member.destroy()

  const rate = t.throws(() => ThrottleGroup.shared(name, { rate: 2000 }), { code: 'ERR_SLUICE_SHARED_GROUP_MISMATCH' })
  // The existing group's settings (rate per second); `group` names it, and the error keeps its own name.
  t.like(rate, { name: 'SluiceError', group: name, rate: 1000, burst: 100, initialBurst: 100 })
  t.true(rate instanceof SluiceError)
  t.true(String(rate).startsWith('SluiceError: The shared throttle group'))
  t.regex(rate.message, new RegExp(name))
  t.throws(() => ThrottleGroup.shared(name, { rate: 1000, burst: 50 }), { code: 'ERR_SLUICE_SHARED_GROUP_MISMATCH' })
  t.like(first.stats(), { rate: 1000, burst: 100 }, 'a refused call changes nothing')
  // Infinity (no limit) matches only itself: asking for a limit must not join an unlimited group, nor the reverse.
  t.throws(() => ThrottleGroup.shared(name, { rate: Infinity }), { code: 'ERR_SLUICE_SHARED_GROUP_MISMATCH' })
  ThrottleGroup.shared(`${name}-unlimited`, { rate: Infinity })
  t.throws(() => ThrottleGroup.shared(`${name}-unlimited`, { rate: 5 }), { code: 'ERR_SLUICE_SHARED_GROUP_MISMATCH' })
  t.is(ThrottleGroup.shared(`${name}-unlimited`, { rate: Infinity }).stats().rate, Infinity)

  t.throws(() => ThrottleGroup.shared(`${name}-missing`), { instanceOf: TypeError, message: /"options\.rate"/ })
  t.throws(() => ThrottleGroup.shared(''), { instanceOf: RangeError, message: /"name"/ })
  t.throws(() => ThrottleGroup.shared(42), { instanceOf: TypeError, message: /"name" argument/ })
  // The native side keys by UTF-8, where lone surrogates all become U+FFFD: refused, not merged.
  t.throws(() => ThrottleGroup.shared(`${name}-\ud800`, { rate: 10 }), { instanceOf: TypeError, message: /"name" argument must be well-formed text/ })
  t.throws(() => ThrottleGroup.shared(`${name}-2`, { rate: 0 }), { instanceOf: RangeError, message: /"options\.rate"/ })
  t.throws(() => ThrottleGroup.shared(`${name}-3`, { rate: 1, clock: createClock() }), { instanceOf: TypeError, message: /options\.clock/ })
})

test('a shared group used from two worker_threads is one budget (real clock, generous bounds)', async (t) => {
  const name = `sluice-test-workers-${process.pid}-${Date.now()}`
  const rate = 128 * 1024
  const total = 96 * 1024
  const workers = [1, 2].map((seed) => new Worker(WORKER, { workerData: { name, rate, total, seed } }))
  try {
    await Promise.all(workers.map((w) => once(w, 'message')))
    const burst = ThrottleGroup.shared(name).stats().burst
    const start = performance.now()
    const results = Promise.all(workers.map((w) => once(w, 'message').then(([m]) => m)))
    for (const w of workers) w.postMessage('go')
    const got = await results
    const elapsed = performance.now() - start
    for (const r of got) t.deepEqual(r, { bytes: total, sha: r.expectedSha, expectedSha: r.expectedSha })
    // One budget: 2 × total through `rate`. Two budgets would take about half as long.
    const ideal = (2 * total - burst) / rate * 1000
    t.true(elapsed >= 0.9 * ideal, `${elapsed.toFixed(0)} ms for 2 × ${total} bytes at ${rate}/s; ideal ${ideal.toFixed(0)} ms`)
    t.true(elapsed <= 10 * ideal, `${elapsed.toFixed(0)} ms; ideal ${ideal.toFixed(0)} ms`)
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
})

test('a shared group\'s member leaves it when its worker_threads Worker is terminated mid-stream', async (t) => {
  // The group outlives the Worker (it is the process's): a member held there for good would keep
  // `members` up and, waiting, take its turn in the fair order for ever.
  const name = `sluice-test-terminate-${process.pid}-${Date.now()}`
  const group = ThrottleGroup.shared(name, { rate: 1024, burst: 1024 })
  const worker = new Worker(WORKER, { workerData: { name, rate: 1024, total: 256 * 1024, seed: 5, hold: true } })
  try {
    await once(worker, 'message') // 'ready': its member has joined
    t.is(group.stats().members, 1)
    worker.postMessage('go')
    const [held] = await once(worker, 'message')
    t.true(held.pending > 0, `the worker's write is held (${JSON.stringify(held)})`)
    t.like(group.stats(), { members: 1, waiting: 1 })
  } finally {
    await worker.terminate()
  }
  t.like(group.stats(), { members: 0, waiting: 0 })
  // The budget is the group's again: a member here is served, not queued behind the one that left.
  // Its bytes pass at once or after a refill (the Worker's member took the burst), depending on
  // how long the steps above took, so it is read in a way that sees either: with the tokens
  // there, the chunk is pushed inside write() itself, and a 'data' listener attached before it
  // gets the chunk right there (as from core's PassThrough). An `await once(local, 'data')` after
  // the write then waited for a second chunk that never came, with nothing left to keep the
  // process alive ('Promise returned by test never resolved' on a loaded machine, where the steps
  // above took longer than the 0.5 s refill).
  const local = group.throttle()
  local.end(pattern(512))
  const got = []
  for await (const chunk of local) got.push(chunk)
  t.deepEqual(Buffer.concat(got), pattern(512))
})

// ---- 8. real sockets -----------------------------------------------------------------------

test('a loopback HTTP response piped through a Throttle: every byte intact, at the rate (real clock, generous bounds)', async (t) => {
  const rate = 256 * 1024
  const body = pattern(384 * 1024, 3)
  let serverError = null
  const server = http.createServer((req, res) => {
    const chunks = []
    for (let k = 0; k < body.length; k += 16384) chunks.push(body.subarray(k, k + 16384))
    res.setHeader('content-length', body.length)
    pipeline(Readable.from(chunks), new Throttle({ rate }), res).catch((err) => { serverError = err })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const start = performance.now()
    const res = await new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port: server.address().port, agent: false }, resolve).on('error', reject))
    const parts = []
    for await (const chunk of res) parts.push(chunk)
    const elapsed = performance.now() - start
    const got = Buffer.concat(parts)
    t.is(got.length, body.length)
    t.is(sha(got), sha(body))
    t.is(serverError, null)
    const ideal = (body.length - rate * 0.1) / rate * 1000 // less the default 100 ms burst
    t.true(elapsed >= 0.9 * ideal, `${elapsed.toFixed(0)} ms; ideal ${ideal.toFixed(0)} ms`)
    t.true(elapsed <= 10 * ideal, `${elapsed.toFixed(0)} ms; ideal ${ideal.toFixed(0)} ms`)
  } finally {
    server.close()
  }
})

// ---- 9. destroy, process lifetime ----------------------------------------------------------

test('destroy() while a chunk waits: no data after it, the held write is answered once, nothing late', async (t) => {
  const { clock, t: throttle, out } = manual({ rate: 1000, burst: 100 })
  const callbacks = []
  throttle.write(pattern(1000), (err) => callbacks.push(['held', err?.code ?? null]))
  throttle.write(pattern(10), (err) => callbacks.push(['queued', err?.code ?? null]))
  const events = []
  for (const e of ['close', 'error', 'end', 'finish']) throttle.on(e, () => events.push(e))
  clock.advance(250)
  t.is(out.units(), 300)
  throttle.destroy()
  await once(throttle, 'close')
  t.deepEqual(callbacks.map((c) => c[0]).sort(), ['held', 'queued'])
  t.like(Object.fromEntries(callbacks), { queued: 'ERR_STREAM_DESTROYED' })
  clock.advance(60000)
  await new Promise((resolve) => setImmediate(resolve))
  t.is(out.units(), 300, 'nothing after destroy')
  t.is(callbacks.length, 2, 'each write answered exactly once')
  t.deepEqual(events, ['close'])
})

test("destroy() from a 'data' listener during a release (stop after N bytes): nothing more, each write answered once", async (t) => {
  // Stopping mid-chunk, and exactly at the end of the first chunk.
  for (const stopAt of [200, 1000]) {
    const { clock, t: throttle } = manual({ rate: 1000, burst: 100 })
    let bytes = 0
    let afterDestroy = 0
    throttle.on('data', (c) => {
      if (throttle.destroyed) afterDestroy += c.length
      bytes += c.length
      if (bytes >= stopAt && !throttle.destroyed) throttle.destroy()
    })
    const callbacks = []
    throttle.write(pattern(1000), (err) => callbacks.push(['first', err?.code ?? null]))
    throttle.write(pattern(1000), (err) => callbacks.push(['second', err?.code ?? null]))
    clock.advance(5000)
    await once(throttle, 'close')
    await new Promise((resolve) => setImmediate(resolve))
    t.is(bytes, stopAt)
    t.is(afterDestroy, 0)
    t.deepEqual(callbacks.map((c) => c[0]).sort(), ['first', 'second'], `stop at ${stopAt}`)
    t.like(Object.fromEntries(callbacks), { second: 'ERR_STREAM_DESTROYED' })
  }
})

// Found by the contract fuzz (__test__/contract-fuzz/): a held write completed from a release ran
// core's loop over the writes queued behind it; one of them pushed, its 'data' listener destroyed
// the stream, and core failed the next write of that loop, which it records as the stream's
// error: a destroy() without an error left `errored` set, and a callback came after 'close'.
test("destroy() from a 'data' listener while queued writes pass: no error recorded, every write answered before 'close', as core's PassThrough", async (t) => {
  const run = (stream) => new Promise((resolve) => {
    const events = []
    for (let i = 0; i < 6; i++) {
      stream.write({ i }, (err) => events.push(`write ${i}: ${err?.code ?? 'ok'}`))
      if (i === 0) stream.pause()
    }
    let seen = 0
    stream.on('data', () => { if (++seen === 5) stream.destroy() })
    stream.on('error', (err) => events.push(`error ${err.code}`))
    stream.on('close', () => {
      events.push('close')
      resolve({ events, errored: stream.errored })
    })
    stream.resume()
    stream.end((err) => events.push(`end: ${err?.code ?? 'ok'}`))
  })
  for (const options of [{ rate: Infinity }, { rate: 1e12, burst: 1e12 }]) {
    const core = await run(new PassThrough({ objectMode: true }))
    const { events, errored } = await run(new Throttle({ ...options, objectMode: true }))
    t.is(errored, null, `no error recorded for a destroy() without one (rate ${options.rate})`)
    t.false(events.some((e) => e.startsWith('error')), events.join(', '))
    t.is(events.at(-1), 'close', `every callback before 'close': ${events.join(', ')}`)
    t.deepEqual(events.filter((e) => e.startsWith('write')).map((e) => e.split(':')[0]).sort(),
      core.events.filter((e) => e.startsWith('write')).map((e) => e.split(':')[0]).sort(), 'each write answered once')
  }
})

test('destroy() while waiting on the real clock: nothing arrives later, while a twin started with it keeps receiving', async (t) => {
  // The twin has the same rate and input: its releases come when the destroyed one's would have.
  // No sleep: we wait for the twin's next releases, then look.
  const make = () => new Throttle({ rate: 20000, burst: 1000 })
  const victim = make()
  const twin = make()
  let victimBytes = 0
  let afterDestroy = 0
  let destroyed = false
  victim.on('data', (c) => {
    if (destroyed) afterDestroy += c.length
    victimBytes += c.length
  })
  let twinBytes = 0
  twin.on('data', (c) => { twinBytes += c.length })
  victim.write(pattern(100000))
  twin.write(pattern(100000))
  await once(twin, 'data')
  victim.destroy()
  destroyed = true
  const mark = twinBytes
  while (twinBytes < mark + 5000) await once(twin, 'data')
  t.is(afterDestroy, 0)
  t.true(victimBytes < 100000)
  twin.destroy()
})

test('the process exits when its throttles are idle, ended, paused or destroyed while waiting, or waiting on a manual clock', async (t) => {
  // Each would take hours if its throttle held the process: a hang shows up as a timeout.
  const [idle, ended, paused, destroyed, manualClock] = await Promise.all([
    child('idle'), child('ended'), child('pausedWhileWaiting'), child('destroyedWhileWaiting'), child('manualClockWaiting')
  ])
  t.like(paused, { status: 0, out: { code: 0, paused: true, bytes: 10 } }, paused.stderr)
  t.like(idle, { status: 0, out: { code: 0, idle: true, bytes: 0 } }, idle.stderr)
  t.like(ended, { status: 0, out: { code: 0, ended: true, bytes: 60 } }, ended.stderr)
  t.like(destroyed, { status: 0, out: { code: 0, closed: true, writeCallback: 'ok', bytes: 10 } }, destroyed.stderr)
  t.like(manualClock, { status: 0, out: { code: 0, bytes: 20 } }, manualClock.stderr)
})

test('a cost function that destroys its throttle: every write answered and the process exits (child process)', async (t) => {
  const r = await child('costDestroys', [], 20000)
  t.is(r.status, 0, r.stderr)
  t.true(r.out.closed)
  t.is(r.out.callbacks.length, 3, JSON.stringify(r.out.callbacks))
})

test('a write callback that throws while destroy() answers it is an uncaught exception, not swallowed (child process)', async (t) => {
  const r = await child('callbackThrowsAtDestroy')
  t.like(r.out, { heldBeforeDestroy: true, destroyed: true }, r.stderr)
  t.deepEqual(r.out.uncaught, ['boom from write callback'])
})

test('a write callback that throws while destroy() answers the chunk the throttle holds is an uncaught exception (child process)', async (t) => {
  const r = await child('heldCallbackThrowsAtDestroy')
  t.like(r.out, { heldBeforeDestroy: true, releasedBeforeDestroy: 10, destroyed: true }, r.stderr)
  t.deepEqual(r.out.uncaught, ['boom from write callback'])
})

test('paused throttles with a chunk held that their user dropped are collected and leave their group; one still held stays and resumes (child process)', async (t) => {
  const r = await runChild(['--expose-gc', CHILD, 'abandonedPaused'])
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  t.like(out, { code: 0, before: 51, collected: 50, after: 1 }, r.stderr)
  // The kept member, resumed, passes its whole chunk before the process exits.
  t.is(out.keptBytes, 50000)
})

test('a throttle resumed after a pause holds the process again until its data is out (child process)', async (t) => {
  const r = await child('resumedAfterPause')
  t.like(r, { status: 0, out: { code: 0, bytes: 300 } }, r.stderr)
})

test('a waiting throttle keeps the process alive until its data is delivered (child process, real clock)', async (t) => {
  const [rate, total, chunk] = [20000, 30000, 10000]
  const r = await child('waiting', [rate, total, chunk])
  t.is(r.status, 0, r.stderr)
  t.is(r.out.bytes, total)
  t.is(r.out.sha, r.out.expectedSha)
  const ideal = (total - r.out.burst) / rate * 1000
  t.true(r.out.elapsedMs >= ideal - 1, `${r.out.elapsedMs} ms; ideal ${ideal} ms`)
})

// ---- 10. a throwing listener ---------------------------------------------------------------

test("a 'data' listener that throws inside a release does not stop the other throttles (child process)", async (t) => {
  const r = await child('throwingListener', [10000, 5000])
  t.is(r.status, 0, r.stderr)
  t.is(r.out.streams.length, 3)
  for (const s of r.out.streams) t.like(s, { bytes: 5000, ended: true, sha: r.out.expectedSha }, JSON.stringify(s))
  // Each thrower threw once per release after its burst, all of them uncaught exceptions.
  t.true(r.out.errors.length >= 2, JSON.stringify(r.out.errors))
  t.true(r.out.errors.every((m) => /^listener threw at \d+$/.test(m)))
})

test('the manual clock: a listener that throws during advance() — the other throttles still get their releases', (t) => {
  const clock = createClock()
  const a = new Throttle({ rate: 100, burst: 10, clock })
  const b = new Throttle({ rate: 100, burst: 10, clock })
  const outB = record(b, clock)
  let aBytes = 0
  a.on('data', (c) => { aBytes += c.length; if (aBytes === 20) throw new Error('listener failed') })
  a.write(pattern(100))
  b.write(pattern(100))
  t.throws(() => clock.advance(1000), { message: 'listener failed' })
  t.is(outB.at(100), 20, "b's release at the same deadline was delivered")
  clock.advance(0)
  t.is(clock.now(), 1000, 'advance() still reached its target')
  t.is(outB.units(), 100, 'and everything due by then was released')
  t.is(aBytes, 100)
})

test('a burst smaller than the wake-up grain does not cap the rate: 1000 items/s with burst 1 is 1000 items/s', (t) => {
  const clock = createClock()
  const items = new Throttle({ objectMode: true, rate: 1000, burst: 1, clock })
  const bytes = new Throttle({ rate: 1e6, burst: 1000, clock })
  const outI = record(items, clock)
  const outB = record(bytes, clock)
  for (let i = 0; i < 3000; i++) items.write({ i })
  bytes.write(pattern(3e6))
  clock.advance(1000)
  t.is(outI.units(), 1001, 'the burst, then exactly 1000 in 1 s')
  t.is(outB.units(), 1000 + 1e6, 'bytes: the burst, then exactly 1e6 in 1 s')
  items.destroy()
  bytes.destroy()
})

test("a group member's initialBurst applies to its own cap", (t) => {
  const clock = createClock()
  const group = new ThrottleGroup({ rate: 100, clock })
  const m = group.throttle({ rate: 10, burst: 1, initialBurst: 0 })
  const out = record(m, clock)
  m.write(pattern(100))
  clock.advance(0)
  t.is(out.units(), 0, 'nothing before the cap earns a token')
  clock.advance(100)
  t.is(out.units(), 1, 'one byte after 100 ms at 10 B/s')
  m.destroy()
})

test('chunkSize never exceeds the burst: a larger one is clamped, so the burst still holds', (t) => {
  const clock = createClock()
  const thr = new Throttle({ rate: 1000, burst: 10, chunkSize: 100000, clock })
  const out = record(thr, clock)
  thr.write(pattern(5000))
  clock.advance(0)
  t.is(out.units(), 10, 'only the burst at once')
  clock.advance(1000)
  t.is(out.units(), 1010, 'then exactly the rate')
  thr.destroy()
})

test('ThrottleGroup.shared() without a rate still checks the options it is given', (t) => {
  const name = `check-${process.pid}-${Math.random()}`
  ThrottleGroup.shared(name, { rate: 100, initialBurst: 3 })
  t.is(ThrottleGroup.shared(name).stats().burst, 10)
  t.is(ThrottleGroup.shared(name, { burst: 10 }).stats().rate, 100)
  t.throws(() => ThrottleGroup.shared(name, { burst: 5 }), { code: 'ERR_SLUICE_SHARED_GROUP_MISMATCH' })
  t.throws(() => ThrottleGroup.shared(name, { initialBurst: 0 }), { code: 'ERR_SLUICE_SHARED_GROUP_MISMATCH' })
  t.throws(() => ThrottleGroup.shared(`${name}-missing`, { burst: 5 }), { instanceOf: TypeError, message: /options\.rate/ })
})

test('setRate() keeps a burst set explicitly before, and names its positional argument `rate` in errors', (t) => {
  const clock = createClock()
  const thr = new Throttle({ rate: 10, burst: 1, clock })
  thr.setRate(100)
  t.is(thr.stats().burst, 1)
  thr.setRate(100, { burst: 4 })
  thr.setRate(50)
  t.is(thr.stats().burst, 4)
  const auto = new Throttle({ rate: 10, clock })
  auto.setRate(100)
  t.is(auto.stats().burst, 10, 'a default burst follows the rate')
  const err = t.throws(() => thr.setRate(-1), { instanceOf: RangeError })
  t.regex(err.message, /"rate"/)
  t.notRegex(err.message, /options\.rate/)
  const typeErr = t.throws(() => thr.setRate('5'), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.regex(typeErr.message, /^The "rate" argument must be a number/)
  const overflow = t.throws(() => thr.setRate(1e300, { per: 1e-10 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' })
  t.regex(overflow.message, /^The value of "rate" is out of range/)
  t.is(thr.stats().burst, 4, 'a refused setRate changes nothing')
  // Large but finite per second (1000 × 1.8e305 alone would overflow): taken, and shown as given.
  const huge = new Throttle({ rate: 1.8e305, per: 1000, clock })
  t.is(huge.stats().rate, 1.8e305)
  huge.setRate(1.7e308, { per: 10000 })
  t.true(Number.isFinite(huge.stats().rate))
  huge.destroy()
  thr.destroy()
  auto.destroy()
})

test('an initialBurst above the burst is given once, also after a setRate() before the first write', (t) => {
  for (const setRate of [null, (thr) => thr.setRate(10), (thr) => thr.setRate(20, { burst: 20 })]) {
    const clock = createClock()
    const thr = new Throttle({ rate: 10, burst: 5, initialBurst: 100, clock })
    setRate?.(thr)
    let n = 0
    thr.on('data', (c) => { n += c.length })
    thr.write(Buffer.alloc(1000))
    clock.advance(0)
    t.is(n, 100, `${setRate ?? 'no setRate'}: the 100 initial tokens pass at once`)
    thr.destroy()
  }
})

test('setRate() without per keeps the per set before: 120 on a throttle of 60 a minute is 120 a minute', (t) => {
  const clock = createClock()
  const thr = new Throttle({ rate: 60, per: 60000, burst: 1, initialBurst: 0, objectMode: true, clock })
  thr.setRate(120)
  t.like(thr.stats(), { rate: 120, per: 60000 })
  const out = []
  thr.on('data', (x) => out.push(x))
  for (let i = 0; i < 10; i++) thr.write(i)
  clock.advance(2500)
  t.is(out.length, 5, '120 a minute: one every 500 ms (120 a second would have passed all 10)')
  thr.setRate(3, { per: 1000 })
  t.like(thr.stats(), { rate: 3, per: 1000 })
  t.throws(() => thr.setRate(3, { per: null }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /"options\.per"/ })
  thr.destroy()
  const group = new ThrottleGroup({ rate: 60, per: 60000, clock })
  group.setRate(30)
  t.like(group.stats(), { rate: 30, per: 60000 })
  const member = group.throttle({ rate: 10, per: 60000 })
  member.setRate(20)
  t.like(member.stats(), { rate: 20, per: 60000 })
  member.destroy()
})

test('a ThrottleGroup, shared or not, keeps a burst set explicitly before across setRate(), whichever handle calls it', (t) => {
  const group = new ThrottleGroup({ rate: 1000, burst: 50, clock: createClock() })
  group.setRate(3000)
  t.is(group.stats().burst, 50)
  const auto = new ThrottleGroup({ rate: 1000, clock: createClock() })
  auto.setRate(3000)
  t.is(auto.stats().burst, 300, 'a default burst follows the rate')
  // A shared group: the burst it was made with, then one a setRate gave, kept for every caller.
  const name = `explicit-burst-${process.pid}-${Date.now()}`
  const made = ThrottleGroup.shared(name, { rate: 1000, burst: 50 })
  made.setRate(3000)
  t.is(made.stats().burst, 50, 'the caller that made it')
  const later = ThrottleGroup.shared(name)
  later.setRate(4000)
  t.is(later.stats().burst, 50, 'a later caller without options')
  later.setRate(4000, { burst: 7 })
  made.setRate(5000)
  t.is(made.stats().burst, 7, 'a burst another handle set')
  const plain = ThrottleGroup.shared(`${name}-auto`, { rate: 1000 })
  plain.setRate(3000)
  t.is(plain.stats().burst, 300, 'a shared group made without a burst: the default follows the rate')
  // A member's own cap: the same rule, a burst given while the cap was lifted included.
  const member = group.throttle({ rate: 100, burst: 3 })
  member.setRate(200)
  t.is(member.stats().burst, 3, 'a member\'s cap keeps the burst it was made with')
  member.setRate(Infinity, { burst: 10 })
  member.setRate(500)
  t.deepEqual([member.stats().rate, member.stats().burst], [500, 10], 'a burst given with an infinite rate is kept for the next cap')
  const autoMember = group.throttle({ rate: 100 })
  autoMember.setRate(200)
  t.is(autoMember.stats().burst, 20, 'a member\'s default cap burst follows its rate')
  member.destroy()
  autoMember.destroy()
})

/**
 * (Serial tests: their spinning workers would slow each other's rounds.)
 * Two worker_threads in lockstep rounds, for a close start (a spinning barrier on shared
 * memory): each round `prepare` (worker 0, before the round starts), then `act[0]` and `act[1]`
 * at the same moment, then `check` (worker 0; false: a wrong round). Function bodies as text,
 * with `sluice`, `data`, `round`, `spinUntil(fn)` and what `setup` declares in scope. Rounds run
 * for `ms` (at most `rounds`): a loaded machine runs fewer, and the check holds for every one.
 * A worker that throws, exits early or waits a minute for the other rejects; both are stopped.
 */
async function lockstep ({ ms = 2000, rounds = 1e9, data, setup = '', prepare = '', act, check }) {
  const root = JSON.stringify(path.join(__dirname, '..'))
  const body = (role) => `
    const { parentPort, workerData } = require('node:worker_threads')
    const sluice = require(${root})
    const { data } = workerData
    const cell = new Int32Array(workerData.shared) // arrived, generation, rounds, wrong, stop
    const end = performance.now() + workerData.ms
    const giveUp = end + 60000
    function spinUntil (fn) {
      for (;;) {
        const value = fn()
        if (value !== null && value !== undefined && value !== false) return value
        if (performance.now() > giveUp) throw new Error('gave up waiting for the other worker')
      }
    }
    function barrier () {
      const generation = Atomics.load(cell, 1)
      if (Atomics.add(cell, 0, 1) === 1) {
        Atomics.store(cell, 0, 0)
        Atomics.add(cell, 1, 1)
      } else {
        spinUntil(() => Atomics.load(cell, 1) !== generation)
      }
    }
    ${setup}
    for (let round = 1; ; round++) {
      ${role === 0 ? prepare : ''}
      barrier()
      ${act[role]}
      barrier()
      if (${role} === 0) {
        const ok = (() => { ${check} })()
        if (!ok) Atomics.add(cell, 3, 1)
        Atomics.store(cell, 2, round)
        if (performance.now() > end || round >= workerData.rounds) Atomics.store(cell, 4, 1)
      }
      barrier()
      if (Atomics.load(cell, 4) === 1) break
    }
    parentPort.postMessage('done')`
  const shared = new SharedArrayBuffer(20)
  const workers = [0, 1].map((role) => new Worker(body(role), { eval: true, workerData: { shared, ms, rounds, data } }))
  try {
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
      w.once('message', resolve)
      w.once('error', reject)
      w.once('exit', (code) => reject(new Error(`a worker exited (code ${code}) before it finished`)))
    })))
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
  const cell = new Int32Array(shared)
  return { rounds: cell[2], wrong: cell[3] }
}

test.serial('a shared group\'s setRate() from two worker_threads at once: the burst after is the last one given, never one a racing call read before it changed', async (t) => {
  // One worker gives bursts 9 then 7, the other sets a rate without one after a varying short
  // delay, so the calls overlap at many offsets. Each setRate decides its burst under the group's
  // lock; were it read in one step and installed in another, the rate-only call could install
  // the 9 after the 7 replaced it. After each round the group's burst must be 7.
  const name = `explicit-burst-race-${process.pid}-${Date.now()}`
  const group = ThrottleGroup.shared(name, { rate: 1000, burst: 5 })
  const { rounds, wrong } = await lockstep({
    data: { name },
    setup: 'const group = sluice.ThrottleGroup.shared(data.name)',
    act: [
      'group.setRate(1000, { burst: 9 }); group.setRate(1000, { burst: 7 })',
      'for (let spin = (round * 7919) % 400; spin > 0; spin--); group.setRate(2000)'
    ],
    check: 'return group.stats().burst === 7'
  })
  t.log(`${rounds} rounds`)
  t.true(rounds > 0)
  t.is(wrong, 0, `of ${rounds} rounds, those that ended with a burst other than the last one given`)
  group.setRate(4000)
  t.is(group.stats().burst, 7)
})

test.serial('ThrottleGroup.shared(name, options) that makes the group never reports a mismatch, though another worker\'s setRate changes it at once', async (t) => {
  // One worker makes a group per round; the other looks it up as soon as it exists and changes
  // its rate and burst. The maker's options are the group's when it was made: what another caller
  // did since is no mismatch (the call must not throw), and its burst stays the later one's.
  const prefix = `made-race-${process.pid}-${Date.now()}`
  const { rounds, wrong } = await lockstep({
    // Each shared group lives for the rest of the process (~1 KiB): a bounded number of them.
    rounds: 20000,
    data: { prefix },
    setup: 'let thrown = null',
    act: [
      'thrown = null; try { sluice.ThrottleGroup.shared(data.prefix + "-" + round, { rate: 1000, burst: 50 }) } catch (err) { thrown = err }',
      `const group = spinUntil(() => { try { return sluice.ThrottleGroup.shared(data.prefix + "-" + round) } catch { return null } })
       group.setRate(2000, { burst: 7 })`
    ],
    check: 'return thrown === null'
  })
  t.log(`${rounds} rounds`)
  t.true(rounds > 0)
  t.is(wrong, 0, `of ${rounds} rounds, those in which the caller that made the group got a mismatch error`)
  const first = ThrottleGroup.shared(`${prefix}-1`)
  first.setRate(3000)
  t.is(first.stats().burst, 7, 'the burst given last (by the other worker) is kept')
})

test.serial('ThrottleGroup.shared(name, { burst }) beside another worker\'s setRate: either its burst matched and is kept, or the call fails with a mismatch', async (t) => {
  // A group made with the default burst (50 for 500/s). One worker asks for it with burst 50
  // while the other sets 2000/s without a burst. Either the ask came first (no error; the 50 is
  // now kept, so the setRate keeps it) or the setRate did (burst 200: a mismatch). The check and
  // the keeping were two steps: a call could succeed with its burst neither there nor kept.
  const prefix = `keep-race-${process.pid}-${Date.now()}`
  const { rounds, wrong } = await lockstep({
    rounds: 20000,
    data: { prefix },
    setup: 'let outcome = null; const nameOf = (round) => data.prefix + "-" + round',
    prepare: 'sluice.ThrottleGroup.shared(nameOf(round), { rate: 500 })',
    act: [
      'try { sluice.ThrottleGroup.shared(nameOf(round), { burst: 50 }); outcome = "ok" } catch (err) { outcome = err.code }',
      'for (let spin = (round * 7919) % 400; spin > 0; spin--); sluice.ThrottleGroup.shared(nameOf(round)).setRate(2000)'
    ],
    check: `const burst = sluice.ThrottleGroup.shared(nameOf(round)).stats().burst
      return outcome === 'ok' ? burst === 50 : outcome === 'ERR_SLUICE_SHARED_GROUP_MISMATCH' && burst === 200`
  })
  t.log(`${rounds} rounds`)
  t.true(rounds > 0)
  t.is(wrong, 0, `of ${rounds} rounds, those that ended otherwise`)
})

test('a clock from another copy of sluice (jest.resetModules(), jest.isolateModules()) is refused, and the message says so', async (t) => {
  const root = JSON.stringify(path.join(__dirname, '..'))
  const script = `
    const clock = require(path.join(${root}, 'lib/testing.js')).createClock()
    for (const key of Object.keys(require.cache)) delete require.cache[key]
    const { Throttle } = require(${root})
    try { new Throttle({ rate: 1, clock }) } catch (err) { console.log(err.message) }`
  const child = await runChild(['-e', `const path = require('node:path');${script}`])
  t.is(child.status, 0, child.stderr)
  t.regex(child.stdout, /"options\.clock" option must be a clock from the same copy of sluice \(this one is from another/)
})

test('the manual clock refuses an advance beyond a year, and a look-alike clock object', (t) => {
  const clock = createClock()
  t.throws(() => clock.advance(1e300), { instanceOf: RangeError })
  t.is(clock.now(), 0)
  const fake = Object.create(Object.getPrototypeOf(clock))
  t.throws(() => new Throttle({ rate: 1, clock: fake }), { instanceOf: TypeError, message: /options\.clock/ })
  t.throws(() => new ThrottleGroup({ rate: 1, clock: fake }), { instanceOf: TypeError, message: /options\.clock/ })
  // The same check for every component that takes a clock.
  t.throws(() => new Meter({ clock: fake }), { instanceOf: TypeError, message: /options\.clock/ })
  t.throws(() => new MonitoredWritable({ clock: fake, write (c, e, cb) { cb() } }), { instanceOf: TypeError, message: /options\.clock/ })
  // A look-alike group, and a null cost (not the default: null is not an option value).
  const fakeGroup = Object.create(ThrottleGroup.prototype)
  t.throws(() => new Throttle({ group: fakeGroup }), { instanceOf: TypeError, message: /options\.group/ })
  t.throws(() => new Throttle({ rate: 1, cost: null }), { instanceOf: TypeError, message: /options\.cost/ })
})

test('cork() after end() holds the chunk queued behind a write in flight until uncork(), and the stream then finishes (core PassThrough never does)', async (t) => {
  // end()'s chunk queued behind a write the stream holds (its readable side full, paused); a
  // cork() after end(); the held write completes (a resume); uncork() writes the chunk at once.
  // Node's Writable (20.20, 24.22) looks for the finish while it still counts the queue as being
  // emptied, and never again: no 'finish', end()'s callback never called (lib/inflight.js,
  // uncorkAfterEnd). The bound only ends a wait for a finish that never comes: generous for
  // sluice's streams (a busy machine), short for core's, which is only logged.
  const settle = async (s, boundMs = 10_000) => {
    const t0 = Date.now()
    while (!s.writableFinished && Date.now() - t0 < boundMs) await new Promise(setImmediate)
  }
  const run = async (s, boundMs) => {
    const events = []
    s.on('finish', () => events.push('finish'))
    if (s.readable) s.pause()
    s.write(Buffer.from('0123456789abcdef'))
    await new Promise(setImmediate)
    s.end('ef', (err) => events.push(`end callback ${err}`))
    s.cork()
    if (s.readable) s.resume()
    for (let i = 0; i < 5; i++) await new Promise(setImmediate)
    const held = s.writableLength
    while (s.writableCorked > 0) s.uncork()
    await settle(s, boundMs)
    return { held, events, finished: s.writableFinished }
  }
  const core = await run(new PassThrough({ readableHighWaterMark: 5 }), 200)
  t.log(`core PassThrough: ${JSON.stringify(core)}`)
  for (const make of [
    () => new Throttle({ rate: Infinity, readableHighWaterMark: 5 }),
    () => new Throttle({ rate: 1e12, readableHighWaterMark: 5 }),
    () => new Meter({ readableHighWaterMark: 5 })
  ]) {
    const s = make()
    const got = await run(s)
    t.is(got.held, 2, `${s.constructor.name}: end()'s chunk held by the cork`)
    t.true(got.finished, `${s.constructor.name}: finished after uncork()`)
    t.true(got.events.includes('finish') && got.events.includes('end callback null'), `${s.constructor.name}: 'finish' and end()'s callback`)
    s.destroy()
  }
  let n = 0
  const w = new MonitoredWritable({ write (chunk, encoding, callback) { if (n++ === 0) setImmediate(callback); else callback() } })
  const events = []
  w.on('finish', () => events.push('finish'))
  w.write('a')
  w.end('b', (err) => events.push(`end callback ${err}`))
  w.cork()
  await new Promise((resolve) => setTimeout(resolve, 20))
  w.uncork()
  await settle(w)
  t.is(n, 2)
  t.true(w.writableFinished, 'MonitoredWritable: finished after uncork()')
  t.true(events.includes('finish') && events.includes('end callback null'), 'MonitoredWritable: \'finish\' and end()\'s callback')
})
