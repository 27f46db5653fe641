'use strict'

// MonitoredWritable as a writable contract component (see ../index.js, `kind: 'writable'`), in
// both forms: `new MonitoredWritable({ write })`, whose write records what it takes, and
// `MonitoredWritable.wrap(dest)` in front of a plain core Writable that records it. Its timer and
// stall checks run (a short interval and stallMs, so the signal hub is busy during the cases).
//
// wrap() takes its highWaterMark and object mode from the destination and has no signal option:
// create() gives those core options to the destination, so the signal cases check that the
// destination's abort reaches the wrapper.

const { Writable } = require('node:stream')
const { MonitoredWritable } = require('../../..')
const { byteBulk, byteInput, objectBulk, objectInput } = require('./runs.js')

const MONITOR = { interval: 20, stallMs: 50 }

/** The underlying write: records each chunk it takes, completes at once or later, or fails. */
function recorder (sink = {}) {
  const received = []
  let n = 0
  const write = (chunk, encoding, callback) => {
    const i = n++
    const failed = sink.fail !== undefined && i === sink.fail.at
    if (!failed) received.push(chunk)
    const done = failed ? () => callback(sink.fail.error) : () => callback()
    if (sink.slow) setImmediate(done)
    else done()
  }
  return { write, received }
}

function plain (objectMode) {
  return (options = {}, sink) => {
    const { write, received } = recorder(sink)
    return { stream: new MonitoredWritable({ ...options, ...MONITOR, objectMode, write }), received }
  }
}

function wrapped (objectMode) {
  return (options = {}, sink) => {
    const { write, received } = recorder(sink)
    const dest = new Writable({ ...options, objectMode, write })
    return { stream: MonitoredWritable.wrap(dest, MONITOR), received }
  }
}

module.exports = [
  { name: 'new MonitoredWritable({ write }) (bytes)', objectMode: false, create: plain(false), input: byteInput, bulk: byteBulk },
  { name: 'new MonitoredWritable({ write }) (objects)', objectMode: true, create: plain(true), input: objectInput, bulk: (size) => objectBulk(size) },
  { name: 'MonitoredWritable.wrap(dest) (bytes)', objectMode: false, create: wrapped(false), input: byteInput, bulk: byteBulk },
  { name: 'MonitoredWritable.wrap(dest) (objects)', objectMode: true, create: wrapped(true), input: objectInput, bulk: (size) => objectBulk(size) }
].map((d) => ({ kind: 'writable', module: __filename, ...d }))
