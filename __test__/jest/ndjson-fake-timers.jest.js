'use strict'

// NdjsonParser under jest's modern fake timers: `jest.useFakeTimers()` fakes the sandbox's
// process.nextTick, setImmediate, setTimeout, queueMicrotask and Date, and nothing sluice
// schedules may wait for them (a core Transform does not). Every test here turns fake timers on
// before it creates a parser and never advances them. The whole file runs a second time in a
// child jest with `fakeTimers: { enableGlobally: true }` (timers faked before any module loads),
// the last test below.
//
// The slow consumers use `require('node:timers').setImmediate`: jest fakes the sandbox's
// globals, not that module, so real time passes for them.

const { once } = require('node:events')
const { Readable, Writable } = require('node:stream')
const { pipeline } = require('node:stream/promises')
const timers = require('node:timers')
const { NdjsonParser, NdjsonError, NULL } = require('../..')
const { UNDER_GLOBAL_FAKES, runUnderGlobalFakeTimers } = require('../helpers.js')


// A hang is what these tests catch; fail it well before the runner's own limit.
jest.setTimeout(20000)

beforeEach(() => {
  jest.useFakeTimers()
})

afterEach(() => {
  jest.useRealTimers()
})

/** `n` NDJSON records ({ i, s }), every `badEvery`-th line invalid when given, as 64 KiB chunks. */
function ndjson (n, { badEvery = 0 } = {}) {
  const lines = []
  for (let i = 0; i < n; i++) lines.push(badEvery && i % badEvery === badEvery - 1 ? `{bad ${i}` : JSON.stringify({ i, s: 'é' }))
  const buf = Buffer.from(lines.join('\n') + '\n')
  const chunks = []
  for (let k = 0; k < buf.length; k += 65536) chunks.push(buf.subarray(k, k + 65536))
  return chunks
}

/** An object sink collecting into `out`; `slow` completes each write on a later (real) turn. */
function sink (out, { slow = false, check } = {}) {
  return new Writable({
    objectMode: true,
    highWaterMark: 4,
    write (v, e, cb) {
      out.push(v)
      check?.()
      if (slow) timers.setImmediate(cb)
      else cb()
    }
  })
}

/** Watches a parser: its events in order, and whether anything came after 'close'. */
function watch (p) {
  const w = { log: [], values: [], invalid: [], errors: [], closed: false, afterClose: 0 }
  p.on('invalid', (info) => { w.log.push(['invalid', info.line]); w.invalid.push(info) })
  p.on('error', (err) => { w.log.push(['error', err.code]); w.errors.push(err) })
  p.on('close', () => { w.closed = true })
  return w
}

async function iterate (p, w) {
  let error = null
  try {
    for await (const v of p) {
      if (w.closed) w.afterClose++
      w.log.push(['value', v])
      w.values.push(v)
    }
  } catch (err) {
    error = err
  }
  return error
}

test('the fake timers are really on: nextTick, setImmediate, setTimeout and queueMicrotask wait for jest', async () => {
  const ran = []
  process.nextTick(() => ran.push('nextTick'))
  setImmediate(() => ran.push('setImmediate'))
  setTimeout(() => ran.push('setTimeout'), 0)
  queueMicrotask(() => ran.push('queueMicrotask'))
  await new Promise((resolve) => timers.setImmediate(resolve))
  await new Promise((resolve) => timers.setTimeout(resolve, 5))
  expect(ran).toEqual([])
  jest.runAllTicks()
  jest.runAllTimers()
  expect(ran.sort()).toEqual(['nextTick', 'queueMicrotask', 'setImmediate', 'setTimeout'])
})

// ---- the main scenarios -------------------------------------------------------------------

test('values in a pipeline (many batches, nulls)', async () => {
  const out = []
  await pipeline(Readable.from([...ndjson(20000), Buffer.from('null\n1\n')]), new NdjsonParser(), sink(out))
  expect(out).toHaveLength(20002)
  expect(out.slice(0, 2)).toEqual([{ i: 0, s: 'é' }, { i: 1, s: 'é' }])
  expect(out.slice(-3)).toEqual([{ i: 19999, s: 'é' }, NULL, 1])
  expect(out.every((v, k) => k >= 20000 || v.i === k)).toBe(true)
})

