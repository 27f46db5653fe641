'use strict'

// The components the contract fuzz drives, each beside its core reference (see engine.js).
//
// A descriptor: name, kind ('transform' | 'writable'), writableObjectMode, readableObjectMode,
// create(options, config, sinkLog) and reference(options, config, sinkLog) → { stream },
// model(accepted) → { output, error } (what a run that takes exactly `accepted` and ends
// delivers: a Buffer for bytes, an array of values for objects; and the error it fails with),
// async (the component completes writes or pushes later than core would: timing may differ),
// optional configure(r), value(r), source(r, config).

const { PassThrough, Transform, Writable } = require('node:stream')
const { isUtf8 } = require('node:buffer')
const { Throttle, BoundedBuffer, Meter, MonitoredWritable, NdjsonParser, NdjsonStringifier, NULL } = require('../..')
const { randomValue } = require('./engine.js')
const { identityBytes, identityValues } = require('./harness.js')
const { inlineParsing } = require('../../lib/ndjson/inline.js')
const { uncorkAfterEnd } = require('../../lib/inflight.js')

const MONITOR = { interval: 20, stallMs: 50 }

/**
 * A core reference whose uncork() after end() finishes, as the contract has it (README,
 * "Backpressure and memory"), through sluice's own lib/inflight.js uncorkAfterEnd: core's
 * Writable hangs there (NdjsonParser seed 140410: a write held by a full readable side,
 * end(chunk), cork(), the settle's uncork()).
 */
function finishingUncork (stream) {
  const uncork = stream.uncork
  stream.uncork = function () { uncorkAfterEnd(this, uncork) }
  return stream
}

/** What every identity component of one mode shares: its modes, its model, the mode's name. */
function identityIn (objectMode, kind) {
  return {
    mode: objectMode ? 'objects' : 'bytes',
    common: { kind, writableObjectMode: objectMode, readableObjectMode: objectMode, model: objectMode ? identityValues : identityBytes }
  }
}

function passThroughs () {
  const list = []
  for (const objectMode of [false, true]) {
    const { mode, common: shared } = identityIn(objectMode, 'transform')
    const common = { ...shared, reference: (options) => ({ stream: finishingUncork(new PassThrough({ ...options, objectMode })) }) }
    list.push(
      { ...common, name: `Throttle(rate Infinity, ${mode})`, create: (options) => ({ stream: new Throttle({ ...options, objectMode, rate: Infinity }) }) },
      // Finite but never waits: every chunk goes through the token bucket (acquire) at once.
      { ...common, name: `Throttle(rate 1e12, ${mode})`, create: (options) => ({ stream: new Throttle({ ...options, objectMode, rate: 1e12, burst: 1e11 }) }) },
      {
        ...common,
        name: `BoundedBuffer(block, ${mode})`,
        configure: (r) => ({ capacity: r.pick([1, 2, 4, 64]) }),
        create: (options, config) => ({ stream: new BoundedBuffer({ ...options, objectMode, capacity: config.capacity, overflow: 'block' }) })
      },
      { ...common, name: `Meter(${mode})`, create: (options) => ({ stream: new Meter({ ...options, ...MONITOR, objectMode }) }) }
    )
  }
  return list
}

// -- MonitoredWritable ------------------------------------------------------------------------

/** The underlying write: records each chunk when the write starts; sync or async; fails some. */
function recorder (config, sinkLog) {
  let n = 0
  return (chunk, encoding, callback) => {
    const i = n++
    const failed = config.failAt.includes(i)
    sinkLog.push(chunk) // taken, even when it fails
    const done = failed ? () => callback(Object.assign(new Error('dest failed'), { code: 'FUZZ_DEST' })) : () => callback()
    if (config.async) setImmediate(done)
    else done()
  }
}

function monitored () {
  const list = []
  for (const objectMode of [false, true]) {
    const { mode, common: shared } = identityIn(objectMode, 'writable')
    const common = {
      ...shared,
      configure: (r) => ({ async: r.chance(0.5), failAt: r.chance(0.3) ? [r.int(8)] : [] }),
      reference: (options, config, sinkLog) => ({ stream: finishingUncork(new Writable({ highWaterMark: options.highWaterMark, objectMode, write: recorder(config, sinkLog) })) })
    }
    list.push(
      {
        ...common,
        name: `new MonitoredWritable({ write }) (${mode})`,
        create: (options, config, sinkLog) => ({ stream: new MonitoredWritable({ highWaterMark: options.highWaterMark, ...MONITOR, objectMode, write: recorder(config, sinkLog) }) })
      },
      {
        ...common,
        name: `MonitoredWritable.wrap(dest) (${mode})`,
        create: (options, config, sinkLog) => {
          const dest = new Writable({ highWaterMark: options.highWaterMark, objectMode, write: recorder(config, sinkLog) })
          return { stream: MonitoredWritable.wrap(dest, MONITOR) }
        }
      }
    )
  }
  return list
}

// -- NDJSON -----------------------------------------------------------------------------------

/** Core's way of parsing NDJSON: split lines, JSON.parse each (the parser's documented rules). */
class LineParser extends Transform {
  constructor (options) {
    super({ ...options, readableObjectMode: true })
    this.rest = Buffer.alloc(0)
    this.atStart = true
  }

