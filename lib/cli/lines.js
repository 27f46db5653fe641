'use strict'

// The command's line plumbing, around the library's streams. A line is what ends with '\n', and
// also a last line without one (as NdjsonParser counts): `printf abc` is 1 line, `printf 'a\nb'`
// 2, `printf 'a\n'` 1.
//
// * LineCounter: a byte PassThrough that counts lines (plain copy with --lines: nothing to split).
// * LinePieces: bytes in, zero-copy pieces of whole lines out (object mode, `{ bytes, lines }`),
//   so a Throttle can count lines (`pieceCost`). A piece holds up to `linesPerPiece` lines: one
//   acquire per piece, not per line, is what keeps a line rate cheap (the rate still holds at the
//   throttle's ~5 ms pacing, see linesPerBatch). A line cut by a chunk boundary leaves as two
//   pieces, the first with `lines: 0`: nothing is ever held back or copied to join a line.
// * LineBatches: object mode, items in, arrays of up to `size` items out (the parser's lines for
//   a line rate: one acquire per array). What is pending leaves on the next turn of the event
//   loop at the latest (setImmediate), so a slow input never leaves lines waiting in here.
// * LineJoiner: objects in (lines as Buffers, arrays of them, or pieces),
//   newline-terminated bytes out, coalesced into chunks of up to 64 KiB: a stream of small lines
//   costs one write() per chunk, not per line. Pending bytes leave as in LineBatches.
// * Cut: an object-mode pass-through that can end its output early (cut()) while its input is
//   still open: what came before the cut flows on and ends the stages after it normally; what
//   comes after is held, never passed, so the stages before it stop at their high-water marks.
//   For --on-invalid error: the lines before the bad one are written, then the run fails.
// * WrittenLines: the lines of what the output's write callbacks confirm (--stats' output.lines).
//   The stages above count lines as they pass, ahead of the output by every buffer in between;
//   after a signal or a failed write only the confirmed writes say what reached the OS.

const { PassThrough, Transform } = require('node:stream')

const NEWLINE = 10
const JOIN_BYTES = 64 * 1024
// A batch of lines is what a line rate lets through in this long (the throttle's pacing step)...
const BATCH_SECONDS = 0.005
// ...and at most this many lines (a bound on what one batch holds).
const BATCH_MAX = 1024

/** How many lines to batch for one acquire at `perSecond` lines a second: 1 to 1024. */
function linesPerBatch (perSecond) {
  return Math.max(1, Math.min(BATCH_MAX, Math.floor(perSecond * BATCH_SECONDS)))
}

// The newlines of the chunks a counting stage pushed (LineCounter, LineJoiner): WrittenLines
// looks them up rather than scanning every byte a second time (a chunk a byte rate's Throttle
// cut into pieces is scanned: those are new Buffers, and rare at a rate that binds).
const newlinesPushed = new WeakMap()
const newlinesOf = (chunk) => newlinesPushed.get(chunk) ?? countNewlines(chunk)

class LineCounter extends PassThrough {
  constructor () {
    super()
    this.lines = 0
    this.openLine = false
  }

  _transform (chunk, encoding, callback) {
    if (chunk.length > 0) {
      const n = countNewlines(chunk)
      newlinesPushed.set(chunk, n)
      this.lines += n
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

/** The newlines in `bytes[start, end)`. */
function countNewlines (bytes, start = 0, end = bytes.length) {
  let n = 0
  for (let i = bytes.indexOf(NEWLINE, start); i !== -1 && i < end; i = bytes.indexOf(NEWLINE, i + 1)) n++
  return n
}

class LinePieces extends Transform {
  constructor ({ linesPerPiece = 1 } = {}) {
    super({ readableObjectMode: true })
    this.linesPerPiece = linesPerPiece
    // The lines read so far (--stats' input.lines), as LineCounter counts them: the pieces wait
    // in the throttle after this, so the joiner's count is the output's, not the input's.
    this.lines = 0
    this.openLine = false
  }

  _transform (chunk, encoding, callback) {
    let start = 0
    let lines = 0
    let end = -1
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
      end = i + 1
      this.lines++
      if (++lines === this.linesPerPiece) {
        this.push({ bytes: chunk.subarray(start, end), lines })
        start = end
        lines = 0
      }
    }
    if (lines > 0) {
      this.push({ bytes: chunk.subarray(start, end), lines })
      start = end
    }
    if (start < chunk.length) this.push({ bytes: chunk.subarray(start), lines: 0 })
    if (chunk.length > 0) this.openLine = chunk[chunk.length - 1] !== NEWLINE
    callback()
  }

  _flush (callback) {
    if (this.openLine) this.lines++
    this.openLine = false
    callback()
  }
}

/** A Throttle `cost` for LinePieces: the lines a piece completes. */
function pieceCost (piece) {
  return piece.lines
}

/** Pushes what `collect` gathered on the next turn of the event loop at the latest. */
class Coalescing extends Transform {
  constructor (options) {
    super(options)
    this.flushScheduled = false
    this.flushLater = () => {
      this.flushScheduled = false
      if (!this.destroyed) this.pushPending()
    }
  }

  schedule () {
    if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flushLater)
    }
  }

