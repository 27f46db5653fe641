'use strict'

// NdjsonParser options and per-line semantics: validation, defaults, output shapes, reviver,
// nullValue, invalid-line reporting (skip / error / maxInvalid / blankLines), maxLineBytes
// (bounded memory), CR handling, BOM, strict UTF-8, __proto__, deep nesting, stats(), and
// linear time on a very long line.

const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { once } = require('node:events')
const { getDefaultHighWaterMark, Readable } = require('node:stream')
const { MAX_STRING_LENGTH } = require('node:buffer').constants
const test = require('ava')
const { NdjsonParser, NULL, NdjsonError, SluiceError } = require('..')
const { chunked, collect, modelNdjson, randomChunks, sameValue, twoChunkSplits, UTF8_BOM } = require('./helpers.js')

const ROOT = path.join(__dirname, '..')
const MiB = 1024 * 1024
const b = (s) => Buffer.from(s)

function run (options, input, how) {
  const chunks = Array.isArray(input) ? input : [typeof input === 'string' ? b(input) : input]
  return collect(new NdjsonParser(options), chunks, how)
}

// ---- validation -------------------------------------------------------------------------------

const BAD_OPTIONS = [
  // [options, error class, code, text the message must contain]
  [5, TypeError, 'ERR_INVALID_ARG_TYPE', '"options"'],
  [null, TypeError, 'ERR_INVALID_ARG_TYPE', '"options"'],
  ['values', TypeError, 'ERR_INVALID_ARG_TYPE', '"options"'],
  [[], TypeError, 'ERR_INVALID_ARG_TYPE', '"options"'],
  [{ foo: 1 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.foo'],
  [{ outputs: 'values' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.outputs'],
  [{ objectMode: true }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.objectMode'],
  [{ output: 'value' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.output'],
  [{ output: 1 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.output'],
  [{ output: null }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.output'],
  [{ onInvalid: 'ignore' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.onInvalid'],
  [{ onInvalid: true }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.onInvalid'],
  [{ blankLines: 'allow' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.blankLines'],
  [{ maxInvalid: '1' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.maxInvalid'],
  [{ maxInvalid: null }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.maxInvalid'],
  [{ maxInvalid: -1 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxInvalid'],
  [{ maxInvalid: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxInvalid'],
  [{ maxInvalid: NaN }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxInvalid'],
  [{ maxInvalid: -Infinity }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxInvalid'],
  // With onInvalid 'error' (the default) the first invalid line fails the stream: no limit applies.
  [{ maxInvalid: 5 }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.maxInvalid'],
  [{ maxInvalid: 0, onInvalid: 'error' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.maxInvalid'],
  [{ maxInvalid: Infinity, onInvalid: 'error' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.maxInvalid'],
  [{ maxLineBytes: '1024' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.maxLineBytes'],
  [{ maxLineBytes: 10n }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.maxLineBytes'],
  [{ maxLineBytes: 0 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxLineBytes'],
  [{ maxLineBytes: -5 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxLineBytes'],
  [{ maxLineBytes: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxLineBytes'],
  [{ maxLineBytes: NaN }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxLineBytes'],
  [{ maxLineBytes: Infinity }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxLineBytes'],
  [{ maxLineBytes: MAX_STRING_LENGTH }, RangeError, 'ERR_OUT_OF_RANGE', 'options.maxLineBytes'],
  [{ nullValue: null }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.nullValue'],
  [{ reviver: 'x' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.reviver'],
  [{ reviver: {} }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.reviver'],
  [{ reviver: null }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.reviver'],
  [{ reviver: (k, v) => v, output: 'lines' }, TypeError, 'ERR_INVALID_ARG_VALUE', 'options.reviver'],
  [{ highWaterMark: -1 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.highWaterMark'],
  [{ highWaterMark: '16' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.highWaterMark'],
  [{ readableHighWaterMark: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.readableHighWaterMark'],
  [{ writableHighWaterMark: -1 }, RangeError, 'ERR_OUT_OF_RANGE', 'options.writableHighWaterMark'],
  [{ signal: {} }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.signal'],
  [{ signal: 'abort' }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.signal'],
  [{ signal: null }, TypeError, 'ERR_INVALID_ARG_TYPE', 'options.signal']
]

for (const [options, ErrorClass, code, name] of BAD_OPTIONS) {
  const show = (v) => typeof v === 'function' ? 'fn' : typeof v === 'bigint' ? `${v}n` : typeof v === 'number' ? String(v) : JSON.stringify(v)
  const label = typeof options === 'object' && options !== null && !Array.isArray(options)
    ? `{ ${Object.entries(options).map(([k, v]) => `${k}: ${show(v)}`).join(', ')} }`
    : show(options)
  test(`rejects options ${label} with ${ErrorClass.name} ${code}`, (t) => {
    const err = t.throws(() => new NdjsonParser(options), { instanceOf: ErrorClass })
    t.is(err.code, code)
    t.true(err.message.includes(name), `message names ${name}: ${err.message}`)
  })
}

test('an out-of-range number is shown as core shows one (Received -1), a wrong type with its type', (t) => {
  t.regex(t.throws(() => new NdjsonParser({ maxInvalid: -1, onInvalid: 'skip' })).message, /\. Received -1$/)
  t.regex(t.throws(() => new NdjsonParser({ maxLineBytes: NaN })).message, /\. Received NaN$/)
  t.regex(t.throws(() => new NdjsonParser({ highWaterMark: 16.5 })).message, /\. Received 16.5$/)
  t.regex(t.throws(() => new NdjsonParser({ maxLineBytes: -0 })).message, /\. Received -0$/)
  t.regex(t.throws(() => new NdjsonParser({ maxLineBytes: 2 ** 40 })).message, /\. Received 1_099_511_627_776$/)
  // The same as core's own.
  const core = t.throws(() => Buffer.alloc(-(2 ** 40)))
  t.regex(core.message, /\. Received -1_099_511_627_776$/)
  t.regex(t.throws(() => new NdjsonParser({ maxInvalid: true, onInvalid: 'skip' })).message, /\. Received type boolean \(true\)$/)
})

test('accepts every documented option value (and undefined for any of them)', (t) => {
  const good = [
    undefined, {}, { output: undefined, onInvalid: undefined, blankLines: undefined, maxInvalid: undefined, maxLineBytes: undefined, nullValue: NULL, reviver: undefined },
    { output: 'values' }, { output: 'batches' }, { output: 'lines' }, { output: 'envelopes' },
    { onInvalid: 'error' }, { onInvalid: 'skip' }, { blankLines: 'skip' }, { blankLines: 'error' },
    { maxInvalid: 0, onInvalid: 'skip' }, { maxInvalid: Infinity, onInvalid: 'skip' }, { maxInvalid: Number.MAX_SAFE_INTEGER, onInvalid: 'skip' },
    { maxInvalid: undefined, onInvalid: 'error' },
    { maxLineBytes: 1 }, { maxLineBytes: MAX_STRING_LENGTH - 2 },
    { nullValue: undefined }, { nullValue: 0 }, { nullValue: false }, { nullValue: 'null' },
    { reviver: (k, v) => v }, { reviver: (k, v) => v, output: 'envelopes' },
    { highWaterMark: 0 }, { readableHighWaterMark: 1, writableHighWaterMark: 1024 },
    { signal: new AbortController().signal }
  ]
  for (const options of good) {
    const p = new NdjsonParser(options)
    t.false(p.destroyed)
    p.destroy()
  }
})

// ---- defaults ---------------------------------------------------------------------------------

test('defaults: object-mode readable, byte writable, core default high-water marks', (t) => {
  const p = new NdjsonParser()
  t.true(p.readableObjectMode)
  t.false(p.writableObjectMode)
  t.is(p.readableHighWaterMark, getDefaultHighWaterMark(true))
  t.is(p.writableHighWaterMark, getDefaultHighWaterMark(false))
  p.destroy()
  const q = new NdjsonParser({ readableHighWaterMark: 3, writableHighWaterMark: 100 })
  t.is(q.readableHighWaterMark, 3)
  t.is(q.writableHighWaterMark, 100)
  q.destroy()
})

test('defaults: values output, NULL for null, blank lines skipped, onInvalid error', async (t) => {
  const ok = await run(undefined, '{"a":1}\n\n \t\nnull\n0\nfalse\n""\n-0\n')
  t.is(ok.error, null)
  t.is(sameValue(ok.values, [{ a: 1 }, NULL, 0, false, '', -0]), null, 'falsy values and -0 are kept')
  t.is(ok.stats.blankLines, 2)
  const bad = await run(undefined, '1\n{oops\n2\n')
  t.true(bad.error instanceof NdjsonError)
  t.is(bad.error.code, 'ERR_SLUICE_INVALID_JSON')
  t.deepEqual(bad.values, [1])
})

test('defaults: maxInvalid is unlimited in skip mode', async (t) => {
  const input = '{bad\n1\n'.repeat(500)
  const r = await run({ onInvalid: 'skip' }, input)
  t.is(r.error, null)
  t.is(r.invalid.length, 500)
  t.is(r.values.length, 500)
})

test.serial('defaults: maxLineBytes is 16 MiB of content', async (t) => {
  const line = (n) => Buffer.concat([b('"'), Buffer.alloc(n - 2, 0x61), b('"')])
  const input = Buffer.concat([line(16 * MiB), b('\r\n'), line(16 * MiB + 1), b('\n1\n')])
  const r = await run({ onInvalid: 'skip' }, chunked(input, [MiB]))
  t.is(r.values.length, 2)
  t.is(r.values[0].length, 16 * MiB - 2)
  t.is(r.values[1], 1)
  t.is(r.invalid.length, 1)
  t.is(r.invalid[0].code, 'ERR_SLUICE_LINE_TOO_LONG')
  t.is(r.invalid[0].line, 2)
})

// ---- output shapes ----------------------------------------------------------------------------

const SHAPE_INPUT = b('{"a":1}\n\n  [2, 3] \r\nnull\n{bad\n"é😀"\nfalse\n')

test("output 'values': one item per value, raw values", async (t) => {
  const r = await run({ onInvalid: 'skip' }, SHAPE_INPUT)
  t.is(sameValue(r.values, [{ a: 1 }, [2, 3], NULL, 'é😀', false]), null)
})

test("output 'batches': arrays of values whose concatenation is the values output; nulls are real", async (t) => {
  const r = await run({ onInvalid: 'skip', output: 'batches' }, SHAPE_INPUT)
  t.true(r.values.length >= 1)
  for (const batch of r.values) {
    t.true(Array.isArray(batch))
    t.true(batch.length > 0, 'no empty batch')
  }
  t.is(sameValue(r.values.flat(), [{ a: 1 }, [2, 3], null, 'é😀', false]), null)
  // Many lines: several batches, nothing lost, in order.
  const many = Array.from({ length: 20000 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 50) })).join('\n')
  const big = await run({ output: 'batches' }, chunked(b(many), [4096]))
  t.true(big.values.length > 1, 'more than one batch')
  t.deepEqual(big.values.flat().map((v) => v.i), Array.from({ length: 20000 }, (_, i) => i))
})

test("output 'lines': one Buffer per valid line, raw bytes without the terminator", async (t) => {
  const r = await run({ onInvalid: 'skip', output: 'lines' }, SHAPE_INPUT)
  for (const line of r.values) t.true(Buffer.isBuffer(line))
  t.deepEqual(r.values.map((l) => l.toString('utf8')), ['{"a":1}', '  [2, 3] ', 'null', '"é😀"', 'false'])
  t.is(r.invalid.length, 1, 'lines are validated: the bad line is reported, not emitted')
  t.is(r.stats.values, 5)
})

test("setEncoding(): lines come out as strings with output 'lines'; refused at the call with any other output", async (t) => {
  const p = new NdjsonParser({ output: 'lines' })
  t.is(p.setEncoding('utf8'), p)
  const r = await collect(p, [b('{"a":"é"}\n'), b('[1]\n')])
  t.deepEqual(r.values, ['{"a":"é"}', '[1]'])
  for (const output of ['values', 'batches', 'envelopes']) {
    const parser = new NdjsonParser({ output })
    const err = t.throws(() => parser.setEncoding('utf8'), { instanceOf: TypeError, code: 'ERR_INVALID_STATE' })
    t.regex(err.message, new RegExp(`output '${output}'.*output 'lines' only`))
    // Nothing was set: the parser still parses.
    const values = await collect(parser, [b('{"a":1}\n')])
    t.is(values.values.length, 1)
    t.is(values.error, null)
  }
})

test("output 'envelopes': { line, offset, value } with physical line numbers and byte offsets", async (t) => {
  const r = await run({ onInvalid: 'skip', output: 'envelopes' }, SHAPE_INPUT)
  const want = [
    { line: 1, offset: 0, value: { a: 1 } },
    { line: 3, offset: 9, value: [2, 3] },
    { line: 4, offset: 20, value: null },
    { line: 6, offset: 30, value: 'é😀' },
    { line: 7, offset: 39, value: false }
  ]
  t.is(sameValue(r.values, want), null, JSON.stringify(r.values))
  t.deepEqual(r.invalid.map((i) => [i.line, i.offset]), [[5, 25]])
})

// ---- reviver ----------------------------------------------------------------------------------

/** A reviver that transforms, removes (undefined) and records every call, like JSON.parse sees it. */
function recordingReviver (calls) {
  return function (key, value) {
    calls.push([key, Array.isArray(this), key === '' ? Object.keys(this) : null, JSON.stringify(value)])
    if (key === 'drop') return undefined
    if (typeof value === 'number') return value * 2
    if (key === '' && value !== null && typeof value === 'object' && !Array.isArray(value)) return { root: value }
    if (typeof value === 'string') return value.toUpperCase()
    return value
  }
}

test('reviver: same values and same calls as JSON.parse(line, reviver) per line', async (t) => {
  const lines = [
    '{"a":1,"drop":2,"b":[1,{"drop":true,"c":"é😀x"}],"d":{"e":null}}',
    '  [1, 2, {"drop": 1}]\t',
    '"str"',
    '5',
    'null',
    '{"__proto__":{"x":1},"k":"日本"}',
    '{"nested":{"deeper":{"drop":1,"keep":[true,false]}}}',
    '"\\ud83d\\ude00\\u2028"'
  ]
  // Enough lines to make several batches, with multibyte text before each line, CRLF, a BOM.
  const all = []
  for (let i = 0; i < 3000; i++) all.push(lines[i % lines.length])
  const input = Buffer.concat([UTF8_BOM, b(all.map((l, i) => l + (i % 5 === 0 ? '\r\n' : '\n')).join(''))])
  const wantCalls = []
  const want = all.map((l) => JSON.parse(l, recordingReviver(wantCalls)))
  for (const output of ['values', 'envelopes', 'batches']) {
    const calls = []
    const r = await run({ reviver: recordingReviver(calls), output }, chunked(input, [7919]))
    t.is(r.error, null)
    let got = r.values
    if (output === 'envelopes') got = got.map((e) => e.value)
    if (output === 'batches') got = got.flat()
    if (output === 'values') got = got.map((v) => (v === NULL ? null : v))
    t.is(sameValue(got, want), null, `${output}: values`)
    t.is(sameValue(calls, wantCalls), null, `${output}: reviver calls (key, holder, value) in the same order`)
  }
})

test('reviver: the root is revived with key "" and its holder is { "": value }', async (t) => {
  const seen = []
  const r = await run({ reviver (key, value) { if (key === '') seen.push([Object.keys(this), this[''], value]); return value } }, '[1]\n"x"\n')
  t.deepEqual(r.values, [[1], 'x'])
  t.deepEqual(seen, [[[''], [1], [1]], [[''], 'x', 'x']])
})

test('reviver: removing the root gives an undefined item (delivered, the stream goes on); a null root becomes nullValue', async (t) => {
  const r = await run({ reviver: (k, v) => (k === '' && v === 2 ? undefined : k === '' && v === 3 ? null : v) }, '1\n2\n3\n4\n')
  t.is(r.error, null)
  t.is(r.values.length, 4)
  t.is(sameValue(r.values, [1, undefined, NULL, 4]), null)
})

// ---- nullValue --------------------------------------------------------------------------------

test('nullValue: custom values replace a null line in values output; the other outputs carry null and refuse the option', async (t) => {
  for (const nullValue of [0, false, 'NULL', Symbol('mine'), { isNull: true }]) {
    const r = await run({ nullValue }, '1\nnull\n[null]\n2\n')
    t.is(sameValue(r.values, [1, nullValue, [null], 2]), null, String(typeof nullValue))
    // Accepted there, it would do nothing: a user expecting nulls replaced would not learn why.
    for (const output of ['envelopes', 'batches', 'lines']) {
      t.throws(() => new NdjsonParser({ nullValue, output }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /options\.nullValue.*output '\w+'/ })
    }
  }
  const env = await run({ output: 'envelopes' }, '1\nnull\n')
  t.is(env.values[1].value, null)
  const batches = await run({ output: 'batches', nullValue: undefined }, '1\nnull\n')
  t.deepEqual(batches.values.flat(), [1, null])
})

test('nullValue: undefined means the default (NULL), as an undefined option does in core', async (t) => {
  const r = await run({ nullValue: undefined }, '1\nnull\nnull\n2\n')
  t.is(r.error, null)
  t.is(sameValue(r.values, [1, NULL, NULL, 2]), null)
  // The same through async iteration, and with the other undefined options beside it.
  const p = new NdjsonParser({ nullValue: undefined, output: undefined, reviver: undefined })
  p.end('null\n3\n')
  const items = []
  for await (const v of p) items.push(v)
  t.is(sameValue(items, [NULL, 3]), null)
  // Other outputs carry real nulls either way.
  const env = await run({ nullValue: undefined, output: 'envelopes' }, 'null\n')
  t.is(env.values[0].value, null)
})

// ---- invalid lines ----------------------------------------------------------------------------

test("the 'invalid' event payload: { code, line, offset, excerpt, reason }", async (t) => {
  const long = '{"key": ' + 'x'.repeat(100) + '}'
  const r = await run({ onInvalid: 'skip' }, `1\n{oops}\n${long}\r\n"ok"\n`)
  t.deepEqual(r.values, [1, 'ok'])
  t.is(r.invalid.length, 2)
  for (const info of r.invalid) t.deepEqual(Object.keys(info).sort(), ['code', 'excerpt', 'line', 'offset', 'reason'])
  const [a, c] = r.invalid
  t.like(a, { code: 'ERR_SLUICE_INVALID_JSON', line: 2, offset: 2, excerpt: '{oops}' })
  t.is(typeof a.reason, 'string')
  t.true(a.reason.length > 0)
  t.like(c, { code: 'ERR_SLUICE_INVALID_JSON', line: 3, offset: 9 })
  t.is(c.excerpt, long.slice(0, 64) + '…', 'excerpt cut to 64 characters plus …')
})

test("the 'invalid' event comes in input order relative to the values", async (t) => {
  const lines = []
  for (let i = 0; i < 3000; i++) lines.push(i % 10 === 9 ? `{bad ${i}` : JSON.stringify({ i }))
  const input = b(lines.join('\n') + '\n')
  for (const slow of [false, true]) {
    const r = await run({ onInvalid: 'skip' }, chunked(input, [1000]), { slow })
    const order = r.log.map((e) => (e.kind === 'value' ? e.value.i : e.info.line - 1))
    const firstBad = order.findIndex((x, k) => x !== k)
    t.is(firstBad, -1, `${slow ? 'slow' : 'fast'} consumer: entry ${firstBad} is line ${order[firstBad] + 1}`)
  }
})

test("an invalid line behind buffered values: every kind of consumer gets it in order, and the end", async (t) => {
  t.timeout(30000)
  const consumers = {
    async forAwait (p, log) { for await (const v of p) log.push(v) },
    async readLoop (p, log) {
      p.on('readable', () => { let v; while ((v = p.read()) !== null) log.push(v) })
      await once(p, 'end')
    },
    async flowing (p, log) {
      p.on('data', (v) => log.push(v))
      await once(p, 'end')
    },
    async pausing (p, log) {
      p.on('data', (v) => { log.push(v); p.pause(); setTimeout(() => p.resume(), 2) })
      await once(p, 'end')
    }
  }
  for (const input of ['1\n2\n{bad\n', '1\n2\n{bad', '1\n{bad\n{bad\n', '1\n2\n{bad\n3\n{bad\n']) {
    const expected = input.split('\n').filter(Boolean).map((l, k) => (l === '{bad' ? `invalid ${k + 1}` : Number(l)))
    for (const [name, consume] of Object.entries(consumers)) {
      const p = new NdjsonParser({ onInvalid: 'skip' })
      const log = []
      p.on('invalid', (info) => log.push(`invalid ${info.line}`))
      p.end(input)
      await consume(p, log)
      t.deepEqual(log, expected, `${name} ${JSON.stringify(input)}`)
    }
  }
})

test("an invalid line behind the last value read is reported even if the consumer does not read again", async (t) => {
  const p = new NdjsonParser({ onInvalid: 'skip' })
  p.end('1\n{bad\n2\n')
  await once(p, 'readable')
  t.is(p.read(), 1)
  const [info] = await once(p, 'invalid')
  t.is(info.line, 2)
  const rest = []
  for await (const v of p) rest.push(v)
  t.deepEqual(rest, [2])
})

test("onInvalid 'error': an NdjsonError with code, line, offset, excerpt, reason; values before it are delivered", async (t) => {
  const bad = '[' + '"abcdefghij",'.repeat(20) + ']'
  const before = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i }))
  const input = b(before.join('\n') + '\n' + bad + '\n{"after":1}\n')
  for (const slow of [false, true]) {
    const r = await run(undefined, chunked(input, [64]), { slow })
    const err = r.error
    t.true(err instanceof NdjsonError)
    t.true(err instanceof SluiceError)
    t.true(err instanceof Error)
    t.is(err.name, 'NdjsonError')
    t.is(err.code, 'ERR_SLUICE_INVALID_JSON')
    t.is(err.line, 51)
    t.is(err.offset, before.join('\n').length + 1)
    t.is(err.excerpt, bad.slice(0, 64) + '…')
    t.is(typeof err.reason, 'string')
    t.true(err.message.includes('line 51'), err.message)
    t.is(r.values.length, 50, `${slow ? 'slow' : 'fast'} consumer: every value before the bad line is delivered`)
    t.false(r.values.some((v) => v.after), 'nothing after the bad line')
    t.is(r.dataAfterClose, 0)
  }
})

test('maxInvalid: the (maxInvalid+1)-th invalid line is reported, then the stream fails with ERR_SLUICE_TOO_MANY_INVALID', async (t) => {
  const input = '1\n{x\n2\n{y\n3\n{z\n4\n'
  const r = await run({ onInvalid: 'skip', maxInvalid: 2 }, input)
  t.deepEqual(r.invalid.map((i) => i.line), [2, 4, 6])
  t.true(r.error instanceof NdjsonError)
  t.is(r.error.code, 'ERR_SLUICE_TOO_MANY_INVALID')
  t.is(r.error.line, 6)
  t.deepEqual(r.values, [1, 2, 3])
  const zero = await run({ onInvalid: 'skip', maxInvalid: 0 }, input)
  t.deepEqual(zero.invalid.map((i) => i.line), [2])
  t.is(zero.error?.code, 'ERR_SLUICE_TOO_MANY_INVALID')
  t.deepEqual(zero.values, [1])
  const enough = await run({ onInvalid: 'skip', maxInvalid: 3 }, input)
  t.is(enough.error, null, 'exactly maxInvalid invalid lines are fine')
  t.deepEqual(enough.values, [1, 2, 3, 4])
})

test("blankLines 'error': empty and whitespace-only lines are invalid (ERR_SLUICE_BLANK_LINE)", async (t) => {
  const input = '1\n\n \t\n\r\n2\n\n'
  const r = await run({ onInvalid: 'skip', blankLines: 'error' }, input)
  t.deepEqual(r.values, [1, 2])
  t.deepEqual(r.invalid.map((i) => [i.code, i.line, i.offset]), [
    ['ERR_SLUICE_BLANK_LINE', 2, 2], ['ERR_SLUICE_BLANK_LINE', 3, 3], ['ERR_SLUICE_BLANK_LINE', 4, 6], ['ERR_SLUICE_BLANK_LINE', 6, 10]
  ])
  t.is(r.stats.blankLines, 0)
  t.is(r.stats.invalidLines, 4)
  const skip = await run({ onInvalid: 'skip' }, input)
  t.deepEqual(skip.invalid, [])
  t.is(skip.stats.blankLines, 4)
  const err = await run({ blankLines: 'error' }, input)
  t.is(err.error?.code, 'ERR_SLUICE_BLANK_LINE')
  t.is(err.error?.line, 2)
  t.deepEqual(err.values, [1])
})

// ---- maxLineBytes -----------------------------------------------------------------------------

test('maxLineBytes: an over-long line is reported (ERR_SLUICE_LINE_TOO_LONG) and the next lines still parse', async (t) => {
  const input = b('1\n"' + 'x'.repeat(100) + '"\n2\n' + 'y'.repeat(50) + '\n3')
  for (const chunks of [[input], chunked(input, [1]), chunked(input, [9])]) {
    const r = await run({ onInvalid: 'skip', maxLineBytes: 20 }, chunks)
    t.deepEqual(r.values, [1, 2, 3])
    t.deepEqual(r.invalid.map((i) => [i.code, i.line, i.offset]), [['ERR_SLUICE_LINE_TOO_LONG', 2, 2], ['ERR_SLUICE_LINE_TOO_LONG', 4, 107]])
    t.true(r.invalid[0].excerpt.endsWith('…'))
    t.is(r.stats.longestLine, 102)
  }
  const err = await run({ maxLineBytes: 20 }, input)
  t.is(err.error?.code, 'ERR_SLUICE_LINE_TOO_LONG')
  t.is(err.error?.line, 2)
  t.deepEqual(err.values, [1])
  // The limit is inclusive and counts content bytes only (not the CR of a CRLF).
  const edge = await run({ onInvalid: 'skip', maxLineBytes: 5 }, '"abc"\r\n"abcd"\n')
  t.deepEqual(edge.values, ['abc'])
  t.deepEqual(edge.invalid.map((i) => i.line), [2])
  // An excerpt that holds the whole (short) over-long line is not marked cut, however it came.
  const short = b('{"a":12345}\n1\n')
  for (const chunks of [[short], chunked(short, [1]), chunked(short, [3])]) {
    const r = await run({ onInvalid: 'skip', maxLineBytes: 5 }, chunks)
    t.deepEqual(r.invalid.map((i) => [i.code, i.excerpt]), [['ERR_SLUICE_LINE_TOO_LONG', '{"a":12345}']])
  }
  // Cut inside a character: backed off to a whole one, as for any bad line (it ended in U+FFFD).
  const split = b('"' + 'a'.repeat(62) + 'é' + 'b'.repeat(20) + '"\n')
  for (const chunks of [[split], chunked(split, [1])]) {
    const r = await run({ onInvalid: 'skip', maxLineBytes: 10 }, chunks)
    t.is(r.invalid[0].excerpt, '"' + 'a'.repeat(62) + '…')
  }
  // One reported before its end (onInvalid 'error', no newline yet) is: more of it may come.
  const early = new NdjsonParser({ maxLineBytes: 5 })
  const failed = once(early, 'error')
  early.write('{"a":123456')
  const [cut] = await failed
  t.is(cut.code, 'ERR_SLUICE_LINE_TOO_LONG')
  t.is(cut.excerpt, '{"a":123456…')
})

test('maxLineBytes with onInvalid error: an endless line fails the stream as soon as it is over the limit', async (t) => {
  // The writer never sends a newline and never ends: the error must come from the bytes alone.
  for (const sizes of [[1 << 20], [7], [1]]) {
    const parser = new NdjsonParser({ maxLineBytes: 64 })
    const values = []
    parser.on('data', (v) => values.push(v))
    const failed = once(parser, 'error').then(([err]) => err)
    parser.write(Buffer.from('1\n"'))
    const body = Buffer.alloc(sizes[0] === 1 << 20 ? 200 : 100, 'a')
    for (const chunk of chunked(body, sizes)) {
      if (parser.destroyed) break
      parser.write(chunk)
    }
    const err = await failed
    t.is(err.code, 'ERR_SLUICE_LINE_TOO_LONG', `chunks of ${sizes}`)
    t.is(err.line, 2)
    t.is(err.offset, 2)
    t.true(err.excerpt.startsWith('"aaa') && err.excerpt.endsWith('…'))
    t.regex(err.reason, /over maxLineBytes \(64\).*no end of line yet/)
    t.deepEqual(values, [1])
  }
  // In skip mode the line is still reported once, at its end, with its whole length.
  const r = await run({ onInvalid: 'skip', maxLineBytes: 64 }, chunked(b('1\n"' + 'a'.repeat(100) + '"\n2\n'), [5]))
  t.deepEqual(r.values, [1, 2])
  t.deepEqual(r.invalid.map((i) => [i.code, i.line, i.offset]), [['ERR_SLUICE_LINE_TOO_LONG', 2, 2]])
  t.regex(r.invalid[0].reason, /^line is 102 bytes/)
})

test('maxLineBytes with onInvalid skip and maxInvalid spent: an endless line fails the stream as soon as it is over the limit', async (t) => {
  // The line that will exceed maxInvalid fails the stream as 'error' fails it on the first:
  // from the bytes alone, without waiting for a newline that may never come. Before, only
  // onInvalid 'error' did; with maxInvalid the stream read the endless line for good.
  const cases = [
    // [maxInvalid, input before the endless line, text mode (bulk plain strings) ahead of it]
    [0, '1\n', false],
    [1, '1\n{oops}\n', false],
    [2, '1\n{oops}\n\xff\n', false],
    [1, '{"s":"plain"}\n'.repeat(10000) + '{oops}\n', true]
  ]
  for (const [maxInvalid, head, bulk] of cases) {
    for (const sizes of [[1 << 20], [7], [1]]) {
      const parser = new NdjsonParser({ maxLineBytes: 64, onInvalid: 'skip', maxInvalid })
      let values = 0
      const invalid = []
      parser.on('data', () => values++)
      parser.on('invalid', (info) => invalid.push(info.code))
      const failed = once(parser, 'error').then(([err]) => err)
      const before = Buffer.from(head, 'latin1')
      parser.write(before)
      if (!bulk) await new Promise((resolve) => setImmediate(resolve))
      parser.write(b('"'))
      const body = Buffer.alloc(sizes[0] === 1 << 20 ? 200 : 100, 'a')
      for (const chunk of chunked(body, sizes)) {
        if (parser.destroyed) break
        parser.write(chunk)
      }
      const timer = setTimeout(() => parser.destroy(new Error('no error from the endless line')), 5000)
      const err = await failed
      clearTimeout(timer)
      const label = `maxInvalid ${maxInvalid}, chunks of ${sizes}${bulk ? ', text mode' : ''}`
      const line = head.split('\n').length
      t.is(err.code, 'ERR_SLUICE_TOO_MANY_INVALID', label)
      t.is(err.line, line, label)
      t.is(err.offset, before.length, label)
      t.regex(err.reason, /over maxLineBytes \(64\).*no end of line yet/, label)
      t.is(invalid.length, maxInvalid + 1, label)
      t.is(invalid.at(-1), 'ERR_SLUICE_LINE_TOO_LONG', label)
      t.is(values, bulk ? 10000 : 1, label)
    }
  }
})

test.serial('maxLineBytes: a 64 MiB line against a 1 MiB limit is not buffered (RSS stays far below 64 MiB)', (t) => {
  const code = `
    const { NdjsonParser } = require(${JSON.stringify(ROOT)})
    const { Readable, Writable, pipeline } = require('node:stream')
    const MiB = 1024 * 1024
    function run (chunks, options) {
      return new Promise((resolve) => {
        const p = new NdjsonParser({ onInvalid: 'skip', ...options })
        const values = []
        const invalid = []
        p.on('invalid', (i) => invalid.push(i))
        pipeline(Readable.from(chunks), p, new Writable({ objectMode: true, write (v, e, cb) { values.push(v); cb() } }),
          (err) => resolve({ error: err ? err.message : null, values, invalid, stats: p.stats() }))
      })
    }
    ;(async () => {
      await run([Buffer.from('1\\n2\\n')], {})
      const base = process.memoryUsage().rss
      const block = Buffer.alloc(MiB, 0x78)
      function * input () { yield Buffer.from('"'); for (let i = 0; i < 64; i++) yield block; yield Buffer.from('"\\n{"after":1}\\n') }
      let sampled = 0
      const sampler = setInterval(() => { sampled = Math.max(sampled, process.memoryUsage().rss) }, 1)
      const r = await run(input(), { maxLineBytes: MiB })
      // Peak RSS of this process: VmHWM (per address space; resourceUsage().maxRSS would include
      // the parent's peak, which Linux carries across exec), or sampled RSS where /proc is missing.
      let peak = Math.max(sampled, process.memoryUsage().rss)
      try {
        const hwm = /VmHWM:\\s*(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))
        if (hwm) peak = Number(hwm[1]) * 1024
      } catch {}
      clearInterval(sampler)
      process.stdout.write(JSON.stringify({ growth: peak - base, ...r }))
    })()
  `
  const child = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60000 })
  t.is(child.status, 0, child.stderr)
  const r = JSON.parse(child.stdout)
  t.is(r.error, null)
  t.deepEqual(r.values, [{ after: 1 }])
  t.is(r.invalid.length, 1)
  t.is(r.invalid[0].code, 'ERR_SLUICE_LINE_TOO_LONG')
  t.is(r.invalid[0].line, 1)
  t.is(r.invalid[0].excerpt, '"' + 'x'.repeat(63) + '…')
  t.is(r.stats.longestLine, 64 * MiB + 2)
  t.is(r.stats.bytes, 64 * MiB + 2 + 1 + 12)
  t.log(`peak RSS growth ${(r.growth / MiB).toFixed(1)} MiB`)
  t.true(r.growth < 24 * MiB, `peak RSS grew by ${(r.growth / MiB).toFixed(1)} MiB`)
})

test.serial('a long line parses in linear time: 32 MiB costs about 4x 8 MiB', async (t) => {
  // CPU time, not wall time (a loaded machine stretches the latter), of two sizes side by side.
  const parse = async (size) => {
    const big = Buffer.concat([b('{"s":"'), Buffer.alloc(size - 9, 0x61), b('"}\n')])
    const before = process.cpuUsage()
    const r = await run({ maxLineBytes: 64 * MiB }, chunked(big, [65536]))
    const d = process.cpuUsage(before)
    t.is(r.error, null)
    t.is(r.values.length, 1)
    t.is(r.values[0].s.length, size - 9)
    t.is(r.stats.longestLine, size - 1)
    return (d.user + d.system) / 1e6
  }
  // The least of three runs each: a one-off on a loaded machine (a GC, page faults) once made one
  // 32 MiB run cost 18x an 8 MiB one, and both of two 10x (0.241 s against 0.024 s, beside the
  // fuzzer); quadratic buffering costs it every time.
  const least = async (size) => Math.min(await parse(size), await parse(size), await parse(size))
  const small = await least(8 * MiB)
  const large = await least(32 * MiB)
  // Quadratic buffering (each 64 KiB chunk re-scanning the line so far) would make it ~16x, and
  // seconds: 8 GiB scanned for 32 MiB. Linear is ~4x here (0.10-0.12 s against 0.026-0.031 s).
  t.log(`32 MiB: ${large.toFixed(3)} s CPU, 8 MiB: ${small.toFixed(3)} s`)
  t.true(large < 8 * small + 0.15, `32 MiB: ${large.toFixed(3)} s CPU, 8 MiB: ${small.toFixed(3)} s`)
})

// ---- framing details --------------------------------------------------------------------------

test('\\r handling: only \\n ends a line; one CR before it is dropped; a lone CR is not a line break', async (t) => {
  const r = await run({ onInvalid: 'skip', output: 'envelopes' }, '1\r2\n3\r\r\n"a\rb"\n\r\n4\r\n5\r')
  t.deepEqual(r.values.map((e) => [e.line, e.value]), [[2, 3], [5, 4], [6, 5]], 'CR is JSON whitespace; "3\\r" is 3; a final CR is dropped')
  t.deepEqual(r.invalid.map((i) => [i.line, i.offset]), [[1, 0], [3, 8]], '"1\\r2" is one invalid line; a raw CR in a string is invalid')
  t.is(r.stats.blankLines, 1)
  const lines = await run({ output: 'lines' }, '3\r\r\n[1]\r\n')
  t.deepEqual(lines.values.map((l) => l.toString('latin1')), ['3\r', '[1]'], 'only one CR belongs to the terminator')
})

test('BOM: stripped only at the very start of the stream, whatever the chunking', async (t) => {
  const input = Buffer.concat([UTF8_BOM, b('{"a":1}\n'), UTF8_BOM, b('2\n3\n')])
  for (const chunks of twoChunkSplits(input)) {
    const r = await run({ onInvalid: 'skip', output: 'envelopes' }, chunks)
    // Offsets are byte positions in the stream: line 1 starts after the BOM.
    t.deepEqual(r.values.map((e) => [e.line, e.offset, e.value]), [[1, 3, { a: 1 }], [3, 16, 3]], `split at ${chunks[0].length}`)
    t.deepEqual(r.invalid.map((i) => [i.code, i.line, i.offset]), [['ERR_SLUICE_INVALID_JSON', 2, 11]])
  }
  const onlyBom = await run({ onInvalid: 'skip' }, UTF8_BOM)
  t.deepEqual(onlyBom.values, [])
  t.deepEqual(onlyBom.invalid, [])
  // An empty stream saved with a BOM: no line, as an empty stream.
  t.like(onlyBom.stats, { lines: 0, blankLines: 0 })
  const lines = await run({ output: 'lines' }, Buffer.concat([UTF8_BOM, b('[1]\n')]))
  t.deepEqual(lines.values.map((l) => l.toString('latin1')), ['[1]'])
})

test('BOM: an invalid first line is reported at the byte after the BOM (skip and error, over-long too)', async (t) => {
  const input = Buffer.concat([UTF8_BOM, b('{oops}\n1\n')])
  for (const chunks of twoChunkSplits(input)) {
    const skipped = await run({ onInvalid: 'skip' }, chunks)
    t.deepEqual(skipped.invalid.map((i) => [i.code, i.line, i.offset, i.excerpt]), [['ERR_SLUICE_INVALID_JSON', 1, 3, '{oops}']], `split at ${chunks[0].length}`)
    t.deepEqual(skipped.values, [1])
    const failed = await run(undefined, chunks)
    t.true(failed.error instanceof NdjsonError)
    t.like(failed.error, { code: 'ERR_SLUICE_INVALID_JSON', line: 1, offset: 3 })
    t.regex(failed.error.message, /line 1 \(byte offset 3\)/)
  }
  const long = await run({ onInvalid: 'skip', maxLineBytes: 4, output: 'envelopes' }, Buffer.concat([UTF8_BOM, b('"abcd"\n12\n')]))
  t.deepEqual(long.invalid.map((i) => [i.code, i.line, i.offset]), [['ERR_SLUICE_LINE_TOO_LONG', 1, 3]])
  t.deepEqual(long.values, [{ line: 2, offset: 10, value: 12 }])
})

test('invalid UTF-8 is an invalid line (ERR_SLUICE_INVALID_UTF8), never U+FFFD', async (t) => {
  const bad = [
    [0x22, 0xff, 0x22], [0x22, 0x80, 0x22], [0x22, 0xc0, 0xaf, 0x22], [0x22, 0xe0, 0x80, 0xaf, 0x22],
    [0x22, 0xed, 0xa0, 0x80, 0x22], [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xe2, 0x82, 0x22],
    [0x22, 0xf0, 0x9f, 0x98, 0x22], [0x5b, 0x31, 0x2c, 0xfe, 0x5d], [0x22, 0xc3, 0x22]
  ].map((bytes) => Buffer.from(bytes))
  const good = b('"\ufffd is fine when it is really there"')
  const input = Buffer.concat(bad.flatMap((x) => [x, b('\n'), good, b('\n')]))
  for (const output of ['values', 'lines']) {
    for (const chunks of [[input], chunked(input, [1]), randomChunks(input, 5, 7)]) {
      const r = await run({ onInvalid: 'skip', output }, chunks)
      t.is(r.invalid.length, bad.length)
      t.true(r.invalid.every((i) => i.code === 'ERR_SLUICE_INVALID_UTF8'))
      t.deepEqual(r.invalid.map((i) => i.line), bad.map((_, k) => 2 * k + 1))
      const texts = r.values.map((v) => (output === 'lines' ? v.toString('utf8') : v))
      t.deepEqual(texts, bad.map(() => (output === 'lines' ? good.toString() : JSON.parse(good))))
    }
  }
  const err = await run(undefined, Buffer.concat([b('1\n'), bad[0], b('\n')]))
  t.is(err.error?.code, 'ERR_SLUICE_INVALID_UTF8')
  t.is(err.error?.line, 2)
})

test('"__proto__" keys become own properties and never pollute Object.prototype', async (t) => {
  const input = '{"__proto__":{"x":1}}\n{"a":{"__proto__":{"polluted":true}}}\n[{"__proto__":null}]\n{"constructor":{"prototype":{"y":1}}}\n'
  for (const options of [{}, { output: 'envelopes' }, { output: 'batches' }, { reviver: (k, v) => v }]) {
    const r = await run(options, input)
    let values = r.values
    if (options.output === 'envelopes') values = values.map((e) => e.value)
    if (options.output === 'batches') values = values.flat()
    const [first, second, third] = values
    t.true(Object.hasOwn(first, '__proto__'))
    t.is(Object.getPrototypeOf(first), Object.prototype)
    t.deepEqual(Object.getOwnPropertyDescriptor(first, '__proto__').value, { x: 1 })
    t.is(first.x, undefined)
    t.true(Object.hasOwn(second.a, '__proto__'))
    t.is(Object.getPrototypeOf(second.a), Object.prototype)
    t.is(Object.getPrototypeOf(third[0]), Object.prototype)
    t.true(Object.hasOwn(third[0], '__proto__'))
    t.is(sameValue(values, input.trim().split('\n').map((l) => JSON.parse(l))), null, 'same as JSON.parse')
  }
  t.is(({}).x, undefined)
  t.is(({}).polluted, undefined)
  t.is(({}).y, undefined)
  t.false('polluted' in Object.prototype)
})

test('deep nesting: 100 000 nested arrays parse like JSON.parse; 100 000 unclosed [ is an invalid line', async (t) => {
  const N = 100000
  const deep = '['.repeat(N) + ']'.repeat(N)
  const deepObj = '{"a":'.repeat(N) + '1' + '}'.repeat(N)
  const input = b(`${deep}\n${'['.repeat(N)}\n${deepObj}\n${'[{"":'.repeat(N / 2)}\n"after"\n`)
  const r = await run({ onInvalid: 'skip' }, chunked(input, [65536]))
  t.is(r.error, null)
  t.is(r.values.length, 3)
  const depthOf = (v, step) => { let d = 0; while (v !== null && typeof v === 'object') { v = step(v); d++ } return [d, v] }
  const [arrDepth, innermost] = depthOf(r.values[0], (v) => (v.length ? v[0] : null))
  t.is(arrDepth, N)
  t.is(innermost, null)
  t.deepEqual(depthOf(r.values[1], (v) => v.a), [N, 1])
  t.deepEqual(depthOf(r.values[1], (v) => v.a), depthOf(JSON.parse(deepObj), (v) => v.a))
  t.is(r.values[2], 'after')
  t.deepEqual(r.invalid.map((i) => [i.code, i.line]), [['ERR_SLUICE_INVALID_JSON', 2], ['ERR_SLUICE_INVALID_JSON', 4]])
})

// ---- stats ------------------------------------------------------------------------------------

test('stats() after the end match the input', async (t) => {
  const input = Buffer.concat([UTF8_BOM, b('{"a":"é"}\r\n\n  \n{bad\n'), Buffer.from([0x22, 0xff, 0x22, 0x0a]), b('null\n"' + 'z'.repeat(300) + '"\n[1,2]')])
  const model = modelNdjson(input)
  for (const chunks of [[input], chunked(input, [1]), chunked(input, [13])]) {
    const r = await run({ onInvalid: 'skip' }, chunks)
    t.deepEqual(r.stats, model.stats)
  }
  t.deepEqual(model.stats, { lines: 8, bytes: input.length, values: 4, blankLines: 2, invalidLines: 2, longestLine: 302 })
  const p = new NdjsonParser()
  t.deepEqual(p.stats(), { lines: 0, bytes: 0, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 })
  p.end()
  p.resume()
  await once(p, 'close')
  t.deepEqual(p.stats(), { lines: 0, bytes: 0, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 })
})

test('signal: aborting destroys the stream with an AbortError', async (t) => {
  const ac = new AbortController()
  const p = new NdjsonParser({ signal: ac.signal })
  const data = []
  p.on('data', (v) => data.push(v))
  p.write('1\n')
  await once(p, 'data')
  const errored = once(p, 'error').catch((e) => e)
  ac.abort()
  const [err] = await errored
  t.is(err.name, 'AbortError')
  t.true(p.destroyed)
  t.deepEqual(data, [1])
})

test('empty input: no items, ends cleanly', async (t) => {
  const r = await run(undefined, [])
  t.is(r.error, null)
  t.deepEqual(r.values, [])
  const viaIterator = []
  for await (const v of Readable.from([]).pipe(new NdjsonParser())) viaIterator.push(v)
  t.deepEqual(viaIterator, [])
})
