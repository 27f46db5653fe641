'use strict'

// The writable side of the stream contract: the cases a sink (a Writable, no readable side) must
// keep, one row each: { title, applies?(d), timeout?, run(t, d) }. `d` is a normalized writable
// descriptor (see ./index.js). The reference for every expectation is what a core
// `stream.Writable` does in the same situation; where a case compares with one directly, it
// builds that Writable beside the sink.

const { PassThrough, Readable, Writable, getDefaultHighWaterMark, pipeline } = require('node:stream')
const promises = require('node:stream/promises')
const { isDeepStrictEqual } = require('node:util')
const {
  MiB,
  LATE_MS,
  closeOf,
  checkTeardown,
  checkAbortError,
  childCase,
  endAfterDestroy,
  expectDone,
  expectLine
} = require('./cases.js')
const { chunksOf, delay, eventSummary, failingSource, sizeOf, source, track, waitFor } = require('./util.js')

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** A sink with `sink` options the descriptor may not honour: the case does not apply then. */
const needs = (...keys) => (d) => keys.every((key) => d.sinkOptions.includes(key))

/** A writable run of about `size` units: the chunks (bytes cut at `chunkSize`) and its count. */
function run (d, size, chunkSize = 65536) {
  const { data, count } = d.bulk(size)
  return { chunks: chunksOf(d, data, chunkSize), count }
}

/**
 * Whether the sink received exactly `chunks`, in order, each once: the bytes joined (a sink may
 * be handed them cut otherwise), or the objects one by one. Returns a message, or null.
 */
function mismatch (d, received, chunks) {
  if (!d.objectMode) {
    const got = Buffer.concat(received.map((c) => Buffer.from(c)))
    const want = Buffer.concat(chunks.map((c) => Buffer.from(c)))
    if (got.equals(want)) return null
    let at = 0
    while (at < got.length && at < want.length && got[at] === want[at]) at++
    return `received ${got.length} bytes, wrote ${want.length}; first difference at byte ${at}`
  }
  if (received.length !== chunks.length) return `received ${received.length} objects, wrote ${chunks.length}`
  const at = received.findIndex((item, i) => !isDeepStrictEqual(item, chunks[i]))
  return at < 0 ? null : `object ${at} differs`
}

function checkReceived (t, d, received, chunks, message = 'the sink received every chunk, in order, exactly once') {
  const m = mismatch(d, received, chunks)
  t.is(m, null, m === null ? message : `${message}: ${m}`)
}

/** Whether `received` is the start of `chunks` (nothing out of order, nothing twice). */
function checkPrefix (t, d, received, chunks) {
  const units = received.reduce((n, c) => n + sizeOf(d, c), 0)
  const head = []
  let left = units
  for (const chunk of chunks) {
    if (left <= 0) break
    const size = sizeOf(d, chunk)
    head.push(size <= left ? chunk : chunk.subarray(0, left))
    left -= size
  }
  const m = left > 0 ? `received ${units} units, more than was written` : mismatch(d, received, head)
  t.is(m, null, m === null ? 'what the sink received is the start of what was written, in order' : m)
}

/** How long a case waits for write callbacks that should come before calling them missing. */
const CALLBACK_BOUND_MS = 30000

/**
 * Resolves once every write callback was called (`calls[i]` non-empty), or after
 * CALLBACK_BOUND_MS: core calls the queued ones back only when the write in the sink's hands
 * completes, at the sink's pace.
 */
async function callbacksSettled (calls) {
  const deadline = Date.now() + CALLBACK_BOUND_MS
  while (calls.some((c) => c.length === 0) && Date.now() < deadline) await delay(10)
}

/**
 * Every write callback called exactly once; those called after destroy carry the destroy
 * error or ERR_STREAM_DESTROYED (core calls a write already in the sink's hands back with
 * success, at its completion).
 */
function checkCallbacks (t, calls, reason) {
  const missing = calls.map((c, i) => (c.length === 0 ? i : -1)).filter((i) => i >= 0)
  t.deepEqual(missing, [], `every write callback is called (${missing.length} of ${calls.length} never were)`)
  t.true(calls.every((c) => c.length <= 1), 'no write callback is called twice')
  const late = calls.flat().filter((c) => c.afterDestroy && c.err)
  const wrong = late.filter((c) => c.err !== reason && c.err.code !== 'ERR_STREAM_DESTROYED')
  t.deepEqual(wrong.map((c) => c.err.code ?? c.err.message), [], 'pending writes fail with ERR_STREAM_DESTROYED (or the destroy error)')
}

