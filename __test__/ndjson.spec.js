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
