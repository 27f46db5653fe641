'use strict'

// NDJSON throughput benchmark: sluice's NdjsonParser against split2, ndjson, stream-json and a
// hand-written minimal JS parser, first on real-world corpora (bench/real-corpus.js: GitHub
// webhooks, REST examples, recorded API responses, GeoJSON counties and countries), then on three
// generated ones (small / medium / large records), fed from memory and from a file.
//
//   node bench/ndjson.js [--size-mb N] [--reps N] [--only real-webhooks,...,small,medium,large]
//                        [--quick] [--sources mem,file] [--candidates sluice,split2,...] [--no-verify]
//
// Defaults: 100 MB corpora, 3 reps (about 2.5–4 minutes here); --quick: 30 MB, 3 reps (about 1 minute).
// Use --reps 5 (or more) when a decision hangs on a few percent.
// Method (replicates research/peers-baseline.md "Method, briefly"): every trial runs in a fresh
// forked child; within a rep the candidates run in an order rotated by one per rep; each cell
// reports median (min–max) over reps. Before the timed trials, each sluice output mode is checked
// once per corpus against JSON.parse, line by line (bench/verify.js; --no-verify skips it).
// Markdown goes to stdout and to bench/.corpus/results-ndjson.md; progress goes to stderr.
// Exits 1 if any trial or check failed (e.g. a wrong record count).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const corpus = require('./corpus.js')
const realCorpus = require('./real-corpus.js')
const { CANDIDATES, probeSluice, sluiceFingerprint, SLUICE_MODULE } = require('./candidates.js')
const common = require('./common.js')

// Ratio of sluice (values) median MB/s to the best peer's, per corpus (from the project's goals).
const TARGETS = { small: 1.3, medium: 1.05, large: 1.2 }
// Real-world corpora: never slower than the best peer (issue 9; its 1.5× goal is not met yet).
const REAL_TARGET = 1.0
// The real corpora (with `turning`, a stream whose records turn from numbers to plain strings), then the generated ones.
const ALL_KINDS = realCorpus.BENCH_KINDS
const isReal = (kind) => kind.startsWith('real-')
// Median background load (cores busy outside the trial) above which a table is flagged as noisy.
const NOISY_BG_CORES = 0.25

const log = (...a) => console.error(...a)

