'use strict'

// The parser's inline stage (lib/ndjson/inline.js): a little input is parsed on the JS thread and
// the native handle is created only when the stage hands over (bulk input, or a line it leaves
// to the native side to report). What users rely on: the hand-over is invisible (every output,
// report, line number, offset and counter as if the native parser had seen the whole stream), a
// writer may reuse its buffer once the write callback ran, a consumer that does not read still
// stops the producer, and a stream that never hands over costs no native resources at all.

const { Writable, getDefaultHighWaterMark } = require('node:stream')
const { pipeline } = require('node:stream/promises')
const test = require('ava')
const { NdjsonParser } = require('..')
const { NdjsonParseStream } = require('../lib/web.js')
const { INPUT_BYTES } = require('../lib/ndjson.js')
const { InlineParser, NativeInputWatch, inlineParsing } = require('../lib/ndjson/inline.js')
const { UTF8_BOM, collect, countingReturns, makeRng, runChild, sameValue } = require('./helpers.js')

/** A parser (or its Web face) made with inline parsing on or off (the constructor reads the switch). */
function parserWith (inline, options, Parser = NdjsonParser) {
  inlineParsing.enabled = inline
  try {
    return new Parser(options)
  } finally {
    inlineParsing.enabled = true
  }
}

/** Once `p` has stalled its producer: reads everything, ends it, and returns what came out. */
async function readAfterStall (p) {
  const drained = new Promise((resolve) => p.once('drain', resolve))
  const values = []
  p.on('data', (v) => values.push(v))
  await drained
  p.end()
  await new Promise((resolve) => p.on('end', resolve))
  return values
}

/** Runs `chunks` through a parser made with inline parsing on or off. */
async function runWith (inline, options, chunks) {
  const r = await collect(parserWith(inline, options), chunks.map((c) => Buffer.from(c)))
  return {
    // Batch boundaries depend on timing, not on the input: compared flattened.
    values: options.output === 'batches' ? r.values.flat() : r.values,
    invalid: r.invalid,
    error: r.error === null ? null : { code: r.error.code, message: r.error.message, line: r.error.line, offset: r.error.offset },
    stats: r.stats
  }
}

/** The same run with and without the inline stage: equal in every respect. */
async function sameBothWays (t, options, chunks, what) {
  const inline = await runWith(true, options, chunks)
  const native = await runWith(false, options, chunks)
  t.is(sameValue(inline.values, native.values), null, `${what}: values`)
  t.deepEqual(inline.invalid, native.invalid, `${what}: 'invalid' reports`)
  t.deepEqual(inline.error, native.error, `${what}: error`)
  if (inline.error === null) {
    t.deepEqual(inline.stats, native.stats, `${what}: stats()`)
  } else {
    // After a failure `bytes` is what each had taken when it stopped: the native parser reads a
    // big chunk in pieces, the inline stage takes it whole. Both cover the line that failed.
    const { bytes: inlineBytes, ...inlineRest } = inline.stats
    const { bytes: nativeBytes, ...nativeRest } = native.stats
    t.deepEqual(inlineRest, nativeRest, `${what}: stats()`)
    for (const bytes of [inlineBytes, nativeBytes]) t.true(bytes > inline.error.offset, `${what}: stats().bytes`)
  }
  return inline
}

const BULK = Buffer.from(Array.from({ length: 400 }, (_, i) => JSON.stringify({ i, s: 'hé' })).join('\n') + '\n')

// Each hands over for a different reason, at a different place.
const HAND_OVERS = {
  'an invalid line after values in the same chunk': ['1\n{"a":2}\n{bad\n3\n'],
  'an invalid line in a later chunk': ['1\n\n', '"x"\r\n', '[oops\n4\n'],
  'bulk input after small chunks': ['1\n{"a"', ':2}\n', BULK, '5\n'],
  'bulk input with an invalid line inside': ['1\n', Buffer.concat([BULK, Buffer.from('{bad\n'), BULK])],
  'a BOM at the start': [Buffer.concat([UTF8_BOM, Buffer.from('1\n2\n')])],
  'a BOM split across chunks': [UTF8_BOM.subarray(0, 1), Buffer.concat([UTF8_BOM.subarray(1), Buffer.from('1\n')])],
  'a BOM-like byte on line 2 (invalid there)': ['1\n', Buffer.concat([UTF8_BOM, Buffer.from('2\n')])],
  'invalid UTF-8': ['1\n', Buffer.from([0x22, 0xff, 0x22, 0x0a]), '3\n'],
  'invalid UTF-8 split across chunks': ['"a\xc3', Buffer.from([0x28, 0x22, 0x0a])],
  'a line over maxLineBytes': ['1\n"0123456789abcdef"\n2\n'],
  'an unfinished line over maxLineBytes': ['1\n"0123456789', 'abcdef', 'ghij"\n2\n'],
  'a blank line': ['1\n  \t\r\n2\n'],
  'an invalid last line without a newline': ['1\n2\n{bad'],
  'a last line of only \\r': ['1\n\r'],
  'an empty stream': [],
  'only newlines': ['\n\n\r\n']
}

for (const output of ['values', 'batches', 'lines', 'envelopes']) {
  for (const onInvalid of ['skip', 'error']) {
    test(`the hand-over to the native parser is invisible: output '${output}', onInvalid '${onInvalid}'`, async (t) => {
      for (const [what, chunks] of Object.entries(HAND_OVERS)) {
        await sameBothWays(t, { output, onInvalid, maxLineBytes: 16 }, chunks, what)
        await sameBothWays(t, { output, onInvalid, blankLines: 'error' }, chunks, `${what}, blankLines 'error'`)
      }
    })
  }
}

test('line numbers and offsets go on across the hand-over', async (t) => {
  const r = await sameBothWays(t, { output: 'envelopes', onInvalid: 'skip' }, ['1\n\n"é"\r\n', '{bad\n', '7\n'], 'envelopes')
  // Line 3 is `"é"` (4 bytes) and its CRLF; line 4 starts at byte 9.
  t.deepEqual(r.values.map(({ line, offset }) => [line, offset]), [[1, 0], [3, 3], [5, 14]])
  t.like(r.invalid[0], { line: 4, offset: 9 })
  t.like(r.stats, { lines: 5, bytes: 16, values: 3, blankLines: 1, invalidLines: 1, longestLine: 4 })
})

test('stats() while the stream is still inline counts what was parsed', async (t) => {
  const p = new NdjsonParser()
  p.write('1\n\n{"a":"bc"}\n{"x"')
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(p.stats(), { lines: 3, bytes: 18, values: 2, blankLines: 1, invalidLines: 0, longestLine: 10 })
  p.destroy()
  t.deepEqual(p.stats(), { lines: 3, bytes: 18, values: 2, blankLines: 1, invalidLines: 0, longestLine: 10 }, 'kept after destroy')
})

