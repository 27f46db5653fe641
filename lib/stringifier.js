'use strict'

// NdjsonStringifier: JS values in, NDJSON bytes out. One JSON text per value, each terminated by
// `newline` ('\n', or '\r\n' when asked; never os.EOL), handed downstream in batches of whole
// lines rather than one tiny Buffer per value.
//
// Two pieces:
// * NdjsonEncoder turns values into lines and lines into Buffers: the unserialisable-value policy,
//   the batch size and the counters live here, with no stream in sight, so the Web Streams face
//   (NdjsonStringifyStream) uses the same code.
// * NdjsonStringifier is the Node Transform around it. Writes complete at once (the producer never
//   waits for a stream round trip per value); their lines collect in the encoder's current batch,
//   which is pushed when it reaches `batchBytes`, and otherwise when the writes stop: a
//   setImmediate, i.e. once the current turn of the event loop has run out of work, so a trickle
//   of values still leaves within a turn, and a synchronous burst leaves in full batches.
//
// Invariants:
// * push() only while the readable side wants data (its last push returned true, or `_read` ran
//   since). When it does not, the write that found it full keeps its callback (kHeld): core then
//   buffers the writes behind it and write() returns false; `_read` pushes what waits and lets the
//   held write complete. Core hands the writes it buffered meanwhile to `_writev` all at once. So
//   the readable buffer holds at most readableHighWaterMark + one batch (+ one value), or two
//   batches when the producer writes from the 'drain' that `_read` lets out: core's read() calls
//   `_read` before it takes its chunk, and a burst written from that 'drain' fills a batch.
// * A batch is a whole number of lines and at most `batchBytes` bytes (UTF-8) plus one line:
//   64 KiB, or the readableHighWaterMark the user set if smaller; at least one line. No string
//   grows past V8's longest (MAX_STRING_LENGTH): a batch that would is sealed first, and a value
//   whose line alone would is unserialisable.
// * A value JSON.stringify cannot represent as a line is never written as text: 'error' fails the
//   stream (ERR_SLUICE_UNSERIALIZABLE, with its index and the reason) after pushing the lines
//   before it; 'skip' counts it and emits 'skip' with the same details.
// * JSON `null` cannot be written (core refuses write(null): it means nothing in object mode), so
//   the `NULL` symbol stands for it, as NdjsonParser emits it: parser → stringifier round-trips.
// * Nothing after destroy: the idle flush is cancelled, no push, no value encoded; every write
//   callback still runs once (a held one as soon as the stream is destroyed). A value whose write
//   completed and whose line destroy() throws away (or that a destroying 'skip' listener left
//   unencoded) is counted in `discarded`: nothing accepted is lost silently.
//
// Why JS and not Rust (measured on the 2-core dev box, Node 20; README "Performance"): the
// values are JS objects, and reading them is the work. V8's JSON.stringify walks them in C++ on
// the JS thread, and that is 60–85 % of the whole pipeline's CPU (JSON.stringify alone: ~70 ms
// CPU for the 30 MB webhooks corpus, ~0.52 s for 1 M small objects of 5 fields, against 0.84 s for
// the pipeline). A native serialiser would have to read every property through an N-API call on
// the same thread (building objects that way is 3.7x slower than JSON.parse,
// research/feasibility.md; reading was not measured, but costs a call per property too), and a
// native stage fed the finished text would add a copy and a call per batch to
// what Buffer.from already does. Also measured and dropped: one JSON.stringify of an array of
// values split at its top-level commas (+30 % on small objects, nothing or worse on real ones,
// plus the split), and writing each line into a Buffer (buf.write / utf8Write / encodeInto)
// instead of one Buffer.from per batch (within ±5 % CPU on every corpus). What sluice saves over
// the peers is the stream work: a write() that completes at once and one push per 64 KiB instead
// of one push, one Buffer and one downstream write per value.
//
// Scheduling uses the real setImmediate from node:timers (not the global one, which jest's fake
// timers replace), as lib/transport.js does.

