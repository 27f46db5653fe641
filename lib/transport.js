'use strict'

// NativeTransform: the JS half of the transport every sluice component shares (the Rust half is
// src/transport/). A component subclasses it, creates its native handle, and turns each native
// data event into an *output entry*; this class owns everything else of the stream contract.
//
// Who holds what:
// * Input. `_transform` offers the chunk to the native handle, which copies it into a queue
//   bounded by bytes. Accepted: the callback runs at once, and a kick is scheduled (a promise
//   job, once per turn): the native side then runs a little input inline on this thread and
//   hands back its events, or wakes the shared pool. Full: the chunk and its callback are held
//   here (kPending) until the worker reports Space. While the callback is held, core's
//   Writable buffers and `write()` returns false: that is the backpressure, and core's own
//   'drain' follows.
// * Output. The worker may have at most `credits` data events in flight. Each becomes an entry
//   in kQueue: an array of items to push, or a function to run (emit an event, fail the stream).
//   Entries are pushed in order; when `push()` returns false we stop mid-entry and resume from
//   `_read`. An entry's credit goes back to the worker when the entry starts, and entries start
//   only while the readable side has room. So a consumer that does not read stops the worker
//   after `credits` more events, and the readable buffer never holds more than
//   highWaterMark + 1 items. An entry can also be an *action* (emit an event, fail the stream):
//   actions wait until everything pushed before them has been read, so events and errors keep
//   their place in the output and destroy() never discards values the consumer was owed.
// * End. `_flush` sends End and holds its callback until the worker's Done has been seen *and*
//   the queue is empty, so core's push(null) comes after the last item.
// * Teardown. `_destroy` cancels the worker; every native callback first checks `destroyed`, so
//   nothing is pushed and no user callback runs after destroy.
// * JS stage. A component may also give a *JS stage*, which handles small input on this thread
//   without any native handle (the parser's InlineParser: a stream that only ever sees a little
//   input then costs what a core stream costs). Until the stage declines a chunk, there is no
//   handle: `_transform` hands chunks to the stage, the kick turns its output into an entry, and
//   a write waits (kPending) while the consumer is behind (the readable side full, entries
//   queued) or the stage holds as much output as it should between two kicks (`awaitsOutput`:
//   values parsed far ahead of the consumer outlive the young generation and cost GC); a chunk
//   larger than JS_STAGE_PIECE is taken a piece per kick, the rest held like such a write. A
//   stage that parses bulk input (`takesBulk()`) takes each write in the kick, held till then. When
//   the stage declines (bulk input, or anything it leaves to the native side) the
//   handle is created once, resumed from the stage's state, and gets the stage's remainder; the
//   stage's output is queued before anything the handle sends, and from then on the stream is
//   native, as if it had been from the start.
// * Back to the JS stage. A component may also take a native stream back (the parser, when its
//   records turn to plain strings: text mode): `_jsStageBoundary(chunk)` names where in a chunk
//   the handle's input should end (a place the component's framing starts afresh, a line start).
//   The chunk's head is written, the handle ended, and the write held until its Done; then the
//   handle is let go and `_jsStageAfter(stats)`, a JS stage resumed from the handle's final
//   counters, takes the rest. The handle's output still queued goes out first; each native
//   payload gives its credit back to the handle that sent it.
// * Web output (lib/web/native.js). A Web Streams face drives the same handle without core's
//   Readable: `openPort` gives the stream a port (an object with `push(item)` -> room left, and
//   `queued()` -> items not yet read) that takes the place of `push()`/`readableLength`, the
//   face writes through `_transform`/`_flush` and pulls with `pullPort`. Everything else above
//   (credits, actions after the values before them, teardown) is the same mechanism.
// * Scheduling. Nothing here uses a global a test framework can fake (`process.nextTick`,
//   `setImmediate`, `queueMicrotask`…: jest's modern fake timers fake them in the sandbox, even
//   before modules load). Kicks are promise jobs (native promises cannot be faked). An action
//   waiting for the readable buffer to empty runs when the
//   consumer comes back for more (at the start of its next read()), and otherwise from a
//   `setImmediate` taken from `node:timers` at load (jest fakes the sandbox's globals, not that
//   module), as is the turn a JS-stage piece of a large write waits for (`awaitNextTurn`).
//   `@sinonjs/fake-timers` 11+ installed on the real global before this module loads does
//   replace that one: those waits then move with its clock (the README says so). A
//   `MessageChannel` is no way out: a message posted from the microtasks of the one before is
//   delivered in the same turn (measured on Node 20: 2000 such messages, one turn).
// * Exceptions. Our own failures (decoding a payload, a native call) destroy the stream with the
//   error. Exceptions thrown by user code we call — listeners run by `push()` ('data', a pipe's
//   destination) or by an event we emit ('invalid') — are not ours to catch: as in core, they
//   propagate to whoever made us push or emit, which is our native callback or our own
//   setImmediate (a kick's are rethrown from one), so they are uncaught exceptions (one that happens inside a consumer's read()
//   is rethrown from our next turn; see BEFORE_READ). Before one propagates the stream is left
//   consistent (the item counts as delivered, the event as emitted) and draining resumes on the
//   next turn, so a process that survives it (`process.on('uncaughtException')`) still gets
//   everything else, once, in order, and 'end'.

