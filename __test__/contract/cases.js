'use strict'

// The cases of the stream contract, one row each: { title, applies?(d), timeout?, run(t, d) }.
// `d` is a normalized descriptor (see ./index.js). The reference for every expectation is what a
// core `stream.Transform` does in the same situation; where the contract asks for more (bounded
// output per chunk), the comment says so.

const {
  Duplex,
  PassThrough,
  Readable,
  Transform,
  Writable,
  compose,
  getDefaultHighWaterMark,
  pipeline
} = require('node:stream')
const promises = require('node:stream/promises')
const {
  chunksOf,
  delay,
  eventSummary,
  eventWithin,
  failingSource,
  runChild,
  sink,
  sizeOf,
  source,
  track,
  turn,
  waitFor
} = require('./util.js')

const MiB = 1024 * 1024
// How long a producer waits for 'drain' before calling itself stalled. Only an upper bound on
// "nothing moves": a slow machine makes it see a stall earlier, which loosens no assertion.
const QUIET_MS = 300
// After 'close', how long we keep watching for late pushes, events and callbacks.
const LATE_MS = 50

// ---------------------------------------------------------------------------------------------
// Shared pieces

function checkOutputs (t, d, outputs, message) {
  const got = d.collect ? d.collect(outputs) : d.map ? outputs.map(d.map) : outputs
  t.deepEqual(got, d.expected, message)
}

/** Writes chunks and ends (the component used as a source). */
function feed (stream, chunks) {
  for (const chunk of chunks) stream.write(chunk)
  stream.end()
}

/** How far above readableHighWaterMark the readable buffer may go: one push. */
function readableSlack (d) {
  return d.readableObjectMode ? 1 : d.maxPushBytes
}

/** Resolves when `stream` has emitted 'close' (at once if it already has). */
function closeOf (stream) {
  if (stream.closed) return Promise.resolve()
  return new Promise((resolve) => stream.once('close', resolve))
}

/**
 * The common checks after a stream's life ended: 'close' once and last, nothing after it, no
 * push after destroy. `errors`: how many 'error' events (a number), or 'at most one'.
 */
async function checkTeardown (t, log, { errors }) {
  await log.closed
  await delay(LATE_MS)
  const s = eventSummary(log)
  t.is(s.closes, 1, "'close' is emitted exactly once")
  t.deepEqual(s.afterClose, [], "nothing is emitted after 'close'")
  if (errors === 'at most one') t.true(s.errors <= 1, `at most one 'error' event (got ${s.errors})`)
  else t.is(s.errors, errors, `exactly ${errors} 'error' event(s)`)
  if (s.errors > 0) t.true(s.errorBeforeClose, "'error' comes before 'close'")
  return s
}

/** Checked last in each case, so the other findings of a run come first. */
function checkNoPushAfterDestroy (t, log) {
  t.is(log.pushesAfterDestroy, 0, 'no push() after destroy (core ignores it; the contract forbids it)')
}

// ---------------------------------------------------------------------------------------------
// 1. Backpressure on the writable side

/**
 * A producer that respects write()/'drain' writes `bulk` data while nothing reads. It must be
 * stalled (no 'drain' for QUIET_MS) within `d.stallBound`; then a consumer starts, the producer
 * resumes and everything arrives. Every write() must return `writableLength < hwm` as it is
 * right after the call (as core computes it), and each false must be followed by exactly one
 * 'drain'.
 */
async function backpressureRun (t, d, options, chunkSizeFor) {
  const s = d.create(options)
  const log = track(s)
  const hwm = s.writableHighWaterMark
  t.is(hwm, options.writableHighWaterMark ?? getDefaultHighWaterMark(d.writableObjectMode), 'writableHighWaterMark')
  const { data, count } = d.bulk(Math.ceil(d.stallBound * 1.5))
  const chunks = chunksOf(d, data, chunkSizeFor(hwm))

  const outputs = []
  let reading = false
  let written = 0
  let falses = 0
  let drains = 0
  let wrongReturn = null
  let noNeedDrain = 0
  let stalled = null
  s.on('drain', () => drains++)

  for (const chunk of chunks) {
    const size = sizeOf(d, chunk)
    const ret = s.write(chunk)
    written += size
    // Core computes the result after _write ran: a chunk taken at once leaves room again.
    const want = s.writableLength < hwm
    if (ret !== want && wrongReturn === null) {
      wrongReturn = { write: written, returned: ret, writableLength: s.writableLength, hwm }
    }
    if (ret) continue
    falses++
    if (!s.writableNeedDrain) noNeedDrain++
    if (!reading) {
      if (await eventWithin(s, 'drain', QUIET_MS)) continue
      // Nothing moved for QUIET_MS: the producer is stalled by the consumer that does not read.
      stalled = { written, readableLength: s.readableLength, drains, falses }
      reading = true
      s.on('data', (item) => outputs.push(item))
    }
    if (s.writableNeedDrain) await waitFor(s, 'drain')
  }
  const ended = waitFor(s, 'end')
  if (!reading) s.on('data', (item) => outputs.push(item))
  s.end()
  await ended

  t.is(wrongReturn, null, 'write() returns whether writableLength < writableHighWaterMark')
  t.is(noNeedDrain, 0, 'writableNeedDrain is true after write() returned false')
  t.not(stalled, null, `a consumer that never reads must stall the producer (it wrote all ${written} units)`)
  if (stalled !== null) {
    t.log(`stalled after ${stalled.written} units written; readableLength ${stalled.readableLength}`)
    t.true(stalled.written < d.stallBound, `stalled within ${d.stallBound} units (wrote ${stalled.written})`)
    t.true(stalled.readableLength <= s.readableHighWaterMark + readableSlack(d),
      `readableLength ${stalled.readableLength} <= readableHighWaterMark ${s.readableHighWaterMark} + one push`)
    t.is(stalled.drains, stalled.falses - 1, "every earlier false had its 'drain'; the last one waits for the reader")
  }
  t.is(drains, falses, "exactly one 'drain' per write() that returned false")
  t.is(d.count(outputs), count, 'every record arrives once the consumer reads')
  t.deepEqual(log.errors, [])
}

