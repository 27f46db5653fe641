'use strict'

// Faults: destroy() at arbitrary points while the native worker is busy, process.exit()
// mid-stream, worker_threads terminated mid-stream, native panics, throwing revivers. What could
// crash the process runs in a child (fixtures/faults-child.js) so the runner survives to report.

const { spawn } = require('node:child_process')
const { once } = require('node:events')
const path = require('node:path')
const { Readable, Writable } = require('node:stream')
const { pipeline: pipelineAsync } = require('node:stream/promises')
const { Worker } = require('node:worker_threads')
const test = require('ava')
const { NdjsonParser } = require('..')
const { collect, makeRng, runChild } = require('./helpers.js')

const ROOT = path.join(__dirname, '..')
const CHILD = path.join(__dirname, 'fixtures', 'faults-child.js')

const BIG = (() => {
  const text = Array.from({ length: 30000 }, (_, i) => JSON.stringify({ i, s: 'héllo wörld 😀', a: [i, { b: null }] })).join('\n') + '\n'
  const buf = Buffer.from(text)
  const chunks = []
  for (let k = 0; k < buf.length; k += 16384) chunks.push(buf.subarray(k, k + 16384))
  return chunks
})()

/**
 * Runs a fixture scenario in a child process; resolves like spawnSync's result ({ status, signal,
 * stdout, stderr, error }). Asynchronous on purpose: a spawnSync froze this whole process for the
 * child's lifetime, so the 5-second bounds of the tests running beside it expired while their
 * streams could not be served (the "no 'close' within 5000 ms" failures under load).
 */
function child (args, timeout = 20000) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CHILD, ...args], { env: { ...process.env, RUST_BACKTRACE: '0' } })
    let stdout = ''
    let stderr = ''
    let error
    proc.stdout.setEncoding('utf8').on('data', (s) => { stdout += s })
    proc.stderr.setEncoding('utf8').on('data', (s) => { stderr += s })
    const timer = setTimeout(() => { error = new Error(`timed out after ${timeout} ms`); proc.kill('SIGKILL') }, timeout)
    proc.on('close', (status, signal) => {
      clearTimeout(timer)
      resolve({ status, signal, stdout, stderr, error, closedAt: Date.now() })
    })
  })
}

function lastJson (stdout) {
  const lines = stdout.trim().split('\n').filter(Boolean)
  return lines.length ? JSON.parse(lines[lines.length - 1]) : null
}

// How long an event may take before the stream counts as hung. A hang bound, not a timing claim:
// generous, because CI runs this file beside busy loops (5 s expired once with the 2-core machine
// 4x oversubscribed, the stream healthy).
const HANG_MS = 60000