const { Transform } = require('node:stream')
// The real one, even inside jest's sandbox with fake timers (see "Scheduling" above).
const { setImmediate } = require('node:timers')
const { SluiceError, asError, nativeError, destroyedError } = require('./errors.js')
const { ensureRuntime } = require('./runtime.js')
const { writeAnswerable, answerWriteInFlight, answerFromDestroy, completionsOwed, coreTick, mendEndAndUncork } = require('./inflight.js')

// Event kinds, as in src/transport.rs.
const KIND_DATA = 0
const KIND_SPACE = 1
const KIND_DONE = 2
const KIND_FAILED = 3

const kHandle = Symbol('kHandle')
const kPending = Symbol('kPending')
const kQueue = Symbol('kQueue')
const kCurrent = Symbol('kCurrent')
const kFull = Symbol('kFull')
const kDone = Symbol('kDone')
const kFlushCallback = Symbol('kFlushCallback')
const kEnd = Symbol('kEnd')
const kDraining = Symbol('kDraining')
const kStatsHandle = Symbol('kStatsHandle')
const kAwaitEmpty = Symbol('kAwaitEmpty')
// The consumer's read() has just taken the last buffered item, which it may not have handled yet
// (`for await` runs its loop body a promise job later): an action waits until it asks again.
const kTaken = Symbol('kTaken')
const kKick = Symbol('kKick')
const kPort = Symbol('kPort')
const kJsStage = Symbol('kJsStage')
const kStaged = Symbol('kStaged')
const kCreateHandle = Symbol('kCreateHandle')
// The JS stage took a piece of a larger write, and the next piece waits for the next turn of the
// event loop (`takeNextPiece`), whatever else would retry the held write before then.
const kNextPiece = Symbol('kNextPiece')
// The flush's end waits one tick of core's, behind write callbacks still owed (`endAfterOwed`):
// 0 not yet, 1 waiting, 2 waited.
const kEndWait = Symbol('kEndWait')

// The steps of a write that takes the stream back to a JS stage (kPending.back): its head is
// written to the handle, the handle's input is ended, then the write waits for the handle's Done.
const BACK_WRITE_HEAD = 0
const BACK_END = 1
const BACK_AWAIT_DONE = 2

// Kicks run as promise jobs: after the writes of the current turn, before any I/O, and out of
// reach of test frameworks that fake process.nextTick, queueMicrotask and timers.
const resolved = Promise.resolve()
const kWake = Symbol('kWake')
const kDeferred = Symbol('kDeferred')

// Where a drain runs, which decides what happens to an exception thrown by user code in it.
// From the native callback or our own setImmediate: it propagates (an uncaught exception).
const FROM_CALLBACK = 0
// Inside `_read`, which core wraps in a try/catch: no user code runs (actions wait).
const IN_READ = 1
// At the start of a consumer's read(): it is thrown from our next turn instead (and nothing is
// pushed or emitted until then, to keep the order), so that an 'invalid' listener's throw is
// always an uncaught exception, as for the events core emits from its own callbacks ('end',
// 'readable'…), never an error of the consumer's read() (for await would reject with it).
const BEFORE_READ = 2
// The most the JS stage is given at once: a larger chunk is taken a piece per kick (its write
// callback held until the last), so one huge write is parsed, delivered and read in bounded
// steps, as the native side's 64 KiB slices are, instead of all its values at once.
const JS_STAGE_PIECE = 64 * 1024

class NativeTransform extends Transform {
  /**
   * @param {object} streamOptions options for core's Transform
   * @param {(owner: NativeTransform, onEvents: Function, resume?: object) => object} createHandle
   *   builds the native handle for `owner` (this stream), delivering its events to `onEvents`;
   *   `resume` is the JS stage's state when it hands over
   * @param {object | null} jsStage handles small input before there is a handle (see "JS
   *   stage" above): `take(chunk)` and `finish()` (false: hand over), `output()` (for
   *   `_jsStageData`, or null), `awaitsOutput()` (true: hold writes until the next kick's
   *   output), `takesBulk()` (true: take writes in the kick), `resumeState()`, `remainder()`
   *   (a Buffer), `stats()`
   */
  constructor (streamOptions, createHandle, jsStage = null) {
    super(streamOptions)
    this[kPending] = null
    this[kNextPiece] = false
    this[kEndWait] = 0
    this[kQueue] = []
    this[kCurrent] = null
    this[kFull] = false
    this[kDone] = false
    this[kFlushCallback] = null
    this[kDraining] = false
    this[kAwaitEmpty] = false
    this[kTaken] = false
    this[kKick] = false
    this[kWake] = false
    this[kDeferred] = null
    this[kHandle] = null
    this[kPort] = null
    this[kJsStage] = jsStage
    this[kStaged] = null
    this[kCreateHandle] = createHandle
    // An already-aborted `signal` destroys the stream inside super(): start no worker for it.
    if (!this.destroyed) {
      ensureRuntime() // a bad SLUICE_WORKERS is the constructor's RangeError
      if (jsStage === null) openHandle(this) // e.g. no thread could be started: thrown here
    }
  }

