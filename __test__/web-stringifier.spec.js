'use strict'

// NdjsonStringifyStream beyond the shared Web contract (web-stringifier.contract.spec.js): the
// tutorial pattern, the round trip through NdjsonParseStream, its options, the unserialisable
// policy, batching and latency, and its readable strategy.

const test = require('ava')
const { getDefaultHighWaterMark } = require('node:stream')
const { ReadableStream, ByteLengthQueuingStrategy } = require('node:stream/web')
const { NdjsonStringifyStream, NdjsonParseStream, NULL } = require('sluice/web')
const { readAll, quiet, QUIET_MS } = require('./web-contract')

const text = (chunks) => Buffer.concat(chunks).toString()
const stringify = async (values, options) => text(await readAll(ReadableStream.from(values).pipeThrough(new NdjsonStringifyStream(options))))

test('NdjsonStringifyStream: the tutorial pattern — writer.ready stays pending while nothing reads (bounded), resolves after reads, every line arrives', async (t) => {
  const s = new NdjsonStringifyStream()
  const writer = s.writable.getWriter()
  const value = { id: 1, name: 'a record of some length', tags: ['x', 'y'] }
  const lineBytes = JSON.stringify(value).length + 1
  let written = 0
  let ready = null
  while (written < 1_000_000) {
    ready = writer.ready
    if (await Promise.race([ready.then(() => 'ready'), quiet(QUIET_MS)]) === 'quiet') break
    writer.write(value).catch(() => {})
    written++
  }
  t.true(written < 1_000_000, 'a reader that never reads stalls the producer')
  t.true(writer.desiredSize <= 0, `desiredSize ${writer.desiredSize} <= 0 while ready is pending`)
  // The readable queue's highWaterMark, a 64 KiB batch enqueued past it, an incomplete one.
  const bound = getDefaultHighWaterMark(false) + 2 * 65536
  t.log(`stalled after ${written} values (${written * lineBytes} bytes of lines)`)
  t.true(written * lineBytes <= bound + lineBytes, `stalled within ${bound} bytes of lines`)
  const reader = s.readable.getReader()
  let got = 0
  const reading = (async () => {
    for (;;) {
      const { done, value: chunk } = await reader.read()
      if (done) return
      got += chunk.length
    }
  })()
  await ready // the same promise that was pending
  for (let i = 0; i < 1000; i++) {
    await writer.ready
    await writer.write(value)
  }
  await writer.close()
  await reading
  t.is(got, (written + 1000) * lineBytes)
  t.like(s.stats(), { values: written + 1000, bytes: got, skipped: 0 })
})

test('NdjsonStringifyStream → NdjsonParseStream gives back the input: null, U+2028/U+2029, non-ASCII, nesting, numbers', async (t) => {
  const values = [
    null, { a: null }, 'line\u2028sep\u2029para', 'é€😀 ß', { nested: { list: [1, 'two', [3, { four: 4 }]] } },
    0, -1.5e-300, 123456789012, true, false, '', [], {}, 'back\\slash "quoted" \n newline \t tab', NULL
  ]
  const expected = values.map((v) => (v === NULL ? null : v))
  // One value per chunk and many values per chunk (a burst shares a batch).
  const many = Array.from({ length: 5000 }, (_, i) => values[i % values.length])
  for (const input of [values, many]) {
    const out = await readAll(ReadableStream.from(input).pipeThrough(new NdjsonStringifyStream()).pipeThrough(new NdjsonParseStream()))
    t.deepEqual(out, input === values ? expected : many.map((v) => (v === NULL ? null : v)))
  }
  t.is(await stringify(['\u2028']), '"\u2028"\n', 'U+2028 is written as itself (valid JSON and NDJSON)')
})

