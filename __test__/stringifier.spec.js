'use strict'

// NdjsonStringifier: what users rely on. The exact bytes (JSON.stringify's text, one line per
// value, the newline asked for), the round trip through NdjsonParser on seeded random values cut
// anywhere, the unserialisable-value policy, option validation, batching, the idle flush, and
// stats(). The Node stream contract is __test__/stringifier.contract.spec.js.

const test = require('ava')
const { once } = require('node:events')
const { Readable, Writable, pipeline } = require('node:stream')
const { NdjsonParser, NdjsonStringifier, NULL, SluiceError, UnserializableError } = require('..')
const { makeRng, randomChunks, runThrough, sameValue } = require('./helpers.js')

/** Writes `values` through a new stringifier in a pipeline; resolves with { text, chunks, stats, skips, error }. */
function stringify (values, options) {
  const s = new NdjsonStringifier(options)
  const chunks = []
  const skips = []
  s.on('skip', (info) => skips.push(info))
  return new Promise((resolve) => {
    pipeline(
      Readable.from(values, { objectMode: true }),
      s,
      new Writable({
        write (chunk, encoding, callback) {
          chunks.push(chunk)
          callback()
        }
      }),
      (error) => resolve({ text: Buffer.concat(chunks).toString(), chunks, stats: s.stats(), skips, error: error ?? null })
    )
  })
}

/** The text the stringifier must write: JSON.stringify per value (NULL as null), each with `newline`. */
const model = (values, newline = '\n', replacer) =>
  values.map((v) => (v === NULL ? 'null' : JSON.stringify(v, replacer)) + newline).join('')

// ---------------------------------------------------------------------------------------------
// Random JSON-representable values (seeded: a failure names its seed)

const LINE_BREAKERS = ['\u2028', '\u2029', '\n', '\r', '\r\n', '\u0085']
const TEXT = ['', 'a', 'é', 'ß', '日本語', '😀', '\ud800', '\udfff', '"', '\\', '\t', '\u0000', '\u001f', '\u007f', '</script>', ...LINE_BREAKERS]
// No "__proto__" key: assigning it (out[key] = v) would set the prototype, not make a key.
const KEYS = ['a', 'id', 'é', '', ' ', '0', '1e3', 'x\u2028y', 'constructor', 'toString', '日本', '😀']

function randomString (rng) {
  let s = ''
  const n = rng.int(6)
  for (let i = 0; i < n; i++) s += rng() < 0.5 ? rng.pick(TEXT) : String.fromCharCode(rng.int(0x3000))
  return s
}

function randomNumber (rng) {
  switch (rng.int(5)) {
    case 0: return rng.int(1000) - 500
    case 1: return (rng() - 0.5) * 10 ** (rng.int(40) - 20)
    case 2: return rng.pick([0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, 5e-324, 1e21, 0.1])
    case 3: return rng() * 2 ** 53
    default: return rng()
  }
}

function randomValue (rng, depth = 0) {
  const kind = rng.int(depth > 3 ? 5 : 7)
  switch (kind) {
    case 0: return null
    case 1: return rng() < 0.5
    case 2: return randomNumber(rng)
    case 3:
    case 4: return randomString(rng)
    case 5: {
      const n = rng.int(5)
      const out = []
      for (let i = 0; i < n; i++) out.push(randomValue(rng, depth + 1))
      return out
    }
    default: {
      const n = rng.int(5)
      const out = {}
      for (let i = 0; i < n; i++) out[rng() < 0.7 ? rng.pick(KEYS) : randomString(rng)] = randomValue(rng, depth + 1)
      return out
    }
  }
}

test('round trip: NdjsonParser of the output equals the input, for random values (null, U+2028/U+2029, non-ASCII) cut anywhere', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const rng = makeRng(seed)
    const values = []
    // A JSON null is written as NULL (write(null) means nothing in object mode); the parser gives NULL back.
    for (let i = 0; i < 2000; i++) {
      const v = randomValue(rng)
      values.push(v === null ? NULL : v)
    }
    for (const newline of ['\n', '\r\n']) {
      const { text, error } = await stringify(values, { newline })
      t.is(error, null)
      t.is(text, model(values, newline), `seed ${seed}: the bytes are JSON.stringify's, one line per value`)
      const bytes = Buffer.from(text)
      for (const chunks of [[bytes], randomChunks(bytes, seed, 97), randomChunks(bytes, seed + 100, 3)]) {
        const back = await runThrough(new NdjsonParser(), chunks)
        t.is(back.length, values.length, `seed ${seed}: one value per line`)
        const diff = back.map((v, i) => sameValue(v, values[i], `value ${i}`)).find((d) => d !== null)
        t.is(diff, undefined, `seed ${seed}, newline ${JSON.stringify(newline)}, ${chunks.length} chunks`)
      }
    }
  }
})

