'use strict'

// Engines of the Web faces (lib/web/face.js): what does a component's work behind a
// WebTransform. Each has attach(link), write(chunk, callback), end(callback), pull() and
// destroy(); it calls `link.enqueue(item)` while `link.room()` (enqueue says whether room is
// left), `link.closeReadable()` after its last item, and `link.fail(err)` when it fails.
//
// * NativeEngine drives a NativeTransform's native handle directly, through the transport's port
//   (lib/transport.js, "Web output"): chunks go to the handle as they come, items leave the
//   worker's batches straight for the Web queue. Node's Readable and Writable of that object are
//   never used. (Node's own adapter, Duplex.toWeb, added a Node buffer and a 'data' event per
//   item, ran at 0.6–0.8x a pure-JS transform, and enqueued from a late 'data' after cancel.)
// * NodeEngine drives a Node Transform (Throttle, Meter, BoundedBuffer: their work is in their
//   _transform/_read) through its public calls: one write at a time, settled by its callback
//   (so the component's own backpressure holds the Web writer), items taken with read() while
//   the Web side has room. Its events after destroy() are ignored. In byte mode chunks are
//   converted as NativeEngine's are (toBytes), so every byte face takes the same chunk types.
// * EncoderEngine drives an NdjsonEncoder (lib/stringifier.js) for NdjsonStringifyStream: values
//   become lines in the encoder's current batch as they are written, and batches leave as
//   Buffers, not one per value. A complete batch (`batchBytes`) leaves while the Web side has
//   room; an incomplete one once the writes stop for a turn (a setImmediate: writes that arrive
//   back to back, each a promise job after the last, share a batch; a trickle still leaves within
//   a turn). A write completes at once while the Web side has room, else it is held until a
//   pull makes some or its line has been enqueued (a TransformStream's write completes once its
//   transform has enqueued): so the readable queue holds at most its highWaterMark + one batch.

const { Buffer } = require('node:buffer')
const { EventEmitter } = require('node:events')
const { types: { isArrayBuffer, isSharedArrayBuffer } } = require('node:util')
// The real one, even inside jest's sandbox with fake timers (as lib/transport.js).
const { setImmediate, clearImmediate } = require('node:timers')
const { addValue } = require('../stringifier.js')
const { openPort, pullPort, portAwaitsReader } = require('../transport.js')
const { typeError } = require('../options.js')
const { SluiceError } = require('../errors.js')
const { throwLater } = require('../inflight.js')

class NativeEngine {
  /**
   * @param {import('../transport.js').NativeTransform} stream the component, freshly made
   * @param {(item: any) => any} [mapItem] applied to each item on its way out
   */
  constructor (stream, mapItem) {
    this.stream = stream
    this.mapItem = mapItem
    this.link = null
    this.encoder = new ChunkEncoder()
  }

  attach (link) {
    this.link = link
    const stream = this.stream
    const mapItem = this.mapItem
    openPort(stream, {
      push: mapItem === undefined ? (item) => link.enqueue(item) : (item) => link.enqueue(mapItem(item)),
      queued: () => link.queued()
    })
    // The component fails by destroying itself (an invalid line, a worker failure).
    stream.on('error', (err) => link.fail(err))
  }

  write (chunk, callback) {
    if (this.stream.destroyed) {
      failedAlready(this.stream, callback)
      return
    }
    const bytes = this.encoder.bytes(chunk)
    if (bytes === null) {
      callback(notBytes(chunk))
      return
    }
    if (bytes.length === 0) {
      callback()
      return
    }
    this.stream._transform(bytes, 'buffer', callback)
  }

  end (callback) {
    if (this.stream.destroyed) {
      failedAlready(this.stream, callback)
      return
    }
    const flush = () => this.stream._flush((err) => {
      if (err == null) this.link.closeReadable()
      callback(err)
    })
    const rest = this.encoder.end()
    if (rest === null) {
      flush()
      return
    }
    this.stream._transform(rest, 'buffer', (err) => {
      if (err != null) callback(err)
      else if (this.stream.destroyed) failedAlready(this.stream, callback)
      else flush()
    })
  }

