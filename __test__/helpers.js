'use strict'

// Small utilities shared by the JS test files (ava and jest alike). No assertions here: each
// test states what it expects.

const { Readable, Writable, pipeline } = require('node:stream')

/** A byte Readable that yields `buffer` cut at the given sizes (cycled), e.g. [1] = byte by byte. */
function chunked (buffer, sizes = [65536]) {
  const chunks = []
  let offset = 0
  let k = 0
  while (offset < buffer.length) {
    const size = Math.max(1, sizes[k++ % sizes.length])
    chunks.push(buffer.subarray(offset, offset + size))
    offset += size
  }
  return chunks
}

/** Cuts `buffer` at pseudo-random points (seeded, so a failure can be replayed). */
function randomChunks (buffer, seed, maxSize = 64) {
  let state = seed >>> 0
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state
  }
  const chunks = []
  for (let offset = 0; offset < buffer.length;) {
    const size = 1 + (next() % maxSize)
    chunks.push(buffer.subarray(offset, offset + size))
    offset += size
  }
  return chunks
}

/** Feeds `chunks` through `transform` in a pipeline; resolves with everything it pushed. */
function runThrough (transform, chunks) {
  const out = []
  return new Promise((resolve, reject) => {
    pipeline(
      Readable.from(chunks, { objectMode: false }),
      transform,
      new Writable({
        objectMode: true,
        write (chunk, encoding, callback) {
          out.push(chunk)
          callback()
        }
      }),
      (err) => (err ? reject(err) : resolve(out))
    )
  })
}

module.exports = { chunked, randomChunks, runThrough }

// ---------------------------------------------------------------------------------------------
// Helpers for the NDJSON parser suites (ndjson-*.spec.js, faults.spec.js).

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** A seeded PRNG (mulberry32): `rng()` is a float in [0, 1); `rng.int(n)` an integer in [0, n). */
function makeRng (seed) {
  let a = seed >>> 0
  const rng = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  rng.int = (n) => Math.floor(rng() * n)
  rng.pick = (list) => list[rng.int(list.length)]
  return rng
}

/** Every way to cut `buffer` into two chunks (including an empty first or last chunk). */
function twoChunkSplits (buffer) {
  const out = []
  for (let at = 0; at <= buffer.length; at++) out.push([buffer.subarray(0, at), buffer.subarray(at)])
  return out
}

/**
 * Feeds `chunks` (exact boundaries kept) through `parser` in a pipeline and records, in emission
 * order, every 'data' item and every 'invalid' report. `slow: true` makes the sink take one
 * macrotask per item, so backpressure builds up and the parser's readable buffer fills.
 * Resolves (never rejects) with { log, values, invalid, error, stats, dataAfterClose }.
 */
function collect (parser, chunks, { slow = false } = {}) {
  const log = []
  const values = []
  const invalid = []
  let closed = false
  let dataAfterClose = 0
  parser.on('data', (value) => {
    if (closed) dataAfterClose++
    log.push({ kind: 'value', value })
    values.push(value)
  })
  parser.on('invalid', (info) => {
    log.push({ kind: 'invalid', info })
    invalid.push(info)
  })
  parser.on('close', () => { closed = true })
  const sink = new Writable({
    objectMode: true,
    write (chunk, encoding, callback) {
      if (slow) setImmediate(callback)
      else callback()
    }
  })
  return new Promise((resolve) => {
    pipeline(Readable.from(chunks, { objectMode: true }), parser, sink, (error) => {
      resolve({ log, values, invalid, error: error ?? null, stats: parser.stats(), dataAfterClose })
    })
  })
}

/**
 * Compares two values the way the NDJSON tests need: numbers with Object.is (-0 is not 0),
 * own-key order of objects, prototypes, Buffers byte for byte. Returns null when equal, else a
 * description of the first difference.
 */
