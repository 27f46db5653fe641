'use strict'

// BoundedBuffer: throughput against a core PassThrough, and memory under overload. Every trial
// runs in a fresh forked child (bench/buffer-trial.js), in an order rotated by one per rep;
// cells are median (min–max) over reps.
//
// 1. Throughput, 'block' mode, a consumer as fast as the producer: memory source → stage → sink
//    that calls back at once, the stage a core PassThrough or a BoundedBuffer with the same
//    highWaterMark (the default); the buffer has its default capacity. Target: ≥ 0.9× PassThrough.
//      bytes-64k : 4 GiB in 64 KiB chunks     bytes-1k : 1 GiB in 1 KiB chunks
//      objects   : 5,000,000 objects
//    (subarrays of one buffer: no copies, so the stages' per-chunk cost is what is timed)
// 2. Overload: a producer 10× faster than its consumer (40 MiB/s of fresh 16 KiB Buffers into a
//    4 MiB/s sink) for --seconds (10) in every overflow mode, capacityBytes 4 MiB. Targets: the
//    stage never holds more than capacityBytes + 1 MiB; peak RSS and heap growth shown beside
//    that bound; in drop modes the producer is never slowed (write() never false, schedule kept).
//    The 'none' row is the baseline: the same producer, every chunk thrown away at once (the
//    process's memory growth from the producer's garbage alone).
//
//   node bench/buffer.js [--reps N] [--quick] [--seconds S] [--only throughput,overload]
//
// Defaults: 5 reps of the throughput cases, 1 rep of the 10 s overload per mode (about 2.5
// minutes). --quick: 1 rep and 2 s. Markdown goes to stdout and to bench/.corpus/results-buffer.md;
// progress to stderr. Exits 1 if a trial failed.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const common = require('./common.js')
const { sluiceFingerprint } = require('./candidates.js')

const TRIAL = path.join(__dirname, 'buffer-trial.js')
const KiB = 1024
const MiB = 1024 * KiB
const HWM = 16 * KiB // Node 20's default; passed explicitly so both stages surely match
const OBJECT_HWM = 16

const THROUGHPUT = [
  { id: 'bytes-64k', label: 'bytes, 64 KiB chunks', unit: 'MiB/s', scale: MiB, input: { objects: false, chunk: 64 * KiB, total: 4096 * MiB, hwm: HWM } },
  { id: 'bytes-1k', label: 'bytes, 1 KiB chunks', unit: 'MiB/s', scale: MiB, input: { objects: false, chunk: KiB, total: 1024 * MiB, hwm: HWM } },
  { id: 'objects', label: 'objects', unit: 'k objects/s', scale: 1000, input: { objects: true, chunk: 0, total: 5_000_000, hwm: OBJECT_HWM } },
]
const MODES = ['none', 'block', 'drop-oldest', 'drop-newest', 'drop-incoming', 'drop-all', 'error']
const OVERLOAD = { capacityBytes: 4 * MiB, chunk: 16 * KiB, produceRate: 40 * MiB, consumeRate: 4 * MiB }
const TARGET_RATIO = 0.9
const BOUND_MIB = OVERLOAD.capacityBytes / MiB + 1

const log = (...a) => console.error(...a)

