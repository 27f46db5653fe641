'use strict'

// InlineParser: the first lines of an NdjsonParser, parsed right here on the JS thread, so that
// a stream that only ever sees a little input (a request body, an event now and then) never
// needs its native handle. That handle (a task, references, a threadsafe function) is most of
// what a short-lived parser cost: ~15 µs of its ~25, against ~1 µs for a whole core PassThrough.
// Bulk input goes to the native side, where it is parsed off this thread.
//
// It takes only what it can decide exactly as the native parser (src/ndjson/) would, and hands
// everything else over (lib/transport.js then creates the native handle, resumed from
// `resumeState()`, and writes `remainder()` to it):
// * only chunks that keep what it holds within INLINE_BYTES, and at most INLINE_BYTES of input
//   between two `output()` calls (more is bulk: it belongs on a worker);
// * only lines that are valid UTF-8, at most `maxLineBytes` long, and either blank (skipped and
//   counted, unless blankLines is 'error') or accepted by JSON.parse — V8's own grammar, which
//   the native validator matches (its V8-agreement tests). The first line it would have to
//   *report* (invalid JSON or UTF-8, a BOM, too long, blank under 'error') is where it stops:
//   every report, the invalid-line counts and the error policy stay native, written once.
// Framing is the native framer's (src/ndjson/framer.rs): lines end at `\n`, a `\r` before it is
// part of the terminator, a final line without one is still a line, line numbers count blank
// lines, offsets are byte positions in the stream.
//
// Invariants:
// * `offset` is the stream position of the first byte not framed into a line yet; those bytes
//   are `carry` (copied: the writer may reuse its chunk once its callback ran). After a stop they
//   are `rest`, and nothing before `offset` is handed over twice or lost.
// * The counters are the native stage's, kept live as lines are parsed (`bytes` counts every byte
//   taken), and published to `stats()` at `output()`, i.e. when the values go out: the native
//   stage also parses at the kick, not in `write()`, so `stats()` reads the same on both paths.
//   The hand-over passes the live ones (with `bytes`, the part of the remainder already counted).
// * Values wait in `values` until `output()`; only the stream's JS thread touches any of this.

const { isUtf8 } = require('node:buffer')

/** The most input held or parsed between two outputs; as INLINE_BYTES in src/transport/pipe.rs. */
const INLINE_BYTES = 4 * 1024

/**
 * Whether new parsers parse small input here. Only the test suite turns it off, to run its
 * small inputs through the native parser too (__test__/ndjson-native-small.spec.js), and the
 * `sluice-pool` candidate of `npm run bench:concurrency`, to measure the pool alone.
 */
const inlineParsing = { enabled: true }

const EMPTY = Buffer.alloc(0)
const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const TAB = 0x09
const BOM_FIRST_BYTE = 0xef

class InlineParser {
  /**
   * @param {object} config `maxLineBytes`; `blankLinesInvalid`; `rawLines` (output 'lines':
   *   values are the lines' bytes); `positions` (output 'envelopes': keep line and offset)
   */
  constructor ({ maxLineBytes, blankLinesInvalid, rawLines, positions }) {
    this.maxLineBytes = maxLineBytes
    this.blankLinesInvalid = blankLinesInvalid
    this.rawLines = rawLines
    this.carry = EMPTY
    this.rest = null
    this.line = 1
    this.offset = 0
    this.pendingBytes = 0
    this.values = []
    this.positions = positions ? [] : null
    // The native stage's counters (src/ndjson/mod.rs STAT_NAMES, ParserResume), as far as JS
    // got; `published` is the copy `stats()` reads.
    this.counts = { lines: 0, bytes: 0, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 }
    this.published = { ...this.counts }
  }

  /** Parses `chunk`. False: hand the stream over (the chunk's unparsed part is in `remainder()`). */
  take (chunk) {
    const carry = this.carry
    const size = carry.length + chunk.length
    if (size > INLINE_BYTES || this.pendingBytes + chunk.length > INLINE_BYTES) {
      this.rest = carry.length === 0 ? chunk : Buffer.concat([carry, chunk], size)
      this.carry = EMPTY
      return false
    }
    this.counts.bytes += chunk.length
    this.pendingBytes += chunk.length
    const buf = carry.length === 0 ? chunk : Buffer.concat([carry, chunk], size)
    const framed = buf.lastIndexOf(LF) + 1
    const stop = this.frame(buf, framed)
    if (stop < framed) {
      this.rest = buf.subarray(stop)
      this.carry = EMPTY
      return false
    }
    // A line longer than maxLineBytes goes to the native framer, which reports it (at once,
    // when the stream fails on the first invalid line).
    if (buf.length - framed > this.maxLineBytes) {
      this.rest = buf.subarray(framed)
      this.carry = EMPTY
      return false
    }
    this.carry = framed === buf.length ? EMPTY : Buffer.from(buf.subarray(framed))
    return true
  }

  /** The end of input: parses a last line without a newline. False: hand the stream over. */
  finish () {
    const carry = this.carry
    if (carry.length === 0) return true
    if (this.frame(carry, carry.length) === 0) {
      this.rest = carry
      this.carry = EMPTY
      return false
    }
    this.carry = EMPTY
    return true
  }

  /**
   * Frames and parses the lines of `buf[0, end)` (all ending in `\n`, but for a last line at the
   * end of input); returns where it stopped: `end`, or the start of the first line it leaves to
   * the native side.
   */
  frame (buf, end) {
    if (end === 0) return 0
    // Line 1 may start with a BOM, which the native framer strips and counts: not ours. Any other
    // line starting with that byte is invalid JSON anyway.
    if (this.line === 1 && buf[0] === BOM_FIRST_BYTE) return 0
    if (!isUtf8(end === buf.length ? buf : buf.subarray(0, end))) return 0
    const values = this.values
    const positions = this.positions
    const counts = this.counts
    let start = 0
    while (start < end) {
      let newline = buf.indexOf(LF, start)
      if (newline === -1 || newline >= end) newline = end
      let stop = newline
      if (stop > start && buf[stop - 1] === CR) stop--
      const length = stop - start
      if (length > this.maxLineBytes) return start
      let i = start
      let c
      while (i < stop && ((c = buf[i]) === SPACE || c === TAB || c === CR)) i++
      if (i === stop) {
        if (this.blankLinesInvalid) return start
        counts.blankLines++
      } else {
        let value
        try {
          value = JSON.parse(buf.toString('utf8', start, stop))
        } catch {
          return start
        }
        values.push(this.rawLines ? Buffer.from(buf.subarray(start, stop)) : value)
        if (positions !== null) positions.push(this.line, this.offset)
        counts.values++
      }
      counts.lines++
      if (length > counts.longestLine) counts.longestLine = length
      this.line++
      this.offset += newline + 1 - start
      start = newline + 1
    }
    return end
  }

  /** The values parsed since the last call (and their [line, offset] pairs), or null. */
  output () {
    this.pendingBytes = 0
    this.published = { ...this.counts }
    const values = this.values
    if (values.length === 0) return null
    const positions = this.positions
    this.values = []
    if (positions !== null) this.positions = []
    return { values, positions }
  }

  /** Where the native parser goes on (its ParserResume). */
  resumeState () {
    return { line: this.line, offset: this.offset, ...this.counts }
  }

  /** The input not parsed here, from the first line left to the native side. */
  remainder () {
    return this.rest ?? this.carry
  }

  /** The counters as of the last output, as the native handle's `stats()` names them. */
  stats () {
    return { ...this.published }
  }
}

module.exports = { InlineParser, inlineParsing }
