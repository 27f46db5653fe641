'use strict'

// NdjsonStringifier as a contract component (see ../index.js): values in, NDJSON bytes out. Its
// output is cut into batches wherever they fill, so the normal run compares the joined text and
// the bulk runs count lines (newlines), one per value.

const { NdjsonStringifier, NULL } = require('../../..')
const { objectBulk, objectInput } = require('./runs.js')

const NEWLINE = 0x0a

function countLines (outputs) {
  let lines = 0
  for (const chunk of outputs) {
    for (let at = chunk.indexOf(NEWLINE); at >= 0; at = chunk.indexOf(NEWLINE, at + 1)) lines++
  }
  return lines
}

/** `size` / 8 values {i}: tens of thousands for the backpressure runs, ~400,000 for 3 MiB. */
const bulk = (size) => objectBulk(size, 8)

const common = {
  module: __filename,
  writableObjectMode: true,
  readableObjectMode: false,
  // The shared object run, and a JSON null (written as NULL).
  input: () => [...objectInput(), NULL],
  collect: (outputs) => [Buffer.concat(outputs).toString()],
  bulk,
  count: countLines,
  // A reader that never reads stalls it with readableHighWaterMark + one batch of lines of about
  // 12 bytes ({"i":12345}) in the readable buffer: about 2,700 values at the 16 KiB default and
  // 10,900 at Node 22's 64 KiB (plus the writable buffer's 16), far more than the 64 the shared
  // object runs give a contract unit: here a value stands for 8 (bulk below).
  stallBound: 131072,
  // A value JSON.stringify cannot write (a BigInt) between valid ones: the stream fails.
  invalid: {
    input: () => [...bulk(256 * 1024).data, { big: 1n }, ...bulk(256 * 1024).data],
    code: 'ERR_SLUICE_UNSERIALIZABLE'
  }
}

module.exports = [
  {
    ...common,
    name: 'NdjsonStringifier',
    create: (options) => new NdjsonStringifier(options),
    expected: ['{"a":1}\n"two"\n[3]\n4\n{"e":null}\nnull\n']
  },
  {
    ...common,
    name: "NdjsonStringifier({ newline: '\\r\\n', onUnserializable: 'skip' })",
    create: (options) => new NdjsonStringifier({ ...options, newline: '\r\n', onUnserializable: 'skip' }),
    expected: ['{"a":1}\r\n"two"\r\n[3]\r\n4\r\n{"e":null}\r\nnull\r\n'],
    invalid: undefined
  }
]
