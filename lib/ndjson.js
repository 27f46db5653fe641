'use strict'

// NdjsonParser: NDJSON bytes in, JS values out.
//
// The native side (src/ndjson/) frames lines, checks each one against V8's JSON grammar and,
// where that pays, takes it apart into typed columns plus a shape id, all on the worker thread;
// here a constructor compiled once per shape (lib/shapes.js) builds the values from the columns —
// several times faster than JSON.parse on number-heavy records. Records made mostly of plain
// strings and keys (where JSON.parse is near memcpy speed), lines the shaper declines, and every
// line when a reviver needs the text come as text with each line's span, for one JSON.parse per
// line (faster than one per `[line,…]` batch on real records). Invalid lines arrive as their own events, in input order, and
// become an 'invalid' event (onInvalid: 'skip') or the stream's error.
//
// A JSON `null` line must never reach `push(null)` — that would end the stream — so in 'values'
// output it is pushed as `options.nullValue` (default: the `NULL` symbol). The other outputs
// wrap values and need no such mapping.

const { MAX_STRING_LENGTH } = require('node:buffer').constants
const native = require('./native.js')
const { NdjsonError, asError } = require('./errors.js')
const { NativeTransform, pushEntry } = require('./transport.js')
const { shapeBuilder } = require('./shapes.js')
const { InlineParser, NativeInputWatch, inlineParsing } = require('./ndjson/inline.js')
const {
  STREAM_OPTIONS,
  pickStreamOptions,
  rangeError,
  refuseWith,
  typeError,
  validateFunction,
  validateInteger,
  validateOneOf,
  validateOptionsObject
} = require('./options.js')

/** What a JSON `null` line becomes in 'values' output unless `nullValue` says otherwise. */
const NULL = Symbol.for('sluice.null')

const OUTPUTS = ['values', 'batches', 'lines', 'envelopes']
const KNOWN_OPTIONS = [
  'output', 'onInvalid', 'maxInvalid', 'blankLines', 'maxLineBytes', 'nullValue', 'reviver',
  'where', 'select', ...STREAM_OPTIONS
]

const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024
// Batches of 16–64 KiB parse fastest; larger ones cost more in GC (feasibility.md §3.3).
const BATCH_BYTES = 64 * 1024
// Bounds of the transport: input bytes queued to the worker, batches in flight back to JS. A
// worker parked on credits is woken once half are back (src/transport/pipe.rs), so it makes that
// many batches per wake-up; while the JS thread builds a delivery's values it feeds no input, so
// the queue must last the worker that long. With 2 credits every batch cost a wake-up; with 4
// and 128 KiB the worker ran dry (2026-12-02: 4 credits, 256 KiB: GeoJSON counties −13 % wall
// time, generated medium −8 %). Once the native stage ran at ~1.1–1.3 GB/s (2026-12-05) both
// sides waited on each other again. 6 credits and 384 KiB against 4 and 256 KiB, both in one
// `npm run bench` (100 MB from memory, median of 7): GeoJSON countries and generated small and
// medium +4 % MB/s, large +12 %, counties the same, process CPU −1 to −5 %; from a file within
// the spread. 8 credits and 512 KiB gained 4–8 % in the same kind of run, and 1 MiB 2–3 % more,
// but a consumer that stops then lets a producer write 1088 KiB, past `npm run bench:limits`'
// bound of 1 MiB; with these it lets in 832 KiB (576 KiB with 4 and 256 KiB).
const INPUT_BYTES = 384 * 1024
const CREDITS = 6

// Batch forms, as in src/ndjson/batch.rs.
const FORM_TEXT = 0
// A declined line's span start with this bit set points into the batch's non-ASCII text.
const WIDE_SPAN = 2 ** 31

const ZERO_STATS = Object.freeze({ lines: 0, bytes: 0, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 })
// With `where` or `select`: valid lines that passed `where` and those it dropped.
const ZERO_FILTER_STATS = Object.freeze({ ...ZERO_STATS, matchedLines: 0, filteredLines: 0 })

const kOutput = Symbol('kOutput')
const kNullValue = Symbol('kNullValue')
const kReviver = Symbol('kReviver')
const kBuilders = Symbol('kBuilders')
const kCursor = Symbol('kCursor')
const kShape = Symbol('kShape')
const kFiltering = Symbol('kFiltering')
const kItems = Symbol('kItems')
const kRevivedTo = Symbol('kRevivedTo')
const kWatch = Symbol('kWatch')