  pull () {
    pullPort(this.stream)
  }

  /** Whether the component's next step (its failure, an event) waits for the values before it to be read. */
  awaitsReader () {
    return portAwaitsReader(this.stream)
  }

  destroy () {
    // No error: the stream's 'error' event would come back to link.fail.
    this.stream.destroy()
  }
}

/**
 * The component destroyed itself with its error (an invalid line) and its 'error' event is still
 * to come (core emits it on the next tick): the write or end fails with that same error now.
 */
function failedAlready (stream, callback) {
  callback(stream.errored ?? new SluiceError('ERR_SLUICE_INTERNAL', 'sluice: the component was destroyed without an error (this should not happen)'))
}

/**
 * The bytes of a chunk written to a byte face (every face but the object-mode ones), as one
 * Buffer: a view's or an ArrayBuffer's bytes without a copy; a SharedArrayBuffer's (or a view of
 * one) copied, since another thread may change them while the component holds them; a string's
 * UTF-8 encoding (as TextEncoderStream). null for anything else. Throws for a view of a detached
 * ArrayBuffer (the link fails the face with that error).
 */
function toBytes (chunk) {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  // util.types, not instanceof: a buffer made in another realm (a vm context; jest runs tests in
  // one) is bytes all the same, as TextDecoderStream takes it.
  if (ArrayBuffer.isView(chunk)) {
    if (isSharedArrayBuffer(chunk.buffer)) return Buffer.from(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    if (Buffer.isBuffer(chunk)) return chunk
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  }
  if (isArrayBuffer(chunk)) return Buffer.from(chunk)
  if (isSharedArrayBuffer(chunk)) return Buffer.from(new Uint8Array(chunk))
  return null
}

function notBytes (chunk) {
  return typeError('chunk', 'a Uint8Array (or another ArrayBufferView), an ArrayBuffer, a SharedArrayBuffer or a string', chunk)
}

/** U+FFFD's UTF-8 bytes: what a lone surrogate encodes to. */
const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd])

/**
 * One byte face's chunks as bytes (toBytes), strings as TextEncoderStream encodes them: a string
 * chunk that ends with the first half of a surrogate pair keeps it for the next chunk, so a
 * character split between two chunks is encoded whole (Buffer.from alone made U+FFFD of each
 * half). A half with nothing to pair with encodes to U+FFFD, as its own would.
 */
class ChunkEncoder {
  constructor () {
    this.high = ''
  }

  /** The bytes of `chunk`, after a half held from the chunk before; null if it is no byte chunk. */
  bytes (chunk) {
    if (typeof chunk === 'string') {
      let text = this.high + chunk
      this.high = ''
      const last = text.charCodeAt(text.length - 1)
      if (last >= 0xd800 && last <= 0xdbff) {
        this.high = text[text.length - 1]
        text = text.slice(0, -1)
      }
      return Buffer.from(text, 'utf8')
    }
    const bytes = toBytes(chunk)
    if (bytes === null || this.high === '') return bytes
    this.high = ''
    return Buffer.concat([REPLACEMENT, bytes])
  }

  /** At the end of input: the bytes of a half still held (U+FFFD), or null. */
  end () {
    if (this.high === '') return null
    this.high = ''
    return REPLACEMENT
  }
}

class NodeEngine {
  /**
   * @param {import('node:stream').Transform} stream the component, freshly made
   * @param {(items: any[]) => Error | null} [discardUnread] tells the component the items it
   *   emitted that the Web side threw away unread (with it, the link keeps the readable queue:
   *   face.js); returns what a listener of the component threw, or null
   * @param {(want: boolean) => void} [wantItems] tells a component that must let an item go only
   *   for a waiting read (BoundedBuffer) whether the Web side wants one
   */
  constructor (stream, discardUnread, wantItems) {
    this.stream = stream
    this.wantItems = wantItems
    if (discardUnread !== undefined) {
      // Called as the face is torn down (cancel, abort, error), which a listener's throw can no
      // longer fail: it is an uncaught exception, never swallowed.
      this.discardUnread = (items) => {
        const thrown = discardUnread(items)
        if (thrown != null) throwLater(thrown)
      }
    }
    this.link = null
    this.done = false
    // Whether the Web side has pulled yet (see pull()).
    this.reading = false
    this.encoder = new ChunkEncoder()
  }