  /**
   * Turns one native data payload into output: an entry from `pushEntry(items)`, an action (a
   * function called with the stream as `this`), or an array of those, in order. Subclasses
   * implement it.
   */
  _nativeData (_payload) {
    throw new Error('NativeTransform subclasses must implement _nativeData')
  }

  /**
   * Where in `chunk`, written to the native handle, the handle's input should end and a JS stage
   * take the stream back (see "Back to the JS stage" above): an index in (0, chunk.length], or -1
   * to write it all to the handle. Components that never take a stream back keep this one.
   */
  _jsStageBoundary (_chunk) {
    return -1
  }

  /** The JS stage that takes a stream back, from the handle's final counters (`stats()`). */
  _jsStageAfter (_stats) {
    throw new Error('NativeTransform subclasses that name a JS stage boundary must implement _jsStageAfter')
  }

  /** As `_nativeData`, for what the JS stage's `output()` returned. Subclasses with one implement it. */
  _jsStageData (_output) {
    throw new Error('NativeTransform subclasses with a JS stage must implement _jsStageData')
  }

  /** The native counters (or the JS stage's, before the handover), as a plain object of numbers. */
  _nativeStats () {
    // After destroy the handle only answers stats(): its counters stay as they were at cancel.
    const handle = this[kHandle] ?? this[kJsStage] ?? this[kStatsHandle]
    return handle == null ? {} : handle.stats()
  }

  _write (chunk, encoding, callback) {
    writeAnswerable(this, chunk, encoding, callback)
  }

  _transform (chunk, encoding, callback) {
    if (this[kHandle] === null && this[kJsStage] !== null) {
      if (jsStageHoldsWrites(this)) {
        // The JS stage has no input queue of its own: the held callback is the backpressure.
        this[kPending] = { chunk, callback }
        return
      }
      if (this[kJsStage].takesBulk()) {
        // Bulk input is taken in the kick, not inside the write: a file's next read, which core
        // asks for from process.nextTick once this write returns, then runs while this chunk is
        // parsed, not after (text mode from a file, 100 MB: 1.11–1.43× the MB/s of parsing in
        // the write in a warm process, 1.04–1.08× in a fresh one; README, Performance).
        this[kPending] = { chunk, callback }
        scheduleKick(this)
        return
      }
      try {
        chunk = offerToStage(this, chunk)
      } catch (err) {
        callback(err)
        return
      }
      if (chunk === null) {
        scheduleKick(this)
        callback()
        return
      }
      if (this[kHandle] === null) {
        // The stage took one piece: its values go out at the next kick, and the rest of the
        // write, held, after a turn of the event loop.
        this[kPending] = { chunk, callback }
        scheduleKick(this)
        awaitNextTurn(this)
        return
      }
      // Handed over: the rest goes to the new handle whole. (A JS stage may have counted some of
      // it, which the handle does not count again; its final counters would be ahead of what it
      // parsed if it ended inside this chunk.)
    } else {
      let boundary
      try {
        boundary = this._jsStageBoundary(chunk)
      } catch (err) {
        callback(asError(err, 'ERR_SLUICE_INTERNAL', 'choosing where to parse'))
        return
      }
      if (boundary !== -1) {
        this[kPending] = { chunk: chunk.subarray(0, boundary), callback, back: BACK_WRITE_HEAD, rest: chunk.subarray(boundary) }
        goBackToJsStage(this)
        return
      }
    }
    let accepted
    try {
      accepted = this[kHandle].write(chunk)
    } catch (err) {
      callback(nativeError(err))
      return
    }
    if (accepted) {
      scheduleKick(this)
      callback()
    } else {
      this[kPending] = { chunk, callback }
    }
  }

  _flush (callback) {
    if (this[kHandle] === null && this[kJsStage] !== null) {
      if (this[kJsStage].finish()) {
        // The kick queues the last output, then marks the end (kDone).
        this[kFlushCallback] = callback
        scheduleKick(this)
        return
      }
      let rest
      try {
        rest = handOver(this)
      } catch (err) {
        callback(err)
        return
      }
      try {
        // A fresh handle's input queue is empty, and an empty queue takes any chunk.
        if (rest.length > 0 && !this[kHandle].write(rest)) throw new Error('a new handle refused its first chunk')
      } catch (err) {
        callback(nativeError(err))
        return
      }
    }
    let accepted
    try {
      accepted = this[kHandle].end()
    } catch (err) {
      callback(nativeError(err))
      return
    }
    if (accepted) this[kFlushCallback] = callback
    else this[kPending] = { chunk: kEnd, callback }
    // Also when the end waits for room: input written just now (the JS stage's remainder, which
    // may fill the queue) must be started, or no room would ever come.
    scheduleKick(this)
  }

  _read (size) {
    this[kFull] = false
    // Core calls _read inside a try/catch that makes a throw the stream's error, so no user code
    // may run here: pushes only buffer (core's `sync` flag) and actions wait for read().
    drainQueue(this, IN_READ)
    resumeHeldWrite(this)
    super._read(size)
  }

