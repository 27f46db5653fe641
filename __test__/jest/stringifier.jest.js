'use strict'

// NdjsonStringifier under jest's modern fake timers, which fake the sandbox's setImmediate,
// process.nextTick and queueMicrotask: its idle flush uses node:timers' setImmediate, so a value
// trickled in still comes out, and a pipeline completes, with the fake clock never advanced. The
// whole file runs again with timers faked before any module loads (the last test).

const { once } = require('node:events')
const { Readable, Writable } = require('node:stream')
const { pipeline } = require('node:stream/promises')
const { NdjsonStringifier, NULL } = require('../..')
const { UNDER_GLOBAL_FAKES, runUnderGlobalFakeTimers } = require('../helpers.js')

jest.setTimeout(20000)

beforeEach(() => {
  jest.useFakeTimers()
})

afterEach(() => {
  jest.useRealTimers()
})

test('a value written alone (stream not ended) comes out without the fake clock advancing', async () => {
  const s = new NdjsonStringifier()
  s.write({ trickle: 1 })
  const [chunk] = await once(s, 'data')
  expect(chunk.toString()).toBe('{"trickle":1}\n')
  s.destroy()
})

test('a pipeline of 20,000 values completes, every line in order', async () => {
  const values = Array.from({ length: 20000 }, (_, i) => (i % 1000 === 0 ? NULL : { i }))
  const chunks = []
  await pipeline(
    Readable.from(values),
    new NdjsonStringifier(),
    new Writable({ write (c, e, cb) { chunks.push(c); cb() } })
  )
  const lines = Buffer.concat(chunks).toString().split('\n')
  expect(lines.pop()).toBe('')
  expect(lines).toEqual(values.map((v) => (v === NULL ? 'null' : JSON.stringify(v))))
})

;(UNDER_GLOBAL_FAKES ? test.skip : test)('this file again in a child jest with fakeTimers: { enableGlobally: true } (faked before any module loads)', () => {
  expect(runUnderGlobalFakeTimers(__filename)).toEqual({ status: 0, signal: null, summary: expect.stringMatching(/^Tests:\s+1 skipped, \d+ passed, \d+ total$/) })
}, 150000)