test("output 'batches', 'lines' and 'envelopes'", async () => {
  const input = Buffer.from('{"a":1}\r\n\n[2]\nnull\n')
  const batches = []
  await pipeline(Readable.from([input]), new NdjsonParser({ output: 'batches' }), sink(batches))
  expect(batches.flat()).toEqual([{ a: 1 }, [2], null])
  const lines = []
  await pipeline(Readable.from([input]), new NdjsonParser({ output: 'lines' }), sink(lines))
  expect(lines.map(String)).toEqual(['{"a":1}', '[2]', 'null'])
  const envelopes = []
  await pipeline(Readable.from([input]), new NdjsonParser({ output: 'envelopes' }), sink(envelopes))
  expect(envelopes).toEqual([{ line: 1, offset: 0, value: { a: 1 } }, { line: 3, offset: 10, value: [2] }, { line: 4, offset: 14, value: null }])
})

test('for await over a parser fed with end()', async () => {
  const p = new NdjsonParser()
  const w = watch(p)
  p.end('1\n"two"\n[3]\n')
  expect(await iterate(p, w)).toBe(null)
  expect(w.values).toEqual([1, 'two', [3]])
})

test("'readable' + read() until null", async () => {
  const p = new NdjsonParser({ onInvalid: 'skip' })
  const w = watch(p)
  p.on('readable', () => {
    let v
    while ((v = p.read()) !== null) { w.log.push(['value', v]); w.values.push(v) }
  })
  p.end('1\n2\n{bad\n3\n')
  await once(p, 'end')
  expect(w.log).toEqual([['value', 1], ['value', 2], ['invalid', 3], ['value', 3]])
})

test('backpressure: a slow consumer with a small readableHighWaterMark gets everything, the buffer stays bounded', async () => {
  const p = new NdjsonParser({ readableHighWaterMark: 4 })
  const out = []
  let most = 0
  await pipeline(Readable.from(ndjson(5000)), p, sink(out, { slow: true, check: () => { most = Math.max(most, p.readableLength) } }))
  expect(out).toHaveLength(5000)
  expect(out.every((v, k) => v.i === k)).toBe(true)
  expect(most).toBeLessThanOrEqual(5)
})

// ---- faults ---------------------------------------------------------------------------------

test("onInvalid 'skip': the reported repro (for await, values buffered before the invalid line)", async () => {
  const p = new NdjsonParser({ onInvalid: 'skip' })
  const w = watch(p)
  p.end('1\n2\n{oops}\n3\n')
  expect(await iterate(p, w)).toBe(null)
  expect(w.log).toEqual([['value', 1], ['value', 2], ['invalid', 3], ['value', 3]])
})

test("onInvalid 'skip': a trailing invalid line after buffered values, for await still ends", async () => {
  for (const input of ['1\n2\n{bad\n', '1\n2\n{bad', '1\n{bad\n{bad\n']) {
    const p = new NdjsonParser({ onInvalid: 'skip' })
    const w = watch(p)
    p.end(input)
    expect(await iterate(p, w)).toBe(null)
    expect(w.log.filter(([kind]) => kind === 'value')).toEqual(input.startsWith('1\n2') ? [['value', 1], ['value', 2]] : [['value', 1]])
    expect(w.log[w.log.length - 1][0]).toBe('invalid')
  }
})

test("onInvalid 'skip': many invalid lines through a slow pipeline, in order", async () => {
  const p = new NdjsonParser({ onInvalid: 'skip' })
  const w = watch(p)
  const out = []
  await pipeline(Readable.from(ndjson(3000, { badEvery: 10 })), p, sink(out, { slow: true }))
  expect(out).toHaveLength(2700)
  expect(w.invalid.map((i) => i.line)).toEqual(Array.from({ length: 300 }, (_, k) => 10 * k + 10))
  expect(p.stats()).toMatchObject({ values: 2700, invalidLines: 300 })
})