/** Resolves with the event's arguments, or rejects when it does not come within `ms`. */
function within (emitter, event, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms: ${what}`)), ms)
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args) })
  })
}

/** Watches a parser: counts 'data' after destroy() was called. */
function watch (p) {
  const w = { destroyCalled: false, dataAfterDestroy: 0, values: 0, errors: [] }
  const destroy = p.destroy.bind(p)
  p.destroy = (err) => { w.destroyCalled = true; return destroy(err) }
  p.on('data', () => { if (w.destroyCalled) w.dataAfterDestroy++; w.values++ })
  p.on('error', (err) => w.errors.push(err))
  return w
}

function feed (p, chunks = BIG) {
  // Not pipeline(): we destroy the parser ourselves and only want the source to stop.
  const src = Readable.from(chunks)
  src.pipe(p)
  p.on('close', () => src.destroy())
  return src
}

// ---- (a) destroy() at random points ----------------------------------------------------------

test('destroy() from a data handler after k values: close, no data after destroy, stats still readable', async (t) => {
  const rng = makeRng(1)
  for (let round = 0; round < 12; round++) {
    const k = 1 + rng.int(25000)
    const p = new NdjsonParser()
    const w = watch(p)
    p.on('data', () => { if (w.values === k) p.destroy() })
    feed(p)
    await within(p, 'close', HANG_MS, `k=${k}`)
    t.is(w.dataAfterDestroy, 0, `k=${k}`)
    t.deepEqual(w.errors, [])
    t.is(w.values, k)
    const s = p.stats()
    t.true(s.values >= k && s.bytes > 0, `stats after destroy: ${JSON.stringify(s)}`)
  }
})

test('destroy() from a timer while the worker is busy (fast and slow consumers)', async (t) => {
  const rng = makeRng(2)
  for (let round = 0; round < 16; round++) {
    const delay = rng.int(15)
    const slow = round % 2 === 1
    const p = new NdjsonParser()
    const w = watch(p)
    const src = Readable.from(BIG)
    const sink = new Writable({ objectMode: true, write (v, e, cb) { if (slow) setImmediate(cb); else cb() } })
    src.pipe(p).pipe(sink)
    p.on('close', () => src.destroy())
    const timer = round % 4 === 0 ? setImmediate(() => p.destroy()) : setTimeout(() => p.destroy(), delay)
    await within(p, 'close', HANG_MS, `delay=${delay} slow=${slow}`)
    clearTimeout(timer)
    t.is(w.dataAfterDestroy, 0)
    t.deepEqual(w.errors, [])
  }
})

test('destroy(err) mid-stream: that error is emitted once, then close', async (t) => {
  const p = new NdjsonParser()
  const w = watch(p)
  const boom = new Error('stop here')
  p.on('data', () => { if (w.values === 1000) p.destroy(boom) })
  feed(p)
  await within(p, 'close', HANG_MS, 'destroy(err)')
  t.deepEqual(w.errors, [boom])
  t.is(w.dataAfterDestroy, 0)
})

test('destroy() before the first write, and writes after it, do not crash', async (t) => {
  const p = new NdjsonParser()
  const w = watch(p)
  p.destroy()
  await within(p, 'close', HANG_MS, 'destroy before write')
  const err = await new Promise((resolve) => p.write('1\n', resolve))
  t.is(err?.code, 'ERR_STREAM_DESTROYED')
  t.is(w.values, 0)
  t.deepEqual(p.stats(), { lines: 0, bytes: 0, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 })
})

test('destroy() right after many synchronous writes (input channel full, chunks pending)', async (t) => {
  for (let round = 0; round < 6; round++) {
    const p = new NdjsonParser()
    const w = watch(p)
    for (const chunk of BIG) p.write(chunk)
    if (round % 2) p.end()
    if (round >= 4) p.resume()
    p.destroy()
    await within(p, 'close', HANG_MS, `round ${round}`)
    t.is(w.dataAfterDestroy, 0)
    t.deepEqual(w.errors, [])
  }
})

test('destroy() while nobody reads (worker blocked on output credits), after end()', async (t) => {
  const p = new NdjsonParser()
  const errors = []
  p.on('error', (err) => errors.push(err))
  for (const chunk of BIG) p.write(chunk)
  p.end()
  // Wait for output to be waiting ('readable' does not consume it), then until the worker stops
  // producing (it has used its credits). There is no event for "blocked", so poll the counters.
  await within(p, 'readable', HANG_MS, 'first output')
  for (let last = -1, stable = 0, deadline = Date.now() + 3000; stable < 3 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    const { values } = p.stats()
    stable = values === last ? stable + 1 : 0
    last = values
  }
  t.true(p.readableLength > 0, 'output is waiting to be read')
  t.true(p.stats().values < 30000, 'the worker is held back by the unread output')
  p.destroy()
  let dataAfterDestroy = 0
  p.on('data', () => dataAfterDestroy++)
  await within(p, 'close', HANG_MS, 'blocked worker')
  t.is(dataAfterDestroy, 0)
  t.deepEqual(errors, [])
})

test("destroy() after 'end' is a no-op; destroy() from an 'invalid' handler stops the stream", async (t) => {
  const p = new NdjsonParser()
  const values = []
  p.on('data', (v) => values.push(v))
  const closed = within(p, 'close', HANG_MS, 'close after end')
  p.end('1\n2\n')
  await within(p, 'end', HANG_MS, 'end')
  p.destroy()
  await closed
  t.deepEqual(values, [1, 2])

  const q = new NdjsonParser({ onInvalid: 'skip' })
  const w = watch(q)
  q.on('invalid', () => q.destroy())
  feed(q, [Buffer.from('1\n2\n{bad\n3\n'), ...BIG])
  await within(q, 'close', HANG_MS, 'destroy from invalid')
  t.is(w.values, 2)
  t.is(w.dataAfterDestroy, 0)
})

test('pipeline() with a destination that fails mid-stream rejects and tears the parser down', async (t) => {
  const p = new NdjsonParser()
  let n = 0
  const sink = new Writable({ objectMode: true, write (v, e, cb) { cb(++n === 5000 ? new Error('sink failed') : null) } })
  await t.throwsAsync(pipelineAsync(Readable.from(BIG), p, sink), { message: 'sink failed' })
  t.true(p.destroyed)
})

// ---- (b) process.exit() mid-stream -----------------------------------------------------------

for (const delay of ['0', '1', '5', '20', 'data:1', 'data:5000']) {
  test(`process.exit(7) mid-stream (${delay.startsWith('data') ? `from the ${delay.slice(5)}th data handler` : `after ${delay} ms`}) exits with 7, no crash`, async (t) => {
    const r = await child(['exit', delay, '7'])
    t.is(r.error, undefined, 'no timeout')
    t.is(r.signal, null, r.stderr)
    t.is(r.status, 7, r.stderr)
    t.notRegex(r.stderr, /panicked|FATAL|Segmentation|Abort/i)
  })
}

test('process.exit(3) while the native worker is blocked on output credits exits promptly', async (t) => {
  // A hang would be forever: 10 s from the exit call to the process gone holds on any machine.
  const r = await child(['exitBlocked', '3'], 60000)
  t.is(r.signal, null, r.stderr)
  t.is(r.status, 3, r.stderr)
  const { exitCalledAt } = lastJson(r.stdout)
  t.true(r.closedAt - exitCalledAt < 10000, `${r.closedAt - exitCalledAt} ms from process.exit() to the end`)
  t.notRegex(r.stderr, /panicked|FATAL|Segmentation|Abort/i)
})

test('a consumer that read some values and stopped does not keep the process alive (worker parked on credits, some given back)', async (t) => {
  // 1: inside the first batch; 700 and 3000: after some batches, the worker woken and parked again.
  for (const count of ['1', '700', '3000']) {
    const r = await child(['stoppedReading', count])
    t.is(r.error, undefined, `read ${count}: the child exited by itself (no hang)`)
    t.is(r.status, 0, r.stderr)
    const last = lastJson(r.stdout)
    t.is(last?.read, Number(count))
    t.true(last.values < 50000, `read ${count}: the worker was held back (${last.values} values parsed)`)
  }
})

test('an abandoned parser (nobody reads, nothing else alive) does not keep the process alive', async (t) => {
  const r = await child(['abandoned'])
  t.is(r.error, undefined, 'the child exited by itself (no hang)')
  t.is(r.status, 0, r.stderr)
  t.true(lastJson(r.stdout)?.exited)
})

test('a pipeline keeps the process alive until it completes (no early exit with code 0)', async (t) => {
  const r = await child(['complete', '60000'])
  t.is(r.status, 0, r.stderr)
  t.deepEqual(lastJson(r.stdout), { error: null, values: 60000 })
})

// ---- (c) worker_threads ----------------------------------------------------------------------

test('Workers terminated mid-stream (busy and blocked) do not crash the process; a completing Worker counts right', async (t) => {
  const r = await child(['workers', '6'], 60000)
  t.is(r.error, undefined, 'no timeout')
  t.is(r.signal, null, r.stderr)
  t.is(r.status, 0, r.stderr)
  const out = lastJson(r.stdout)
  t.is(out?.terminated.length, 6)
  t.deepEqual(out?.completed, { done: true, err: null, n: 20000 })
  t.deepEqual(out?.mainAfter, { error: null, values: 5000 })
})

test('the addon works inside a Worker of this process', async (t) => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { NdjsonParser, NULL } = require(workerData.root)
    const { Readable, Writable, pipeline } = require('node:stream')
    const lines = []
    for (let i = 0; i < 10000; i++) lines.push(i % 100 === 0 ? 'null' : JSON.stringify({ i, t: 'é😀' }))
    let n = 0, nulls = 0
    pipeline(Readable.from([Buffer.from(lines.join('\\n'))]), new NdjsonParser(), new Writable({ objectMode: true, write (v, e, cb) { n++; if (v === NULL) nulls++; cb() } }),
      (err) => parentPort.postMessage({ err: err ? err.message : null, n, nulls }))
  `
  const w = new Worker(code, { eval: true, workerData: { root: ROOT } })
  const exited = once(w, 'exit')
  const [msg] = await once(w, 'message')
  t.deepEqual(msg, { err: null, n: 10000, nulls: 100 })
  t.deepEqual(await exited, [0])
})

