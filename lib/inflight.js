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

const { Transform, Writable } = require('node:stream')
const { destroyedError } = require('./errors.js')
// The real one, even under jest's fake timers (lib/transport.js, "Scheduling").
const { setImmediate } = require('node:timers')

// A tick of core's own (`coreTick`). `process.nextTick` is a global jest's fake timers replace
// (lib/transport.js, "Scheduling"): a write answered from it waited for the test to advance
// them. Core's streams take theirs from inside Node: a write this sink completes at once has its
// callback run from such a tick (core's `afterWrite`), in the same queue, after the ticks already
// queued and before those queued later ('close' among them).
const ticker = new Writable({ objectMode: true, write (chunk, encoding, callback) { callback() } })

const kCallback = Symbol('kCallback')
const kAnswer = Symbol('kAnswer')
// answerWriteInFlight has queued the answer of the write in flight.
const kAnswerQueued = Symbol('kAnswerQueued')
// User callbacks completeInOrder has queued and not yet run.
const kLate = Symbol('kLate')

/** Core Transform's `_write`, with a callback that `answerWriteInFlight` can still run. */
function writeAnswerable (stream, chunk, encoding, callback) {
  stream[kCallback] = callback
  Transform.prototype._write.call(stream, chunk, encoding, stream[kAnswer] ?? answerOf(stream))
}

function answerOf (stream) {
  stream[kAnswer] = (err, value) => answerNow(stream, err, value)
  return stream[kAnswer]
}

function answerNow (stream, err, value) {
  const callback = stream[kCallback]
  if (callback == null) return
  // Destroyed while this write was in flight, its answer is queued (answerWriteInFlight): a
  // completion before it (a 'data' listener that destroyed the stream inside the write's own
  // push) waits for it. Completed now, it would let core's loop over the writes queued behind it
  // go on into a destroyed stream, where core fails the next one and records that as the
  // stream's error: `errored` and finished() said ERR_STREAM_DESTROYED for a destroy() without
  // one, and that write's callback came after 'close'.
  if (stream[kAnswerQueued] === true && err == null) return
  stream[kCallback] = null
  completeInOrder(stream, callback, err, value)
}

/**
 * Completes a write the stream (or core's Transform) held, with core's write callback, as core
 * completes a write taken at once. A held write is completed from `_read` (a 'readable'
 * listener, a read(), a resume()), or a timer, a kick: not from `_write`, so core would run the
 * user's callback right there, which goes wrong in two ways. `_read` runs ahead of the ticks core
 * queued for the callbacks of the writes before it: this one ran first (core's PassThrough does
 * so; zlib, being asynchronous, does not). And `_read` runs inside core's try/catch: a throw from
 * the user's callback failed the stream, where a callback core runs from its tick throws an
 * uncaught exception. So core is given a stand-in for the user's callback (`state.writecb`,
 * which it reads when the write completes) and does everything else at once, as before (the
 * writes queued behind it are taken now, so reads see the same data): the user's callback runs
 * from a tick queued now, after the earlier ones, when there are any (`completionsOwed`); else
 * at once, with a throw rethrown from the next turn (`callGuarded`). An error goes straight through: core errors
 * the queued writes after it, in that same call.
 */
function completeInOrder (stream, callback, err, value) {
  const state = stream._writableState
  const user = state?.writecb
  if (err != null || state == null || state.sync !== false || typeof user !== 'function') {
    callback(err, value)
    return
  }
  if (completionsOwed(stream)) {
    // Core counts this write done once it has called the stand-in: until the tick runs, the
    // stream counts it as owed itself, so that a held write completed meanwhile waits too.
    let answer = null
    stream[kLate] = (stream[kLate] ?? 0) + 1
    coreTick(() => {
      stream[kLate]--
      if (answer !== null) user(...answer)
    })
    state.writecb = (...args) => { answer = args }
  } else {
    state.writecb = guarded(user)
  }
  callback(err, value)
}

/**
 * Runs `fn` from a tick of core's own, queued now (see `ticker`). Each call gets a function of
 * its own: core runs a run of completions with one callback in one loop.
 */