const { constants: { MAX_STRING_LENGTH } } = require('node:buffer')
const { Transform } = require('node:stream')
const { isNumberObject, isStringObject } = require('node:util').types
const { setImmediate, clearImmediate } = require('node:timers')
const { NULL } = require('./ndjson.js')
const { asError, describeThrown, unserializableError } = require('./errors.js')
const { answerFromDestroy, completeInOrder, guarded, mendEndAndUncork } = require('./inflight.js')
const {
  STREAM_OPTIONS,
  pickStreamOptions,
  typeError,
  validateOneOf,
  validateOptionsObject
} = require('./options.js')

const KNOWN_OPTIONS = ['replacer', 'newline', 'onUnserializable', ...STREAM_OPTIONS]
const NEWLINES = ['\n', '\r\n']
const MAX_BATCH = 64 * 1024

/** The `replacer` option: a function, an array of property names (strings or numbers), or none. */
function validateReplacer (opts) {
  const replacer = opts.replacer
  // null as in JSON.stringify(value, null): no replacer.
  if (replacer === undefined || replacer === null || typeof replacer === 'function') return replacer ?? undefined
  if (!Array.isArray(replacer)) throw typeError('options.replacer', 'a function or an array of strings and numbers', replacer)
  const keys = []
  for (let i = 0; i < replacer.length; i++) {
    const key = replacer[i]
    if (typeof key === 'string' || typeof key === 'number') keys.push(key)
    // Boxed, as JSON.stringify takes them (it reads them with ToString, as here: once, up front).
    else if (isStringObject(key) || isNumberObject(key)) keys.push(String(key))
    else throw typeError(`options.replacer[${i}]`, 'a string or a number', key)
  }
  return keys
}

/** Validates the encoder's own options (a copy of the user's, from validateOptionsObject). */
function encoderOptions (opts) {
  if (opts.newline !== undefined && typeof opts.newline !== 'string') throw typeError('options.newline', "'\\n' or '\\r\\n'", opts.newline)
  return {
    replacer: validateReplacer(opts),
    newline: validateOneOf(opts, 'newline', NEWLINES, '\n'),
    onUnserializable: validateOneOf(opts, 'onUnserializable', ['error', 'skip'], 'error')
  }
}

/** Why JSON.stringify gave no text for `value` (it returned undefined rather than throwing). */
function undefinedReason (value) {
  if (value === NULL) return 'the replacer returned undefined'
  if (value === undefined) return 'undefined has no JSON text'
  if (typeof value === 'function') return 'a function has no JSON text'
  if (typeof value === 'symbol') return 'a symbol has no JSON text (write NULL for a JSON null)'
  // What they returned is gone: JSON.stringify only says there is no text. NULL from a replacer
  // is a symbol there, as NULL nested in a value is (only a value written as NULL is a null line).
  return 'its toJSON() or the replacer returned undefined, a function or a symbol (return null, not NULL, for a JSON null)'
}

/** The lines (0x0a bytes) in a Buffer. */
function countLines (buffer) {
  let count = 0
  for (let at = buffer.indexOf(0x0a); at !== -1; at = buffer.indexOf(0x0a, at + 1)) count++
  return count
}

/**
 * Values to NDJSON lines to Buffers. `add(value)` encodes one value into the current batch;
 * `take()` hands out the oldest complete batch, `take(true)` also an incomplete one. The counters
 * (`stats()`) count what was taken: values and bytes that left, every skip, and the values
 * thrown away untaken (`discard()`).
 */
class NdjsonEncoder {
  /**
   * @param {object} options already validated by encoderOptions, plus `batchBytes` (>= 1)
   */
  constructor ({ replacer, newline = '\n', onUnserializable = 'error', batchBytes = MAX_BATCH }) {
    this.replacer = replacer
    this.newline = newline
    this.skip = onUnserializable === 'skip'
    this.batchBytes = Math.max(1, batchBytes)
    // The UTF-16 length at which the current batch is sealed: batchBytes for ASCII, about a third
    // of it for CJK text; from the UTF-8 bytes per unit of the last batch encoded.
    this.sealAt = this.batchBytes
    // Values offered so far: the next one's index.
    this.index = 0
    this.values = 0
    this.bytes = 0
    this.skipped = 0
    this.batches = 0
    this.discarded = 0
    this.text = ''
    this.lines = 0
    // Complete batches not yet taken, as [text, lines] pairs. Grows past one only when a whole
    // _writev arrives while the readable side is full.
    this.sealed = []
    // The oldest sealed batch, encoded and cut at line ends into Buffers of at most batchBytes
    // plus one line, as [buffer, lines] pairs not yet taken.
    this.pieces = []
  }