test('U+2028 and U+2029 stay inside their line (valid JSON text, not line breaks in NDJSON)', async (t) => {
  const values = ['a\u2028b', { k: '\u2029' }, 'é😀']
  const { text } = await stringify(values)
  t.is(text.split('\n').length, 4)
  t.deepEqual(await runThrough(new NdjsonParser(), [Buffer.from(text)]), values)
})

test("newline: '\\r\\n' ends every line with CRLF, including the last; never os.EOL otherwise", async (t) => {
  const values = [{ a: 1 }, 'b', NULL]
  t.is((await stringify(values, { newline: '\r\n' })).text, '{"a":1}\r\n"b"\r\nnull\r\n')
  t.is((await stringify(values)).text, '{"a":1}\n"b"\nnull\n')
})

test('replacer: a function or an array, applied as JSON.stringify applies it', async (t) => {
  const values = [{ a: 1, b: 'x', c: { a: 2, d: 3 } }, [1, { a: 5, z: 6 }], 7]
  const fn = function (key, value) { return typeof value === 'number' ? value * 10 : value }
  t.is((await stringify(values, { replacer: fn })).text, model(values, '\n', fn))
  t.is((await stringify(values, { replacer: ['a', 'c'] })).text, model(values, '\n', ['a', 'c']))
  t.is((await stringify(values, { replacer: null })).text, model(values))
})

// ---------------------------------------------------------------------------------------------
// Values that have no line

const circular = () => {
  const o = { name: 'loop' }
  o.self = o
  return o
}

const UNSERIALIZABLE = [
  ['undefined', () => undefined, /undefined/],
  ['a function', () => function f () {}, /function/],
  ['a symbol', () => Symbol('s'), /symbol/],
  ['a circular structure', circular, /circular/i],
  ['a BigInt', () => 10n, /BigInt/],
  ['a BigInt deep inside', () => ({ a: [{ b: 1n }] }), /BigInt/],
  ['a toJSON() returning undefined', () => ({ toJSON () {} }), /toJSON/],
  ['a throwing toJSON()', () => ({ toJSON () { throw new Error('nope') } }), /nope/],
  // Thrown things with no usable message: describing them must not throw out of write().
  ['a toJSON() throwing a null-prototype object', () => ({ toJSON () { throw Object.create(null) } }), /threw: \[Object with no string form\]/],
  ['a getter throwing an object whose message getter throws', () => ({ get x () { throw { get message () { throw new Error('again') } } } }), /threw: \[object Object\]/],
  ['a getter throwing a revoked Proxy', () => ({ get x () { const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); throw proxy } }), /threw: \[object with no string form\]/],
  ['a toJSON() throwing a Symbol', () => ({ toJSON () { throw Symbol('odd') } }), /threw: Symbol\(odd\)/]
]

for (const [what, make, reason] of UNSERIALIZABLE) {
  test(`onUnserializable 'error' (default): ${what} fails the stream with ERR_SLUICE_UNSERIALIZABLE, its index and reason, after the lines before it`, async (t) => {
    const bad = make()
    const { text, error } = await stringify([{ ok: 1 }, 'two', bad, { after: true }])
    t.is(error?.code, 'ERR_SLUICE_UNSERIALIZABLE')
    t.is(error.index, 2)
    t.regex(error.reason, reason)
    t.is(error.value, bad)
    t.regex(error.message, /value 2/)
    t.is(text, '{"ok":1}\n"two"\n', 'the lines before it, and nothing else')
    t.true(error instanceof UnserializableError && error instanceof SluiceError, 'an exported class')
    t.is(error.name, 'UnserializableError')
    t.false(Object.keys(error).includes('skipped'), 'no undocumented field')
  })

  test(`onUnserializable 'skip': ${what} is counted and announced, never written`, async (t) => {
    const bad = make()
    const { text, error, stats, skips } = await stringify([{ ok: 1 }, bad, 'three'], { onUnserializable: 'skip' })
    t.is(error, null)
    t.is(text, '{"ok":1}\n"three"\n')
    t.false(text.includes('undefined'))
    t.is(skips.length, 1)
    t.like(skips[0], { code: 'ERR_SLUICE_UNSERIALIZABLE', index: 1 })
    t.regex(skips[0].reason, reason)
    t.is(skips[0].value, bad)
    t.like(stats, { values: 2, skipped: 1, bytes: Buffer.byteLength(text) })
  })
}

