'use strict'

// NdjsonStringifier throughput against ndjson.stringify() and a hand-written
// `JSON.stringify(v) + '\n'` Transform, side by side in one run. Real-world records first
// (bench/real-corpus.js: each corpus file's lines parsed to objects before the clock starts),
// then 1,000,000 small generated objects. Pipeline: objectMode Readable → stringifier → a sink,
// twice: an in-memory Writable that counts lines (the cheapest consumer), and a file destination
// (fs.WriteStream on /dev/null) (bench/stringify-trial.js). Every trial runs in a fresh forked child,
// in an order rotated by one per rep; cells are median (min–max) over reps, the ratio is taken
// per rep (the candidates ran back to back) and then its median.
//
//   node bench/stringify.js [--reps N] [--size-mb N] [--only real-webhooks,...,small] [--quick]
//
// Defaults: 5 reps, 30 MB real corpora (about 3 minutes here); --quick: 1 rep, 10 MB.
// Markdown goes to stdout and to bench/.corpus/results-stringify.md; progress to stderr.
// Exits 1 if a trial failed.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const common = require('./common.js')
const realCorpus = require('./real-corpus.js')
const { sluiceFingerprint } = require('./candidates.js')

const TRIAL = path.join(__dirname, 'stringify-trial.js')
const IMPLS = ['sluice', 'hand', 'ndjson']
const PEERS = ['hand', 'ndjson']
const LABELS = { sluice: 'sluice NdjsonStringifier', hand: "hand-written JSON.stringify(v) + '\\n'", ndjson: 'ndjson.stringify()' }
const SMALL_COUNT = 1_000_000
const CORPORA = [...realCorpus.KINDS.map((k) => `real-${k}`), 'small']
const TARGET = 1.2
const SINKS = ['memory', 'file']
const SINK_LABELS = { memory: 'in-memory counting Writable', file: "fs.createWriteStream('/dev/null')" }

const log = (...a) => console.error(...a)

