'use strict'

// Chunk-boundary equivalence of the NDJSON parser: whatever the chunking, the output (items,
// 'invalid' reports with line/offset/excerpt/reason, stats()) is the same, and equal to a plain
// JS model of the documented contract (helpers.js modelNdjson). Inputs are generated from seeds
// (so a failure can be replayed) and mix nested objects, 2/3/4-byte UTF-8, escapes, LF and CRLF,
// blank and whitespace-only lines, invalid JSON and invalid UTF-8, a BOM at the start and a
// missing final newline. Every output mode is covered: 'values', 'batches' (flattened), 'lines'
// (compared byte for byte) and 'envelopes'.

const test = require('ava')
const { NdjsonParser, NULL } = require('..')
const {
  UTF8_BOM, chunked, collect, flattenBatches, makeRng, modelItem, modelNdjson, randomChunks, sameValue, twoChunkSplits
} = require('./helpers.js')

const OUTPUTS = ['values', 'batches', 'lines', 'envelopes']

// ---- input generator ------------------------------------------------------------------------

const RAW_TEXT = ['a', 'xyz', ' ', 'é', 'ß', '€', '日本', 'ह', '😀', '𝄞', '\u2028', '\u2029', '\u00a0', '\ufeff']
const ESCAPES = ['\\n', '\\t', '\\"', '\\\\', '\\/', '\\u00e9', '\\ud83d\\ude00', '\\ud800', '\\udc00x', '\\b\\f\\r', '\\u0000']
const NUMBERS = ['0', '-0', '1', '-12.5e-3', '1E+2', '123456789012345678901234567890', '0.1', '1e308', '-1e-400', '42']

function genString (rng) {
  let s = '"'
  const n = rng.int(6)
  for (let i = 0; i < n; i++) s += rng() < 0.3 ? rng.pick(ESCAPES) : rng.pick(RAW_TEXT)
  return s + '"'
}

function ws (rng) {
  return rng() < 0.15 ? rng.pick([' ', '\t', ' \t ']) : ''
}

function genValue (rng, depth) {
  const r = rng()
  if (depth < 4 && r < 0.25) {
    const n = rng.int(4)
    const members = []
    for (let i = 0; i < n; i++) members.push(`${ws(rng)}${genString(rng)}${ws(rng)}:${ws(rng)}${genValue(rng, depth + 1)}${ws(rng)}`)
    return `{${members.join(',')}}`
  }
  if (depth < 4 && r < 0.45) {
    const n = rng.int(4)
    const items = []
    for (let i = 0; i < n; i++) items.push(`${ws(rng)}${genValue(rng, depth + 1)}${ws(rng)}`)
    return `[${items.join(',')}]`
  }
  if (r < 0.7) return genString(rng)
  if (r < 0.85) return rng.pick(NUMBERS)
  return rng.pick(['null', 'true', 'false'])
}

function genRecord (rng) {
  return `{"id":${rng.int(1e6)},"name":${genString(rng)},"tags":[${genString(rng)},${genString(rng)}],` +
    `"nested":{"a":{"b":[1,{"c":null}],"d":${genValue(rng, 2)}}},"n":${rng.pick(NUMBERS)},"x":${genValue(rng, 1)}}`
}

const INVALID_JSON = ['{"a":', '[1,]', 'nul', '{"x":1} 2', "{'a':1}", '"unterminated', '01', '{"a" 1}', '"a\u0001b"', 'NaN', '}', '[1]]', '1 2']
const INVALID_UTF8 = [
  Buffer.from([0x22, 0x61, 0xff, 0x62, 0x22]), // 0xFF
  Buffer.from([0x22, 0xc0, 0xaf, 0x22]), // overlong '/'
  Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), // UTF-8 encoded surrogate U+D800
  Buffer.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]), // above U+10FFFF
  Buffer.from([0x22, 0xe2, 0x82, 0x22]), // truncated '€'
  Buffer.from([0x22, 0x80, 0x22]), // lone continuation byte
  Buffer.from([0x7b, 0x22, 0xf0, 0x9f, 0x98, 0x22, 0x3a, 0x31, 0x7d]) // truncated '😀' in a key
]

/** One line's content (without terminator), as bytes. */
function genLine (rng) {
  const r = rng()
  let text
  if (r < 0.45) text = genRecord(rng)
  else if (r < 0.55) text = rng.pick(['null', 'true', 'false', '0', '""', '-0', '"é"', '[]', '{}', '{"__proto__":{"x":1}}'])
  else if (r < 0.6) text = ''
  else if (r < 0.66) text = rng.pick([' ', '\t', ' \t ', '\r', ' \r'])
  else if (r < 0.78) text = rng.pick(INVALID_JSON)
  else if (r < 0.88) return rng.pick(INVALID_UTF8)
  else text = genValue(rng, 0)
  return Buffer.from(ws(rng) + text + ws(rng))
}

