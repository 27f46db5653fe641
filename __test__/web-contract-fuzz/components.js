'use strict'

// The Web faces the Web contract fuzz drives, each beside its reference (see engine.js).
//
// A descriptor: name, kind ('transform' | 'writable'), writableObjectMode, bytesIn, bytesOut,
// create(strategies, config, sink) and reference(strategies, config, sink) → { face, writable,
// readable }, model(issued) → { output, error } (what a run that takes exactly `issued` and
// closes delivers: a Buffer for bytes, an array of values; the error it fails with), async (the
// face completes writes later, on a worker or a timer: a failure on its input comes later),
// optional configure(r), value(r), source(r, config).
//
// The strategies are the program's: a face given none (its default) is compared with a
// reference given the face's documented defaults, so that the queues are the same size.

const { TransformStream, WritableStream, CountQueuingStrategy, ByteLengthQueuingStrategy } = require('node:stream/web')
const { getDefaultHighWaterMark } = require('node:stream')
const { ThrottleStream, MeterStream, BoundedBufferStream, NdjsonParseStream, NdjsonStringifyStream, MonitoredWritableStream, NULL } = require('../../lib/web.js')
const { COMPONENTS: NODE_COMPONENTS, parseLine, parseAll } = require('../contract-fuzz/components.js')
const { randomValue } = require('../contract-fuzz/engine.js')
const { buildStrategy } = require('./engine.js')
const { bytesOf, identityBytes, identityValues } = require('../contract-fuzz/harness.js')

const MONITOR = { interval: 20, stallMs: 50 }

/** What a transform throws on a chunk that is no bytes (the faces' error). */
function notBytes () {
  return Object.assign(new TypeError('not bytes'), { code: 'ERR_INVALID_ARG_TYPE' })
}

/**
 * Refuses a chunk as the faces do: errors the stream as the chunk is taken (controller.error(),
 * then the throw rejects the write), as a transform or sink that checks its chunk may. A bare
 * throw errors a TransformStream a promise job later (the standard's PerformTransform reacts to
 * the transform's promise), so a writer's releaseLock() in the write's tick met an open stream
 * on the reference only (seed 598: its ready rejected with the release's TypeError there, with
 * the face's error on the face). Both are conforming; the faces fail inside the write
 * (lib/web/face.js, Link#write), so the reference does too.
 */
function refuse (controller, err) {
  controller.error(err)
  throw err
}

const oneChunk = () => new CountQueuingStrategy({ highWaterMark: 1 })
const defaults = (readableObjects) => ({
  writable: oneChunk(),
  readable: readableObjects
    ? new CountQueuingStrategy({ highWaterMark: getDefaultHighWaterMark(true) })
    : new ByteLengthQueuingStrategy({ highWaterMark: getDefaultHighWaterMark(false) })
})

/** The face's strategies (undefined: its default) and the reference's (the same, or the documented default). */
function strategiesFor (s, readableObjects) {
  const d = defaults(readableObjects)
  return {
    face: [buildStrategy(s.writable, undefined), buildStrategy(s.readable, undefined)],
    reference: [buildStrategy(s.writable, d.writable), buildStrategy(s.readable, d.readable)]
  }
}

const sides = (ts) => ({ face: ts, writable: ts.writable, readable: ts.readable })

/** A reference TransformStream from transform/flush, with the program's strategies. */
function referenceTransform (transformer, readableObjects) {
  return (strategies) => sides(new TransformStream(transformer(), ...strategiesFor(strategies, readableObjects).reference))
}


function passThroughs () {
  const list = []
  for (const objectMode of [false, true]) {
    const common = {
      kind: 'transform',
      writableObjectMode: objectMode,
      bytesIn: !objectMode,
      bytesOut: !objectMode,
      async: true,
      model: objectMode ? identityValues : identityBytes,
      reference: referenceTransform(() => ({
        transform (chunk, controller) {
          if (objectMode) return controller.enqueue(chunk)
          const bytes = bytesOf(chunk)
          if (bytes === null) refuse(controller, notBytes())
          // An empty chunk is no output: the faces' Node streams emit none (core's do not either).
          if (bytes.length > 0) controller.enqueue(new Uint8Array(bytes))
        }
      }), objectMode)
    }
    const mode = objectMode ? 'objects' : 'bytes'
    const face = (Class, options) => (strategies) => sides(new Class(options, ...strategiesFor(strategies, objectMode).face))
    list.push(
      // Finite but never waits: every chunk goes through the token bucket at once.
      { ...common, name: `ThrottleStream(rate 1e12, ${mode})`, create: face(ThrottleStream, { objectMode, rate: 1e12, burst: 1e11 }) },
      { ...common, name: `MeterStream(${mode})`, create: face(MeterStream, { ...MONITOR, objectMode }) },
      {
        ...common,
        name: `BoundedBufferStream(block, ${mode})`,
        configure: (r) => ({ capacity: r.pick([1, 2, 4, 64]) }),
        create: (strategies, config) => face(BoundedBufferStream, { objectMode, capacity: config.capacity, overflow: 'block' })(strategies)
      }
    )
  }
  return list
}

// -- NDJSON -----------------------------------------------------------------------------------

const BOM = Buffer.from([0xef, 0xbb, 0xbf])