test('stats() reads as the native parser\'s at every turn, and never goes back, across the hand-over', async (t) => {
  // Small chunks only, so that the native-only parser also runs at each kick (inline), not on a
  // worker whose timing would differ; the hand-over comes from an invalid line.
  const steps = ['1\n{"a":', null, '1}\n"x', null, 'y"\n{bad\n2\n3', null, '\n4\n', null, '[5', 'destroy']
  const seen = { true: [], false: [] }
  for (const inline of [true, false]) {
    const p = parserWith(inline, { onInvalid: 'skip' })
    p.resume()
    p.on('invalid', () => {})
    let last = 0
    for (const step of steps) {
      if (step === null) await turns(1)
      else if (step === 'destroy') p.destroy()
      else p.write(step)
      const stats = p.stats()
      t.true(stats.bytes >= last, `bytes went back from ${last} to ${stats.bytes} after ${JSON.stringify(step)}`)
      t.true(stats.values <= stats.lines)
      last = stats.bytes
      // Within the turn of a write the two may differ (the hand-over publishes the lines it
      // parsed in that write at once); at turn boundaries and after destroy they must not.
      if (step === null || step === 'destroy') seen[inline].push(stats)
    }
  }
  t.deepEqual(seen.true, seen.false)
})

test('a writer may reuse its buffer once the write callback ran', async (t) => {
  for (const output of ['values', 'lines']) {
    const p = new NdjsonParser({ output })
    const got = []
    p.on('data', (v) => got.push(output === 'lines' ? v.toString() : v))
    const buf = Buffer.alloc(12)
    // A whole line and the start of the next one, then the rest of it, through the same buffer.
    for (const text of ['{"a":1}\n{"b"', ':2}\n"xyz"\n']) {
      buf.fill(0)
      const n = buf.write(text)
      await new Promise((resolve) => p.write(buf.subarray(0, n), resolve))
      buf.fill('?'.charCodeAt(0))
    }
    p.end()
    await new Promise((resolve) => p.on('end', resolve))
    t.deepEqual(got, output === 'lines' ? ['{"a":1}', '{"b":2}', '"xyz"'] : [{ a: 1 }, { b: 2 }, 'xyz'], output)
  }
})

