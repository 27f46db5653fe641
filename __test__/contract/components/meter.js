'use strict'

// Meter as a contract component (see ../index.js): a PassThrough that measures, so what goes in
// comes out unchanged and in order, with its timer and stall checks running (a short interval
// and stallMs, so the signal hub is busy while the contract's cases run).

const { Meter } = require('../../..')

const bulkCache = new Map()
function byteBulk (size) {
  let run = bulkCache.get(size)
  if (run === undefined) {
    const data = Buffer.alloc(size)
    for (let i = 0; i < size; i++) data[i] = i % 251
    run = { data, count: size }
    bulkCache.set(size, run)
  }
  return run
}

const objectCache = new Map()
/** One object stands for 64 of the contract's units, as for the throttle (thousands of objects). */
function objectBulk (size) {
  const count = Math.ceil(size / 64)
  let run = objectCache.get(count)
  if (run === undefined) {
    const data = []
    for (let i = 0; i < count; i++) data.push({ i })
    run = { data, count }
    objectCache.set(count, run)
  }
  return run
}

const MONITOR = { interval: 20, stallMs: 50 }

module.exports = [
  {
    module: __filename,
    name: 'Meter (bytes)',
    writableObjectMode: false,
    readableObjectMode: false,
    create: (options) => new Meter({ ...options, ...MONITOR }),
    input: () => ['alpha ', 'beta ', 'gamma'].map((s) => Buffer.from(s)),
    // A reader may get byte chunks joined (core does so for a PassThrough): compare the join.
    expected: ['alpha beta gamma'],
    collect: (outputs) => [Buffer.concat(outputs.map((c) => Buffer.from(c))).toString()],
    bulk: byteBulk,
    count: (outputs) => outputs.reduce((n, c) => n + (typeof c === 'string' ? Buffer.byteLength(c) : c.length), 0)
  },
  {
    module: __filename,
    name: 'Meter (objects)',
    writableObjectMode: true,
    readableObjectMode: true,
    create: (options) => new Meter({ ...options, ...MONITOR, objectMode: true }),
    input: () => [{ a: 1 }, 'two', [3], 4, { e: null }],
    expected: [{ a: 1 }, 'two', [3], 4, { e: null }],
    stallBound: 4096,
    bulk: objectBulk
  }
]
