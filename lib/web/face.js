'use strict'

// The Web Streams (WHATWG) face shared by every sluice transform: a `TransformStream` subclass
// whose `readable` and `writable` are a ReadableStream and a WritableStream of our own, joined
// by a `Link` to an *engine* that does the component's work (lib/web/engines.js: a native
// handle driven directly, or a Node stream driven through its callbacks).
//
// Why not the TransformStream's own sides: its transformer sees no pull, so output that comes
// later than `transform()` (all of ours: it is made on a worker, or released by a timer) could
// not wait for the reader. Our ReadableStream's `pull` is that signal, and our WritableStream's
// `write` promise is the backpressure: it settles when the engine has taken the chunk, so while
// the engine is full the chunk stays queued, `desiredSize` is <= 0 and `writer.ready` pending.
//
// Invariants:
// * Output goes to the readable side only while it has room (`room()`: its desiredSize > 0, or a
//   read waits on an empty queue), so it never holds more than its queuing strategy allows.
// * An engine error never discards output made before it (the transport's rule for actions,
//   lib/transport.js "Output"): the readable side errors only once everything enqueued before
//   the error has been read. A native engine's error reaches the link after that already; an
//   engine that fails while it still holds output hands it to `failAfter`, which delivers it on
//   the reader's pulls and errors the readable side when the queue has emptied.
// * Teardown happens once (`settle`): readable.cancel(r) and writable.abort(r) stop the engine and
//   error the other side with r; an engine error errors both sides with the same error. After
//   it, the engine is destroyed, every held write/close promise is settled, and nothing else
//   reaches a controller (no late callbacks, no enqueue into a closed stream).
// * An engine with `discardUnread` (BoundedBufferStream's: its component counts what the consumer
//   never read) is told, at teardown, the items queued on the readable side and never read. Those
//   are known only if the queue is the link's own (`ReadQueue`): a ReadableStream empties its
//   queue before it calls cancel, and reads take from it without a word to the source. So there
//   the ReadableStream queues nothing (highWaterMark 0: it pulls only for a waiting read, and
//   each pull hands that read one item), and the link's queue, sized by the readable strategy,
//   holds what the ReadableStream's would.

const { getDefaultHighWaterMark } = require('node:stream')
const {
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
  ReadableStream,
  TransformStream,
  WritableStream
} = require('node:stream/web')
const { STREAM_OPTIONS, setsOption, typeError, validateOptionsObject } = require('../options.js')
const { markAsUntransferable } = require('node:worker_threads')

// Promise jobs cannot be faked by a test framework's clock (lib/transport.js, "Scheduling").
const resolved = Promise.resolve()

const OPEN = 0
const CLOSED = 1 // the readable side closed after a clean end
const DONE = 2 // torn down (cancel, abort, error)
const FAILING = 3 // the engine failed (failAfter): its last output is being read, then the error

// Link#writableError: the writable side has not errored by its strategy.
const NONE = Symbol('none')

// Link#write: the engine's callback has not run yet (RUNNING) or runs later (HELD).
const RUNNING = Symbol('running')
const HELD = Symbol('held')

/** Node stream events that belong to the engine, not to the component: not forwarded. */
const STREAM_EVENTS = new Set([
  'data', 'end', 'error', 'close', 'finish', 'prefinish', 'drain', 'readable', 'pause', 'resume', 'pipe', 'unpipe'
])

/**
 * The readable side's queue when the link keeps it (see the invariants above): items and their
 * sizes by the readable strategy, as the ReadableStream would hold them.
 */
class ReadQueue {
  constructor (strategy) {
    // Each member read once, in the standard's order (a getter may answer differently twice);
    // then the standard's checks, and their errors, as when the strategy was the ReadableStream's.
    // The mark is converted once (unary plus: a BigInt is a TypeError, as in the standard), and
    // the standard's range check then sees the number, not the object again.
    let highWaterMark = strategy?.highWaterMark
    if (highWaterMark !== undefined) highWaterMark = +highWaterMark
    const size = strategy?.size
    void new ReadableStream(undefined, { highWaterMark, size })
    this.highWaterMark = highWaterMark === undefined ? 1 : highWaterMark
    this.sizeOf = size === undefined ? () => 1 : (item) => size.call(undefined, item)
    this.items = []
    this.sizes = []
    this.total = 0
  }