/** Turns of the event loop, for a state that no event announces (a producer that stays stalled). */
async function turns (n) {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

test('a consumer that does not read stops the producer, line by line as in bulk', async (t) => {
  const p = new NdjsonParser()
  const line = JSON.stringify({ pad: 'x'.repeat(80) }) + '\n' // 92 bytes: every write stays inline
  let written = 0
  let full = false
  // Writes a line per turn while write() says there is room, as a well-behaved producer does.
  for (let i = 0; i < 5000 && !full; i++) {
    full = !p.write(line)
    written++
    await turns(1)
  }
  t.true(full, 'write() returned false')
  await turns(20)
  const acknowledged = p.stats().lines
  // Held: the readable buffer (its highWaterMark in values), one kick's worth of input (4 KiB)
  // in the queue, and core's writable buffer behind the held write.
  const bound = getDefaultHighWaterMark(true) + Math.ceil(4096 / line.length) + Math.ceil(getDefaultHighWaterMark(false) / line.length) + 2
  t.true(written <= bound, `${written} lines written before write() returned false (bound ${bound})`)
  t.true(acknowledged <= written)
  // Reading resumes it, and everything arrives, in order.
  const values = await readAfterStall(p)
  t.is(values.length, written)
})

test('parsers that only see a little input never start the native runtime', async (t) => {
  // In a fresh process: after 1,000 short-lived parsers (and one with an invalid line, which
  // is handed over) the pool can still be sized, so none of the others made a native handle.
  const script = `
    const { NdjsonParser, configure } = require(${JSON.stringify(require.resolve('..'))})
    ;(async () => {
      for (let i = 0; i < 1000; i++) {
        const p = new NdjsonParser()
        p.end('{"i":' + i + '}\\n')
        for await (const v of p) if (v.i !== i) throw new Error('wrong value')
      }
      const { workers } = configure()
      configure({ workers: workers + 1 }) // throws once a stream has started the pool
      const bad = new NdjsonParser({ onInvalid: 'skip' })
      bad.end('1\\n{bad\\n')
      for await (const v of bad) void v
      let refused = false
      try { configure({ workers: workers + 2 }) } catch (err) { refused = err.code === 'ERR_SLUICE_RUNTIME_STARTED' }
      console.log(JSON.stringify({ refused }))
    })()
  `
  const r = await runChild(['-e', script])
  t.is(r.status, 0, r.stderr)
  t.deepEqual(JSON.parse(r.stdout), { refused: true })
})

// Text mode: bulk input of plain-string records (few numbers or escaped/non-ASCII strings per
// byte, as in GitHub API payloads) stays on the JS thread instead of going native. The same
// promise: every output, report, line number, offset and counter as the native parser's.

/** Plain-string records, ~280 bytes each, with a non-ASCII string in every 7th (3 bytes in 2 units, 4 in 2). */
function textRecords (count, seed = 1) {
  const random = makeRng(seed)
  const lines = []
  for (let i = 0; i < count; i++) {
    const record = {
      node_id: `MDQ6VXNlcj${random.int(1e9)}`,
      login: `user-${random.int(1e6)}`,
      url: `https://api.github.com/users/${random.int(1e6)}/repos?page=${'x'.repeat(random.int(40))}`,
      description: 'A plain ASCII description of a repository, long enough to look like the real thing',
      type: random.int(2) === 0 ? 'User' : 'Organization',
      site_admin: random.int(2) === 0
    }
    if (i % 7 === 3) record.note = `café ✓ 😀 ${i}`
    lines.push(JSON.stringify(record))
  }
  return lines
}

const TEXT_LINES = textRecords(400)
const TEXT = Buffer.from(TEXT_LINES.join('\n') + '\n')
const at = (n) => Buffer.from(TEXT_LINES.slice(0, n).join('\n') + '\n')
const from = (n) => Buffer.from(TEXT_LINES.slice(n).join('\n') + '\n')

/** `buffer` cut every `size` bytes (so also inside multi-byte characters). */
function cut (buffer, size) {
  const chunks = []
  for (let i = 0; i < buffer.length; i += size) chunks.push(buffer.subarray(i, i + size))
  return chunks
}

// Bulk text, each with something the text mode must leave to the native side, or get right.
const TEXT_CASES = {
  'plain-string records': [TEXT],
  'an invalid line in the middle': [Buffer.concat([at(200), Buffer.from('{"a":\n'), from(200)])],
  'blank and CRLF lines': [Buffer.concat([at(100), Buffer.from('\n  \t\r\n'), Buffer.from(TEXT_LINES.slice(100).join('\r\n') + '\r\n')])],
  'invalid UTF-8 in the middle': [Buffer.concat([at(150), Buffer.from([0x22, 0xc3, 0x28, 0x22, 0x0a]), from(150)])],
  'an over-long line in the middle': [Buffer.concat([at(120), Buffer.from(JSON.stringify('y'.repeat(3000)) + '\n'), from(120)])],
  'an unfinished over-long last line': [Buffer.concat([TEXT, Buffer.from('"' + 'z'.repeat(3000))])],
  'a last line without a newline': [TEXT.subarray(0, TEXT.length - 1)],
  'an invalid last line without a newline': [Buffer.concat([TEXT, Buffer.from('{bad')])],
  'a BOM at the start': [Buffer.concat([UTF8_BOM, TEXT])],
  'small writes, then bulk': [Buffer.from('1\n"a"\n'), TEXT]
}

/**
 * Records what the inline stage's `method` (chooseTextMode, keepTextMode…) answered during `run`,
 * or, with `record`, what that makes of each call's answer and arguments.
 */
async function watchingInline (method, run, record = (answer) => answer) {
  const original = InlineParser.prototype[method]
  const answers = []
  InlineParser.prototype[method] = function (...args) {
    const answer = original.apply(this, args)
    answers.push(record(answer, ...args))
    return answer
  }
  try {
    return { result: await run(), answers }
  } finally {
    InlineParser.prototype[method] = original
  }
}

/** Records which chunks made the inline stage choose text mode, during `run`. */
async function watchingTextMode (run) {
  const { result, answers } = await watchingInline('chooseTextMode', run)
  return { result, chosen: answers }
}

for (const output of ['values', 'batches', 'lines', 'envelopes']) {
  test.serial(`text mode is invisible: output '${output}', bulk plain-string records in any chunking`, async (t) => {
    let textModeRuns = 0
    for (const [what, [first, ...more]] of Object.entries(TEXT_CASES)) {
      const whole = Buffer.concat([first, ...more])
      for (const size of [whole.length, 65536, 4097, 5003]) {
        const chunks = more.length > 0 ? [first, ...cut(Buffer.concat(more), size)] : cut(first, size)
        for (const options of [{ onInvalid: 'skip', maxLineBytes: 2048 }, { onInvalid: 'error', blankLines: 'error', maxLineBytes: 2048 }]) {
          const { chosen } = await watchingTextMode(() => sameBothWays(t, { output, ...options }, chunks, `${what}, ${size}-byte chunks, ${JSON.stringify(options)}`))
          if (chosen.includes(true)) textModeRuns++
        }
      }
    }
    // 'lines' never uses text mode (the native side frames lines faster); the others do here,
    // except where a BOM sends the stream native before any line.
    if (output === 'lines') t.is(textModeRuns, 0)
    else t.true(textModeRuns >= 60, `text mode in ${textModeRuns} runs`)
  })
}

// Text with many non-ASCII characters (as in tweets: mostly Japanese) is parsed in text mode too,
// each chunk's lines decoded together by simdutf into one string (`wideText`), its lines slices of
// it: line ends are found in the bytes and in that string, which count differently (a character
// of 2 or 3 bytes is one unit, one of 4 bytes two).

/** Records of Japanese text and emoji, ~300 bytes each, a few of plain ASCII among them. */
function wideRecords (count, seed = 2) {
  const random = makeRng(seed)
  const words = ['日本語の文章', 'こんにちは', '東京', '😀', 'é', '𝄞', 'ü', '✓', '語']
  const lines = []
  for (let i = 0; i < count; i++) {
    const text = Array.from({ length: 8 + random.int(24) }, () => words[random.int(words.length)]).join(' ')
    lines.push(JSON.stringify(i % 11 === 5 ? { id: i, plain: 'ascii only here' } : { id: i, user: `ユーザー${random.int(1000)}`, text, lang: 'ja', url: `https://example.com/status/${'x'.repeat(random.int(80))}` }))
  }
  return lines
}

const WIDE_LINES = wideRecords(600)
const WIDE = Buffer.from(WIDE_LINES.join('\n') + '\n')
const wideAt = (n) => Buffer.from(WIDE_LINES.slice(0, n).join('\n') + '\n')
const wideFrom = (n) => Buffer.from(WIDE_LINES.slice(n).join('\n') + '\n')

const WIDE_CASES = {
  'non-ASCII records': [WIDE],
  'an invalid line in the middle': [Buffer.concat([wideAt(300), Buffer.from('{"語":\n'), wideFrom(300)])],
  'blank and CRLF lines': [Buffer.concat([wideAt(100), Buffer.from('\n  \t\r\n'), Buffer.from(WIDE_LINES.slice(100).join('\r\n') + '\r\n')])],
  'invalid UTF-8 in the middle': [Buffer.concat([wideAt(250), Buffer.from([0x22, 0xe6, 0x97, 0x22, 0x0a]), wideFrom(250)])],
  'an encoded surrogate in the middle': [Buffer.concat([wideAt(250), Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22, 0x0a]), wideFrom(250)])],
  'an over-long line in the middle': [Buffer.concat([wideAt(120), Buffer.from(JSON.stringify('語'.repeat(1000)) + '\n'), wideFrom(120)])],
  'a last line without a newline': [WIDE.subarray(0, WIDE.length - 1)],
  'a last line ending in CR': [Buffer.concat([WIDE.subarray(0, WIDE.length - 1), Buffer.from('\r')])],
  'an invalid last line without a newline': [Buffer.concat([WIDE, Buffer.from('{"東京')])],
  'a BOM at the start': [Buffer.concat([UTF8_BOM, WIDE])]
}

/** Records where the inline stage was told bulk input goes (`setTextMode`: 0 native, 1 text, 2 wide text), during `run`. */
async function watchingModes (run) {
  const { result, answers } = await watchingInline('setTextMode', run, (_, mode) => mode)
  return { result, modes: answers }
}

