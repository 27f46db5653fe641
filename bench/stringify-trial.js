'use strict'

// One trial of bench/stringify.js, in a fresh child. argv[2] is JSON:
//
//   {impl: 'sluice' | 'ndjson' | 'hand', corpus, sizeMB, count, sink: 'memory' | 'file'}
//
// The values are built before the clock starts: for a real-world corpus, the lines of
// bench/real-corpus.js's file parsed with JSON.parse; for 'small', `count` generated objects of
// five fields. Then, timed: an objectMode Readable handing out the values (up to 64 per read) →
// the stringifier → a sink:
//   memory : a byte Writable that counts bytes and newlines and calls back at once (the cheapest
//            consumer, so the stage's own cost is what is timed)
//   file   : fs.createWriteStream('/dev/null'), a file destination as most NDJSON output has
//            (one write(v) system call per chunk, or one writev per batch of buffered chunks; no disk)
// Reports MB/s of output, values/s, CPU of the main thread and of the process, and the output's
// chunk count. The output is checked: one line per value (memory), the exact byte count (file).

const fs = require('node:fs')
const { Readable, Writable, Transform, pipeline } = require('node:stream')
const common = require('./common.js')
const { SLUICE_MODULE } = require('./candidates.js')
const { ensureRealCorpus } = require('./real-corpus.js')

const IMPLS = {
  sluice: () => {
    const { NdjsonStringifier } = require(SLUICE_MODULE)
    return () => new NdjsonStringifier()
  },
  ndjson: () => {
    const ndjson = require('ndjson')
    return () => ndjson.stringify()
  },
  // What people write by hand: one JSON text plus '\n' per value, one push each.
  hand: () => () => new Transform({
    writableObjectMode: true,
    transform(value, _encoding, callback) {
      callback(null, JSON.stringify(value) + '\n')
    },
  }),
}

function values({ corpus, sizeMB, count }) {
  if (corpus === 'small') {
    const out = new Array(count)
    for (let i = 0; i < count; i++) out[i] = { id: i, name: `item ${i}`, ok: i % 2 === 0, score: i / 7, tags: ['a', 'b'] }
    return out
  }
  const meta = ensureRealCorpus(corpus.replace(/^real-/, ''), sizeMB)
  const text = fs.readFileSync(meta.path, 'utf8')
  const out = []
  let start = 0
  for (let end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) out.push(JSON.parse(text.slice(start, end)))
  return out
}

async function trial(input) {
  const make = IMPLS[input.impl]()
  const items = values(input)
  let i = 0
  const source = new Readable({
    objectMode: true,
    read() {
      for (let k = 0; k < 64 && i < items.length; k++) if (!this.push(items[i++])) return
      if (i >= items.length) this.push(null)
    },
  })
  let bytes = 0
  let lines = 0
  let chunks = 0
  let expectedBytes = 0
  let sink
  if (input.sink === 'file') {
    for (const v of items) expectedBytes += Buffer.byteLength(JSON.stringify(v)) + 1
    sink = fs.createWriteStream('/dev/null')
    // Wait for the open before the clock starts.
    await new Promise((resolve, reject) => sink.once('ready', resolve).once('error', reject))
  } else {
    sink = new Writable({
      write(chunk, _encoding, callback) {
        chunks++
        bytes += chunk.length
        // Counting newlines proves every value became a line (and touches the bytes, as a consumer would).
        for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++
        callback()
      },
    })
  }
  const stage = make()
  // The values' construction left garbage behind: collect it now, not on the clock (run with --expose-gc).
  if (typeof global.gc === 'function') global.gc()
  const snap = common.snapshot()
  await new Promise((resolve, reject) => pipeline(source, stage, sink, (err) => (err ? reject(err) : resolve())))
  const d = common.since(snap)
  if (input.sink === 'file') {
    bytes = sink.bytesWritten
    if (bytes !== expectedBytes) throw new Error(`${bytes} bytes written, ${expectedBytes} expected`)
  } else if (lines !== items.length) throw new Error(`${lines} lines for ${items.length} values`)
  return {
    values: items.length,
    bytes,
    // Counted by the memory sink only (a listener on the stage would slow the per-value peers).
    chunks: input.sink === 'file' ? null : chunks,
    mbPerS: bytes / 1e6 / d.wallS,
    valuesPerS: items.length / d.wallS,
    wallS: d.wallS,
    threadCpuS: d.threadCpuS,
    processCpuS: d.processCpuS,
    bgCores: d.bgCores,
  }
}

common.runChildMain(trial)