  /**
   * Queues `item`; throws what the strategy's size() threw, or a RangeError for a size that is no
   * size (the face then fails), the item still queued: it is thrown away unread with the others.
   */
  push (item) {
    let size = 0
    try {
      // Unary plus, not Number(): a BigInt size is a TypeError, as in a ReadableStream.
      size = +this.sizeOf(item)
      if (!(size >= 0) || size === Infinity) {
        const err = new RangeError(`The argument 'size' is invalid. Received ${size}`)
        err.code = 'ERR_INVALID_ARG_VALUE'
        size = 0
        throw err
      }
    } finally {
      this.items.push(item)
      this.sizes.push(size)
      this.total += size
    }
  }

  shift () {
    this.total -= this.sizes.shift()
    // Rounding left by fractional sizes must not leave an empty queue "full".
    if (this.items.length === 1) this.total = 0
    return this.items.shift()
  }

  /** Empties the queue; returns its items, oldest first. */
  clear () {
    const items = this.items
    this.items = []
    this.sizes = []
    this.total = 0
    return items
  }
}

class Link {
  constructor (engine, readQueue) {
    this.engine = engine
    // The readable side's queue when the link keeps it, or null: the ReadableStream's.
    this.readQueue = readQueue
    this.state = OPEN
    this.readableController = null
    this.writableController = null
    // The ReadableStream (for `locked`).
    this.readable = null
    // The readable side's desiredSize with an empty queue: its highWaterMark.
    this.room0 = 0
    // A pull that has not been answered with an item yet (a read may wait on an empty queue).
    this.wanted = false
    this.heldWrite = null
    this.heldClose = null
    // Torn down by the writable side's abort signal, the readable side to error with the reason
    // the sink's abort() gets (abortSignalled).
    this.readableErrorOwed = false
    // Why it was torn down (cancel or abort reason, or the error).
    this.reason = undefined
    // What the writable strategy's size() threw (or the RangeError for a size that is no size):
    // the WritableStream errored itself with it and told no one (whatwg/streams#628); NONE if not.
    this.writableError = NONE
    // FAILING: the engine's output made before its error, still to be enqueued.
    this.tail = null
  }

  /** Whether the readable side takes another item now. */
  room () {
    return this.state === OPEN && (this.wanted || this.desiredSize() > 0)
  }

  /** The readable side's desiredSize: its strategy's highWaterMark minus what is queued. */
  desiredSize () {
    const queue = this.readQueue
    return queue === null ? this.readableController.desiredSize : queue.highWaterMark - queue.total
  }

  /** Items enqueued and not read yet (in the strategy's units). */
  queued () {
    return this.readQueue === null ? this.room0 - this.readableController.desiredSize : this.readQueue.total
  }

  /** Enqueues one item; returns whether there is room for more. */
  enqueue (item) {
    if (this.state !== OPEN) return false
    const wanted = this.wanted
    this.wanted = false
    try {
      // A read waits only on an empty queue: the item is that read's, if that read is still there.
      // A reader released while its read waited (releaseLock, a pipeTo aborted with
      // preventCancel) leaves `wanted` behind with no read, and an item given to the ReadableStream
      // then would sit in its queue, where a cancel loses it unseen: queued here instead, for the
      // next reader's pull.
      if (this.readQueue === null || (wanted && this.readable.locked)) this.readableController.enqueue(item)
      else this.readQueue.push(item)
    } catch (err) {
      // The readable strategy's size() threw: the stream has errored with it (the Streams
      // standard); so does the whole face, rather than the throw reaching whoever pushed.
      this.fail(err)
      return false
    }
    // `wanted` again: the ReadableStream pulled inside that enqueue (Node 24 does, as it hands
    // the item to a waiting read; Node 20 a microtask later). Answering "no room" would leave the
    // engine waiting for a pull that has already come (NdjsonParseStream's error after its last
    // value never reached the next read: Web fuzz, Node 24, seed 148).
    return this.wanted || this.desiredSize() > 0
  }

  /** The engine has enqueued its last item. */
  closeReadable () {
    if (this.state !== OPEN) return
    this.state = CLOSED
    // With the link's queue, the ReadableStream closes once its reads have emptied it (pull()).
    if (this.readQueue === null || this.readQueue.items.length === 0) this.readableController.close()
  }