async function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    'size-mb': { type: 'number' },
    reps: { type: 'number' },
    only: { type: 'list', default: ALL_KINDS },
    sources: { type: 'list', default: ['mem', 'file'] },
    candidates: { type: 'list' },
    quick: { type: 'flag', default: false },
    'no-verify': { type: 'flag', default: false },
  })
  // --quick keeps 3 reps (a median needs three on this noisy box) and shrinks the corpora instead.
  const sizeMB = args['size-mb'] ?? (args.quick ? 30 : 100)
  const reps = Math.floor(args.reps ?? 3)
  for (const k of args.only) if (!ALL_KINDS.includes(k)) throw new Error(`unknown corpus "${k}"; known: ${ALL_KINDS.join(', ')}`)
  // Real-world corpora first: they are the headline.
  args.only.sort((a, b) => isReal(b) - isReal(a))
  for (const s of args.sources) if (s !== 'mem' && s !== 'file') throw new Error(`unknown source "${s}"`)

  let cands = CANDIDATES.filter((c) => !args.candidates || args.candidates.includes(c.name))
  const sluice = probeSluice()
  if (!sluice.ok && cands.some((c) => c.sluice)) {
    log(`WARNING: sluice addon not available (${sluice.reason}); skipping the sluice rows. Build it with \`npm run build\`.`)
    cands = cands.filter((c) => !c.sluice)
  }
  if (cands.length === 0) throw new Error('no candidates to run')

  const out = []
  const emit = (text = '') => {
    console.log(text)
    out.push(text)
  }
  emit(`# NDJSON throughput`)
  emit()
  emit(
    `${new Date().toISOString()} · Node ${process.version} · ${os.cpus().length} CPUs · ` +
      `${sizeMB} MB corpora · ${reps} rep(s) · 64 KiB chunks · each trial in a fresh child`,
  )
  if (process.env.SLUICE_MODULE) emit(`\nsluice loaded from \`${SLUICE_MODULE}\` (SLUICE_MODULE)`)
  if (!sluice.ok) emit(`\n**sluice rows skipped: addon not available** (${sluice.reason})`)
  const haveSluice = cands.some((c) => c.sluice)
  const buildBefore = haveSluice ? sluiceFingerprint() : null
  if (buildBefore) {
    emit(`\nsluice build \`${buildBefore.id}\`${buildBefore.builtAt ? ` (.node built ${buildBefore.builtAt})` : ''}`)
  }
  emit()
  emit(
    'MB/s = input bytes / 1e6 / wall s (pipeline start to callback). JS-thread CPU = the main thread only; ' +
      'process CPU adds GC helpers, the libuv pool and native worker threads. Peak RSS (MiB) includes, ' +
      'for source=mem, the whole input buffer (see "RSS before"). Ratio = median MB/s / best peer median MB/s ' +
      '(peers: split2, ndjson, stream-json, minimal-js). bg load = cores busy with other processes during the trial.',
  )

  const failures = []
  const warnings = []
  const noisy = []
  const summary = {}
  for (const kind of args.only) {
    const meta = realCorpus.ensureBenchCorpus(kind, sizeMB, log)
    common.warmPageCache(meta.path)
    if (!args['no-verify']) {
      for (const cand of cands.filter((c) => c.sluice)) {
        const tag = `[${kind}] verify ${cand.name}`
        try {
          await common.runChild(path.join(__dirname, 'verify.js'), {
            candidate: cand.name,
            path: meta.path,
            records: meta.records,
          })
          log(`${tag}: all ${meta.records} records equal JSON.parse's`)
        } catch (err) {
          failures.push({ tag, err })
          log(`\n!!!!! CHECK FAILED ${tag}\n${err.message}\n`)
        }
      }
    }
    emit()
    if (kind === args.only.find(isReal)) emit('\n# Real-world corpora')
    if (kind === args.only.find((k) => !isReal(k))) emit('\n# Generated corpora')
    emit(
      `## ${kind}: ${meta.records} records, ${(meta.bytes / 1e6).toFixed(1)} MB, ` +
        `avg ${(meta.bytes / meta.records).toFixed(0)} B/record` +
        (isReal(kind)
          ? ` · ${meta.what}: ${meta.sourceRecords} source records (${meta.distinctRecords} distinct) from ` +
            `\`${meta.package}\` ${meta.packageVersion} (${meta.licence}), shuffled rounds`
          : ''),
    )
    for (const source of args.sources) {
      const results = new Map(cands.map((c) => [c.name, []]))
      for (let rep = 0; rep < reps; rep++) {
        // Rotating the start each rep spreads slow drifts of a noisy machine over all candidates.
        const order = cands.map((_, i) => cands[(i + rep) % cands.length])
        for (const cand of order) {
          const tag = `[${kind}/${source} rep ${rep + 1}/${reps}] ${cand.name}`
          try {
            const r = await common.runChild(
              path.join(__dirname, 'trial.js'),
              {
                candidate: cand.name,
                source,
                path: meta.path,
                bytes: meta.bytes,
                records: meta.records,
                anyObject: isReal(kind),
              },
              { warn: (m) => log(`WARNING ${tag}: ${m}`) },
            )
            results.get(cand.name).push(r)
            for (const w of r.warnings) warnings.push(`${tag}: ${w}`)
            log(`${tag}: ${r.mbPerS.toFixed(1)} MB/s, ${r.wallS.toFixed(2)} s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`)
          } catch (err) {
            failures.push({ tag, err })
            log(`\n!!!!! TRIAL FAILED ${tag}\n${err.message}\n`)
          }
        }
      }
      const table = tableFor(cands, results, reps, meta.bytes)
      summary[`${kind}/${source}`] = table.sluiceRatio && {
        ...table.sluiceRatio,
        bgCores: table.bgCores,
        avgRecord: meta.bytes / meta.records,
      }
      if (table.bgCores > NOISY_BG_CORES) noisy.push(`${kind}/${source} (${table.bgCores.toFixed(2)} cores)`)
      emit()
      emit(`### ${kind} · source=${source} · ${reps} rep(s), median (min–max)`)
      emit()
      emit(table.markdown)
    }
  }

  emit()
  const haveSluiceValues = cands.some((c) => c.name === 'sluice')
  const realKinds = args.only.filter(isReal)
  if (realKinds.length) emit(realSummaryBlock(realKinds, args.sources, summary, sizeMB, haveSluiceValues))
  const generated = args.only.filter((k) => !isReal(k))
  if (generated.length) {
    emit()
    emit(summaryBlock(generated, args.sources, summary, haveSluiceValues))
  }
  if (failures.length) {
    emit()
    emit(`**${failures.length} trial(s) or check(s) FAILED:**`)
    for (const f of failures) emit(`- ${f.tag}: ${f.err.message.split('\n')[0]}`)
  }

  if (buildBefore) {
    const buildAfter = sluiceFingerprint()
    if (!buildAfter || buildAfter.id !== buildBefore.id) {
      warnings.push(
        `the sluice build changed during the run (\`${buildBefore.id}\` → \`${buildAfter ? buildAfter.id : 'missing'}\`): ` +
          'tables may mix two builds; rerun',
      )
    }
  }
  if (noisy.length) {
    warnings.push(
      `background load above ${NOISY_BG_CORES} cores (median over all trials) in ${noisy.join(', ')}: ` +
        'something else was using the CPU; treat those numbers with care',
    )
  }
  if (warnings.length) {
    emit()
    emit(`**${warnings.length} warning(s):**`)
    for (const w of warnings) emit(`- ${w}`)
  }

  fs.mkdirSync(corpus.CORPUS_DIR, { recursive: true })
  const resultsFile = path.join(corpus.CORPUS_DIR, 'results-ndjson.md')
  fs.writeFileSync(resultsFile, out.join('\n') + '\n')
  log(`\nwrote ${path.relative(process.cwd(), resultsFile)}`)
  if (failures.length) process.exitCode = 1
}