/** A generated NDJSON input: `lines` lines, LF or CRLF, maybe a BOM, maybe no final newline. */
function genInput (seed, lines, { bom, finalNewline } = {}) {
  const rng = makeRng(seed)
  bom = bom ?? seed % 2 === 0
  finalNewline = finalNewline ?? seed % 3 !== 0
  const parts = bom ? [UTF8_BOM] : []
  for (let i = 0; i < lines; i++) {
    parts.push(genLine(rng))
    const last = i === lines - 1
    if (!last || finalNewline) parts.push(Buffer.from(rng() < 0.3 ? '\r\n' : '\n'))
  }
  // A missing final newline must still give the last line: make sure it is not blank.
  if (!finalNewline) parts.push(Buffer.from('{"last":true}'))
  return Buffer.concat(parts)
}

// ---- comparison -------------------------------------------------------------------------------

/** A run's observable output, normalised: one entry per value ('batches' flattened), reports, stats. */
function normalise (result, output) {
  const log = output === 'batches' ? flattenBatches(result.log) : result.log
  return { log, stats: result.stats, error: result.error, dataAfterClose: result.dataAfterClose }
}

/** Differences between two normalised runs (everything must match, reasons included). */
function runDiff (a, b) {
  if (a.error || b.error) return `stream error: ${a.error?.message ?? b.error?.message}`
  if (a.log.length !== b.log.length) return `${a.log.length} entries vs ${b.log.length}`
  for (let i = 0; i < a.log.length; i++) {
    const x = a.log[i]
    const y = b.log[i]
    if (x.kind !== y.kind) return `entry ${i}: ${x.kind} vs ${y.kind}`
    const d = x.kind === 'value' ? sameValue(x.value, y.value, `entry ${i}`) : sameValue({ ...x.info }, { ...y.info }, `entry ${i} (invalid)`)
    if (d !== null) return d
  }
  return sameValue(a.stats, b.stats, 'stats')
}

/** Differences between a normalised run and the model (reasons are not modelled, only required). */
function modelDiff (run, model, output) {
  if (run.error) return `stream error: ${run.error.code} ${run.error.message}`
  if (run.dataAfterClose) return 'data after close'
  if (run.log.length !== model.log.length) return `${run.log.length} entries, model has ${model.log.length}`
  for (let i = 0; i < run.log.length; i++) {
    const got = run.log[i]
    const want = model.log[i]
    if (got.kind !== want.kind) return `entry ${i}: ${got.kind}, model says ${want.kind} (${JSON.stringify(want.info ?? want.line)})`
    if (want.kind === 'value') {
      const d = sameValue(got.value, modelItem(want, output, NULL), `entry ${i} (line ${want.line})`)
      if (d !== null) return d
    } else {
      const { code, line, offset, excerpt, reason } = got.info
      const d = sameValue({ code, line, offset, excerpt }, want.info, `entry ${i} (invalid)`)
      if (d !== null) return d
      if (typeof reason !== 'string' || reason === '') return `entry ${i}: no reason`
    }
  }
  return sameValue(run.stats, model.stats, 'stats')
}

async function runChunks (chunks, output, options = {}, how = {}) {
  return normalise(await collect(new NdjsonParser({ onInvalid: 'skip', output, ...options }), chunks, how), output)
}

// ---- tests ------------------------------------------------------------------------------------

test('generator sanity: inputs contain every feature the tests are about', (t) => {
  const all = Buffer.concat([1, 2, 3, 4, 5, 6].map((s) => genInput(s, 40)))
  const text = all.toString('latin1')
  t.true(text.includes('\r\n'), 'CRLF')
  t.true(/[^\r]\n/.test(text), 'LF')
  t.true(all.includes(Buffer.from('😀')) && all.includes(Buffer.from('€')) && all.includes(Buffer.from('é')), '2/3/4-byte UTF-8')
  t.true(text.includes('\\u'), 'escapes')
  t.true(text.includes('\n\n') || text.includes('\n\r\n'), 'blank lines')
  const model = modelNdjson(all)
  const codes = new Set(model.log.filter((e) => e.kind === 'invalid').map((e) => e.info.code))
  t.true(codes.has('ERR_SLUICE_INVALID_JSON') && codes.has('ERR_SLUICE_INVALID_UTF8'), 'invalid JSON and invalid UTF-8')
  t.true([1, 2, 3, 4, 5, 6].some((s) => genInput(s, 40).subarray(0, 3).equals(UTF8_BOM)), 'a BOM at the start')
  t.true([1, 2, 3, 4, 5, 6].some((s) => genInput(s, 40).at(-1) !== 0x0a), 'no final newline')
})

