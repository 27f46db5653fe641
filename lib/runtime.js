'use strict'

// The shared native runtime: every sluice stream in the process runs as a task on one fixed
// pool of worker threads (src/runtime/), whatever the number of streams and of worker_threads.
// Its size is fixed when the first stream starts: `configure({ workers })` before that, else the
// SLUICE_WORKERS environment variable, else the available parallelism.

const native = require('./native.js')
const { rangeError, validateInteger, validateOptionsObject } = require('./options.js')

const MAX_WORKERS = 1024 // as src/runtime/mod.rs

let configured = false

/**
 * Sizes the pool (`workers`: 1–1024) and returns `{ workers }`, the size in use (or to be used
 * when the first stream starts). Without options it only reports. Changing the size after a
 * stream has started throws: the pool is fixed for the life of the process.
 */
function configure (options) {
  const opts = validateOptionsObject(options, 'configure', ['workers'])
  const workers = validateInteger(opts, 'workers', 1, MAX_WORKERS, undefined)
  if (workers === undefined) return { workers: native.configureRuntime(configured ? undefined : workersFromEnv(), false) }
  let size
  try {
    size = native.configureRuntime(workers, true)
  } catch (err) {
    const e = new Error(err.message)
    e.code = 'ERR_SLUICE_RUNTIME_STARTED'
    throw e
  }
  configured = true
  return { workers: size }
}

/** Called before each stream's native handle is made: applies SLUICE_WORKERS once. */
function ensureRuntime () {
  if (configured) return
  const workers = workersFromEnv()
  // Not strict: another worker_threads environment may have started the pool already.
  if (workers !== undefined) native.configureRuntime(workers, false)
  configured = true
}

function workersFromEnv () {
  const text = process.env.SLUICE_WORKERS
  if (text === undefined || text === '') return undefined
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > MAX_WORKERS) {
    throw rangeError('SLUICE_WORKERS', `an integer >= 1 and <= ${MAX_WORKERS}`, text)
  }
  return n
}

module.exports = { configure, ensureRuntime }