/** The parser's documented rules as a TransformStream: split lines, JSON.parse each. */
function lineParser () {
  let rest = Buffer.alloc(0)
  let atStart = true
  const line = (bytes, controller) => {
    const r = parseLine(bytes)
    if (r.error) throw Object.assign(new Error(r.error), { name: 'NdjsonError', code: r.error })
    if (!r.blank) controller.enqueue(r.value === NULL ? null : r.value)
  }
  return {
    transform (chunk, controller) {
      const bytes = bytesOf(chunk)
      if (bytes === null) refuse(controller, notBytes())
      let buf = Buffer.concat([rest, bytes])
      if (atStart) {
        if (buf.length < 3 && BOM.subarray(0, buf.length).equals(buf)) {
          rest = buf
          return
        }
        if (buf.subarray(0, 3).equals(BOM)) buf = buf.subarray(3)
        atStart = false
      }
      let start = 0
      for (let at; (at = buf.indexOf(0x0a, start)) >= 0; start = at + 1) line(buf.subarray(start, at), controller)
      rest = Buffer.from(buf.subarray(start))
    },
    flush (controller) {
      if (atStart && rest.equals(BOM)) return
      if (rest.length > 0) line(rest, controller)
    }
  }
}

const nodeParser = NODE_COMPONENTS.find((d) => d.name === 'NdjsonParser')

const ndjson = [
  {
    kind: 'transform',
    name: 'NdjsonParseStream',
    writableObjectMode: false,
    bytesIn: true,
    bytesOut: false,
    async: true,
    // NDJSON text, cut anywhere: inside UTF-8 sequences, between \r and \n (the Node fuzz's).
    source: nodeParser.source,
    model: (issued) => {
      const { output, error } = parseAll(issued)
      return { output: output.map((v) => (v === NULL ? null : v)), error }
    },
    create: (strategies) => sides(new NdjsonParseStream(undefined, ...strategiesFor(strategies, true).face)),
    reference: referenceTransform(lineParser, true)
  },
  {
    kind: 'transform',
    name: 'NdjsonStringifyStream',
    writableObjectMode: true,
    bytesIn: false,
    bytesOut: true,
    async: true,
    value: (r) => (r.chance(0.1) ? null : r.chance(0.05) ? NULL : randomValue(r)),
    model: (issued) => ({ output: Buffer.from(issued.map((v) => JSON.stringify(v === NULL ? null : v) + '\n').join('')), error: null }),
    create: (strategies) => sides(new NdjsonStringifyStream(undefined, ...strategiesFor(strategies, false).face)),
    reference: referenceTransform(() => ({
      transform (value, controller) { controller.enqueue(Buffer.from(JSON.stringify(value === NULL ? null : value) + '\n')) }
    }), false)
  }
]

// -- MonitoredWritableStream ------------------------------------------------------------------

/** The underlying sink: records each chunk as its write starts; sync or async; fails one. */
function recordingSink (config, sink) {
  let n = 0
  return {
    write (chunk) {
      const i = n++
      sink.out.push(chunk) // taken, even when it fails
      const failed = config.failAt === i
      if (!config.async) {
        if (failed) throw sink.reasons.D
        return undefined
      }
      return new Promise((resolve, reject) => setImmediate(() => (failed ? reject(sink.reasons.D) : resolve())))
    },
    close () { sink.log.push('close') },
    abort (reason) { sink.log.push('abort:' + sink.describe(reason)) }
  }
}

function monitored () {
  return [false, true].map((objectMode) => ({
    kind: 'writable',
    name: `MonitoredWritableStream(${objectMode ? 'objects' : 'bytes'})`,
    writableObjectMode: objectMode,
    bytesIn: !objectMode,
    bytesOut: !objectMode,
    async: true,
    model: objectMode ? identityValues : identityBytes,
    configure: (r) => ({ async: r.chance(0.5), failAt: r.chance(0.3) ? r.int(8) : -1 }),
    // The face's writable queue is fixed (one chunk); the program's writable strategy is its
    // highWaterMark (bytes, or items), what it buffers before the destination.
    create: (strategies, config, sink) => {
      const s = strategies.writable
      const options = { ...MONITOR, objectMode, ...(s.kind === 'default' ? {} : { highWaterMark: s.highWaterMark }) }
      const face = new MonitoredWritableStream(recordingSink(config, sink), options)
      return { face, writable: face, readable: null }
    },
    reference: (strategies, config, sink) => {
      // Bytes counted as the face counts them (a string by its UTF-8), not by byteLength.
      const s = strategies.writable
      const strategy = s.kind === 'bytes' ? { highWaterMark: s.highWaterMark, size: (chunk) => bytesOf(chunk)?.length ?? 1 } : buildStrategy(s, oneChunk())
      const recorder = recordingSink(config, sink)
      const ws = new WritableStream({
        ...recorder,
        write (chunk, controller) {
          if (chunk === null && !objectMode) refuse(controller, Object.assign(new TypeError('null'), { code: 'ERR_STREAM_NULL_VALUES' }))
          if (!objectMode && bytesOf(chunk) === null) refuse(controller, notBytes())
          return recorder.write(chunk)
        }
      }, strategy)
      return { face: ws, writable: ws, readable: null }
    }
  }))
}

const COMPONENTS = [...passThroughs(), ...ndjson, ...monitored()]

module.exports = { COMPONENTS }
