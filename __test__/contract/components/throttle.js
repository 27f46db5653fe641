'use strict'

// Throttle and ThrottleGroup members as contract components (see ../index.js): what goes in
// comes out, unchanged and in order, at a rate high enough for the contract's multi-MiB runs to
// take well under a second, yet low enough that those runs exhaust the burst and wait for
// tokens (the path that holds chunks and is released by the Rust timer).

const { Throttle, ThrottleGroup } = require('../../..')

const BYTES_PER_S = 64 * 1024 * 1024
const ITEMS_PER_S = 2_000_000

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
 * that run concurrently. One object stands for 64 of the contract's units here: still thousands
 * of objects, far beyond what the stream may buffer.
 */
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

const bytes = {
  module: __filename,
  writableObjectMode: false,
  readableObjectMode: false,
  input: () => ['alpha ', 'beta ', 'gamma'].map((s) => Buffer.from(s)),
  // Byte outputs may be cut anywhere: compare the concatenation.
  expected: ['alpha beta gamma'],
  map: (chunk) => chunk.toString(),
  bulk: byteBulk,
  count: (outputs) => outputs.reduce((n, c) => n + (typeof c === 'string' ? Buffer.byteLength(c) : c.length), 0)
}

// The concatenation is what a byte stream promises; the contract compares output lists.
function joined (descriptor) {
  return { ...descriptor, collect: (outputs) => [Buffer.concat(outputs.map((c) => Buffer.from(c))).toString()] }
}

let group = null
function sharedGroup () {
  group ??= new ThrottleGroup({ rate: BYTES_PER_S })
  return group
}

module.exports = [
  joined({
    ...bytes,
    name: 'Throttle (bytes)',
    create: (options) => new Throttle({ ...options, rate: BYTES_PER_S })
  }),
  joined({
    ...bytes,
    name: 'ThrottleGroup member (bytes)',
    create: (options) => sharedGroup().throttle({ ...options })
  }),
  {
    module: __filename,
    name: 'Throttle (objects)',
    writableObjectMode: true,
    readableObjectMode: true,
    create: (options) => new Throttle({ ...options, rate: ITEMS_PER_S, objectMode: true }),
    input: () => [{ a: 1 }, 'two', [3], 4, { e: null }],
    expected: [{ a: 1 }, 'two', [3], 4, { e: null }],
    // In objects: a stalled throttle holds its two buffers' worth (tens), not millions.
    stallBound: 4096,
    bulk: objectBulk
  }
]