  read (n) {
    // An action waits for the readable buffer to empty; every way of consuming (flowing mode,
    // 'readable' + read(), async iteration, pipe) goes through read().
    this[kTaken] = false
    if (this[kAwaitEmpty] && this.readableLength === 0 && !this[kDraining]) {
      // The consumer took the last item before the action in an earlier read() and now asks for
      // more: run the action now, then core's read() hands out what follows (or ends).
      drainQueue(this, BEFORE_READ)
    }
    let chunk
    try {
      chunk = super.read(n)
    } catch (err) {
      // A 'data' listener threw inside core's read() (flowing mode emits there): the item was
      // delivered and the exception is our caller's. Core's flow loop stopped with it; resume.
      wake(this)
      throw err
    }
    if (chunk !== null && this.readableLength === 0) this[kTaken] = true
    if (this[kAwaitEmpty] && this.readableLength === 0 && !this[kDraining]) {
      // It has just taken the last item and not handled it yet (or `_read` met an action, which
      // it must not run). Flowing mode, read() loops and async iteration come back for more
      // (above); if it does not, the action runs on the next turn of the event loop.
      wake(this)
    }
    return chunk
  }

  _destroy (err, callback) {
    // May run inside super() (an aborted `signal`), before the fields below exist.
    const handle = this[kHandle]
    // A write held because the stage had stopped was never taken: it fails, with the failure
    // (what destroys us now) or, destroyed without one before the failure came out, as core fails
    // a write it still buffers; a write held for room completes, as core completes the write in
    // flight at a destroy.
    const refused = handle != null && handle.closed()
    if (this[kJsStage] !== null) {
      // No handle yet: nothing runs anywhere; the stage's counters stay readable.
      this[kStatsHandle] = this[kJsStage]
      this[kJsStage] = null
    }
    if (handle != null) {
      this[kHandle] = null
      try {
        // Counters stay readable after the stream is gone (autoDestroy runs right after 'end').
        this[kStatsHandle] = handle
        handle.cancel()
      } catch (cancelErr) {
        err = err ?? cancelErr
      }
    }
    const pending = this[kPending]
    this[kPending] = null
    this[kQueue] = []
    this[kCurrent] = null
    this[kFlushCallback] = null
    // A write whose chunk we were holding must still be answered, or core never errors the
    // writes queued behind it and a producer waiting on their callbacks hangs. Core gives those
    // ERR_STREAM_DESTROYED; the held one completes, and so does one core's Transform holds for a
    // `_read` that will not come (./inflight.js). (A held `_flush` callback must not run: it
    // would push after destroy.) The Web face has no core write: only `pending` is its own.
    if (pending != null && pending.chunk !== kEnd) {
      answerFromDestroy(this, refused ? () => pending.callback(err ?? destroyedError('write')) : pending.callback)
    }
    answerWriteInFlight(this)
    callback(err)
  }
}

// end() and uncork() as every sluice Writable side has them (lib/inflight.js).
mendEndAndUncork(NativeTransform)

/** The TSFN callback; `this` is the stream. Runs on the JS thread with an array of events. */
function onNativeEvents (events) {
  try {
    handleEvents.call(this, events)
  } finally {
    // The native side kept this stream strongly referenced while these events were on their
    // way; now they are in our queue (or acted on), it may go back to holding it weakly.
    try {
      this[kHandle]?.settle()
    } catch (err) {
      this.destroy(nativeError(err))
    }
  }
}

function handleEvents (events) {
  if (this.destroyed) return
  // Take in every event before running any user code, so that a listener that throws (and
  // becomes an uncaught exception) cannot lose the events after it.
  let space = false
  let back = false
  for (let i = 0; i < events.length; i++) {
    const event = events[i]
    switch (event[0]) {
      case KIND_DATA:
        this[kQueue].push(new NativePayload(event[1], this[kHandle]))
        break
      case KIND_SPACE:
        space = true
        break
      case KIND_DONE:
        // The end of a handle's input that a JS stage takes over from, or of the stream.
        if (this[kPending]?.back === BACK_AWAIT_DONE) back = true
        else this[kDone] = true
        break
      case KIND_FAILED: {
        const err = new SluiceError(event[1], event[2])
        this[kQueue].push(function fail () { this.destroy(err) })
        break
      }
      default:
        this.destroy(new SluiceError('ERR_SLUICE_INTERNAL', `sluice: unknown native event kind ${event[0]} (this should not happen)`))
        return
    }
  }
  if (back || space) {
    try {
      // The handle a JS stage takes over from is done: the stage goes on with the held write.
      if (back) resumeJsStage(this)
      else retryPending(this)
    } catch (err) {
      // The held write's callback ran user code that threw: it propagates; output still flows.
      wake(this)
      throw err
    }
    if (this.destroyed) return
  }
  drainQueue(this)
}

