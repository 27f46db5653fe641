'use strict'

// Web Streams benchmark (issue 12). Sections (--sections, default all): `parse`: NdjsonParseStream against the WHATWG NDJSON peers
// (@streamparser/json-whatwg, ndjson-readablestream, and a minimal TextDecoderStream + split +
// JSON.parse TransformStream), with NdjsonParser in stream.pipeline beside them, on the real-world
// corpora first (bench/real-corpus.js), then the generated ones (bench/corpus.js). `stringify`:
// NdjsonStringifyStream against a minimal TransformStream (JSON.stringify(v) + '\n', TextEncoder),
// with NdjsonStringifier in stream.pipeline beside them, on the same corpora's lines parsed to values
// (ndjson-readablestream and @streamparser/json-whatwg have no stringifier). `stall`: how far a
// producer that awaits writer.ready gets when the reader stops reading.
//
//   node bench/web.js [--size-mb N] [--reps N] [--only real-webhooks,...,small,medium,large]
//                     [--candidates sluice-web,...] [--sections parse,stringify,stall]
//
// Defaults: 30 MB corpora, 3 reps. Method as bench/ndjson.js: every trial in a fresh forked child,
// candidates in an order rotated by one per rep, median (min–max) over reps; the source is a
// ReadableStream of 64 KiB subarrays of the corpus in memory, the consumer `for await` touching
// one field of each record (NdjsonParser: the same counting sink as bench/ndjson.js).
// Markdown goes to stdout and to bench/.corpus/results-web.md; progress to stderr.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const corpus = require('./corpus.js')
const realCorpus = require('./real-corpus.js')
const common = require('./common.js')

const CANDIDATES = [
  { name: 'sluice-web', what: 'NdjsonParseStream' },
  { name: 'streamparser-json-whatwg', what: '@streamparser/json-whatwg JSONParser', peer: true },
  { name: 'ndjson-readablestream', what: 'ndjson-readablestream', peer: true },
  { name: 'minimal-whatwg', what: 'TextDecoderStream + split + JSON.parse TransformStream', peer: true },
  { name: 'sluice-pipeline', what: 'NdjsonParser in stream.pipeline (Node streams)' }
]
const STRINGIFY_CANDIDATES = [
  { name: 'sluice-web-stringify', what: 'NdjsonStringifyStream' },
  { name: 'minimal-whatwg-stringify', what: "TransformStream: TextEncoder.encode(JSON.stringify(v) + '\\n')", peer: true },
  { name: 'sluice-stringifier-pipeline', what: 'NdjsonStringifier in stream.pipeline (Node streams)' }
]
const SECTIONS = ['parse', 'stringify', 'stall']
// The targets of issue 12.
const PEER_TARGET = 1.5
const PIPELINE_TARGET = 0.9
const STALL_READ_VALUES = 100

const REAL_KINDS = realCorpus.KINDS.map((k) => `real-${k}`)
const ALL_KINDS = [...REAL_KINDS, ...corpus.KINDS]
const isReal = (kind) => kind.startsWith('real-')
const log = (...a) => console.error(...a)

async function main () {
  const args = common.parseArgs(process.argv.slice(2), {
    'size-mb': { type: 'number', default: 30 },
    reps: { type: 'number', default: 3 },
    only: { type: 'list', default: ALL_KINDS },
    candidates: { type: 'list' },
    sections: { type: 'list', default: SECTIONS }
  })
  for (const k of args.sections) if (!SECTIONS.includes(k)) throw new Error(`unknown section "${k}"; known: ${SECTIONS.join(', ')}`)
  for (const k of args.only) if (!ALL_KINDS.includes(k)) throw new Error(`unknown corpus "${k}"; known: ${ALL_KINDS.join(', ')}`)
  args.only.sort((a, b) => isReal(b) - isReal(a))
  const cands = CANDIDATES.filter((c) => !args.candidates || args.candidates.includes(c.name))
  const sizeMB = args['size-mb']
  const reps = Math.floor(args.reps)

  const out = []
  const emit = (text = '') => {
    console.log(text)
    out.push(text)
  }
  emit('# Web Streams: NdjsonParseStream, NdjsonStringifyStream')
  emit()
  emit(`${new Date().toISOString()} · Node ${process.version} · ${os.cpus().length} CPUs · load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} · ` +
    `${sizeMB} MB corpora · ${reps} rep(s) · 64 KiB chunks from memory · each trial in a fresh child`)
  emit()
  const failures = []
  if (args.sections.includes('parse')) await parseSection(args, cands, emit, failures, sizeMB, reps)
  if (args.sections.includes('stringify')) await stringifySection(args, emit, failures, sizeMB, reps)
  if (args.sections.includes('stall')) await stallSection(args, emit, failures, sizeMB)
  if (failures.length) {
    emit()
    emit(`**${failures.length} trial(s) FAILED:**`)
    for (const f of failures) emit(`- ${f}`)
    process.exitCode = 1
  }
  fs.mkdirSync(corpus.CORPUS_DIR, { recursive: true })
  fs.writeFileSync(path.join(corpus.CORPUS_DIR, 'results-web.md'), out.join('\n') + '\n')
}

