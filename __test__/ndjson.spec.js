'use strict'

const test = require('ava')
const { once } = require('node:events')
const { NdjsonParser, NULL } = require('..')
const { chunked, runThrough } = require('./helpers.js')

test('parses one value per line, in order, whatever the chunking', async (t) => {
  const input = Buffer.from('{"a":1}\n[2]\n"three"\n4\ntrue\n')
  for (const size of [1, 2, 3, 7, 1000]) {
    const values = await runThrough(new NdjsonParser(), chunked(input, [size]))
    t.deepEqual(values, [{ a: 1 }, [2], 'three', 4, true], `chunk size ${size}`)
  }
})

test('a null line becomes NULL in values output and does not end the stream', async (t) => {
  const values = await runThrough(new NdjsonParser(), [Buffer.from('1\nnull\n2\n')])
  t.deepEqual(values, [1, NULL, 2])
})

test("a producer awaiting 'drain' (the documented pattern): write callbacks run in write order, none left behind while it writes", async (t) => {
  // Writes the parser took at once used to complete through core's process.nextTick, and held
  // ones from a promise job: a producer going on in promise jobs kept the first kind waiting, so
  // callbacks came out of order, and on blank lines half of them piled up until it stopped.
  const lines = { blank: '\n', whitespace: '  \n', numbers: '[1.5,2.5,{"x":-3e-7}]\n', strings: '{"msg":"hello world","level":"info"}\n' }
  for (const [kind, line] of Object.entries(lines)) {
    const chunk = Buffer.from(line.repeat(Math.floor(65536 / line.length)))
    const parser = new NdjsonParser()
    parser.resume()
    const order = []
    let mostBehind = 0
    for (let i = 0; i < 500; i++) {
      if (!parser.write(chunk, () => order.push(i))) await once(parser, 'drain')
      mostBehind = Math.max(mostBehind, i + 1 - order.length)
    }
    parser.end()
    await once(parser, 'finish')
    t.deepEqual(order, Array.from({ length: 500 }, (_, i) => i), `${kind}: every callback once, in write order`)
    // Generous: timing on a loaded machine may leave a few behind; the bug left half of them.
    t.true(mostBehind <= 16, `${kind}: at most ${mostBehind} callbacks outstanding while writing`)
  }
})

// A 'data' listener that ends the readable side itself (push(null) on someone else's stream) is a
// misuse core's Transform answers with ERR_STREAM_PUSH_AFTER_EOF at its next push; the parser
// waited for a read that could no longer come, and the stream never closed.
for (const [name, lines] of [['a few lines (parsed on the JS thread)', 60], ['bulk number-heavy input (parsed natively)', 40000]]) {
  test(`push(null) from a 'data' listener fails the stream with ERR_STREAM_PUSH_AFTER_EOF, as core's Transform does: ${name}`, async (t) => {
    const input = Buffer.from(Array.from({ length: lines }, (_, i) => JSON.stringify({ i, xs: [i, i / 3, i * 7] })).join('\n') + '\n')
    const parser = new NdjsonParser()
    let seen = 0
    parser.on('data', (v) => {
      seen++
      if (v.i === 17) parser.push(null)
    })
    const failed = once(parser, 'error')
    // Not once(): it rejects on the 'error' that comes first.
    const closed = new Promise((resolve) => parser.on('close', resolve))
    parser.end(input)
    const [err] = await failed
    await closed
    t.is(err.code, 'ERR_STREAM_PUSH_AFTER_EOF')
    // The value that was being pushed when the listener ended the stream was delivered; none after.
    t.is(seen, 18)
  })
}

test("destroy() from a write's callback after end(): no 'end' after it, and finished() says the readable side never ended, as zlib does", async (t) => {
  // The end was read (a flowing stream reads it at once) before the write's callback ran on its
  // tick, so 'end' came after the destroy() made there, against the README's "no event after it"
  // (contract fuzz seed 5113). Now the end waits behind the callbacks owed: zlib's asynchronous
  // transforms give the same (no 'end'; ERR_STREAM_PREMATURE_CLOSE).
  const { finished } = require('node:stream')
  for (const input of [' ', '', '\n', '{"a":1}\n', '1\n2\n']) {
    for (const paused of [true, false]) {
      const what = `${JSON.stringify(input)}, ${paused ? 'paused then resumed' : 'flowing'}`
      const parser = new NdjsonParser()
      const events = []
      let destroyed = false
      parser.on('data', () => events.push(destroyed ? 'data after destroy()' : 'data'))
      parser.on('end', () => events.push(destroyed ? "'end' after destroy()" : "'end'"))
      parser.on('error', (err) => events.push(`error ${err.code}`))
      const closed = once(parser, 'close')
      const result = new Promise((resolve) => finished(parser, (err) => resolve(err ? err.code : 'success')))
      if (paused) {
        parser.pause()
        await new Promise((resolve) => setImmediate(resolve))
      }
      parser.write(input, () => {
        destroyed = true
        parser.destroy()
      })
      parser.end()
      if (paused) parser.resume()
      await closed
      t.true(destroyed, what)
      t.false(events.some((e) => e.includes('after destroy()')), `${what}: ${events.join(', ')}`)
      t.false(parser.readableEnded, what)
      t.is(await result, 'ERR_STREAM_PREMATURE_CLOSE', what)
    }
  }
})