  /**
   * Adds `value`'s line to the current batch. Returns null, or the ERR_SLUICE_UNSERIALIZABLE
   * error for a value that has no line (under 'skip' it is counted; the caller announces it).
   */
  add (value) {
    const index = this.index++
    // NULL is JSON null, for the replacer too: JSON.stringify(null, fn) calls fn('', null).
    const input = value === NULL ? null : value
    let text
    try {
      text = this.replacer === undefined ? JSON.stringify(input) : JSON.stringify(input, this.replacer)
    } catch (err) {
      // A circular structure, a BigInt, a throwing toJSON / replacer / getter, or a text longer than
      // V8's longest string. What was thrown may be anything, even a thing with no string form.
      return this.#refuse(index, value, `JSON.stringify threw: ${describeThrown(err).replace(/\s*\n\s*/g, ' ')}`, err)
    }
    if (text === undefined) return this.#refuse(index, value, undefinedReason(value))
    // `+=` past V8's longest string would throw out of write(): a line that long is no line, and a
    // batch that long is sealed first.
    const length = text.length + this.newline.length
    if (this.text.length + length > MAX_STRING_LENGTH) {
      if (length > MAX_STRING_LENGTH) return this.#refuse(index, value, `its line would be ${length} characters, more than the longest string V8 can hold (${MAX_STRING_LENGTH})`)
      this.#seal()
    }
    this.text += text
    this.text += this.newline
    this.lines++
    // Sealed by UTF-16 length (counting each line's UTF-8 bytes cost 8-23 % more CPU), scaled by
    // the bytes per unit of the last batch; take() cuts a batch that still has too many bytes.
    if (this.text.length >= this.sealAt) this.#seal()
    return null
  }

  /** True when a complete batch is waiting; `orAny` counts an incomplete one too. */
  ready (orAny = false) {
    return this.pieces.length > 0 || this.sealed.length > 0 || (orAny && this.lines > 0)
  }

  /** The oldest complete batch as a Buffer (with `orAny`, else the incomplete one), or null. */
  take (orAny = false) {
    if (this.pieces.length === 0) {
      if (this.sealed.length === 0) {
        if (!orAny || this.lines === 0) return null
        this.#seal()
      }
      const [text, lines] = this.sealed.shift()
      const buffer = Buffer.from(text, 'utf8')
      this.sealAt = Math.max(1, Math.floor(this.batchBytes * text.length / buffer.length))
      this.#cut(buffer, lines)
    }
    const [buffer, lines] = this.pieces.shift()
    this.values += lines
    this.bytes += buffer.length
    this.batches++
    return buffer
  }

  /** Drops every line not taken yet (a destroyed stream), counting their values as discarded. */
  discard () {
    let lines = this.lines
    for (const [, count] of this.sealed) lines += count
    for (const [, count] of this.pieces) lines += count
    this.discarded += lines
    this.sealed = []
    this.text = ''
    this.lines = 0
    this.pieces = []
  }

  stats () {
    return { values: this.values, bytes: this.bytes, skipped: this.skipped, batches: this.batches, discarded: this.discarded }
  }