async function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    reps: { type: 'number' },
    quick: { type: 'flag', default: false },
    seconds: { type: 'number' },
    only: { type: 'list', default: ['throughput', 'overload'] },
  })
  const q = args.quick
  const reps = Math.floor(args.reps ?? (q ? 1 : 5))
  const seconds = args.seconds ?? (q ? 2 : 10)
  const out = []
  const emit = (text = '') => {
    console.log(text)
    out.push(text)
  }
  const cpus = os.cpus()
  const build = sluiceFingerprint()
  emit('# BoundedBuffer')
  emit()
  emit(
    `${new Date().toISOString()} · Node ${process.version} · ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}) · ` +
      `each trial in a fresh child, order rotated per rep` +
      (build ? ` · sluice build \`${build.id}\`` : '') +
      (q ? ' · **--quick: smoke-test sizes**' : ''),
  )
  const failures = []

  if (args.only.includes('throughput')) {
    const jobs = []
    for (const c of THROUGHPUT) for (const impl of ['passthrough', 'buffer']) jobs.push({ key: `${c.id}/${impl}`, c, impl })
    const results = new Map(jobs.map((j) => [j.key, []]))
    for (let rep = 0; rep < reps; rep++) {
      const order = jobs.map((_, i) => jobs[(i + rep) % jobs.length])
      for (const job of order) {
        const tag = `[rep ${rep + 1}/${reps}] ${job.key}`
        try {
          const r = await common.runChild(TRIAL, { kind: 'throughput', impl: job.impl, ...job.c.input }, { warn: (m) => log(`WARNING ${tag}: ${m}`) })
          results.get(job.key).push(r)
          log(`${tag}: ${(r.perS / job.c.scale).toFixed(1)} ${job.c.unit} (bg ${r.bgCores.toFixed(2)} cores)`)
        } catch (err) {
          failures.push(`${tag}: ${err.message.split('\n')[0]}`)
          log(`${tag} FAILED: ${err.message}`)
        }
      }
    }
    const rows = THROUGHPUT.map((c) => {
      const pt = results.get(`${c.id}/passthrough`)
      const bb = results.get(`${c.id}/buffer`)
      // The ratio per rep (the two ran back to back in one rep), then its median.
      const ratios = bb.map((r, i) => (pt[i] ? r.perS / pt[i].perS : NaN))
      const ratio = common.summarise(ratios)
      const verdict = ratio ? (ratio.median >= TARGET_RATIO ? 'ok' : 'MISS') : '–'
      return [
        c.label,
        fmt(pt, c.scale, c.unit),
        fmt(bb, c.scale, c.unit),
        `${common.fmtStat(ratio, 2)}×`,
        `≥ ${TARGET_RATIO}× ${verdict}`,
      ]
    })
    const bg = common.summarise([...results.values()].flat().map((r) => r.bgCores))
    emit()
    emit(`## Throughput, 'block' mode, consumer as fast as the producer (${reps} reps; highWaterMark ${HWM / KiB} KiB / ${OBJECT_HWM} objects on both)`)
    emit()
    emit(common.mdTable(['case', 'core PassThrough', 'BoundedBuffer', 'ratio (per rep)', 'target'], rows))
    emit()
    emit(`Background load during the trials: median ${bg ? bg.median.toFixed(2) : '?'} cores busy outside the trial.`)
  }

  if (args.only.includes('overload')) {
    const rows = []
    for (const overflow of MODES) {
      const tag = `overload/${overflow}`
      log(`${tag} (${seconds} s) ...`)
      try {
        const r = await common.runChild(TRIAL, { kind: 'overload', overflow, seconds, ...OVERLOAD }, { warn: (m) => log(`WARNING ${tag}: ${m}`) })
        log(`${tag}: ${JSON.stringify(r)}`)
        const dropping = overflow.startsWith('drop-')
        const heldOk = r.heldMaxMiB <= BOUND_MIB
        if (!heldOk && overflow !== 'none') failures.push(`${tag}: the stage held ${r.heldMaxMiB.toFixed(2)} MiB (bound ${BOUND_MIB} MiB)`)
        const notSlowed = !dropping || (r.falses === 0 && r.scheduleRatio >= 0.98)
        if (!r.accounting) failures.push(`${tag}: stats() do not add up`)
        rows.push([
          overflow === 'none' ? 'baseline: every chunk thrown away at once' : `'${overflow}'`,
          `${(r.producedRate / MiB).toFixed(1)} (${(r.scheduleRatio * 100).toFixed(0)} %)`,
          `${(r.consumedRate / MiB).toFixed(2)}`,
          `${r.falses}${r.waitedMs > 0 ? ` (waited ${(r.waitedMs / 1000).toFixed(1)} s)` : ''}`,
          r.errored ?? String(r.dropped),
          overflow === 'none' ? '–' : `${r.heldMaxMiB.toFixed(2)} ${heldOk ? 'ok' : 'MISS'}`,
          r.rssDeltaMiB.toFixed(1),
          r.heapDeltaMiB.toFixed(1),
          r.arrayBuffersDeltaMiB.toFixed(1),
          overflow === 'none' ? '–' : dropping ? (notSlowed ? 'never slowed' : 'SLOWED') : overflow === 'block' ? 'held by design' : 'fails by design',
        ])
      } catch (err) {
        failures.push(`${tag}: ${err.message.split('\n')[0]}`)
        log(`${tag} FAILED: ${err.message}`)
      }
    }
    emit()
    emit(
      `## Overload: producer ${OVERLOAD.produceRate / MiB} MiB/s of fresh ${OVERLOAD.chunk / KiB} KiB Buffers, consumer ${OVERLOAD.consumeRate / MiB} MiB/s, ` +
        `${seconds} s, capacityBytes ${OVERLOAD.capacityBytes / MiB} MiB (bound: ${BOUND_MIB} MiB)`,
    )
    emit()
    emit(
      common.mdTable(
        ['overflow', 'produced MiB/s (of schedule)', 'consumed MiB/s', 'write() false', 'dropped / error', 'max held by the stage MiB', 'peak RSS Δ MiB', 'peak heap Δ MiB', 'peak ArrayBuffers Δ MiB', 'producer'],
        rows,
      ),
    )
    emit()
    emit(
      '"Held by the stage" = ring + readable buffer + writable buffer, checked after every write. RSS, heap and ArrayBuffer ' +
        'growth are peaks over the baseline taken just before the run, sampled every 20 ms: they also hold the producer\'s ' +
        'dropped Buffers until V8 collects them.',
    )
  }

  if (failures.length) {
    emit()
    emit(`**${failures.length} trial(s) FAILED:**`)
    for (const f of failures) emit(`- ${f}`)
  }
  const dir = path.join(__dirname, '.corpus')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'results-buffer.md'), out.join('\n') + '\n')
  if (failures.length) process.exitCode = 1
}

function fmt(results, scale, unit) {
  return `${common.fmtStat(common.summarise(results.map((r) => r.perS / scale)), 1)} ${unit}`
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