// ---- (d) panics ------------------------------------------------------------------------------

test('a panic on the native worker destroys the stream with SluiceError ERR_SLUICE_PANIC; panicInExport() throws a catchable error', async (t) => {
  const r = await child(['panic'])
  t.is(r.signal, null, `the process was not aborted: ${r.stderr}`)
  t.is(r.status, 0, r.stderr)
  const out = lastJson(r.stdout)
  t.true(out?.exportThrew, 'panicInExport() threw')
  t.true(out?.exportErrorIsError)
  t.regex(out?.exportMessage ?? '', /injected export fault/)
  t.deepEqual(out?.data, [5], 'data before the panic was delivered')
  t.like(out?.error, { isSluiceError: true, isError: true, code: 'ERR_SLUICE_PANIC', name: 'SluiceError' })
  t.regex(out?.error?.message ?? '', /panick/)
  t.is(out?.dataAfterError, 0)
  t.true(out?.closed)
  t.true(out?.destroyed)
  t.deepEqual(out?.after, { error: null, values: 1000 })
})

test('many streams panicking at once next to running parsers: each fails alone', async (t) => {
  const r = await child(['panicMany', '8'])
  t.is(r.signal, null, r.stderr)
  t.is(r.status, 0, r.stderr)
  const out = lastJson(r.stdout)
  t.deepEqual(out?.codes, Array(8).fill('ERR_SLUICE_PANIC'))
  t.deepEqual(out?.parsed, Array(8).fill(2000))
})