// ---------------------------------------------------------------------------------------------
// 2. The readable side stays bounded however much one chunk expands

/**
 * One ~64 KiB chunk of tiny records (thousands of outputs) while nothing reads: the readable
 * buffer must stay within readableHighWaterMark + one push. (A plain core Transform pushing
 * everything in one _transform would hold thousands: the contract asks for more than core here.)
 * Then a slow reader drains it; the buffer stays bounded all along.
 */
async function burstRun (t, d, options) {
  const s = d.create(options)
  const log = track(s)
  const bound = s.readableHighWaterMark + readableSlack(d)
  const { data, count } = d.bulk(65536)
  s.write(data)
  await waitFor(s, 'readable')
  t.true(s.readableLength <= bound, `at 'readable': readableLength ${s.readableLength} <= ${bound}`)
  t.true(log.maxReadableLength <= bound, `max readableLength so far ${log.maxReadableLength} <= ${bound}`)
  s.end()
  const outputs = []
  for await (const item of s) {
    outputs.push(item)
    await turn() // a slow reader: native events arrive between reads
  }
  t.is(d.count(outputs), count)
  t.true(log.maxReadableLength <= bound, `max readableLength over the run ${log.maxReadableLength} <= ${bound}`)
  t.deepEqual(log.errors, [])
}

// ---------------------------------------------------------------------------------------------
// 3. pipeline() success

/**
 * `build(s, outputs)` returns { streams, feed?, last? }. Checks: callback once without error,
 * every stage ended (readable sides 'end', writable sides 'finish'), the outputs, 'close' on
 * every stage that can close.
 */
async function pipelineOk (t, d, build, options) {
  const s = d.create(options)
  const log = track(s)
  const outputs = []
  const { streams, feed: start, check } = build(s, outputs)
  const isStream = (st) => typeof st !== 'function'
  const closes = streams.map((st) => (isStream(st) ? closeOf(st) : null))
  let calls = 0
  const done = new Promise((resolve) => pipeline(...streams, (err) => { calls++; resolve(err) }))
  if (start) start()
  const err = await done
  t.falsy(err, 'pipeline calls back without an error')
  const last = streams.length - 1
  streams.forEach((st, i) => {
    if (!isStream(st)) return
    if (i < last) t.true(st.readableEnded, `stage ${i} ended its readable side`)
    if (i > 0 || st === s) t.true(st.writableFinished, `stage ${i} finished its writable side`)
  })
  if (check) check(t)
  else checkOutputs(t, d, outputs)
  // The last stage of a pipeline is not read: it is not destroyed by autoDestroy, so no 'close'.
  await Promise.all(closes.filter((p, i) => p !== null && (i < last || streams[i] !== s)))
  await turn()
  t.is(calls, 1, 'the callback runs once')
  t.deepEqual(log.errors, [])
  t.is(log.pushesAfterDestroy, 0)
}

const objectPassThrough = (objectMode) => new PassThrough({ objectMode })

// ---------------------------------------------------------------------------------------------
// 4. pipeline() errors

/**
 * `build(s)` returns { streams, feed?, error }: `error` is the error object expected in the
 * callback, or a function checking it. Checks: callback once with it, every stage destroyed
 * when it runs, 'close' everywhere, the component neither pushes nor emits after 'close'.
 */
async function pipelineFails (t, d, build) {
  const s = d.create()
  const log = track(s)
  const { streams, feed: start, error } = build(s)
  const closes = streams.map((st) => closeOf(st))
  let calls = 0
  let destroyedAtCallback = null
  const done = new Promise((resolve) => pipeline(...streams, (err) => {
    calls++
    destroyedAtCallback = streams.map((st) => st.destroyed)
    resolve(err)
  }))
  if (start) start()
  const err = await done
  if (typeof error === 'function') error(t, err)
  else t.is(err, error, 'the callback gets that error')
  t.deepEqual(destroyedAtCallback, streams.map(() => true), 'every stage is destroyed')
  await Promise.all(closes)
  await checkTeardown(t, log, { errors: 'at most one' })
  t.is(calls, 1, 'the callback runs once')
  checkNoPushAfterDestroy(t, log)
}

/** A Writable that fails on its first write, after the component produced something. */
function failingSink (d, err) {
  return sink(d, [], (chunk, callback) => callback(err))
}

/** A byte/object Transform that fails on its `n`-th chunk and passes the others through. */
function failingTransform (objectMode, n, err) {
  let seen = 0
  return new Transform({
    objectMode,
    transform (chunk, encoding, callback) {
      if (++seen === n) callback(err)
      else callback(null, chunk)
    }
  })
}

// ---------------------------------------------------------------------------------------------
// 5. destroy() mid-flight

