'use strict'

// NdjsonParser at the edges, each trial in a fresh child:
//   a. long-line : one 100 MiB JSON line, no trailing newline, from memory in 64 KiB chunks,
//                  NdjsonParser({maxLineBytes: 128 MiB}); target: wall < 1 s
//   b. big-file  : a 1 GB small-record NDJSON file via fs.createReadStream; target: peak RSS < 80 MiB
//   c. no-reader : a producer honouring write()/'drain' while nothing reads the output; target: it
//                  is stopped after a bounded amount of input (a few hundred KiB)
//
//   node bench/ndjson-limits.js [--only a,b,c] [--reps N] [--with-split2] [--sluice-only]
//
// minimal-js (bench/minimal.js) runs too, as a reference row, unless --sluice-only; split2 joins
// scenario a with --with-split2 (it is quadratic there: ~110 s). Markdown goes to stdout and to
// bench/.corpus/results-ndjson-limits.md. Exits 1 if a trial failed or a sluice target was missed.

const fs = require('node:fs')
const path = require('node:path')
const corpus = require('./corpus.js')
const { probeSluice, sluiceFingerprint, SLUICE_MODULE } = require('./candidates.js')
const common = require('./common.js')

const { MiB } = common
const LONG_LINE_BYTES = 100 * MiB
const BIG_FILE_MB = 1000
const NO_READER_CAP = 16 * MiB // give up (and FAIL) if the producer is never stopped before this
const STALL_MS = 500

const TARGETS = {
  a: { text: 'wall < 1 s', pass: (m) => m.wallS.median < 1 },
  b: { text: 'peak RSS < 80 MiB', pass: (m) => m.peakRssMiB.median < 80 },
  c: {
    text: 'stopped after ≤ 1 MiB written (a few hundred KiB expected)',
    pass: (m) => m.allStalled && m.stable && m.written.max <= MiB,
  },
}

const log = (...a) => console.error(...a)

async function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    only: { type: 'list', default: ['a', 'b', 'c'] },
    reps: { type: 'number', default: 3 },
    'with-split2': { type: 'flag', default: false },
    'sluice-only': { type: 'flag', default: false },
  })
  const reps = Math.floor(args.reps)
  const sluice = probeSluice()
  if (!sluice.ok) log(`WARNING: sluice addon not available (${sluice.reason}); running the reference rows only.`)

  const candidatesFor = (scenario) => {
    const list = []
    if (sluice.ok) list.push('sluice')
    if (!args['sluice-only']) list.push('minimal-js')
    if (scenario === 'a' && args['with-split2']) list.push('split2')
    return list
  }

  const scenarios = {
    a: { name: 'a. 100 MiB single line (mem)', input: () => ({ scenario: 'long-line', lineBytes: LONG_LINE_BYTES }) },
    b: {
      name: `b. ${BIG_FILE_MB / 1000} GB small-record file`,
      input: () => {
        const meta = corpus.ensureCorpus('small', BIG_FILE_MB, log)
        common.warmPageCache(meta.path)
        return { scenario: 'big-file', path: meta.path, bytes: meta.bytes, records: meta.records }
      },
    },
    c: {
      name: 'c. consumer never reads',
      input: () => ({ scenario: 'no-reader', capBytes: NO_READER_CAP, stallMs: STALL_MS }),
    },
  }

  const buildBefore = sluice.ok ? sluiceFingerprint() : null
  const rows = []
  const failures = []
  const warnings = []
  let missed = 0
  for (const key of args.only) {
    const sc = scenarios[key]
    if (!sc) throw new Error(`unknown scenario "${key}" (use a, b, c)`)
    const input = sc.input()
    for (const candidate of candidatesFor(key)) {
      const results = []
      for (let rep = 0; rep < reps; rep++) {
        const tag = `[${key} rep ${rep + 1}/${reps}] ${candidate}`
        try {
          const r = await common.runChild(
            path.join(__dirname, 'limits-trial.js'),
            { ...input, candidate },
            { warn: (m) => log(`WARNING ${tag}: ${m}`) },
          )
          results.push(r)
          for (const w of r.warnings) warnings.push(`${tag}: ${w}`)
          log(`${tag}: ${JSON.stringify(r)}`)
        } catch (err) {
          failures.push({ tag, err })
          log(`\n!!!!! TRIAL FAILED ${tag}\n${err.message}\n`)
        }
      }
      const row = rowFor(key, sc.name, candidate, results, reps)
      if (candidate === 'sluice' && row.verdict === 'FAIL') missed++
      rows.push(row.cells)
    }
  }

  const out = [
    '# NdjsonParser limits',
    '',
    `${new Date().toISOString()} · Node ${process.version} · ${reps} rep(s), median (min–max) · each trial in a fresh child`,
    ...(process.env.SLUICE_MODULE ? ['', `sluice loaded from \`${SLUICE_MODULE}\` (SLUICE_MODULE)`] : []),
    ...(sluice.ok ? [] : ['', `**sluice rows skipped: addon not available** (${sluice.reason})`]),
    ...(buildBefore ? ['', `sluice build \`${buildBefore.id}\`${buildBefore.builtAt ? ` (.node built ${buildBefore.builtAt})` : ''}`] : []),
    '',
    common.mdTable(
      [
        'scenario',
        'candidate',
        'wall s',
        'MB/s',
        'peak RSS MiB',
        'RSS before MiB',
        'bg load (cores)',
        'detail',
        'target',
        'verdict',
      ],
      rows,
    ),
  ]
  if (buildBefore) {
    const buildAfter = sluiceFingerprint()
    if (!buildAfter || buildAfter.id !== buildBefore.id) {
      warnings.push(`the sluice build changed during the run (\`${buildBefore.id}\` → \`${buildAfter ? buildAfter.id : 'missing'}\`); rerun`)
    }
  }
  if (failures.length) {
    out.push('', `**${failures.length} trial(s) FAILED:**`)
    for (const f of failures) out.push(`- ${f.tag}: ${f.err.message.split('\n')[0]}`)
  }
  if (warnings.length) {
    out.push('', `**${warnings.length} warning(s):**`)
    for (const w of warnings) out.push(`- ${w}`)
  }
  const text = out.join('\n')
  console.log(text)
  const resultsFile = path.join(corpus.CORPUS_DIR, 'results-ndjson-limits.md')
  fs.mkdirSync(corpus.CORPUS_DIR, { recursive: true })
  fs.writeFileSync(resultsFile, text + '\n')
  log(`\nwrote ${path.relative(process.cwd(), resultsFile)}`)
  if (failures.length || missed) process.exitCode = 1
}

