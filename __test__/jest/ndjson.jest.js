'use strict'

// The main NdjsonParser scenarios under jest, the runner most users test their apps with: errors
// must be real `Error`s in the test's realm, and the addon must load in jest's module registry.

const { pipeline } = require('node:stream/promises')
const { Readable, Writable } = require('node:stream')
const { NdjsonParser, NdjsonError } = require('../..')

function sink (out) {
  return new Writable({ objectMode: true, write (v, e, cb) { out.push(v); cb() } })
}

test('parses NDJSON in a pipeline', async () => {
  const out = []
  await pipeline(Readable.from([Buffer.from('{"a":1}\n{"b":2}\n')]), new NdjsonParser(), sink(out))
  expect(out).toEqual([{ a: 1 }, { b: 2 }])
})

test('an invalid line rejects the pipeline with an Error carrying the line number', async () => {
  const out = []
  const run = pipeline(Readable.from([Buffer.from('{"a":1}\n{oops}\n{"b":2}\n')]), new NdjsonParser(), sink(out))
  await expect(run).rejects.toThrow(/line 2/)
  const err = await run.catch((e) => e)
  expect(err).toBeInstanceOf(Error)
  expect(err).toBeInstanceOf(NdjsonError)
  expect(err.code).toBe('ERR_SLUICE_INVALID_JSON')
  expect(err.line).toBe(2)
  expect(out).toEqual([{ a: 1 }])
})

// ---- more scenarios under jest's module registry and realm ----------------------------------

const { once } = require('node:events')
const { NULL, SluiceError } = require('../..')

test("skip mode: 'invalid' events in order, values kept, stream ends normally", async () => {
  const parser = new NdjsonParser({ onInvalid: 'skip' })
  const log = []
  parser.on('invalid', (info) => log.push(['invalid', info.line, info.code]))
  const out = []
  await pipeline(Readable.from([Buffer.from('{"a":1}\n{oops\n2\n'), Buffer.from([0x22, 0xff, 0x22, 0x0a]), Buffer.from('3')]), parser,
    new Writable({ objectMode: true, write (v, e, cb) { log.push(['value', v]); out.push(v); cb() } }))
  expect(out).toEqual([{ a: 1 }, 2, 3])
  expect(log).toEqual([['value', { a: 1 }], ['invalid', 2, 'ERR_SLUICE_INVALID_JSON'], ['value', 2], ['invalid', 4, 'ERR_SLUICE_INVALID_UTF8'], ['value', 3]])
  expect(parser.stats()).toMatchObject({ lines: 5, values: 3, invalidLines: 2 })
})

test("output 'lines': raw Buffers without terminators", async () => {
  const out = []
  await pipeline(Readable.from([Buffer.from('{"a": 1}\r\n\n[2]\n')]), new NdjsonParser({ output: 'lines' }), sink(out))
  expect(out).toHaveLength(2)
  for (const line of out) expect(Buffer.isBuffer(line)).toBe(true)
  expect(out.map((l) => l.toString())).toEqual(['{"a": 1}', '[2]'])
})

test('a null line arrives as NULL and does not end the stream; envelopes carry a real null', async () => {
  const out = []
  await pipeline(Readable.from([Buffer.from('1\nnull\n2\n')]), new NdjsonParser(), sink(out))
  expect(out).toEqual([1, NULL, 2])
  const env = []
  await pipeline(Readable.from([Buffer.from('null\n')]), new NdjsonParser({ output: 'envelopes' }), sink(env))
  expect(env).toEqual([{ line: 1, offset: 0, value: null }])
})

test('destroy mid-stream: close is emitted and no data follows', async () => {
  const lines = Array.from({ length: 20000 }, (_, i) => JSON.stringify({ i })).join('\n')
  const parser = new NdjsonParser()
  let n = 0
  let after = 0
  let destroyed = false
  parser.on('data', () => {
    if (destroyed) after++
    if (++n === 500) { destroyed = true; parser.destroy() }
  })
  const closed = once(parser, 'close')
  Readable.from([Buffer.from(lines)]).pipe(parser)
  await closed
  expect(n).toBe(500)
  expect(after).toBe(0)
})

test('for await over the parser; errors are Errors of this realm', async () => {
  const values = []
  for await (const v of Readable.from([Buffer.from('1\n"two"\n[3]\n')]).pipe(new NdjsonParser())) values.push(v)
  expect(values).toEqual([1, 'two', [3]])

  const seen = []
  const iterate = async () => {
    for await (const v of Readable.from([Buffer.from('1\n{bad\n2\n')]).pipe(new NdjsonParser())) seen.push(v)
  }
  const err = await iterate().catch((e) => e)
  expect(err).toBeInstanceOf(Error)
  expect(err).toBeInstanceOf(NdjsonError)
  expect(err).toBeInstanceOf(SluiceError)
  expect(err.code).toBe('ERR_SLUICE_INVALID_JSON')
  expect(err.line).toBe(2)
  expect(seen).toEqual([1])
})

test('option errors are TypeError/RangeError of this realm', () => {
  expect(() => new NdjsonParser({ output: 'nope' })).toThrow(TypeError)
  expect(() => new NdjsonParser({ maxLineBytes: 0 })).toThrow(RangeError)
  expect(() => new NdjsonParser({ nullValue: null })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
})

test('a throwing reviver rejects the pipeline with that error', async () => {
  const boom = new Error('reviver boom')
  const run = pipeline(Readable.from([Buffer.from('1\n2\n')]), new NdjsonParser({ reviver: () => { throw boom } }), sink([]))
  await expect(run).rejects.toBe(boom)
})