test('a replacer that returns undefined for the whole value: an unserialisable value', async (t) => {
  const replacer = (key, value) => (key === '' && value.drop ? undefined : value)
  const { text, skips } = await stringify([{ drop: true }, { keep: 1 }], { replacer, onUnserializable: 'skip' })
  t.is(text, '{"keep":1}\n')
  t.is(skips[0].index, 0)
  t.regex(skips[0].reason, /replacer/)
})

test('a function replacer is called for NULL as for null (JSON.stringify(null, fn) calls fn(\'\', null))', async (t) => {
  const seen = []
  const replacer = (key, value) => {
    if (key === '') seen.push(value)
    return value === null ? 'was null' : value
  }
  const { text } = await stringify([NULL, { a: null }], { replacer })
  t.is(text, '"was null"\n{"a":"was null"}\n')
  t.is(seen.length, 2)
  t.is(seen[0], null, 'the replacer sees null, not the NULL symbol')

  const dropNull = (key, value) => (value === null ? undefined : value)
  const { text: kept, skips } = await stringify([NULL, 1], { replacer: dropNull, onUnserializable: 'skip' })
  t.is(kept, '1\n')
  t.like(skips[0], { index: 0, value: NULL })
  t.regex(skips[0].reason, /replacer returned undefined/)
  // NULL returned by a replacer is a symbol to JSON.stringify: the reason says what to return instead.
  const toNull = (key, value) => (key === '' && value.deleted ? NULL : value)
  const { text: live, skips: deleted } = await stringify([{ id: 1 }, { id: 2, deleted: true }], { replacer: toNull, onUnserializable: 'skip' })
  t.is(live, '{"id":1}\n')
  t.like(deleted[0], { index: 1 })
  t.regex(deleted[0].reason, /a symbol \(return null, not NULL, for a JSON null\)/)

  // An array replacer has nothing to pick from null: 'null', as JSON.stringify(null, ['a']).
  t.is((await stringify([NULL], { replacer: ['a'] })).text, 'null\n')
})

test('a replacer array may hold boxed strings and numbers, as JSON.stringify takes them', async (t) => {
  const replacer = [new String('a'), new Number(1), 'c']
  const values = [{ a: 1, 1: 'one', b: 2, c: { a: 3, d: 4 } }]
  const { text, error } = await stringify(values, { replacer })
  t.is(error, null)
  t.is(text, model(values, '\n', replacer))
  t.is(text, '{"a":1,"1":"one","c":{"a":3}}\n')
})

test('inside a value, undefined, functions and symbols follow JSON.stringify (omitted, or null in arrays): not skips', async (t) => {
  const values = [{ a: undefined, f () {}, s: Symbol('x'), k: 1 }, [undefined, () => 1, Symbol('y')], { n: NaN, i: -Infinity }]
  const { text, stats } = await stringify(values)
  t.is(text, '{"k":1}\n[null,null,null]\n{"n":null,"i":null}\n')
  t.is(stats.skipped, 0)
})

test("a 'skip' listener that throws fails the stream with what it threw (not an uncaught exception)", async (t) => {
  const s = new NdjsonStringifier({ onUnserializable: 'skip' })
  const boom = new Error('listener failed')
  s.on('skip', () => { throw boom })
  s.resume()
  s.write(undefined)
  const [err] = await once(s, 'error')
  t.is(err, boom)

  // Something with no string form: wrapped, and write() does not throw while describing it.
  const odd = new NdjsonStringifier({ onUnserializable: 'skip' })
  const formless = Object.create(null)
  odd.on('skip', () => { throw formless })
  odd.resume()
  odd.write(undefined)
  const [wrapped] = await once(odd, 'error')
  t.like(wrapped, { code: 'ERR_SLUICE_LISTENER', cause: formless })
  t.regex(wrapped.message, /a 'skip' listener threw a non-error: \[Object with no string form\]/)
})

test("a pipeline with 'skip' and a toJSON() throwing a null-prototype object settles, every other line written", async (t) => {
  const bad = { toJSON () { throw Object.create(null) } }
  const { text, error, skips } = await stringify([1, bad, 2], { onUnserializable: 'skip' })
  t.is(error, null)
  t.is(text, '1\n2\n')
  t.is(skips[0].index, 1)
})

