'use strict'

// The shared runtime: every stream runs on one fixed pool of worker threads (src/runtime/).
// Thread counts, starvation, worker_threads and process exit are observed in bare child
// processes (fixtures/runtime-child.js); sharing and isolation between streams in this one.

const path = require('node:path')
const { Readable, Writable } = require('node:stream')
const { pipeline } = require('node:stream/promises')
const test = require('ava')
const { NdjsonParser, configure } = require('..')
const { runChild } = require('./helpers.js')

const CHILD = path.join(__dirname, 'fixtures', 'runtime-child.js')

async function scenario (name, args = [], env = {}, timeout = 90000) {
  const r = await runChild([CHILD, name, ...args.map(String)], { env, timeout })
  const lines = r.stdout.trim().split('\n').filter(Boolean)
  return { ...r, out: lines.length ? JSON.parse(lines[lines.length - 1]) : null }
}

test('thousands of concurrent streams: all data delivered in order, no thread per stream', async (t) => {
  const r = await scenario('many', [3000, 5])
  t.is(r.status, 0, r.stderr)
  const { before, maxThreads, workers, inOrder, delivered } = r.out
  t.true(inOrder, 'every stream got its values, in order')
  t.is(delivered, 3000 * 5)
  // The pool's workers and the timer thread, whatever the number of streams.
  t.true(maxThreads <= before + workers + 1, `${before} threads before, at most ${maxThreads} with 3000 streams (pool of ${workers})`)
})

test('with one worker, a stream parsing a huge chunk does not starve a trickling one', async (t) => {
  const r = await scenario('starve', [60], { SLUICE_WORKERS: '1' })
  t.is(r.status, 0, r.stderr)
  t.is(r.out.workers, 1)
  t.is(r.out.error, null)
  t.is(r.out.bigValues, r.out.expected)
  // The big stream yields after every 64 KiB slice; without that the trickle would wait for all
  // 60 MB. No timing bound: the order of the two ends is what starvation would change.
  t.deepEqual(r.out.events, ['small done', 'big ended'])
})

test('worker_threads terminated while their streams are queued behind a busy one', async (t) => {
  const r = await scenario('terminateQueued', [4], { SLUICE_WORKERS: '1' })
  t.is(r.status, 0, r.stderr)
  t.is(r.out.error, null)
  t.is(r.out.values, r.out.expected, 'the busy stream completed')
  t.is(r.out.exits.length, 4)
  t.deepEqual({ after: r.out.after, afterError: r.out.afterError }, { after: 1000, afterError: null })
})

test('process.exit() with many tasks queued on the pool exits at once with its code', async (t) => {
  const r = await scenario('exitQueued', [5], { SLUICE_WORKERS: '1' }, 30000)
  t.is(r.status, 5, r.stderr)
  t.notRegex(r.stderr, /panicked|FATAL|Segmentation|Abort/i)
})

test('a process whose streams have unread queued work exits by itself', async (t) => {
  const r = await scenario('exitIdle', [], { SLUICE_WORKERS: '1' }, 30000)
  t.is(r.status, 0, r.stderr)
  t.deepEqual(r.out, { exited: true })
})

test('an explicit configure({ workers }) stands against SLUICE_WORKERS read in another worker_threads environment (each has its own copy of the JS side)', async (t) => {
  const r = await scenario('explicitOverEnv', [], { SLUICE_WORKERS: '3' })
  t.is(r.status, 0, r.stderr)
  t.deepEqual(r.out, { asked: 1, inWorker: { read: 1, after: 1 }, here: 1, resized: null })
})

