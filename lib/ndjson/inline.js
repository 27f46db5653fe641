'use strict'

// InlineParser: the first lines of an NdjsonParser, parsed right here on the JS thread, so that
// a stream that only ever sees a little input (a request body, an event now and then) never
// needs its native handle. That handle (a task, references, a threadsafe function) is most of
// what a short-lived parser cost: ~15 µs of its ~25, against ~1 µs for a whole core PassThrough.
// Bulk input goes to the native side, where it is parsed off this thread — unless it is made of
// plain strings and keys (GitHub API payloads, most logs), where `JSON.parse` reads near copy
// speed, shape-built values do not pay, and the worker's hand-off (a copy of each chunk, a wake-up,
// a string per batch) cost more than it saved: 0.6–0.9× a plain JS parser from memory — or of
// text with many non-ASCII characters (tweets), which simdutf decodes here a chunk at a time
// (`wideText`) faster than the worker could hand it over. Such a stream stays here in *text
// mode* (`textMode`): one decode per chunk (per line in a chunk with a little non-ASCII text),
// `JSON.parse` per line, no size limit. The choice is made on the first bulk chunk, by the
// measure the native shaper uses (`text_mode` in src/ndjson/shape.rs: numbers but short
// integers, escaped and non-ASCII strings, non-ASCII bytes), asked of the native side so that it
// is written once; number-heavy streams go native as before, and so does a text-mode stream
// whose records turn number-heavy (the choice is checked again every TEXT_MODE_RECHECK_BYTES).
// The other way too: a native stream whose records turn to plain strings is taken back by a new
// InlineParser in text mode (`NativeInputWatch`; lib/transport.js, "Back to the JS stage").
//
// It takes only what it can decide exactly as the native parser (src/ndjson/) would, and hands
// everything else over (lib/transport.js then creates the native handle, resumed from
// `resumeState()`, and writes `remainder()` to it):
// * only chunks that keep what it holds within INLINE_BYTES, and at most INLINE_BYTES of input
//   between two `output()` calls (more is bulk: it belongs on a worker), unless in text mode;
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

const { isAscii, isUtf8, constants: { MAX_STRING_LENGTH } } = require('node:buffer')
const native = require('../native.js')

/** The most input held or parsed between two outputs; as INLINE_BYTES in src/transport/pipe.rs. */
const INLINE_BYTES = 4 * 1024
/** In text mode, input parsed before its values go out (and further writes wait for that): a
 * source that writes many chunks in one turn (a Buffer in memory) would otherwise have them all
 * parsed first, and values held that long cost 3× the GC. */
const TEXT_MODE_BYTES = 64 * 1024
/** Bytes of the first bulk chunk read to choose text mode. */
const SAMPLE_BYTES = 32 * 1024
/** In text mode, input parsed between two checks that the records are still plain strings. */
const TEXT_MODE_RECHECK_BYTES = 4 * 1024 * 1024
/** Once native, input between two checks that the records have not turned to plain strings, and
 * the most each check reads: a stream that stays native pays ~5 µs per MiB for them (0.2 % of its
 * JS thread's time on GeoJSON), one that turns is taken back within about a MiB. */
const NATIVE_RECHECK_BYTES = 1024 * 1024
const NATIVE_SAMPLE_BYTES = 8 * 1024
/** The least a re-check reads, in whole lines: a few values' worth, not one short record. */
const MIN_RECHECK_SAMPLE = 1024
/** A carry grown past this (a line longer than about a chunk) is let go once its line is framed:
 * a stream keeps no more than this between lines, whatever lines it once saw. */
const CARRY_KEPT_BYTES = 64 * 1024

/**
 * Whether new parsers parse small input here. Only the test suite turns it off, to run its
 * small inputs through the native parser too (__test__/ndjson-native-small.spec.js), and the
 * `sluice-pool` candidate of `npm run bench:concurrency`, to measure the pool alone.
 */
const inlineParsing = { enabled: true }

