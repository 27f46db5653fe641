'use strict'

// Untimed correctness check run by bench/ndjson.js before the timed sluice trials: a fast number
// means nothing if the values are wrong. Streams a corpus through one candidate and compares every
// output record with JSON.parse of the same input line: deep-strict equal (values, types,
// prototypes) and the same JSON.stringify text (which also pins the key order). For raw-line
// output the bytes must match exactly.
// argv[2] is JSON: {candidate, path, records}.

const fs = require('node:fs')
const { pipeline, Writable } = require('node:stream')
const { isDeepStrictEqual } = require('node:util')
const { byName } = require('./candidates.js')
const common = require('./common.js')

common.runChildMain(async ({ candidate, path, records }) => {
  const cand = byName(candidate)
  const create = await cand.load()
  const input = fs.readFileSync(path)

  let lineNo = 0 // 0-based index of the next expected record
  let start = 0 // byte offset of the next input line
  const nextLine = () => {
    let end = input.indexOf(10, start)
    if (end === -1) end = input.length
    const line = input.subarray(start, end)
    start = end + 1
    return line
  }
  const fail = (why) => {
    throw new Error(`${candidate}: record ${lineNo + 1} (line ${lineNo + 1}) differs from JSON.parse: ${why}`)
  }
  const checkValue = (v) => {
    const line = nextLine()
    const expected = JSON.parse(line.toString('utf8'))
    const a = JSON.stringify(v)
    const b = JSON.stringify(expected)
    if (a !== b) {
      let i = 0
      while (i < a.length && a[i] === b[i]) i++
      fail(`text differs at char ${i}: got …${a.slice(Math.max(0, i - 40), i + 40)}… expected …${b.slice(Math.max(0, i - 40), i + 40)}…`)
    }
    if (!isDeepStrictEqual(v, expected)) fail('same JSON text but not deep-strict equal (prototype or property attributes)')
    lineNo++
  }
  const check = {
    value: checkValue,
    keyed: (kv) => checkValue(kv.value),
    batch: (arr) => {
      for (const v of arr) checkValue(v)
    },
    line: (buf) => {
      const line = nextLine()
      if (!Buffer.isBuffer(buf) || !buf.equals(line)) fail(`raw line bytes differ (got ${buf && buf.length} bytes, expected ${line.length})`)
      lineNo++
    },
  }[cand.shape]

  const sink = new Writable({
    objectMode: true,
    write(chunk, _encoding, callback) {
      try {
        check(chunk)
        callback()
      } catch (err) {
        callback(err)
      }
    },
  })
  await new Promise((resolve, reject) =>
    pipeline(fs.createReadStream(path, { highWaterMark: common.CHUNK }), create(), sink, (err) =>
      err ? reject(err) : resolve(),
    ),
  )
  if (lineNo !== records) throw new Error(`${candidate}: ${lineNo} records, expected ${records}`)
  return { records: lineNo }
})