  pull () {
    if (this.state === FAILING) {
      this.wanted = true
      this.drainTail()
      return
    }
    const queue = this.readQueue
    if (queue !== null && queue.items.length > 0) {
      // A read waits (the ReadableStream pulls for nothing else): it takes the oldest item.
      this.readableController.enqueue(queue.shift())
      if (this.state === CLOSED && queue.items.length === 0) this.readableController.close()
      // As the ReadableStream would pull after a read: room again, for the engine.
      if (this.room()) this.guard(() => this.engine.pull())
      return
    }
    if (this.state !== OPEN) return
    this.wanted = true
    this.guard(() => this.engine.pull())
  }

  write (chunk) {
    // A chunk the engine takes at once (a value into the stringifier's batch: every write) is
    // answered without a promise of our own; one it holds gets a promise settled by its callback.
    let syncResult = RUNNING
    const callback = (err) => {
      if (syncResult === RUNNING) {
        syncResult = err ?? null
        return
      }
      const held = this.heldWrite
      if (held === null) return // torn down meanwhile: already settled
      this.heldWrite = null
      if (err == null) {
        held.resolve()
      } else {
        this.fail(err)
        held.reject(err)
      }
    }
    try {
      this.engine.write(chunk, callback)
    } catch (err) {
      // Anything thrown while the chunk is taken (a view of a detached ArrayBuffer, a bug): the
      // face fails with it, as a TransformStream whose transform() throws, rather than leaving
      // the readable side waiting. A callback still to come finds nothing held.
      syncResult = HELD
      this.fail(err)
      return Promise.reject(err)
    }
    if (syncResult === null) return undefined
    if (syncResult !== RUNNING) {
      this.fail(syncResult)
      return Promise.reject(syncResult)
    }
    syncResult = HELD
    if (this.state === DONE) return Promise.reject(this.reason)
    return new Promise((resolve, reject) => {
      this.heldWrite = { resolve, reject }
    })
  }

  close () {
    return new Promise((resolve, reject) => {
      this.heldClose = { resolve, reject }
      this.guard(() => this.engine.end((err) => {
        const held = this.heldClose
        if (held === null) return
        this.heldClose = null
        if (err == null) {
          held.resolve()
        } else {
          this.fail(err)
          held.reject(err)
        }
      }))
    })
  }

  /** Runs `fn` (a call into the engine); a throw fails the face with what was thrown. */
  guard (fn) {
    try {
      fn()
    } catch (err) {
      this.fail(err)
    }
  }

  /**
   * readable.cancel(reason): the writable side errors with the reason. If the writable side has
   * errored already (its strategy's size() failed), the cancel rejects with that error, as a
   * TransformStream's does (the standard's TransformStreamDefaultSourceCancelAlgorithm: "If
   * writable.[[state]] is "errored", reject … with writable.[[storedError]]").
   */
  cancel (reason) {
    // A write still in flight leaves a WritableStream "erroring", not "errored", and then the
    // standard resolves (it errors the writable side with the reason, a no-op by then).
    const erroring = this.heldWrite !== null
    if (this.state === FAILING) {
      this.state = DONE
      this.tail = null
    } else {
      this.settle(reason, false, true)
    }
    if (this.writableError !== NONE && !erroring) return Promise.reject(this.writableError)
    return undefined
  }

  /** The writable strategy's size() failed: the WritableStream has errored with `err`. */
  sizeFailed (err) {
    // Only the first: after it the WritableStream is erroring or errored and keeps its own.
    if (this.writableError === NONE && this.state === OPEN) this.writableError = err
  }

  /** writable.abort(reason): the readable side errors with the reason. */
  abort (reason) {
    if (this.readableErrorOwed) {
      this.readableErrorOwed = false
      this.readableController.error(reason)
      return
    }
    this.settle(reason, true, false)
  }

  /**
   * The writable side's abort signal: everything stops at once (the engine, held writes and
   * close), as `abort()` would, but the readable side errors only when the sink's `abort()` comes
   * with the reason as given, `undefined` included (the signal's reason is the standard's
   * AbortError then), as an identity transform's does. That call comes at once, or once the write
   * in flight has settled (it is rejected here if the engine held it); after a close in flight,
   * which the standard lets finish, it never comes: the readable side errors here.
   */
  abortSignalled (reason) {
    // After the writable strategy's size() failed, the WritableStream is "erroring" already (the
    // signal comes only with a write in flight then): the standard calls no sink abort() (the
    // abort() rejects with the stored error) and a TransformStream's transform in flight
    // finishes, its output is read, and its readable side stays open (whatwg/streams#628). So
    // does the face: stopping here lost the output of a write that had resolved, and its reads
    // waited forever (Web fuzz, seed 12413 of NdjsonParseStream).
    if (this.writableError !== NONE) return
    const closing = this.heldClose !== null
    const owed = this.settle(reason, closing, false)
    if (!closing) this.readableErrorOwed = owed
  }