  _transform (chunk, encoding, callback) {
    let buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk
    if (this.atStart) {
      if (buf.length < 3 && Buffer.from([0xef, 0xbb, 0xbf]).subarray(0, buf.length).equals(buf)) {
        this.rest = buf
        return callback()
      }
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3)
      this.atStart = false
    }
    let at
    let start = 0
    while ((at = buf.indexOf(0x0a, start)) >= 0) {
      const err = this.line(buf.subarray(start, at))
      if (err) return callback(err)
      start = at + 1
    }
    this.rest = Buffer.from(buf.subarray(start))
    callback()
  }

  _flush (callback) {
    let buf = this.rest
    if (this.atStart && buf.length === 3 && buf[0] === 0xef) buf = buf.subarray(3)
    if (buf.length > 0) return callback(this.line(buf, true))
    callback()
  }

  line (bytes) {
    const r = parseLine(bytes)
    if (r.error) return Object.assign(new Error(r.error), { code: r.error })
    if (!r.blank) this.push(r.value)
  }
}

function parseLine (bytes) {
  if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1)
  if (!isUtf8(bytes)) return { error: 'ERR_SLUICE_INVALID_UTF8' }
  const text = bytes.toString()
  if (/^[ \t\r]*$/.test(text)) return { blank: true }
  try {
    const value = JSON.parse(text)
    return { value: value === null ? NULL : value }
  } catch {
    return { error: 'ERR_SLUICE_INVALID_JSON' }
  }
}

function parseAll (accepted) {
  let buf = Buffer.concat(accepted)
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3)
  const output = []
  let start = 0
  while (start < buf.length) {
    let at = buf.indexOf(0x0a, start)
    if (at < 0) at = buf.length
    const r = parseLine(buf.subarray(start, at))
    if (r.error) return { output, error: r.error }
    if (!r.blank) output.push(r.value)
    start = at + 1
  }
  return { output, error: null }
}

/** NDJSON text of random values: CRLF, blank and whitespace lines, a BOM, rarely a bad line. */
function ndjsonText (r) {
  let text = r.chance(0.1) ? '\ufeff' : ''
  const n = r.range(1, 30)
  for (let i = 0; i < n; i++) {
    const kind = r.weighted([[80, 'value'], [5, 'blank'], [5, 'space'], [3, 'null'], [1, 'bad']])
    const line = kind === 'value'
      ? JSON.stringify(randomValue(r), null, r.chance(0.1) ? 1 : undefined).replace(/\n/g, ' ')
      : kind === 'blank' ? '' : kind === 'space' ? ' \t ' : kind === 'null' ? 'null' : '{oops'
    text += line + (r.chance(0.3) ? '\r\n' : '\n')
  }
  if (r.chance(0.3)) text = text.replace(/\r?\n$/, r.chance(0.5) ? '\r' : '')
  return Buffer.from(text)
}

const ndjson = [
  {
    kind: 'transform',
    name: 'NdjsonParser',
    writableObjectMode: false,
    readableObjectMode: true,
    async: true,
    source: (r) => {
      const text = ndjsonText(r)
      let at = 0
      return {
        // Pieces cut anywhere: inside multi-byte characters, between \r and \n.
        next: (r) => {
          if (at >= text.length) return undefined
          const size = r.weighted([[40, r.range(1, 4)], [40, r.range(1, 64)], [10, text.length]])
          const piece = text.subarray(at, at + size)
          at += size
          return piece
        }
      }
    },
    model: parseAll,
    create: (options) => ({ stream: new NdjsonParser(options) }),
    reference: (options) => ({ stream: finishingUncork(new LineParser(options)) })
  },
  {
    kind: 'transform',
    name: 'NdjsonStringifier',
    writableObjectMode: true,
    readableObjectMode: false,
    async: true,
    value: (r) => (r.chance(0.1) ? NULL : randomValue(r)),
    model: (accepted) => ({ output: Buffer.from(accepted.map((v) => JSON.stringify(v === NULL ? null : v) + '\n').join('')), error: null }),
    create: (options) => ({ stream: new NdjsonStringifier(options) }),
    reference: (options) => ({
      stream: finishingUncork(new Transform({
        ...options,
        writableObjectMode: true,
        transform (value, encoding, callback) { callback(null, JSON.stringify(value === NULL ? null : value) + '\n') }
      }))
    })
  }
]

// The fuzz's inputs are small, which a parser takes on the JS thread (lib/ndjson/inline.js) until
// there is bulk: the same parser with that off runs every program through the native stage and
// the transport instead.
const parser = ndjson[0]
ndjson.splice(1, 0, {
  ...parser,
  name: 'NdjsonParser (native stage only)',
  create: (options) => {
    inlineParsing.enabled = false
    try {
      return { stream: new NdjsonParser(options) }
    } finally {
      inlineParsing.enabled = true
    }
  }
})

const COMPONENTS = [...passThroughs(), ...monitored(), ...ndjson]

module.exports = { COMPONENTS, LineParser, parseLine, parseAll, ndjsonText }