  attach (link) {
    this.link = link
    const stream = this.stream
    // Prepended: the face's own bookkeeping runs before the component's listeners (Meter emits
    // its 'summary' from its 'end'), so a user listener that throws (an uncaught exception, as
    // on the Node class) cannot keep the readable side from closing or erroring.
    stream.prependListener('error', (err) => {
      if (!this.done) link.fail(err)
    })
    stream.prependListener('end', () => {
      if (!this.done) link.closeReadable()
    })
  }

  write (chunk, callback) {
    let taken = chunk
    if (!this.stream.writableObjectMode) {
      taken = this.encoder.bytes(chunk)
      if (taken === null) {
        callback(notBytes(chunk))
        return
      }
    }
    try {
      this.stream.write(taken, callback)
    } catch (err) {
      // An invalid chunk (core throws ERR_INVALID_ARG_TYPE, or ERR_STREAM_NULL_VALUES for null).
      callback(err)
    }
  }

  end (callback) {
    // A half surrogate still held (only a byte face's string chunks leave one).
    const rest = this.encoder.end()
    if (rest !== null) this.stream.write(rest)
    this.stream.end((err) => {
      // Finished: the component has pushed its end. Core emits 'end' only from a read, which the
      // 'readable' listener makes once the Web side has pulled (pull()) and only while it has
      // room; a readable side nobody has pulled yet (a highWaterMark 0 strategy, a pipeTo whose
      // destination never asks), or whose queue is full with the component's last output, must
      // still close when nothing is left to read, as a TransformStream's is closed (close
      // requested: it closes as its last chunk is read) once its close() has resolved. Before, a
      // full queue closed only a pull later, after its last chunk was read (a releaseLock() in
      // that read's tick rejected `closed`: Web fuzz seed 34998 of ThrottleStream and
      // MeterStream). read(0) of an ended, empty stream only emits 'end' (no _read).
      if (err == null && !this.done && this.stream.readableLength === 0) this.stream.read(0)
      callback(err)
    })
  }

  pull () {
    if (!this.reading) {
      // Listening for 'readable' makes core call read(0) (a _read) on the next tick: only once
      // the Web side wants items, or a hwm-0 component (BoundedBufferStream) would let its
      // first item out of its ring with no reader asking.
      this.reading = true
      this.stream.on('readable', () => {
        if (!this.done) this.pump()
      })
    }
    this.wantItems?.(true)
    this.pump()
  }

  pump () {
    const { stream, link } = this
    while (link.room()) {
      const chunk = stream.read()
      if (chunk === null) break
      link.enqueue(chunk)
    }
    if (!link.room()) this.wantItems?.(false)
  }

  /** What the component holds, taken and not pushed on yet, or pushed and not read (face.js heldOutput). */
  heldOutput () {
    return this.stream.writableLength + this.stream.readableLength
  }

  destroy () {
    this.done = true
    const stream = this.stream
    const errored = stream.errored
    stream.destroy()
    // A destroy without an error that left one: a listener threw as the component let go of what
    // it held (BoundedBuffer's 'drop' of its ring). The face has settled, so its 'error' reaches
    // nobody (see attach): an uncaught exception instead.
    if (stream.errored != null && stream.errored !== errored) throwLater(stream.errored)
  }
}

/** Also the emitter of the face's 'skip' events. */
class EncoderEngine extends EventEmitter {
  /** @param {import('../stringifier.js').NdjsonEncoder} encoder */
  constructor (encoder) {
    super()
    this.encoder = encoder
    this.link = null
    this.done = false
    // A write's callback, held while the Web side has no room.
    this.heldWrite = null
    // end()'s callback, held until every line has been enqueued.
    this.heldEnd = null
    this.idle = null
    // The idle flush found no room: the next pull enqueues the incomplete batch too.
    this.owed = false
  }

