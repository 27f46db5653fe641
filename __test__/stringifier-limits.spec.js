'use strict'

// NdjsonStringifier at V8's longest string (buffer.constants.MAX_STRING_LENGTH, ~512 Mi
// characters on 64-bit Node 20): a value whose line would be longer is an unserialisable value
// (never a RangeError out of write(), never a stuck stream), and a line that fits alone but not
// after the batch's text leaves in a batch of its own. Apart from stringifier.spec.js because each
// test holds strings and a Buffer of half a gigabyte or more: serial, to keep the peak at one.

const test = require('ava')
const { constants: { MAX_STRING_LENGTH } } = require('node:buffer')
const { NdjsonStringifier } = require('..')

/** Writes `values` to a new stringifier, then ends it; resolves with what came out and how it ended. */
async function run (values, options) {
  const s = new NdjsonStringifier(options)
  const skips = []
  const sizes = []
  let head = ''
  s.on('skip', (info) => skips.push(info))
  s.on('data', (chunk) => {
    sizes.push(chunk.length)
    if (head.length < 64) head += chunk.subarray(0, 64).toString()
  })
  // write() must not throw: a throw here fails the test.
  for (const value of values) s.write(value)
  s.end()
  // Not events.once(s, 'end'): it would reject with the error, whose `value` is too big to print.
  const [how, error] = await new Promise((resolve) => {
    s.on('end', () => resolve(['end']))
    s.on('error', (e) => resolve(['error', e]))
  })
  return { how, error, skips, sizes, head, stats: s.stats() }
}

test.serial("a value whose line would be longer than V8's longest string: 'error' fails the stream with it, after the lines before it", async (t) => {
  // JSON text of exactly MAX_STRING_LENGTH characters: the newline would make it one too many.
  const { how, error, head, stats } = await run([1, 'x'.repeat(MAX_STRING_LENGTH - 2), 2])
  t.is(how, 'error')
  // Not t.like(error, ...): a failure would print the half-gigabyte `value`.
  t.is(error?.code, 'ERR_SLUICE_UNSERIALIZABLE')
  t.is(error.index, 1)
  t.regex(error.reason, /longer|longest string/)
  t.is(head, '1\n')
  t.is(stats.values, 1)
})

test.serial("the same value under 'skip': skipped and announced, the stream ends with the other lines", async (t) => {
  const { how, skips, head, stats } = await run([1, 'x'.repeat(MAX_STRING_LENGTH - 2), 2], { onUnserializable: 'skip' })
  t.is(how, 'end')
  t.is(skips.length, 1)
  t.is(skips[0].index, 1)
  t.regex(skips[0].reason, /longest string/)
  t.is(head, '1\n2\n')
  t.like(stats, { values: 2, skipped: 1 })
})

test.serial('a JSON text that is itself too long for V8 (JSON.stringify throws): an unserialisable value, not a throw', async (t) => {
  const { how, skips } = await run(['x'.repeat(MAX_STRING_LENGTH)], { onUnserializable: 'skip' })
  t.is(how, 'end')
  t.regex(skips[0]?.reason ?? '', /JSON\.stringify threw: Invalid string length/)
})

test.serial('a line of exactly the longest string after a batch with text: the batch is pushed first, then the line on its own', async (t) => {
  // '"a"\n' waits in the batch; the next line is MAX_STRING_LENGTH characters, so the two together
  // are too long for one string.
  const { how, sizes, head, stats } = await run(['a', 'x'.repeat(MAX_STRING_LENGTH - 3)])
  t.is(how, 'end')
  t.deepEqual(sizes, [4, MAX_STRING_LENGTH])
  t.true(head.startsWith('"a"\n"xxx'))
  t.like(stats, { values: 2, skipped: 0, bytes: 4 + MAX_STRING_LENGTH })
})