  _flush (callback) {
    this.pushPending()
    callback()
  }
}

class LineBatches extends Coalescing {
  constructor (size) {
    super({ objectMode: true })
    this.size = size
    this.batch = []
  }

  _transform (item, encoding, callback) {
    this.batch.push(item)
    if (this.batch.length >= this.size) this.pushPending()
    else this.schedule()
    callback()
  }

  pushPending () {
    if (this.batch.length === 0) return
    const batch = this.batch
    this.batch = []
    this.push(batch)
  }
}

/** A Throttle `cost` for LineBatches: the lines in a batch. */
function batchCost (batch) {
  return batch.length
}

class LineJoiner extends Coalescing {
  /**
   * `input`: 'lines' (each item one line, a Buffer, then a newline), 'batches' (arrays of such
   * items) or 'pieces' (LinePieces' output, written as they are).
   */
  constructor ({ input = 'lines' } = {}) {
    super({ writableObjectMode: true })
    this.input = input
    this.lines = 0
    this.openLine = false
    this.parts = []
    this.size = 0
    this.newlines = 0
  }

  _transform (item, encoding, callback) {
    if (this.input === 'pieces') this.addPiece(item)
    else if (this.input === 'batches') for (const line of item) this.addLine(line)
    else this.addLine(item)
    if (this.size >= JOIN_BYTES) this.pushPending()
    else this.schedule()
    callback()
  }

  addLine (line) {
    this.parts.push(line, NEWLINE_BYTES)
    this.size += line.length + 1
    this.lines++
    this.newlines++
  }

  addPiece ({ bytes, lines }) {
    if (bytes.length === 0) return
    this.parts.push(bytes)
    this.size += bytes.length
    this.lines += lines
    this.newlines += lines
    this.openLine = bytes[bytes.length - 1] !== NEWLINE
  }

  _flush (callback) {
    // A last line without a newline counts too.
    if (this.openLine) this.lines++
    this.openLine = false
    super._flush(callback)
  }

  pushPending () {
    if (this.size === 0) return
    const chunk = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size)
    newlinesPushed.set(chunk, this.newlines)
    this.parts = []
    this.size = 0
    this.newlines = 0
    this.push(chunk)
  }
}

const NEWLINE_BYTES = Buffer.from('\n')

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

class WrittenLines {
  /**
   * Counts the lines in the writes to `writable` whose callbacks report success. pipeline()
   * writes without a callback, so this instance's write() is wrapped to add one.
   */
  constructor (writable) {
    this.lines = 0
    this.openLine = false
    // Writes not yet answered, oldest first: `{ chunk, done, ok }`. Streams answer writes in
    // order; the flags keep the count right should a destination not.
    this.pending = []
    this.pendingBytes = 0
    const write = writable.write
    const self = this
    writable.write = function (chunk, encoding, callback) {
      if (typeof encoding === 'function') {
        callback = encoding
        encoding = undefined
      }
      const entry = { chunk: typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk, done: false, ok: false }
      self.pending.push(entry)
      self.pendingBytes += entry.chunk.length
      return write.call(this, chunk, encoding, (err) => {
        entry.done = true
        entry.ok = err == null
        self.settle()
        if (typeof callback === 'function') callback(err)
      })
    }
  }

  settle () {
    while (this.pending.length > 0 && this.pending[0].done) {
      const { chunk, ok } = this.pending.shift()
      this.pendingBytes -= chunk.length
      if (!ok || chunk.length === 0) continue
      this.lines += newlinesOf(chunk)
      this.openLine = chunk[chunk.length - 1] !== NEWLINE
    }
  }

  /**
   * The newlines in the first `bytes` bytes of the writes not yet answered: of a write the OS
   * has taken part of (a process that exits now never learns how the rest fares).
   */
  newlinesTaken (bytes) {
    let n = 0
    for (const { chunk } of this.pending) {
      if (bytes <= 0) break
      n += bytes >= chunk.length ? newlinesOf(chunk) : countNewlines(chunk, 0, bytes)
      bytes -= chunk.length
    }
    return n
  }
}

module.exports = { Cut, LineBatches, LineCounter, LineJoiner, LinePieces, WrittenLines, batchCost, countNewlines, linesPerBatch, pieceCost }