class NdjsonParser extends NativeTransform {
  constructor (options) {
    const opts = validateOptionsObject(options, 'NdjsonParser', KNOWN_OPTIONS)
    const output = validateOneOf(opts, 'output', OUTPUTS, 'values')
    const onInvalid = validateOneOf(opts, 'onInvalid', ['error', 'skip'], 'error')
    const blankLines = validateOneOf(opts, 'blankLines', ['skip', 'error'], 'skip')
    const maxInvalid = validateInteger(opts, 'maxInvalid', 0, Number.MAX_SAFE_INTEGER, Infinity, { allowInfinity: true })
    if (onInvalid === 'error') refuseWith(opts, 'maxInvalid', `onInvalid '${onInvalid}', which fails the stream on the first invalid line (maxInvalid applies to onInvalid 'skip')`)
    const maxLineBytes = validateInteger(opts, 'maxLineBytes', 1, MAX_STRING_LENGTH - 2, DEFAULT_MAX_LINE_BYTES)
    const reviver = validateFunction(opts, 'reviver')
    if (output !== 'values') {
      refuseWith(opts, 'nullValue', `output '${output}', ${output === 'lines' ? 'whose lines are bytes' : 'which carries null lines as null'} (nullValue is for output 'values')`)
    }
    if (opts.nullValue === null) {
      const err = new TypeError('The "options.nullValue" option must not be null: push(null) would end the stream. Use output \'envelopes\' or \'batches\' to see nulls as they are.')
      err.code = 'ERR_INVALID_ARG_VALUE'
      throw err
    }
    // `undefined` means the default, as for every option here and in core.
    const nullValue = opts.nullValue === undefined ? NULL : opts.nullValue
    if (output === 'lines') refuseWith(opts, 'reviver', 'output \'lines\', which does not parse values')

    const filter = filterOptions(opts)
    const filtering = filter.whereExpr !== undefined || filter.whereObject !== undefined || filter.select !== undefined
    const config = {
      rawLines: output === 'lines',
      // With a reviver, so that the error of a line it throws on can say which line.
      positions: output === 'envelopes' || reviver !== undefined,
      spans: reviver !== undefined,
      columns: output !== 'lines' && reviver === undefined,
      maxLineBytes,
      blankLinesInvalid: blankLines === 'error',
      skipInvalid: onInvalid === 'skip',
      maxInvalid: maxInvalid === Infinity ? -1 : maxInvalid,
      batchBytes: BATCH_BYTES,
      inputBytes: INPUT_BYTES,
      credits: CREDITS
    }
    // Small input is parsed on this thread until there is more (lib/ndjson/inline.js), and so is
    // bulk input of plain-string records (text mode) except for 'lines', which the native side
    // frames and checks several times faster than JSON.parse can. Not with a filter (the native
    // side evaluates it) or a reviver (whose throw is told apart from a syntax error only by the
    // native validator).
    const inline = filtering || reviver !== undefined || !inlineParsing.enabled
      ? null
      : new InlineParser(config, output !== 'lines')
    super(
      { ...pickStreamOptions(opts), readableObjectMode: true, writableObjectMode: false },
      (owner, onEvents, resume) => native.createNdjsonParser(parserSettings(filter, config), owner, onEvents, resume),
      inline
    )
    this[kOutput] = output
    this[kNullValue] = nullValue
    this[kReviver] = reviver
    this[kBuilders] = [null]
    this[kCursor] = { n: 0, s: 0 }
    this[kShape] = output === 'values' ? shapeForValues : output === 'envelopes' ? shapeForEnvelopes : same
    this[kItems] = output === 'batches' ? batchItems : valueItems
    this[kFiltering] = filtering
    // The counters after a reviver threw (reviverFailure), or null.
    this[kRevivedTo] = null
    // Once native, whether records have turned to plain strings that text mode would take back.
    this[kWatch] = inline === null || output === 'lines' ? null : new NativeInputWatch(config)
  }

  _jsStageBoundary (chunk) {
    return this[kWatch] === null ? -1 : this[kWatch].boundary(chunk)
  }

  _jsStageAfter (stats) {
    return this[kWatch].stage(stats)
  }

  /**
   * Output 'lines' pushes each line's bytes, which setEncoding() turns into strings. The other
   * outputs push values: core would hand each to its StringDecoder, which throws, and here that
   * throw would come from the native side's callback, an uncaught exception far from the call
   * that caused it (core's own object-mode streams throw it from write()). Refused here instead.
   */
  setEncoding (encoding) {
    if (this[kOutput] !== 'lines') {
      const err = new TypeError(`NdjsonParser.setEncoding(): output '${this[kOutput]}' pushes JavaScript values, not bytes; setEncoding() applies to output 'lines' only`)
      err.code = 'ERR_INVALID_STATE'
      throw err
    }
    return super.setEncoding(encoding)
  }