function tableFor(cands, results, reps, bytes) {
  const { stat, perMB } = common.resultStats(results, bytes)
  // "Best peer" = highest median MB/s among the peers in this very table, so ratios never mix runs.
  let best = null
  for (const c of cands) {
    const s = stat(c.name, 'mbPerS')
    if (c.peer && s && (!best || s.median > best.median)) best = { name: c.name, median: s.median }
  }
  let sluiceRatio = null
  const minimal = stat('minimal-js', 'mbPerS')
  const med = (name, key) => perMB(name, key)?.median ?? NaN
  const rows = cands.map((c) => {
    const mb = stat(c.name, 'mbPerS')
    const ratio = mb && best ? mb.median / best.median : null
    if (c.name === 'sluice' && ratio !== null) {
      sluiceRatio = {
        ratio,
        best: best.name,
        mbPerS: mb.median,
        bestMbPerS: best.median,
        vsMinimal: minimal ? mb.median / minimal.median : NaN,
        threadMsPerMB: med('sluice', 'threadCpuS'),
        processMsPerMB: med('sluice', 'processCpuS'),
        minimalThreadMsPerMB: med('minimal-js', 'threadCpuS'),
        minimalProcessMsPerMB: med('minimal-js', 'processCpuS'),
      }
    }
    const n = results.get(c.name).length
    return [
      c === cands.find((x) => x.name === best?.name) ? `${c.name} (best peer)` : c.name,
      common.fmtStat(mb),
      common.fmtStat(stat(c.name, 'krecPerS')),
      common.fmtStat(stat(c.name, 'threadCpuS'), 2),
      common.fmtStat(stat(c.name, 'peakRssMiB'), 0),
      ratio === null ? '–' : `${ratio.toFixed(2)}×`,
      mb && minimal ? `${(mb.median / minimal.median).toFixed(2)}×` : '–',
      common.fmtStat(perMB(c.name, 'threadCpuS'), 2),
      common.fmtStat(perMB(c.name, 'processCpuS'), 2),
      common.fmtStat(stat(c.name, 'wallS'), 2),
      common.fmtStat(stat(c.name, 'processCpuS'), 2),
      common.fmtStat(stat(c.name, 'gcMs'), 0),
      common.fmtStat(stat(c.name, 'rssBeforeMiB'), 0),
      common.fmtStat(stat(c.name, 'bgCores'), 2),
      n === reps ? `${n}/${reps}` : `**${n}/${reps}**`,
    ]
  })
  const bg = common.summarise([...results.values()].flat().map((r) => r.bgCores))
  const header = [
    'candidate',
    'MB/s',
    'k rec/s',
    'JS-thread CPU s',
    'peak RSS MiB',
    'ratio vs best peer',
    'ratio vs minimal-js',
    'JS-thread CPU ms/MB',
    'process CPU ms/MB',
    'wall s',
    'process CPU s',
    'GC ms',
    'RSS before MiB',
    'bg load (cores)',
    'trials ok',
  ]
  return { markdown: common.mdTable(header, rows), sluiceRatio, bgCores: bg ? bg.median : 0 }
}

