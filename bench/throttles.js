'use strict'

// The throttles under test, built in one place so bench/throttle-trial.js and
// bench/throttle-scale-server.js construct them identically, and so the report can print exactly
// how each was built (the `how` strings). Rates are units per second: bytes, or objects in
// objectMode.
//
//   sluice          : Throttle / ThrottleGroup from this checkout (SLUICE_MODULE to point elsewhere),
//                     default options apart from rate (and objectMode for objects)
//   stream-throttle : 0.1.3, Throttle / ThrottleGroup (token bucket of 1 s, chunks of rate/10)
//   throttle        : 1.0.3 (average since construction, chunks of bps/10); it has no group

const { loadSluice, SLUICE_MODULE } = require('./candidates.js')

const IMPLS = {
  sluice: {
    single: ({ rate, objectMode }) => {
      const { Throttle } = loadSluice()
      return objectMode ? new Throttle({ rate, objectMode: true }) : new Throttle({ rate })
    },
    singleHow: (objectMode) => (objectMode ? 'new Throttle({ rate, objectMode: true })' : 'new Throttle({ rate })'),
    group: ({ rate }) => {
      const { ThrottleGroup } = loadSluice()
      const g = new ThrottleGroup({ rate })
      return () => g.throttle()
    },
    groupHow: 'g = new ThrottleGroup({ rate }); g.throttle() per stream',
  },
  'stream-throttle': {
    // Options go to stream.Transform too, so objectMode: true is its best chance with objects.
    single: ({ rate, objectMode }) => {
      const { Throttle } = require('stream-throttle')
      return new Throttle(objectMode ? { rate, objectMode: true } : { rate })
    },
    singleHow: (objectMode) => (objectMode ? 'new Throttle({ rate, objectMode: true })' : 'new Throttle({ rate })'),
    group: ({ rate }) => {
      const { ThrottleGroup } = require('stream-throttle')
      const g = new ThrottleGroup({ rate })
      return () => g.throttle()
    },
    groupHow: 'g = new ThrottleGroup({ rate }); g.throttle() per stream',
  },
  throttle: {
    single: ({ rate, objectMode }) => {
      const Throttle = require('throttle')
      return objectMode ? new Throttle({ bps: rate, objectMode: true }) : new Throttle(rate)
    },
    singleHow: (objectMode) => (objectMode ? 'new Throttle({ bps: rate, objectMode: true })' : 'new Throttle(rate)'),
    group: null,
    groupHow: null,
  },
}

const IMPL_NAMES = Object.keys(IMPLS)

function impl(name) {
  const i = IMPLS[name]
  if (!i) throw new Error(`unknown throttle impl "${name}" (use ${IMPL_NAMES.join(', ')})`)
  return i
}

/**
 * Which sluice throttle exports exist. Checked in a throwaway child, like probeSluice(): an
 * unbuilt or half-built addon must not take the harness down, and until the Throttle lands the
 * sluice rows are skipped with the reason printed.
 */
function probeSluiceThrottle() {
  const { spawnSync } = require('node:child_process')
  const code = `const m = require(${JSON.stringify(SLUICE_MODULE)});
process.stdout.write(JSON.stringify({ throttle: typeof m.Throttle === 'function', group: typeof m.ThrottleGroup === 'function' }))`
  const res = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30000 })
  if (res.status === 0) {
    const got = JSON.parse(res.stdout)
    const missing = [!got.throttle && 'Throttle', !got.group && 'ThrottleGroup'].filter(Boolean)
    return { ...got, reason: missing.length ? `${SLUICE_MODULE} does not export ${missing.join(' or ')} (not landed yet?)` : null }
  }
  const lines = `${res.stderr || ''}${res.error ? res.error.message : ''}`.split('\n')
  const reason = lines.find((l) => /Error|error:/.test(l)) || lines.find(Boolean) || `exit ${res.status}`
  return { throttle: false, group: false, reason: `loading ${SLUICE_MODULE} failed: ${reason.trim()}` }
}

/** Sum of the numeric fields of every member's stats(), or null when the impl has no stats(). */
function statsOf(throttles) {
  if (!throttles.every((t) => t && typeof t.stats === 'function')) return null
  const sum = {}
  for (const t of throttles) {
    const s = t.stats()
    for (const [k, v] of Object.entries(s || {})) {
      if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v
      else if (typeof v === 'boolean') sum[k] = (sum[k] ?? 0) + (v ? 1 : 0)
    }
  }
  return sum
}

module.exports = { IMPLS, IMPL_NAMES, impl, probeSluiceThrottle, statsOf }