const corpusMeta = (kind, sizeMB) => (isReal(kind)
  ? realCorpus.ensureRealCorpus(kind.slice('real-'.length), sizeMB, log)
  : corpus.ensureCorpus(kind, sizeMB, log))

/** Every candidate on one corpus, `reps` times in rotated order; a Map name → results. */
async function runCandidates (kind, cands, reps, input, failures) {
  const results = new Map(cands.map((c) => [c.name, []]))
  for (let rep = 0; rep < reps; rep++) {
    const order = cands.map((_, i) => cands[(i + rep) % cands.length])
    for (const cand of order) {
      const tag = `[${kind} rep ${rep + 1}/${reps}] ${cand.name}`
      try {
        const r = await common.runChild(path.join(__dirname, 'web-trial.js'), { ...input, candidate: cand.name }, { execArgv: ['--expose-gc'] })
        results.get(cand.name).push(r)
        log(`${tag}: ${r.mbPerS.toFixed(1)} MB/s`)
      } catch (err) {
        failures.push(`${tag}: ${err.message.split('\n')[0]}`)
        log(`TRIAL FAILED ${tag}: ${err.message}`)
      }
    }
  }
  return results
}

async function stringifySection (args, emit, failures, sizeMB, reps) {
  const cands = STRINGIFY_CANDIDATES.filter((c) => !args.candidates || args.candidates.includes(c.name))
  emit()
  emit('# NdjsonStringifyStream')
  emit()
  emit('Candidates: ' + cands.map((c) => `\`${c.name}\` (${c.what})`).join('; ') + '. ' +
    'Values: the corpus lines parsed before the clock, from a ReadableStream (up to 64 per pull); the consumer `for await` counts bytes and newlines. ' +
    'MB/s = output bytes / 1e6 / wall s.')
  const summary = []
  for (const kind of args.only) {
    const meta = corpusMeta(kind, sizeMB)
    const results = await runCandidates(kind, cands, reps, { mode: 'stringify', path: meta.path, records: meta.records }, failures)
    // Output bytes differ per trial: CPU per MB of each trial's own output.
    const { stat, perMB } = common.resultStats(results)
    const web = stat('sluice-web-stringify', 'mbPerS')
    const peer = stat('minimal-whatwg-stringify', 'mbPerS')
    const pipe = stat('sluice-stringifier-pipeline', 'mbPerS')
    summary.push({ kind, vsPeer: web && peer ? web.median / peer.median : NaN, vsPipeline: web && pipe ? web.median / pipe.median : NaN })
    emit()
    emit(`## stringify ${kind}: ${meta.records} values`)
    emit()
    emit(common.mdTable(
      ['candidate', 'MB/s', 'k values/s', 'vs minimal-whatwg', 'vs pipeline', 'chunks', 'JS-thread CPU ms/MB', 'process CPU ms/MB', 'GC ms', 'bg load (cores)'],
      cands.map((c) => {
        const mb = stat(c.name, 'mbPerS')
        return [
          c.name,
          common.fmtStat(mb),
          common.fmtStat(stat(c.name, 'krecPerS')),
          mb && peer ? `${(mb.median / peer.median).toFixed(2)}×` : '–',
          mb && pipe ? `${(mb.median / pipe.median).toFixed(2)}×` : '–',
          common.fmtStat(stat(c.name, 'chunks'), 0),
          common.fmtStat(perMB(c.name, 'threadCpuS'), 2),
          common.fmtStat(perMB(c.name, 'processCpuS'), 2),
          common.fmtStat(stat(c.name, 'gcMs'), 0),
          common.fmtStat(stat(c.name, 'bgCores'), 2)
        ]
      })
    ))
  }
  emit()
  emit('## stringify summary')
  emit()
  emit(common.mdTable(['corpus', 'sluice-web-stringify vs minimal-whatwg', 'vs NdjsonStringifier pipeline'],
    summary.map((s) => [s.kind, `${s.vsPeer.toFixed(2)}×`, `${s.vsPipeline.toFixed(2)}×`])))
}