// ---------------------------------------------------------------------------------------------
// 1. Backpressure

/**
 * A producer that respects write()/'drain' writes a run into the sink (by default a slow one:
 * each write completes on a later turn of the event loop). Checks, at every write: write()
 * returns whether writableLength is below writableHighWaterMark right after the call (as core
 * computes it: a chunk the sink took at once leaves room again); writableNeedDrain after a
 * false; and, counted from what the sink received rather than the stream's own writableLength,
 * the producer is never more than writableHighWaterMark + one chunk ahead of the sink. Then: one
 * 'drain' per false, the slow sink did stall the producer, and the sink got everything.
 */
async function backpressureRun (t, d, { options = {}, size, chunkSize, sink = { slow: true } }) {
  const { stream: s, received } = d.create(options, sink)
  const log = track(s)
  const hwm = s.writableHighWaterMark
  t.is(hwm, options.highWaterMark ?? getDefaultHighWaterMark(d.objectMode), 'writableHighWaterMark')
  const { chunks } = run(d, size, chunkSize(hwm))
  let drains = 0
  s.on('drain', () => drains++)
  let falses = 0
  let written = 0
  let taken = 0
  let seen = 0
  let maxAhead = 0
  let maxChunk = 0
  let wrongReturn = null
  let noNeedDrain = 0
  let doubleDrain = 0
  for (const chunk of chunks) {
    const size = sizeOf(d, chunk)
    if (size > maxChunk) maxChunk = size
    const ret = s.write(chunk)
    written += size
    while (seen < received.length) taken += sizeOf(d, received[seen++])
    if (written - taken > maxAhead) maxAhead = written - taken
    const want = s.writableLength < hwm
    if (ret !== want && wrongReturn === null) wrongReturn = { written, returned: ret, writableLength: s.writableLength, hwm }
    if (ret) continue
    falses++
    if (!s.writableNeedDrain) noNeedDrain++
    const drainsBefore = drains
    await waitFor(s, 'drain')
    if (drains !== drainsBefore + 1) doubleDrain++
  }
  const finished = waitFor(s, 'finish')
  s.end()
  await finished
  await closeOf(s)

  t.is(wrongReturn, null, 'write() returns whether writableLength < writableHighWaterMark right after it')
  t.is(noNeedDrain, 0, 'writableNeedDrain is true after write() returned false')
  t.is(doubleDrain, 0, "one 'drain' ends each wait")
  t.is(drains, falses, "exactly one 'drain' per write() that returned false")
  if (sink.slow) t.true(falses > 0, 'the slow sink made write() return false (the producer was stalled)')
  const bound = Math.max(hwm, 1) - 1 + maxChunk
  t.log(`${falses} waits for 'drain'; at most ${maxAhead} units ahead of the sink (bound ${bound})`)
  t.true(maxAhead <= bound, `the producer stays within writableHighWaterMark + one chunk of the sink (${maxAhead} <= ${bound})`)
  checkReceived(t, d, received, chunks)
  t.deepEqual(log.errors, [])
}

// ---------------------------------------------------------------------------------------------
// 2. end()

/** Writes the input, the last chunk through end(chunk, callback); 'finish' then 'close'. */
async function endRun (t, d, sink, chunks) {
  const { stream: s, received } = d.create(undefined, sink)
  const log = track(s)
  const last = chunks[chunks.length - 1]
  for (const chunk of chunks.slice(0, -1)) s.write(chunk)
  let endCalls = 0
  let finishedAtEndCallback = null
  s.end(last, () => {
    endCalls++
    finishedAtEndCallback = s.writableFinished
  })
  t.true(s.writableEnded, 'writableEnded right after end()')
  const summary = await checkTeardown(t, log, { errors: 0 })
  t.is(summary.finishes, 1, "exactly one 'finish'")
  t.true(log.emitted.indexOf('finish') < log.emitted.indexOf('close'), "'finish' comes before 'close'")
  t.is(endCalls, 1, "end()'s callback runs once")
  t.true(finishedAtEndCallback, "end()'s callback runs once the stream finished")
  t.true(s.writableFinished, 'writableFinished')
  t.true(s.destroyed, 'autoDestroy: destroyed after finish')
  checkReceived(t, d, received, chunks)
}

