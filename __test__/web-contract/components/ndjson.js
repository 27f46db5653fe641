'use strict'

// NdjsonParseStream as a Web contract component (see ../index.js): the Node contract's NDJSON
// runs (../../contract/components/ndjson.js), where a `null` line is a real `null` chunk.

const { NdjsonParseStream } = require('../../../lib/web.js')
const [values, numbers, lines] = require('../../contract/components/ndjson.js')

const common = {
  module: __filename,
  bytesIn: true,
  input: values.input,
  bulk: values.bulk,
  invalid: values.invalid
}

module.exports = [
  {
    ...common,
    name: 'NdjsonParseStream',
    create: (w, r) => new NdjsonParseStream(undefined, w, r),
    expected: values.expected.map((v) => (typeof v === 'symbol' ? null : v))
  },
  {
    ...common,
    name: 'NdjsonParseStream, number-heavy bulk (the worker)',
    create: (w, r) => new NdjsonParseStream(undefined, w, r),
    bulk: numbers.bulk,
    expected: values.expected.map((v) => (typeof v === 'symbol' ? null : v))
  },
  {
    ...common,
    name: "NdjsonParseStream({ output: 'lines' })",
    create: (w, r) => new NdjsonParseStream({ output: 'lines' }, w, r),
    expected: lines.expected,
    map: lines.map
  }
]
