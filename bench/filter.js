'use strict'

// `where`/`select` benchmark: NdjsonParser filtering and projecting on its worker, against each
// peer parser followed by the same filter/projection in a JS Transform, and jq, on real-world
// corpora (bench/real-corpus.js: GitHub events built around @octokit/webhooks-examples, and the
// webhook payloads themselves), fed through `pipeline` from a file (and from memory, which shows
// the ceiling without the file stream's cost).
//
//   node bench/filter.js [--size-mb N] [--reps N] [--only where,select,lines] [--sources file,mem]
//
// Defaults: 100 MB corpora, 3 reps. Method as bench/ndjson.js: each trial in a fresh child, the
// candidates' order rotated per rep, median (min–max) per cell, background load measured. Every
// candidate of a scenario must output the same number of records (jq too), or the run fails.
// Markdown to stdout and bench/.corpus/results-filter.md; progress to stderr.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const realCorpus = require('./real-corpus.js')
const common = require('./common.js')
const { SCENARIOS } = require('./filter-scenarios.js')
const { CORPUS_DIR } = require('./corpus.js')

const PEERS = ['split2', 'ndjson', 'stream-json', 'minimal-js']
const log = (...a) => console.error(...a)

async function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    'size-mb': { type: 'number', default: 100 },
    reps: { type: 'number', default: 3 },
    only: { type: 'list', default: Object.keys(SCENARIOS) },
    sources: { type: 'list', default: ['file', 'mem'] },
    // Read size of the file source (fs.createReadStream's highWaterMark) and of the memory
    // source's subarrays, the same for every candidate.
    'chunk-kib': { type: 'number', default: common.CHUNK / 1024 },
  })
  const chunkBytes = args['chunk-kib'] * 1024
  const out = []
  const emit = (s = '') => {
    out.push(s)
    console.log(s)
  }
  const haveJq = fs.existsSync('/usr/bin/jq')
  emit(`# sluice where/select benchmark`)
  emit()
  emit(`${os.cpus().length} × ${os.cpus()[0].model} · Node ${process.version} · ${args['size-mb']} MB corpora · ` +
    `${args.reps} reps · ${args['chunk-kib']} KiB chunks through pipeline · each trial in a fresh child`)
  emit()
  emit('MB/s = input bytes / 1e6 / wall s. JS-thread CPU = the main thread; process CPU adds the native worker, ' +
    'GC helpers and the libuv pool (for jq: its own process). Ratio = median MB/s / the best "peer + JS" median. ' +
    'bg load = cores busy with other processes during the trial.' + (haveJq ? '' : ' jq rows skipped: /usr/bin/jq is absent.'))
  let failed = false
  for (const name of args.only) {
    const sc = SCENARIOS[name]
    if (!sc) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`)
    const meta = realCorpus.ensureRealCorpus(sc.corpus, args['size-mb'], log)
    common.warmPageCache(meta.path)
    for (const source of args.sources) {
      if (!(await scenarioTable(name, sc, meta, source, args.reps, haveJq, emit, chunkBytes))) failed = true
    }
  }
  fs.mkdirSync(CORPUS_DIR, { recursive: true })
  fs.writeFileSync(path.join(CORPUS_DIR, 'results-filter.md'), out.join('\n') + '\n')
  if (failed) process.exitCode = 1
}

/** Runs one scenario from one source and emits its table; false when the record counts differ. */
async function scenarioTable(name, sc, meta, source, reps, haveJq, emit, chunkBytes) {
  // jq reads the file itself: it has a row in the file table only.
  const cands = ['sluice', ...PEERS, ...(haveJq && source === 'file' ? ['jq'] : [])]
  const results = new Map(cands.map((c) => [c, []]))
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < cands.length; i++) {
      const cand = cands[(i + rep) % cands.length]
      const r = await common.runChild(path.join(__dirname, 'filter-trial.js'), { scenario: name, candidate: cand, source, path: meta.path, bytes: meta.bytes, chunkBytes })
      results.get(cand).push(r)
      log(`[${name}/${source} rep ${rep + 1}] ${cand}: ${r.mbPerS.toFixed(1)} MB/s, ${r.records} records, bg ${r.bgCores.toFixed(2)}`)
    }
  }
  const counts = new Set([...results.values()].flat().map((r) => r.records))
  const { stat, perMB } = common.resultStats(results, meta.bytes)
  let best = null
  for (const p of PEERS) {
    const s = stat(p, 'mbPerS')
    if (s && (!best || s.median > best.median)) best = { name: p, median: s.median }
  }
  const what = name === 'select' ? 'projection' : 'filter'
  const label = (c) => (c === 'sluice'
    ? `**sluice** \`${JSON.stringify(sc.sluice())}\``
    : c === 'jq' ? `jq \`${sc.jq}\`` : `${c} + JS ${what}${c === best.name ? ' (best peer)' : ''}`)
  const rows = cands.map((c) => {
    const mb = stat(c, 'mbPerS')
    return [
      label(c),
      common.fmtStat(mb),
      `${(mb.median / best.median).toFixed(2)}×`,
      common.fmtStat(perMB(c, 'threadCpuS'), 2),
      common.fmtStat(perMB(c, 'processCpuS'), 2),
      common.fmtStat(stat(c, 'bgCores'), 2),
    ]
  })
  const sluiceMb = stat('sluice', 'mbPerS').median
  const ratio = sluiceMb / best.median
  emit()
  emit(`## ${name} · source=${source}: ${sc.title}`)
  emit()
  emit(`Corpus real-${sc.corpus}: ${meta.records} records, ${(meta.bytes / 1e6).toFixed(1)} MB, avg ${(meta.bytes / meta.records).toFixed(0)} B/record ` +
    `(${meta.what}, \`${meta.package}\` ${meta.packageVersion}); ${[...counts].join(' / ')} records out.`)
  emit()
  emit(common.mdTable(['candidate', 'MB/s', 'vs best peer + JS', 'JS-thread CPU ms/MB', 'process CPU ms/MB', 'bg load (cores)'], rows))
  emit()
  if (sc.target) emit(`Target ≥ ${sc.target}× the best peer + JS: **${ratio.toFixed(2)}× ${ratio >= sc.target ? 'PASS' : 'FAIL'}**`)
  if (sc.targetMBs && source === 'file') emit(`Target ≥ ${sc.targetMBs} MB/s end to end from a file: **${sluiceMb.toFixed(0)} MB/s ${sluiceMb >= sc.targetMBs ? 'PASS' : 'FAIL'}**`)
  if (counts.size !== 1) {
    emit(`**Record counts differ between candidates: ${[...counts].join(', ')}**`)
    return false
  }
  return true
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
