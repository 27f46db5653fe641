'use strict'

// ThrottleStream, MeterStream and BoundedBufferStream as Web contract components (see
// ../index.js): what goes in comes out, unchanged and in order, in bytes and in objects. The
// runs are the Node contract's (../../contract/components/runs.js), the options its components'.

const { ThrottleStream, MeterStream, BoundedBufferStream } = require('../../../lib/web.js')
const { byteStream, objectStream, objectBulk } = require('../../contract/components/runs.js')

const bytes = { ...byteStream, module: __filename, bytesIn: true, bytesOut: true }
const objects = { ...objectStream, module: __filename }
const MONITOR = { interval: 20, stallMs: 50 }

module.exports = [
  { ...bytes, name: 'ThrottleStream (bytes)', create: (w, r) => new ThrottleStream({ rate: 64 * 1024 * 1024 }, w, r) },
  { ...objects, name: 'ThrottleStream (objects)', create: (w, r) => new ThrottleStream({ rate: 2_000_000, objectMode: true }, w, r) },
  { ...bytes, name: 'MeterStream (bytes)', create: (w, r) => new MeterStream({ ...MONITOR }, w, r) },
  { ...objects, name: 'MeterStream (objects)', create: (w, r) => new MeterStream({ ...MONITOR, objectMode: true }, w, r) },
  { ...bytes, name: 'BoundedBufferStream (bytes)', create: (w, r) => new BoundedBufferStream({}, w, r) },
  {
    ...objects,
    name: 'BoundedBufferStream (objects, capacity 64)',
    create: (w, r) => new BoundedBufferStream({ objectMode: true, capacity: 64 }, w, r),
    bulk: (size) => objectBulk(size, 16)
  }
]
