'use strict'

// One trial of bench/buffer.js, in a fresh child. argv[2] is JSON, one of:
//
//   {kind: 'throughput', impl: 'passthrough' | 'buffer', objects, chunk, total, hwm}
//     memory source → stage → a sink that calls back at once, in a pipeline; the stage is a core
//     PassThrough or a BoundedBuffer in 'block' mode, both with highWaterMark `hwm` (the buffer
//     keeps its default capacity). `total` bytes in `chunk`-byte subarrays of one buffer, or
//     `total` objects. Reports units/s over the whole pipeline.
//
//   {kind: 'overload', overflow, capacityBytes, chunk, produceRate, consumeRate, seconds}
//     A producer writes fresh `chunk`-byte Buffers at `produceRate` B/s (on an absolute
//     schedule, checked every millisecond) for `seconds`; a sink takes them at `consumeRate` B/s.
//     In 'block' mode the producer waits for 'drain' when write() says so (as it should); in the
//     drop modes it never has to. Reports peak RSS / heap / ArrayBuffer growth over the
//     baseline taken just before the run (sampled every 20 ms), the most the stage ever held
//     (ring + readable + writable buffers, checked after every write), and how fast the producer
//     actually wrote compared with its schedule.

const { Readable, Writable, PassThrough, pipeline } = require('node:stream')
const common = require('./common.js')
const { SLUICE_MODULE } = require('./candidates.js')

const MiB = 1024 * 1024

function makeStage(impl, options) {
  if (impl === 'passthrough') return new PassThrough(options)
  const { BoundedBuffer } = require(SLUICE_MODULE)
  return new BoundedBuffer(options)
}

async function throughput({ impl, objects, chunk, total, hwm }) {
  let source
  if (objects) {
    let i = 0
    source = new Readable({
      objectMode: true,
      highWaterMark: hwm,
      read() {
        for (let k = 0; k < 64 && i < total; k++) if (!this.push({ i: i++ })) return
        if (i >= total) this.push(null)
      },
    })
  } else {
    const base = Buffer.alloc(64 * MiB, 0x61)
    let offset = 0
    let sent = 0
    source = new Readable({
      highWaterMark: hwm,
      read() {
        if (sent >= total) {
          this.push(null)
          return
        }
        if (offset + chunk > base.length) offset = 0
        this.push(base.subarray(offset, offset + chunk))
        offset += chunk
        sent += chunk
      },
    })
  }
  const stage = makeStage(impl, { highWaterMark: hwm, objectMode: objects })
  let units = 0
  const sink = new Writable({
    objectMode: objects,
    highWaterMark: hwm,
    write(c, e, cb) {
      units += objects ? 1 : c.length
      cb()
    },
  })
  const snap = common.snapshot()
  await new Promise((resolve, reject) => pipeline(source, stage, sink, (err) => (err ? reject(err) : resolve())))
  const d = common.since(snap)
  if (units !== total) throw new Error(`${units} of ${total} units delivered`)
  return { perS: units / d.wallS, wallS: d.wallS, bgCores: d.bgCores }
}

async function overload({ overflow, capacityBytes, chunk, produceRate, consumeRate, seconds }) {
  const { BoundedBuffer } = require(SLUICE_MODULE)
  // 'none': the baseline, the same producer into a stage that throws every chunk away at once
  // (what the process's memory does with no buffer at all: the dropped Buffers wait for V8).
  const stage =
    overflow === 'none'
      ? new BoundedBuffer({ capacityBytes, overflow: 'drop-incoming', readableHighWaterMark: 0, capacity: 1 })
      : new BoundedBuffer({ capacityBytes, overflow })
  let dropped = 0
  stage.on('drop', (d) => {
    // What destroy() discards at the end of the trial is not an overflow drop.
    if (d.reason !== 'destroy' && d.reason !== 'unread') dropped += d.items.length
  })
  let error = null
  stage.on('error', (err) => {
    error = err
  })

  let consumed = 0
  let t0 = 0
  const sink = new Writable({
    write(c, e, cb) {
      consumed += c.length
      const due = t0 + (consumed / consumeRate) * 1000
      const wait = due - performance.now()
      if (wait > 1) setTimeout(cb, wait)
      else cb()
    },
  })
  if (overflow !== 'none') stage.pipe(sink)

  const mem0 = process.memoryUsage()
  const peak = { rss: mem0.rss, heapUsed: mem0.heapUsed, arrayBuffers: mem0.arrayBuffers }
  const sample = () => {
    const m = process.memoryUsage()
    if (m.rss > peak.rss) peak.rss = m.rss
    if (m.heapUsed > peak.heapUsed) peak.heapUsed = m.heapUsed
    if (m.arrayBuffers > peak.arrayBuffers) peak.arrayBuffers = m.arrayBuffers
  }
  const sampler = setInterval(sample, 20)

  let written = 0
  let falses = 0
  let heldMax = 0
  let waitedMs = 0
  t0 = performance.now()
  const end = t0 + seconds * 1000
  const perChunkMs = (chunk / produceRate) * 1000
  await new Promise((resolve) => {
    const tick = async () => {
      while (error === null) {
        const now = performance.now()
        if (now >= end) break
        // Absolute schedule: write what is due by now.
        const due = Math.min(Math.floor((now - t0) / perChunkMs) + 1, Math.floor((seconds * 1000) / perChunkMs))
        while (written < due && error === null && performance.now() < end) {
          const ok = stage.write(Buffer.alloc(chunk, written & 0xff))
          written++
          const held = stage.stats().bufferedBytes + stage.readableLength + stage.writableLength
          if (held > heldMax) heldMax = held
          if (!ok) {
            falses++
            if (overflow === 'block') {
              const w0 = performance.now()
              await new Promise((r) => {
                stage.once('drain', r)
                stage.once('close', r)
              })
              waitedMs += performance.now() - w0
            }
          }
        }
        await new Promise((r) => setTimeout(r, 1))
      }
      resolve()
    }
    tick()
  })
  const producedS = (performance.now() - t0) / 1000
  clearInterval(sampler)
  sample()
  const stats = stage.stats()
  stage.destroy()
  return {
    producedRate: (written * chunk) / producedS,
    scheduleRatio: (written * chunk) / (produceRate * Math.min(producedS, seconds)),
    consumedRate: consumed / producedS,
    falses,
    waitedMs,
    dropped,
    errored: error ? `${error.code} after ${(producedS * 1000).toFixed(0)} ms` : null,
    heldMaxMiB: heldMax / MiB,
    rssDeltaMiB: (peak.rss - mem0.rss) / MiB,
    heapDeltaMiB: (peak.heapUsed - mem0.heapUsed) / MiB,
    arrayBuffersDeltaMiB: (peak.arrayBuffers - mem0.arrayBuffers) / MiB,
    peakBufferedMiB: stats.peakBufferedBytes / MiB,
    accounting: stats.totalProduced === stats.totalConsumed + stats.droppedItems + stats.discarded + stats.buffered,
  }
}

common.runChildMain((input) => (input.kind === 'throughput' ? throughput(input) : overload(input)))
