'use strict'

// NdjsonStringifyStream as a Web contract component (see ../index.js): values in, NDJSON bytes
// out, with the Node contract's runs (../../contract/components/stringifier.js): the normal run
// compares the joined text, the bulk runs count lines, one per value, and a value stands for 8
// units of the contract's sizes. A `null` chunk is a JSON null line (NULL too).

const { getDefaultHighWaterMark } = require('node:stream')
const { NdjsonStringifyStream, NULL } = require('../../../lib/web.js')
const [node] = require('../../contract/components/stringifier.js')
const { objectInput } = require('../../contract/components/runs.js')

const UNITS_PER_VALUE = 8
// A reader that never reads stalls a producer with the readable queue's highWaterMark (bytes)
// plus a batch enqueued past it and the incomplete one (64 KiB each) of lines of at least 8
// bytes ({"i":0}), plus the value in the writable queue; half as much again for slack.
const HELD_VALUES = Math.ceil(((getDefaultHighWaterMark(false) + 2 * 65536) / 8 + 1) * 1.5)

const common = {
  module: __filename,
  bytesOut: true,
  unitsPerItem: UNITS_PER_VALUE,
  stallBound: HELD_VALUES * UNITS_PER_VALUE,
  collect: node.collect,
  bulk: node.bulk,
  count: node.count,
  invalid: { ...node.invalid, located: (err) => Number.isInteger(err.index) }
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
