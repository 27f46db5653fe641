'use strict'

// NdjsonStringifyStream as a Web contract component (see ../index.js): values in, NDJSON bytes
// out, with the Node contract's normal run and line count (../../contract/components/stringifier.js):
// the normal run compares the joined text, the bulk runs count lines, one per value. A `null`
// chunk is a JSON null line (NULL too).

const { getDefaultHighWaterMark } = require('node:stream')
const { NdjsonStringifyStream, NULL } = require('../../../lib/web.js')
const [node] = require('../../contract/components/stringifier.js')
const { objectInput } = require('../../contract/components/runs.js')

// Node 20's WritableStream dequeues with Array#shift, quadratic in what is queued: the cases that
// write a whole run without awaiting would take seconds with the Node contract's 8-unit values.
// So here a value stands for 64 units and is ~60 bytes: still thousands of values and MiBs of lines.
const UNITS_PER_VALUE = 64
const PAD = 'x'.repeat(40)
const bulkCache = new Map()
function bulk (size) {
  const count = Math.ceil(size / UNITS_PER_VALUE)
  let run = bulkCache.get(count)
  if (run === undefined) {
    const data = []
    for (let i = 0; i < count; i++) data.push({ i, pad: PAD })
    run = { data, count }
    bulkCache.set(count, run)
  }
  return run
}
const MIN_LINE = JSON.stringify({ i: 0, pad: PAD }).length + 1
// A reader that never reads stalls a producer with the readable queue's highWaterMark (bytes)
// plus a batch enqueued past it and the incomplete one (64 KiB each), plus the value in the
// writable queue; half as much again for slack.
const HELD_VALUES = Math.ceil(((getDefaultHighWaterMark(false) + 2 * 65536) / MIN_LINE + 1) * 1.5)

const common = {
  module: __filename,
  bytesOut: true,
  unitsPerItem: UNITS_PER_VALUE,
  stallBound: HELD_VALUES * UNITS_PER_VALUE,
  collect: node.collect,
  bulk,
  count: node.count,
  // A value JSON.stringify cannot write (a BigInt) between valid ones.
  invalid: {
    input: () => [...bulk(256 * 1024).data, { big: 1n }, ...bulk(256 * 1024).data],
    code: node.invalid.code,
    located: (err) => Number.isInteger(err.index)
  }
}

module.exports = [
  {
    ...common,
    name: 'NdjsonStringifyStream',
    create: (w, r) => new NdjsonStringifyStream(undefined, w, r),
    input: () => [...objectInput(), null],
    expected: ['{"a":1}\n"two"\n[3]\n4\n{"e":null}\nnull\n']
  },
  {
    ...common,
    name: "NdjsonStringifyStream({ newline: '\\r\\n', onUnserializable: 'skip' })",
    create: (w, r) => new NdjsonStringifyStream({ newline: '\r\n', onUnserializable: 'skip' }, w, r),
    input: () => [...objectInput(), NULL, undefined, 1n],
    expected: ['{"a":1}\r\n"two"\r\n[3]\r\n4\r\n{"e":null}\r\nnull\r\n'],
    invalid: undefined
  }
]
