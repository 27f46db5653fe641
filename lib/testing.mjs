// sluice/testing as an ES module: the CommonJS module's names, re-exported.
import testing from './testing.js'

export const { createClock, ManualClock } = testing

export default testing