for (const output of ['values', 'batches', 'envelopes']) {
  test.serial(`text mode is invisible on non-ASCII text decoded a chunk at a time: output '${output}', in any chunking`, async (t) => {
    let wideRuns = 0
    for (const [what, [input]] of Object.entries(WIDE_CASES)) {
      // Cut anywhere, inside 2-, 3- and 4-byte characters too.
      for (const size of [input.length, 65536, 4097, 5003]) {
        for (const options of [{ onInvalid: 'skip', maxLineBytes: 2048 }, { onInvalid: 'error', blankLines: 'error', maxLineBytes: 2048 }]) {
          const { modes } = await watchingModes(() => sameBothWays(t, { output, ...options }, cut(input, size), `${what}, ${size}-byte chunks, ${JSON.stringify(options)}`))
          if (modes.includes(2)) wideRuns++
        }
      }
    }
    // Every run chose it (with a BOM too, which then sends the stream native before any line).
    t.is(wideRuns, 2 * 4 * Object.keys(WIDE_CASES).length)
  })
}

test('the chunk decoder gives what Buffer#toString gives for valid UTF-8, and null for anything else', (t) => {
  // Held to Node's own decoder directly: in the stream a wrong answer would only send the rest of
  // the stream native, where it is parsed correctly but slower.
  const { isUtf8 } = require('node:buffer')
  const native = require('../lib/native.js')
  const random = makeRng(3)
  const pieces = ['a', '\n', 'é', '語', '😀', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff', '\u{10000}', '\u{10ffff}']
  let invalid = 0
  for (let i = 0; i < 3000; i++) {
    const text = Array.from({ length: random.int(300) }, () => random.pick(pieces)).join('')
    const bytes = Buffer.from(text)
    // One byte in three changed: every way UTF-8 goes wrong (cut, overlong, surrogate, too big).
    if (i % 3 === 0 && bytes.length > 0) bytes[random.int(bytes.length)] = random.int(256)
    const decoded = native.ndjsonDecodeUtf8(bytes)
    if (isUtf8(bytes)) {
      t.is(decoded, bytes.toString('utf8'))
    } else {
      invalid++
      t.is(decoded, null)
    }
  }
  t.true(invalid > 500, `${invalid} invalid inputs`)
  t.is(native.ndjsonDecodeUtf8(Buffer.alloc(0)), '')
})

test.serial('non-ASCII text decoded a chunk at a time keeps line numbers, byte offsets and values exact', async (t) => {
  // Checked against the bytes themselves, not only against the native parser.
  const input = Buffer.concat([WIDE, Buffer.from('\r\n'), Buffer.from(WIDE_LINES.slice(0, 50).join('\r\n') + '\r\n')])
  // Parsed here to the end: a line the stage got wrong would go native (to be reported) instead,
  // taking the stage's `remainder()`.
  const { result: { result, modes }, answers: handOvers } = await watchingInline('remainder', () =>
    watchingModes(() => collect(new NdjsonParser({ output: 'envelopes' }), cut(input, 4099))))
  const handedOver = handOvers.length
  t.deepEqual(modes, [2])
  t.is(handedOver, 0)
  t.is(result.error, null)
  const expected = []
  let offset = 0
  input.toString('latin1').split('\n').slice(0, -1).forEach((latin1, i) => {
    const line = Buffer.from(latin1, 'latin1').toString('utf8').replace(/\r$/, '')
    if (line !== '') expected.push({ line: i + 1, offset, value: JSON.parse(line) })
    offset += latin1.length + 1
  })
  t.is(sameValue(result.values, expected), null)
})

test.serial('text mode keeps line numbers and byte offsets through multi-byte characters and CRLF', async (t) => {
  // Little enough non-ASCII text for text mode (a few bytes in ~1000), each line with some.
  const lines = [`{"a":"${'plain text '.repeat(100)}é"}`, `{"b":"${'more words '.repeat(80)}😀😀"}`, '', `{"c":"x${'z'.repeat(1000)}✓"}\r`, `"✓${'y'.repeat(800)}"`]
  const body = Buffer.from(Array.from({ length: 60 }, (_, i) => lines[i % lines.length]).join('\n') + '\n')
  const input = Buffer.concat([body, body, body, body, body, body, body, body]) // past the 4 KiB of inline input
  const { result, chosen } = await watchingTextMode(() => sameBothWays(t, { output: 'envelopes', onInvalid: 'skip' }, cut(input, 4099), 'envelopes'))
  t.deepEqual(chosen, [true])
  // Recomputed from the bytes: each value's line number and the byte offset where its line starts.
  const expected = []
  let offset = 0
  input.toString('latin1').split('\n').slice(0, -1).forEach((latin1, i) => {
    if (latin1.trim() !== '') expected.push([i + 1, offset])
    offset += latin1.length + 1
  })
  t.deepEqual(result.values.map(({ line, offset }) => [line, offset]), expected)
})

test.serial('text mode is chosen for plain-string records and non-ASCII text: number-heavy bulk goes native', async (t) => {
  const numbers = Buffer.from(Array.from({ length: 2000 }, (_, i) => JSON.stringify({ i, xy: [i * 1.5, -i / 3], n: [1, 2, 3] })).join('\n') + '\n')
  const escaped = Buffer.from(Array.from({ length: 2000 }, (_, i) => JSON.stringify({ s: `é${i}`, t: 'a\nb' })).join('\n') + '\n')
  for (const [what, input, textMode] of [['plain strings', TEXT, true], ['non-ASCII text', WIDE, true], ['numbers', numbers, false], ['escaped and non-ASCII strings', escaped, false]]) {
    const { result, chosen } = await watchingTextMode(() => collect(new NdjsonParser(), cut(input, 65536)))
    t.deepEqual(chosen, [textMode], what)
    t.is(result.error, null)
    t.is(result.values.length, input.toString().split('\n').length - 1, what)
  }
  // No text mode with a filter, a reviver (native from the start) or for 'lines' output.
  for (const options of [{ where: '.login != ""' }, { reviver: (k, v) => v }, { output: 'lines' }]) {
    const { chosen } = await watchingTextMode(() => collect(new NdjsonParser(options), cut(TEXT, 65536)))
    t.true(!chosen.includes(true), JSON.stringify(Object.keys(options)))
  }
})

test.serial('a text-mode stream whose records turn number-heavy goes native for the rest, invisibly', async (t) => {
  // Plain strings past the first re-check (every 4 MiB), then coordinates past the second.
  const plain = Buffer.concat(Array.from({ length: Math.ceil(5e6 / TEXT.length) }, () => TEXT))
  const numbers = Buffer.from(Array.from({ length: 100000 }, (_, i) => JSON.stringify({ i, xy: [i * 1.5, -i / 3] })).join('\n') + '\n')
  const input = Buffer.concat([plain, numbers])
  const { result: { chosen }, answers: kept } = await watchingInline('keepTextMode', () =>
    watchingTextMode(() => sameBothWays(t, { output: 'envelopes', onInvalid: 'skip' }, cut(input, 65536), 'plain, then numbers')))
  t.deepEqual(chosen, [true])
  // Still plain at 4 MiB (4.2 MB); number-heavy at 8 MiB (8.4 MB: the numbers start at 5 MB),
  // where the stream goes native, so there is no third check.
  t.deepEqual(kept, [true, false])
})

test.serial('a text-mode re-check gathers whole lines over small writes: records that turn number-heavy still go native', async (t) => {
  // ~1000-byte writes, each with less than the 1 KiB a re-check reads (found by the review
  // helper: with writes that small the check never ran). Records of short integers are plain.
  const plain = Buffer.from(Array.from({ length: 68000 }, (_, i) => JSON.stringify({ id: i, port: i % 65536, host: `10.0.${i % 256}.1`, proto: 'tcp' })).join('\n') + '\n')
  const numbers = Buffer.from(Array.from({ length: 20000 }, (_, i) => JSON.stringify({ i, xy: [i * 1.5, -i / 3] })).join('\n') + '\n')
  t.true(plain.length < 4 * 1024 * 1024 - 2048 && plain.length + numbers.length > 4 * 1024 * 1024 + 2048)
  const { result: { chosen }, answers: kept } = await watchingInline('keepTextMode', () =>
    watchingTextMode(() => sameBothWays(t, { output: 'values', onInvalid: 'skip' }, cut(Buffer.concat([plain, numbers]), 1000), 'small writes')))
  t.deepEqual(chosen, [true])
  // The check waits (true) until it has 1 KiB of whole lines, then finds them number-heavy.
  t.is(kept[kept.length - 1], false, `re-checks: ${kept}`)
  t.true(kept.length <= 3, `re-checks: ${kept}`)
})

test.serial('a text-mode re-check gathers a line over writes shorter than it: records that turn number-heavy still go native', async (t) => {
  // 1,000-byte writes of ~2.9 KB records (found by helper-107: no write held a whole line, so the
  // re-check never decided and the stream stayed in text mode on coordinates).
  const plain = Buffer.from(Array.from({ length: 1450 }, (_, i) => JSON.stringify({ id: `r${i}`, url: `https://example.com/${'path/'.repeat(560)}${i}` })).join('\n') + '\n')
  const numbers = Buffer.from(Array.from({ length: 300 }, (_, i) => JSON.stringify({ i, ring: Array.from({ length: 120 }, (_, k) => [k * 1.25 + i / 7, -k / 3]) })).join('\n') + '\n')
  t.true(plain.length < 4 * 1024 * 1024 - 4096 && plain.length + numbers.length > 4 * 1024 * 1024 + 8192)
  t.true(plain.indexOf(10) > 2000 && numbers.indexOf(10) > 2000)
  const { result: { chosen }, answers: kept } = await watchingInline('keepTextMode', () =>
    // A first write of 64 KiB, with line starts to choose text mode by (a first bulk write inside
    // one line starts native: README, Limits), then 1,000-byte writes.
    watchingTextMode(() => sameBothWays(t, { output: 'envelopes', onInvalid: 'skip' }, [plain.subarray(0, 65536), ...cut(Buffer.concat([plain.subarray(65536), numbers]), 1000)], 'writes shorter than lines')))
  t.deepEqual(chosen, [true])
  // The check waits (true) while it gathers a line, three writes or so, then finds it
  // number-heavy (without the gathering: over a thousand checks, none of them deciding).
  t.is(kept[kept.length - 1], false, `re-checks: ${kept.length}`)
  t.true(kept.length <= 10, `re-checks: ${kept.length}`)
})

test.serial('a text-mode re-check that falls inside a line longer than a chunk waits for the next line start', async (t) => {
  // A catalog record of emoji URLs (GitHub's /emojis) spans the 4 MiB check: read from inside it,
  // the scan would take the strings for the space between values and their digits for numbers.
  const emoji = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`e${i}`, `https://github.githubassets.com/images/icons/emoji/unicode/1f${600 + i}.png?v8`]))
  const long = Buffer.from(JSON.stringify(emoji) + '\n')
  const before = Buffer.concat(Array.from({ length: Math.floor(4.05e6 / TEXT.length) }, () => TEXT))
  t.true(before.length < 4 * 1024 * 1024 - 65536 && before.length + long.length > 4 * 1024 * 1024 + 2 * 65536)
  const input = Buffer.concat([before, long, TEXT, TEXT])
  const { result: { chosen }, answers: kept } = await watchingInline('keepTextMode', () =>
    watchingTextMode(() => sameBothWays(t, { output: 'values', onInvalid: 'skip' }, cut(input, 65536), 'a long line at the check')))
  t.deepEqual(chosen, [true])
  t.true(kept.length > 1 && kept.every((keep) => keep === true), `re-checks: ${kept}`)
})

