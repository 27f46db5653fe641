#!/usr/bin/env node
'use strict'

// `npm run demo`: the main job on generated data. Builds an NDJSON corpus in memory (with a few
// bad lines mixed in), streams it through NdjsonParser in stream.pipeline, and prints what came
// out: records, throughput, the invalid lines with their line numbers, and peak memory.
//
//   node bin/demo.js [megabytes]      (default 100)

const { pipeline } = require('node:stream/promises')
const { Readable, Writable } = require('node:stream')
const { NdjsonParser } = require('..')

const megabytes = Number(process.argv[2] ?? 100)
if (!(megabytes > 0)) {
  console.error('usage: node bin/demo.js [megabytes > 0]')
  process.exit(2)
}

/** The corpus as 64 KiB-ish chunks (never one giant string, so the demo's own memory stays small). */
function corpus (bytes) {
  const events = ['view', 'click', 'signup', 'purchase']
  const chunks = []
  let text = ''
  let size = 0
  for (let id = 0; size < bytes; id++) {
    let line
    if (id % 250000 === 1234) line = `{"id":${id},"event":"oops",}` // trailing comma
    else if (id % 333333 === 4321) line = `{"id":${id},"note":"unterminated` // cut short
    else if (id % 400000 === 99) line = '' // a blank line: skipped and counted
    else line = JSON.stringify({ id, ts: 1732300000000 + id, user: `u${id % 9973}`, event: events[id % 4], amt: (id % 1000) / 10, ok: id % 3 !== 0, city: id % 5 ? 'Malmö' : '東京' })
    text += line + '\n'
    if (text.length >= 65536) {
      const chunk = Buffer.from(text)
      chunks.push(chunk)
      size += chunk.length
      text = ''
    }
  }
  if (text) chunks.push(Buffer.from(text))
  return chunks
}

async function main () {
  const chunks = corpus(megabytes * 1e6)
  const inputBytes = chunks.reduce((n, c) => n + c.length, 0)
  const parser = new NdjsonParser({ onInvalid: 'skip' })
  const invalid = []
  parser.on('invalid', (info) => invalid.push(info))
  let records = 0
  let purchases = 0
  const started = process.hrtime.bigint()
  await pipeline(
    Readable.from(chunks),
    parser,
    new Writable({
      objectMode: true,
      write (record, encoding, callback) {
        records++
        if (record.event === 'purchase') purchases++
        callback()
      }
    })
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const stats = parser.stats()
  console.log(`parsed ${records.toLocaleString()} records (${purchases.toLocaleString()} purchases) from ${(inputBytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s: ${(inputBytes / 1e6 / seconds).toFixed(0)} MB/s, ${(records / seconds / 1e6).toFixed(2)} M records/s`)
  console.log(`stats: ${JSON.stringify(stats)}`)
  console.log(`${invalid.length} invalid lines skipped:`)
  for (const i of invalid) console.log(`  line ${i.line} (byte ${i.offset}) ${i.code}: ${i.reason}: ${i.excerpt}`)
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (the generated input itself is ${(inputBytes / 1048576).toFixed(0)} MiB of it)`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