/**
 * A reading consumer destroys the stream on its first item while the producer's writes (1 MiB,
 * not waited for) are still queued or in the native worker. Core reference: a Transform destroyed
 * from its consumer calls every pending write callback (the write in flight completes, the queued
 * ones get ERR_STREAM_DESTROYED, or the destroy error on newer Node), emits no 'data' after
 * destroy, 'error' (if any) then 'close' last.
 */
async function destroyMidFlight (t, d, withError) {
  const s = d.create()
  const log = track(s)
  const { data } = d.bulk(MiB)
  const chunks = chunksOf(d, data, 65536)
  const reason = withError ? new Error('destroyed mid-flight') : undefined
  const calls = chunks.map(() => [])
  let destroyCalled = false
  let dataAfterDestroy = 0
  s.on('data', () => {
    if (s.destroyed) {
      dataAfterDestroy++
      return
    }
    if (!destroyCalled) {
      destroyCalled = true
      s.destroy(reason)
    }
  })
  chunks.forEach((chunk, i) => s.write(chunk, (err) => calls[i].push({ err, afterDestroy: destroyCalled })))

  const summary = await checkTeardown(t, log, { errors: withError ? 1 : 0 })
  t.true(destroyCalled, 'the consumer saw an item')
  t.true(s.destroyed, 'destroyed === true')
  if (withError) {
    t.is(log.errors[0], reason, "'error' carries the destroy error")
    t.is(s.errored, reason, 'errored is the destroy error')
  }
  t.is(summary.ends + summary.finishes, 0, "no 'end'/'finish' after destroy")
  t.is(dataAfterDestroy, 0, "no 'data' after destroy")

  const missing = calls.map((c, i) => (c.length === 0 ? i : -1)).filter((i) => i >= 0)
  t.deepEqual(missing, [], `every write callback is called (${missing.length} of ${chunks.length} never were)`)
  t.true(calls.every((c) => c.length <= 1), 'no write callback is called twice')
  // A write taken before destroy may still report success after it (core defers even a
  // synchronous callback to the next tick); the others must fail.
  const late = calls.flat().filter((c) => c.afterDestroy)
  const lateWrong = late.filter((c) => c.err && c.err !== reason && c.err.code !== 'ERR_STREAM_DESTROYED')
  t.deepEqual(lateWrong.map((c) => c.err.code ?? c.err.message), [], 'pending writes fail with ERR_STREAM_DESTROYED')

  const afterDestroy = await new Promise((resolve) => s.write(chunks[0], resolve))
  t.is(afterDestroy?.code, 'ERR_STREAM_DESTROYED', 'a write after destroy fails with ERR_STREAM_DESTROYED')
  checkNoPushAfterDestroy(t, log)
}

/**
 * Each write answered exactly once, the ones answered after destroy either completed or failed
 * with ERR_STREAM_DESTROYED or the destroy error. Core's own Transform fails this when destroyed
 * with its readable side full: it keeps the write in flight's callback for a `_read` that never
 * comes, and so never errors the writes queued behind it either (lib/inflight.js).
 */
function checkEveryWriteAnswered (t, calls, reason) {
  const missing = calls.map((c, i) => (c.length === 0 ? i : -1)).filter((i) => i >= 0)
  t.deepEqual(missing, [], `every write callback is called (${missing.length} of ${calls.length} never were)`)
  t.true(calls.every((c) => c.length <= 1), 'no write callback is called twice')
  const wrong = calls.flat().filter((err) => err != null && err !== reason && err.code !== 'ERR_STREAM_DESTROYED')
  t.deepEqual(wrong.map((err) => err.code ?? err.message), [], 'writes fail only with ERR_STREAM_DESTROYED or the destroy error')
}

/**
 * Stalls the stream (nothing reads, the producer waits for 'drain'), then destroys it: the
 * producer's last write is then in flight, held back by the full readable side.
 */
async function destroyWhileStalled (t, d) {
  const s = d.create()
  const log = track(s)
  const { data } = d.bulk(2 * MiB)
  const chunks = chunksOf(d, data, 65536)
  const calls = []
  for (const chunk of chunks) {
    const answers = []
    calls.push(answers)
    if (s.write(chunk, (err) => answers.push(err ?? null))) continue
    if (!(await eventWithin(s, 'drain', QUIET_MS))) break
  }
  const reason = new Error('destroyed while stalled')
  s.destroy(reason)
  await checkTeardown(t, log, { errors: 1 })
  t.is(log.errors[0], reason)
  t.true(s.destroyed)
  checkEveryWriteAnswered(t, calls, reason)
  checkNoPushAfterDestroy(t, log)
}

/**
 * Writes made in one tick, nothing reading, then destroy(err): the stream holds one of them (or
 * core's Transform does), and answers it from destroy(). Core runs the callbacks in write order:
 * those taken at once first (each from a tick of its own, or one tick for a run of writes with
 * the same callback), then the held one, then ERR_STREAM_DESTROYED for the queued ones. A
 * producer that commits progress in callback order (an offset, a count) relies on it.
 * `when`: 'in the tick' (right after the writes), 'from a callback' (the first write's, while
 * the other completions are still to come), 'between writes' (a tick queued after the first
 * write, so it runs among the completions), 'shared callback' (one callback for every write).
 */
