'use strict'

const test = require('ava')
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

test('a throwing \'invalid\' listener fails the stream with its error instead of escaping', async (t) => {
  const { once } = require('node:events')
  const parser = new NdjsonParser({ onInvalid: 'skip' })
  parser.on('invalid', () => { throw new Error('listener failed') })
  parser.resume()
  parser.end('1\n{bad\n2\n')
  const [err] = await once(parser, 'error')
  t.is(err.message, 'listener failed')
})