test.serial('a text-mode re-check that falls on the end of a long line waits for the next line start', async (t) => {
  // One ~110 KB plain-string record per write (found by the review helper): each write is taken
  // in 64 KiB pieces, the last of which ends with the record's newline, so a check that falls on
  // it has nothing after a line start to read.
  const record = (i) => JSON.stringify({ name: `emoji${i}`, url: `https://github.githubassets.com/${'abcdef/'.repeat(15715)}` })
  const writes = Array.from({ length: 50 }, (_, i) => Buffer.from(record(i) + '\n'))
  const { result: { chosen }, answers: kept } = await watchingInline('keepTextMode', () =>
    watchingTextMode(() => sameBothWays(t, { output: 'values', onInvalid: 'skip' }, writes, 'a long line per write')))
  t.deepEqual(chosen, [true])
  t.true(kept.length > 0 && kept.every((keep) => keep === true), `re-checks: ${kept}`)
})

// The other way: a native stream whose records turn to plain strings is taken back by the JS
// stage in text mode (the native side was 0.7–0.9× a plain JS parser there), at a line start
// found once per MiB of native input. The same promise: nothing of it shows in the output.

/** Number-heavy records (decimals), ~40 bytes each, as text with a newline after each. */
function numberRecords (bytes, seed) {
  const lines = []
  let length = 0
  for (let i = 0; length < bytes; i++) {
    const line = JSON.stringify({ i, xy: [i * 1.5 + seed, -i / 3] })
    lines.push(line)
    length += line.length + 1
  }
  return Buffer.from(lines.join('\n') + '\n')
}

/** `TEXT` repeated to at least `bytes`. */
const plainRecords = (bytes) => Buffer.concat(Array.from({ length: Math.ceil(bytes / TEXT.length) }, () => TEXT))