async function destroyAmongTheWrites (t, d, when) {
  const s = d.create()
  const log = track(s)
  const { data } = d.bulk(MiB)
  // Small chunks but for the first case: byte streams that push what they take complete the
  // first writes at once, rather than hold the first until something reads.
  const chunks = chunksOf(d, data, when === 'in the tick' ? 65536 : 4096)
  const order = []
  const errors = []
  const reason = new Error(`destroyed ${when}`)
  const shared = (err) => { errors.push(err ?? null) }
  chunks.forEach((chunk, i) => {
    if (when === 'shared callback') {
      s.write(chunk, shared)
      return
    }
    s.write(chunk, (err) => {
      order.push(i)
      errors[i] = err ?? null
      if (i === 0 && when === 'from a callback') s.destroy(reason)
    })
    if (i === 0 && when === 'between writes') process.nextTick(() => s.destroy(reason))
  })
  if (when === 'in the tick' || when === 'shared callback') s.destroy(reason)
  await checkTeardown(t, log, { errors: 1 })
  if (when !== 'shared callback') t.deepEqual(order, chunks.map((_, i) => i), 'every callback once, in write order')
  t.is(errors.length, chunks.length, 'every callback once')
  const firstError = errors.findIndex((e) => e !== null)
  t.true(firstError === -1 || errors.slice(firstError).every((e) => e !== null), 'no write completes after one that failed')
}

/**
 * A producer writes everything at once, each write with its own callback, then end(cb); the
 * consumer reads from a 'readable' listener, or a 'data' listener paused and resumed a turn
 * later. Every callback runs once, in write order (a producer that counts what was taken relies
 * on it), none fails, end()'s callback runs, and every output arrives.
 */
async function callbackOrderWhileReading (t, d, consumer) {
  const s = d.create()
  const log = track(s)
  const { data } = d.bulk(MiB / 4)
  const chunks = chunksOf(d, data, 1024)
  const order = []
  const failures = []
  const outputs = []
  if (consumer === 'readable') {
    s.on('readable', () => {
      let item
      while ((item = s.read()) !== null) outputs.push(item)
    })
  } else {
    s.on('data', (item) => outputs.push(item))
    s.pause()
    setImmediate(() => s.resume())
  }
  chunks.forEach((chunk, i) => s.write(chunk, (err) => {
    order.push(i)
    if (err) failures.push(err)
  }))
  const ended = new Promise((resolve) => s.end(resolve))
  t.falsy(await ended, "end()'s callback, without an error")
  await checkTeardown(t, log, { errors: 0 })
  t.deepEqual(failures, [])
  t.deepEqual(order, chunks.map((_, i) => i), 'every callback once, in write order')
  t.true(outputs.length > 0)
}

/**
 * Writes without callbacks, a 'data' listener added, then end(callback), the listener destroying
 * the stream on the first output. A stream that ends at once (`_flush` with nothing left) emits
 * that output inside end(), and the destroy comes before end() has filed its callback: core's own
 * PassThrough never calls that callback (lib/inflight.js, endAnswered). It runs once, with
 * nothing or the stream's error.
 */
async function destroyFromDataInsideEnd (t, d, reason) {
  const s = d.create()
  const log = track(s)
  const { data } = d.bulk(4096)
  for (const chunk of chunksOf(d, data, 1024)) s.write(chunk)
  s.once('data', () => s.destroy(reason))
  const ends = []
  s.end((err) => ends.push(err ?? null))
  await checkTeardown(t, log, { errors: reason === undefined ? 0 : 1 })
  t.is(ends.length, 1, "end()'s callback runs exactly once")
  t.true(ends[0] === null || ends[0] === reason || ends[0].code === 'ERR_STREAM_DESTROYED', `end()'s callback: nothing, the destroy error or ERR_STREAM_DESTROYED (got ${ends[0]?.code ?? ends[0]})`)
  checkNoPushAfterDestroy(t, log)
}

/**
 * end(callback) on a stream destroy() ended without an error: the callback runs once, with
 * ERR_STREAM_DESTROYED. Core's Writable (Node 20.20) files it for a finish that never comes
 * (lib/inflight.js, endAnswered): a producer awaiting it would wait for ever.
 */
async function endAfterDestroy (t, s) {
  const log = track(s)
  s.destroy()
  const ends = []
  s.end((err) => ends.push(err ?? null))
  await checkTeardown(t, log, { errors: 0 })
  t.is(ends.length, 1, "end()'s callback runs exactly once")
  t.is(ends[0]?.code, 'ERR_STREAM_DESTROYED')
}

/**
 * The producer is ahead (1 MiB written at once, nothing awaited) and the consumer leaves a
 * `for await` loop after its first item, which destroys the stream with whatever the readable
 * side holds by then.
 */
async function breakWithWritesAhead (t, d) {
  const s = d.create()
  const log = track(s)
  const { data } = d.bulk(MiB)
  const chunks = chunksOf(d, data, 65536)
  const calls = chunks.map(() => [])
  chunks.forEach((chunk, i) => s.write(chunk, (err) => calls[i].push(err ?? null)))
  let items = 0
  for await (const _item of s) {
    items++
    break
  }
  t.is(items, 1)
  await checkTeardown(t, log, { errors: 'at most one' })
  t.true(s.destroyed)
  checkEveryWriteAnswered(t, calls, s.errored)
  checkNoPushAfterDestroy(t, log)
}

// ---------------------------------------------------------------------------------------------
// 6. AbortSignal

function checkAbortError (t, err) {
  t.truthy(err, 'an error')
  t.is(err?.name, 'AbortError', `an AbortError (got ${err?.name}: ${err?.message})`)
}

