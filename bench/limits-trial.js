'use strict'

// One trial of bench/ndjson-limits.js, in a fresh child. argv[2] is JSON:
//   {scenario: 'long-line' | 'big-file' | 'no-reader', candidate: 'sluice' | 'split2' | 'minimal-js', ...}

const fs = require('node:fs')
const { pipeline, Writable } = require('node:stream')
const common = require('./common.js')
const corpus = require('./corpus.js')

const { CHUNK, MiB } = common

function makeParser(candidate, sluiceOptions) {
  switch (candidate) {
    case 'sluice': {
      const { NdjsonParser } = require('./candidates.js').loadSluice()
      return new NdjsonParser(sluiceOptions)
    }
    case 'split2':
      return require('split2')(JSON.parse)
    case 'minimal-js':
      return new (require('./minimal.js').MinimalNdjson)()
    default:
      throw new Error(`unknown candidate "${candidate}"`)
  }
}

const runPipeline = (...streams) =>
  new Promise((resolve, reject) => pipeline(...streams, (err) => (err ? reject(err) : resolve())))

// a. One 100 MiB JSON line, no trailing newline: a parser that re-scans or re-concatenates its
// pending tail on every chunk goes quadratic here (split2 takes ~110 s).
async function longLine({ candidate, lineBytes }) {
  const head = Buffer.from('{"id":1,"blob":"')
  const tail = Buffer.from('"}')
  const input = Buffer.allocUnsafe(lineBytes)
  head.copy(input, 0)
  input.fill('abcdefghijklmnopqrstuvwxyz0123456789 ', head.length, lineBytes - tail.length)
  tail.copy(input, lineBytes - tail.length)
  const blobLength = lineBytes - head.length - tail.length

  const parser = makeParser(candidate, { maxLineBytes: 128 * MiB })
  let records = 0
  let lastBlobLength = -1
  const sink = new Writable({
    objectMode: true,
    write(v, _encoding, callback) {
      records++
      lastBlobLength = v && typeof v.blob === 'string' ? v.blob.length : -1
      callback()
    },
  })
  const rssBefore = common.rssMiB()
  const t0 = common.snapshot()
  await runPipeline(common.memorySource(input), parser, sink)
  const d = common.since(t0)
  if (records !== 1 || lastBlobLength !== blobLength) {
    throw new Error(`expected 1 record with a ${blobLength}-char blob, got ${records} (last blob ${lastBlobLength})`)
  }
  return { ...d, mbPerS: lineBytes / 1e6 / d.wallS, rssBeforeMiB: rssBefore, peakRssMiB: common.peakRssMiB() }
}

// b. A file far larger than memory would tolerate buffering: RSS must stay flat while streaming.
async function bigFile({ candidate, path, bytes, records }) {
  const parser = makeParser(candidate, {})
  const { sink, state } = common.countingSink('value')
  const rssBefore = common.rssMiB()
  const t0 = common.snapshot()
  await runPipeline(fs.createReadStream(path, { highWaterMark: CHUNK }), parser, sink)
  const d = common.since(t0)
  if (state.records !== records || state.touched !== records) {
    throw new Error(`got ${state.records} records (${state.touched} with an id), expected ${records}`)
  }
  return {
    ...d,
    mbPerS: bytes / 1e6 / d.wallS,
    krecPerS: records / 1e3 / d.wallS,
    rssBeforeMiB: rssBefore,
    peakRssMiB: common.peakRssMiB(),
  }
}

// c. Nobody reads the parser's output. A producer that honours write()'s return value and 'drain'
// must be stopped after a bounded amount of input; if the parser kept accepting (or kept pushing
// records past its readable highWaterMark), memory would grow with the input.
async function noReader({ candidate, capBytes, stallMs }) {
  const input = corpus.smallRecordsBuffer(capBytes)
  const parser = makeParser(candidate, {})
  let streamError = null
  parser.on('error', (err) => (streamError = err)) // an 'error' listener does not start the flow
  const sample = () => ({
    readableLength: parser.readableLength,
    writableLength: parser.writableLength,
  })

  const t0 = performance.now()
  const outcome = await new Promise((resolve) => {
    let offset = 0
    let drains = 0
    const pump = () => {
      while (offset < input.length) {
        const chunk = input.subarray(offset, offset + CHUNK)
        offset += chunk.length
        if (!parser.write(chunk)) {
          // Time of the last accepted write, i.e. when the producer was stopped for good.
          const stalledAtS = (performance.now() - t0) / 1000
          const timer = setTimeout(() => {
            parser.removeListener('drain', onDrain)
            resolve({ stalled: true, written: offset, drains, stalledAtS })
          }, stallMs)
          const onDrain = () => {
            clearTimeout(timer)
            drains++
            setImmediate(pump)
          }
          parser.once('drain', onDrain)
          return
        }
      }
      // Everything went in without a stall lasting stallMs: the parser buffers without bound.
      resolve({ stalled: false, written: offset, drains, stalledAtS: (performance.now() - t0) / 1000 })
    }
    pump()
  })
  const atStall = sample()
  // Look again later: a bounded parser has really stopped, not just slowed down.
  await new Promise((resolve) => setTimeout(resolve, stallMs))
  const later = sample()
  parser.destroy()
  await new Promise((resolve) => (parser.closed ? resolve() : parser.once('close', resolve)))
  if (streamError) throw streamError
  return {
    ...outcome,
    ...atStall,
    readableHighWaterMark: parser.readableHighWaterMark,
    writableHighWaterMark: parser.writableHighWaterMark,
    stable: later.readableLength === atStall.readableLength && later.writableLength === atStall.writableLength,
    later,
    peakRssMiB: common.peakRssMiB(),
  }
}

const SCENARIOS = { 'long-line': longLine, 'big-file': bigFile, 'no-reader': noReader }

common.runChildMain((input) => {
  const fn = SCENARIOS[input.scenario]
  if (!fn) throw new Error(`unknown scenario "${input.scenario}"`)
  return fn(input)
})