function retryPending (stream) {
  const pending = stream[kPending]
  if (pending === null) return
  if (stream[kHandle] === null && stream[kJsStage] !== null) {
    // A write held by the JS stage (`_flush` is never held there).
    if (stream[kNextPiece] || jsStageHoldsWrites(stream)) return
    let rest
    try {
      rest = offerToStage(stream, pending.chunk)
    } catch (err) {
      stream.destroy(err)
      return
    }
    if (rest === null) {
      stream[kPending] = null
      scheduleKick(stream)
      completeHeld(stream, pending.callback)
      return
    }
    pending.chunk = rest
    if (stream[kHandle] === null) {
      awaitNextTurn(stream)
      return
    }
    // Handed over: the rest goes on to the new handle below.
  }
  if (pending.back !== undefined) {
    goBackToJsStage(stream)
    return
  }
  const handle = stream[kHandle]
  let accepted
  try {
    accepted = pending.chunk === kEnd ? handle.end() : handle.write(pending.chunk)
  } catch (err) {
    stream.destroy(nativeError(err))
    return
  }
  if (!accepted) return
  stream[kPending] = null
  scheduleKick(stream)
  if (pending.chunk === kEnd) stream[kFlushCallback] = pending.callback
  else completeHeld(stream, pending.callback) // core's write callback: runs user code (write callbacks, 'drain')
}

/**
 * Takes the held write (kPending.back) a step further towards the JS stage: its head written,
 * then the handle's input ended; each waits for room (Space) if the handle has none. The Done
 * that follows the end goes to `resumeJsStage`.
 */
function goBackToJsStage (stream) {
  const pending = stream[kPending]
  const handle = stream[kHandle]
  try {
    if (pending.back === BACK_WRITE_HEAD) {
      if (!handle.write(pending.chunk)) return
      pending.back = BACK_END
      scheduleKick(stream)
    }
    if (pending.back === BACK_END) {
      if (!handle.end()) return
      pending.back = BACK_AWAIT_DONE
      scheduleKick(stream)
    }
  } catch (err) {
    stream.destroy(nativeError(err))
  }
}

/**
 * The handle a JS stage takes the stream back from is done (its last output is queued): the
 * stage, resumed from the handle's final counters, takes the rest of the held write.
 */
function resumeJsStage (stream) {
  const pending = stream[kPending]
  const handle = stream[kHandle]
  let stage
  try {
    stage = stream._jsStageAfter(handle.stats())
    // Its work is over; this lets go of what the native side kept for it.
    handle.cancel()
  } catch (err) {
    stream.destroy(asError(err, 'ERR_SLUICE_INTERNAL', 'taking the stream back from the native side'))
    return
  }
  stream[kHandle] = null
  stream[kJsStage] = stage
  if (pending.rest.length === 0) {
    stream[kPending] = null
    completeHeld(stream, pending.callback)
    return
  }
  stream[kPending] = { chunk: pending.rest, callback: pending.callback }
  retryPending(stream)
  // Held by the stage (the consumer is behind): its next kick or the consumer's read retries it.
  if (stream[kPending] !== null) scheduleKick(stream)
}

/**
 * Completes a write this stream held. Core completes a write taken at once from
 * `process.nextTick`; a held one completes here, often from a promise job (a kick), and a
 * producer that goes on in promise jobs (awaiting 'drain', the documented pattern) kept that tick
 * waiting: the held write's callback ran before the callbacks of the writes before it, which
 * piled up for as long as it wrote (on blank lines, half of them). While core has such
 * completions waiting (`completionsOwed`), this one waits for the next turn, after them;
 * otherwise it completes now.
 */
function completeHeld (stream, callback) {
  if (completionsOwed(stream)) setImmediate(completeNow, stream, callback)
  else completeNow(stream, callback)
}

/**
 * Runs a held write's completion (core's Transform callback), then lets go of the write if core
 * kept it for a read that is already waiting. Core's Transform keeps a write's callback until its
 * next `_read` when the readable side's length changed during the write and is not below its
 * highWaterMark, which with a highWaterMark of 0 is any length, 0 included. Core itself only
 * meets that at the write's start; a held write completes later, after the consumer may have read
 * everything and asked for more (`reading`: `_read` ran and nothing was pushed since). Core calls
 * `_read` again only after a push, and a write that gave no value yet (the start of a line) makes
 * none: the stream stopped for good (readableHighWaterMark 0, text mode, helper-136). A read
 * waiting means the consumer wants more: the write completes, as that `_read` would have let it.
 */
function completeNow (stream, callback) {
  callback()
  const state = stream._readableState
  if (state != null && state.reading && !stream.destroyed && stream[kPort] === null) Transform.prototype._read.call(stream)
}

/**
 * The JS stage took a piece of a large write: the next piece is taken after a turn of the event
 * loop, so that one huge write does not hold timers and I/O off for the whole of it. Only from
 * here: a consumer that reads as fast as values come (its `_read` asks to resume the held write)
 * would otherwise take piece after piece in promise jobs, and the event loop would not turn until
 * the write was parsed (measured: 0 ticks of a 2 ms interval over an 89 MB write).
 */