// ---- (e) a throwing reviver ------------------------------------------------------------------

test('a write callback that throws while destroy() answers the write the parser holds is an uncaught exception, not swallowed (child)', async (t) => {
  const r = await child(['heldWriteCallbackThrowsAtDestroy'])
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  t.like(out, { answeredBeforeDestroy: 0, answered: 1 }, r.stderr)
  t.deepEqual(out.caught, ['thrown by the write callback'])
})

test('a reviver that throws: the stream errors with that very error and pipeline rejects (no uncaught exception)', async (t) => {
  const boom = new Error('reviver failed')
  for (const options of [{}, { onInvalid: 'skip' }, { output: 'envelopes' }, { output: 'batches' }]) {
    const reviver = (k, v) => { if (k === '' && v === 3) throw boom; return v }
    const p = new NdjsonParser({ ...options, reviver })
    const errors = []
    p.on('error', (e) => errors.push(e))
    const values = []
    const run = pipelineAsync(Readable.from([Buffer.from('1\n2\n3\n4\n')]), p, new Writable({ objectMode: true, write (v, e, cb) { values.push(v); cb() } }))
    const err = await t.throwsAsync(run)
    t.is(err, boom, JSON.stringify(options))
    t.deepEqual(errors, [boom], 'one error event')
    t.true(p.destroyed)
    t.false(values.flat().some((v) => v === 4 || v?.value === 4), 'nothing after the failing line')
  }
})

test('a reviver that throws in a large multi-batch stream: one error, data stops', async (t) => {
  const boom = new Error('late failure')
  let calls = 0
  const p = new NdjsonParser({ reviver: (k, v) => { if (k === '' && ++calls === 20000) throw boom; return v } })
  const r = await collect(p, BIG)
  t.is(r.error, boom)
  t.is(r.values.length, 19999)
  t.is(r.dataAfterClose, 0)
})

// ---- (f) exceptions thrown by user listeners ---------------------------------------------------
//
// As in core, an exception thrown by a listener we run — 'data' (inside push()) or 'invalid' — is
// not the stream's error: it propagates to whoever made the stream push or emit, which for sluice
// is its own native callback or a turn of its own, i.e. an uncaught exception. So it runs in a
// child (fixtures/faults-child.js, scenario `throwing`): unhandled, the process dies of it even
// with an 'error' handler on the stream; with an 'uncaughtException' handler, the stream carries
// on: every value once, in order, every report once, and the end. Serial: a dozen children at
// once would starve this file's timing-bound tests.

