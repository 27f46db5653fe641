'use strict'

// The columns-and-shapes path (src/ndjson/shape.rs, lib/shapes.js) must build exactly what
// JSON.parse builds: same values, -0 included, same own keys in the same order, same prototype.
// These tests hold it to JSON.parse on seeded random NDJSON written to provoke every corner:
// escapes, lone surrogates, astral characters, integer-like and duplicate keys, `__proto__`,
// uniform and mixed arrays, deep nesting (which the shaper declines), many shapes.

const test = require('ava')
const { NdjsonParser, NULL } = require('..')
const { compileShape, interpretShape } = require('../lib/shapes.js')
const { makeRng, randomChunks, runThrough } = require('./helpers.js')

const NUMBERS = ['0', '-0', '1', '-1', '1.5', '-0.0', '1e22', '1E-7', '123456789012345678901234567890', '5e-324',
  '1.7976931348623157e308', '1e999', '-1e999', '0.1', '2.5e+3', '9007199254740993', '4.35', '1e-400']
const STRINGS = ['""', '"a"', '"é"', '"日本"', '"😀"', '"\\u00e9"', '"\\ud83d\\ude00"', '"\\ud800"', '"\\udc00x"',
  '"\\n\\t\\r\\b\\f\\/\\\\\\""', '"\\u0000"', '"\u2028\u2029"', '"a long string over thirteen characters"', '"ÿ"', '"Ā"']
const KEYS = ['"a"', '"b"', '"id"', '"0"', '"1"', '"10"', '"-1"', '"__proto__"', '"constructor"', '"é"', '""', '"\\u0061"', '"a b"', '"toString"']

/** Random JSON text (not via JSON.stringify, so duplicates and raw escapes appear). */
function randomJson (next, depth = 0) {
  const pick = (list) => list[Math.floor(next() * list.length)]
  const r = next()
  if (depth > 4 || r < 0.35) {
    const s = next()
    if (s < 0.3) return pick(NUMBERS)
    if (s < 0.7) return pick(STRINGS)
    return pick(['true', 'false', 'null'])
  }
  if (r < 0.6) {
    const n = Math.floor(next() * 5)
    const keys = []
    for (let i = 0; i < n; i++) keys.push(`${pick(KEYS)}:${randomJson(next, depth + 1)}`)
    return `{${keys.join(',')}}`
  }
  const n = Math.floor(next() * 5)
  const uniform = next() < 0.5
  const template = randomJson(next, depth + 1)
  const items = []
  for (let i = 0; i < n; i++) items.push(uniform ? template : randomJson(next, depth + 1))
  return `[${items.join(' , ')}]`
}

function expectedOf (line) {
  return JSON.parse(line)
}

/** Deep comparison that also checks key order, -0 and prototypes. */
function sameAs (t, actual, expected, where) {
  if (expected === null || typeof expected !== 'object') {
    t.true(Object.is(actual, expected), `${where}: ${String(actual)} vs ${String(expected)}`)
    return
  }
  t.is(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), `${where}: prototype`)
  t.deepEqual(Object.keys(actual), Object.keys(expected), `${where}: keys`)
  for (const key of Object.keys(expected)) sameAs(t, actual[key], expected[key], `${where}.${key}`)
}

test('random records build exactly what JSON.parse builds, in every output and chunking', async (t) => {
  const next = makeRng(20261123)
  const lines = []
  for (let i = 0; i < 3000; i++) lines.push(randomJson(next))
  // A few shapes repeated many times, as real streams have them.
  for (let i = 0; i < 2000; i++) lines.push(lines[i % 7])
  const input = Buffer.from(lines.join('\n') + '\n')
  const expected = lines.map(expectedOf)

  for (const chunks of [[input], randomChunks(input, 7, 300)]) {
    const values = await runThrough(new NdjsonParser(), chunks)
    t.is(values.length, expected.length)
    values.forEach((v, i) => sameAs(t, v === NULL ? null : v, expected[i], `line ${i + 1}`))
  }
  const envelopes = await runThrough(new NdjsonParser({ output: 'envelopes' }), [input])
  envelopes.forEach((e, i) => sameAs(t, e.value, expected[i], `envelope ${i + 1}`))
  const batches = (await runThrough(new NdjsonParser({ output: 'batches' }), [input])).flat()
  batches.forEach((v, i) => sameAs(t, v, expected[i], `batch item ${i + 1}`))
})

test('__proto__ keys stay own properties and never touch Object.prototype', async (t) => {
  const [value] = await runThrough(new NdjsonParser(), [Buffer.from('{"__proto__":{"polluted":1},"a":[{"__proto__":2}]}\n')])
  t.true(Object.hasOwn(value, '__proto__'))
  t.deepEqual(value.__proto__, { polluted: 1 }) // eslint-disable-line no-proto
  t.is(Object.getPrototypeOf(value), Object.prototype)
  t.is({}.polluted, undefined)
  t.true(Object.hasOwn(value.a[0], '__proto__'))
})

test('lines too deep for the shaper are still parsed, by JSON.parse', async (t) => {
  const deep = '['.repeat(2000) + '1' + ']'.repeat(2000)
  const values = await runThrough(new NdjsonParser(), [Buffer.from(`{"a":1}\n${deep}\n{"a":2}\n`)])
  t.deepEqual(values[0], { a: 1 })
  t.deepEqual(values[1], JSON.parse(deep))
  t.deepEqual(values[2], { a: 2 })
})

test('more distinct shapes than the shaper keeps still parse correctly', async (t) => {
  const lines = []
  for (let i = 0; i < 600; i++) lines.push(JSON.stringify({ [`k${i}`]: i, v: [i, String(i)] }))
  const values = await runThrough(new NdjsonParser(), [Buffer.from(lines.join('\n'))])
  t.deepEqual(values, lines.map((l) => JSON.parse(l)))
})

