'use strict'

// The write a Transform has in flight, answered even when the stream is destroyed before core
// would answer it. Every sluice Transform (NativeTransform, Throttle, Meter) routes `_write`
// through `writeAnswerable` and calls `answerWriteInFlight` from `_destroy`. A write a stream
// holds itself (the transport, Throttle, BoundedBuffer, NdjsonStringifier) is answered there
// through `answerFromDestroy`.
//
// Why: once `_transform` has called back, core's Transform keeps the write's callback until its
// next `_read` if that write pushed something, the readable side is now at or over its
// highWaterMark and `end()` has not been called (that is how it passes backpressure up).
// A stream destroyed in that state never reads again, so that callback never runs, and neither
// does core's ERR_STREAM_DESTROYED for the writes queued behind it (core errors them only when
// the write in flight completes): a producer waiting on a write callback, or on 'drain', hangs.
// A consumer that breaks out of `for await` while the producer is ahead does exactly that.
// The write in flight completes, as zlib completes the write it was processing when destroyed;
// the writes behind it then get ERR_STREAM_DESTROYED from core.
//
// Invariant: core calls `_write` once at a time, so a stream has at most one write callback
// pending (kCallback), and it runs at most once, whoever answers first. One answer function per
// stream (kAnswer), made at its first write: a closure per write cost a meter ~10 % of its
// throughput on small objects.

const { Transform } = require('node:stream')
// The real one, even under jest's fake timers (lib/transport.js, "Scheduling").
const { setImmediate } = require('node:timers')

const kCallback = Symbol('kCallback')
const kAnswer = Symbol('kAnswer')

/** Core Transform's `_write`, with a callback that `answerWriteInFlight` can still run. */
function writeAnswerable (stream, chunk, encoding, callback) {
  stream[kCallback] = callback
  Transform.prototype._write.call(stream, chunk, encoding, stream[kAnswer] ?? answerOf(stream))
}

function answerOf (stream) {
  stream[kAnswer] = (err, value) => {
    const callback = stream[kCallback]
    if (callback == null) return
    stream[kCallback] = null
    callback(err, value)
  }
  return stream[kAnswer]
}

/**
 * From `_destroy`, before its callback: completes the write core is still holding, if any.
 */
function answerWriteInFlight (stream) {
  if (stream[kCallback] != null) answerFromDestroy(stream, stream[kAnswer])
}

/**
 * Runs a write's callback from inside `_destroy`, before `_destroy` calls back (the write core
 * holds, or one the stream held itself), so that it runs before 'close', whose tick that call
 * queues. Core may still owe the callbacks of the writes before it (taken at once, completed from
 * its next tick, `afterWriteTickInfo`): then this one waits for that tick too, so callbacks come
 * in write order. Core's own tick of ERR_STREAM_DESTROYED for the queued writes finds this write
 * still in progress and leaves them to its completion, which errors them after it.
 * The user's callback runs inside core's try/catch around `_destroy`, which would drop what it
 * throws: rethrown from the next turn, an uncaught exception as core's own callbacks' throws are.
 *
 * Completing that write makes core error the writes queued behind it at once (its `errorBuffer`,
 * the stream being destroyed), and `destroy()` has already scheduled a second `errorBuffer` for
 * the next tick, which finds nothing left. A queued write's callback that throws cuts the first
 * run short before it marks anything done, so the second called every callback before it again:
 * each queued callback is made to run at most once (`state.buffered`, core's queue since Node 14;
 * checked on 20, 22 and 24), and those after the throw still get their ERR_STREAM_DESTROYED.
 */
function answerFromDestroy (stream, callback) {
  if (stream._writableState?.afterWriteTickInfo != null) process.nextTick(answer, stream, callback)
  else answer(stream, callback)
}

function answer (stream, callback) {
  const state = stream._writableState
  const queued = Array.isArray(state?.buffered) ? state.buffered.slice(state.bufferedIndex ?? 0) : []
  for (const entry of queued) {
    if (typeof entry?.callback === 'function') entry.callback = once(entry.callback)
  }
  try {
    callback()
  } catch (err) {
    setImmediate(() => { throw err })
    // A queued write's callback threw, cutting core's loop short: the rest get their error here
    // (those already called are not called again), as core's own second pass would have done
    // from the tick destroy() scheduled, if that had not already run (the deferred answer).
    const error = state.errored ?? destroyedError()
    for (const entry of queued) {
      try {
        entry.callback?.(error)
      } catch (thrown) {
        setImmediate(() => { throw thrown })
      }
    }
  }
}

/** Core's error for a write to a destroyed stream (its class is internal). */
function destroyedError () {
  const err = new Error('Cannot call write after a stream was destroyed')
  err.code = 'ERR_STREAM_DESTROYED'
  return err
}

function once (callback) {
  let called = false
  return function callOnce (err) {
    if (called) return
    called = true
    callback(err)
  }
}

module.exports = { writeAnswerable, answerWriteInFlight, answerFromDestroy }