for (const output of OUTPUTS) {
  test(`output '${output}': one-shot matches the model; 1-byte, random and fixed chunkings match one-shot`, async (t) => {
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const input = genInput(seed, 60)
      const model = modelNdjson(input)
      const oneShot = await runChunks([input], output)
      t.is(modelDiff(oneShot, model, output), null, `seed ${seed}: one-shot vs model`)
      const chunkings = [
        ['1-byte chunks', chunked(input, [1])],
        ['chunks of 2,3,5,7', chunked(input, [2, 3, 5, 7])],
        ['random chunks ≤ 16', randomChunks(input, seed * 7, 16)],
        ['random chunks ≤ 300', randomChunks(input, seed * 7 + 1, 300)]
      ]
      for (const [label, chunks] of chunkings) {
        t.is(runDiff(await runChunks(chunks, output), oneShot), null, `seed ${seed}: ${label} vs one-shot`)
      }
    }
  })

  test(`output '${output}': every split point of a short input gives the same output`, async (t) => {
    // Short, but with a BOM, CRLF, 2/3/4-byte characters, an escape, blank and whitespace-only
    // lines, invalid JSON, invalid UTF-8, a null, and no final newline.
    const input = Buffer.concat([
      UTF8_BOM,
      Buffer.from('{"a":"é€😀","b":[1,-0,{"c":null}]}\r\n\n \t\r\nnull\n{"bad":}\r\n'),
      Buffer.from([0x22, 0xe2, 0x82, 0x22, 0x0a]),
      Buffer.from('"\\ud83d\\ude00\\n"\r\n[]\n"日本"')
    ])
    const model = modelNdjson(input)
    const oneShot = await runChunks([input], output)
    t.is(modelDiff(oneShot, model, output), null, 'one-shot vs model')
    const diffs = []
    for (const chunks of twoChunkSplits(input)) {
      const d = runDiff(await runChunks(chunks, output), oneShot)
      if (d !== null) diffs.push(`split at ${chunks[0].length}: ${d}`)
    }
    t.deepEqual(diffs, [])
  })
}

test('every split point of every generated short input (values output)', async (t) => {
  const diffs = []
  for (const seed of [21, 22, 23, 24]) {
    const input = genInput(seed, 4)
    const model = modelNdjson(input)
    t.is(modelDiff(await runChunks([input], 'values'), model, 'values'), null, `seed ${seed}: one-shot vs model`)
    for (const chunks of twoChunkSplits(input)) {
      const d = modelDiff(await runChunks(chunks, 'values'), model, 'values')
      if (d !== null) diffs.push(`seed ${seed}, split at ${chunks[0].length}: ${d}`)
    }
  }
  t.deepEqual(diffs, [])
})

test('a BOM split over the first chunks is still stripped; a BOM later in the stream is not', async (t) => {
  const input = Buffer.concat([UTF8_BOM, Buffer.from('1\n'), UTF8_BOM, Buffer.from('2\n3')])
  const model = modelNdjson(input)
  t.deepEqual(model.log.map((e) => e.kind), ['value', 'invalid', 'value'])
  for (const sizes of [[1], [2], [1, 2], [3], [4]]) {
    t.is(modelDiff(await runChunks(chunked(input, sizes), 'values'), model, 'values'), null, `chunks ${sizes}`)
  }
})

test('a stream that is only a BOM has no line, as an empty stream (blankLines \'error\' passes it), in every chunking and output', async (t) => {
  for (const output of ['values', 'lines', 'batches']) {
    for (const sizes of [[3], [1], [2, 1]]) {
      const run = await collect(new NdjsonParser({ output, blankLines: 'error' }), chunked(UTF8_BOM, sizes))
      t.is(run.error, null, `${output}, chunks ${sizes}`)
      t.deepEqual(run.stats, { lines: 0, bytes: 3, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 }, `${output}, chunks ${sizes}`)
    }
  }
  // A newline after it makes line 1, a blank one.
  const run = await collect(new NdjsonParser(), [Buffer.concat([UTF8_BOM, Buffer.from('\n')])])
  t.like(run.stats, { lines: 1, blankLines: 1 })
  t.deepEqual(modelNdjson(UTF8_BOM).stats, { lines: 0, bytes: 3, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 })
})

