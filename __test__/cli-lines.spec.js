'use strict'

// The `sluice` command's line plumbing (lib/cli/lines.js), in process: the pieces and batches a
// line rate throttles (one acquire per batch of lines, not per line) carry every byte and every
// line, in order, whatever the chunking. The command's behaviour: cli.spec.js, cli-live.spec.js.

const test = require('ava')
const { Readable } = require('node:stream')
const { pipeline } = require('node:stream/promises')
const { LineBatches, LineJoiner, LinePieces, linesPerBatch, pieceCost } = require('../lib/cli/lines.js')

async function collect (source, ...stages) {
  const out = []
  await pipeline(source, ...stages, async function (items) {
    for await (const item of items) out.push(item)
  })
  return out
}

/** `buffer` in chunks of the given sizes (cycled). */
function chunked (buffer, sizes) {
  const chunks = []
  for (let at = 0, i = 0; at < buffer.length; i++) {
    const n = sizes[i % sizes.length]
    chunks.push(buffer.subarray(at, at + n))
    at += n
  }
  return chunks
}

test('linesPerBatch: 5 ms worth of the rate, from 1 to 1024 lines', (t) => {
  t.is(linesPerBatch(0.5), 1)
  t.is(linesPerBatch(100), 1)
  t.is(linesPerBatch(2000), 10)
  t.is(linesPerBatch(1e9), 1024)
})

test('LinePieces: whole lines per piece, at most linesPerPiece; every byte and line, in order', async (t) => {
  const text = Buffer.from(Array.from({ length: 500 }, (_, i) => 'x'.repeat(i % 37)).join('\n') + '\ntail')
  const newlines = text.toString().split('\n').length - 1
  for (const perPiece of [1, 3, 1024]) {
    for (const sizes of [[1], [7, 64], [4096]]) {
      const pieces = await collect(Readable.from(chunked(text, sizes)), new LinePieces({ linesPerPiece: perPiece }))
      t.true(Buffer.concat(pieces.map((p) => p.bytes)).equals(text))
      t.is(pieces.reduce((n, p) => n + pieceCost(p), 0), newlines)
      for (const p of pieces) {
        t.true(p.lines <= perPiece)
        // A piece that completes lines ends with one; one that completes none is part of a line.
        t.is(p.bytes.toString().split('\n').length - 1, p.lines)
        if (p.lines > 0) t.is(p.bytes.at(-1), 10)
      }
    }
  }
})

test('LineBatches into LineJoiner: arrays of at most `size` lines, joined with newlines, every line counted', async (t) => {
  const lines = Array.from({ length: 1000 }, (_, i) => Buffer.from(`{"i":${i}}`))
  const batches = await collect(Readable.from(lines), new LineBatches(64))
  t.true(batches.every((b) => b.length >= 1 && b.length <= 64))
  t.deepEqual(batches.flat(), lines)
  const joiner = new LineJoiner({ input: 'batches' })
  const out = await collect(Readable.from(batches, { objectMode: true }), joiner)
  t.is(Buffer.concat(out).toString(), lines.map((l) => `${l}\n`).join(''))
  t.is(joiner.lines, 1000)
})