// ---------------------------------------------------------------------------------------------
// 3. pipeline() success

async function pipelineOk (t, d, { chunks, options, sink, before = () => [], readableOptions = {} }) {
  const { stream: s, received } = d.create(options, sink)
  const log = track(s)
  const closed = closeOf(s)
  let calls = 0
  const streams = [Readable.from(chunks, { objectMode: d.objectMode, ...readableOptions }), ...before(), s]
  const err = await new Promise((resolve) => pipeline(...streams, (err) => { calls++; resolve(err) }))
  t.falsy(err, 'pipeline calls back without an error')
  t.true(s.writableFinished, "the sink finished ('finish' before the callback)")
  await closed
  await delay(LATE_MS)
  t.is(calls, 1, 'the callback runs once')
  const summary = eventSummary(log)
  t.is(summary.finishes, 1, "exactly one 'finish'")
  t.is(summary.closes, 1, "'close' once (autoDestroy)")
  t.deepEqual(summary.afterClose, [], "nothing is emitted after 'close'")
  checkReceived(t, d, received, chunks)
  t.deepEqual(log.errors, [])
}

// ---------------------------------------------------------------------------------------------
// 4. Errors

/**
 * `fail(s, chunks)` starts the failure; `error` is what must come out of it. Checks: the
 * pipeline callback once with it, the source and the sink destroyed when it runs, 'close' on
 * both, at most one 'error' on the sink (`sinkErrors`: exactly), nothing received after the
 * callback and nothing but a prefix of the data before it.
 */
async function pipelineFails (t, d, { sink, makeSource, error, sinkErrors = 'at most one' }) {
  const { stream: s, received } = d.create(undefined, sink)
  const log = track(s)
  const { chunks } = run(d, MiB)
  const src = makeSource(chunks)
  const closes = [closeOf(src), closeOf(s)]
  let calls = 0
  let destroyedAtCallback = null
  let receivedAtCallback = -1
  const err = await new Promise((resolve) => pipeline(src, s, (err) => {
    calls++
    destroyedAtCallback = [src.destroyed, s.destroyed]
    receivedAtCallback = received.length
    resolve(err)
  }))
  t.is(err, error, 'the callback gets that error')
  t.deepEqual(destroyedAtCallback, [true, true], 'the source and the sink are destroyed')
  await Promise.all(closes)
  await checkTeardown(t, log, { errors: sinkErrors })
  t.is(calls, 1, 'the callback runs once')
  t.false(log.emitted.includes('finish'), "no 'finish'")
  t.is(received.length, receivedAtCallback, 'nothing reaches the sink after the callback')
  checkPrefix(t, d, received, chunks)
}

/**
 * The sink's own failure: its `at`-th write completes with an error, while more writes are
 * queued behind it. 'error' once with that error, then 'close'; every write callback once (the
 * failed one gets the error, the later ones it or ERR_STREAM_DESTROYED); nothing after it
 * reaches the sink.
 */
async function sinkFails (t, d, slow) {
  const error = new Error('the sink failed')
  const at = 3
  const { stream: s, received } = d.create(undefined, { slow, fail: { at, error } })
  const log = track(s)
  const { chunks } = run(d, 256 * 1024, 16384)
  const calls = chunks.map(() => [])
  chunks.forEach((chunk, i) => s.write(chunk, (err) => calls[i].push(err ?? null)))
  s.end()
  await checkTeardown(t, log, { errors: 1 })
  await callbacksSettled(calls)
  t.is(log.errors[0], error, "'error' carries the sink's error")
  t.is(s.errored, error, 'errored is that error')
  t.true(s.destroyed, 'destroyed')
  t.false(log.emitted.includes('finish'), "no 'finish'")
  checkReceived(t, d, received, chunks.slice(0, at), 'the sink received the writes before the failed one, and nothing after it')
  const missing = calls.map((c, i) => (c.length === 0 ? i : -1)).filter((i) => i >= 0)
  t.deepEqual(missing, [], `every write callback is called (${missing.length} of ${calls.length} never were)`)
  t.true(calls.every((c) => c.length <= 1), 'no write callback is called twice')
  t.deepEqual(calls.slice(0, at), calls.slice(0, at).map(() => [null]), 'the writes before it succeed')
  t.is(calls[at][0], error, "the failed write's callback gets the error")
  const wrong = calls.slice(at + 1).flat().filter((err) => err !== error && err?.code !== 'ERR_STREAM_DESTROYED')
  t.deepEqual(wrong.map((err) => err?.code ?? err?.message ?? err), [], 'the writes queued behind it fail with it or ERR_STREAM_DESTROYED')
}