test("NdjsonStringifyStream: NdjsonStringifier's options (replacer function and array, newline '\\r\\n'); Node stream options and unknown ones are refused", async (t) => {
  t.is(await stringify([{ a: 1, b: 2 }], { replacer: (k, v) => (k === 'b' ? undefined : v) }), '{"a":1}\n')
  t.is(await stringify([{ a: 1, b: 2, c: 3 }], { replacer: ['c', 'a'] }), '{"c":3,"a":1}\n')
  t.is(await stringify([1, null], { newline: '\r\n' }), '1\r\nnull\r\n')
  t.throws(() => new NdjsonStringifyStream({ newline: '\r' }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.newline/ })
  t.throws(() => new NdjsonStringifyStream({ onUnserializable: 'drop' }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.onUnserializable/ })
  t.throws(() => new NdjsonStringifyStream({ replacer: 5 }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.replacer/ })
  t.throws(() => new NdjsonStringifyStream({ nope: 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.nope.*NdjsonStringifyStream/ })
  for (const key of ['highWaterMark', 'readableHighWaterMark', 'writableHighWaterMark', 'signal']) {
    t.throws(() => new NdjsonStringifyStream({ [key]: 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: new RegExp(`options\\.${key}.*queuing strategies`) })
  }
  t.throws(() => new NdjsonStringifyStream({}, undefined, 'x'), { code: 'ERR_INVALID_ARG_TYPE', message: /readableStrategy/ })
  t.throws(() => new NdjsonStringifyStream().on('data', () => {}), { code: 'ERR_INVALID_ARG_VALUE' })
})

test("NdjsonStringifyStream: onUnserializable 'error' (default) errors both sides with the same ERR_SLUICE_UNSERIALIZABLE error, with its index", async (t) => {
  const s = new NdjsonStringifyStream()
  const writer = s.writable.getWriter()
  const writes = [1, 2, { big: 10n }, 4].map((v) => writer.write(v))
  writes.forEach((w) => w.catch(() => {}))
  const err = await t.throwsAsync(readAll(s.readable), { code: 'ERR_SLUICE_UNSERIALIZABLE' })
  t.like(err, { index: 2, skipped: false })
  t.regex(err.message, /BigInt/)
  await t.throwsAsync(writer.closed, { is: err })
  await t.throwsAsync(writes[2], { is: err })
  const cyclic = {}
  cyclic.self = cyclic
  const err2 = await t.throwsAsync(stringify([cyclic]), { code: 'ERR_SLUICE_UNSERIALIZABLE' })
  t.regex(err2.message, /circular/i)
})

test("NdjsonStringifyStream: onUnserializable 'error' delivers every line written before the bad value, then errors (as NdjsonStringifier)", async (t) => {
  const upTo = async (body) => {
    let got = ''
    const err = await t.throwsAsync(async () => {
      for await (const chunk of body) got += Buffer.from(chunk)
    }, { code: 'ERR_SLUICE_UNSERIALIZABLE' })
    return [got, err]
  }
  const [got, err] = await upTo(ReadableStream.from([{ a: 1 }, { a: 2 }, 10n]).pipeThrough(new NdjsonStringifyStream()))
  t.is(got, '{"a":1}\n{"a":2}\n')
  t.is(err.index, 2)
  // Several batches still in the encoder and a readable side that queues nothing (highWaterMark
  // 0): each is handed out on a read, and the error only after the last one.
  const values = Array.from({ length: 3000 }, (_, i) => ({ i, pad: 'x'.repeat(40) }))
  const small = new NdjsonStringifyStream({}, undefined, new ByteLengthQueuingStrategy({ highWaterMark: 0 }))
  const [many] = await upTo(ReadableStream.from([...values, 10n]).pipeThrough(small))
  t.is(many, values.map((v) => JSON.stringify(v) + '\n').join(''))
  // A throwing 'skip' listener: the lines before the skipped value, then its error.
  const boom = new Error('listener')
  const failing = new NdjsonStringifyStream({ onUnserializable: 'skip' })
  failing.once('skip', () => { throw boom })
  let before = ''
  await t.throwsAsync(async () => {
    for await (const chunk of ReadableStream.from([1, 2, undefined, 3]).pipeThrough(failing)) before += Buffer.from(chunk)
  }, { is: boom })
  t.is(before, '1\n2\n')
})

test("NdjsonStringifyStream: onUnserializable 'skip' counts each skipped value and announces it with a 'skip' event; a throwing listener fails the stream", async (t) => {
  const s = new NdjsonStringifyStream({ onUnserializable: 'skip' })
  const skips = []
  t.is(s.on('skip', (info) => skips.push(info)), s)
  const fn = () => {}
  const out = text(await readAll(ReadableStream.from([1, undefined, 10n, fn, Symbol('s'), 2]).pipeThrough(s)))
  t.is(out, '1\n2\n')
  t.deepEqual(skips.map((i) => [i.code, i.index]), [1, 2, 3, 4].map((i) => ['ERR_SLUICE_UNSERIALIZABLE', i]))
  t.is(skips[2].value, fn)
  t.like(s.stats(), { values: 2, bytes: 4, skipped: 4 })

  const boom = new Error('listener')
  const failing = new NdjsonStringifyStream({ onUnserializable: 'skip' })
  failing.once('skip', () => { throw boom })
  await t.throwsAsync(readAll(ReadableStream.from([1, undefined, 2]).pipeThrough(failing)), { is: boom })
})

test("NdjsonStringifyStream: a 'skip' listener that cancels the readable side or aborts the writer: the skipped value's write and every later one reject with the reason", async (t) => {
  for (const how of ['cancel', 'abort']) {
    const s = new NdjsonStringifyStream({ onUnserializable: 'skip' })
    const writer = s.writable.getWriter()
    const reader = s.readable.getReader()
    const reason = new Error(how)
    s.once('skip', () => {
      if (how === 'cancel') reader.cancel(reason)
      else writer.abort(reason).catch(() => {})
    })
    await writer.write(1)
    await t.throwsAsync(writer.write(10n), { is: reason }, how)
    await t.throwsAsync(writer.write(2), { is: reason }, how)
    await t.throwsAsync(writer.closed, { is: reason }, how)
    if (how === 'abort') await t.throwsAsync(reader.read(), { is: reason })
  }
})

test('NdjsonStringifyStream: a burst of values leaves in a few batches, not a Uint8Array per value; a trickle leaves value by value', async (t) => {
  const values = Array.from({ length: 20000 }, (_, i) => ({ i, s: 'x'.repeat(20) }))
  const chunks = await readAll(ReadableStream.from(values).pipeThrough(new NdjsonStringifyStream()))
  const bytes = chunks.reduce((n, c) => n + c.length, 0)
  t.true(chunks.every((c) => c instanceof Uint8Array))
  t.log(`${values.length} values → ${chunks.length} chunks, ${bytes} bytes`)
  t.true(chunks.length <= Math.ceil(bytes / 65536) + 2, `${chunks.length} chunks for ${bytes} bytes`)
  // A trickle: each value is read before the next is written (no waiting for a batch to fill).
  const s = new NdjsonStringifyStream()
  const writer = s.writable.getWriter()
  const reader = s.readable.getReader()
  for (let i = 0; i < 5; i++) {
    await writer.write({ i })
    const { value } = await reader.read()
    t.is(Buffer.from(value).toString(), `{"i":${i}}\n`)
  }
  await writer.close()
  t.true((await reader.read()).done)
})

test('NdjsonStringifyStream: a ByteLengthQueuingStrategy readable side makes smaller batches; any strategy bounds what is enqueued while nothing reads', async (t) => {
  const values = Array.from({ length: 3000 }, (_, i) => ({ i }))
  const small = await readAll(ReadableStream.from(values).pipeThrough(new NdjsonStringifyStream({}, undefined, new ByteLengthQueuingStrategy({ highWaterMark: 1024 }))))
  t.true(small.every((c) => c.length <= 1024 + 16), 'batches of about 1 KiB')
  t.is(text(small), values.map((v) => JSON.stringify(v) + '\n').join(''))
  // Counted in chunks: at most highWaterMark batches wait, however many values are written.
  let queued = 0
  const s = new NdjsonStringifyStream({}, undefined, { highWaterMark: 2, size () { queued++; return 1 } })
  const writer = s.writable.getWriter()
  for (let i = 0; i < 200000; i++) writer.write({ i, pad: 'x'.repeat(50) }).catch(() => {})
  await quiet(QUIET_MS)
  t.true(queued >= 1 && queued <= 2, `${queued} chunks enqueued`)
  await writer.abort(new Error('done'))
})

test('NdjsonStringifyStream: a write is done once its line has been read, as a TransformStream\'s (a readable side of highWaterMark 0: write, read, await the write)', async (t) => {
  // It waited for the next read (the read's room went to its own line): a writer that awaits
  // each write after reading its line hung (Web fuzz seed 40019, helper-134).
  const s = new NdjsonStringifyStream({}, undefined, new ByteLengthQueuingStrategy({ highWaterMark: 0 }))
  const writer = s.writable.getWriter()
  const reader = s.readable.getReader()
  for (const v of [1, { a: 2 }, 'three']) {
    const written = writer.write(v)
    const { value } = await reader.read()
    t.is(Buffer.from(value).toString(), JSON.stringify(v) + '\n')
    t.is(await Promise.race([written.then(() => 'done'), quiet(QUIET_MS).then(() => 'pending')]), 'done')
    t.is(writer.desiredSize, 1)
  }
  // A read waiting first: the line goes into it, the write is done (a long line: its own batch).
  for (const v of [5, 'x'.repeat(100)]) {
    const reading = reader.read()
    const written = writer.write(v)
    t.is(Buffer.from((await reading).value).toString(), JSON.stringify(v) + '\n')
    t.is(await Promise.race([written.then(() => 'done'), quiet(QUIET_MS).then(() => 'pending')]), 'done')
  }
  // Still held while nobody reads: backpressure as before.
  const held = writer.write(4)
  t.is(await Promise.race([held.then(() => 'done'), quiet(QUIET_MS).then(() => 'pending')]), 'pending')
  t.is(Buffer.from((await reader.read()).value).toString(), '4\n')
  await held
  await writer.close()
  t.true((await reader.read()).done)
})

test('NdjsonStringifyStream: close() whose last line leaves into the room it has: the writable side closes without an error in between (a writer taken meanwhile sees it open)', async (t) => {
  // Web contract fuzz, seed 25108: the pull that the last line's enqueue made finished the close
  // inside it, and close() then called end()'s callback a second time (TypeError), which errored
  // the writable side while its close was in flight.
  const s = new NdjsonStringifyStream()
  const reader = s.readable.getReader()
  let writer = s.writable.getWriter()
  await writer.write([])
  const closed = writer.close()
  writer.releaseLock()
  writer = s.writable.getWriter()
  t.is(writer.desiredSize, 1)
  await writer.ready
  await closed
  await writer.closed
  t.is(text([(await reader.read()).value]), '[]\n')
  t.true((await reader.read()).done)
})