// ---------------------------------------------------------------------------------------------
// Batching, the idle flush, writev, stats

test('a synchronous burst of 100,000 small values leaves in batches of whole lines, not one chunk per value', async (t) => {
  const values = []
  for (let i = 0; i < 100000; i++) values.push({ i })
  const s = new NdjsonStringifier()
  const chunks = []
  s.on('data', (chunk) => chunks.push(chunk))
  for (const v of values) s.write(v)
  s.end()
  await once(s, 'end')
  const batch = 64 * 1024
  const longest = Math.max(...values.map((v) => JSON.stringify(v).length + 1))
  t.true(chunks.length <= Math.ceil(Buffer.concat(chunks).length / batch) + 1, `${chunks.length} chunks`)
  t.true(chunks.every((c) => c.length <= batch + longest), 'no chunk over the batch size + one line')
  t.true(chunks.every((c) => c[c.length - 1] === 0x0a), 'every chunk ends a line')
  t.is(Buffer.concat(chunks).toString(), model(values))
  t.like(s.stats(), { values: 100000, skipped: 0, batches: chunks.length })
})

test('a trickle: a single value written (stream not ended) comes out on its own', async (t) => {
  const s = new NdjsonStringifier()
  s.write({ first: true })
  const [chunk] = await once(s, 'data')
  t.is(chunk.toString(), '{"first":true}\n')
  s.write('second')
  const [next] = await once(s, 'data')
  t.is(next.toString(), '"second"\n')
  s.end()
})

test('corked writes arrive through _writev together and come out in order, with an unserialisable one among them', async (t) => {
  const s = new NdjsonStringifier()
  const chunks = []
  s.on('data', (c) => chunks.push(c))
  s.cork()
  for (let i = 0; i < 50; i++) s.write({ i })
  s.uncork()
  s.end()
  await once(s, 'end')
  t.is(Buffer.concat(chunks).toString(), model(Array.from({ length: 50 }, (_, i) => ({ i }))))

  const f = new NdjsonStringifier()
  const out = []
  f.on('data', (c) => out.push(c))
  f.cork()
  // Each write's callback says whether its line was written: the two before the bad value were
  // (core gave all four the batch's error), the bad one and the one after it were not.
  const answers = []
  for (const v of [1, 2, 3n, 4]) f.write(v, (e) => answers.push(e?.code ?? 'ok'))
  f.uncork()
  const [err] = await once(f, 'error')
  t.like(err, { code: 'ERR_SLUICE_UNSERIALIZABLE', index: 2 })
  t.is(Buffer.concat(out).toString(), '1\n2\n')
  t.deepEqual(answers, ['ok', 'ok', 'ERR_SLUICE_UNSERIALIZABLE', 'ERR_SLUICE_UNSERIALIZABLE'])
})

test('writes buffered behind a full readable side reach _writev together: those before an unserialisable value succeed, it and those after it fail', async (t) => {
  const s = new NdjsonStringifier()
  s.on('error', () => {})
  const answers = []
  let n = 0
  // Nobody reads: once write() turns false, core buffers the writes behind the held one.
  while (s.write({ n: n++, pad: 'x'.repeat(200) }, (e) => answers.push(e ? 'error' : 'ok'))) {}
  for (let k = 0; k < 100; k++) s.write({ n: n++ }, (e) => answers.push(e ? 'error' : 'ok'))
  s.write(1n, (e) => answers.push(e ? 'error' : 'ok'))
  s.write({ after: true }, (e) => answers.push(e ? 'error' : 'ok'))
  let text = ''
  s.on('data', (c) => { text += c })
  await new Promise((resolve) => s.on('close', resolve))
  const lines = text.split('\n').slice(0, -1)
  t.is(lines.length, n, 'every value before the bad one was written')
  t.deepEqual(answers, [...Array(n).fill('ok'), 'error', 'error'])
})

test('a reader that does not read: write() turns false, the output waits, nothing is lost or reordered', async (t) => {
  const s = new NdjsonStringifier()
  let i = 0
  while (s.write({ i, pad: 'x'.repeat(100) })) i++
  t.true(s.readableLength <= s.readableHighWaterMark + 64 * 1024 + 200, `readableLength ${s.readableLength}`)
  const written = i + 1
  s.end()
  const lines = []
  for await (const chunk of s) lines.push(...chunk.toString().split('\n').slice(0, -1))
  t.is(lines.length, written)
  t.deepEqual(lines.map((l) => JSON.parse(l).i), Array.from({ length: written }, (_, k) => k))
})

