'use strict'

// bench:meter — what measuring costs, side by side in one run, and how accurate it is.
//
// 1. Per-chunk cost of a measuring stage against a core PassThrough, for 64 KiB chunks, 1 KiB
//    chunks and object mode: source → stage → sink, the source re-pushing one preallocated
//    Buffer (or object) so nothing but stream machinery is timed (research/peers-baseline.md
//    §4 measured the peers the same way). Stages: none (source → sink), PassThrough, Meter,
//    progress-stream 2.0.0, stream-meter 1.0.4 (bytes only), a hand-written counting Transform.
// 2. MonitoredWritable.wrap(dest) against dest alone (source → wrapper → dest vs source → dest).
// 3. Accuracy: blocked time measured by a MonitoredWritable (wrap and constructor forms) and a
//    Meter against destinations/consumers that block for known intervals (the ground truth is
//    taken by the destination itself), and exact counts.
//
// One process, one unrecorded warm-up pass, then --reps rotating passes (every config once per
// pass, the order rotated), medians (min–max). "ratio" is ns per chunk of the whole pipeline
// against the PassThrough pipeline (the measure behind the "progress-stream 3.1–3.5×"),
// paired within each pass and the median taken; "CPU ratio" the same for process CPU time
// (steadier when neighbours load the machine); "stage ns" subtracts the bare source → sink
// pipeline, i.e. what the stage itself adds.
//
//   npm run bench:meter                  # default: 7 reps
//   node --expose-gc bench/meter.js --reps 3 --quick # a smaller run (--expose-gc: RSS per meter)

const { PassThrough, Readable, Transform, Writable, pipeline } = require('node:stream')
const { performance } = require('node:perf_hooks')
const os = require('node:os')
const progressStream = require('progress-stream')
const streamMeter = require('stream-meter')
const { Meter, MonitoredWritable } = require('..')
const { summarise, fmtStat, mdTable, parseArgs } = require('./common.js')

const args = parseArgs(process.argv.slice(2), {
  reps: { type: 'number', default: 7 },
  quick: { type: 'flag', default: false }
})
const SCALE = args.quick ? 0.25 : 1

const WORKLOADS = [
  { name: 'bytes 64 KiB', objectMode: false, size: 65536, count: Math.round(1_000_000 * SCALE) },
  { name: 'bytes 1 KiB', objectMode: false, size: 1024, count: Math.round(2_000_000 * SCALE) },
  { name: 'objectMode', objectMode: true, size: 0, count: Math.round(1_000_000 * SCALE) }
]

function source (w) {
  const chunk = w.objectMode ? { id: 1, name: 'x' } : Buffer.alloc(w.size, 1)
  let left = w.count
  return new Readable({
    objectMode: w.objectMode,
    read () {
      // Up to 16 pushes per _read, as a file or socket source would hand over what it has.
      for (let k = 0; k < 16; k++) {
        if (left-- <= 0) {
          this.push(null)
          return
        }
        if (!this.push(chunk)) return
      }
    }
  })
}

function sink (w) {
  return new Writable({ objectMode: w.objectMode, write (chunk, encoding, cb) { cb() } })
}

function countingTransform (w) {
  let bytes = 0
  let chunks = 0
  const t = new Transform({
    objectMode: w.objectMode,
    transform (chunk, encoding, cb) {
      chunks++
      if (!w.objectMode) bytes += chunk.length
      cb(null, chunk)
    }
  })
  t.counts = () => ({ bytes, chunks })
  return t
}

const STAGES = [
  { name: 'none (source → sink)', make: () => null },
  { name: 'PassThrough', make: (w) => new PassThrough({ objectMode: w.objectMode }) },
  { name: 'sluice Meter', make: (w) => new Meter({ objectMode: w.objectMode }), check: (s, w) => s.stats().chunks === w.count },
  { name: 'progress-stream', make: (w) => progressStream({ objectMode: w.objectMode, time: 1000 }) },
  { name: 'stream-meter', make: () => streamMeter(), bytesOnly: true, check: (s, w) => s.bytes === w.count * w.size },
  { name: 'counting Transform (hand-written)', make: countingTransform, check: (s, w) => s.counts().chunks === w.count }
]

const WRAPS = [
  { name: 'dest alone', make: (w, dest) => dest },
  { name: 'MonitoredWritable.wrap(dest)', make: (w, dest) => MonitoredWritable.wrap(dest), check: (s, w) => s.stats().chunks === w.count },
  { name: 'new MonitoredWritable({ write })', make: (w) => new MonitoredWritable({ objectMode: w.objectMode, write (c, e, cb) { cb() } }), check: (s, w) => s.stats().chunks === w.count }
]

function runOnce (w, build) {
  return new Promise((resolve, reject) => {
    const { streams, measured } = build()
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    pipeline(...streams, (err) => {
      if (err) return reject(err)
      const ns = Number(process.hrtime.bigint() - t0)
      const cpu = process.cpuUsage(cpu0)
      resolve({ nsPerChunk: ns / w.count, cpuMs: (cpu.user + cpu.system) / 1000, measured })
    })
  })
}