  #seal () {
    this.sealed.push([this.text, this.lines])
    this.text = ''
    this.lines = 0
  }

  /**
   * Queues an encoded batch as pieces of at least batchBytes bytes and at most one line more (the
   * last one may be shorter). A batch is sealed by its UTF-16 length scaled by the last batch's
   * bytes per unit, so only one with more bytes per unit than that (up to 3) needs cutting; for
   * ASCII this is one indexOf that finds the end. A line ends at the first 0x0a byte: JSON text
   * escapes U+000A, and UTF-8 uses 0x0a for nothing else.
   */
  #cut (buffer, lines) {
    const limit = this.batchBytes
    let start = 0
    while (buffer.length - start > limit) {
      const end = buffer.indexOf(0x0a, start + limit - 1) + 1
      if (end === buffer.length) break
      const piece = buffer.subarray(start, end)
      const count = countLines(piece)
      this.pieces.push([piece, count])
      lines -= count
      start = end
    }
    this.pieces.push([start === 0 ? buffer : buffer.subarray(start), lines])
  }

  #refuse (index, value, reason, cause) {
    if (this.skip) this.skipped++
    return unserializableError({ index, reason, value, cause, skipped: this.skip })
  }
}

/**
 * Encodes one value with `encoder`; a skip is announced as a 'skip' event of `emitter`. Returns
 * the error that fails the stream, or null.
 */
function addValue (encoder, emitter, value) {
  const err = encoder.add(value)
  if (err === null || !err.skipped) return err
  try {
    emitter.emit('skip', { code: err.code, index: err.index, reason: err.reason, value })
    return null
  } catch (thrown) {
    // Not out of write(): a throwing listener fails the stream with what it threw.
    return asError(thrown, 'ERR_SLUICE_LISTENER', "a 'skip' listener")
  }
}

const kEncoder = Symbol('kEncoder')
const kWant = Symbol('kWant')
const kHeld = Symbol('kHeld')
const kIdle = Symbol('kIdle')
const kOwed = Symbol('kOwed')

class NdjsonStringifier extends Transform {
  constructor (options) {
    const opts = validateOptionsObject(options, 'NdjsonStringifier', KNOWN_OPTIONS)
    const config = encoderOptions(opts)
    const streamOptions = pickStreamOptions(opts)
    super({ ...streamOptions, writableObjectMode: true, readableObjectMode: false })
    // Batches of 64 KiB unless the user asked for a smaller readable buffer: a file or socket
    // destination then makes one system call (one libuv round trip) per 64 KiB, 15–25 % less CPU
    // than with batches of Node 20's default 16 KiB highWaterMark.
    const asked = streamOptions.readableHighWaterMark ?? streamOptions.highWaterMark ?? MAX_BATCH
    this[kEncoder] = new NdjsonEncoder({ ...config, batchBytes: Math.min(MAX_BATCH, asked) })
    // Core's Readable asks for data while it holds less than its highWaterMark: with 0, not yet.
    this[kWant] = this.readableHighWaterMark > 0
    this[kHeld] = null
    this[kIdle] = null
    // The idle flush found the readable side full: `_read` pushes the incomplete batch too.
    this[kOwed] = false
  }

  /** values and bytes pushed downstream, values skipped, batches (Buffers) pushed, values discarded by destroy(). */
  stats () {
    return this[kEncoder].stats()
  }

  _write (value, encoding, callback) {
    const err = this.#add(value)
    this.#settle(err, callback)
  }

  _writev (chunks, callback) {
    // Core answers the batch with one callback that calls each write's in a loop: one that
    // throws would cut it short, and the writes after it would never be answered. Each runs on
    // its own, as core runs them for writes taken one at a time, a throw rethrown from a tick.
    for (const entry of chunks) {
      if (typeof entry.callback === 'function') entry.callback = guarded(entry.callback)
    }
    let err = null
    let added = 0
    // A 'skip' listener may destroy the stream: the values after that are not encoded.
    while (added < chunks.length && err === null && !this.destroyed) {
      err = this.#add(chunks[added++].chunk)
      // Complete batches go out as they fill while the reader wants them; the rest wait for _read.
      if (this[kWant] && this[kEncoder].ready()) this.#pump(false)
    }
    // Their writes complete without an error (as core completes a destroyed stream's write in
    // flight), so they are thrown away as the lines destroy() discarded are.
    if (err === null && this.destroyed) this[kEncoder].discarded += chunks.length - added
    // Core gives the batch's error to every write in it; the writes before the unserialisable
    // value had their lines written, and succeed (as they do taken one at a time): a producer
    // that retries its failed writes must not write those lines twice. The bad value's write and
    // those after it, never encoded, get the error.
    if (err !== null) {
      for (let k = 0; k < added - 1; k++) {
        const entry = chunks[k]
        const done = entry.callback
        if (typeof done === 'function') entry.callback = () => done()
      }
    }
    this.#settle(err, callback)
  }