async function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    reps: { type: 'number' },
    'size-mb': { type: 'number' },
    only: { type: 'list', default: CORPORA },
    sinks: { type: 'list', default: SINKS },
    quick: { type: 'flag', default: false },
  })
  const reps = Math.floor(args.reps ?? (args.quick ? 1 : 5))
  const sizeMB = args['size-mb'] ?? (args.quick ? 10 : 30)
  for (const c of args.only) if (!CORPORA.includes(c)) throw new Error(`unknown corpus "${c}"; known: ${CORPORA.join(', ')}`)
  // Build the corpus files once, here, so no trial times a build.
  for (const c of args.only) if (c !== 'small') realCorpus.ensureRealCorpus(c.replace(/^real-/, ''), sizeMB, log)

  const out = []
  const emit = (text = '') => {
    console.log(text)
    out.push(text)
  }
  const cpus = os.cpus()
  const build = sluiceFingerprint()
  emit('# NdjsonStringifier')
  emit()
  emit(
    `${new Date().toISOString()} · Node ${process.version} · ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}) · ` +
      `${reps} reps, each trial in a fresh child, order rotated per rep` +
      (build ? ` · sluice build \`${build.id}\`` : '') +
      (args.quick ? ' · **--quick: smoke-test sizes**' : ''),
  )

  const failures = []
  const results = new Map()
  const jobs = []
  for (const sink of args.sinks) for (const corpus of args.only) for (const impl of IMPLS) jobs.push({ sink, corpus, impl, key: `${sink}/${corpus}/${impl}` })
  for (const j of jobs) results.set(j.key, [])
  for (let rep = 0; rep < reps; rep++) {
    for (const [sink, corpus] of args.sinks.flatMap((k) => args.only.map((c) => [k, c]))) {
      const mine = jobs.filter((j) => j.corpus === corpus && j.sink === sink)
      const order = mine.map((_, i) => mine[(i + rep) % mine.length])
      for (const job of order) {
        const tag = `[rep ${rep + 1}/${reps}] ${job.key}`
        try {
          const r = await common.runChild(TRIAL, { impl: job.impl, corpus, sizeMB, count: SMALL_COUNT, sink }, { warn: (m) => log(`WARNING ${tag}: ${m}`), execArgv: ['--expose-gc'] })
          results.get(job.key)[rep] = r
          log(`${tag}: ${r.mbPerS.toFixed(1)} MB/s, ${(r.processCpuS / r.wallS).toFixed(2)} cores, ${r.chunks ?? '?'} chunks (bg ${r.bgCores.toFixed(2)} cores)`)
        } catch (err) {
          failures.push(`${tag}: ${err.message.split('\n')[0]}`)
          log(`${tag} FAILED: ${err.message}`)
        }
      }
    }
  }

  const tables = []
  for (const sink of args.sinks) {
    const rows = []
    for (const corpus of args.only) {
      const get = (impl) => results.get(`${sink}/${corpus}/${impl}`)
      const first = get('sluice').find(Boolean) ?? get('hand').find(Boolean)
      // Per rep: sluice over the faster peer of that rep.
      const ratios = get('sluice').map((r, i) => {
        const peers = PEERS.map((p) => get(p)[i]?.mbPerS).filter(Number.isFinite)
        return r && peers.length ? r.mbPerS / Math.max(...peers) : NaN
      })
      const ratio = common.summarise(ratios)
      const verdict = ratio ? (ratio.median >= TARGET ? 'ok' : 'MISS') : '–'
      // The same per rep in CPU per byte (less sensitive to what else the machine runs): the
      // thriftier peer's CPU per MB over sluice's.
      const cpuRatio = common.summarise(get('sluice').map((r, i) => {
        const peers = PEERS.map((p) => get(p)[i]).filter(Boolean).map((x) => x.processCpuS / x.bytes)
        return r && peers.length ? Math.min(...peers) / (r.processCpuS / r.bytes) : NaN
      }))
      rows.push([
        corpus === 'small' ? `small: ${SMALL_COUNT.toLocaleString('en')} objects of 5 fields` : `${corpus} (${sizeMB} MB)`,
        first ? `${first.values.toLocaleString('en')} / ${(first.bytes / 1e6).toFixed(1)} MB` : '–',
        ...IMPLS.map((impl) => cell(get(impl))),
        `${common.fmtStat(ratio, 2)}× ${verdict}`,
        `${common.fmtStat(cpuRatio, 2)}×`,
        cpuCell(get('sluice')),
        PEERS.map((p) => cpuCell(get(p))).join(' / '),
        chunksCell(results.get(`memory/${corpus}/sluice`) ?? []),
      ])
    }
    tables.push([sink, rows])
  }
  const bg = common.summarise([...results.values()].flat().filter(Boolean).map((r) => r.bgCores))
  for (const [sink, rows] of tables) {
    emit()
    emit(`## Into ${SINK_LABELS[sink]}: MB/s of NDJSON out (median (min–max) of ${reps}); target ≥ ${TARGET}× the faster peer`)
    emit()
    emit(
      common.mdTable(
        ['corpus', 'values / output', ...IMPLS.map((i) => LABELS[i]), 'sluice ÷ faster peer (per rep)', 'CPU: thriftier peer ÷ sluice (per rep)', 'sluice CPU s per 100 MB', 'hand / ndjson CPU s per 100 MB', 'sluice chunks out'],
        rows,
      ),
    )
  }
  emit()
  emit(
    'CPU is the whole process (user + system; the stringifier runs on the JS thread, so it is nearly all main-thread time), ' +
      'per 100 MB of output. The peers push one chunk per value; the sink sees that many writes. ' +
      `Background load during the trials: median ${bg ? bg.median.toFixed(2) : '?'} cores busy outside the trial.`,
  )
  if (failures.length) {
    emit()
    emit(`**${failures.length} trial(s) FAILED:**`)
    for (const f of failures) emit(`- ${f}`)
  }
  const dir = path.join(__dirname, '.corpus')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'results-stringify.md'), out.join('\n') + '\n')
  if (failures.length) process.exitCode = 1
}

function cell(results) {
  return common.fmtStat(common.summarise(results.filter(Boolean).map((r) => r.mbPerS)), 0)
}

function cpuCell(results) {
  const s = common.summarise(results.filter(Boolean).map((r) => (r.processCpuS / r.bytes) * 1e8))
  return s ? s.median.toFixed(2) : '–'
}

function chunksCell(results) {
  const r = results.find((x) => x && x.chunks !== null)
  return r ? `${r.chunks.toLocaleString('en')} (${(r.bytes / r.chunks / 1024).toFixed(1)} KiB avg)` : '–'
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