function rowFor(key, scenarioName, candidate, results, reps) {
  const s = (field) => common.summarise(results.map((r) => r[field]))
  const m = {
    wallS: s('wallS'),
    mbPerS: s('mbPerS'),
    peakRssMiB: s('peakRssMiB'),
    rssBeforeMiB: s('rssBeforeMiB'),
    written: s('written'),
    stalledAtS: s('stalledAtS'),
    allStalled: results.every((r) => r.stalled),
    stable: results.every((r) => r.stable),
  }
  let detail = ''
  if (key === 'b') detail = `${common.fmtStat(s('krecPerS'), 0)} k rec/s; JS-thread CPU ${common.fmtStat(s('threadCpuS'), 2)} s`
  if (key === 'c' && results.length) {
    const kib = (x) => (x / 1024).toFixed(0)
    const w = m.written
    detail =
      (m.allStalled ? '' : `**never stopped: wrote the whole ${NO_READER_CAP / MiB} MiB**; `) +
      `wrote ${kib(w.median)} KiB` +
      (w.min !== w.max ? ` (${kib(w.min)}–${kib(w.max)})` : '') +
      `; readableLength ${common.fmtStat(s('readableLength'), 0)} (hwm ${results[0].readableHighWaterMark})` +
      `; writableLength ${kib(s('writableLength').median)} KiB; 'drain' ×${common.fmtStat(s('drains'), 0)}` +
      (m.stable ? '; unchanged 500 ms later' : '; **still moving 500 ms later**')
  }
  // Targets apply to sluice; the peers are there to show what the targets are measured against.
  let verdict = 'ref'
  if (results.length < reps) verdict = `**${results.length}/${reps} trials ok**`
  if (candidate === 'sluice') {
    verdict = results.length === reps && TARGETS[key].pass(m) ? 'PASS' : 'FAIL'
  }
  const cells = [
    scenarioName,
    candidate,
    // For c the interesting time is how long the producer ran before it was stopped.
    key !== 'c' ? common.fmtStat(m.wallS, 2) : m.allStalled ? `stopped at ${common.fmtStat(m.stalledAtS, 2)}` : 'never stopped',
    key === 'c' ? '–' : common.fmtStat(m.mbPerS, 1),
    // For c the peak RSS is mostly the in-memory input, so it would only mislead.
    key === 'c' ? '–' : common.fmtStat(m.peakRssMiB, 0),
    common.fmtStat(m.rssBeforeMiB, 0),
    common.fmtStat(s('bgCores'), 2),
    detail || '–',
    candidate === 'sluice' ? TARGETS[key].text : '–',
    candidate === 'sluice' ? `**${verdict}**` : verdict,
  ]
  return { cells, verdict }
}

main().catch((err) => {
  console.error(err.stack || err)
  process.exitCode = 1
})
