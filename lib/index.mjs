// sluice as an ES module: the CommonJS entry's names, re-exported (one implementation, one
// native addon, whichever way it is loaded). The default export is the CommonJS module itself,
// as Node gives it for a CommonJS package.
//
// Loaded with createRequire rather than `import … from '../index.js'`: on Node 20 a static import
// of a CommonJS module that throws (no usable native addon) is reported as uncaught even when the
// importer's `await import('sluice')` catches it (nodejs/node#51603).
import { createRequire } from 'node:module'

const sluice = createRequire(import.meta.url)('../index.js')

export const {
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
} = sluice

export default sluice