function sameValue (a, b, where = '$') {
  if (typeof a !== typeof b) return `${where}: type ${typeof a} vs ${typeof b}`
  if (a === null || b === null || typeof a !== 'object') {
    return Object.is(a, b) ? null : `${where}: ${describeValue(a)} vs ${describeValue(b)}`
  }
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) {
    if (!Buffer.isBuffer(a) || !Buffer.isBuffer(b)) return `${where}: Buffer vs non-Buffer`
    return a.equals(b) ? null : `${where}: Buffer <${a.toString('hex')}> vs <${b.toString('hex')}>`
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${where}: array vs non-array`
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${where}: different prototypes`
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length) return `${where}: ${ka.length} keys vs ${kb.length}`
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return `${where}: key #${i} ${JSON.stringify(ka[i])} vs ${JSON.stringify(kb[i])}`
    const d = sameValue(a[ka[i]], b[kb[i]], `${where}[${JSON.stringify(ka[i])}]`)
    if (d !== null) return d
  }
  return null
}

function describeValue (v) {
  if (typeof v === 'symbol') return v.toString()
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v)
  if (Object.is(v, -0)) return '-0'
  return String(v)
}

function isBlankBytes (bytes) {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false
  return true
}

/** The excerpt sluice quotes for a bad line (`content` without terminator and BOM). */
function expectedExcerpt (content) {
  // An over-long line's too: the first 64 bytes, backed off to a whole character.
  let cut = Math.min(content.length, 64)
  while (cut < content.length && cut > 0 && (content[cut] & 0xc0) === 0x80) cut--
  return content.subarray(0, cut).toString('utf8') + (cut < content.length ? '…' : '')
}

/**
 * A plain-JS model of the NDJSON parser in skip mode, written from the documented contract
 * (not from the implementation): split at LF, strip one CR before it, strip a UTF-8 BOM at the
 * stream start (line 1's offset is then 3), over-long check on the content, blank lines (space/tab/CR), strict UTF-8, then
 * JSON.parse. Returns { log, stats } where log items are
 * { kind: 'value', line, offset, content, value } or { kind: 'invalid', info: { code, line, offset, excerpt } }.
 */
function modelNdjson (input, { blankLines = 'skip', maxLineBytes = 16 * 1024 * 1024, reviver } = {}) {
  const log = []
  const stats = { lines: 0, bytes: input.length, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 }
  let start = 0
  let number = 0
  while (start < input.length) {
    let end = input.indexOf(0x0a, start)
    const terminated = end !== -1
    if (!terminated) end = input.length
    number++
    let offset = start
    let content = input.subarray(start, end)
    start = end + 1
    // A stream that is only a BOM has no line, as an empty one has none.
    if (number === 1 && !terminated && content.equals(UTF8_BOM)) break
    if (content.length > 0 && content[content.length - 1] === 0x0d) content = content.subarray(0, content.length - 1)
    // Offsets are stream positions: line 1 starts after a stripped BOM.
    if (number === 1 && content.subarray(0, 3).equals(UTF8_BOM)) { content = content.subarray(3); offset += 3 }
    stats.lines++
    stats.longestLine = Math.max(stats.longestLine, content.length)
    const invalid = (code) => {
      stats.invalidLines++
      log.push({ kind: 'invalid', info: { code, line: number, offset, excerpt: expectedExcerpt(content) } })
    }
    if (content.length > maxLineBytes) { invalid('ERR_SLUICE_LINE_TOO_LONG'); continue }
    if (isBlankBytes(content)) {
      if (blankLines === 'error') invalid('ERR_SLUICE_BLANK_LINE')
      else stats.blankLines++
      continue
    }
    let text
    try {
      text = strictUtf8.decode(content)
    } catch {
      invalid('ERR_SLUICE_INVALID_UTF8')
      continue
    }
    let value
    try {
      value = JSON.parse(text, reviver)
    } catch {
      invalid('ERR_SLUICE_INVALID_JSON')
      continue
    }
    stats.values++
    log.push({ kind: 'value', line: number, offset, content, value })
  }
  return { log, stats }
}

/** What the model's value entry becomes in a given output mode ('batches' is compared flattened). */
function modelItem (entry, output, nullValue) {
  switch (output) {
    case 'lines': return entry.content
    case 'envelopes': return { line: entry.line, offset: entry.offset, value: entry.value }
    case 'batches': return entry.value
    default: return entry.value === null ? nullValue : entry.value
  }
}

/** A collect() log with 'batches' output flattened to one entry per value. */
function flattenBatches (log) {
  const out = []
  for (const e of log) {
    if (e.kind === 'value' && Array.isArray(e.value)) for (const v of e.value) out.push({ kind: 'value', value: v })
    else out.push(e)
  }
  return out
}

