'use strict'

// The parser's inline stage (lib/ndjson/inline.js): a little input is parsed on the JS thread and
// the native handle is created only when the stage hands over (bulk input, or a line it leaves
// to the native side to report). What users rely on: the hand-over is invisible (every output,
// report, line number, offset and counter as if the native parser had seen the whole stream), a
// writer may reuse its buffer once the write callback ran, a consumer that does not read still
// stops the producer, and a stream that never hands over costs no native resources at all.

const { getDefaultHighWaterMark } = require('node:stream')
const test = require('ava')
const { NdjsonParser } = require('..')
const { inlineParsing } = require('../lib/ndjson/inline.js')
const { UTF8_BOM, collect, runChild, sameValue } = require('./helpers.js')

/** A parser made with inline parsing on or off (the switch is read by the constructor). */
function parserWith (inline, options) {
  inlineParsing.enabled = inline
  try {
    return new NdjsonParser(options)
  } finally {
    inlineParsing.enabled = true
  }
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
  t.deepEqual(inline.stats, native.stats, `${what}: stats()`)
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
  const drained = new Promise((resolve) => p.once('drain', resolve))
  const values = []
  p.on('data', (v) => values.push(v))
  await drained
  p.end()
  await new Promise((resolve) => p.on('end', resolve))
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