test('stats(): values and bytes sent downstream, skips, batches; still there after end', async (t) => {
  const { text, stats, chunks } = await stringify([1, undefined, 'é', NULL], { onUnserializable: 'skip' })
  t.deepEqual(stats, { values: 3, bytes: Buffer.byteLength(text), skipped: 1, batches: chunks.length, discarded: 0 })
  t.is(text, '1\n"é"\nnull\n')
  t.is(stats.bytes, 12, 'bytes, not characters')
})

test("a 'skip' listener that destroys the stream inside a _writev with the readable side full: every write callback still runs", async (t) => {
  const s = new NdjsonStringifier({ onUnserializable: 'skip', readableHighWaterMark: 5 })
  s.on('skip', () => s.destroy())
  const called = []
  s.cork()
  s.write('0123456789', (err) => called.push(['first', err ?? null]))
  s.write(undefined, (err) => called.push(['undefined', err ?? null]))
  s.write(3, (err) => called.push(['third', err ?? null]))
  s.uncork()
  await once(s, 'close')
  // Core calls a write's callback once, whatever happened; a destroyed stream's in-flight ones
  // without an error (as core does for the write it had handed to _writev).
  t.deepEqual(called.map(([which]) => which), ['first', 'undefined', 'third'])
  t.is(s.writableLength, 0)
  t.is(s.stats().values, 1, 'the line pushed before destroy, nothing after')
})

test('destroy() with lines waiting: nothing is pushed afterwards', async (t) => {
  const s = new NdjsonStringifier()
  let pushes = 0
  s.on('data', () => pushes++)
  s.write({ a: 1 })
  s.destroy()
  await once(s, 'close')
  t.is(pushes, 0)
  t.is(s.stats().values, 0)
})

test('destroy() counts the values whose writes completed and whose lines it threw away (discarded), and those a destroying skip listener left unencoded', async (t) => {
  const s = new NdjsonStringifier()
  const completed = []
  for (let i = 0; i < 5; i++) s.write({ i }, (err) => completed.push(err ?? null))
  s.destroy()
  await once(s, 'close')
  t.deepEqual(completed, [null, null, null, null, null])
  t.like(s.stats(), { values: 0, discarded: 5 })

  // A _writev: 'first' is pushed, undefined skipped (its listener destroys), 3 never encoded.
  const w = new NdjsonStringifier({ onUnserializable: 'skip', readableHighWaterMark: 5 })
  w.on('skip', () => w.destroy())
  const called = []
  w.cork()
  w.write('0123456789', (err) => called.push(err ?? null))
  w.write(undefined, (err) => called.push(err ?? null))
  w.write(3, (err) => called.push(err ?? null))
  w.uncork()
  await once(w, 'close')
  t.deepEqual(called, [null, null, null])
  t.like(w.stats(), { values: 1, skipped: 1, discarded: 1 })
})

test('a destroy() from inside JSON.stringify (toJSON, a getter, the replacer) counts the value it interrupted as discarded', async (t) => {
  // The value's line is made after _destroy threw the lines away: it was counted nowhere.
  const destroyers = [
    (s) => [{ toJSON () { s.destroy(); return { b: 2 } } }, {}],
    (s) => [{ get a () { s.destroy(); return 1 } }, {}],
    (s) => [{ a: 1 }, { replacer: (k, v) => { if (k === 'a') s.destroy(); return v } }],
  ]
  for (const make of destroyers) {
    let s
    const [value, options] = make({ destroy: () => s.destroy() })
    s = new NdjsonStringifier(options)
    const called = []
    s.write(value, (err) => called.push(err ?? null))
    await once(s, 'close')
    t.deepEqual(called, [null])
    t.like(s.stats(), { values: 0, skipped: 0, discarded: 1 })

    // Corked: the value before it, it, and the one after it, each counted once.
    let w
    const [value2, options2] = make({ destroy: () => w.destroy() })
    w = new NdjsonStringifier(options2)
    const all = []
    w.cork()
    w.write({ before: 1 }, (err) => all.push(err ?? null))
    w.write(value2, (err) => all.push(err ?? null))
    w.write({ after: 1 }, (err) => all.push(err ?? null))
    w.uncork()
    await once(w, 'close')
    t.deepEqual(all, [null, null, null])
    t.like(w.stats(), { values: 0, skipped: 0, discarded: 3 })
  }
})

// ---------------------------------------------------------------------------------------------
// Options