// Numbers (native), plain strings (taken back at the first check inside them), numbers again
// (native from the text mode's 4 MiB re-check), plain strings (taken back again); invalid, blank
// and CRLF lines in each stretch but the first plain one (where an invalid line would hand the
// stream over to the native side before the re-check: tested below).
const TURNING = Buffer.concat([
  numberRecords(1.5e6, 0.25),
  Buffer.from('{"bad":\n\n  \r\n'),
  plainRecords(4.2e6),
  numberRecords(1e6, 0.5),
  Buffer.from('[1,2\n'),
  numberRecords(1e6, 0.75),
  Buffer.from(TEXT_LINES.slice(0, 50).join('\r\n') + '\r\n'),
  Buffer.from('tru\n'),
  plainRecords(1.5e6)
])

for (const [output, size] of [['values', 65536], ['envelopes', 65536], ['batches', 10007]]) {
  test.serial(`a native stream whose records turn to plain strings goes back to text mode, invisibly: output '${output}', ${size}-byte writes`, async (t) => {
    const { result: { answers: kept }, returns } = await countingReturns(() =>
      watchingInline('keepTextMode', () => sameBothWays(t, { output, onInvalid: 'skip' }, cut(TURNING, size), 'numbers, plain, numbers, plain')))
    // Back at 2 MiB (the first check inside the plain strings, which start at 1.5 MB); the text
    // mode's re-check 4 MiB later (6.3 MB) finds the numbers of 5.7–7.7 MB, and the native
    // checks take the stream back at the second MiB after that (8.4 MB).
    t.is(returns, 2)
    t.true(kept.includes(false), `re-checks: ${kept}`)
  })
}

test.serial('maxInvalid counts the invalid lines of every stretch, native and text mode', async (t) => {
  // Two invalid lines while native, one in text mode (which hands the stream over to the native
  // side, which takes it back a MiB later), the fourth after the stream went native again for its
  // numbers: one too many for maxInvalid 3, at the same line as on the native parser alone.
  const input = Buffer.concat([
    numberRecords(1e6, 0.25), Buffer.from('{\n'), numberRecords(2e5, 1), Buffer.from('[\n'),
    plainRecords(3e6), Buffer.from('nul\n'), plainRecords(1.5e6),
    numberRecords(3e6, 0.5), Buffer.from('"\n'), numberRecords(1e5, 2)
  ])
  const { result, returns } = await countingReturns(() => sameBothWays(t, { onInvalid: 'skip', maxInvalid: 3 }, cut(input, 65536), 'four invalid lines'))
  t.is(returns, 2)
  t.is(result.invalid.length, 4)
  t.is(result.error?.code, 'ERR_SLUICE_TOO_MANY_INVALID')
})

test.serial('a stream taken back by the JS stage keeps every value in a Web face too', async (t) => {
  const input = Buffer.concat([numberRecords(1.5e6, 0.25), plainRecords(1.5e6)])
  const expected = input.toString().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line))
  const { result: values, returns } = await countingReturns(async () => {
    const web = new NdjsonParseStream()
    const writing = (async () => {
      const writer = web.writable.getWriter()
      for (const chunk of cut(input, 65536)) await writer.write(chunk)
      await writer.close()
    })()
    const values = []
    for await (const value of web.readable) values.push(value)
    await writing
    return values
  })
  t.is(returns, 1)
  t.is(sameValue(values, expected), null)
})

test.serial('a stream handed over inside a large write is not taken back inside that same write (offsets and bytes stay exact)', async (t) => {
  // Found by helper-120: one large write of plain strings with an invalid line (or a BOM) near its
  // start. The JS stage had counted its whole 64 KiB piece and handed over at that line; the
  // native watch saw plain strings after it and ended the new handle inside the same write, whose
  // final `bytes` then included what it had never been given: every later offset, and `bytes`,
  // were ~64 KiB too far on.
  const plain = plainRecords(3.8e6)
  const cases = {
    'an invalid line near the start': Buffer.concat([at(10), Buffer.from('{bad json\n'), plain]),
    'a BOM': Buffer.concat([UTF8_BOM, plainRecords(2.1e6)])
  }
  for (const [what, input] of Object.entries(cases)) {
    const { returns } = await countingReturns(() => sameBothWays(t, { output: 'envelopes', onInvalid: 'skip' }, [input], what))
    // Taken back at a later write, or not at all in a stream of one write: either way exact.
    t.is(returns, 0, what)
  }
  // Written in 1 MiB pieces, the stream is taken back a write later, exactly.
  const { returns } = await countingReturns(() => sameBothWays(t, { output: 'envelopes', onInvalid: 'skip' }, cut(cases['an invalid line near the start'], 1 << 20), '1 MiB writes'))
  t.is(returns, 1)
})

/**
 * A parser that goes back to its JS stage, in text mode, at the first newline of its second
 * native write, whatever the records (the parser's own NativeInputWatch told the answer).
 */
function parserGoingBack (t) {
  const p = new NdjsonParser({ output: 'envelopes' })
  const watch = p[Object.getOwnPropertySymbols(p).find((symbol) => symbol.description === 'kWatch')]
  t.true(watch instanceof NativeInputWatch)
  let writes = 0
  p._jsStageBoundary = function (chunk) {
    writes++
    if (writes !== 2) return -1
    this._jsStageBoundary = () => -1
    watch.mode = 1 // text (src/ndjson/shape.rs TextMode)
    return chunk.indexOf(10) + 1
  }
  return p
}

for (const wait of [0, 1, 3]) {
  test.serial(`destroy() ${wait} turns into the native side's finish before the JS stage takes over answers the held write, and nothing comes after close`, async (t) => {
    const input = numberRecords(3e5, 0.25)
    const p = parserGoingBack(t)
    const events = []
    p.on('data', () => events.push('data'))
    p.on('close', () => events.push('close'))
    p.on('error', (err) => events.push(`error ${err.code}`))
    const answered = []
    p.write(input.subarray(0, 100000), () => answered.push(1))
    await new Promise((resolve) => p.write(input.subarray(100000, 200000), () => resolve(answered.push(2))))
    // The third write is the native stream's second (the first, which handed over, went to the
    // handle whole): its head is written, the native input ended, and the write held until the
    // native side is done.
    p.write(input.subarray(200000), (err) => answered.push(err ? `3 ${err.code}` : 3))
    await turns(wait)
    p.destroy()
    await new Promise((resolve) => p.once('close', resolve))
    await turns(20)
    t.deepEqual(answered.slice(0, 2), [1, 2])
    t.is(answered.length, 3, `write callbacks: ${answered}`)
    t.is(events.filter((e) => e === 'close').length, 1)
    t.is(events.at(-1), 'close', events.slice(-3).join())
  })
}

