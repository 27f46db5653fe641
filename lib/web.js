'use strict'

// sluice/web: every sluice component as a Web Streams (WHATWG) object, for code that holds
// ReadableStreams (fetch bodies, Response, TextDecoderStream, CompressionStream…).
//
// The transforms are TransformStreams (lib/web/face.js), taking the component's options, then a
// writable and a readable queuing strategy, as `new TransformStream(transformer, w, r)` does:
//   new NdjsonParseStream(options?, writableStrategy?, readableStrategy?)
// The component itself is made from the options (so its validation, defaults and every option
// it knows apply unchanged) and does the work; the Web face is its pair of Web sides:
// NdjsonParseStream drives the parser's native handle directly (NativeEngine), the others drive
// their Node Transform through its callbacks (NodeEngine). The component's counters and events
// are the face's: stats(), on/once/off('invalid' | 'stall' | 'drop'…), and its methods.
//
// NdjsonStringifyStream drives the stringifier's NdjsonEncoder directly (EncoderEngine): values
// in, batches of lines out.
//
// MonitoredWritableStream is a WritableStream that measures what it forwards to another
// WritableStream (or an underlying sink object).

const { WritableStream, CountQueuingStrategy, ByteLengthQueuingStrategy } = require('node:stream/web')
const { types: { isAnyArrayBuffer, isUint8Array } } = require('node:util')
const { NdjsonParser, NULL, KNOWN_OPTIONS: PARSER_OPTIONS } = require('./ndjson.js')
const { NdjsonEncoder, encoderOptions, KNOWN_OPTIONS: STRINGIFIER_OPTIONS, MAX_BATCH } = require('./stringifier.js')
const { Throttle, THROTTLE_OPTIONS } = require('./throttle.js')
const { Meter, MonitoredWritable, kMeasure, addMeasuredMethods, METER_OPTIONS, WRITABLE_OPTIONS } = require('./meter.js')
const { BoundedBuffer, BUFFER_OPTIONS, kDiscardUnread, kWantItems } = require('./buffer.js')
const { NativeEngine, NodeEngine, EncoderEngine } = require('./web/engines.js')
const { WebTransform, webOptions, strategy, itemStrategy, byteStrategy, oneChunk, forwardEvents } = require('./web/face.js')
const { typeError } = require('./options.js')

const kComponent = Symbol('kComponent')

/** What a JSON `null` line is inside the parser here; it leaves as a real `null` chunk. */
const NULL_LINE = Symbol('sluice.web.null')

function nullLineToNull (item) {
  return item === NULL_LINE ? null : item
}

/**
 * NDJSON text in (Uint8Array, any ArrayBufferView, ArrayBuffer, SharedArrayBuffer or string chunks), one value per
 * line out. Every NdjsonParser option applies; `nullValue` defaults to `null` itself (a Web
 * stream carries `null`; nothing ends on it).
 */
class NdjsonParseStream extends WebTransform {
  constructor (options, writableStrategy, readableStrategy) {
    const opts = webOptions(options, 'NdjsonParseStream', PARSER_OPTIONS)
    if ((opts.output === undefined || opts.output === 'values') && (opts.nullValue === undefined || opts.nullValue === null)) opts.nullValue = NULL_LINE
    const parser = new NdjsonParser(opts)
    super(new NativeEngine(parser, nullLineToNull),
      strategy(writableStrategy, 'writableStrategy', oneChunk),
      strategy(readableStrategy, 'readableStrategy', itemStrategy))
    this[kComponent] = parser
  }

  /** The parser's counters: lines, bytes, values, blankLines, invalidLines, longestLine. */
  stats () {
    return this[kComponent].stats()
  }
}

/**
 * JS values in, NDJSON bytes out (Buffers, which are Uint8Arrays): one JSON text per value and
 * `newline` after it, in batches of whole lines. NdjsonStringifier's options (replacer, newline,
 * onUnserializable); a `null` chunk is a JSON `null` line (so is NULL, as NdjsonParser emits it).
 */
class NdjsonStringifyStream extends WebTransform {
  constructor (options, writableStrategy, readableStrategy) {
    const opts = webOptions(options, 'NdjsonStringifyStream', STRINGIFIER_OPTIONS)
    const config = encoderOptions(opts)
    const readable = strategy(readableStrategy, 'readableStrategy', byteStrategy)
    // Batches of 64 KiB (one downstream write per 64 KiB), unless a ByteLengthQueuingStrategy
    // asks for a smaller queue: as NdjsonStringifier with a smaller readableHighWaterMark. Other
    // strategies count in their own units, which say nothing about a batch's size.
    const asked = readableStrategy instanceof ByteLengthQueuingStrategy ? readable.highWaterMark : MAX_BATCH
    const engine = new EncoderEngine(new NdjsonEncoder({ ...config, batchBytes: Math.min(MAX_BATCH, asked) }))
    super(engine, strategy(writableStrategy, 'writableStrategy', oneChunk), readable)
    this[kComponent] = engine
  }