  /** The engine failed: both sides error with `err`. */
  fail (err) {
    this.settle(err, true, true)
  }

  /**
   * The engine failed with `err` after making `items` (its output before the failure, not
   * enqueued yet): the writable side errors now, the readable side after they and everything
   * queued before them have been read.
   */
  failAfter (err, items) {
    if (this.state !== OPEN) return
    // The link's queue is read first, and then the tail, one item per waiting read (drainTail).
    const queued = this.readQueue === null ? [] : this.readQueue.clear()
    this.settle(err, false, true)
    this.state = FAILING
    this.tail = queued.length === 0 ? items : [...queued, ...items]
    this.drainTail()
  }

  /** FAILING: enqueues the tail as room allows; once it is out and read, the readable side errors. */
  drainTail () {
    const controller = this.readableController
    const tail = this.tail
    // With the link's queue the ReadableStream's highWaterMark is 0: an item only for a waiting read.
    while (tail.length > 0 && (this.wanted || controller.desiredSize > 0)) {
      this.wanted = false
      try {
        controller.enqueue(tail.shift())
      } catch {
        // The readable strategy's size() threw: the readable side has errored with it.
        this.state = DONE
        this.tail = null
        return
      }
    }
    if (tail.length > 0 || this.queued() > 0) return
    this.state = DONE
    this.tail = null
    controller.error(this.reason)
  }

  /**
   * Tears down once (see the invariants); `readable`/`writable`: error that side with `reason`.
   * Returns whether the readable side had anything to error (open, or items still queued).
   */
  settle (reason, readable, writable) {
    if (this.state === DONE || this.state === FAILING) return false
    const wasOpen = this.state === OPEN
    this.state = DONE
    this.reason = reason
    // Taken before the engine is destroyed: a component may call its pending write's callback
    // as it is destroyed (Throttle does, without an error), and a write whose chunk was thrown
    // away must reject, not resolve.
    const { heldWrite, heldClose } = this
    this.heldWrite = null
    this.heldClose = null
    // Closed with items still queued (the engine done, the reader behind), the ReadableStream is open.
    const unread = this.readQueue === null ? [] : this.readQueue.clear()
    if (unread.length > 0) this.engine.discardUnread(unread)
    this.engine.destroy()
    const readableOpen = wasOpen || unread.length > 0
    if (readable && readableOpen) this.readableController.error(reason)
    // A no-op unless the writable side is still writable (the spec's error() checks).
    if (writable) this.writableController.error(reason)
    heldWrite?.reject(reason)
    heldClose?.reject(reason)
    return readableOpen
  }
}

/**
 * The writable strategy as the WritableStream gets it, its size() watched: what size() throws,
 * or a size that is no size, errors the WritableStream and reaches no sink (whatwg/streams#628),
 * and the link must know it to answer a later cancel as a TransformStream does. The members are
 * read once, in the standard's order, and the mark converted once (unary plus: a BigInt is a
 * TypeError), as ReadQueue does; a size that is no function is left for the WritableStream to refuse.
 */
function watchedStrategy (strategy, link) {
  // Its size() is 1, whatever the chunk (the default's too): nothing to watch on every write
  // (not a subclass, which may have a size() of its own).
  if (strategy !== null && typeof strategy === 'object' && Object.getPrototypeOf(strategy) === CountQueuingStrategy.prototype) return strategy
  let highWaterMark = strategy?.highWaterMark
  if (highWaterMark !== undefined) highWaterMark = +highWaterMark
  const size = strategy?.size
  if (typeof size !== 'function') return { highWaterMark, size }
  return {
    highWaterMark,
    size (chunk) {
      let n
      try {
        n = size.call(undefined, chunk)
      } catch (err) {
        link.sizeFailed(err)
        throw err
      }
      if (typeof n === 'number' && n >= 0 && n !== Infinity) return n
      // Not a size. The WritableStream converts and checks it only as it queues the chunk (a
      // write it refuses, after close(), leaves the stream as it was), with unary plus: the
      // conversion is this object's, so the error the stream stores is the one the link records.
      return {
        valueOf () {
          try {
            const v = +n
            if (!(v >= 0) || v === Infinity) {
              const err = new RangeError(`The argument 'size' is invalid. Received ${v}`)
              err.code = 'ERR_INVALID_ARG_VALUE'
              throw err
            }
            return v
          } catch (err) {
            link.sizeFailed(err)
            throw err
          }
        }
      }
    }
  }
}

