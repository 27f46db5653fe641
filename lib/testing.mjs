// sluice/testing as an ES module: the CommonJS module's names, re-exported.
// Loaded with createRequire for the reason given in ./index.mjs.
import { createRequire } from 'node:module'

const testing = createRequire(import.meta.url)('./testing.js')

export const { createClock, ManualClock } = testing

export default testing