function coreTick (fn) {
  ticker.write(true, () => fn())
}

/** Calls `callback(...args)`; what it throws is rethrown from the next turn (an uncaught exception) rather than cutting its caller short. */
function callGuarded (callback, ...args) {
  try {
    callback(...args)
  } catch (thrown) {
    throwLater(thrown)
  }
}

/** Throws `err` from the next turn: an uncaught exception, as a throwing user callback's is. */
function throwLater (err) {
  setImmediate(rethrow, err)
}

function rethrow (err) {
  throw err
}

/** `callback` run through `callGuarded`. */
function guarded (callback) {
  return (...args) => callGuarded(callback, ...args)
}

/**
 * From `_destroy`, before its callback: completes the write core is still holding, if any.
 */
function answerWriteInFlight (stream) {
  if (stream[kCallback] == null) return
  stream[kAnswerQueued] = true
  answerFromDestroy(stream, answerQueued)
  function answerQueued () {
    stream[kAnswerQueued] = false
    stream[kAnswer]()
  }
}

/**
 * Answers a write's callback for `_destroy` (the write core holds, or one the stream held
 * itself), from a tick queued before `_destroy` calls back, so that it runs before 'close',
 * whose tick that call queues, and after core's completions of the writes taken before it
 * (each queued from the tick it was taken in, `afterWrite`, so already queued): callbacks come
 * in write order wherever destroy() is called from (the tick of the writes, a write's callback,
 * a tick among those completions). The state can't tell whether such completions are still to
 * come: `afterWriteTickInfo` is only the last one, null once any has run. Core's own tick of
 * ERR_STREAM_DESTROYED for the queued writes (queued by destroy(), before this one) finds this
 * write still in progress and leaves them to its completion, which errors them after it.
 * Run from its own tick, the user's callback is not inside core's try/catch around `_destroy`,
 * which would drop what it throws: it is an uncaught exception, as core's own callbacks' are.
 *
 * Completing that write makes core error the writes queued behind it at once (its `errorBuffer`,
 * the stream being destroyed), and core's tick has already found nothing to do. A queued
 * write's callback that throws cuts that run short before it marks anything done: each queued
 * callback is made to run at most once (`state.buffered`, core's queue since Node 14; checked on
 * 20, 22 and 24), and those after the throw still get their ERR_STREAM_DESTROYED.
 */
function answerFromDestroy (stream, callback) {
  coreTick(() => answer(stream, callback))
}

function answer (stream, callback) {
  const state = stream._writableState
  const queued = Array.isArray(state?.buffered) ? state.buffered.slice(state.bufferedIndex ?? 0) : []
  for (const entry of queued) {
    if (typeof entry?.callback === 'function') entry.callback = once(entry.callback)
  }
  // end(callback)'s callbacks, which core errors after the queued writes, in the same run.
  const ending = endCallbacks(state)
  for (let i = 0; i < ending.length; i++) ending[i] = once(ending[i])
  const onEnd = ending.slice()
  try {
    callback()
  } catch (err) {
    throwLater(err)
    // A callback threw, cutting core's run short: the rest get their error here (those already
    // called are not called again), as core's own second pass would have done from the tick
    // destroy() scheduled, had it not already run.
    for (const entry of queued) {
      if (typeof entry?.callback === 'function') callGuarded(entry.callback, state.errored ?? destroyedError('write'))
    }
    for (const callback of onEnd) callGuarded(callback, state.errored ?? destroyedError('end'))
  }
}

/**
 * `end(chunk, encoding, callback)` through core's `end`, with `callback` answered even when the
 * stream is destroyed, which core's Writable (Node 20.20) fails to do twice: an end() on a stream
 * destroyed without an error, not yet ending, files its callback for a finish that never comes;
 * and an end() that runs `_flush` at once emits the last output to a flowing consumer inside the
 * call, where a 'data' listener that destroys the stream does so before the callback is filed,
 * the destroy having answered those it had. Core's PassThrough loses both. A callback left so
 * gets what core's error pass gives those it holds (the destroy error, else ERR_STREAM_DESTROYED),
 * from a tick of core's queued after the end: whatever answers it first (core's own tick, a
 * 'finish' already queued) wins.
 */
