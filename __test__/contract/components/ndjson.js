'use strict'

// NdjsonParser as a contract component (see ../index.js): bytes in, one value (or one raw line)
// out per NDJSON line.

const { NdjsonParser, NULL } = require('../../..')
const { INPUT_BYTES } = require('../../../lib/ndjson.js')
const { chunked } = require('../../helpers.js')

// A normal run: a value split across chunks, CRLF, a null line, a final line without newline.
const INPUT = ['{"a":1}\n[2]\n"thr', 'ee"\n4\r\ntrue\nnull\n', '{"b":"é"}']
const LINES = ['{"a":1}', '[2]', '"three"', '4', 'true', 'null', '{"b":"é"}']

const bulkCache = new Map()
/**
 * About `size` bytes of tiny records, one per line: thousands per 64 KiB. Records of short
 * integers are parsed on the JS thread (text mode: JSON.parse reads them as fast as the worker
 * would); `decimals` makes them number-heavy, for the native parser.
 */
function bulkOf (size, decimals) {
  const key = `${size} ${decimals}`
  let run = bulkCache.get(key)
  if (run === undefined) {
    const lines = []
    let bytes = 0
    for (let i = 0; bytes < size; i++) {
      const line = decimals ? `{"i":${i}.5}\n` : `{"i":${i}}\n`
      lines.push(line)
      bytes += line.length
    }
    run = { data: Buffer.from(lines.join('')), count: lines.length }
    bulkCache.set(key, run)
  }
  return run
}
const bulk = (size) => bulkOf(size, false)

/**
 * Valid records, invalid lines, more valid records: the parser fails mid-flight. The records
 * after the invalid lines are more than the native input queue and a few chunks besides can take
 * (the first invalid line hands the stream to the native side, whose queue then takes what
 * follows): the failure must come while a source still has chunks to give, or a pipe has no
 * source left to cancel. With 256 KiB after them (the queue's size until 2026-12-05, 384 KiB
 * since) the Web face's pipe test found the source closed, never cancelled, in 16 of 20 fresh
 * processes on Node 24 (2 of 20 with the 256 KiB queue).
 */
function invalidInput () {
  const before = bulk(256 * 1024).data
  const after = bulk(2 * INPUT_BYTES + 256 * 1024).data
  return chunked(Buffer.concat([before, Buffer.from('{"ok":true}\n{not json\n[1,\n'), after]), [65536])
}

const common = {
  module: __filename,
  writableObjectMode: false,
  readableObjectMode: true,
  input: () => INPUT.map((s) => Buffer.from(s)),
  bulk,
  invalid: { input: invalidInput, code: 'ERR_SLUICE_INVALID_JSON' }
}

module.exports = [
  {
    ...common,
    name: 'NdjsonParser',
    create: (options) => new NdjsonParser(options),
    expected: [{ a: 1 }, [2], 'three', 4, true, NULL, { b: 'é' }]
  },
  {
    ...common,
    name: 'NdjsonParser, number-heavy bulk (the worker)',
    create: (options) => new NdjsonParser(options),
    bulk: (size) => bulkOf(size, true),
    expected: [{ a: 1 }, [2], 'three', 4, true, NULL, { b: 'é' }]
  },
  {
    ...common,
    name: "NdjsonParser({ output: 'lines' })",
    create: (options) => new NdjsonParser({ ...options, output: 'lines' }),
    expected: LINES,
    map: (line) => (Buffer.isBuffer(line) ? line.toString() : line)
  }
]