test('CRLF split between chunks: the CR never leaks into the line (lines output)', async (t) => {
  const input = Buffer.from('"a"\r\n"b"\r\n\r\n"c"\r\n')
  for (const sizes of [[1], [4], [4, 1], [3, 2]]) {
    const run = await runChunks(chunked(input, sizes), 'lines')
    t.deepEqual(run.log.map((e) => e.value.toString('latin1')), ['"a"', '"b"', '"c"'], `chunks ${sizes}`)
    t.is(run.stats.blankLines, 1)
    t.is(run.stats.longestLine, 3)
  }
})

test('a \\r at the very end of the stream: dropped with its line; after the last newline, a blank line', async (t) => {
  for (const sizes of [[1], [2], [64]]) {
    const cut = await runChunks(chunked(Buffer.from('"a"\n"b"\r'), sizes), 'lines')
    t.deepEqual(cut.log.map((e) => e.value.toString('latin1')), ['"a"', '"b"'], `chunks ${sizes}`)
    t.like(cut.stats, { lines: 2, blankLines: 0 }, `chunks ${sizes}`)
    const lone = await runChunks(chunked(Buffer.from('"a"\n\r'), sizes), 'lines')
    t.deepEqual(lone.log.map((e) => e.value.toString('latin1')), ['"a"'], `chunks ${sizes}`)
    t.like(lone.stats, { lines: 2, blankLines: 1 }, `chunks ${sizes}: as '"a"\\n\\r\\n' would be`)
  }
})

/** Runs `input` in several chunkings; returns differences against the model and the one-shot run. */
async function overlongDiffs (t, input, max, expectedKinds) {
  const model = modelNdjson(input, { maxLineBytes: max })
  t.deepEqual(model.log.map((e) => e.kind === 'value' ? 'v' : e.info.code), expectedKinds, 'model sanity')
  const options = { maxLineBytes: max }
  const oneShot = await runChunks([input], 'values', options)
  const diffs = []
  const d0 = modelDiff(oneShot, model, 'values')
  if (d0 !== null) diffs.push(`one-shot vs model: ${d0}`)
  for (const [label, chunks] of [
    ['1-byte chunks', chunked(input, [1])],
    ['chunks of 5', chunked(input, [5])],
    ['chunks of 7,3', chunked(input, [7, 3])],
    ['random ≤ 9', randomChunks(input, 99, 9)]
  ]) {
    const run = await runChunks(chunks, 'values', options)
    const d = modelDiff(run, model, 'values')
    if (d !== null) diffs.push(`${label} vs model: ${d}`)
    const r = runDiff(run, oneShot)
    if (r !== null) diffs.push(`${label} vs one-shot: ${r}`)
  }
  return diffs
}

const jsonString = (n) => Buffer.from(`"${'x'.repeat(n - 2)}"`) // a JSON string of n bytes
const TOO_LONG = 'ERR_SLUICE_LINE_TOO_LONG'

test('over-long lines (small maxLineBytes), LF and CRLF: same reports and stats whatever the chunking', async (t) => {
  // Lines just under, at and over the limit; the limit is on the content, the CR of a CRLF is
  // not content, so a reported length and stats().longestLine must not depend on the chunking.
  const max = 16
  const input = Buffer.concat([
    jsonString(max), Buffer.from('\n'),
    jsonString(max - 1), Buffer.from('\r\n'),
    jsonString(max), Buffer.from('\r\n'),
    jsonString(max + 1), Buffer.from('\r\n'),
    jsonString(max + 1), Buffer.from('\n'),
    jsonString(3 * max), Buffer.from('\r\n'),
    Buffer.from('"a' + 'é'.repeat(40) + '"\n'), // 2-byte characters; the 64-byte excerpt ends on a boundary
    Buffer.from('1\n'),
    jsonString(max + 5)
  ])
  t.deepEqual(await overlongDiffs(t, input, max, ['v', 'v', 'v', TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, 'v', TOO_LONG]), [])
})

test('over-long check on the first line ignores the stripped BOM whatever the chunking', async (t) => {
  // BOM + exactly maxLineBytes of content: the BOM is not part of the line, so it fits.
  const max = 16
  const input = Buffer.concat([UTF8_BOM, jsonString(max), Buffer.from('\n'), jsonString(max + 1), Buffer.from('\n1\n')])
  t.deepEqual(await overlongDiffs(t, input, max, ['v', TOO_LONG, 'v']), [])
})

test('slow consumer (backpressure) gives the same output, reports in order with the values', async (t) => {
  for (const seed of [31, 32]) {
    const input = genInput(seed, 400)
    const model = modelNdjson(input)
    for (const output of ['values', 'envelopes']) {
      const run = await runChunks(randomChunks(input, seed, 512), output, {}, { slow: true })
      t.is(modelDiff(run, model, output), null, `seed ${seed}, output ${output}`)
    }
  }
})