  /** values and bytes enqueued, values skipped, batches (Uint8Arrays) enqueued, values discarded at teardown. */
  stats () {
    return this[kComponent].encoder.stats()
  }
}

/** The WebTransform arguments for a Node component: its engine, and the strategies for its mode. */
function overNode (component, writableStrategy, readableStrategy, discardUnread, wantItems) {
  return [
    new NodeEngine(component, discardUnread, wantItems),
    strategy(writableStrategy, 'writableStrategy', oneChunk),
    strategy(readableStrategy, 'readableStrategy', component.readableObjectMode ? itemStrategy : byteStrategy)
  ]
}

/**
 * Byte or object chunks through a throttle; Throttle's options (`group` too). In byte mode (as
 * MeterStream and BoundedBufferStream) chunks are taken as NdjsonParseStream takes them, a
 * string as its UTF-8 bytes, and leave as Buffers.
 */
class ThrottleStream extends WebTransform {
  constructor (options, writableStrategy, readableStrategy) {
    const throttle = new Throttle(webOptions(options, 'ThrottleStream', THROTTLE_OPTIONS))
    super(...overNode(throttle, writableStrategy, readableStrategy))
    this[kComponent] = throttle
  }

  /** As Throttle#stats(). */
  stats () {
    return this[kComponent].stats()
  }

  /** As Throttle#setRate(rate, options). */
  setRate (rate, options) {
    this[kComponent].setRate(rate, options)
    return this
  }
}

/** Measures what passes (bytes, or items with objectMode); Meter's options. */
class MeterStream extends WebTransform {
  constructor (options, writableStrategy, readableStrategy) {
    const meter = new Meter(webOptions(options, 'MeterStream', METER_OPTIONS))
    super(...overNode(meter, writableStrategy, readableStrategy))
    this[kComponent] = meter
    // bottleneck(), toPrometheus() and registerPrometheus() take it as they take a Meter.
    this[kMeasure] = meter[kMeasure]
  }
}

/** A bounded buffer with an overflow policy; BoundedBuffer's options. */
class BoundedBufferStream extends WebTransform {
  constructor (options, writableStrategy, readableStrategy) {
    // readableHighWaterMark 0: an item leaves the ring only when the Web side reads it (its
    // queue, sized by the readable strategy, is the only buffer past the ring), so overflow acts
    // on everything else; the default Node buffer would hold items overflow never touches.
    const buffer = new BoundedBuffer({ ...webOptions(options, 'BoundedBufferStream', BUFFER_OPTIONS), readableHighWaterMark: 0 })
    // What the readable queue still holds when the face is torn down was emitted and never
    // read: the buffer counts it as `unread`, as it counts what core's readable buffer holds.
    super(...overNode(buffer, writableStrategy, readableStrategy, (items) => buffer[kDiscardUnread](items), (want) => buffer[kWantItems](want)))
    this[kComponent] = buffer
  }

  /** As BoundedBuffer#stats(). */
  stats () {
    return this[kComponent].stats()
  }
}

/** MonitoredWritable options that make no sense in front of a Web destination. */
const NODE_SINK_OPTIONS = [
  'write', 'writev', 'final', 'destroy', 'construct', 'decodeStrings', 'defaultEncoding', 'emitClose', 'autoDestroy', 'signal'
]

/**
 * A WritableStream that forwards every chunk to `destination` (a WritableStream, or an
 * underlying sink object as `new WritableStream(sink)` takes) and measures how it keeps up, as
 * MonitoredWritable does: its options (name, interval, stallMs, halfLifeMs, total, clock,
 * objectMode) and `highWaterMark` (bytes, or items with objectMode) before its writer waits.
 */