  /**
   * Counters of what the native side has processed: lines, bytes, values, blankLines,
   * invalidLines, longestLine (bytes), and with `where`/`select` matchedLines and filteredLines
   * (values = matchedLines + filteredLines). After 'end' they cover the whole input.
   */
  stats () {
    const { matchedLines, filteredLines, ...stats } = { ...ZERO_FILTER_STATS, ...this._nativeStats(), ...this[kRevivedTo] }
    return this[kFiltering] ? { ...stats, matchedLines, filteredLines } : { ...ZERO_STATS, ...stats }
  }

  _nativeData (batch) {
    const [, body, count, positions, spans, reports] = batch
    let values
    let failure = null
    if (this[kOutput] === 'lines') {
      values = sliceLines(body, spans, count)
    } else {
      try {
        values = batchValues(this, batch)
      } catch (err) {
        // A reviver threw on some line: the lines before it still come out, then the error.
        if (!(err instanceof RevivedPart)) throw err
        values = err.values
        failure = err.cause
      }
      values = this[kShape](values, positions)
    }
    const fail = failure === null ? null : reviverFailure(failure, batch, values.length)
    const items = this[kItems]
    if (reports === null) return pushEntry(items(values), fail)
    // Invalid lines travel in the batch, each after the values of the lines before it.
    const entries = []
    let from = 0
    for (const [at, report] of reports) {
      if (at > values.length) break // after a reviver failure
      if (at > from) entries.push(pushEntry(items(values.slice(from, at))))
      entries.push(invalidLineAction(report))
      from = at
    }
    entries.push(pushEntry(items(values.slice(from)), fail))
    return entries
  }

  /** Values the InlineParser parsed on this thread: pushed as a native batch's would be. */
  _jsStageData ({ values, positions }) {
    return pushEntry(this[kItems](this[kShape](values, positions)))
  }
}

// 'batches' pushes each run of values as one array; the other outputs push each value.
function batchItems (run) {
  return run.length > 0 ? [run] : []
}

function valueItems (run) {
  return run
}

// Native settings, one per distinct configuration: the native side reads the options object
// once, not once per parser (those reads were ~a fifth of a one-line parser's JS-thread time).
// Bounded, oldest out: programs use a handful of configurations, but a `where` built per request
// must not grow it without limit.
const SETTINGS_CACHE_ENTRIES = 64
const settingsCache = new Map()

function parserSettings (filter, config) {
  let key = ''
  for (const name in config) key += `${config[name]},`
  if (filter.whereExpr !== undefined) key += `w${JSON.stringify(filter.whereExpr)}`
  if (filter.whereObject !== undefined) key += `o${filter.whereObject}`
  if (filter.select !== undefined) key += `s${JSON.stringify(filter.select)}`
  let settings = settingsCache.get(key)
  if (settings === undefined) {
    settings = new native.NdjsonParserSettings({ ...filter, ...config })
    if (settingsCache.size >= SETTINGS_CACHE_ENTRIES) settingsCache.delete(settingsCache.keys().next().value)
    settingsCache.set(key, settings)
  }
  return settings
}

/**
 * `where` and `select` as the native side takes them, checked (and compiled once) here so a bad
 * one is thrown by the constructor: a TypeError naming the option and the place, or a
 * SyntaxError pointing at the column of a string-form `where`.
 */
function filterOptions (opts) {
  const filter = {}
  const where = opts.where
  if (typeof where === 'string') {
    const at = loneSurrogateAt(where)
    if (at !== -1) {
      throw invalidArgValue(`The "options.where" expression is invalid at column ${at + 1}: ${loneSurrogate(where, at)} (write it as an escape in a string: "\\u${hex(where, at)}")`, SyntaxError)
    }
    filter.whereExpr = where
  } else if (where !== undefined) {
    if (!isPlainObject(where)) {
      // Not the message of a node inside it (checkWhereObject), which may also be a scalar.
      throw typeError('options.where', 'a string or a plain object', where)
    }
    checkWhereObject(where)
    filter.whereObject = JSON.stringify(where)
  }
  const select = opts.select
  if (select !== undefined) {
    if (!Array.isArray(select)) throw typeError('options.select', 'an array of paths (strings)', select)
    // An index loop, not forEach: forEach skips the holes of a sparse array (`[, 'a']`).
    for (let i = 0; i < select.length; i++) {
      const path = select[i]
      if (typeof path !== 'string') throw typeError(`options.select[${i}]`, 'a string', path)
      const at = loneSurrogateAt(path)
      if (at !== -1) {
        throw invalidArgValue(`The "options.select[${i}]" path is invalid at column ${at + 1}: ${loneSurrogate(path, at)} (quote the key, with an escape: ["\\u${hex(path, at)}"])`)
      }
    }
    filter.select = [...select]
  }
  if (Object.keys(filter).length > 0) {
    const refused = native.checkNdjsonFilter(filter.whereExpr, filter.whereObject, filter.select)
    if (refused !== null) {
      const [syntax, message] = refused
      throw invalidArgValue(message, syntax ? SyntaxError : TypeError)
    }
  }
  return filter
}