// ---------------------------------------------------------------------------------------------
// 5. destroy() mid-flight

/**
 * MiBs written at once into a slow sink, destroyed from the first write callback while the
 * rest is queued. Core reference: the write in the sink's hands completes, the queued ones fail
 * with ERR_STREAM_DESTROYED (or the destroy error); 'error' (if any) then 'close'; no 'finish';
 * nothing reaches the sink after destroy.
 */
async function destroyMidFlight (t, d, withError) {
  const { stream: s, received } = d.create(undefined, { slow: true })
  const log = track(s)
  const { chunks } = run(d, MiB)
  const reason = withError ? new Error('destroyed mid-flight') : undefined
  const state = { destroyCalled: false }
  let receivedAtDestroy = -1
  const calls = chunks.map(() => [])
  chunks.forEach((chunk, i) => s.write(chunk, (err) => {
    calls[i].push({ err, afterDestroy: state.destroyCalled })
    if (!state.destroyCalled) {
      state.destroyCalled = true
      receivedAtDestroy = received.length
      s.destroy(reason)
    }
  }))
  const summary = await checkTeardown(t, log, { errors: withError ? 1 : 0 })
  await callbacksSettled(calls)
  t.true(state.destroyCalled, 'a write completed before the destroy')
  t.true(s.destroyed, 'destroyed === true')
  if (withError) {
    t.is(log.errors[0], reason, "'error' carries the destroy error")
    t.is(s.errored, reason, 'errored is the destroy error')
  }
  t.is(summary.finishes, 0, "no 'finish' after destroy")
  t.true(receivedAtDestroy < chunks.length, 'destroyed mid-flight (writes were still queued)')
  t.is(received.length, receivedAtDestroy, 'nothing reaches the sink after destroy')
  checkPrefix(t, d, received, chunks)
  checkCallbacks(t, calls, reason)

  const afterDestroy = await new Promise((resolve) => s.write(chunks[0], resolve))
  t.is(afterDestroy?.code, 'ERR_STREAM_DESTROYED', 'a write after destroy fails with ERR_STREAM_DESTROYED')
  await delay(LATE_MS)
  t.is(received.length, receivedAtDestroy, 'nor after a write after destroy')
}

// ---------------------------------------------------------------------------------------------
// 6. AbortSignal

async function abortCase (t, d, when) {
  const controller = new AbortController()
  const signal = when === 'pre-aborted' ? AbortSignal.abort() : controller.signal
  const { stream: s, received } = d.create({ signal }, { slow: true })
  const log = track(s)
  let receivedAtAbort = 0
  if (when === 'mid-flight') {
    const { chunks } = run(d, MiB)
    for (const chunk of chunks) {
      s.write(chunk, () => {
        if (signal.aborted) return
        receivedAtAbort = received.length
        controller.abort()
      })
    }
  }
  await checkTeardown(t, log, { errors: 1 })
  checkAbortError(t, log.errors[0])
  t.true(s.destroyed)
  checkAbortError(t, s.errored)
  t.false(log.emitted.includes('finish'), "no 'finish'")
  if (when === 'mid-flight') t.true(signal.aborted, 'a write completed before the abort')
  await delay(LATE_MS)
  t.is(received.length, receivedAtAbort, 'nothing reaches the sink after the abort')
}

// ---------------------------------------------------------------------------------------------
// The table

