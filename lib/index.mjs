// sluice as an ES module: the CommonJS entry's names, re-exported (one implementation, one
// native addon, whichever way it is loaded). The default export is the CommonJS module itself,
// as Node gives it for a CommonJS package.
import sluice from '../index.js'

export const {
  NdjsonParser,
  NULL,
  NdjsonError,
  SluiceError,
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
