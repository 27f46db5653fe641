'use strict'

// Differential tests on real-world records (the benchmark's sources, bench/real-corpus.js): every
// value NdjsonParser builds must equal JSON.parse's of the same line — values, -0, key order,
// prototypes, `__proto__` as an own key — whichever path built it. The native side picks, line by
// line, between building from columns (number-heavy records) and handing JS the line's text
// (records of plain strings and keys), and skips the shaper for batches that were nearly all text;
// the mixed stream below changes character several times so that every path and every switch
// between them runs, at several chunkings.

const test = require('ava')
const { NdjsonParser, NULL } = require('..')
const { KINDS, sourceLines } = require('../bench/real-corpus.js')
const { countingReturns, makeRng, randomChunks, runThrough } = require('./helpers.js')
const { sameValue } = require('./helpers.js')

// Enough of each source to fill several batches, kept small so the suite stays quick.
const SAMPLE_BYTES = 1.5e6

function sample (kind, seed) {
  const lines = sourceLines(kind)
  const next = makeRng(seed)
  const out = []
  let bytes = 0
  while (bytes < SAMPLE_BYTES) {
    const line = lines[next.int(lines.length)]
    out.push(line)
    bytes += line.length + 1
  }
  return out
}

async function check (t, lines, chunkings) {
  const input = Buffer.from(lines.join('\n') + '\n')
  const expected = lines.map((l) => JSON.parse(l))
  for (const [name, chunks] of chunkings(input)) {
    const values = await runThrough(new NdjsonParser(), chunks)
    t.is(values.length, expected.length, `${name}: value count`)
    for (let i = 0; i < expected.length; i++) {
      const d = sameValue(values[i] === NULL ? null : values[i], expected[i], `line ${i + 1}`)
      if (d !== null) {
        t.fail(`${name}: ${d}`)
        return
      }
    }
  }
  t.pass()
}

const wholeAndRandom = (seed) => (input) => [
  ['one chunk', [input]],
  ['random chunks up to 64 KiB', randomChunks(input, seed, 65536)],
]

for (const [i, kind] of KINDS.entries()) {
  test(`real-world ${kind}: every value equals JSON.parse's`, async (t) => {
    await check(t, sample(kind, 9000 + i), wholeAndRandom(100 + i))
  })
}

test('a stream whose records change character mid-way: both paths and every switch agree with JSON.parse', async (t) => {
  const webhooks = sample('webhooks', 1) // plain strings and keys: text
  const counties = sample('counties', 2) // number-heavy: columns
  const rest = sample('rest', 3) // catalog of many shapes: mostly text, some columns
  const corner = [
    '{"__proto__":{"x":-0},"a":[-0,1e999,"\\u00e9"],"b":null}',
    'null',
    '-0',
    '{"url":"https://example.com/a/very/long/url/with/nothing/costly/in/it/at/all/whatsoever","name":"plain"}',
    '{"0":1,"b":2,"a":3,"1":4,"a":5}',
    // Plain records with non-ASCII text: JSON.parse'd from the batch's separate wide text.
    `{"url":"https://example.com/${'x'.repeat(200)}","name":"Zürich 日本 😀","__proto__":{"a":-0}}`,
    `{"url":"https://example.com/${'y'.repeat(200)}","name":"Malmö"}`
  ]
  const lines = [
    ...counties.slice(0, 300),
    ...webhooks, // long enough for the shaper to be skipped, then retried
    ...corner,
    ...counties, // and taken up again
    ...rest,
    ...corner,
    ...webhooks.slice(0, 20),
    ...counties.slice(0, 50)
  ]
  await check(t, lines, (input) => [
    ['one chunk', [input]],
    ['random chunks up to 64 KiB', randomChunks(input, 7, 65536)],
    ['random chunks up to 3 KiB', randomChunks(input, 8, 3072)]
  ])
})

test.serial('real-world counties, then webhooks (the bench\'s `turning`): every value equals JSON.parse\'s, and the stream goes back to text mode', async (t) => {
  // Native for the coordinates; taken back by the JS stage (text mode) once the records turn to
  // plain strings (lib/ndjson/inline.js, NativeInputWatch).
  const { inlineParsing } = require('../lib/ndjson/inline.js')
  const lines = [...sample('counties', 4), ...sample('webhooks', 5), ...sample('webhooks', 6)]
  const { returns } = await countingReturns(() => check(t, lines, (input) => [
    ['64 KiB chunks', Array.from({ length: Math.ceil(input.length / 65536) }, (_, i) => input.subarray(i * 65536, (i + 1) * 65536))],
    ['random chunks up to 64 KiB', randomChunks(input, 11, 65536)]
  ]))
  // Once per chunking; never when the suite runs with inline parsing off (ndjson-native-small).
  t.is(returns, inlineParsing.enabled ? 2 : 0)
})