const WRITABLE_CASES = [
  // 1. highWaterMark and backpressure
  {
    title: 'writableHighWaterMark defaults to stream.getDefaultHighWaterMark(); an explicit highWaterMark is honoured as by a core Writable',
    run: (t, d) => {
      const { stream: s } = d.create()
      t.is(s.writableObjectMode, d.objectMode, 'writableObjectMode')
      t.is(s.writableHighWaterMark, getDefaultHighWaterMark(d.objectMode))
      t.is(s.writableLength, 0)
      t.false(s.writableNeedDrain)
      for (const options of [{ highWaterMark: 7 }, { highWaterMark: 0 }, { highWaterMark: 1000 }]) {
        const core = new Writable({ objectMode: d.objectMode, ...options })
        const { stream } = d.create(options)
        t.is(stream.writableHighWaterMark, core.writableHighWaterMark, `${JSON.stringify(options)}: writableHighWaterMark`)
        stream.destroy()
      }
      s.destroy()
    }
  },
  {
    title: "backpressure: write() false at the default writableHighWaterMark, one 'drain' per false; a slow sink keeps a well-behaved producer within writableHighWaterMark + one chunk",
    applies: needs('slow'),
    run: (t, d) => backpressureRun(t, d, { size: 2 * MiB, chunkSize: (hwm) => Math.max(1, Math.floor(hwm / 4)) })
  },
  {
    title: 'backpressure: the same with an explicit small highWaterMark',
    applies: needs('slow'),
    run: (t, d) => {
      const hwm = d.objectMode ? 4 : 4096
      return backpressureRun(t, d, { options: { highWaterMark: hwm }, size: MiB, chunkSize: () => Math.max(1, hwm / 4) })
    }
  },
  {
    title: "backpressure: highWaterMark 0, every write() returns false and gets its 'drain'",
    applies: needs('slow'),
    run: (t, d) => backpressureRun(t, d, { options: { highWaterMark: 0 }, size: 256 * 1024, chunkSize: () => 4096 })
  },
  {
    title: "backpressure: 64 KiB chunks above the default writableHighWaterMark into a slow sink, one 'drain' per write",
    applies: (d) => !d.objectMode && d.sinkOptions.includes('slow'),
    run: (t, d) => backpressureRun(t, d, { size: 4 * MiB, chunkSize: () => 65536 })
  },
  {
    title: "backpressure: 64 KiB chunks into a sink that completes each write at once: write() returns as core does (the chunk left at once), a 'drain' for any false",
    applies: (d) => !d.objectMode,
    run: (t, d) => backpressureRun(t, d, { size: 4 * MiB, chunkSize: () => 65536, sink: {} })
  },

  // 2. end()
  {
    title: "end(): 'finish' then 'close', the end callback once, every chunk received in order exactly once",
    run: (t, d) => endRun(t, d, {}, d.input())
  },
  {
    title: "end() into a slow sink: 'finish' waits for the last write, then 'close'; everything received in order",
    applies: needs('slow'),
    run: (t, d) => endRun(t, d, { slow: true }, d.input())
  },
  {
    title: 'end() after MiBs written at once (no waiting for drain): every chunk received in order exactly once',
    run: (t, d) => endRun(t, d, d.sinkOptions.includes('slow') ? { slow: true } : {}, run(d, 2 * MiB, 16384).chunks)
  },
  {
    title: 'end(callback) after destroy() without an error: the callback runs once, with ERR_STREAM_DESTROYED',
    run: (t, d) => endAfterDestroy(t, d.create().stream)
  },
  {
    title: 'write() after end(): the callback and one \'error\' get ERR_STREAM_WRITE_AFTER_END, as on a core Writable; nothing more is received',
    run: async (t, d) => {
      const outcome = async (s, received) => {
        const log = track(s)
        const input = d.input()
        s.write(input[0])
        s.end()
        const err = await new Promise((resolve) => s.write(input[1], resolve))
        await log.closed
        await delay(LATE_MS)
        const summary = eventSummary(log)
        return {
          callback: err?.code,
          errors: log.errors.map((e) => e.code),
          finishes: summary.finishes,
          closes: summary.closes,
          received: received.length
        }
      }
      const { stream: s, received } = d.create()
      const coreReceived = []
      const core = new Writable({ objectMode: d.objectMode, write (c, e, cb) { coreReceived.push(c); cb() } })
      const got = await outcome(s, received)
      t.is(got.callback, 'ERR_STREAM_WRITE_AFTER_END')
      t.deepEqual(got, await outcome(core, coreReceived), 'as a core Writable')
    }
  },

  // 3. pipeline() success
  {
    title: "pipeline success: Readable.from → sink, the callback once, 'finish' then 'close', everything received",
    run: (t, d) => pipelineOk(t, d, { chunks: d.input() })
  },
  {
    title: 'pipeline success: Readable.from → PassThrough → sink',
    run: (t, d) => pipelineOk(t, d, { chunks: d.input(), before: () => [new PassThrough({ objectMode: d.objectMode })] })
  },
  {
    title: 'pipeline success: every stage with highWaterMark 1, a slow sink',
    applies: needs('slow'),
    run: (t, d) => pipelineOk(t, d, { chunks: d.input(), options: { highWaterMark: 1 }, sink: { slow: true }, readableOptions: { highWaterMark: 1 } })
  },
  {
    title: 'pipeline success: a multi-MiB run through a slow sink, every chunk received in order exactly once',
    applies: needs('slow'),
    run: (t, d) => pipelineOk(t, d, { chunks: run(d, 3 * MiB).chunks, sink: { slow: true } })
  },
  {
    title: 'pipeline success: stream/promises pipeline() resolves once the sink finished',
    run: async (t, d) => {
      const { stream: s, received } = d.create(undefined, d.sinkOptions.includes('slow') ? { slow: true } : {})
      const { chunks } = run(d, MiB)
      await promises.pipeline(source(d, chunks), s)
      t.true(s.writableFinished)
      checkReceived(t, d, received, chunks)
    }
  },

  // 4. Errors
  {
    title: 'pipeline error from the source (mid-flight): the callback gets it once, the sink is destroyed, nothing received after',
    applies: needs('slow'),
    run: (t, d) => {
      const err = new Error('source failed')
      return pipelineFails(t, d, { sink: { slow: true }, makeSource: (chunks) => failingSource(d, chunks, err), error: err })
    }
  },
  {
    title: 'pipeline error from the source into a sink that completes each write at once',
    run: (t, d) => {
      const err = new Error('source failed')
      return pipelineFails(t, d, { sink: {}, makeSource: (chunks) => failingSource(d, chunks, err), error: err })
    }
  },
  {
    title: "the sink's own error (a write completes with an error): 'error' once then 'close', pending writes fail, nothing received after",
    applies: needs('fail'),
    run: (t, d) => sinkFails(t, d, false)
  },
  {
    title: "the sink's own error in a slow sink: 'error' once then 'close', pending writes fail, nothing received after",
    applies: needs('fail', 'slow'),
    run: (t, d) => sinkFails(t, d, true)
  },
  {
    title: "pipeline error from the sink itself: the callback gets it once, the source is destroyed, the sink's 'error' once then 'close'",
    applies: needs('fail', 'slow'),
    run: (t, d) => {
      const error = new Error('the sink failed')
      return pipelineFails(t, d, { sink: { slow: true, fail: { at: 3, error } }, makeSource: (chunks) => source(d, chunks), error, sinkErrors: 1 })
    }
  },

  // 5. destroy()
  {
    title: "destroy(err) mid-flight: 'error' then 'close', pending write callbacks fail, nothing written after",
    applies: needs('slow'),
    run: (t, d) => destroyMidFlight(t, d, true)
  },
  {
    title: "destroy() mid-flight without an error: 'close' only, pending write callbacks fail, nothing written after",
    applies: needs('slow'),
    run: (t, d) => destroyMidFlight(t, d, false)
  },
  {
    title: "destroy(err) twice before any write: exactly one 'error' (the first), 'close' after it, errored set",
    run: async (t, d) => {
      const { stream: s, received } = d.create()
      const log = track(s)
      const first = new Error('first')
      s.destroy(first)
      s.destroy(new Error('second'))
      await checkTeardown(t, log, { errors: 1 })
      t.is(log.errors[0], first)
      t.is(s.errored, first)
      t.true(s.destroyed)
      t.is(received.length, 0)
    }
  },

  // 6. signal
  {
    title: 'signal: a pre-aborted signal destroys the sink with an AbortError, nothing received',
    run: (t, d) => abortCase(t, d, 'pre-aborted')
  },
  {
    title: 'signal: aborting mid-flight destroys the sink with an AbortError, nothing received after',
    applies: needs('slow'),
    run: (t, d) => abortCase(t, d, 'mid-flight')
  },
  {
    title: 'signal: stream/promises pipeline(..., { signal }) aborted mid-flight rejects with an AbortError, destroys the sink, nothing received after',
    run: async (t, d) => {
      const controller = new AbortController()
      const { stream: s, received } = d.create(undefined, d.sinkOptions.includes('slow') ? { slow: true } : {})
      const log = track(s)
      const { chunks } = run(d, MiB)
      // Aborted from the source's read() after a few chunks (not from inside a generator that
      // Readable.from is running: Node 24 then fails the generator's return()).
      let i = 0
      const src = new Readable({
        objectMode: d.objectMode,
        read () {
          if (i === 4 && !controller.signal.aborted) {
            controller.abort()
            return
          }
          this.push(i < chunks.length ? chunks[i++] : null)
        }
      })
      const closed = closeOf(s)
      const err = await t.throwsAsync(promises.pipeline(src, s, { signal: controller.signal }))
      checkAbortError(t, err)
      t.true(src.destroyed && s.destroyed, 'both stages are destroyed')
      const receivedAtReject = received.length
      await closed
      await delay(LATE_MS)
      t.deepEqual(eventSummary(log).afterClose, [])
      t.false(log.emitted.includes('finish'), "no 'finish'")
      t.is(received.length, receivedAtReject, 'nothing reaches the sink after the rejection')
      checkPrefix(t, d, received, chunks)
    }
  },

  // 7. stream/promises finished()
  {
    title: 'finished() resolves after end() once everything reached the sink',
    run: async (t, d) => {
      const { stream: s, received } = d.create(undefined, d.sinkOptions.includes('slow') ? { slow: true } : {})
      const { chunks } = run(d, MiB, 16384)
      for (const chunk of chunks) s.write(chunk)
      s.end()
      await promises.finished(s)
      t.true(s.writableFinished)
      checkReceived(t, d, received, chunks)
    }
  },
  {
    title: 'finished() rejects with the error of destroy(err) mid-flight, with ERR_STREAM_PREMATURE_CLOSE after destroy()',
    run: async (t, d) => {
      for (const reason of [new Error('destroyed'), undefined]) {
        const { stream: s } = d.create(undefined, d.sinkOptions.includes('slow') ? { slow: true } : {})
        s.on('error', () => {})
        for (const chunk of run(d, 256 * 1024, 16384).chunks) s.write(chunk)
        const done = promises.finished(s)
        s.destroy(reason)
        const err = await t.throwsAsync(done)
        if (reason) t.is(err, reason)
        else t.is(err?.code, 'ERR_STREAM_PREMATURE_CLOSE')
      }
    }
  },
  {
    title: "finished() rejects with the sink's own error",
    applies: needs('fail'),
    run: async (t, d) => {
      const error = new Error('the sink failed')
      const { stream: s } = d.create(undefined, { fail: { at: 1, error } })
      for (const chunk of d.input()) s.write(chunk)
      s.end()
      t.is(await t.throwsAsync(promises.finished(s)), error)
    }
  },

  // 8. Bare child processes: no early exit, no hang
  {
    title: 'bare process: Readable.from → sink in pipeline() completes (no early exit)',
    run: (t, d) => childCase(t, d, 'pipeline', expectDone)
  },
  {
    title: "bare process: written to and ended, 'finish' comes (no early exit)",
    run: (t, d) => childCase(t, d, 'end', expectDone)
  },
  {
    title: 'bare process: one chunk written, never ended, the process exits on its own',
    run: (t, d) => childCase(t, d, 'unended-small', expectLine('WROTE'))
  },
  {
    title: 'bare process: MiBs written at once, never ended, the process exits on its own',
    run: (t, d) => childCase(t, d, 'unended', expectLine('WROTE'))
  },
  {
    title: 'bare process: destroyed mid-flight, the process exits',
    run: (t, d) => childCase(t, d, 'destroyed', expectLine('CLOSED'))
  }
]

module.exports = { WRITABLE_CASES }