function endAnswered (stream, end, args) {
  const at = [0, 1, 2].find((i) => typeof args[i] === 'function')
  if (at === undefined) return end.apply(stream, args)
  const callback = args[at]
  let called = false
  const answer = (err) => {
    if (called) return
    called = true
    callback(err)
  }
  const result = end.apply(stream, [...args.slice(0, at), answer])
  if (stream.destroyed && !called) {
    coreTick(() => {
      if (called) return
      // A write still in flight (a MonitoredWritable's own write, which no destroy answers):
      // core answers the callback when that write completes (its afterWrite or onwriteError
      // runs errorBuffer, which takes end()'s callbacks), after the write's own callback.
      // Answered now, it would come before that write's callback and before an end() called
      // meanwhile, which core answers at once.
      if (stream._writableState?.writing === true) return
      // The same for a stream whose writes another Writable holds (kWritesHeldBy), which core
      // knows nothing of: answered as that Writable alone answers an end() of its own
      // (afterHeldWrites).
      if (afterHeldWrites(stream, [answer])) return
      callGuarded(answer, stream._writableState?.errored ?? destroyedError('end'))
    })
  }
  return result
}

/**
 * Core's `uncork()` (`uncork`, called on `stream`), with the finish not lost after `end()`.
 * A chunk queued behind a write in flight (end()'s own) and a cork() after end() hold it until
 * uncork(), as core does. Core's Writable (Node 20.20 and 24.22 alike) then writes it inside
 * uncork(), and a write that completes there at once, with no callback of its
 * own (end()'s chunk has none) and no 'drain' owed (not in object mode), has core look for the
 * finish while it still counts its queue as being emptied; nothing looks again: no 'finish', no
 * 'end', no 'close', end()'s callback never called (core's own PassThrough and Writable too:
 * write, end(chunk), cork(), uncork() once the first write is done). Each queued write given a
 * callback of its own (which calls the one it had), core runs that completion from a tick, as it
 * does any callback of a write completed at once, and the tick finds the queue empty. A
 * `_writev` batch of writes that all had none (MonitoredWritable given `writev`) core still
 * completes with none: not covered.
 */
function uncorkAfterEnd (stream, uncork) {
  const state = stream._writableState
  if (stream.writableEnded && stream.writableCorked === 1 && Array.isArray(state?.buffered)) {
    for (let i = state.bufferedIndex ?? 0; i < state.buffered.length; i++) {
      const entry = state.buffered[i]
      if (typeof entry?.callback !== 'function') continue
      const callback = entry.callback
      entry.callback = (err) => callback(err)
    }
  }
  uncork.call(stream)
}

/**
 * Gives `Class` (a sluice stream with a Writable side) core's `end()` and `uncork()` with the two
 * mends above: `endAnswered` and `uncorkAfterEnd`. Every such class calls it once, after its
 * definition; the base class's methods are looked up at each call, as `super.end` would be, and a
 * subclass may still override them (MonitoredWritable.wrap's wrapper does, calling these through
 * `super`).
 */
function mendEndAndUncork (Class) {
  const base = Object.getPrototypeOf(Class.prototype)
  Object.defineProperties(Class.prototype, {
    end: {
      value: function end (...args) { return endAnswered(this, base.end, args) },
      writable: true,
      configurable: true
    },
    uncork: {
      value: function uncork () { uncorkAfterEnd(this, base.uncork) },
      writable: true,
      configurable: true
    }
  })
}

/**
 * When the Writable that holds `stream`'s writes (kWritesHeldBy) has a write in flight: answers
 * `callbacks` (end()'s) right after that write calls back and the writes queued behind it (which
 * its errorBuffer errors first) with what that errorBuffer would give them (its error, which a
 * failed write sets, else ERR_STREAM_DESTROYED), and returns true. Core reads `writecb` when the
 * write completes, and each queued callback when it calls it: these stand in for them.
 */