const N = 30000
const INVALID = 4286 // every 7th of the N lines
const DATA_THROWS = ['user bug at 17', 'user bug at 5017', 'user bug at 10017', 'user bug at 15017', 'user bug at 20017', 'user bug at 25017']
const exactlyOnce = (count) => ({ count, inOrder: true, unique: count })

for (const [where, consumer, message] of [
  ['data', 'pipeline', 'user bug at 17'],
  ['invalid', 'pipeline', 'invalid listener bug at line 4'],
  ['invalid', 'forAwait', 'invalid listener bug at line 4']
]) {
  test.serial(`a throwing '${where}' listener (${consumer}), unhandled: the process dies of it; the stream's 'error' listener never hears of it`, async (t) => {
    const r = await child(['throwing', where, consumer, 'values', '0'])
    t.is(r.error, undefined, 'no timeout')
    t.is(r.signal, null, r.stderr)
    t.is(r.status, 1, r.stderr)
    t.regex(r.stderr, new RegExp(`Error: ${message}\\n`))
    t.notRegex(r.stderr, /panicked|FATAL|Segmentation|Abort/i)
    const out = lastJson(r.stdout)
    t.deepEqual(out?.errors, [], "no 'error' event")
    t.is(out?.result, 'exit before the end')
  })
}

for (const [consumer, output, records] of [
  ['pipeline', 'values'], ['slow', 'values'], ['flowing', 'values'], ['pipeline', 'lines'], ['pipeline', 'envelopes'], ['pipeline', 'batches'],
  // Plain-string records: parsed on the JS thread (text mode), where a throw left a held write unretried.
  ['pipeline', 'values', 'text'], ['slow', 'values', 'text'], ['flowing', 'values', 'text'], ['pipeline', 'batches', 'text']
]) {
  test.serial(`a throwing 'data' listener (${consumer}, ${output}${records ? `, ${records} records` : ''}) with an uncaughtException handler: every value exactly once, in order, and the end`, async (t) => {
    const r = await child(['throwing', 'data', consumer, output, '1', records ?? 'numbers'], 60000)
    t.is(r.error, undefined, 'no timeout')
    t.is(r.status, 0, r.stderr)
    const out = lastJson(r.stdout)
    t.deepEqual(out?.listener, exactlyOnce(N), "the listener saw every value once, in order")
    if (consumer !== 'flowing') t.deepEqual(out?.sink, exactlyOnce(N), 'the sink got every value once, in order')
    if (output === 'batches') {
      // Thrown on each batch holding one of the values; how many batches that is depends on the batching.
      t.true(out?.caught.count >= 1 && out?.caught.count <= DATA_THROWS.length, JSON.stringify(out?.caught))
      t.true(out?.caught.inOrder)
    } else {
      t.deepEqual(out?.caught, { count: DATA_THROWS.length, first: DATA_THROWS, inOrder: true, unique: DATA_THROWS.length })
    }
    t.deepEqual(out?.errors, [], "no 'error' event")
    t.true(out?.ended, "'end'")
    t.true(out?.closed, "'close'")
    t.is(out?.result, consumer === 'flowing' ? 'closed' : 'pipeline done')
    t.like(out?.stats, { lines: N, values: N })
  })
}

for (const [consumer, records] of [['pipeline'], ['slow'], ['flowing'], ['forAwait'], ['pipeline', 'text'], ['forAwait', 'text']]) {
  test.serial(`a throwing 'invalid' listener (${consumer}${records ? `, ${records} records` : ''}) with an uncaughtException handler: each report once, in order, every value, and the end`, async (t) => {
    const r = await child(['throwing', 'invalid', consumer, 'values', '1', records ?? 'numbers'], 60000)
    t.is(r.error, undefined, 'no timeout')
    t.is(r.status, 0, r.stderr)
    const out = lastJson(r.stdout)
    t.deepEqual(out?.invalid, exactlyOnce(INVALID), "'invalid' once per invalid line, in order")
    t.deepEqual(out?.caught, {
      count: INVALID,
      first: [4, 11, 18, 25, 32, 39].map((line) => `invalid listener bug at line ${line}`),
      inOrder: true,
      unique: INVALID
    }, 'each throw is an uncaught exception, once, in order')
    t.deepEqual(consumer === 'flowing' ? out?.listener : out?.sink, exactlyOnce(N - INVALID), 'every value once, in order')
    t.deepEqual(out?.errors, [], "no 'error' event")
    t.true(out?.ended, "'end'")
    t.is(out?.result, { pipeline: 'pipeline done', slow: 'pipeline done', flowing: 'closed', forAwait: 'for await done' }[consumer])
  })
}

