'use strict'

// BoundedBuffer in 'block' mode as contract components (see ../index.js): nothing is lost, so
// what goes in comes out unchanged and in order. Two byte buffers (the default 1 MiB, and a
// small one counted in chunks that is full most of the time) and one of objects.

const { BoundedBuffer } = require('../../..')

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
/**
 * The contract asks for runs of MiBs; as objects that would be millions held at once by cases
 * that run concurrently. One object stands for 16 of the contract's units here: still hundreds
 * to hundreds of thousands of objects, far beyond the 64 the buffer holds.
 */
function objectBulk (size) {
  const count = Math.ceil(size / 16)
  let run = objectCache.get(count)
  if (run === undefined) {
    const data = []
    for (let i = 0; i < count; i++) data.push({ i })
    run = { data, count }
    objectCache.set(count, run)
  }
  return run
}

const bytes = {
  module: __filename,
  writableObjectMode: false,
  readableObjectMode: false,
  input: () => ['alpha ', 'beta ', 'gamma'].map((s) => Buffer.from(s)),
  expected: ['alpha beta gamma'],
  // Byte outputs may be cut anywhere: compare the concatenation.
  collect: (outputs) => [Buffer.concat(outputs.map((c) => Buffer.from(c))).toString()],
  bulk: byteBulk,
  count: (outputs) => outputs.reduce((n, c) => n + (typeof c === 'string' ? Buffer.byteLength(c) : c.length), 0)
}

module.exports = [
  {
    ...bytes,
    name: 'BoundedBuffer (bytes, default capacityBytes)',
    create: (options) => new BoundedBuffer({ ...options })
  },
  {
    ...bytes,
    name: 'BoundedBuffer (bytes, capacity 4 chunks)',
    create: (options) => new BoundedBuffer({ ...options, capacity: 4 })
  },
  {
    module: __filename,
    name: 'BoundedBuffer (objects, capacity 64)',
    writableObjectMode: true,
    readableObjectMode: true,
    create: (options) => new BoundedBuffer({ ...options, objectMode: true, capacity: 64 }),
    input: () => [{ a: 1 }, 'two', [3], 4, { e: null }],
    expected: [{ a: 1 }, 'two', [3], 4, { e: null }],
    // Stalled with its readable buffer, its ring and its writable buffer full: about 100 objects.
    stallBound: 4096,
    bulk: objectBulk
  }
]