test.serial('a forced return at a line start mid-stream loses nothing: every value, line and offset', async (t) => {
  const input = Buffer.concat([numberRecords(3e5, 0.25), Buffer.from('\r\n  \n'), at(300)])
  const p = parserGoingBack(t)
  const { result: { values, error }, answers } = await watchingInline('takesBulk', () => collect(p, cut(input, 100003)))
  t.is(error, null)
  // The rest of the input was taken in text mode.
  t.true(answers.includes(true))
  let offset = 0
  const expected = []
  input.toString('latin1').split('\n').forEach((line, i, all) => {
    if (i < all.length - 1 && line.trim() !== '') expected.push({ line: i + 1, offset, value: JSON.parse(Buffer.from(line, 'latin1').toString()) })
    offset += line.length + 1
  })
  t.is(sameValue(values, expected), null)
})

test.serial('in text mode a write is parsed after the process.nextTick callbacks of its turn (where a file source asks for its next read)', async (t) => {
  // Core's Readable asks for its next chunk from process.nextTick once a 'data' handler (a
  // pipe's write) has returned. Parsed inside the write, a file's next read waited for the whole
  // chunk's JSON.parse; taken in the kick (a promise job, after the ticks), the read runs while
  // the chunk is parsed: 1.1–1.4× the MB/s from a file.
  const p = new NdjsonParser()
  const values = []
  p.on('data', (v) => values.push(v))
  const chunks = cut(Buffer.concat([TEXT, TEXT, TEXT]), 65536)
  const { answers: chosen } = await watchingInline('chooseTextMode', async () => {
    p.write(chunks[0])
    await turns(2)
  })
  t.deepEqual(chosen, [true])
  const order = []
  const { answers: taken } = await watchingInline('take', async () => {
    for (const chunk of chunks.slice(1)) {
      // From a callback of the event loop, as a file's data comes (in a promise job, the kick's
      // promise job would run before any tick).
      await new Promise((resolve) => setImmediate(() => {
        p.write(chunk)
        process.nextTick(() => order.push('tick'))
        resolve()
      }))
      await turns(1)
    }
  }, () => order.push('take'))
  t.is(taken.length, chunks.length - 1)
  t.deepEqual(order, chunks.slice(1).flatMap(() => ['tick', 'take']))
  p.end()
  await new Promise((resolve) => p.on('end', resolve))
  t.is(values.length, 3 * TEXT_LINES.length)
})

test.serial('in text mode too a writer may reuse its buffer once the write callback ran', async (t) => {
  // The text mode keeps the bytes after a chunk's last newline in a buffer of its own, reused
  // from line to line: lines cut anywhere (inside multi-byte characters too), a line spread over
  // many writes (its buffer grows), and a last line without a newline, all through one buffer
  // that is overwritten as soon as each write's callback has run.
  const long = JSON.stringify({ login: 'long', bio: `${'plain words '.repeat(4000)}é` })
  const lines = [...TEXT_LINES.slice(0, 150), long, ...TEXT_LINES.slice(150), long]
  const input = Buffer.from(lines.join('\n'))
  for (const size of [4097, 5003, 65536]) {
    const p = new NdjsonParser()
    const values = []
    p.on('data', (v) => values.push(v))
    const ended = new Promise((resolve, reject) => p.on('end', resolve).on('error', reject))
    const buf = Buffer.alloc(size)
    const { chosen } = await watchingTextMode(async () => {
      for (let at = 0; at < input.length; at += size) {
        const n = input.copy(buf, 0, at, at + size)
        await new Promise((resolve, reject) => p.write(buf.subarray(0, n), (err) => err ? reject(err) : resolve()))
        buf.fill('?'.charCodeAt(0))
      }
    })
    p.end()
    await ended
    t.deepEqual(chosen, [true], `${size}-byte writes`)
    t.is(sameValue(values, lines.map((line) => JSON.parse(line))), null, `${size}-byte writes`)
  }
})

test('in text mode a consumer that does not read stops the producer within a bounded amount', async (t) => {
  const p = new NdjsonParser()
  // Whole lines, ~16 KiB per write, so that whatever was written ends with a complete line.
  const chunks = []
  for (let i = 0; i < 20; i++) {
    for (let j = 0; j < TEXT_LINES.length; j += 56) chunks.push(Buffer.from(TEXT_LINES.slice(j, j + 56).join('\n') + '\n'))
  }
  let written = 0
  let lines = 0
  let full = false
  for (let i = 0; i < chunks.length && !full; i++) {
    full = !p.write(chunks[i])
    written += chunks[i].length
    lines += chunks[i].toString().split('\n').length - 1
    await turns(1)
  }
  t.true(full, 'write() returned false')
  await turns(20)
  // Held: 64 KiB parsed per kick (TEXT_MODE_BYTES), the readable buffer (its highWaterMark in
  // values, ~280 bytes each, plus the kick's values queued behind it), and core's writable buffer.
  const bound = 2 * 64 * 1024 + 16 * 1024 + getDefaultHighWaterMark(false)
  t.true(written <= bound, `${written} bytes written before write() returned false (bound ${bound})`)
  const values = await readAfterStall(p)
  t.is(values.length, lines)
})

test('in text mode one huge write is parsed a piece at a time, as far as the consumer reads', async (t) => {
  const input = Buffer.concat(Array.from({ length: 25 }, () => TEXT)) // ~2.7 MB in one write
  const lines = 25 * TEXT_LINES.length
  const p = new NdjsonParser()
  let called = false
  p.write(input, () => { called = true })
  await turns(20)
  // Nobody reads: a few 64 KiB pieces parsed (what the readable buffer and the queue hold), not
  // the whole write, whose callback waits for its last piece.
  const parsed = p.stats().bytes
  t.true(parsed <= 4 * 64 * 1024, `${parsed} bytes parsed while nobody read`)
  t.false(called)
  const values = []
  p.on('data', (v) => values.push(v))
  p.end()
  await new Promise((resolve) => p.on('end', resolve))
  t.true(called)
  t.is(values.length, lines)
  t.deepEqual(values[lines - 1], JSON.parse(TEXT_LINES[TEXT_LINES.length - 1]))
  t.like(p.stats(), { lines, values: lines, bytes: input.length })
})

