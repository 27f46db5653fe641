'use strict'

// One Web Streams trial, run by bench/web.js in a fresh child process. argv[2] is JSON:
//   { mode: 'throughput', candidate, path, bytes, records, anyObject }
//     a WHATWG ReadableStream of the corpus (64 KiB subarrays from memory) → candidate → for await
//     (or, for 'sluice-pipeline', Node's pipeline into the counting sink of bench/ndjson.js),
//     timed from the first read to the last record.
//   { mode: 'stringify', candidate, path, records }
//     the corpus's lines parsed to values before the clock starts; a ReadableStream of them (up to
//     64 per pull) → candidate → for await counting bytes and newlines (or, for
//     'sluice-stringifier-pipeline', Node's pipeline into a counting Writable), timed to the last chunk.
//   { mode: 'stall', path, readValues }
//     a producer that awaits writer.ready before each 64 KiB write into NdjsonParseStream, and a
//     reader that reads `readValues` values and stops: how far the producer gets before
//     writer.ready stays pending.

const fs = require('node:fs')
const { pipeline, Readable, Writable } = require('node:stream')
const { ReadableStream, TransformStream, TextDecoderStream, CountQueuingStrategy } = require('node:stream/web')
const common = require('./common.js')
const { SLUICE_MODULE } = require('./candidates.js')

/** A pull ReadableStream handing out `buf` as 64 KiB subarrays (no copies). */
function webSource (buf) {
  let offset = 0
  return new ReadableStream({
    pull (controller) {
      if (offset >= buf.length) {
        controller.close()
        return
      }
      controller.enqueue(buf.subarray(offset, offset + common.CHUNK))
      offset += common.CHUNK
    }
  }, { highWaterMark: 0 })
}

/** The minimal WHATWG NDJSON parser: TextDecoderStream, then split on '\n' and JSON.parse each line. */
function minimalWhatwg (source) {
  let rest = ''
  return source.pipeThrough(new TextDecoderStream()).pipeThrough(new TransformStream({
    transform (text, controller) {
      const lines = (rest + text).split('\n')
      rest = lines.pop()
      for (const line of lines) if (line !== '') controller.enqueue(JSON.parse(line))
    },
    flush (controller) {
      if (rest !== '') controller.enqueue(JSON.parse(rest))
    }
  }))
}

const webModule = () => require(require('node:path').join(SLUICE_MODULE, 'lib', 'web.js'))

/** Each candidate: loads its modules (before the clock starts), then gives corpus bytes → an async iterable of records. */
const WEB_CANDIDATES = {
  'sluice-web': () => {
    const { NdjsonParseStream } = webModule()
    return (buf) => webSource(buf).pipeThrough(new NdjsonParseStream())
  },
  'minimal-whatwg': () => (buf) => minimalWhatwg(webSource(buf)),
  'streamparser-json-whatwg': () => {
    const { JSONParser } = require('@streamparser/json-whatwg')
    return (buf) => {
      const parsed = webSource(buf).pipeThrough(new JSONParser({ paths: ['$'], separator: '\n', keepStack: false }))
      return (async function * () { for await (const { value } of parsed) yield value })()
    }
  },
  'ndjson-readablestream': () => {
    const readNDJSONStream = require('ndjson-readablestream')
    return (buf) => readNDJSONStream(webSource(buf))
  }
}

async function throughput ({ candidate, path, bytes, records, anyObject }) {
  const buf = fs.readFileSync(path)
  if (buf.length !== bytes) throw new Error(`corpus is ${buf.length} bytes, expected ${bytes}`)
  const never = Symbol('never')
  const touch = anyObject
    ? (v) => v !== null && typeof v === 'object' && v.id !== never
    : (v) => v !== null && v.id !== undefined
  let n = 0
  let touched = 0
  let make = null
  let NdjsonParser = null
  if (candidate === 'sluice-pipeline') NdjsonParser = require(SLUICE_MODULE).NdjsonParser
  else if (WEB_CANDIDATES[candidate] === undefined) throw new Error(`unknown candidate ${candidate}`)
  else make = WEB_CANDIDATES[candidate]()
  const gc = common.gcTimer()
  gc.start()
  const t0 = common.snapshot()
  if (candidate === 'sluice-pipeline') {
    const { sink, state } = common.countingSink('value', { anyObject })
    await new Promise((resolve, reject) => pipeline(common.memorySource(buf), new NdjsonParser(), sink, (err) => (err ? reject(err) : resolve())))
    n = state.records
    touched = state.touched
  } else {
    for await (const v of make(buf)) {
      n++
      if (touch(v)) touched++
    }
  }
  const d = common.since(t0)
  const gcMs = await gc.stop()
  if (n !== records || touched !== records) throw new Error(`${candidate}: got ${n} records (${touched} touched), expected ${records}`)
  return { ...d, mbPerS: bytes / 1e6 / d.wallS, krecPerS: records / 1e3 / d.wallS, gcMs, peakRssMiB: common.peakRssMiB() }
}