// Where bulk input is parsed, as `TextMode` in src/ndjson/shape.rs (native.ndjsonTextMode).
const WORKER = 0
const WIDE_TEXT = 2

const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const TAB = 0x09
const BOM_FIRST_BYTE = 0xef

class InlineParser {
  /**
   * @param {object} config `maxLineBytes`; `blankLinesInvalid`; `rawLines` (output 'lines':
   *   values are the lines' bytes); `positions` (output 'envelopes': keep line and offset)
   * @param {boolean} textModeAllowed whether bulk input may stay here (text mode)
   */
  constructor ({ maxLineBytes, blankLinesInvalid, rawLines, positions }, textModeAllowed = false) {
    this.maxLineBytes = maxLineBytes
    // Text mode: bulk input parsed here too (see the top of this file); chosen at most once,
    // left at most once (at a re-check, from `recheckAt` on).
    this.textModeAllowed = textModeAllowed
    this.textMode = false
    // In text mode: text with many non-ASCII characters, whose chunks are decoded by simdutf in
    // one call each (see `frame`).
    this.wideText = false
    this.recheckAt = 0
    // Whole lines gathered for a re-check that is due (see keepTextMode).
    this.recheckLines = []
    this.recheckBytes = 0
    // A line that started in an earlier write, gathered from its start for a re-check (copies),
    // or null.
    this.recheckOpen = null
    this.recheckOpenBytes = 0
    this.blankLinesInvalid = blankLinesInvalid
    this.rawLines = rawLines
    // The bytes after the last newline, copied into `carry` (see `keep`): `carryBytes` of it are
    // in use, all ASCII if `carryAscii`.
    this.carry = null
    this.carryBytes = 0
    this.carryAscii = true
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

  /**
   * A stage that takes a native stream back in text mode (`mode`, WIDE_TEXT or not) at a line
   * start, from the native stage's final counters `stats`: the next line is `lines + 1`, at byte
   * `bytes` (the native stage framed everything it was given, up to a newline).
   */
  static resumed (config, stats, mode) {
    const stage = new InlineParser(config)
    stage.line = stats.lines + 1
    stage.offset = stats.bytes
    for (const name of Object.keys(stage.counts)) stage.counts[name] = stats[name]
    stage.published = { ...stage.counts }
    stage.setTextMode(mode)
    stage.recheckAt = stats.bytes + TEXT_MODE_RECHECK_BYTES
    return stage
  }

  /** Parses `chunk`. False: hand the stream over (the chunk's unparsed part is in `remainder()`). */
  take (chunk) {
    const carried = this.carryBytes
    const handOver = this.textMode
      ? this.counts.bytes >= this.recheckAt && !this.keepTextMode(chunk)
      : (carried + chunk.length > INLINE_BYTES || this.pendingBytes + chunk.length > INLINE_BYTES) &&
        !this.chooseTextMode(chunk)
    if (handOver) {
      this.rest = carried === 0 ? chunk : Buffer.concat([this.takeCarry(), chunk])
      return false
    }
    this.counts.bytes += chunk.length
    this.pendingBytes += chunk.length
    // One check of the whole chunk: its lines need none of their own when it is all ASCII.
    const ascii = isAscii(chunk)
    // The line the carry began ends in this chunk: completed in the carry and framed on its own,
    // so that the rest of the chunk is read where it is instead of copied after the carry.
    let start = 0
    if (carried > 0) {
      const newline = chunk.indexOf(LF)
      if (newline === -1) {
        this.keep(chunk, 0, chunk.length, ascii)
        return this.carryFits()
      }
      start = newline + 1
      this.keep(chunk, 0, start, ascii)
      const head = this.carry
      const length = this.carryBytes
      this.carryBytes = 0
      if (this.frame(head, 0, length, this.carryAscii) === 0) {
        this.rest = Buffer.concat([head.subarray(0, length), chunk.subarray(start)])
        return false
      }
      // One long line should not size the buffer kept for the rest of the stream.
      if (head.length > CARRY_KEPT_BYTES) this.carry = null
    }
    const framed = chunk.lastIndexOf(LF) + 1
    if (framed > start) {
      const stop = this.frame(chunk, start, framed, ascii)
      if (stop < framed) {
        this.rest = chunk.subarray(stop)
        return false
      }
    }
    if (framed < chunk.length) this.keep(chunk, framed, chunk.length, ascii)
    return this.carryFits()
  }

  /**
   * Copies `chunk[from, to)` after the carry (the writer may reuse its chunk once its callback
   * ran). The carry's buffer is kept from line to line and grows by doubling, so a line spread
   * over many chunks costs O(length), and once it has grown to a stream's usual tail, lines that
   * straddle chunks allocate nothing.
   */
  keep (chunk, from, to, ascii) {
    const length = this.carryBytes + to - from
    if (this.carry === null || this.carry.length < length) {
      // Sized by what it must hold, not a fixed start: a short-lived parser's short tail stays a
      // slice of Node's shared pool, as a copy of it would be, and a bulk stream's buffer settles
      // within a few lines at about twice its longest tail.
      const grown = Buffer.allocUnsafe(Math.max(length, 2 * (this.carry?.length ?? 0)))
      if (this.carryBytes > 0) this.carry.copy(grown, 0, 0, this.carryBytes)
      this.carry = grown
    }
    if (this.carryBytes === 0) this.carryAscii = true
    this.carryAscii &&= ascii
    chunk.copy(this.carry, this.carryBytes, from, to)
    this.carryBytes = length
  }

  /** The carried bytes as a Buffer of their own; empties the carry. */
  takeCarry () {
    const carry = this.carryBytes === 0 ? Buffer.alloc(0) : this.carry.subarray(0, this.carryBytes)
    // Given away: the next line starts a buffer of its own.
    this.carry = null
    this.carryBytes = 0
    return carry
  }

  /**
   * A line longer than maxLineBytes goes to the native framer, which reports it (at once, when
   * the stream fails on the first invalid line). False: hand over.
   */
  carryFits () {
    if (this.carryBytes <= this.maxLineBytes) return true
    this.rest = this.takeCarry()
    return false
  }

  /** Whether writes should wait until the next `output()` (see TEXT_MODE_BYTES). */
  awaitsOutput () {
    return this.pendingBytes >= TEXT_MODE_BYTES
  }

  /** Whether writes are bulk input parsed here (text mode), which the transport takes in its kick. */
  takesBulk () {
    return this.textMode
  }

  /** On the first bulk chunk: whether to stay here in text mode (see the top of this file). */
  chooseTextMode (chunk) {
    if (!this.textModeAllowed) return false
    this.textModeAllowed = false
    const sample = this.sampleOf(chunk)
    // Inside one long line there is nothing to go by: native, as before text mode.
    this.setTextMode(sample === null ? WORKER : native.ndjsonTextMode(sample))
    this.recheckAt = this.counts.bytes + TEXT_MODE_RECHECK_BYTES
    return this.textMode
  }

  /**
   * In text mode, every TEXT_MODE_RECHECK_BYTES: whether the records are still plain strings. A
   * stream that turns number-heavy goes native for the rest (there is no way back: the native
   * parser is right for any input, only slower on plain strings).
   */
  keepTextMode (chunk) {
    // Whole lines only (or SAMPLE_BYTES from a line start, as for the first bulk chunk), gathered
    // over as many chunks as it takes to have MIN_RECHECK_SAMPLE of them: inside a long line, or
    // at its very end (the last 64 KiB piece of a long line written whole ends with its newline)
    // there are none, writes smaller than that (a line or a few per write) would never give
    // enough in one chunk, and writes shorter than a line (1,000 bytes of 2.9 KB records) have no
    // whole line at all: such a line is gathered from its start over the writes it spans.
    let taken
    if (this.recheckOpen !== null) {
      const newline = chunk.indexOf(LF)
      const upTo = newline === -1 ? chunk.length : newline + 1
      // Copies: the writer may reuse its chunk once its callback ran.
      this.recheckOpen.push(Buffer.from(chunk.subarray(0, upTo)))
      this.recheckOpenBytes += upTo
      if (newline === -1 && this.recheckOpenBytes < SAMPLE_BYTES) return true
      taken = Buffer.concat(this.recheckOpen)
      this.recheckOpen = null
      this.recheckOpenBytes = 0
    } else {
      const sample = this.sampleOf(chunk)
      if (sample === null) return true
      const end = sample.lastIndexOf(LF) + 1
      if (end === 0 && sample.length < SAMPLE_BYTES) {
        // A line starts here and ends in a later write.
        this.recheckOpen = [Buffer.from(sample)]
        this.recheckOpenBytes = sample.length
        return true
      }
      taken = end === 0 ? sample : sample.subarray(0, end)
    }
    if (this.recheckBytes + taken.length < MIN_RECHECK_SAMPLE) {
      this.recheckLines.push(Buffer.from(taken))
      this.recheckBytes += taken.length
      return true
    }
    const lines = this.recheckLines.length === 0 ? taken : Buffer.concat([...this.recheckLines, taken])
    this.recheckLines = []
    this.recheckBytes = 0
    this.recheckAt = this.counts.bytes + TEXT_MODE_RECHECK_BYTES
    this.setTextMode(native.ndjsonTextMode(lines))
    return this.textMode
  }

  /** Takes the native side's verdict on where bulk input is parsed (`text_mode`). */
  setTextMode (mode) {
    this.textMode = mode !== WORKER
    this.wideText = mode === WIDE_TEXT
  }

  /**
   * Up to SAMPLE_BYTES of `chunk` from the first line that starts in it, or null if none does.
   * Only from a line's start can the scan tell strings from the space between values: from
   * inside a URL it would count its digits as numbers.
   */
  sampleOf (chunk) {
    if (this.carryBytes === 0) return chunk.subarray(0, SAMPLE_BYTES)
    const newline = chunk.indexOf(LF)
    return newline === -1 ? null : chunk.subarray(newline + 1, newline + 1 + SAMPLE_BYTES)
  }

  /** The end of input: parses a last line without a newline. False: hand the stream over. */
  finish () {
    if (this.carryBytes === 0) return true
    const ascii = this.carryAscii
    const carry = this.takeCarry()
    if (this.frame(carry, 0, carry.length, ascii) === 0) {
      this.rest = carry
      return false
    }
    return true
  }

  /**
   * Frames and parses the lines of `buf[from, end)` (all ending in `\n`, but for a last line at
   * the end of input); returns where it stopped: `end`, or the start of the first line it leaves
   * to the native side. `knownAscii`: the caller has checked that the region is all ASCII (false
   * means unknown: checked here).
   */
  frame (buf, from, end, knownAscii) {
    if (end === from) return from
    // Line 1 may start with a BOM, which the native framer strips and counts: not ours. Any other
    // line starting with that byte is invalid JSON anyway.
    if (this.line === 1 && buf[from] === BOM_FIRST_BYTE) return from
    // A region longer than a string can be (a line near the largest maxLineBytes) is the native
    // side's to frame and report.
    if (end - from > MAX_STRING_LENGTH) return from
    // ASCII text is decoded once for the region (a character per byte). Other text is decoded line
    // by line: V8 makes a one-byte string of a line without a wide character, which JSON.parse
    // reads faster, and most lines of real text are such lines — one decode of the region would
    // make every line in it two-byte, and costs 3–5× the latin1 decode (GitHub REST payloads: a
    // non-ASCII character in half the 64 KiB chunks, in one line of 40). But text with many
    // non-ASCII characters (`wideText`: tweets) is decoded once for the region, by simdutf, into
    // `wide`, which its lines are slices of: Node decodes tweets at 0.73–0.78 GB/s, in two thirds
    // of the time JSON.parse then takes, simdutf six times faster.
    let ascii = knownAscii
    let wide = null
    if (!ascii) {
      const region = from === 0 && end === buf.length ? buf : buf.subarray(from, end)
      ascii = isAscii(region)
      if (!ascii && this.wideText) {
        wide = native.ndjsonDecodeUtf8(region)
        if (wide === null) return from
      } else if (!ascii && !isUtf8(region)) {
        return from
      }
    }
    const text = ascii ? buf.toString('latin1', from, end) : null
    // In `wide`, where line `at` starts (characters, not bytes).
    let w = 0
    const values = this.values
    const positions = this.positions
    const counts = this.counts
    let at = from
    while (at < end) {
      let newline = ascii ? text.indexOf('\n', at - from) : buf.indexOf(LF, at)
      if (newline === -1) newline = end
      else if (ascii) newline += from
      else if (newline > end) newline = end
      let stop = newline
      if (stop > at && buf[stop - 1] === CR) stop--
      const length = stop - at
      if (length > this.maxLineBytes) return at
      // The line's end in `wide`: its newline (or the region's end), less the CR before it.
      let wideNewline = 0
      if (wide !== null) {
        wideNewline = wide.indexOf('\n', w)
        if (wideNewline === -1) wideNewline = wide.length
      }
      let i = at
      let c
      while (i < stop && ((c = buf[i]) === SPACE || c === TAB || c === CR)) i++
      if (i === stop) {
        if (this.blankLinesInvalid) return at
        counts.blankLines++
      } else {
        let value
        try {
          value = JSON.parse(ascii
            ? text.slice(at - from, stop - from)
            : wide !== null ? wide.slice(w, wideNewline - (newline - stop)) : buf.toString('utf8', at, stop))
        } catch {
          return at
        }
        values.push(this.rawLines ? Buffer.from(buf.subarray(at, stop)) : value)
        if (positions !== null) positions.push(this.line, this.offset)
        counts.values++
      }
      counts.lines++
      if (length > counts.longestLine) counts.longestLine = length
      this.line++
      this.offset += newline + 1 - at
      at = newline + 1
      w = wideNewline + 1
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
    return this.rest ?? this.takeCarry()
  }

  /** The counters as of the last output, as the native handle's `stats()` names them. */
  stats () {
    return { ...this.published }
  }
}

/**
 * Watches the input of a stream the native side parses, for records that have turned to plain
 * strings, which text mode parses for less: a stream that starts number-heavy and goes on with
 * log lines or API payloads ran at 0.7–1.0× a plain JS parser, for 1.3–1.8× its CPU. Every
 * NATIVE_RECHECK_BYTES, the first chunk with MIN_RECHECK_SAMPLE bytes after a newline is
 * sampled from there (`text_mode`, as for the first bulk chunk, on up to NATIVE_SAMPLE_BYTES);
 * if it says text, the JS stage takes the stream back from that line on. Writes that never hold
 * a newline and that many bytes after it (a line or less per write) are never sampled: such a
 * stream stays native.
 */
class NativeInputWatch {
  /** @param {object} config the InlineParser's */
  constructor (config) {
    this.config = config
    this.bytes = 0
    this.checkAt = NATIVE_RECHECK_BYTES
    this.mode = WORKER
  }

  /** Where in `chunk` (after a newline) the JS stage should take the stream back, or -1. */
  boundary (chunk) {
    this.bytes += chunk.length
    if (this.bytes < this.checkAt) return -1
    const newline = chunk.indexOf(LF)
    if (newline === -1 || chunk.length - newline - 1 < MIN_RECHECK_SAMPLE) return -1
    this.checkAt = this.bytes + NATIVE_RECHECK_BYTES
    this.mode = native.ndjsonTextMode(chunk.subarray(newline + 1, newline + 1 + NATIVE_SAMPLE_BYTES))
    return this.mode === WORKER ? -1 : newline + 1
  }

  /** The stage that takes the stream back at the boundary, from the native final counters. */
  stage (stats) {
    // The next native stretch, if the stage hands over again, is watched from its start.
    this.bytes = 0
    this.checkAt = NATIVE_RECHECK_BYTES
    return InlineParser.resumed(this.config, stats, this.mode)
  }
}

module.exports = { InlineParser, NativeInputWatch, inlineParsing }