// Each writes `input` in one call and resolves with how many values came out.
const HUGE_WRITE_CONSUMERS = {
  "'data' listener": (input) => new Promise((resolve, reject) => {
    let n = 0
    new NdjsonParser().on('data', () => n++).on('end', () => resolve(n)).on('error', reject).end(input)
  }),
  'for await': async (input) => {
    const p = new NdjsonParser()
    p.end(input)
    let n = 0
    for await (const v of p) if (v !== null) n++
    return n
  },
  'pipeline into a Writable': async (input) => {
    let n = 0
    const sink = new Writable({ objectMode: true, write (_v, _e, cb) { n++; cb() } })
    const p = new NdjsonParser()
    p.end(input)
    await pipeline(p, sink)
    return n
  },
  'Web reader': async (input) => {
    const web = new NdjsonParseStream()
    const writer = web.writable.getWriter()
    const written = writer.write(input).then(() => writer.close())
    let n = 0
    const reader = web.readable.getReader()
    for (;;) {
      const { done } = await reader.read()
      if (done) break
      n++
    }
    await written
    return n
  },
}

for (const [consumer, consume] of Object.entries(HUGE_WRITE_CONSUMERS)) {
  test(`in text mode one huge write lets the event loop turn between its pieces (${consumer})`, async (t) => {
    const input = Buffer.concat(Array.from({ length: 25 }, () => TEXT)) // ~2.7 MB, ~40 pieces
    // Turns of the event loop while the write is parsed, counted by an immediate that queues
    // itself again: one per turn, however fast or slow the machine.
    let turnsSeen = 0
    let parsing = true
    const tick = () => {
      turnsSeen++
      if (parsing) setImmediate(tick)
    }
    setImmediate(tick)
    const count = await consume(input)
    parsing = false
    t.is(count, 25 * TEXT_LINES.length)
    // A consumer that reads as fast as values come used to pull every piece through promise jobs:
    // no turn at all until the whole write was parsed.
    const pieces = Math.ceil(input.length / (64 * 1024))
    t.true(turnsSeen >= pieces / 2, `${turnsSeen} turns of the event loop over ${pieces} pieces`)
  })
}

test('text mode: an unfinished invalid last line larger than the native input queue is still reported, and the stream ends', async (t) => {
  // The end comes a turn after the last write, as from a file: the hand-over at the end then
  // fills the new handle's input queue, and the end must wait for room, not forever. The tail is
  // sized from that queue, so that it still overfills it when the queue grows.
  const tail = Buffer.from('"' + 'a'.repeat(INPUT_BYTES + 64 * 1024)) // no closing quote, no newline
  async function * source () {
    for (const chunk of [...cut(TEXT, 65536), ...cut(tail, 65536)]) {
      yield chunk
      await turns(1)
    }
  }
  for (const onInvalid of ['skip', 'error']) {
    const r = await collect(new NdjsonParser({ onInvalid }), source())
    t.is(r.values.length, TEXT_LINES.length, onInvalid)
    const report = onInvalid === 'skip' ? r.invalid[0] : r.error
    t.like(report, { code: 'ERR_SLUICE_INVALID_JSON', line: TEXT_LINES.length + 1, offset: TEXT.length }, onInvalid)
    t.like(r.stats, { lines: TEXT_LINES.length + 1, invalidLines: 1, bytes: TEXT.length + tail.length }, onInvalid)
  }
})

test.serial('readableHighWaterMark 0: a write held while the consumer was behind, and taken once it has read everything, does not stop the stream', async (t) => {
  // Found by helper-136's differential fuzz (a pipeline to a slow sink, HANG). Core's Transform
  // keeps a write's callback until its next _read when the readable side's length changed during
  // the write and is not below highWaterMark: with 0, any length. The write (the start of a line,
  // no value yet) was held by the text-mode stage while a value waited unread; the consumer then
  // read everything, so core's _read had already run, and core calls it again only after a push,
  // which that write never made: nothing more was ever taken, not even the line's end.
  const p = new NdjsonParser({ readableHighWaterMark: 0 })
  const { chosen } = await watchingTextMode(async () => {
    p.write(at(20))
    await turns(3)
  })
  t.deepEqual(chosen, [true])
  t.is(p.readableLength, 1, 'a value waits unread')
  const held = new Promise((resolve) => p.write('{"last":"the start of a line', resolve))
  let values = 0
  while (p.read() !== null) values++
  await held
  const ended = new Promise((resolve) => p.once('end', resolve))
  p.end('"}\n')
  p.on('data', () => values++)
  await ended
  t.is(values, 21)
  t.like(p.stats(), { lines: 21, values: 21, bytes: at(20).length + '{"last":"the start of a line"}\n'.length })
})

test("an 'invalid' event comes after a for await body (or a Web reader's) has handled the values before it", async (t) => {
  // A writer that awaits each write; the reader's loop body runs a promise job after its read(),
  // and the report of line 3 must not be emitted in between (inline parsing on and off).
  const lines = [...[0, 1].map((i) => JSON.stringify({ i, s: 'x'.repeat(600) })), '{bad', ...Array.from({ length: 20 }, (_, k) => JSON.stringify({ i: k + 2, s: 'x'.repeat(600) }))]
  const input = Buffer.from(lines.join('\n') + '\n')
  for (const inline of [true, false]) {
    for (const output of ['values', 'batches']) {
      for (const size of [64, 512, 4096]) {
        const p = parserWith(inline, { onInvalid: 'skip', output })
        const log = []
        p.on('invalid', (info) => log.push(`invalid@${info.line}`))
        const reader = (async () => {
          for await (const v of p) for (const x of output === 'batches' ? v : [v]) log.push(`v${x.i}`)
        })()
        for (let i = 0; i < input.length; i += size) await new Promise((resolve) => p.write(input.subarray(i, i + size), resolve))
        p.end()
        await reader
        t.deepEqual(log.slice(0, 4), ['v0', 'v1', 'invalid@3', 'v2'], `inline ${inline}, ${output}, ${size}-byte writes`)
        t.is(log.length, 23)
        // The same through the Web face: a reader's read() resolves before its loop body runs.
        const web = parserWith(inline, { onInvalid: 'skip', output }, NdjsonParseStream)
        const webLog = []
        web.on('invalid', (info) => webLog.push(`invalid@${info.line}`))
        const webReader = web.readable.getReader()
        const webReading = (async () => {
          for (;;) {
            const { done, value } = await webReader.read()
            if (done) break
            for (const x of output === 'batches' ? value : [value]) webLog.push(`v${x.i}`)
          }
        })()
        const writer = web.writable.getWriter()
        for (let i = 0; i < input.length; i += size) await writer.write(input.subarray(i, i + size))
        await writer.close()
        await webReading
        t.deepEqual(webLog.slice(0, 4), ['v0', 'v1', 'invalid@3', 'v2'], `Web face: inline ${inline}, ${output}, ${size}-byte writes`)
        t.is(webLog.length, 23)
      }
    }
  }
})