function realSummaryBlock(kinds, sources, summary, sizeMB, haveSluice) {
  const lines = [
    `## Real-world summary (${sizeMB} MB): \`sluice\` (values) vs the best peer and minimal-js, medians`,
    '',
  ]
  if (!haveSluice) {
    lines.push('_sluice not run: no ratios._')
    return lines.join('\n')
  }
  const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–')
  const rows = []
  for (const kind of kinds) {
    for (const source of sources) {
      const s = summary[`${kind}/${source}`]
      if (!s) {
        rows.push([kind, source, 'no data', '', '', '', '', '', '', '', '', ''])
        continue
      }
      const noise = s.bgCores > NOISY_BG_CORES ? ` (noisy: bg ${s.bgCores.toFixed(2)})` : ''
      rows.push([
        kind,
        source,
        `${(s.avgRecord / 1000).toFixed(1)} KB`,
        f(s.mbPerS, 0),
        `${f(s.bestMbPerS, 0)} (${s.best})`,
        `**${f(s.ratio)}×** ${s.ratio >= REAL_TARGET ? 'PASS' : 'FAIL'}${noise}`,
        `${f(s.vsMinimal)}×`,
        f(s.threadMsPerMB),
        f(s.minimalThreadMsPerMB),
        f(s.processMsPerMB),
        f(s.minimalProcessMsPerMB),
        s.threadMsPerMB <= s.minimalThreadMsPerMB ? 'yes' : '**no**',
      ])
    }
  }
  lines.push(
    common.mdTable(
      [
        'corpus',
        'source',
        'avg record',
        'sluice MB/s',
        'best peer MB/s',
        `ratio (target ≥ ${REAL_TARGET.toFixed(1)}×)`,
        'vs minimal-js',
        'sluice JS-thread ms/MB',
        'minimal-js JS-thread ms/MB',
        'sluice process ms/MB',
        'minimal-js process ms/MB',
        'JS-thread ≤ minimal-js',
      ],
      rows,
    ),
  )
  return lines.join('\n')
}

function summaryBlock(kinds, sources, summary, haveSluice) {
  const lines = ['## Summary (generated corpora): `sluice` (values) vs best peer, median MB/s ratio', '']
  if (!haveSluice) {
    lines.push('_sluice not run: no ratios._')
    return lines.join('\n')
  }
  const rows = kinds.map((kind) => {
    const target = TARGETS[kind]
    const cells = sources.map((source) => {
      const s = summary[`${kind}/${source}`]
      if (!s) return 'no data'
      const noise = s.bgCores > NOISY_BG_CORES ? ` (noisy: bg load ${s.bgCores.toFixed(2)} cores)` : ''
      return `${s.ratio.toFixed(2)}× vs ${s.best} **${s.ratio >= target ? 'PASS' : 'FAIL'}**${noise}`
    })
    return [kind, `≥ ${target.toFixed(2)}×`, ...cells]
  })
  lines.push(common.mdTable(['corpus', 'target', ...sources], rows))
  return lines.join('\n')
}

main().catch((err) => {
  console.error(err.stack || err)
  process.exitCode = 1
})