// Each face's link, for waitsForReader.
const links = new WeakMap()

/**
 * Whether what `face` (a WebTransform) still holds (a write, a close, its failure) waits for a
 * read, not for its engine: its readable side has no room (its queue at the strategy's
 * highWaterMark and no read waiting: README, "Backpressure"), or the engine's
 * next step waits for the values queued before it to be read (NdjsonParseStream's failure:
 * README, "Cancellation and errors"). Only a read can change that. For tests: the Web contract
 * fuzz waits for a face's promise until it settles or this holds, rather than for a while.
 */
function waitsForReader (face) {
  const link = links.get(face)
  // Closed (its engine done, items still queued), torn down or failing: nothing of the writable
  // side's is held any more, and a read gets what is queued.
  if (link === undefined || link.state !== OPEN) return false
  return !link.room() || link.engine.awaitsReader?.() === true
}

/**
 * How much output `face` (a WebTransform) still holds for its reader: what its readable queue
 * holds (in its strategy's units) and what its engine holds and has not enqueued yet (a Node
 * stage's buffers: items in object mode, bytes otherwise; 0 for a native engine, which does not
 * say). For tests: the Web contract fuzz bounds the output a teardown may throw away by it.
 */
function heldOutput (face) {
  const link = links.get(face)
  if (link === undefined || link.state === DONE) return 0
  // (Once closed, a ReadableStream's own queue no longer says: its desiredSize is 0 when it has
  // closed, as when it is full. Only the link's own queue then: less, never more.)
  const queued = link.state === OPEN ? link.queued() : link.readQueue === null ? 0 : link.readQueue.total
  return queued + (link.engine.heldOutput?.() ?? 0)
}

/**
 * Whether `face` (a WebTransform) had its writable side errored by its strategy's size() (the
 * Streams standard tells no sink: whatwg/streams#628) while it was open, before any teardown: its
 * readable side then stays open for good. For tests: the Web contract fuzz does not wait for a
 * read there once the face holds nothing more (heldOutput).
 */
function erroredByStrategy (face) {
  const link = links.get(face)
  return link !== undefined && link.writableError !== NONE
}

// The symbols by which Node's TransformStream keys its transfer steps and its state (see the
// transfer steps after the class). A Node without one of them (a future one) cannot be asked to
// transfer the face's sides: its faces are marked untransferable, so that a transfer fails
// (DataCloneError) rather than sending the unused identity.
const transferSymbols = new Map(Object.getOwnPropertySymbols(TransformStream.prototype).map((s) => [s.description, s]))
const kTransfer = transferSymbols.get('messaging_transfer_symbol')
const kTransferList = transferSymbols.get('messaging_transfer_list_symbol')
const kState = Object.getOwnPropertySymbols(new TransformStream()).find((s) => s.description === 'kState')
const transferable = kTransfer !== undefined && kTransferList !== undefined && kState !== undefined

/**
 * A TransformStream whose sides are driven by `engine`. `instanceof TransformStream` holds and
 * `pipeThrough` takes it (it reads `readable` and `writable`, which are ours). The identity
 * transform made by `super()` is never used.
 */
class WebTransform extends TransformStream {
  #readable
  #writable

  /**
   * @param {object} engine see lib/web/engines.js
   * @param {QueuingStrategy} writableStrategy
   * @param {QueuingStrategy} readableStrategy
   */
  constructor (engine, writableStrategy, readableStrategy) {
    super()
    if (!transferable) markAsUntransferable(this)
    const readQueue = typeof engine.discardUnread === 'function' ? new ReadQueue(readableStrategy) : null
    const link = new Link(engine, readQueue)
    this.#writable = new WritableStream({
      start (controller) {
        link.writableController = controller
        // abort() reaches the sink only after the write in flight settles, and ours is held until
        // the engine has room (which a stopped reader never makes): the controller's signal
        // tells us at once, and settling then lets the abort through (abortSignalled).
        const signal = controller.signal
        signal.addEventListener('abort', () => link.abortSignalled(signal.reason), { once: true })
      },
      write: (chunk) => link.write(chunk),
      close: () => link.close(),
      abort: (reason) => link.abort(reason)
    }, watchedStrategy(writableStrategy, link))
    this.#readable = new ReadableStream({
      start (controller) {
        link.readableController = controller
        link.room0 = controller.desiredSize
      },
      pull: () => link.pull(),
      cancel: (reason) => link.cancel(reason)
    }, readQueue === null ? readableStrategy : new CountQueuingStrategy({ highWaterMark: 0 }))
    link.readable = this.#readable
    links.set(this, link)
    engine.attach(link)
    // The pull a ReadableStream makes once started while its queue has room: the link's queue
    // fills as the ReadableStream's would, before anyone reads.
    if (readQueue !== null && readQueue.highWaterMark > 0) {
      resolved.then(() => {
        if (link.room()) link.guard(() => engine.pull())
      })
    }
  }

  get readable () {
    return this.#readable
  }

  get writable () {
    return this.#writable
  }
}