async function abortCase (t, d, when) {
  const controller = new AbortController()
  const signal = when === 'pre-aborted' ? AbortSignal.abort() : controller.signal
  const s = d.create({ signal })
  const log = track(s)
  let dataAfterDestroy = 0
  if (when === 'before data') controller.abort()
  if (when === 'mid-flight') {
    const { data } = d.bulk(MiB)
    s.on('data', () => {
      if (s.destroyed) dataAfterDestroy++
      else if (!signal.aborted) controller.abort()
    })
    for (const chunk of chunksOf(d, data, 65536)) s.write(chunk)
  }
  await checkTeardown(t, log, { errors: 1 })
  checkAbortError(t, log.errors[0])
  t.true(s.destroyed)
  checkAbortError(t, s.errored)
  t.is(dataAfterDestroy, 0, "no 'data' after the abort")
  checkNoPushAfterDestroy(t, log)
}

// ---------------------------------------------------------------------------------------------
// 7. Async iteration and composition

/** A Transform after the component that wraps each item, so compose() has a second stage. */
function wrapper (d) {
  return new Transform({
    writableObjectMode: d.readableObjectMode,
    readableObjectMode: true,
    transform (item, encoding, callback) { callback(null, { item }) }
  })
}

// ---------------------------------------------------------------------------------------------
// 8. Child processes

async function childCase (t, d, scenario, expect) {
  const r = await runChild(d, scenario)
  const detail = `scenario ${scenario}: exit ${r.code}, signal ${r.signal}, ${r.ms} ms\nstdout: ${r.stdout.trim()}\nstderr: ${r.stderr.trim()}`
  t.is(r.signal, null, `killed (hang?) — ${detail}`)
  t.is(r.code, 0, detail)
  expect(t, r.stdout, detail)
}

function expectDone (t, stdout, detail) {
  const m = /^DONE (\d+) (\d+)$/m.exec(stdout)
  t.truthy(m, `prints DONE before exiting (no early exit) — ${detail}`)
  if (m) t.is(Number(m[1]), Number(m[2]), `every record arrived — ${detail}`)
}

const expectLine = (line) => (t, stdout, detail) => {
  t.true(stdout.split('\n').includes(line), `prints ${line} — ${detail}`)
}

// ---------------------------------------------------------------------------------------------
// The table

