'use strict'

// The command's line plumbing, around the library's streams:
//
// * LineCounter: a byte PassThrough that counts lines (plain copy with --lines: nothing to split).
//
// A line is what ends with '\n', and also a last line without one (as NdjsonParser counts):
// `printf abc` is 1 line, `printf 'a\nb'` 2, `printf 'a\n'` 1.
// * LinePieces: bytes in, one zero-copy piece per line out (object mode), so a Throttle can count
//   lines. A line cut by a chunk boundary leaves as two pieces; only the piece that ends with
//   '\n' is a line (`lineCost`), so nothing is ever held back or copied to join a line.
// * LineJoiner: objects in (lines as Buffers, or values to format), newline-terminated bytes out,
//   coalesced into chunks of up to 64 KiB: a stream of small lines costs one write() per chunk,
//   not per line. What is pending is pushed at the latest on the next turn of the event loop
//   (setImmediate), so a slow input never leaves lines waiting in here.
// * Cut: an object-mode pass-through that can end its output early (cut()) while its input is
//   still open: what came before the cut flows on and ends the stages after it normally; what
//   comes after is held, never passed, so the stages before it stop at their high-water marks.
//   For --on-invalid error: the lines before the bad one are written, then the run fails.

const { PassThrough, Transform } = require('node:stream')

const NEWLINE = 10
const JOIN_BYTES = 64 * 1024

class LineCounter extends PassThrough {
  constructor () {
    super()
    this.lines = 0
    this.openLine = false
  }

  _transform (chunk, encoding, callback) {
    if (chunk.length > 0) {
      this.lines += countNewlines(chunk)
      this.openLine = chunk[chunk.length - 1] !== NEWLINE
    }
    callback(null, chunk)
  }

  _flush (callback) {
    if (this.openLine) this.lines++
    this.openLine = false
    callback()
  }
}

function countNewlines (chunk) {
  let n = 0
  for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) n++
  return n
}

class LinePieces extends Transform {
  constructor () {
    super({ readableObjectMode: true })
  }

  _transform (chunk, encoding, callback) {
    let start = 0
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
      this.push(chunk.subarray(start, i + 1))
      start = i + 1
    }
    if (start < chunk.length) this.push(chunk.subarray(start))
    callback()
  }
}

/** A Throttle `cost` for LinePieces: 1 for a piece that completes a line, 0 for a part of one. */
function lineCost (piece) {
  return piece[piece.length - 1] === NEWLINE ? 1 : 0
}

class LineJoiner extends Transform {
  /**
   * `format(item)`: the line's bytes (Buffer or string); `newline`: appended to every item
   * ('' for pieces that carry their own).
   */
  constructor ({ format = same, newline = '\n' } = {}) {
    super({ writableObjectMode: true })
    this.format = format
    this.newline = Buffer.from(newline)
    this.lines = 0
    this.openLine = false
    this.parts = []
    this.size = 0
    this.flushScheduled = false
    this.flushLater = () => {
      this.flushScheduled = false
      if (!this.destroyed) this.pushPending()
    }
  }

  _transform (item, encoding, callback) {
    let text
    try {
      text = this.format(item)
    } catch (err) {
      callback(err)
      return
    }
    const line = typeof text === 'string' ? Buffer.from(text) : text
    this.parts.push(line)
    this.size += line.length
    if (this.newline.length > 0) {
      this.parts.push(this.newline)
      this.size += this.newline.length
      this.lines++
    } else if (line.length > 0) {
      // Pieces: a line is counted at its '\n' (or at the end, when the last one has none).
      const ended = line[line.length - 1] === NEWLINE
      if (ended) this.lines++
      this.openLine = !ended
    }
    if (this.size >= JOIN_BYTES) {
      this.pushPending()
    } else if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flushLater)
    }
    callback()
  }

  _flush (callback) {
    if (this.openLine) this.lines++
    this.openLine = false
    this.pushPending()
    callback()
  }

  pushPending () {
    if (this.size === 0) return
    const chunk = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size)
    this.parts = []
    this.size = 0
    this.push(chunk)
  }
}

class Cut extends Transform {
  constructor () {
    super({ objectMode: true })
    this.isCut = false
  }

  _transform (item, encoding, callback) {
    // After the cut the callback is held (destroy() releases it): backpressure stops upstream.
    if (!this.isCut) callback(null, item)
  }

  cut () {
    if (this.isCut) return
    this.isCut = true
    this.push(null)
  }
}

function same (item) {
  return item
}

module.exports = { Cut, LineCounter, LineJoiner, LinePieces, lineCost }
