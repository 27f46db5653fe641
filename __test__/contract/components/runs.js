'use strict'

// What the contract components (this folder) feed their streams: one small normal run and the
// large runs the contract asks for, for byte streams and object streams. Written once; a
// component module takes `byteStream` / `objectStream` and adds its name and `create`.

const bulkCache = new Map()
/** `size` bytes of a fixed pattern (cached: the contract asks for the same sizes many times). */
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
 * that run concurrently. One object stands for `unitsPerObject` of the contract's units: still
 * thousands of objects, far beyond what any of these streams may buffer.
 */
function objectBulk (size, unitsPerObject = 64) {
  const count = Math.ceil(size / unitsPerObject)
  let run = objectCache.get(count)
  if (run === undefined) {
    const data = []
    for (let i = 0; i < count; i++) data.push({ i })
    run = { data, count }
    objectCache.set(count, run)
  }
  return run
}

const byteInput = () => ['alpha ', 'beta ', 'gamma'].map((s) => Buffer.from(s))
const objectInput = () => [{ a: 1 }, 'two', [3], 4, { e: null }]

/** A byte stream whose output is its input: chunks may be cut or joined, so compare the join. */
const byteStream = {
  writableObjectMode: false,
  readableObjectMode: false,
  input: byteInput,
  expected: ['alpha beta gamma'],
  collect: (outputs) => [Buffer.concat(outputs.map((c) => Buffer.from(c))).toString()],
  bulk: byteBulk,
  count: (outputs) => outputs.reduce((n, c) => n + (typeof c === 'string' ? Buffer.byteLength(c) : c.length), 0)
}

/** An object stream whose output is its input, value for value. */
const objectStream = {
  writableObjectMode: true,
  readableObjectMode: true,
  input: objectInput,
  expected: objectInput(),
  // A stalled stream holds its buffers' worth of objects (tens to about a hundred), not millions.
  stallBound: 4096,
  bulk: (size) => objectBulk(size)
}

module.exports = { byteBulk, objectBulk, byteInput, objectInput, byteStream, objectStream }