function stageBuild (w, stage) {
  return () => {
    const s = stage.make(w)
    return { streams: [source(w), ...(s === null ? [] : [s]), sink(w)], measured: s }
  }
}

function wrapBuild (w, wrap) {
  return () => {
    const dest = sink(w)
    const s = wrap.make(w, dest)
    return { streams: [source(w), s], measured: s }
  }
}

async function series (w, configs, buildFor) {
  const results = new Map(configs.map((c) => [c.name, []]))
  const failures = []
  for (let pass = -1; pass < args.reps; pass++) {
    // Rotate the order each pass so no config always runs right after a GC-heavy one.
    const order = configs.map((_, i) => configs[(i + Math.max(pass, 0)) % configs.length])
    for (const c of order) {
      const r = await runOnce(w, buildFor(w, c))
      if (c.check && !c.check(r.measured, w)) failures.push(`${c.name}: wrong counts`)
      if (pass >= 0) results.get(c.name).push(r)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
  return { results, failures }
}

/**
 * The median over passes of `key(config) / key(reference)` within the same pass: on a shared
 * machine whose load changes by the second, runs seconds apart see the same neighbours, so a
 * paired ratio is steadier than a ratio of medians.
 */
function pairedRatio (results, name, reference, key) {
  const a = results.get(name)
  const b = results.get(reference)
  return summarise(a.map((r, i) => key(r) / key(b[i])))
}

function table (w, configs, { results }, reference, baseline) {
  const med = (name) => summarise(results.get(name).map((r) => r.nsPerChunk))
  const base = baseline ? med(baseline).median : null
  const refStage = base === null ? null : med(reference).median - base
  const rows = configs.map((c) => {
    const s = med(c.name)
    const cpu = summarise(results.get(c.name).map((r) => r.cpuMs))
    const ratio = pairedRatio(results, c.name, reference, (r) => r.nsPerChunk)
    const cpuRatio = pairedRatio(results, c.name, reference, (r) => r.cpuMs)
    const stage = base === null || c.name === baseline ? '–' : (s.median - base).toFixed(0)
    const stageRatio = base === null || c.name === baseline ? '–' : ((s.median - base) / refStage).toFixed(2)
    return [c.name, fmtStat(s, 0), fmtStat(ratio, 2), stage, stageRatio, fmtStat(cpu, 0), fmtStat(cpuRatio, 2)]
  })
  return mdTable(['config', 'ns per chunk (pipeline)', `ratio to ${reference}`, 'stage ns', 'stage ratio', 'CPU ms', 'CPU ratio'], rows)
}

// ---------------------------------------------------------------------------------------------
// Accuracy of blocked time

const HOLD_MS = 20
const ROUNDS = args.quick ? 15 : 40

/** A destination that completes each write HOLD_MS later and measures how long it really held. */
function holdingDestination () {
  const d = new Writable({
    highWaterMark: 1,
    write (chunk, encoding, cb) {
      const t0 = performance.now()
      setTimeout(() => {
        d.held += performance.now() - t0
        cb()
      }, HOLD_MS)
    }
  })
  d.held = 0
  return d
}

async function writeRounds (w) {
  for (let r = 0; r < ROUNDS; r++) {
    if (w.write(Buffer.alloc(100))) throw new Error('expected backpressure')
    await new Promise((resolve) => w.once('drain', resolve))
  }
}

async function accuracy () {
  const rows = []
  {
    const dest = holdingDestination()
    const w = MonitoredWritable.wrap(dest)
    await writeRounds(w)
    const s = w.stats()
    rows.push(['MonitoredWritable.wrap(dest)', ROUNDS, dest.held, s.blockedMs, s.backpressureEvents, s.drainEvents])
    w.destroy()
  }
  {
    let held = 0
    const w = new MonitoredWritable({
      highWaterMark: 1,
      write (chunk, encoding, cb) {
        const t0 = performance.now()
        setTimeout(() => { held += performance.now() - t0; cb() }, HOLD_MS)
      }
    })
    await writeRounds(w)
    const s = w.stats()
    rows.push(['new MonitoredWritable({ write })', ROUNDS, held, s.blockedMs, s.backpressureEvents, s.drainEvents])
    w.destroy()
  }
  {
    // A consumer that leaves the Meter's output unread for HOLD_MS each time it fills.
    const m = new Meter({ readableHighWaterMark: 1, writableHighWaterMark: 1 })
    let held = 0
    for (let r = 0; r < ROUNDS; r++) {
      m.write(Buffer.alloc(100))
      const t0 = performance.now()
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS))
      held += performance.now() - t0
      m.read()
      await new Promise((resolve) => setImmediate(resolve))
    }
    const s = m.stats()
    rows.push(['Meter (consumer reads late)', ROUNDS, held, s.blockedMs, s.backpressureEvents, s.drainEvents])
    m.destroy()
  }
  return rows.map(([name, rounds, truth, measured, bp, drains]) => {
    const err = (measured - truth) / truth * 100
    return { name, rounds, truth, measured, err, bp, drains }
  })
}

// ---------------------------------------------------------------------------------------------
// Many live meters: no thread each, one timer