test('options are validated by name', (t) => {
  const bad = [
    [{ newline: '\r' }, TypeError, 'ERR_INVALID_ARG_VALUE', /options\.newline/],
    [{ newline: 10 }, TypeError, 'ERR_INVALID_ARG_TYPE', /options\.newline/],
    [{ onUnserializable: 'drop' }, TypeError, 'ERR_INVALID_ARG_VALUE', /options\.onUnserializable/],
    [{ replacer: 'a' }, TypeError, 'ERR_INVALID_ARG_TYPE', /options\.replacer/],
    [{ replacer: ['a', {}] }, TypeError, 'ERR_INVALID_ARG_TYPE', /options\.replacer\[1\]/],
    [{ objectMode: true }, TypeError, 'ERR_INVALID_ARG_VALUE', /options\.objectMode/],
    [{ readableHighWaterMark: -1 }, RangeError, 'ERR_OUT_OF_RANGE', /options\.readableHighWaterMark/],
    [{ signal: {} }, TypeError, 'ERR_INVALID_ARG_TYPE', /options\.signal/],
    ['\n', TypeError, 'ERR_INVALID_ARG_TYPE', /options/]
  ]
  for (const [options, type, code, message] of bad) {
    const err = t.throws(() => new NdjsonStringifier(options), { instanceOf: type, message }, JSON.stringify(options))
    t.is(err?.code, code)
  }
  // Line breaks in the message are shown escaped, as core shows them, never as raw breaks.
  const err = t.throws(() => new NdjsonStringifier({ newline: '\r' }))
  t.is(err.message, 'The "options.newline" option must be one of \'\\n\', \'\\r\\n\'. Received \'\\r\'')
  t.notRegex(err.message, /[\r\n]/)
})

test('the writable side takes values, the readable side gives Buffers; core\'s default highWaterMarks', (t) => {
  const { getDefaultHighWaterMark } = require('node:stream')
  const s = new NdjsonStringifier()
  t.true(s.writableObjectMode)
  t.false(s.readableObjectMode)
  t.is(s.writableHighWaterMark, getDefaultHighWaterMark(true))
  t.is(s.readableHighWaterMark, getDefaultHighWaterMark(false))
})

test('batches are 64 KiB, or the readableHighWaterMark set if smaller: bytes, whatever the script', async (t) => {
  // ASCII, Latin-1, CJK (3 bytes a UTF-16 unit) and emoji (4 bytes for 2 units): the bound is in bytes.
  for (const text of ['x', 'é', '中', '😀']) {
    const values = Array.from({ length: 30000 }, (_, i) => ({ i, s: text.repeat(20) }))
    const longest = Math.max(...values.map((v) => Buffer.byteLength(JSON.stringify(v)) + 1))
    for (const [options, batch] of [[{}, 65536], [{ readableHighWaterMark: 4096 }, 4096], [{ highWaterMark: 1 }, 1]]) {
      const { chunks, text: out } = await stringify(values, options)
      const total = Buffer.byteLength(out)
      const what = `${text} ${JSON.stringify(options)}: ${chunks.length} chunks, sizes ${[...new Set(chunks.map((c) => c.length))].slice(0, 5)}…`
      t.true(chunks.every((c) => c.length < batch + longest), `${what}: every batch under ${batch} bytes + one line`)
      t.true(chunks.every((c) => c[c.length - 1] === 0x0a), `${what}: whole lines`)
      // Full batches, not fragments: close to the fewest that hold the output.
      t.true(chunks.length <= Math.ceil(total / batch) * 1.1 + 2, what)
      if (text === 'x') t.true(chunks.slice(0, -1).every((c) => c.length >= batch), `${what}: every batch but the last is at least ${batch} bytes`)
      t.is(out, model(values))
    }
  }
})

test('stats() counts the lines of each Buffer as it is pushed, a batch cut in pieces too', async (t) => {
  const s = new NdjsonStringifier()
  let lines = 0
  let bytes = 0
  const seen = []
  s.on('data', (chunk) => {
    lines += chunk.toString().split('\n').length - 1
    bytes += chunk.length
    seen.push([s.stats().values, s.stats().bytes, lines, bytes])
  })
  for (let i = 0; i < 20000; i++) s.write({ i, s: '中'.repeat(20 + (i % 7)) })
  s.end()
  await once(s, 'end')
  t.true(seen.length > 10)
  for (const [values, counted, expectedLines, expectedBytes] of seen) t.deepEqual([values, counted], [expectedLines, expectedBytes])
  t.is(lines, 20000)
})