// Transfer (`postMessage(face, [face])`, `structuredClone(face, { transfer: [face] })`): Node's
// TransformStream transfers the two sides it holds in its own state, here the unused identity
// made by `super()`: the copy would pass chunks through untouched while the face's own sides
// stayed unlocked here. Node's transfer steps are asked to transfer ours instead (the copy then
// writes to and reads from this face across the port, as a transferred TransformStream does),
// through the symbols Node keys them by (found by name, before the class: see `transferable`).
if (transferable) {
  const base = TransformStream.prototype
  // Node's steps, run with the face's sides in its state for the time of the call.
  const withOurSides = (face, step) => {
    const state = face[kState]
    const { readable, writable } = state
    state.readable = face.readable
    state.writable = face.writable
    try {
      return base[step].call(face)
    } finally {
      state.readable = readable
      state.writable = writable
    }
  }
  for (const step of [kTransfer, kTransferList]) {
    Object.defineProperty(WebTransform.prototype, step, {
      configurable: true,
      writable: true,
      value: function () { return withOurSides(this, step) }
    })
  }
}

/**
 * The options of a Web face (a copy, as validateOptionsObject makes): the component's own
 * (`known`) minus `refused`, which are refused when set, with the message `why(key, className)`.
 * By default those are the Node stream options, which have no meaning here (queuing strategies
 * take their place). Errors name the Web class.
 */
function webOptions (options, className, known, refused = STREAM_OPTIONS, why = nodeStreamOption) {
  for (const key of refused) {
    if (setsOption(options, key)) {
      const err = new TypeError(why(key, className))
      err.code = 'ERR_INVALID_ARG_VALUE'
      throw err
    }
  }
  return validateOptionsObject(options, className, known.filter((key) => !refused.includes(key)), refused)
}

function nodeStreamOption (key, className) {
  return `The "options.${key}" option is a Node stream option, not one of ${className}: ` +
    'give queuing strategies instead (the second and third arguments), and an AbortSignal to pipeTo/pipeThrough'
}

/**
 * Checks a queuing strategy argument; `undefined` or `null` gives `fallback()` (a WebIDL
 * dictionary reads null as empty, as `new TransformStream(t, null, null)` does).
 */
function strategy (value, name, fallback) {
  if (value === undefined || value === null) return fallback()
  if (typeof value !== 'object') throw typeError(name, 'a queuing strategy object', value)
  return value
}

/** The platform's default strategies, as Node's own streams size their buffers. */
function itemStrategy () {
  return new CountQueuingStrategy({ highWaterMark: getDefaultHighWaterMark(true) })
}

function byteStrategy () {
  return new ByteLengthQueuingStrategy({ highWaterMark: getDefaultHighWaterMark(false) })
}

/** The default writable side: one chunk in hand while the engine is full (TransformStream's default). */
function oneChunk () {
  return new CountQueuingStrategy({ highWaterMark: 1 })
}

/** on/once/off for the component's events ('invalid', 'stall', 'drop'…), not the engine's stream events. */
function forwardEvents (Class, emitterOf) {
  for (const method of ['on', 'once', 'off']) {
    Object.defineProperty(Class.prototype, method, {
      configurable: true,
      writable: true,
      value: function (event, listener) {
        if (STREAM_EVENTS.has(event)) {
          const err = new TypeError(`'${event}' is an event of Node streams, not of ${Class.name}: use the Web stream's promises`)
          err.code = 'ERR_INVALID_ARG_VALUE'
          throw err
        }
        emitterOf(this)[method](event, listener)
        return this
      }
    })
  }
}

module.exports = { WebTransform, waitsForReader, heldOutput, erroredByStrategy, webOptions, strategy, itemStrategy, byteStrategy, oneChunk, forwardEvents }
