'use strict'

// `jest.mock('sluice')` with no factory: jest builds the mock from the real module's own data
// properties and skips accessors, so every export must be a plain property for a test that
// automocks sluice to get all of them (an index.js that loaded components lazily, through
// getters, gave such a test an empty module).

jest.mock('../../index.js')

const sluice = require('../../index.js')
const actual = jest.requireActual('../../index.js')

test('jest.mock automocks every export: the classes and functions become mocks', () => {
  expect(Object.keys(sluice).sort()).toEqual(Object.keys(actual).sort())
  for (const name of ['NdjsonParser', 'NdjsonStringifier', 'Throttle', 'ThrottleGroup', 'BoundedBuffer', 'Meter', 'MonitoredWritable', 'bottleneck', 'configure']) {
    expect(jest.isMockFunction(sluice[name])).toBe(true)
  }
  // A mocked class can be constructed and its calls inspected, as a test of app code would.
  const parser = new sluice.NdjsonParser({ output: 'values' })
  expect(sluice.NdjsonParser).toHaveBeenCalledWith({ output: 'values' })
  expect(jest.isMockFunction(parser.stats)).toBe(true)
})