function awaitNextTurn (stream) {
  if (stream[kNextPiece]) return
  stream[kNextPiece] = true
  setImmediate(takeNextPiece, stream)
}

function takeNextPiece (stream) {
  stream[kNextPiece] = false
  if (!stream.destroyed) scheduleKick(stream)
}

/**
 * Input accepted in this turn starts once the turn's writes are done: one native call decides
 * whether to run it inline (a little input on an idle stream) or on the pool.
 */
function scheduleKick (stream) {
  if (stream[kKick]) return
  stream[kKick] = true
  resolved.then(() => kick(stream))
}

function kick (stream) {
  stream[kKick] = false
  if (stream.destroyed) return
  if (stream[kHandle] === null) {
    if (stream[kJsStage] !== null) kickJsStage(stream)
    return
  }
  const handle = stream[kHandle]
  // Output of the JS stage that handed over goes first; like any output, only from a kick.
  const staged = stream[kStaged]
  if (staged !== null) {
    stream[kStaged] = null
    stream[kQueue].push(staged)
  }
  let events
  try {
    events = handle.kick()
  } catch (err) {
    stream.destroy(nativeError(err))
    return
  }
  // Nothing to handle, unless output of the JS stage that handed over waits in the queue.
  if (events.length === 0 && stream[kQueue].length === 0) return
  // Events of an inline run: handled now, as the TSFN callback would (no delivery to settle).
  try {
    handleEvents.call(stream, events)
  } catch (err) {
    // User code threw. We run in a promise job, where a throw would be a rejection: throw it
    // from our next turn instead, an uncaught exception as from the native callback.
    defer(stream, err)
  }
}

/**
 * The JS stage's kick: its output goes out (then the end, if `_flush` saw it), then a write held
 * while the consumer was behind. Output enters the queue only here, in a kick, as native output
 * does: a consumer's read() before the kick finds nothing, so an action (an 'invalid' report)
 * queued by the same kick never runs while the consumer still holds the values before it.
 */
function kickJsStage (stream) {
  try {
    const entry = jsStageEntry(stream)
    if (entry !== null) stream[kQueue].push(entry)
  } catch (err) {
    stream.destroy(err)
    return
  }
  if (stream[kFlushCallback] !== null) stream[kDone] = true
  try {
    drainQueue(stream)
    if (!stream.destroyed) retryPending(stream)
  } catch (err) {
    // User code threw (a listener, a write callback): from our next turn, as in `kick`.
    defer(stream, err)
  }
}

/** The JS stage's output since the last kick as an entry, or null. Our own failures throw. */
function jsStageEntry (stream) {
  try {
    const output = stream[kJsStage].output()
    return output === null ? null : stream._jsStageData(output)
  } catch (err) {
    throw asError(err, 'ERR_SLUICE_INTERNAL', 'decoding inline output')
  }
}

/**
 * Gives the JS stage `chunk`, or its first JS_STAGE_PIECE bytes. Returns null when the stage took
 * it all; else what is left: the rest of the chunk for the stage to take at a later kick while
 * there is no handle, or, once the stage has handed the stream over, the input to write to the
 * new native handle (null too when nothing is left to write).
 */
function offerToStage (stream, chunk) {
  const piece = chunk.length > JS_STAGE_PIECE ? chunk.subarray(0, JS_STAGE_PIECE) : chunk
  const later = piece === chunk ? null : chunk.subarray(JS_STAGE_PIECE)
  if (stream[kJsStage].take(piece)) return later
  const rest = handOver(stream)
  if (later === null) return rest.length === 0 ? null : rest
  // Declined whole (the usual start of a bulk stream that goes native): the chunk as it came.
  if (rest === piece) return chunk
  return rest.length === 0 ? later : Buffer.concat([rest, later])
}

/**
 * Creates the native handle: from the constructor (no JS stage), or when the JS stage hands
 * over (`resume` is its state). Throws what creating it threw, as a SluiceError.
 */
function openHandle (stream, resume) {
  // The TSFN keeps its callback alive for as long as the worker runs, so the callback holds the
  // stream only weakly; the native side holds it strongly exactly while work is in flight. An
  // abandoned idle stream is then collected like any core stream, and its finalizer cancels its
  // native work.
  // The handle too: the callback is held by the handle's own native side (a reference that only
  // the handle's finalizer deletes), so a callback holding the handle kept every handle that ever
  // reached the pool, ~3.5 KB each, for the life of the process.
  const self = new WeakRef(stream)
  let handleRef = null
  const onEvents = (events) => {
    const owner = self.deref()
    // Only the stream's current handle speaks for it: one a JS stage took the stream back from
    // has sent its last event (Done) and been cancelled, but is no one to settle or credit now.
    if (owner !== undefined && handleRef !== null && owner[kHandle] === handleRef.deref()) onNativeEvents.call(owner, events)
  }
  let handle
  try {
    handle = stream[kCreateHandle](stream, onEvents, resume)
  } catch (err) {
    throw nativeError(err)
  }
  handleRef = new WeakRef(handle)
  stream[kHandle] = handle
}