async function manyMeters (count, seconds) {
  const fs = require('node:fs')
  const threads = () => fs.readdirSync('/proc/self/task').length
  // A meter's timer never holds the process open: something else must while we wait for it.
  const hold = setInterval(() => {}, 1000)
  const warm = new Meter({ interval: 10 })
  await new Promise((resolve) => warm.once('stats', resolve))
  clearInterval(hold)
  warm.destroy()
  const threads0 = threads()
  const rss0 = process.memoryUsage().rss
  const meters = []
  let ticks = 0
  const t0 = performance.now()
  for (let i = 0; i < count; i++) {
    const m = new Meter({ interval: 1000 })
    m.on('stats', () => { ticks++ })
    meters.push(m)
  }
  const createMs = performance.now() - t0
  globalThis.gc?.()
  const rss1 = process.memoryUsage().rss
  const cpu0 = process.cpuUsage()
  const w0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const wall = (performance.now() - w0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const row = {
    count,
    createUs: createMs * 1000 / count,
    kibEach: (rss1 - rss0) / 1024 / count,
    threadsAdded: threads() - threads0,
    ticksPerS: ticks / wall,
    cpuPerS: (cpu.user + cpu.system) / 1000 / wall
  }
  for (const m of meters) m.destroy()
  return row
}

async function main () {
  const cpus = os.cpus()
  console.log(`# bench:meter — ${new Date().toISOString()}`)
  console.log(`node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? '?'}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${args.reps} reps${args.quick ? ' (quick)' : ''}\n`)
  const verdicts = []
  // First, while the heap is clean (RSS per meter means little after the big runs).
  const many = await manyMeters(10_000, args.quick ? 2 : 5)
  for (const w of WORKLOADS) {
    const stages = STAGES.filter((s) => !(s.bytesOnly && w.objectMode))
    const r = await series(w, stages, stageBuild)
    console.log(`## ${w.name}: source → stage → sink, ${w.count.toLocaleString('en')} chunks\n`)
    console.log(table(w, stages, r, 'PassThrough', 'none (source → sink)'))
    if (r.failures.length) console.log(`\nFAILED COUNTS: ${[...new Set(r.failures)].join('; ')}`)
    // Judged on CPU time: on a shared machine wall time also counts the time others held the
    // CPU (the wall ratio is printed beside it).
    const ratio = pairedRatio(r.results, 'sluice Meter', 'PassThrough', (x) => x.cpuMs).median
    const wall = pairedRatio(r.results, 'sluice Meter', 'PassThrough', (x) => x.nsPerChunk).median
    verdicts.push([`Meter ≤ 1.25× PassThrough, CPU (${w.name}; wall ${wall.toFixed(2)})`, ratio, ratio <= 1.25])
    const wr = await series(w, WRAPS, wrapBuild)
    console.log(`\n## ${w.name}: source → [wrapper →] dest, ${w.count.toLocaleString('en')} chunks\n`)
    console.log(table(w, WRAPS, wr, 'dest alone', null))
    if (wr.failures.length) console.log(`\nFAILED COUNTS: ${[...new Set(wr.failures)].join('; ')}`)
    const wratio = pairedRatio(wr.results, 'MonitoredWritable.wrap(dest)', 'dest alone', (x) => x.cpuMs).median
    const wwall = pairedRatio(wr.results, 'MonitoredWritable.wrap(dest)', 'dest alone', (x) => x.nsPerChunk).median
    verdicts.push([`wrap(dest) ≤ 1.25× dest, CPU (${w.name}; wall ${wwall.toFixed(2)})`, wratio, wratio <= 1.25])
    console.log('')
  }
  console.log(`## Blocked time against known holds (${ROUNDS} × ${HOLD_MS} ms; truth measured by the destination/consumer)\n`)
  const acc = await accuracy()
  console.log(mdTable(['stream', 'rounds', 'held (truth) ms', 'blockedMs', 'error %', 'backpressure', 'drains'],
    acc.map((a) => [a.name, a.rounds, a.truth.toFixed(1), a.measured.toFixed(1), a.err.toFixed(2), a.bp, a.drains])))
  for (const a of acc) verdicts.push([`blocked time within 5 % (${a.name})`, a.err, Math.abs(a.err) <= 5 && a.bp === a.rounds && a.drains === a.rounds])
  console.log(`\n## Many live meters (interval 1000 ms, a 'stats' listener each, ${args.quick ? 2 : 5} s)\n`)
  console.log(mdTable(['meters', 'create µs each', 'RSS KiB each', 'threads added', "'stats' events/s", 'CPU ms/s'],
    [[many.count, many.createUs.toFixed(1), many.kibEach.toFixed(1), many.threadsAdded, many.ticksPerS.toFixed(0), many.cpuPerS.toFixed(1)]]))
  verdicts.push(['10,000 live meters add no thread', many.threadsAdded, many.threadsAdded === 0])
  console.log('\n## Targets\n')
  for (const [name, value, ok] of verdicts) console.log(`- ${ok ? 'met' : 'MISSED'}: ${name}: ${value.toFixed(2)}`)
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