  _read () {
    this[kWant] = true
    this.#pump(this[kOwed])
    if (!this[kWant]) return
    this[kOwed] = false
    const held = this[kHeld]
    if (held !== null) {
      this[kHeld] = null
      // Core may call _write/_writev again from inside: last.
      completeInOrder(this, held)
    }
  }

  _flush (callback) {
    this.#cancelIdle()
    // Every write has completed (the last one found the reader wanting), so what is left is the
    // incomplete batch: at most one batch over the readable highWaterMark, as everywhere.
    this.#pushAll()
    // A 'data' listener that destroyed the stream on those lines: called back, core's Transform
    // would push the end into the destroyed stream. A destroyed stream never finishes, so the
    // callback is owed to no one (BoundedBuffer drops a held flush at destroy alike).
    if (!this.destroyed) callback()
  }

  _destroy (err, callback) {
    // May run inside super() (an aborted `signal`), before the fields exist.
    if (this[kEncoder] !== undefined) {
      this.#cancelIdle()
      this[kEncoder].discard()
    }
    const held = this[kHeld] ?? null
    this[kHeld] = null
    if (held !== null) answerFromDestroy(this, held)
    callback(err)
  }

  #add (value) {
    return addValue(this[kEncoder], this, value)
  }

  /** Pushes what is due and completes a write: at once, held until `_read`, or with its error. */
  #settle (err, callback) {
    const encoder = this[kEncoder]
    // Destroyed from inside JSON.stringify (a toJSON, a getter, the replacer): _destroy threw the
    // lines away before this value's was added, so it is thrown away (and counted) here.
    if (this.destroyed) encoder.discard()
    if (err !== null) {
      // The lines before the bad value still go out, then the error.
      this.#pushAll()
      callback(err)
      return
    }
    if (this[kWant]) this.#pump(false)
    if (encoder.ready(true)) this.#scheduleIdle()
    // Destroyed meanwhile (by a 'skip' or 'data' listener): _destroy has run and would never see a
    // held callback, so it completes now, as _destroy completes one it finds.
    if (this[kWant] || this.destroyed) callback()
    else this[kHeld] = callback
  }

  /** Pushes batches while the readable side wants them: complete ones, or with `all` every line. */
  #pump (all) {
    const encoder = this[kEncoder]
    while (this[kWant] && encoder.ready(all) && !this.destroyed) this[kWant] = this.push(encoder.take(all))
  }

  /** Pushes every line not pushed yet, whether or not the reader wants more (end, or an error next). */
  #pushAll () {
    const encoder = this[kEncoder]
    while (!this.destroyed && encoder.ready(true)) this.push(encoder.take(true))
  }

  #scheduleIdle () {
    if (this[kIdle] === null) this[kIdle] = setImmediate(() => this.#idle())
  }

  #cancelIdle () {
    if (this[kIdle] !== null) clearImmediate(this[kIdle])
    this[kIdle] = null
  }

  /** The writes stopped for a turn: push the incomplete batch (or owe it to `_read`). */
  #idle () {
    this[kIdle] = null
    if (this.destroyed) return
    this.#pump(true)
    if (!this[kWant] && this[kEncoder].ready(true)) this[kOwed] = true
  }
}

// end() and uncork() as every sluice Writable side has them (lib/inflight.js).
mendEndAndUncork(NdjsonStringifier)

module.exports = { NdjsonStringifier, NdjsonEncoder, encoderOptions, addValue, KNOWN_OPTIONS, MAX_BATCH, NULL }
