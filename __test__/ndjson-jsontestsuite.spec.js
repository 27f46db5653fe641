'use strict'

// JSONTestSuite (nst/JSONTestSuite test_parsing/, data under shared/testdata/JSONTestSuite) run
// through the NDJSON parser: one file = one NDJSON line. Expectations come from the manifest's
// fields (expect, blank, bom, utf8Valid, v8StrictUtf8), see the folder's README.md:
// * accept (y_): exactly one value, equal to JSON.parse of the text (Object.is on numbers, key
//   order, -0 kept); a top-level null is NULL in 'values' output and null in 'envelopes'.
// * reject (n_): no value and exactly one invalid-line report for line 1.
// * either (i_): what V8 does after a *strict* UTF-8 decode (column v8StrictUtf8): sluice
//   rejects invalid UTF-8 instead of producing U+FFFD. The one documented difference: a UTF-8 BOM
//   at stream start is stripped (manifest bom: true), so such a case behaves like the file
//   without its BOM.
// * blank (e.g. n_structure_no_data, n_single_space): a blank NDJSON line, skipped and counted
//   by default, invalid with blankLines: 'error'.
// The five multi-line files (singleLine: false) are not used: split at LF they are several
// NDJSON lines, two of which even contain a valid middle line (`4`, `1`), so "one file = one
// record" does not hold for them.

const fs = require('node:fs')
const path = require('node:path')
const test = require('ava')
const { NdjsonParser, NULL, NdjsonError } = require('..')
const {
  UTF8_BOM, collect, expectedExcerpt, isBlankBytes, makeRng, randomChunks, sameValue, strictUtf8, twoChunkSplits
} = require('./helpers.js')

// The corpus lives in the project's shared/ folder beside the clone (CI has it there), or
// wherever SLUICE_JSONTESTSUITE points.
const SUITE = process.env.SLUICE_JSONTESTSUITE ?? path.join(__dirname, '..', '..', 'shared', 'testdata', 'JSONTestSuite')
const SMALL = 200 // files up to this size are split at every byte offset

let manifest = null
try {
  manifest = JSON.parse(fs.readFileSync(path.join(SUITE, 'manifest.json'), 'utf8'))
} catch (err) {
  // In CI (CI=true) a missing corpus is a failure; on a developer's clone without shared/ the
  // suite is reported as skipped, by name, rather than failing `npm test` for everyone.
  const check = process.env.CI ? test : test.skip
  check(`JSONTestSuite corpus is present (looked in ${SUITE}; set SLUICE_JSONTESTSUITE)`, (t) => {
    t.fail(`Cannot read ${path.join(SUITE, 'manifest.json')} (${err.code || err.message}). ` +
      'The JSONTestSuite data must be in shared/testdata/JSONTestSuite next to the repository clone ' +
      '(CI places shared/ beside it); these tests are not optional.')
  })
}

const LF = Buffer.from('\n')

/** Everything a case needs: its input (with a final LF), the line content and what to expect. */
function prepare (c) {
  const bytes = fs.readFileSync(path.join(SUITE, 'test_parsing', c.file))
  const input = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes : Buffer.concat([bytes, LF])
  const raw = input.subarray(0, input.length - 1)
  // At stream start sluice strips a UTF-8 BOM, so the line is the rest.
  const content = c.bom ? raw.subarray(UTF8_BOM.length) : raw
  // Offsets are stream positions: as line 1, the content starts after the BOM.
  const offset = c.bom ? UTF8_BOM.length : 0
  return { c, bytes, input, raw, content, offset, expected: expectationAtStart(c, bytes, content) }
}

/** { kind: 'value', value } | { kind: 'invalid', code } | { kind: 'blank' } for the case as line 1. */
function expectationAtStart (c, bytes, content) {
  // The manifest's `blank` is about the whole file; after the BOM is stripped the rest may be blank.
  const blank = c.bom ? isBlankBytes(content) : c.blank
  if (blank) return { kind: 'blank' }
  let verdict
  if (c.expect === 'accept' || c.expect === 'reject') verdict = c.expect
  else if (!c.bom) verdict = c.v8StrictUtf8
  else verdict = strictVerdict(content) // the documented BOM difference: judge the file without it
  if (verdict === 'reject') return { kind: 'invalid', code: c.utf8Valid ? 'ERR_SLUICE_INVALID_JSON' : 'ERR_SLUICE_INVALID_UTF8' }
  const value = c.expect === 'accept'
    ? JSON.parse(bytes.toString('utf8'))
    : JSON.parse(strictUtf8.decode(content))
  return { kind: 'value', value }
}

