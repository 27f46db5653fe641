#!/usr/bin/env node
'use strict'

// `npm run demo:meter`: a three-stage pipeline with one deliberately slow stage, watched live.
// source → Meter('read') → compress (fast) → Meter('compress') → enrich (slow: a timer per
// chunk) → Meter('enrich') → MonitoredWritable.wrap(sink, 'write'). Every 'stats' tick of the
// last meter (a timer in Rust) redraws formatPipeline(): each stage's rate, its busy / blocked /
// starved time, and the bottleneck marked. Then the slow stage switches to the sink, and the
// marker follows it.
//
//   node bin/meter-demo.js [seconds per phase]      (default 3)

const { pipeline } = require('node:stream/promises')
const { Readable, Transform, Writable } = require('node:stream')
const { Meter, MonitoredWritable, formatPipeline, bottleneck } = require('..')

const seconds = Number(process.argv[2] ?? 3)
if (!(seconds > 0)) {
  console.error('usage: node bin/meter-demo.js [seconds per phase > 0]')
  process.exit(2)
}

const phase = { slow: 'enrich' }
const chunk = Buffer.alloc(16 * 1024, 97)
let stop = false
const source = new Readable({ read () { this.push(stop ? null : chunk) } })
const compress = new Transform({ transform (c, e, cb) { cb(null, c) } })
const enrich = new Transform({ transform (c, e, cb) { if (phase.slow === 'enrich') setTimeout(() => cb(null, c), 2); else cb(null, c) } })
const sink = new Writable({ highWaterMark: 64 * 1024, write (c, e, cb) { if (phase.slow === 'write') setTimeout(cb, 2); else setImmediate(cb) } })

const meters = [
  new Meter({ name: 'read', interval: 250, halfLifeMs: 500 }),
  new Meter({ name: 'compress', interval: 250, halfLifeMs: 500 }),
  new Meter({ name: 'enrich', interval: 250, halfLifeMs: 500 }),
  MonitoredWritable.wrap(sink, { name: 'write', interval: 250, halfLifeMs: 500 })
]
const tty = process.stdout.isTTY
let drawn = 0
let since
meters[3].on('stats', () => {
  // Each redraw shows the last interval only (`since`), so the marker follows the slow stage.
  const text = `slow stage now: ${phase.slow}\n\n${formatPipeline(meters, { since })}\n`
  since = bottleneck(meters).snapshots
  if (tty && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`)
  process.stdout.write(text)
  drawn = text.split('\n').length - 1
})

setTimeout(() => { phase.slow = 'write' }, seconds * 1000)
setTimeout(() => { stop = true }, 2 * seconds * 1000)

pipeline(source, meters[0], compress, meters[1], enrich, meters[2], meters[3]).then(() => {
  const b = bottleneck(meters)
  console.log(`\nfinished; over the whole run the bottleneck was "${b.stage}": ${b.reason}`)
  for (const m of meters) {
    const s = m.stats()
    console.log(`  ${s.name.padEnd(8)} ${(s.bytes / 1048576).toFixed(1)} MiB, backpressure ${s.backpressureEvents}, drains ${s.drainEvents}, blocked ${(s.blockedMs / 1000).toFixed(2)} s, starved ${(s.starvedMs / 1000).toFixed(2)} s`)
  }
})
