'use strict'

// One `where`/`select` trial, run by bench/filter.js in a fresh child process:
//   file → candidate (sluice with where/select, or a peer parser + the same filter or projection
//   in a JS Transform) → counting sink, timed from pipeline() to its callback; or jq on the file.
// argv[2] is JSON: {scenario, candidate, source, path, bytes}; source 'mem' reads the file into
// memory before the clock starts (jq always reads the file itself).

const fs = require('node:fs')
const { spawn } = require('node:child_process')
const { Transform, Writable, pipeline } = require('node:stream')
const { byName } = require('./candidates.js')
const common = require('./common.js')
const { SCENARIOS } = require('./filter-scenarios.js')

/** An objectMode Transform applying `keep(value)` → value to push, or undefined to drop. */
function jsStage(keep, keyed) {
  return new Transform({
    objectMode: true,
    transform(chunk, _encoding, callback) {
      const out = keep(keyed ? chunk.value : chunk)
      callback(null, out === undefined ? undefined : out)
    },
  })
}

/** Counts what arrives: values (or raw lines); a batch counts its values. */
function sink(state) {
  return new Writable({
    objectMode: true,
    write(chunk, _encoding, callback) {
      if (Array.isArray(chunk)) state.records += chunk.length
      else state.records++
      callback()
    },
  })
}

/** jq on the file, its output counted (lines); CPU from /usr/bin/time (jq runs in its own process). */
function runJq(filter, file) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%U %S', 'jq', '-c', filter, file], { stdio: ['ignore', 'pipe', 'pipe'] })
    let records = 0
    let stderr = ''
    child.stdout.on('data', (buf) => {
      for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) records++
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`jq exited ${code}: ${stderr}`))
      const [user, sys] = stderr.trim().split('\n').pop().split(' ').map(Number)
      resolve({ records, cpuS: user + sys })
    })
  })
}

common.runChildMain(async ({ scenario, candidate, source, path, bytes, chunkBytes = common.CHUNK }) => {
  const sc = SCENARIOS[scenario]
  const t0 = common.snapshot()
  if (candidate === 'jq') {
    const { records, cpuS } = await runJq(sc.jq, path)
    const d = common.since(t0)
    // jq's CPU is its own process's: report it as both columns (it has no separate JS thread).
    return { ...d, threadCpuS: cpuS, processCpuS: cpuS + d.processCpuS, mbPerS: bytes / 1e6 / d.wallS, records }
  }
  const stages = []
  if (candidate.startsWith('sluice')) {
    const { NdjsonParser } = require(require('./candidates.js').SLUICE_MODULE)
    stages.push(new NdjsonParser(sc.sluice(candidate)))
  } else {
    const cand = byName(candidate)
    const create = await cand.load()
    stages.push(create(), jsStage(sc.js, cand.shape === 'keyed'))
  }
  const state = { records: 0 }
  const src = source === 'mem' ? common.memorySource(fs.readFileSync(path), chunkBytes) : fs.createReadStream(path, { highWaterMark: chunkBytes })
  const started = common.snapshot()
  await new Promise((resolve, reject) => pipeline(src, ...stages, sink(state), (err) => (err ? reject(err) : resolve())))
  const d = common.since(started)
  return { ...d, mbPerS: bytes / 1e6 / d.wallS, records: state.records }
})