const CASES = [
  // 1. Backpressure signals
  {
    title: "backpressure: write() false at the default writableHighWaterMark, one 'drain' per false, a non-reading consumer stalls the producer, reading resumes it",
    run: (t, d) => backpressureRun(t, d, {}, (hwm) => Math.max(1, Math.floor(hwm / 4)))
  },
  {
    title: 'backpressure: the same with an explicit small writableHighWaterMark',
    run: (t, d) => {
      const hwm = d.writableObjectMode ? 4 : 4096
      return backpressureRun(t, d, { writableHighWaterMark: hwm }, () => Math.max(1, hwm / 4))
    }
  },
  {
    title: 'backpressure: a producer of 64 KiB chunks is stalled within bounds by a consumer that never reads',
    applies: (d) => !d.writableObjectMode,
    run: (t, d) => backpressureRun(t, d, {}, () => 65536)
  },

  // 2. Bounded readable side
  {
    title: 'one 64 KiB chunk of tiny records keeps readableLength within readableHighWaterMark + 1 push',
    applies: (d) => !d.writableObjectMode,
    run: (t, d) => burstRun(t, d, {})
  },
  {
    title: 'one 64 KiB chunk of tiny records honours an explicit small readableHighWaterMark',
    applies: (d) => !d.writableObjectMode,
    run: (t, d) => burstRun(t, d, { readableHighWaterMark: 4 })
  },

  // 3. pipeline() success
  {
    title: 'pipeline success: Readable.from → component → Writable',
    run: (t, d) => pipelineOk(t, d, (s, out) => ({ streams: [source(d, d.input()), s, sink(d, out)] }))
  },
  {
    title: 'pipeline success: component first (fed with write()/end()) → Writable',
    run: (t, d) => pipelineOk(t, d, (s, out) => ({ streams: [s, sink(d, out)], feed: () => feed(s, d.input()) }))
  },
  {
    title: 'pipeline success: Readable.from → PassThrough → component → PassThrough → Writable',
    run: (t, d) => pipelineOk(t, d, (s, out) => ({
      streams: [source(d, d.input()), objectPassThrough(d.writableObjectMode), s, objectPassThrough(d.readableObjectMode), sink(d, out)]
    }))
  },
  {
    title: 'pipeline success: Readable.from → component → async generator → Writable',
    run: (t, d) => pipelineOk(t, d, (s, out) => ({
      streams: [source(d, d.input()), s, async function * (items) { for await (const item of items) yield item }, sink(d, out)]
    }))
  },
  {
    title: 'pipeline success: Readable.from → component as the last stage (its output fits its readable buffer)',
    applies: (d) => d.readableObjectMode && d.expected.length < getDefaultHighWaterMark(true),
    run: (t, d) => pipelineOk(t, d, (s) => ({
      streams: [source(d, d.input()), s],
      check: (t) => {
        const items = []
        for (let item = s.read(); item !== null; item = s.read()) items.push(item)
        checkOutputs(t, d, items, 'the outputs wait in the readable buffer')
      }
    }))
  },
  {
    title: 'pipeline success: every stage with highWaterMark 1',
    run: (t, d) => pipelineOk(t, d, (s, out) => ({
      streams: [
        Readable.from(d.input(), { objectMode: d.writableObjectMode, highWaterMark: 1 }),
        s,
        new Writable({ objectMode: d.readableObjectMode, highWaterMark: 1, write (c, e, cb) { out.push(c); setImmediate(cb) } })
      ]
    }), { highWaterMark: 1 })
  },
  {
    title: 'pipeline success: a multi-MiB run through a slow sink delivers every record',
    run: (t, d) => {
      const { data, count } = d.bulk(3 * MiB)
      let n = 0
      return pipelineOk(t, d, (s, out) => ({
        streams: [source(d, chunksOf(d, data, 65536)), s, sink(d, out, (c, cb) => (++n % 1000 === 0 ? setImmediate(cb) : cb()))],
        check: (t) => t.is(d.count(out), count)
      }))
    }
  },

  // 4. pipeline() errors, from every position
  {
    title: 'pipeline error from the source (mid-flight): the callback gets it once, every stage is destroyed',
    run: (t, d) => {
      const err = new Error('source failed')
      const { data } = d.bulk(MiB)
      return pipelineFails(t, d, (s) => ({ streams: [failingSource(d, chunksOf(d, data, 65536), err), s, sink(d, [])], error: err }))
    }
  },
  {
    title: 'pipeline error from the component (invalid input mid-flight): the callback gets it once, every stage is destroyed',
    applies: (d) => d.invalid !== undefined,
    run: (t, d) => pipelineFails(t, d, (s) => ({
      streams: [source(d, d.invalid.input()), s, sink(d, [])],
      error: (t, err) => {
        t.is(err?.code, d.invalid.code, `the component's error (got ${err?.code}: ${err?.message})`)
        t.is(s.errored, err, "it is the component's own error")
      }
    }))
  },
  {
    title: 'pipeline error from the component (destroyed with an error mid-flight): the callback gets it once',
    run: (t, d) => {
      const err = new Error('component destroyed')
      const { data } = d.bulk(MiB)
      return pipelineFails(t, d, (s) => ({
        streams: [source(d, chunksOf(d, data, 65536)), s, sink(d, [], (c, cb) => { s.destroy(err); cb() })],
        error: err
      }))
    }
  },
  {
    title: 'pipeline error from the sink (mid-flight): the callback gets it once, the component is destroyed and stops pushing',
    run: (t, d) => {
      const err = new Error('sink failed')
      const { data } = d.bulk(MiB)
      return pipelineFails(t, d, (s) => ({ streams: [source(d, chunksOf(d, data, 65536)), s, failingSink(d, err)], error: err }))
    }
  },
  {
    title: 'pipeline error from the sink with the component first (fed with write()/end())',
    run: (t, d) => {
      const err = new Error('sink failed')
      const { data } = d.bulk(MiB)
      return pipelineFails(t, d, (s) => ({
        streams: [s, failingSink(d, err)],
        feed: () => feed(s, chunksOf(d, data, 65536)),
        error: err
      }))
    }
  },
  {
    title: 'pipeline error from a Transform before the component',
    run: (t, d) => {
      const err = new Error('stage before failed')
      const { data } = d.bulk(MiB)
      return pipelineFails(t, d, (s) => ({
        streams: [source(d, chunksOf(d, data, 65536)), failingTransform(d.writableObjectMode, 4, err), s, objectPassThrough(d.readableObjectMode), sink(d, [])],
        error: err
      }))
    }
  },
  {
    title: 'pipeline error from a Transform after the component',
    run: (t, d) => {
      const err = new Error('stage after failed')
      const { data } = d.bulk(MiB)
      return pipelineFails(t, d, (s) => ({
        streams: [source(d, chunksOf(d, data, 65536)), objectPassThrough(d.writableObjectMode), s, failingTransform(d.readableObjectMode, 3, err), sink(d, [])],
        error: err
      }))
    }
  },
  {
    // Nothing reads the last stage, so the source must fail before backpressure pauses it: a
    // small input (a core Transform behaves the same).
    title: 'pipeline error from the source with the component last',
    run: (t, d) => {
      const err = new Error('source failed')
      return pipelineFails(t, d, (s) => ({ streams: [failingSource(d, d.input(), err), s], error: err }))
    }
  },

  // 5. destroy() mid-flight
  {
    title: "destroy(err) mid-flight: 'error' then 'close', pending write callbacks fail, no 'data' or push after destroy",
    run: (t, d) => destroyMidFlight(t, d, true)
  },
  {
    title: "destroy() mid-flight without an error: 'close' only, pending write callbacks fail, no 'data' or push after destroy",
    run: (t, d) => destroyMidFlight(t, d, false)
  },
  {
    title: "destroy(err) while a non-reading consumer stalls the worker: 'error' then 'close', every write answered, nothing after",
    run: (t, d) => destroyWhileStalled(t, d)
  },
  {
    title: 'destroy(err) in the tick of the writes, nothing reading: write callbacks run once each, in write order',
    run: (t, d) => destroyAmongTheWrites(t, d, 'in the tick')
  },
  {
    title: "destroy(err) from the first write's callback, the other completions still to come: callbacks once each, in write order",
    run: (t, d) => destroyAmongTheWrites(t, d, 'from a callback')
  },
  {
    title: 'destroy(err) from a tick queued among the writes: callbacks once each, in write order',
    run: (t, d) => destroyAmongTheWrites(t, d, 'between writes')
  },
  {
    title: 'destroy(err) in the tick of writes sharing one callback: it runs once per write, no success after a failure',
    run: (t, d) => destroyAmongTheWrites(t, d, 'shared callback')
  },
  {
    title: "write callbacks run once each, in write order, while a 'readable' listener reads",
    run: (t, d) => callbackOrderWhileReading(t, d, 'readable')
  },
  {
    title: 'write callbacks run once each, in write order, while a paused consumer is resumed a turn later',
    run: (t, d) => callbackOrderWhileReading(t, d, 'resumed')
  },
  {
    title: "destroy() from a 'data' listener inside end(callback): end()'s callback runs once",
    run: (t, d) => destroyFromDataInsideEnd(t, d, undefined)
  },
  {
    title: "destroy(err) from a 'data' listener inside end(callback): end()'s callback runs once",
    run: (t, d) => destroyFromDataInsideEnd(t, d, Object.assign(new Error('inside end'), { code: 'TEST_INSIDE_END' }))
  },
  {
    title: 'end(callback) after destroy() without an error: the callback runs once, with ERR_STREAM_DESTROYED',
    run: (t, d) => endAfterDestroy(t, d.create())
  },
  {
    title: 'a for await loop left after one item while the producer is ahead: every write answered once, nothing after',
    run: (t, d) => breakWithWritesAhead(t, d)
  },

  // 6. signal
  {
    title: 'signal: a pre-aborted signal destroys the stream with an AbortError',
    run: (t, d) => abortCase(t, d, 'pre-aborted')
  },
  {
    title: 'signal: aborting before any data destroys the stream with an AbortError',
    run: (t, d) => abortCase(t, d, 'before data')
  },
  {
    title: 'signal: aborting mid-flight destroys the stream with an AbortError, no data after',
    run: (t, d) => abortCase(t, d, 'mid-flight')
  },
  {
    title: 'signal: stream/promises pipeline(..., { signal }) aborted mid-flight rejects with an AbortError and destroys every stage',
    run: async (t, d) => {
      const controller = new AbortController()
      const s = d.create()
      const log = track(s)
      const { data } = d.bulk(MiB)
      const streams = [
        source(d, chunksOf(d, data, 65536)),
        s,
        sink(d, [], (c, cb) => { controller.abort(); setImmediate(cb) })
      ]
      const closes = streams.map((st) => closeOf(st))
      const err = await t.throwsAsync(promises.pipeline(...streams, { signal: controller.signal }))
      checkAbortError(t, err)
      t.deepEqual(streams.map((st) => st.destroyed), [true, true, true])
      await Promise.all(closes)
      await delay(LATE_MS)
      t.deepEqual(eventSummary(log).afterClose, [])
      checkNoPushAfterDestroy(t, log)
    }
  },

  // 7. Async iteration and composition
  {
    title: 'for await yields every output in order, and every record of a large run',
    run: async (t, d) => {
      const s = d.create()
      feed(s, d.input())
      const outputs = []
      for await (const item of s) outputs.push(item)
      checkOutputs(t, d, outputs)

      const big = d.create()
      const { data, count } = d.bulk(2 * MiB)
      Readable.from(chunksOf(d, data, 65536), { objectMode: d.writableObjectMode }).pipe(big)
      const all = []
      for await (const item of big) all.push(item)
      t.is(d.count(all), count)
    }
  },
  {
    title: 'break out of for await mid-flight destroys the stream, closes it, no hang, no push after',
    run: async (t, d) => {
      const s = d.create()
      const log = track(s)
      const { data } = d.bulk(2 * MiB)
      feed(s, chunksOf(d, data, 65536))
      let seen = 0
      for await (const _item of s) {
        if (++seen === 3) break
      }
      t.true(s.destroyed, 'destroyed === true after break')
      // Core destroys a stream whose writable side is unfinished with an AbortError here (Node
      // 20); without an error is fine too.
      await checkTeardown(t, log, { errors: 'at most one' })
      if (log.errors.length > 0) checkAbortError(t, log.errors[0])
      checkNoPushAfterDestroy(t, log)
    }
  },
  {
    title: 'compose(component, Transform) runs like the two in a pipeline',
    run: async (t, d) => {
      const composed = compose(d.create(), wrapper(d))
      feed(composed, d.input())
      const outputs = (await composed.toArray()).map((w) => w.item)
      checkOutputs(t, d, outputs)
    }
  },
  {
    title: 'compose(PassThrough, component) runs like the two in a pipeline',
    run: async (t, d) => {
      const composed = compose(new PassThrough({ objectMode: d.writableObjectMode }), d.create())
      feed(composed, d.input())
      checkOutputs(t, d, await composed.toArray())
    }
  },
  {
    title: "compose(component, Transform) forwards the component's error and destroys both",
    applies: (d) => d.invalid !== undefined,
    run: async (t, d) => {
      const s = d.create()
      const after = wrapper(d)
      const composed = compose(s, after)
      feed(composed, d.invalid.input())
      const err = await t.throwsAsync(composed.toArray())
      t.is(err?.code, d.invalid.code)
      await Promise.all([closeOf(s), closeOf(after), closeOf(composed)])
      t.true(s.destroyed && after.destroyed && composed.destroyed)
    }
  },
  {
    title: 'Duplex.from(component) is the component; Readable.from(component) yields its outputs',
    run: async (t, d) => {
      const s = d.create()
      t.is(Duplex.from(s), s)
      feed(s, d.input())
      checkOutputs(t, d, await Readable.from(s).toArray())
    }
  },

  // 8. Bare child processes: no early exit, no hang
  {
    title: 'bare process: Readable.from → component → Writable completes (no early exit with native work in flight)',
    run: (t, d) => childCase(t, d, 'pipeline', expectDone)
  },
  {
    title: "bare process: component fed with end(data) and read by a 'data' listener completes (no early exit)",
    run: (t, d) => childCase(t, d, 'end-listener', expectDone)
  },
  {
    title: 'bare process: written to, never ended, never read, the process exits on its own',
    run: (t, d) => childCase(t, d, 'unended-small', expectLine('WROTE'))
  },
  {
    title: 'bare process: MiBs written (worker stalled on the unread output), never ended, the process exits on its own',
    run: (t, d) => childCase(t, d, 'unended-stalled', expectLine('WROTE'))
  },
  {
    title: 'bare process: destroyed mid-flight by its consumer, the process exits',
    run: (t, d) => childCase(t, d, 'destroyed', expectLine('CLOSED'))
  },
  {
    title: 'bare process: destroyed while stalled with nothing reading, the process exits',
    run: (t, d) => childCase(t, d, 'destroyed-unread', expectLine('CLOSED'))
  },
  {
    title: 'bare process: destroyed while stalled, every write is answered, end()\'s callback too, and a write callback destroy() runs that throws is an uncaught exception',
    run: (t, d) => childCase(t, d, 'callback-throws-at-destroy', (t, stdout, detail) => {
      expectDone(t, stdout, detail)
      const m = /^HELD (\d+) (\d+)$/m.exec(stdout)
      t.truthy(m, detail)
      if (m) t.is(Number(m[2]), Number(m[1]), `every throw from a callback run by destroy() is uncaught — ${detail}`)
      t.regex(stdout, /^END 1$/m, `end()'s callback runs once — ${detail}`)
    })
  },
  {
    title: 'bare process: destroyed while stalled, a queued write\'s callback throws at its ERR_STREAM_DESTROYED: every callback still runs, each once, end()\'s too',
    run: (t, d) => childCase(t, d, 'queued-callback-throws-at-destroy', (t, stdout, detail) => {
      expectDone(t, stdout, detail)
      t.regex(stdout, /^TWICE 0$/m, `no write callback runs twice — ${detail}`)
      t.regex(stdout, /^THROWN 1 1$/m, `one queued callback threw, and it was uncaught — ${detail}`)
      t.regex(stdout, /^END 1$/m, `end()'s callback runs once — ${detail}`)
    })
  },

  // 9. Defaults and explicit highWaterMarks
  {
    title: 'highWaterMark defaults come from stream.getDefaultHighWaterMark()',
    run: (t, d) => {
      const s = d.create()
      t.is(s.writableObjectMode, d.writableObjectMode)
      t.is(s.readableObjectMode, d.readableObjectMode)
      t.is(s.writableHighWaterMark, getDefaultHighWaterMark(d.writableObjectMode))
      t.is(s.readableHighWaterMark, getDefaultHighWaterMark(d.readableObjectMode))
      s.destroy()
    }
  },
  {
    title: 'explicit highWaterMark / readableHighWaterMark / writableHighWaterMark are honoured as by a core Transform',
    run: (t, d) => {
      const sets = [
        { highWaterMark: 7 },
        { highWaterMark: 0 },
        { readableHighWaterMark: 3 },
        { writableHighWaterMark: 1000 },
        { readableHighWaterMark: 5, writableHighWaterMark: 2048 },
        { highWaterMark: 9, readableHighWaterMark: 2 }
      ]
      for (const options of sets) {
        const core = new Transform({ writableObjectMode: d.writableObjectMode, readableObjectMode: d.readableObjectMode, ...options })
        const s = d.create(options)
        const label = JSON.stringify(options)
        t.is(s.readableHighWaterMark, core.readableHighWaterMark, `${label}: readableHighWaterMark`)
        t.is(s.writableHighWaterMark, core.writableHighWaterMark, `${label}: writableHighWaterMark`)
        s.destroy()
      }
      t.is(d.create({ highWaterMark: 7 }).readableHighWaterMark, 7)
      t.is(d.create({ writableHighWaterMark: 1000 }).writableHighWaterMark, 1000)
    }
  },

  // 10. Error events
  {
    title: "the component's own error: exactly one 'error', 'close' after it, errored set, no data after it",
    applies: (d) => d.invalid !== undefined,
    run: async (t, d) => {
      const s = d.create()
      const log = track(s)
      let dataAfterError = 0
      s.on('data', () => { if (log.errors.length > 0 || s.destroyed) dataAfterError++ })
      feed(s, d.invalid.input())
      await checkTeardown(t, log, { errors: 1 })
      t.is(log.errors[0].code, d.invalid.code)
      t.is(s.errored, log.errors[0])
      t.is(dataAfterError, 0)
      t.false(log.emitted.includes('end'), "no 'end'")
      checkNoPushAfterDestroy(t, log)
    }
  },
  {
    title: "destroy(err) twice before any data: exactly one 'error' (the first), 'close' after it, errored set",
    run: async (t, d) => {
      const s = d.create()
      const log = track(s)
      const first = new Error('first')
      s.destroy(first)
      s.destroy(new Error('second'))
      await checkTeardown(t, log, { errors: 1 })
      t.is(log.errors[0], first)
      t.is(s.errored, first)
      t.true(s.destroyed)
      checkNoPushAfterDestroy(t, log)
    }
  }
]

// The shared pieces are used by the writable side's table too (./writable-cases.js).
module.exports = {
  CASES,
  MiB,
  QUIET_MS,
  LATE_MS,
  closeOf,
  checkTeardown,
  checkAbortError,
  endAfterDestroy,
  childCase,
  expectDone,
  expectLine
}
