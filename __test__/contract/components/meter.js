'use strict'

// Meter as a contract component (see ../index.js): a PassThrough that measures, so what goes in
// comes out unchanged and in order, with its timer and stall checks running (a short interval
// and stallMs, so the signal hub is busy while the contract's cases run).

const { Meter } = require('../../..')
const { byteStream, objectStream } = require('./runs.js')

const MONITOR = { interval: 20, stallMs: 50 }

module.exports = [
  {
    ...byteStream,
    module: __filename,
    name: 'Meter (bytes)',
    create: (options) => new Meter({ ...options, ...MONITOR })
  },
  {
    ...objectStream,
    module: __filename,
    name: 'Meter (objects)',
    create: (options) => new Meter({ ...options, ...MONITOR, objectMode: true })
  }
]