function strictVerdict (bytes) {
  try {
    JSON.parse(strictUtf8.decode(bytes))
    return 'accept'
  } catch {
    return 'reject'
  }
}

/** Checks one run of a single-line case; returns a list of problems (empty when all is right). */
function problems (prep, result, { output = 'values', label }) {
  const { expected, content, input, offset } = prep
  const out = []
  const fail = (msg) => out.push(`${label}: ${msg}`)
  if (result.error) fail(`stream failed: ${result.error.code} ${result.error.message}`)
  if (result.dataAfterClose) fail('data after close')
  if (expected.kind === 'value') {
    if (result.values.length !== 1) fail(`${result.values.length} values, expected 1`)
    if (result.invalid.length !== 0) fail(`unexpected invalid report ${JSON.stringify(result.invalid[0])}`)
    if (result.values.length === 1) {
      const got = result.values[0]
      let want
      if (output === 'values') want = expected.value === null ? NULL : expected.value
      else if (output === 'envelopes') want = { line: 1, offset, value: expected.value }
      else if (output === 'batches') want = [expected.value]
      else want = content
      const d = sameValue(got, want)
      if (d !== null) fail(`value differs: ${d}`)
    }
  } else if (expected.kind === 'invalid') {
    if (result.values.length !== 0) fail(`${result.values.length} values, expected none`)
    if (result.invalid.length !== 1) {
      fail(`${result.invalid.length} invalid reports, expected 1`)
    } else {
      const info = result.invalid[0]
      if (info.code !== expected.code) fail(`code ${info.code}, expected ${expected.code}`)
      if (info.line !== 1) fail(`line ${info.line}, expected 1`)
      if (info.offset !== offset) fail(`offset ${info.offset}, expected ${offset}`)
      if (typeof info.reason !== 'string' || info.reason.length === 0) fail('no reason')
      if (info.excerpt !== expectedExcerpt(content)) fail(`excerpt ${JSON.stringify(info.excerpt)}`)
    }
  } else {
    if (result.values.length !== 0 || result.invalid.length !== 0) fail('a blank line produced output')
    if (result.stats.blankLines !== 1) fail(`stats().blankLines ${result.stats.blankLines}, expected 1`)
  }
  const s = result.stats
  const wantStats = {
    lines: 1,
    bytes: input.length,
    values: expected.kind === 'value' ? 1 : 0,
    blankLines: expected.kind === 'blank' ? 1 : 0,
    invalidLines: expected.kind === 'invalid' ? 1 : 0,
    longestLine: content.length
  }
  const ds = sameValue(s, wantStats)
  if (ds !== null) fail(`stats ${JSON.stringify(s)} differ from ${JSON.stringify(wantStats)}: ${ds}`)
  return out
}

/** Two-chunk splits: every offset for small inputs, a seeded sample for big ones. */
function splitsFor (input, seed) {
  if (input.length <= SMALL) return twoChunkSplits(input)
  const rng = makeRng(seed)
  const at = new Set([0, 1, 2, input.length - 2, input.length - 1, input.length])
  while (at.size < 16) at.add(rng.int(input.length + 1))
  return [...at].map((k) => [input.subarray(0, k), input.subarray(k)])
}

function seedOf (name) {
  let h = 2166136261
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619)
  return h >>> 0
}

