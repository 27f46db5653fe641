'use strict'

// Stream utilities of the contract suite. No assertions here: the cases in ./cases.js state what
// they expect; these only watch streams and drive them.

const { Readable, Writable } = require('node:stream')
const { execFile } = require('node:child_process')
const path = require('node:path')
const { chunked } = require('../helpers.js')

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'contract-child.js')
const WRITABLE_FIXTURE = path.join(__dirname, '..', 'fixtures', 'writable-contract-child.js')

/** Events that must never be emitted after 'close' ('close' is the last event of a stream). */
const TERMINAL_CHECKED = ['data', 'end', 'finish', 'error', 'readable', 'drain', 'close']

/**
 * Watches a stream without changing its mode (no 'data' listener): every emitted event in order,
 * the errors, and for a stream with a readable side, every push made while the stream was
 * already destroyed and the largest `readableLength` seen right after a push.
 */
function track (stream) {
  const log = {
    emitted: [],
    errors: [],
    pushes: 0,
    pushesAfterDestroy: 0,
    maxReadableLength: 0,
    closed: null
  }
  const push = stream.push
  if (typeof push === 'function') {
    stream.push = function trackedPush (chunk, encoding) {
      log.pushes++
      if (this.destroyed) log.pushesAfterDestroy++
      const ret = push.call(this, chunk, encoding)
      if (this.readableLength > log.maxReadableLength) log.maxReadableLength = this.readableLength
      return ret
    }
  }
  const emit = stream.emit
  stream.emit = function trackedEmit (name, ...args) {
    if (typeof name === 'string') log.emitted.push(name)
    return emit.call(this, name, ...args)
  }
  stream.on('error', (err) => log.errors.push(err))
  log.closed = new Promise((resolve) => stream.once('close', resolve))
  return log
}

/** Counts of the checked events, and which of them came after the first 'close'. */
function eventSummary (log) {
  const count = (name) => log.emitted.filter((e) => e === name).length
  const firstClose = log.emitted.indexOf('close')
  const afterClose = firstClose < 0
    ? []
    : log.emitted.slice(firstClose + 1).filter((e) => TERMINAL_CHECKED.includes(e))
  return {
    errors: count('error'),
    closes: count('close'),
    data: count('data'),
    ends: count('end'),
    finishes: count('finish'),
    errorBeforeClose: firstClose < 0 || log.emitted.indexOf('error') < firstClose,
    afterClose
  }
}

/** The writable side's chunks of a descriptor's data: bytes cut at `size`, objects as they are. */
function chunksOf (d, data, size = 65536) {
  return d.writableObjectMode ? data : chunked(data, [size])
}

/** What a chunk counts for in `writableLength`. */
function sizeOf (d, chunk) {
  return d.writableObjectMode ? 1 : chunk.length
}

/** A source Readable of the component's writable-side chunks. */
function source (d, chunks) {
  return Readable.from(chunks, { objectMode: d.writableObjectMode })
}

/** A Readable that pushes `chunks` and then fails with `err` (a source failing mid-flight). */
function failingSource (d, chunks, err) {
  let i = 0
  return new Readable({
    objectMode: d.writableObjectMode,
    read () {
      if (i < chunks.length) this.push(chunks[i++])
      else this.destroy(err)
    }
  })
}

/** A Writable of the component's readable-side items, collected into `out`. */
function sink (d, out, write) {
  return new Writable({
    objectMode: d.readableObjectMode,
    write (chunk, encoding, callback) {
      out.push(chunk)
      if (write) write(chunk, callback)
      else callback()
    }
  })
}

/** Writes `chunks` respecting write()/'drain'; resolves with how many writes returned false. */
async function writeAll (stream, chunks) {
  let falses = 0
  for (const chunk of chunks) {
    if (!stream.write(chunk)) {
      falses++
      await waitFor(stream, 'drain')
    }
  }
  return falses
}

/** Resolves on `event`, rejects if the stream closes or errors first. */
function waitFor (stream, event) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off(event, onEvent)
      stream.off('close', onClose)
      stream.off('error', onError)
    }
    const onEvent = (value) => { cleanup(); resolve(value) }
    const onClose = () => { cleanup(); reject(new Error(`stream closed before '${event}'`)) }
    const onError = (err) => { cleanup(); reject(err) }
    stream.on(event, onEvent)
    stream.on('close', onClose)
    stream.on('error', onError)
  })
}

/** Resolves true on `event`, false if it did not come within `ms` (a negative check window). */
function eventWithin (stream, event, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { stream.off(event, onEvent); resolve(false) }, ms)
    const onEvent = () => { clearTimeout(timer); resolve(true) }
    stream.once(event, onEvent)
  })
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const turn = () => new Promise((resolve) => setImmediate(resolve))

/**
 * Runs the child-process fixture for a scenario (the writable one for a sink descriptor);
 * resolves with its exit status and output. A child still running after `timeoutMs` is killed
 * (a hang): below the case's own timeout (HANG_MS in ./index.js), so that the test fails with the
 * child's output rather than ava's bare "Test timeout exceeded".
 */
function runChild (d, scenario, timeoutMs = 200000) {
  return new Promise((resolve) => {
    const started = Date.now()
    const fixture = d.kind === 'writable' ? WRITABLE_FIXTURE : FIXTURE
    execFile(process.execPath, [fixture, d.module, d.name, scenario], { timeout: timeoutMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          signal: err ? err.signal ?? null : null,
          stdout: String(stdout),
          stderr: String(stderr),
          ms: Date.now() - started
        })
      })
  })
}

module.exports = {
  track,
  eventSummary,
  chunksOf,
  sizeOf,
  source,
  failingSource,
  sink,
  writeAll,
  waitFor,
  eventWithin,
  delay,
  turn,
  runChild
}
