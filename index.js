'use strict'

// sluice: Node.js stream components whose heavy work runs in Rust.
// The public surface is hand-written here; `binding.js` is the loader `napi build` generates.
//
// The native addon is loaded now, so that a missing or broken binary fails `require('sluice')`
// itself (lib/loader.js); each component's JavaScript is loaded the first time one of its names
// is read. A program that only parses NDJSON then never compiles the throttle, the meter, the
// buffer or the stringifier (README, "Install and test": 0.65 MB of heap kept instead of 1.0,
// a few milliseconds less). Once read, a name is a plain property, as in an object literal.

require('./lib/native.js')

/** Where each export lives (lib/index.mjs re-exports the same names for `import`). */
const EXPORTS = {
  NdjsonParser: './lib/ndjson.js',
  NULL: './lib/ndjson.js',
  NdjsonStringifier: './lib/stringifier.js',
  NdjsonError: './lib/errors.js',
  SluiceError: './lib/errors.js',
  UnserializableError: './lib/errors.js',
  Throttle: './lib/throttle.js',
  ThrottleGroup: './lib/throttle.js',
  BoundedBuffer: './lib/buffer.js',
  Meter: './lib/meter.js',
  MonitoredWritable: './lib/meter.js',
  bottleneck: './lib/meter.js',
  formatPipeline: './lib/meter.js',
  registerPrometheus: './lib/meter.js',
  toPrometheus: './lib/meter.js',
  configure: './lib/runtime.js'
}

/** Makes `name` the plain (writable, enumerable) property it would be in an object literal. */
function settle (name, value) {
  Object.defineProperty(module.exports, name, { value, writable: true, enumerable: true, configurable: true })
  return value
}

for (const [name, file] of Object.entries(EXPORTS)) {
  Object.defineProperty(module.exports, name, {
    enumerable: true,
    configurable: true,
    get () {
      return settle(name, require(file)[name])
    },
    // Assigned before it was ever read (a test's stub): the assigned value, as for a plain property.
    set (value) {
      settle(name, value)
    }
  })
}
