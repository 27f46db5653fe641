'use strict'

// sluice: Node.js stream components whose heavy work runs in Rust.
// The public surface is hand-written here; `binding.js` is the loader `napi build` generates.

const { NdjsonParser, NULL } = require('./lib/ndjson.js')
const { NdjsonStringifier } = require('./lib/stringifier.js')
const { NdjsonError, SluiceError, UnserializableError } = require('./lib/errors.js')
const { configure } = require('./lib/runtime.js')
const { Throttle, ThrottleGroup } = require('./lib/throttle.js')
const { Meter, MonitoredWritable, bottleneck, formatPipeline, registerPrometheus, toPrometheus } = require('./lib/meter.js')
const { BoundedBuffer } = require('./lib/buffer.js')

module.exports = {
  NdjsonParser,
  NdjsonStringifier,
  NULL,
  NdjsonError,
  SluiceError,
  UnserializableError,
  Throttle,
  ThrottleGroup,
  BoundedBuffer,
  Meter,
  MonitoredWritable,
  bottleneck,
  formatPipeline,
  registerPrometheus,
  toPrometheus,
  configure
}