/** Each stringify candidate: loads its modules, then gives a ReadableStream of values → a ReadableStream of bytes. */
const STRINGIFY_CANDIDATES = {
  'sluice-web-stringify': () => {
    const { NdjsonStringifyStream } = webModule()
    return (values) => values.pipeThrough(new NdjsonStringifyStream())
  },
  // What people write by hand: one JSON text + '\n' per value, encoded, one chunk each.
  'minimal-whatwg-stringify': () => {
    const encoder = new TextEncoder()
    return (values) => values.pipeThrough(new TransformStream({
      transform (value, controller) {
        controller.enqueue(encoder.encode(JSON.stringify(value) + '\n'))
      }
    }))
  }
}

/** The corpus's lines as values. */
function parseLines (buf) {
  const text = buf.toString('utf8')
  const out = []
  let start = 0
  for (let end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) out.push(JSON.parse(text.slice(start, end)))
  return out
}

function countNewlines (chunk) {
  let n = 0
  for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) n++
  return n
}

async function stringifyThroughput ({ candidate, path, records }) {
  const items = parseLines(fs.readFileSync(path))
  if (items.length !== records) throw new Error(`corpus has ${items.length} lines, expected ${records}`)
  let bytes = 0
  let lines = 0
  let chunks = 0
  let make = null
  let NdjsonStringifier = null
  if (candidate === 'sluice-stringifier-pipeline') NdjsonStringifier = require(SLUICE_MODULE).NdjsonStringifier
  else if (STRINGIFY_CANDIDATES[candidate] === undefined) throw new Error(`unknown candidate ${candidate}`)
  else make = STRINGIFY_CANDIDATES[candidate]()
  let i = 0
  if (typeof global.gc === 'function') global.gc()
  const gc = common.gcTimer()
  gc.start()
  const t0 = common.snapshot()
  if (NdjsonStringifier !== null) {
    const source = new Readable({
      objectMode: true,
      read () {
        for (let k = 0; k < 64 && i < items.length; k++) if (!this.push(items[i++])) return
        if (i >= items.length) this.push(null)
      }
    })
    const sink = new Writable({
      write (chunk, _encoding, callback) {
        chunks++
        bytes += chunk.length
        lines += countNewlines(chunk)
        callback()
      }
    })
    await new Promise((resolve, reject) => pipeline(source, new NdjsonStringifier(), sink, (err) => (err ? reject(err) : resolve())))
  } else {
    const values = new ReadableStream({
      pull (controller) {
        for (let k = 0; k < 64 && i < items.length && controller.desiredSize > 0; k++) controller.enqueue(items[i++])
        if (i >= items.length) controller.close()
      }
    }, new CountQueuingStrategy({ highWaterMark: 64 }))
    for await (const chunk of make(values)) {
      chunks++
      bytes += chunk.length
      lines += countNewlines(chunk)
    }
  }
  const d = common.since(t0)
  const gcMs = await gc.stop()
  if (lines !== records) throw new Error(`${candidate}: ${lines} lines for ${records} values`)
  return { ...d, bytes, chunks, mbPerS: bytes / 1e6 / d.wallS, krecPerS: records / 1e3 / d.wallS, gcMs, peakRssMiB: common.peakRssMiB() }
}

/** Resolves 'quiet' after `ms` unless `p` settles first: when to look, in a benchmark. */
const quietAfter = (p, ms) => Promise.race([p.then(() => 'ready'), new Promise((resolve) => setTimeout(resolve, ms, 'quiet'))])

async function stall ({ path, readValues }) {
  const { NdjsonParseStream } = webModule()
  const buf = fs.readFileSync(path)
  // The bytes of the first `readValues` lines: what the reader has taken.
  let consumed = 0
  for (let i = 0; i < readValues; i++) consumed = buf.indexOf(10, consumed) + 1
  const s = new NdjsonParseStream()
  const writer = s.writable.getWriter()
  const reader = s.readable.getReader()
  const reading = (async () => { for (let i = 0; i < readValues; i++) await reader.read() })()
  let written = 0
  while (written < buf.length) {
    if (await quietAfter(writer.ready, 1000) === 'quiet') break
    writer.write(buf.subarray(written, written + common.CHUNK)).catch(() => {})
    written = Math.min(buf.length, written + common.CHUNK)
  }
  await reading
  const stalled = written < buf.length
  await writer.abort(new Error('measured'))
  return { written, consumed, held: written - consumed, stalled, parsedBytes: s.stats().bytes }
}

const MODES = { throughput, stringify: stringifyThroughput, stall }
common.runChildMain((input) => MODES[input.mode](input))