/**
 * Runs node with `args` in a bare child process (async: a spawnSync would stall the other
 * tests); `env` adds variables, `cwd` is its working directory. Resolves with
 * `{ status, stdout, stderr }`; a timeout shows as status 'SIGTERM'.
 */
function runChild (args, { env = {}, timeout = 60000, cwd } = {}) {
  const { execFile } = require('node:child_process')
  return new Promise((resolve) => {
    execFile(process.execPath, args, { encoding: 'utf8', timeout, cwd, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ status: err ? (err.code ?? err.signal) : 0, stdout, stderr })
    })
  })
}

/**
 * CPU seconds (user + system, every thread of this process) that `fn` costs. Unlike wall time it
 * hardly moves when other processes load the machine, so cost comparisons stay honest on a busy
 * runner; run such tests serially, so that no other test of the file spends CPU meanwhile.
 */
async function cpuSeconds (fn) {
  const before = process.cpuUsage()
  const result = await fn()
  const d = process.cpuUsage(before)
  return { cpu: (d.user + d.system) / 1e6, result }
}

/**
 * A minimal JavaScript NDJSON parser (split on newlines, JSON.parse per line): the reference a
 * cost is compared with. Pure JS, so it shows what the same writes cost without the addon.
 */
function jsLineParser () {
  const { Transform } = require('node:stream')
  const { StringDecoder } = require('node:string_decoder')
  const decoder = new StringDecoder('utf8')
  let rest = ''
  return new Transform({
    readableObjectMode: true,
    transform (chunk, enc, cb) {
      const lines = (rest + decoder.write(chunk)).split('\n')
      rest = lines.pop()
      for (const line of lines) if (line.trim() !== '') this.push(JSON.parse(line))
      cb()
    },
    flush (cb) {
      rest += decoder.end()
      if (rest.trim() !== '') this.push(JSON.parse(rest))
      cb()
    }
  })
}

/**
 * Counts the streams a JS stage took back from the native side (`NativeInputWatch#stage`, the
 * parser's return to text mode) while `run` runs; resolves with `{ result, returns }`.
 */
async function countingReturns (run) {
  const { NativeInputWatch } = require('../lib/ndjson/inline.js')
  const original = NativeInputWatch.prototype.stage
  let returns = 0
  NativeInputWatch.prototype.stage = function (...args) {
    returns++
    return original.apply(this, args)
  }
  try {
    return { result: await run(), returns }
  } finally {
    NativeInputWatch.prototype.stage = original
  }
}

Object.assign(module.exports, {
  UTF8_BOM,
  countingReturns,
  cpuSeconds,
  jsLineParser,
  collect,
  expectedExcerpt,
  flattenBatches,
  isBlankBytes,
  makeRng,
  modelItem,
  modelNdjson,
  runChild,
  sameValue,
  strictUtf8,
  twoChunkSplits
})

// ---------------------------------------------------------------------------------------------
// For the jest suites that run themselves again under global fake timers.

/** Set in the child jest of runUnderGlobalFakeTimers. */
const UNDER_GLOBAL_FAKES = process.env.SLUICE_JEST_GLOBAL_FAKE_TIMERS === '1'

/**
 * Runs the jest file `file` (a path) again in a child jest with `fakeTimers: { enableGlobally:
 * true }`, timers faked before any module loads. Returns { status, signal, summary } (jest's
 * "Tests:" line); the child skips the test that called this (it sees UNDER_GLOBAL_FAKES).
 */
function runUnderGlobalFakeTimers (file) {
  const path = require('node:path')
  const { spawnSync } = require('node:child_process')
  const root = path.join(__dirname, '..')
  const config = {
    rootDir: root,
    testEnvironment: 'node',
    testMatch: [`<rootDir>/${path.relative(root, file)}`],
    fakeTimers: { enableGlobally: true }
  }
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--config', JSON.stringify(config), '--ci', '--colors=false'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120000,
    env: { ...process.env, SLUICE_JEST_GLOBAL_FAKE_TIMERS: '1', FORCE_COLOR: '0' }
  })
  return { status: r.status, signal: r.signal, summary: /Tests:.*$/m.exec(r.stderr)?.[0] ?? '(no summary)' }
}

Object.assign(module.exports, { UNDER_GLOBAL_FAKES, runUnderGlobalFakeTimers })