function invalidArgValue (message, ErrorClass = TypeError) {
  const err = new ErrorClass(message)
  err.code = 'ERR_INVALID_ARG_VALUE'
  return err
}

/**
 * The index of the first lone surrogate in `text`, or -1. Paths and expressions reach the native
 * side as UTF-8, where one has no encoding (it would become U+FFFD and name another key).
 */
function loneSurrogateAt (text) {
  if (text.isWellFormed()) return -1
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0xd800 || unit > 0xdfff) continue
    const next = text.charCodeAt(i + 1)
    if (unit > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return i
    i++
  }
  return -1
}

function hex (text, at) {
  return text.charCodeAt(at).toString(16)
}

function loneSurrogate (text, at) {
  return `a lone surrogate (U+${hex(text, at).toUpperCase()}) is not text`
}

// As NESTING_LIMIT in src/ndjson/filter/mod.rs: `and`, `or` and `not` nest at most this deep,
// as `not` and parentheses do in the string form. Checked here before anything recursive
// (JSON.stringify, the native check) sees the object: a hostile depth must be an error, never a
// stack overflow of the calling thread (which may be a worker with a small stack).
const WHERE_NESTING_LIMIT = 256
const WHERE_LOGIC = new Set(['and', 'or', 'not'])
// JSON containers at most: two per level of logic (`{ and: [ … ] }`), the test and an operand.
const WHERE_JSON_DEPTH = 2 * WHERE_NESTING_LIMIT + 2

/** An object literal's kind of object (or one made with a null prototype): no array, Map or class instance. */
function isPlainObject (value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Throws unless the object form of `where` is plain JSON data that JSON.stringify keeps exactly
 * (no NaN, undefined, RegExp…), nested no deeper than the native side accepts. Iterative.
 */
function checkWhereObject (where) {
  // [value, its place, levels of logic (1 at the top), JSON depth]
  const pending = [[where, 'options.where', 1, 1]]
  while (pending.length > 0) {
    const [value, name, levels, depth] = pending.pop()
    if (value === null || typeof value === 'string' || typeof value === 'boolean') continue
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw rangeError(name, 'a finite number', value)
      continue
    }
    if (!Array.isArray(value) && !isPlainObject(value)) {
      throw typeError(name, 'a string, a finite number, a boolean, null, an array or a plain object', value)
    }
    if (levels > WHERE_NESTING_LIMIT || depth > WHERE_JSON_DEPTH) {
      const why = levels > WHERE_NESTING_LIMIT
        ? `and, or and not nest at most ${WHERE_NESTING_LIMIT} levels deep`
        : 'an operand is a scalar or an array of scalars'
      throw invalidArgValue(`The "${shortPlace(name)}" option is invalid: nested too deeply (${why})`)
    }
    // Pushed last first, so that the first fault in input order is the one reported.
    const children = Array.isArray(value)
      ? value.map((item, i) => [item, `${name}[${i}]`, levels, depth + 1])
      : Object.keys(value).map((key) => [value[key], `${name}.${key}`, WHERE_LOGIC.has(key) ? levels + 1 : levels, depth + 1])
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i])
  }
}

/** A place for a message: one 256 levels deep is a kilobyte long (as `shorten` in predicate.rs). */
function shortPlace (name) {
  const chars = [...name]
  return chars.length <= 81 ? name : `${chars.slice(0, 40).join('')}…${chars.slice(-40).join('')}`
}

/** Values as the output pushes them: nulls mapped (values), wrapped (envelopes), or as they are. */
function shapeForValues (values) {
  const nullValue = this[kNullValue]
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) values[i] = nullValue
  }
  return values
}

function same (values) {
  return values
}