if (manifest !== null) {
  const cases = manifest.cases
  const usable = cases.filter((c) => c.singleLine)

  test('manifest: the corpus is complete and the multi-line files are the only ones left out', (t) => {
    t.is(cases.length, 318)
    const files = new Set(fs.readdirSync(path.join(SUITE, 'test_parsing')))
    for (const c of cases) t.true(files.has(c.file), `${c.file} is missing from test_parsing/`)
    // Left out: a file is not one NDJSON line if it has a CR, or an LF that is not its last byte.
    for (const c of cases) {
      const bytes = fs.readFileSync(path.join(SUITE, 'test_parsing', c.file))
      const lf = bytes.indexOf(0x0a)
      const oneLine = !bytes.includes(0x0d) && (lf === -1 || lf === bytes.length - 1)
      t.is(c.singleLine, oneLine, `${c.file}: manifest singleLine`)
    }
    t.is(cases.length - usable.length, 5)
  })

  for (const c of usable) {
    test(`${c.file}`, async (t) => {
      const prep = prepare(c)
      const seed = seedOf(c.file)
      const found = []
      const run = async (chunks, label, options = {}) => {
        const result = await collect(new NdjsonParser({ onInvalid: 'skip', ...options }), chunks)
        found.push(...problems(prep, result, { output: options.output, label }))
      }
      // One chunk, in every output mode.
      for (const output of ['values', 'batches', 'lines', 'envelopes']) {
        await run([prep.input], `one chunk, output ${output}`, { output })
      }
      // Two chunks, split at every byte offset (or a sample for big files).
      for (const [a, b] of splitsFor(prep.input, seed)) {
        await run([a, b], `split at ${a.length}`)
      }
      // Seeded random chunk sizes.
      for (let k = 0; k < 3; k++) {
        const maxSize = Math.max(4, Math.ceil(prep.input.length / 32))
        await run(randomChunks(prep.input, seed + k, maxSize), `random chunks (seed ${seed + k}, max ${maxSize})`)
      }
      t.deepEqual(found, [], 'every run gives the expected outcome')

      const { expected } = prep
      if (expected.kind === 'invalid' || (expected.kind === 'blank')) {
        // onInvalid 'error' (the default): the stream fails with the line's report.
        const options = expected.kind === 'blank' ? { blankLines: 'error' } : {}
        const result = await collect(new NdjsonParser(options), [prep.input])
        t.true(result.error instanceof NdjsonError, 'onInvalid error: the stream fails with an NdjsonError')
        t.is(result.error?.line, 1)
        t.is(result.error?.offset, prep.offset)
        t.is(result.error?.code, expected.kind === 'blank' ? 'ERR_SLUICE_BLANK_LINE' : expected.code)
        t.deepEqual(result.values, [])
      }
      if (expected.kind === 'blank') {
        // blankLines 'error' in skip mode: one invalid report, no value.
        const result = await collect(new NdjsonParser({ blankLines: 'error', onInvalid: 'skip' }), [prep.input])
        t.is(result.error, null)
        t.deepEqual(result.values, [])
        t.is(result.invalid.length, 1)
        t.is(result.invalid[0]?.code, 'ERR_SLUICE_BLANK_LINE')
        t.is(result.invalid[0]?.line, 1)
        t.is(result.stats.blankLines, 0)
        t.is(result.stats.invalidLines, 1)
      }
      if (expected.kind === 'value' && c.bom) {
        // Not at stream start, the BOM is part of the line: V8 (strict decode, BOM kept) decides.
        const result = await collect(new NdjsonParser({ onInvalid: 'skip' }), [Buffer.concat([Buffer.from('0\n'), prep.input])])
        t.is(result.values.length, c.v8StrictUtf8 === 'accept' ? 2 : 1, 'a BOM is only stripped at stream start')
      }
    })
  }

  /** Builds one stream from every usable case, one per line, some with CRLF terminators. */
  function concatenated () {
    const parts = []
    const expected = [] // in line order: { kind: 'value', value } | { kind: 'invalid', line, offset, code }
    const stats = { lines: 0, bytes: 0, values: 0, blankLines: 0, invalidLines: 0, longestLine: 0 }
    let offset = 0
    usable.forEach((c, i) => {
      const prep = prepare(c)
      const line = i + 1
      let want
      if (i === 0) {
        want = prep.expected
      } else if (c.bom) {
        // Mid-stream the BOM is kept, so V8 with a strict decode and the BOM kept decides
        // (the manifest's v8StrictUtf8 column is exactly that).
        want = c.v8StrictUtf8 === 'accept'
          ? { kind: 'value', value: JSON.parse(strictUtf8.decode(prep.raw)) }
          : { kind: 'invalid', code: c.utf8Valid ? 'ERR_SLUICE_INVALID_JSON' : 'ERR_SLUICE_INVALID_UTF8' }
      } else {
        want = prep.expected
      }
      const terminator = i % 3 === 1 ? '\r\n' : '\n'
      parts.push(prep.raw, Buffer.from(terminator))
      const contentLength = i === 0 ? prep.content.length : prep.raw.length
      stats.lines++
      stats.longestLine = Math.max(stats.longestLine, contentLength)
      if (want.kind === 'value') {
        stats.values++
        expected.push({ kind: 'value', value: want.value === null ? NULL : want.value, line })
      } else if (want.kind === 'invalid') {
        stats.invalidLines++
        expected.push({ kind: 'invalid', line, offset: i === 0 ? offset + prep.offset : offset, code: want.code, file: c.file })
      } else {
        stats.blankLines++
      }
      offset += prep.raw.length + terminator.length
    })
    stats.bytes = offset
    return { input: Buffer.concat(parts), expected, stats }
  }

  function checkConcatenated (t, { expected, stats }, result) {
    t.is(result.error, null, 'skip mode does not fail the stream')
    // 1. Every valid line's value arrives, in order.
    const wantValues = expected.filter((e) => e.kind === 'value')
    const gotValues = result.log.filter((e) => e.kind === 'value')
    t.is(gotValues.length, wantValues.length, 'one value per valid line')
    const valueProblems = []
    wantValues.forEach((want, i) => {
      const d = gotValues[i] ? sameValue(gotValues[i].value, want.value) : 'missing'
      if (d !== null) valueProblems.push(`value #${i} (line ${want.line}): ${d}`)
    })
    t.deepEqual(valueProblems, [], 'values in order')
    // 2. Every invalid line is reported once, with its line number, byte offset and code.
    const pick = (info) => ({ line: info.line, offset: info.offset, code: info.code })
    t.deepEqual(result.log.filter((e) => e.kind === 'invalid').map((e) => pick(e.info)),
      expected.filter((e) => e.kind === 'invalid').map(pick), 'invalid reports')
    // 3. Reports come in input order relative to the values ("in order relative to the values").
    const lineOf = (e) => (e.kind === 'invalid' ? e.info.line : null)
    const gotOrder = result.log.map((e) => (e.kind === 'invalid' ? `invalid@${lineOf(e)}` : 'value'))
    const wantOrder = expected.map((e) => (e.kind === 'invalid' ? `invalid@${e.line}` : 'value'))
    const firstDiff = wantOrder.findIndex((w, i) => gotOrder[i] !== w)
    t.is(firstDiff, -1, firstDiff === -1 ? '' : `interleaving differs from entry ${firstDiff}: got ${gotOrder.slice(firstDiff, firstDiff + 6).join(', ')}; expected ${wantOrder.slice(firstDiff, firstDiff + 6).join(', ')}`)
    t.deepEqual(result.stats, stats)
  }

  test('all single-line cases as one stream (LF and CRLF): values in order, invalid lines with their line and offset', async (t) => {
    const data = concatenated()
    t.true(data.expected.some((e) => e.kind === 'invalid') && data.expected.some((e) => e.kind === 'value'))
    checkConcatenated(t, data, await collect(new NdjsonParser({ onInvalid: 'skip' }), [data.input]))
  })

  test('all single-line cases as one stream, in seeded random chunks', async (t) => {
    const data = concatenated()
    for (const seed of [1, 2]) {
      checkConcatenated(t, data, await collect(new NdjsonParser({ onInvalid: 'skip' }), randomChunks(data.input, seed, 97)))
    }
  })

  test('all single-line cases as one stream, slow consumer (backpressure): same interleaving of values and invalid lines', async (t) => {
    const data = concatenated()
    checkConcatenated(t, data, await collect(new NdjsonParser({ onInvalid: 'skip' }), randomChunks(data.input, 3, 4096), { slow: true }))
  })
}
