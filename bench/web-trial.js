'use strict'

// One Web Streams trial, run by bench/web.js in a fresh child process. argv[2] is JSON:
//   { mode: 'throughput', candidate, path, bytes, records, anyObject }
//     a WHATWG ReadableStream of the corpus (64 KiB subarrays from memory) → candidate → for await
//     (or, for 'sluice-pipeline', Node's pipeline into the counting sink of bench/ndjson.js),
//     timed from the first read to the last record.
//   { mode: 'stall', path, readValues }
//     a producer that awaits writer.ready before each 64 KiB write into NdjsonParseStream, and a
//     reader that reads `readValues` values and stops: how far the producer gets before
//     writer.ready stays pending.

const fs = require('node:fs')
const { pipeline } = require('node:stream')
const { ReadableStream, TransformStream, TextDecoderStream } = require('node:stream/web')
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

common.runChildMain((input) => (input.mode === 'stall' ? stall(input) : throughput(input)))