async function parseSection (args, cands, emit, failures, sizeMB, reps) {
  emit('Candidates: ' + cands.map((c) => `\`${c.name}\` (${c.what})`).join('; ') + '.')
  emit('MB/s = input bytes / 1e6 / wall s; JS-thread CPU = the main thread only, process CPU adds GC helpers and the native workers. ' +
    `Targets: sluice-web ≥ ${PEER_TARGET}× the best WHATWG peer, ≥ ${PIPELINE_TARGET}× sluice-pipeline.`)

  const summary = []
  for (const kind of args.only) {
    const meta = corpusMeta(kind, sizeMB)
    const results = await runCandidates(kind, cands, reps,
      { mode: 'throughput', path: meta.path, bytes: meta.bytes, records: meta.records, anyObject: isReal(kind) }, failures)
    const { stat, perMB } = common.resultStats(results, meta.bytes)
    let best = null
    for (const c of cands) {
      const s = stat(c.name, 'mbPerS')
      if (c.peer && s && (!best || s.median > best.median)) best = { name: c.name, median: s.median }
    }
    const web = stat('sluice-web', 'mbPerS')
    const pipe = stat('sluice-pipeline', 'mbPerS')
    const vsPeer = web && best ? web.median / best.median : NaN
    const vsPipeline = web && pipe ? web.median / pipe.median : NaN
    summary.push({ kind, vsPeer, best: best?.name, vsPipeline, avg: meta.bytes / meta.records })

    emit()
    emit(`## ${kind}: ${meta.records} records, ${(meta.bytes / 1e6).toFixed(1)} MB, avg ${(meta.bytes / meta.records).toFixed(0)} B/record`)
    emit()
    emit(common.mdTable(
      ['candidate', 'MB/s', 'k rec/s', 'vs best peer', 'vs sluice-pipeline', 'JS-thread CPU ms/MB', 'process CPU ms/MB', 'GC ms', 'peak RSS MiB', 'bg load (cores)'],
      cands.map((c) => {
        const mb = stat(c.name, 'mbPerS')
        return [
          c.name === best?.name ? `${c.name} (best peer)` : c.name,
          common.fmtStat(mb),
          common.fmtStat(stat(c.name, 'krecPerS')),
          mb && best ? `${(mb.median / best.median).toFixed(2)}×` : '–',
          mb && pipe ? `${(mb.median / pipe.median).toFixed(2)}×` : '–',
          common.fmtStat(perMB(c.name, 'threadCpuS'), 2),
          common.fmtStat(perMB(c.name, 'processCpuS'), 2),
          common.fmtStat(stat(c.name, 'gcMs'), 0),
          common.fmtStat(stat(c.name, 'peakRssMiB'), 0),
          common.fmtStat(stat(c.name, 'bgCores'), 2)
        ]
      })
    ))
  }

  emit()
  emit('## Summary')
  emit()
  emit(common.mdTable(['corpus', 'avg B/record', 'sluice-web vs best peer', `≥ ${PEER_TARGET}×`, 'sluice-web vs sluice-pipeline', `≥ ${PIPELINE_TARGET}×`],
    summary.map((s) => [
      s.kind,
      s.avg.toFixed(0),
      `${s.vsPeer.toFixed(2)}× (${s.best})`,
      s.vsPeer >= PEER_TARGET ? 'met' : '**missed**',
      `${s.vsPipeline.toFixed(2)}×`,
      s.vsPipeline >= PIPELINE_TARGET ? 'met' : '**missed**'
    ])))

}

async function stallSection (args, emit, failures, sizeMB) {
  {
    emit()
    emit(`## A reader that stops: how far a producer awaiting writer.ready gets`)
    emit()
    emit(`The reader reads ${STALL_READ_VALUES} values and stops; the producer writes 64 KiB chunks, each after \`await writer.ready\`, ` +
      'until ready stays pending (1 s without progress). held = bytes written − bytes of the lines read.')
    emit()
    const rows = []
    for (const kind of args.only) {
      const meta = corpusMeta(kind, sizeMB)
      try {
        const r = await common.runChild(path.join(__dirname, 'web-trial.js'), { mode: 'stall', path: meta.path, readValues: STALL_READ_VALUES })
        rows.push([kind, r.stalled ? 'yes' : '**no**', (r.written / 1024).toFixed(0), (r.consumed / 1024).toFixed(0), (r.held / 1024).toFixed(0)])
      } catch (err) {
        failures.push(`[${kind}] stall: ${err.message.split('\n')[0]}`)
      }
    }
    emit(common.mdTable(['corpus', 'stalled', 'written KiB', 'read KiB', 'held KiB'], rows))
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