test('records left to JSON.parse keep every character: the worker hands non-ASCII lines over as UTF-16', async (t) => {
  // Tweet-like records: long text, few numbers, so the shaper leaves them to JSON.parse; most of
  // them not ASCII (the batch's UTF-16 text, transcoded on the worker), some ASCII (its latin1
  // text), in one batch and across chunk boundaries inside multi-byte characters.
  const next = makeRng(20261130)
  const words = ['日本語の', 'テキスト', 'émoji 😀', '𝄞 clef', 'ok', 'plain words', 'Ωmega', '\ud800 lone', 'tab\there', '"quoted"']
  const lines = []
  for (let i = 0; i < 1500; i++) {
    const text = Array.from({ length: 5 + Math.floor(next() * 40) }, () => words[Math.floor(next() * words.length)]).join(' ')
    const ascii = next() < 0.3
    lines.push(JSON.stringify({ id_str: String(i), text: ascii ? text.replace(/[^\x20-\x7e]/g, '?') : text, user: { name: ascii ? 'x' : 'ユーザー' } }))
  }
  const input = Buffer.from(lines.join('\n') + '\n')
  const expected = lines.map((l) => JSON.parse(l))
  for (const chunks of [[input], randomChunks(input, 3, 5000), randomChunks(input, 1, 70)]) {
    const values = await runThrough(new NdjsonParser(), chunks)
    t.is(values.length, expected.length)
    values.forEach((v, i) => sameAs(t, v, expected[i], `line ${i + 1}`))
  }
  // With a reviver the batch goes to JS as one text (UTF-16 from the worker when not ASCII),
  // each line parsed from its span.
  const reviver = (key, value) => (typeof value === 'string' ? `${key}:${value}` : value)
  const revived = await runThrough(new NdjsonParser({ reviver }), randomChunks(input, 5, 5000))
  t.is(revived.length, lines.length)
  revived.forEach((v, i) => sameAs(t, v, JSON.parse(lines[i], reviver), `revived line ${i + 1}`))
})

test('the compiled and the interpreted builders agree', (t) => {
  const sig = '{"id"n"ok"b"x"z"name"s"tags"[*s]"pair"[ns]"__proto__"{}"e"[]}'
  // id=7, ok=1, tags length 2, pair length 2 then 4, e length 0.
  const N = new Float64Array([7, 1, 2, 2, 4, 0])
  const S = 'abcdef'
  const O = new Uint32Array([0, 2, 3, 5, 6])
  const compiled = compileShape(sig)(N, S, O, { n: 0, s: 0 })
  const interpreted = interpretShape(sig)(N, S, O, { n: 0, s: 0 })
  t.deepEqual(compiled, interpreted)
  t.deepEqual(Object.keys(compiled), ['id', 'ok', 'x', 'name', 'tags', 'pair', '__proto__', 'e'])
  t.deepEqual(compiled, { id: 7, ok: true, x: null, name: 'ab', tags: ['c', 'de'], pair: [4, 'f'], ['__proto__']: {}, e: [] })
})

test('nests of number arrays, shared by every shape, build what the interpreter builds, and leave the cursor after them', (t) => {
  // Every depth the shared builder has a path for (a loop, two loops, recursion), empty arrays at
  // each level, and values after each nest, which read from where the nest left the cursor.
  const sig = '{"a"[*n]"b"[*[*n]]"c"[*[*[*n]]]"d"[*[*[*[*n]]]]"e"n"f"[*[*s]]"g"[*[*n]]"h"s}'
  const N = new Float64Array([2, 1, 2, 2, 1, 3, 0, 2, 1, 1, 5, 2, 0, 1, 6, 1, 2, 0, 1, 1, 7, 9, 1, 2, 0])
  const S = 'xyzw'
  const O = new Uint32Array([0, 1, 3, 4])
  const cursor = { n: 0, s: 0 }
  const compiled = compileShape(sig)(N, S, O, cursor)
  t.deepEqual(compiled, interpretShape(sig)(N, S, O, { n: 0, s: 0 }))
  t.deepEqual(compiled, { a: [1, 2], b: [[3], []], c: [[[5]], [[], [6]]], d: [[[], [[7]]]], e: 9, f: [['x', 'yz']], g: [], h: 'w' })
  t.deepEqual(cursor, { n: N.length, s: 3 })
  // Two shapes built one after the other from one batch share the builder: each starts where the
  // other stopped.
  const point = compileShape('[*[*n]]')
  const M = new Float64Array([1, 2, 1, 2, 2, 1, 3, 0])
  const at = { n: 0, s: 0 }
  t.deepEqual(point(M, '', new Uint32Array(1), at), [[1, 2]])
  t.deepEqual(compileShape('{"p"[*[*n]]}')(M, '', new Uint32Array(1), at), { p: [[3], []] })
  t.is(at.n, M.length)
  // Pairs (GeoJSON points) are built as array literals, alone and in rings: -0 stays -0.
  const P = new Float64Array([2, -0, 1.5, 3, 2, 4, -0, 1, 7, 3, 8, 9, 10])
  const pairs = compileShape('{"p"[*n]"r"[*[*n]]}')(P, '', new Uint32Array(1), { n: 0, s: 0 })
  t.deepEqual(pairs, interpretShape('{"p"[*n]"r"[*[*n]]}')(P, '', new Uint32Array(1), { n: 0, s: 0 }))
  t.deepEqual(pairs, { p: [-0, 1.5], r: [[4, -0], [7], [8, 9, 10]] })
  t.true(Object.is(pairs.p[0], -0) && Object.is(pairs.r[0][1], -0))
})
