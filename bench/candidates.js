'use strict'

// The NDJSON parsers under test. Each entry knows how to build its Transform (bytes in, objectMode
// out) and what one readable chunk looks like, so the sink can count records correctly:
//   value : one parsed record per chunk
//   keyed : one {key, value} wrapper per chunk (stream-json)
//   batch : an array of parsed records per chunk
//   line  : a Buffer holding one raw line per chunk
//
// load() runs inside the trial child before the clock starts, so module loading (and the async
// ESM import stream-json needs) is never timed.

const path = require('node:path')

// SLUICE_MODULE=<path> benchmarks another copy of the package (e.g. an older build kept aside)
// in place of this checkout. Children inherit the environment, so one variable covers every trial.
const SLUICE_MODULE = process.env.SLUICE_MODULE
  ? path.resolve(process.env.SLUICE_MODULE)
  : path.join(__dirname, '..')

function loadSluice() {
  // Resolved lazily: the addon may not be built yet, and only the sluice rows need it.
  return require(SLUICE_MODULE)
}

// SLUICE_BASELINE=<path> adds the same parser from another build (e.g. the last release, kept
// aside) as candidates of the same run, so a change is judged side by side, rep by rep, rather
// than across two runs minutes apart on a machine whose speed drifts.
const SLUICE_BASELINE = process.env.SLUICE_BASELINE ? path.resolve(process.env.SLUICE_BASELINE) : null

const CANDIDATES = [
  {
    name: 'sluice',
    sluice: true,
    shape: 'value',
    load: async () => {
      const { NdjsonParser } = loadSluice()
      return () => new NdjsonParser({ output: 'values' })
    },
  },
  {
    name: 'sluice-batches',
    sluice: true,
    shape: 'batch',
    load: async () => {
      const { NdjsonParser } = loadSluice()
      return () => new NdjsonParser({ output: 'batches' })
    },
  },
  {
    name: 'sluice-lines',
    sluice: true,
    shape: 'line',
    load: async () => {
      const { NdjsonParser } = loadSluice()
      return () => new NdjsonParser({ output: 'lines' })
    },
  },
  ...(SLUICE_BASELINE === null
    ? []
    : [
        {
          name: 'sluice@baseline',
          shape: 'value',
          load: async () => {
            const { NdjsonParser } = require(SLUICE_BASELINE)
            return () => new NdjsonParser({ output: 'values' })
          },
        },
        {
          name: 'sluice-lines@baseline',
          shape: 'line',
          load: async () => {
            const { NdjsonParser } = require(SLUICE_BASELINE)
            return () => new NdjsonParser({ output: 'lines' })
          },
        },
      ]),
  {
    name: 'split2',
    peer: true,
    shape: 'value',
    load: async () => {
      const split2 = require('split2')
      return () => split2(JSON.parse)
    },
  },
  {
    name: 'ndjson',
    peer: true,
    shape: 'value',
    load: async () => {
      const ndjson = require('ndjson')
      return () => ndjson.parse()
    },
  },
  {
    name: 'stream-json',
    peer: true,
    shape: 'keyed',
    load: async () => {
      // stream-json 3 is ESM only. Its JSONL parser re-exports stream-chain's, whose UTF-8 stage
      // starts on TextDecoder and switches to the (faster) StringDecoder once an async import
      // settles; waiting for whenReady() measures the fast path a long-running server would get.
      const { default: parser } = await import('stream-json/jsonl/parser.js')
      const fixUtf8 = await import('stream-chain/utils/fixUtf8Stream.js').catch(() => null)
      if (fixUtf8 && typeof fixUtf8.whenReady === 'function') await fixUtf8.whenReady()
      else console.error('WARNING stream-json: stream-chain whenReady() not found; it may run on TextDecoder')
      return () => parser.asStream()
    },
  },
  {
    name: 'minimal-js',
    peer: true,
    shape: 'value',
    load: async () => {
      const { MinimalNdjson } = require('./minimal.js')
      return () => new MinimalNdjson()
    },
  },
]

const byName = (name) => {
  const c = CANDIDATES.find((x) => x.name === name)
  if (!c) throw new Error(`unknown candidate "${name}"`)
  return c
}

/**
 * Whether the addon loads and exports NdjsonParser. Checked in a throwaway child so a crash while
 * loading a half-built addon cannot take the harness down with it.
 */
function probeSluice() {
  const { spawnSync } = require('node:child_process')
  const code = `const m = require(${JSON.stringify(SLUICE_MODULE)});
if (typeof m.NdjsonParser !== 'function') throw new Error('index.js does not export NdjsonParser')`
  const res = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30000 })
  if (res.status === 0) return { ok: true }
  const lines = `${res.stderr || ''}${res.error ? res.error.message : ''}`.split('\n')
  const reason = lines.find((l) => /Error|error:/.test(l)) || lines.find(Boolean) || `exit ${res.status}`
  return { ok: false, reason: reason.trim() }
}

/**
 * A short hash of the addon's files (the .node binary, index.js, binding.js, lib/**), to label a
 * report with the build it measured and to notice a rebuild in the middle of a run, which would
 * silently mix two builds in one table.
 */
function sluiceFingerprint() {
  const fs = require('node:fs')
  const crypto = require('node:crypto')
  let dir = SLUICE_MODULE
  try {
    if (!fs.statSync(dir).isDirectory()) dir = path.dirname(dir)
  } catch {
    return null
  }
  const files = []
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.js')) files.push(p)
    }
  }
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith('.node') || name === 'index.js' || name === 'binding.js') files.push(path.join(dir, name))
  }
  if (fs.existsSync(path.join(dir, 'lib'))) walk(path.join(dir, 'lib'))
  files.sort()
  const hash = crypto.createHash('sha1')
  let builtAt = null
  for (const f of files) {
    hash.update(path.relative(dir, f))
    hash.update(fs.readFileSync(f))
    if (f.endsWith('.node')) builtAt = fs.statSync(f).mtime.toISOString()
  }
  return { id: hash.digest('hex').slice(0, 12), builtAt, files: files.length }
}

module.exports = { CANDIDATES, byName, probeSluice, loadSluice, sluiceFingerprint, SLUICE_MODULE }