test('SLUICE_WORKERS is validated: a RangeError naming it, from the first constructor', async (t) => {
  for (const value of ['0', 'two', '-1', '1.5', '99999']) {
    const r = await scenario('badEnv', [], { SLUICE_WORKERS: value })
    t.is(r.status, 0, r.stderr)
    t.like(r.out, { threw: true, name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, value)
    t.regex(r.out.message, /SLUICE_WORKERS/)
  }
})

test('configure(): reports the pool, validates workers, refuses to resize a running pool', (t) => {
  const { workers } = configure()
  t.true(Number.isInteger(workers) && workers >= 1)
  for (const bad of [0, -1, 1.5, 1025, NaN]) {
    t.throws(() => configure({ workers: bad }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE', message: /options\.workers/ })
  }
  t.throws(() => configure({ workers: '2' }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /options\.workers/ })
  t.throws(() => configure({ threads: 2 }), { instanceOf: TypeError, message: /options\.threads/ })
  t.throws(() => configure(null), { instanceOf: TypeError })
  // Streams have run in this process (other tests), or start now: the size is fixed. (Bulk
  // input of number-heavy records starts the pool; a parser that only ever sees a little input,
  // or records of plain strings it parses in text mode, never needs it.)
  const p = new NdjsonParser()
  p.write(Buffer.from('[1.5,2.5,3.5,4.5,5.5,6.5,7.5,8.5]\n'.repeat(4096)))
  p.destroy()
  t.deepEqual(configure({ workers }), { workers })
  t.throws(() => configure({ workers: workers + 1 }), { code: 'ERR_SLUICE_RUNTIME_STARTED', message: /already runs with/ })
})

test('destroying some streams mid-flight leaves the others sharing their workers intact', async (t) => {
  const text = Buffer.from(Array.from({ length: 20000 }, (_, i) => JSON.stringify({ i, s: 'héllo' })).join('\n') + '\n')
  const chunks = []
  for (let k = 0; k < text.length; k += 16384) chunks.push(text.subarray(k, k + 16384))
  const runs = []
  for (let s = 0; s < 24; s++) {
    const p = new NdjsonParser()
    let n = 0
    let afterDestroy = 0
    let destroyed = false
    const victim = s % 3 === 0
    const sink = new Writable({
      objectMode: true,
      write (v, e, cb) {
        if (destroyed) afterDestroy++
        if (++n === 500 + s * 100 && victim) { destroyed = true; p.destroy() }
        cb()
      }
    })
    runs.push(pipeline(Readable.from(chunks), p, sink).then(() => ({ victim, n, afterDestroy }), (err) => ({ victim, n, afterDestroy, err: err.code })))
  }
  for (const r of await Promise.all(runs)) {
    if (r.victim) {
      t.is(r.err, 'ERR_STREAM_PREMATURE_CLOSE')
      t.is(r.afterDestroy, 0)
    } else {
      t.deepEqual(r, { victim: false, n: 20000, afterDestroy: 0 })
    }
  }
})

test('stats() read while streaming always adds up (lines = values + blank + invalid) and covers every value delivered', async (t) => {
  const parts = []
  for (let i = 0; i < 40000; i++) parts.push(i % 7 === 0 ? '{bad' : i % 11 === 0 ? '   ' : JSON.stringify({ i }))
  const text = Buffer.from(parts.join('\n') + '\n')
  const chunks = []
  // Mostly 16 KiB chunks (the pool, written while a worker runs), some small (inline).
  for (let k = 0, n = 0; k < text.length; k += n) { n = k % 5 === 0 ? 1000 : 16384; chunks.push(text.subarray(k, k + n)) }
  const p = new NdjsonParser({ onInvalid: 'skip' })
  let samples = 0
  let delivered = 0
  const broken = []
  const check = () => {
    const s = p.stats()
    samples++
    if (s.lines !== s.values + s.blankLines + s.invalidLines || s.values > s.lines || s.values < delivered) broken.push({ ...s, delivered })
  }
  p.on('invalid', check)
  const sink = new Writable({ objectMode: true, write (v, e, cb) { delivered++; check(); cb() } })
  await pipeline(Readable.from(chunks), p, sink)
  check()
  t.true(samples > 10000)
  t.deepEqual(broken.slice(0, 3), [], `${broken.length} of ${samples} samples inconsistent`)
  t.like(p.stats(), { lines: 40000 })
})