  attach (link) {
    this.link = link
  }

  write (value, callback) {
    const skipped = this.encoder.skipped
    const err = addValue(this.encoder, this, value)
    if (err !== null) {
      // 'error' policy (or a throwing 'skip' listener): the writable side errors with it now;
      // the lines of the values before it are read first (as NdjsonStringifier delivers them),
      // then the readable side errors with it.
      if (!this.done) this.link.failAfter(err, this.takeAll())
      callback(err)
      return
    }
    // A 'skip' listener tore the face down (cancel, abort): the link rejects this write with
    // the reason; nothing is held, pumped or scheduled on a destroyed engine.
    if (this.done) return
    this.pump(false)
    if (this.encoder.ready(true)) this.scheduleIdle()
    // (Or its line has been enqueued: it completed a batch that left, into a read waiting. Not a
    // skipped value's, which has none: held while there is no room, as a TransformStream holds
    // every write then.)
    if (this.link.room() || (this.encoder.skipped === skipped && !this.encoder.ready(true))) callback()
    else this.heldWrite = callback
  }

  end (callback) {
    this.cancelIdle()
    this.heldEnd = callback
    this.finish()
  }

  pull () {
    if (this.heldEnd !== null) {
      this.finish()
      return
    }
    this.pump(this.owed)
    // Room left, or every line out: also when the read this pull answered took the held write's
    // line, that write is done, as a TransformStream's is once its transform has enqueued into
    // the read that came (it waited for the next read: a writer that awaits each write after
    // reading its line hung; Web fuzz seed 40019 of NdjsonStringifyStream).
    if (this.link.room() || !this.encoder.ready(true)) {
      this.owed = false
      this.releaseWrite()
    }
  }

  /** Completes the held write, if any. */
  releaseWrite () {
    const held = this.heldWrite
    if (held !== null) {
      this.heldWrite = null
      held()
    }
  }

  /** Enqueues batches while the Web side has room: complete ones, or with `all` every line. */
  pump (all) {
    const { encoder, link } = this
    while (encoder.ready(all) && link.room()) link.enqueue(encoder.take(all))
  }

  /** Every line not enqueued yet, as batches (the encoder is left empty). */
  takeAll () {
    const batches = []
    while (this.encoder.ready(true)) batches.push(this.encoder.take(true))
    return batches
  }

  /** After end(): every line out (as room allows), then the readable side closes. */
  finish () {
    this.pump(true)
    // (A pull inside that pump may have finished already: the ReadableStream pulls as an enqueue
    // leaves room, and pull() calls finish() while end()'s callback is held. Calling it twice
    // threw "callback is not a function" into close(), which errored the writable side while
    // its close was in flight: a writer taken then saw desiredSize null and a rejected ready,
    // though the close resolved (Web fuzz, seed 25108 of NdjsonStringifyStream).)
    if (this.heldEnd === null || this.encoder.ready(true) || this.done) return
    const callback = this.heldEnd
    this.heldEnd = null
    this.link.closeReadable()
    callback()
  }

  scheduleIdle () {
    if (this.idle === null) this.idle = setImmediate(() => this.onIdle())
  }

  cancelIdle () {
    if (this.idle !== null) clearImmediate(this.idle)
    this.idle = null
  }

  /** The writes stopped for a turn: the incomplete batch goes out (or is owed to the next pull). */
  onIdle () {
    this.idle = null
    if (this.done) return
    this.pump(true)
    if (this.encoder.ready(true)) this.owed = true
    // Every line out (into a waiting read, or under the highWaterMark): the held write is done.
    else this.releaseWrite()
  }

  destroy () {
    // The link settles its own held promises; nothing is enqueued or called back after this.
    this.done = true
    this.cancelIdle()
    this.encoder.discard()
    this.heldWrite = null
    this.heldEnd = null
  }
}

module.exports = { NativeEngine, NodeEngine, EncoderEngine, toBytes }
