'use strict'

// One NDJSON throughput trial, run by bench/ndjson.js in a fresh child process:
//   source (mem | file) → candidate parser → counting sink, timed from pipeline() to its callback.
// argv[2] is JSON: {candidate, source, path, bytes, records}.

const fs = require('node:fs')
const { pipeline } = require('node:stream')
const { byName } = require('./candidates.js')
const common = require('./common.js')

common.runChildMain(async ({ candidate, source, path, bytes, records, anyObject = false }) => {
  const cand = byName(candidate)
  const create = await cand.load()

  let input = null
  if (source === 'mem') {
    input = fs.readFileSync(path)
    if (input.length !== bytes) throw new Error(`corpus is ${input.length} bytes, expected ${bytes}`)
  } else if (source !== 'file') {
    throw new Error(`unknown source "${source}"`)
  }
  const src = input ? common.memorySource(input) : fs.createReadStream(path, { highWaterMark: common.CHUNK })
  const parser = create()
  const { sink, state } = common.countingSink(cand.shape, { anyObject })

  const rssBefore = common.rssMiB()
  const gc = common.gcTimer()
  gc.start()
  const t0 = common.snapshot()
  await new Promise((resolve, reject) => pipeline(src, parser, sink, (err) => (err ? reject(err) : resolve())))
  const d = common.since(t0)
  const gcMs = await gc.stop()

  if (state.records !== records || state.touched !== records) {
    throw new Error(
      `${candidate}/${source}: got ${state.records} records (${state.touched} with the touched field), expected ${records}`,
    )
  }
  return {
    ...d,
    mbPerS: bytes / 1e6 / d.wallS,
    krecPerS: records / 1e3 / d.wallS,
    records: state.records,
    chunks: state.chunks,
    gcMs,
    rssBeforeMiB: rssBefore,
    peakRssMiB: common.peakRssMiB(),
  }
})