class MonitoredWritableStream extends WritableStream {
  constructor (destination, options) {
    const opts = webOptions(options, 'MonitoredWritableStream', WRITABLE_OPTIONS, NODE_SINK_OPTIONS, (key) =>
      `The "options.${key}" option is one of MonitoredWritable's Node sink, not of MonitoredWritableStream: the destination does the writing`)
    const dest = webDestination(destination)
    let writer = null
    let controller = null
    let drainWaiter = null
    let done = false
    // Nothing more reaches the destination, and a write waiting for 'drain' lets go.
    const release = (reason) => {
      node.destroy()
      drainWaiter?.reject(reason)
      drainWaiter = null
    }
    const fail = (err) => {
      if (done) return
      done = true
      controller.error(err)
      release(err)
      writer.abort(err).catch(ignore)
    }
    // The chunks as written, in write order: the destination gets each as it is, while the Node
    // side measures a form it takes (a Uint8Array over an ArrayBuffer's or any view's bytes; a
    // stand-in for null in object mode, which a Node stream refuses and a WritableStream takes).
    const written = []
    const node = new MonitoredWritable({
      ...opts,
      decodeStrings: false,
      write (measured, encoding, callback) {
        const chunk = written.shift()
        writer.write(chunk).then(() => callback(), (err) => {
          callback(err)
          // Now, not on the 'error' event a tick later: in that tick the Web side still took
          // writes into a destroyed stream and its close() got ERR_STREAM_DESTROYED.
          fail(err)
        })
      },
      final (callback) {
        writer.close().then(() => callback(), callback)
      }
    })
    node.on('error', fail)
    node.on('drain', () => {
      const waiter = drainWaiter
      drainWaiter = null
      waiter?.resolve()
    })
    writer = dest.getWriter()
    let aborting = null
    let closing = false
    const abort = (reason) => {
      // Torn down already (this abort, or the destination's failure): as that went.
      if (done) return aborting ?? Promise.resolve()
      done = true
      release(reason)
      aborting = writer.abort(reason)
      return aborting
    }
    super({
      start (c) {
        controller = c
        // abort() reaches the sink only after the write in flight settles, and ours waits for
        // 'drain', i.e. for everything buffered to reach the destination (seconds, or never for
        // a stuck one): the controller's signal tells us at once, as in lib/web/face.js.
        // Once close() is in flight the standard lets it finish (abort() settles as it does, and
        // the sink's abort() is never called): so does this face, as a plain WritableStream would.
        // It releases at once; the destination itself is aborted by the sink's abort(), which
        // follows with the reason as given (the signal's is the standard's AbortError where
        // there was none).
        c.signal.addEventListener('abort', () => { if (!closing && !done) release(c.signal.reason) }, { once: true })
      },
      write (chunk) {
        let ok
        written.push(chunk)
        try {
          ok = node.write(node.writableObjectMode ? (chunk === null ? NULL_CHUNK : chunk) : bytesOf(chunk))
        } catch (err) {
          // Not bytes in byte mode (a number, an object…).
          written.pop()
          fail(err)
          throw err
        }
        if (ok) return undefined
        return new Promise((resolve, reject) => { drainWaiter = { resolve, reject } })
      },
      close () {
        closing = true
        return new Promise((resolve, reject) => {
          node.end((err) => (err == null ? resolve() : reject(err)))
        })
      },
      abort (reason) {
        return abort(reason)
      }
    }, new CountQueuingStrategy({ highWaterMark: 1 }))
    this[kComponent] = node
    this[kMeasure] = node[kMeasure]
  }
}

function ignore () {}

/** What stands for a `null` chunk on MonitoredWritableStream's Node side (0 bytes). */
const NULL_CHUNK = Symbol('sluice.web.nullChunk')

/** A byte chunk as a Node Writable takes it, over the same memory: a string or a Uint8Array; anything else as it is. */
function bytesOf (chunk) {
  if (typeof chunk === 'string' || isUint8Array(chunk)) return chunk
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  // Of any realm (see toBytes in lib/web/engines.js).
  if (isAnyArrayBuffer(chunk)) return new Uint8Array(chunk)
  return chunk
}

/**
 * MonitoredWritableStream's destination as something with a WritableStream's getWriter(): a
 * WritableStream (this realm's, or another's or a polyfill's, known by its getWriter()), or one
 * over an underlying sink object. Another kind of stream is refused, naming what to pass
 * instead: taken as a sink, it has no `write` of the sink's kind and the data went nowhere while
 * every write resolved (a TransformStream, a ReadableStream), or its Node `write(chunk,
 * encoding)` took the controller for an encoding. An underlying sink may be an EventEmitter.
 */
function webDestination (destination) {
  if (destination instanceof WritableStream) return destination
  const expected = 'a WritableStream or an underlying sink object'
  if (destination === null || typeof destination !== 'object') throw typeError('destination', expected, destination)
  if (typeof destination.getWriter === 'function') return destination
  if (typeof destination.writable?.getWriter === 'function') {
    throw typeError('destination', `${expected} (for a TransformStream, pass its .writable)`, destination)
  }
  if (typeof destination.getReader === 'function' || typeof destination.pipeTo === 'function') {
    throw typeError('destination', `${expected}, not a ReadableStream`, destination)
  }
  // Every Node stream has pipe() (Stream.prototype's, for the legacy ones too).
  if (typeof destination.pipe === 'function' || destination._writableState !== undefined) {
    throw typeError('destination', `${expected} (for a Node stream, use MonitoredWritable.wrap(stream), or Writable.toWeb(stream))`, destination)
  }
  return new WritableStream(destination)
}

addMeasuredMethods(MeterStream)
addMeasuredMethods(MonitoredWritableStream)
for (const Class of [NdjsonParseStream, NdjsonStringifyStream, ThrottleStream, MeterStream, BoundedBufferStream, MonitoredWritableStream]) {
  forwardEvents(Class, (face) => face[kComponent])
}

module.exports = { NdjsonParseStream, NdjsonStringifyStream, ThrottleStream, MeterStream, BoundedBufferStream, MonitoredWritableStream, NULL }