test.serial("a throwing 'invalid' listener still lets maxInvalid fail the stream", async (t) => {
  const r = await child(['throwingMaxInvalid'])
  t.is(r.status, 0, r.stderr)
  t.deepEqual(lastJson(r.stdout), {
    caught: ['listener bug at line 2', 'listener bug at line 4'],
    values: [1, 2],
    errors: ['ERR_SLUICE_TOO_MANY_INVALID']
  })
})

test.serial('two throws from user code in one turn (a listener, then a write callback) are two uncaught exceptions', async (t) => {
  const r = await child(['throwsInOneTurn'])
  t.is(r.status, 0, r.stderr)
  const out = lastJson(r.stdout)
  t.true(out?.ended, "'end'")
  t.true(out?.thrown > 250, 'listeners and callbacks threw')
  t.is(out?.caught, out?.thrown, 'every throw reached uncaughtException')
})

test('our own failures still destroy the stream: a batch that cannot be decoded is the stream\'s error', async (t) => {
  // A little input is parsed on the JS thread (_jsStageData), bulk input natively (_nativeData);
  // the last case hands over from one to the other.
  const bulk = Buffer.from('3.5\n'.repeat(40000)) // number-heavy: the worker's, not text mode
  const cases = [
    // [input, the method that fails, values before the error (null: no error)]
    [['1\n2\n'], '_jsStageData', []],
    [[bulk], '_nativeData', []],
    [['1\n2\n', bulk], '_jsStageData', []],
    [['1\n2\n', bulk], '_nativeData', [1, 2]],
    // The other path is never taken: no error.
    [['1\n2\n'], '_nativeData', null],
    [[bulk], '_jsStageData', null]
  ]
  for (const [chunks, method, before] of cases) {
    const what = `${chunks.map((c) => c.length).join(' + ')} bytes, ${method} throws`
    const p = new NdjsonParser()
    const boom = new Error('cannot decode')
    p[method] = () => { throw boom }
    const r = await collect(p, chunks.map((c) => Buffer.from(c)))
    if (before === null) {
      t.is(r.error, null, what)
      t.is(r.values.length, chunks.length === 1 && chunks[0] === bulk ? 40000 : 2, what)
      continue
    }
    t.is(r.error, boom, what)
    t.deepEqual(r.values, before, what)
  }
})

// A write callback that throws (fixtures/throwing-callback-child.js): every other write is still
// answered, end()'s callback runs, and the throw is one uncaught exception, not the stream's
// error, as with core's streams. Batched writes (NdjsonStringifier's _writev) and writes the
// stream held and completes from _read (BoundedBuffer, the stringifier), and the writes
// MonitoredWritable.wrap() passes on with one shared callback all lost that.
for (const component of ['stringifier', 'buffer', 'meter', 'throttle', 'wrap']) {
  for (const scenario of component === 'wrap' ? ['corked'] : ['corked', 'held']) {
    test(`a write callback that throws (${component}, ${scenario}): every write answered, end's callback ok, one uncaught exception`, async (t) => {
      const { status, stdout, stderr } = await runChild([path.join(__dirname, 'fixtures', 'throwing-callback-child.js'), component, scenario], { timeout: HANG_MS })
      t.is(status, 0, stderr)
      const result = JSON.parse(stdout)
      t.is(result.answered, result.written, 'every write callback ran')
      t.is(result.uncaught, 1, 'the throw is an uncaught exception')
      t.is(result.error, null, "not the stream's error")
      t.is(result.ended, 'ok', "end()'s callback")
    })
  }
}