function shapeForEnvelopes (values, positions) {
  const envelopes = new Array(values.length)
  for (let i = 0; i < values.length; i++) {
    envelopes[i] = { line: positions[2 * i], offset: positions[2 * i + 1], value: values[i] }
  }
  return envelopes
}

/**
 * The action that fails the stream when the reviver threw on value `at` of a Text `batch`. The
 * native stage counted lines ahead of the reviver, as far as its input and credits let it (which
 * depends on the chunking), so from then on `stats()` are the counters as they stood before that
 * line, which the batch carries per value: but for `bytes` (the input taken, as after any
 * failure), they then cover the lines the stream delivered or reported, whatever the chunking.
 */
function reviverFailure (failure, batch, at) {
  return function failReviver () {
    const counts = batch[6]
    const live = this._nativeStats()
    const names = Object.keys(live)
    const width = counts.length / batch[2]
    const revivedTo = {}
    for (let k = 0; k < width; k++) {
      if (names[k] !== 'bytes') revivedTo[names[k]] = counts[at * width + k]
    }
    this[kRevivedTo] = revivedTo
    this.destroy(failure)
  }
}

/** Thrown by parseText when the reviver throws: the values before that line, and the error. */
class RevivedPart {
  constructor (values, cause) {
    this.values = values
    this.cause = cause
  }
}

/** The values of one batch, in line order. */
function batchValues (stream, batch) {
  if (batch[0] === FORM_TEXT) return parseText(stream, batch[1], batch[4], batch[2], batch[3])
  const [, text, count, , spans, , ids, nums, table, ends, newShapes, wide] = batch
  const builders = stream[kBuilders]
  if (newShapes !== null) {
    for (const [id, signature] of newShapes) builders[id] = shapeBuilder(signature)
  }
  // Lines the native side left to JSON.parse (id 0) are parsed one by one from their spans: in
  // `text` (latin1, the ASCII lines) or, when the start has bit 31 set, in `wide` (the others).
  // On real records that beat one JSON.parse of a whole `[…]` batch.
  let d = 0
  const cursor = stream[kCursor]
  cursor.n = 0
  cursor.s = 0
  const values = new Array(count)
  for (let i = 0; i < count; i++) {
    const id = ids[i]
    if (id === 0) {
      const start = spans[d]
      values[i] = start < WIDE_SPAN
        ? JSON.parse(text.slice(start, spans[d + 1]))
        : JSON.parse(wide.slice(start - WIDE_SPAN, spans[d + 1]))
      d += 2
    } else {
      values[i] = builders[id](nums, table, ends, cursor)
    }
  }
  return values
}

/** Values from `[line,…]` text. With a reviver, each line is parsed on its own, as `JSON.parse(line, reviver)` would. */
function parseText (stream, text, spans, count, positions) {
  const reviver = stream[kReviver]
  if (reviver === undefined) return JSON.parse(text)
  const values = []
  for (let i = 0; i < count; i++) {
    try {
      values.push(JSON.parse(text.slice(spans[2 * i], spans[2 * i + 1]), reviver))
    } catch (err) {
      // An Error it threw is the stream's error untouched; ours for a non-error says where.
      const where = { line: positions[2 * i], offset: positions[2 * i + 1] }
      throw new RevivedPart(values, asError(err, 'ERR_SLUICE_REVIVER', 'the reviver', where))
    }
  }
  return values
}

function sliceLines (buffer, ends, count) {
  const lines = new Array(count)
  let start = 0
  for (let i = 0; i < count; i++) {
    lines[i] = buffer.subarray(start, ends[i])
    start = ends[i]
  }
  return lines
}

/** An action that reports one invalid line: an 'invalid' event, the stream's error, or both. */
function invalidLineAction ([code, line, offset, excerpt, reason, fatal]) {
  const info = { code, line, offset, excerpt, reason }
  return function reportInvalidLine () {
    if (fatal === 1) {
      this.destroy(new NdjsonError(code, info))
      return
    }
    // A listener that throws is the caller's problem, as with any EventEmitter (the exception
    // propagates; see lib/transport.js), but the stream still fails when maxInvalid says so.
    try {
      this.emit('invalid', info)
    } finally {
      if (fatal === 2) {
        const { invalidLines } = this.stats()
        this.destroy(new NdjsonError('ERR_SLUICE_TOO_MANY_INVALID', info,
          `Too many invalid NDJSON lines (${invalidLines}, over maxInvalid); the last was line ${line} (byte offset ${offset}): ${reason}`))
      }
    }
  }
}

module.exports = { NdjsonParser, NULL, KNOWN_OPTIONS, INPUT_BYTES }
