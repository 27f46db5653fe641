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
//   the Web side has room. Its events after destroy() are ignored.

const { Buffer } = require('node:buffer')
const { openPort, pullPort } = require('../transport.js')
const { typeError } = require('../options.js')
const { SluiceError } = require('../errors.js')

class NativeEngine {
  /**
   * @param {import('../transport.js').NativeTransform} stream the component, freshly made
   * @param {(item: any) => any} [mapItem] applied to each item on its way out
   */
  constructor (stream, mapItem) {
    this.stream = stream
    this.mapItem = mapItem
    this.link = null
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
    const bytes = toBuffer(chunk)
    if (bytes === null) {
      callback(typeError('chunk', 'a Uint8Array (or another ArrayBufferView, or an ArrayBuffer) or a string', chunk))
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
    this.stream._flush((err) => {
      if (err == null) this.link.closeReadable()
      callback(err)
    })
  }

  pull () {
    pullPort(this.stream)
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

/** A Buffer over the chunk's bytes (no copy), or null for a chunk that is not bytes or text. */
function toBuffer (chunk) {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  if (Buffer.isBuffer(chunk)) return chunk
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  return null
}

class NodeEngine {
  /** @param {import('node:stream').Transform} stream the component, freshly made */
  constructor (stream) {
    this.stream = stream
    this.link = null
    this.done = false
  }

  attach (link) {
    this.link = link
    const stream = this.stream
    stream.on('error', (err) => {
      if (!this.done) link.fail(err)
    })
    stream.on('readable', () => {
      if (!this.done) this.pump()
    })
    stream.on('end', () => {
      if (!this.done) link.closeReadable()
    })
  }

  write (chunk, callback) {
    try {
      this.stream.write(chunk, callback)
    } catch (err) {
      // An invalid chunk (core throws ERR_INVALID_ARG_TYPE, or ERR_STREAM_NULL_VALUES for null).
      callback(err)
    }
  }

  end (callback) {
    this.stream.end(callback)
  }

  pull () {
    this.pump()
  }

  pump () {
    const { stream, link } = this
    while (link.room()) {
      const chunk = stream.read()
      if (chunk === null) break
      link.enqueue(chunk)
    }
  }

  destroy () {
    this.done = true
    this.stream.destroy()
  }
}

module.exports = { NativeEngine, NodeEngine, toBuffer }