/**
 * The JS stage hands the stream over to a native handle: its output so far goes out at the next
 * kick, before the handle's, the handle starts from its state, and the input it left (a Buffer,
 * maybe empty) is returned for the caller to write. Throws on our own failures.
 */
function handOver (stream) {
  const stage = stream[kJsStage]
  stream[kStaged] = jsStageEntry(stream)
  stream[kJsStage] = null
  openHandle(stream, stage.resumeState())
  return stage.remainder()
}

/**
 * Whether a write must wait for a later kick while the JS stage has the stream: the consumer has
 * not taken what is already out (the readable side is full, entries wait), or the stage has
 * parsed as much as it should before its output goes out.
 */
function jsStageHoldsWrites (stream) {
  const consumerBehind = stream[kFull] && (stream[kQueue].length > 0 || stream[kCurrent] !== null)
  return consumerBehind || stream[kJsStage].awaitsOutput()
}

/** A write held by the JS stage is retried at the next kick once the consumer reads again. */
function resumeHeldWrite (stream) {
  if (stream[kPending] !== null && stream[kHandle] === null && stream[kJsStage] !== null) scheduleKick(stream)
}

/**
 * An exception from user code, thrown from our next turn (`onWake`) instead of where it was
 * caught. In order, one per turn: a second one in the same turn (a write callback after a
 * listener) must not replace the first.
 */
function defer (stream, err) {
  if (stream[kDeferred] === null) stream[kDeferred] = [err]
  else stream[kDeferred].push(err)
  wake(stream)
}

/** Drains the queue on a later turn of the event loop (once, however often it is asked). */
function wake (stream) {
  if (stream[kWake]) return
  stream[kWake] = true
  setImmediate(onWake, stream)
}

function onWake (stream) {
  stream[kWake] = false
  // A turn of the event loop has passed: whatever the consumer took, it has had its turn with it.
  stream[kTaken] = false
  const deferred = stream[kDeferred]
  if (deferred !== null) {
    // An exception from user code that ran inside a consumer's read(): throw it from here, then
    // go on with the rest (and the next exception, if two came in one turn) on the next turn.
    const err = deferred.shift()
    if (deferred.length === 0) stream[kDeferred] = null
    if (!stream.destroyed || stream[kDeferred] !== null) wake(stream)
    throw err
  }
  if (stream.destroyed) return
  drainQueue(stream)
  // After a throw in flowing mode core's flow loop may have stopped with items buffered and
  // nothing scheduled to resume it: go on as it would (`read()` emits 'data' when flowing).
  while (stream.readableFlowing === true && stream.readableLength > 0 && !stream.destroyed && stream.read() !== null);
  // A throw in a JS-stage kick skipped its retry of a held write; no native event will retry it.
  if (!stream.destroyed) resumeHeldWrite(stream)
}

/**
 * Pushes queued entries until the readable side is full; hands back credits; ends the flush.
 * `where` says who called (FROM_CALLBACK, IN_READ, BEFORE_READ).
 */
function drainQueue (stream, where = FROM_CALLBACK) {
  // A push can run user code ('data' listeners); if that re-enters _read, the outer loop goes on.
  // While an exception waits to be thrown, nothing more comes out before it.
  if (stream[kDraining] || stream[kDeferred] !== null) return
  stream[kDraining] = true
  let thrown = null
  try {
    drainEntries(stream, where === IN_READ)
  } catch (err) {
    // User code we called threw (a 'data' or 'invalid' listener; our own failures destroy the
    // stream inside drainEntries). What it interrupted is already accounted for.
    thrown = { err }
  } finally {
    stream[kDraining] = false
  }
  if (thrown === null) return
  if (where === BEFORE_READ) {
    defer(stream, thrown.err)
    return
  }
  // The rest follows on the next turn.
  if (!stream.destroyed) wake(stream)
  throw thrown.err
}