function afterHeldWrites (stream, callbacks) {
  const holder = stream[kWritesHeldBy]?.()
  const state = holder?._writableState
  if (holder === stream || state?.writing !== true || typeof state.writecb !== 'function') return false
  state.writecb = after(state.writecb, () => {
    const queued = Array.isArray(state.buffered) ? state.buffered : []
    const last = queued.length > (state.bufferedIndex ?? 0) ? queued[queued.length - 1] : null
    const answerHeld = () => {
      const err = state.errored ?? destroyedError('end')
      for (const callback of callbacks) callGuarded(callback, err)
    }
    if (typeof last?.callback === 'function') last.callback = after(last.callback, answerHeld)
    else answerHeld()
  })
  return true
}

/**
 * From destroy() of a stream whose writes another Writable holds (kWritesHeldBy), before core's
 * destroy: the end() callbacks core keeps for it (filed before the destroy) are taken from core,
 * which would answer them from a tick destroy() queues (its errorBuffer: the stream's own
 * `writing` is never set), and answered after that Writable's write in flight (afterHeldWrites),
 * as that Writable alone answers its own: after that write's callback, and after an end() called
 * meanwhile, which core refuses at once (Node contract fuzz, MonitoredWritable.wrap seed 11133).
 */
function holdEndsForHeldWrites (stream) {
  const state = stream._writableState
  if (state == null || state.destroyed) return
  const ending = endCallbacks(state)
  if (ending.length === 0) return
  const callbacks = ending.slice()
  if (afterHeldWrites(stream, callbacks.map(once))) ending.splice(0, callbacks.length)
}

/** `callback`, then `next` (also when `callback` throws). */
function after (callback, next) {
  return (...args) => {
    try {
      callback(...args)
    } finally {
      next()
    }
  }
}

/**
 * A method of a stream whose writes another Writable holds (MonitoredWritable.wrap's wrapper:
 * its writes go straight to the destination): returns that Writable. endAnswered answers an
 * end() callback of such a stream, destroyed, after that Writable's write in flight.
 */
const kWritesHeldBy = Symbol('kWritesHeldBy')

/**
 * The array of end(callback)'s callbacks core keeps until the stream finishes or is destroyed
 * (`kOnFinished`; its own property `kOnFinishedValue` on 20.20, 22 and 24, where it is a
 * symbol of core's), or an empty one when this Node keeps it out of sight.
 */
function endCallbacks (state) {
  if (state == null) return []
  for (const key of Object.getOwnPropertySymbols(state)) {
    if (key.description === 'kOnFinishedValue' || key.description === 'kOnFinished') {
      const value = state[key]
      return Array.isArray(value) && value.every((f) => typeof f === 'function') ? value : []
    }
  }
  return []
}

/**
 * Whether core still owes the callbacks of writes it took before the one the stream is holding:
 * a write completed synchronously has its callback run from a tick queued then (`afterWrite`),
 * so a held write completed now, before those ticks, would have its callback run ahead of
 * theirs. Core counts every write not yet called back (`pendingcb`: the held one, the ones
 * queued behind it, and those ticks' writes); `afterWriteTickInfo` alone is no test, being
 * only the last such tick's, and null once any of them has run. Checked on 20, 22 and 24. Also
 * owed: callbacks completeInOrder has queued itself (`kLate`), which core counts done.
 */
function completionsOwed (stream) {
  const state = stream._writableState
  if (state == null || typeof state.pendingcb !== 'number') return false
  if (state.afterWriteTickInfo != null || stream[kLate] > 0) return true
  const queued = Array.isArray(state.buffered) ? state.buffered.length - (state.bufferedIndex ?? 0) : 0
  return state.pendingcb > 1 + queued
}

function once (callback) {
  let called = false
  return function callOnce (err) {
    if (called) return
    called = true
    callback(err)
  }
}

module.exports = { writeAnswerable, answerWriteInFlight, answerFromDestroy, completionsOwed, completeInOrder, callGuarded, coreTick, endAnswered, holdEndsForHeldWrites, guarded, mendEndAndUncork, throwLater, uncorkAfterEnd, kWritesHeldBy }