test("onInvalid 'skip': many invalid lines, for await", async () => {
  const p = new NdjsonParser({ onInvalid: 'skip' })
  const w = watch(p)
  Readable.from(ndjson(3000, { badEvery: 7 })).pipe(p)
  expect(await iterate(p, w)).toBe(null)
  const order = w.log.map(([kind, x]) => (kind === 'value' ? x.i : x - 1))
  expect(order).toEqual(Array.from({ length: 3000 }, (_, k) => k))
})

test("onInvalid 'error': the values before the bad line, then the error (for await and pipeline)", async () => {
  const p = new NdjsonParser()
  const w = watch(p)
  p.end('1\n2\n{oops}\n3\n')
  const err = await iterate(p, w)
  expect(err).toBeInstanceOf(NdjsonError)
  expect(err).toMatchObject({ code: 'ERR_SLUICE_INVALID_JSON', line: 3 })
  expect(w.values).toEqual([1, 2])

  const out = []
  const run = pipeline(Readable.from([Buffer.from('1\n2\n{oops}\n3\n')]), new NdjsonParser(), sink(out))
  await expect(run).rejects.toMatchObject({ code: 'ERR_SLUICE_INVALID_JSON', line: 3 })
  expect(out).toEqual([1, 2])
})

test('maxInvalid: the over-limit line is announced, then the stream fails', async () => {
  const p = new NdjsonParser({ onInvalid: 'skip', maxInvalid: 1 })
  const w = watch(p)
  p.end('1\n{a\n2\n{b\n3\n')
  const err = await iterate(p, w)
  expect(err).toMatchObject({ code: 'ERR_SLUICE_TOO_MANY_INVALID', line: 4 })
  expect(w.log.filter(([kind]) => kind !== 'error')).toEqual([['value', 1], ['invalid', 2], ['value', 2], ['invalid', 4]])
})

test('a throwing reviver while values are buffered: the values before it, then its error', async () => {
  const boom = new Error('reviver failed')
  const p = new NdjsonParser({ reviver: (k, v) => { if (k === '' && v === 3) throw boom; return v } })
  const w = watch(p)
  p.end('1\n2\n3\n4\n')
  expect(await iterate(p, w)).toBe(boom)
  expect(w.values).toEqual([1, 2])
  expect(w.errors).toEqual([boom])
})

test('destroy() mid-stream from a data handler: close, nothing after', async () => {
  const p = new NdjsonParser()
  const w = watch(p)
  let n = 0
  p.on('data', () => {
    if (w.closed) w.afterClose++
    if (++n === 500) p.destroy()
  })
  const closed = once(p, 'close')
  Readable.from(ndjson(20000)).pipe(p)
  await closed
  await new Promise((resolve) => timers.setTimeout(resolve, 20))
  expect(n).toBe(500)
  expect(w.afterClose).toBe(0)
  expect(w.errors).toEqual([])
})

test('destroy(err) mid-stream: that error once, then close; pipeline rejects with it', async () => {
  const boom = new Error('stop here')
  const p = new NdjsonParser()
  const w = watch(p)
  let n = 0
  const out = []
  const run = pipeline(Readable.from(ndjson(20000)), p, sink(out, { slow: true }))
  p.on('data', () => { if (++n === 1000) p.destroy(boom) })
  await expect(run).rejects.toBe(boom)
  expect(w.errors).toEqual([boom])
  expect(w.closed).toBe(true)
  expect(n).toBe(1000)
})

test('destroy() while nobody reads and an invalid line is waiting behind buffered values', async () => {
  const p = new NdjsonParser({ onInvalid: 'skip' })
  const w = watch(p)
  p.end('1\n2\n{bad\n3\n')
  await once(p, 'readable')
  p.destroy()
  await once(p, 'close')
  expect(w.invalid).toEqual([])
  expect(w.errors).toEqual([])
})

// ---- the same file under global fake timers ------------------------------------------------

;(UNDER_GLOBAL_FAKES ? test.skip : test)('this file again in a child jest with fakeTimers: { enableGlobally: true } (faked before any module loads)', () => {
  expect(runUnderGlobalFakeTimers(__filename)).toEqual({ status: 0, signal: null, summary: expect.stringMatching(/^Tests:\s+1 skipped, \d+ passed, \d+ total$/) })
}, 150000)