function drainEntries (stream, inRead) {
  const queue = stream[kQueue]
  const port = stream[kPort]
  // Read for `destroyed` (and `ended`) once per pushed item: the stream's `destroyed` getter
  // reads both sides' states and was ~2.5 % of the main thread's samples on a 10 MB text-mode
  // stream, before the JIT got to it; destroy() sets both sides' flags together.
  const state = stream._readableState
  stream[kAwaitEmpty] = false
  while (!stream[kFull]) {
    let entry = stream[kCurrent]
    if (entry === null) {
      if (queue.length === 0) break
      const next = queue.shift()
      if (next instanceof NativePayload) {
        // A native payload. Its credit goes back as soon as it starts, not when it ends, so the
        // worker makes the next batch while this one is pushed (returning it at the end left the
        // JS thread idle ~10 % of the time). Payloads only start while the readable side has
        // room, so at most `credits` of them wait here, plus the one being pushed.
        try {
          next.handle.credit(1)
          entry = stream._nativeData(next.data)
        } catch (err) {
          // Our own failure (decoding the payload, the native call): this stream's error.
          stream.destroy(asError(err, 'ERR_SLUICE_INTERNAL', 'decoding native output'))
          return
        }
        if (Array.isArray(entry)) {
          // Several entries (values, a report, more values…): the rest go first in the queue.
          queue.unshift(...entry.slice(1))
          entry = entry[0]
        }
      } else {
        // An entry decoded earlier, or a control action (the worker failed): no credit.
        entry = next
      }
      stream[kCurrent] = entry
    }
    if (typeof entry === 'function') {
      // An action (report an event, fail the stream) happens after everything pushed before it
      // has been read: an 'invalid' event never overtakes earlier values, and an error never
      // makes destroy() discard values that were still buffered. `read()` resumes us. Not inside
      // `_read` either, where a listener's throw would become the stream's error.
      if (inRead || (port === null ? stream.readableLength : port.queued()) > 0) {
        stream[kAwaitEmpty] = true
        break
      }
      if (stream[kTaken]) {
        // The last value before it was read but maybe not yet handled (see kTaken): at the
        // consumer's next read(), or on the next turn of the event loop if none comes.
        stream[kAwaitEmpty] = true
        wake(stream)
        break
      }
      // Taken before it runs: an action whose listener throws has still happened, once.
      stream[kCurrent] = null
      entry.call(stream)
      if (stream.destroyed) return
      continue
    }
    const items = entry.items
    const n = items.length
    while (entry.index < n) {
      // A 'data' listener (or a sink) may destroy the stream inside push().
      if (state.destroyed) return
      // Counted as delivered before push() runs listeners that may throw: never pushed twice.
      const item = items[entry.index++]
      if (!(port === null ? stream.push(item) : port.push(item))) {
        // Someone else ended the readable side (push(null) from a 'data' listener): go on as
        // core's Transform would, so that the next value fails the stream with
        // ERR_STREAM_PUSH_AFTER_EOF, instead of waiting for a read that can no longer come.
        if (port === null && state.ended) continue
        stream[kFull] = true
        break
      }
    }
    if (state.destroyed) return
    if (entry.index < n) break
    stream[kCurrent] = entry.after ?? null
  }
  if (queue.length === 0 && stream[kCurrent] === null && stream[kDone] && stream[kFlushCallback] !== null) {
    // Core's flush callback pushes null, and push(null) hands out what is buffered at once when
    // someone is reading (flowing mode, a 'readable' listener): a listener that throws there
    // would skip the rest of that callback, so 'finish' and 'close' would never come. Then it
    // waits, like an action, until the buffer is empty (the reader is active: that is soon).
    if (!inRead && stream.readableLength > 0 && (stream.readableFlowing === true || stream.listenerCount('readable') > 0)) {
      stream[kAwaitEmpty] = true
      return
    }
    if (endAfterOwed(stream)) return
    const callback = stream[kFlushCallback]
    stream[kFlushCallback] = null
    callback()
  }
}

/**
 * Whether the end (the flush callback, core's push(null)) waits for the write callbacks still
 * owed. A write this stream completed in the same kick has its user callback on a tick of core's
 * (`completeInOrder`); core's Transform, which ends in `end()` itself, runs that callback before
 * its readable side reads the end, so a destroy() from it means no 'end'. Ended at once, ours
 * was read (a flowing stream reads it in the same call) and 'end' came after the destroy().
 * One tick, queued behind theirs, then the end goes on whatever is owed.
 */
function endAfterOwed (stream) {
  if (stream[kEndWait] === 2 || !completionsOwed(stream)) return false
  if (stream[kEndWait] === 0) {
    stream[kEndWait] = 1
    coreTick(() => {
      stream[kEndWait] = 2
      if (!stream.destroyed) drainQueue(stream)
    })
  }
  return true
}

/**
 * A data event from the worker, not decoded yet (decoding waits until the entry starts), and the
 * handle that sent it (its credit goes back there, also after the stream has moved on).
 */
class NativePayload {
  constructor (data, handle) {
    this.data = data
    this.handle = handle
  }
}

/**
 * An output entry that pushes `items` (an array) in order, then optionally runs `after` (an
 * action, with the stream as `this`) once they have been read.
 */
function pushEntry (items, after = null) {
  return { items, index: 0, after }
}

/**
 * Sends `stream`'s output to `port` instead of its Readable side (see "Web output" above): the
 * stream is then written only through `_transform`/`_flush` and read only through the port.
 */
function openPort (stream, port) {
  stream[kPort] = port
}

/**
 * Whether what `stream` (with a port) holds next waits for its consumer to read: an action (the
 * stream's failure, an event) waiting for the values before it to be read. For tests of the Web
 * faces (lib/web/face.js, waitsForReader).
 */
function portAwaitsReader (stream) {
  return stream[kAwaitEmpty] && stream[kPort].queued() > 0
}

/** The port's consumer wants more: push what is queued while the port has room. */
function pullPort (stream) {
  stream[kFull] = false
  // A pull on an empty queue follows a read that may have taken the last item: see kTaken.
  if (stream[kPort].queued() === 0) stream[kTaken] = true
  // Not IN_READ: a listener's throw is deferred to our next turn, as at the start of read().
  drainQueue(stream, BEFORE_READ)
  resumeHeldWrite(stream)
}

module.exports = { NativeTransform, pushEntry, openPort, pullPort, portAwaitsReader }
