'use strict'

// Concurrency benchmark: what many NdjsonParsers at once cost. Written to judge the transport's
// move from one OS thread per stream to a fixed worker pool; run it against both builds
// (SLUICE_MODULE=<other checkout>) and compare.
//
//   many     : N parsers alive at once, each fed one ~55-byte line about every second for S
//              seconds (first writes spread uniformly over the first second). Reports OS threads
//              (before the first stream, max sampled every 250 ms, after the streams ended),
//              values delivered vs written (each checked: right stream, right order, right
//              content; every 'end' seen), write()→'data' latency p50/p99/max, RSS growth per
//              stream, process and JS-thread CPU. Candidates: sluice, passthrough (core
//              PassThrough, the line as a Buffer: the floor), minimal-js (bench/minimal.js).
//   short    : create a parser, write one line, end it, await 'end'; sequentially, and with
//              --in-flight of them alive at once. µs per stream, median of 10 blocks. Same
//              candidates.
//   parallel : --parallel busy parsers side by side on their own copies of the small corpus
//              (bench/corpus.js), from memory in 64 KiB chunks via pipeline() into a counting
//              sink, vs one parser alone on the same corpus: aggregate MB/s and finish-time
//              spread (slowest/fastest − 1). Candidates: sluice, minimal-js.
//
//   node bench/concurrency.js [--only many,short,parallel] [--quick] [--reps N]
//                             [--streams N] [--seconds S] [--short-iterations N] [--in-flight N]
//                             [--parallel N] [--size-mb N] [--candidates sluice,passthrough,...]
//
// Defaults: 10,000 streams × 20 s; 20,000 short streams (after 2,000 warm-up) per variant,
// 100 in flight; 8 × 30 MB; 3 reps (about 5 minutes on 2 cores). --quick: 1,000 streams × 5 s,
// 5,000 short streams, 8 × 10 MB, 1 rep (about 30 s): a smoke test, not a measurement.
//
// Method as in bench/ndjson.js: every trial runs in a fresh forked child (bench/concurrency-trial.js),
// candidates in an order rotated by one per rep, cells are median (min–max) over reps. Targets
// apply to sluice only; a missed performance target prints MISS, a correctness failure (a value
// lost, wrong or out of order, a missing 'end', a stream error, a wrong record count) prints FAIL.
// Markdown goes to stdout and to bench/.corpus/results-concurrency.md; progress goes to stderr.
// Exits 1 if a trial or a correctness check failed; a MISS does not change the exit code.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const corpus = require('./corpus.js')
const { probeSluice, sluiceFingerprint, SLUICE_MODULE } = require('./candidates.js')
const common = require('./common.js')

const TRIAL = path.join(__dirname, 'concurrency-trial.js')
const SCENARIOS = ['many', 'short', 'parallel']
const CANDIDATES = {
  many: ['sluice', 'sluice-pool', 'passthrough', 'minimal-js'],
  short: ['sluice', 'sluice-pool', 'passthrough', 'minimal-js'],
  parallel: ['sluice', 'minimal-js'],
}
// From the brief for the worker pool.
const TARGETS = {
  threadsOverWorkers: 8, // OS threads ≤ workers + 8 with all streams live
  p99Ms: 5,
  rssKiBPerStream: 20,
  shortVsPassthrough: 2.5,
  spread: 0.15,
}
const SHORT_WARMUP = 2000
const SHORT_BLOCKS = 10
// Median background load (cores busy outside the trial) above which a table is flagged as noisy.
const NOISY_BG_CORES = 0.25

const log = (...a) => console.error(...a)

async function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    only: { type: 'list', default: SCENARIOS },
    quick: { type: 'flag', default: false },
    reps: { type: 'number' },
    streams: { type: 'number' },
    seconds: { type: 'number' },
    'short-iterations': { type: 'number' },
    'in-flight': { type: 'number', default: 100 },
    parallel: { type: 'number', default: 8 },
    'size-mb': { type: 'number' },
    candidates: { type: 'list' },
  })
  for (const s of args.only) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}" (use ${SCENARIOS.join(', ')})`)
  const q = args.quick
  const opt = {
    reps: Math.floor(args.reps ?? (q ? 1 : 3)),
    streams: Math.floor(args.streams ?? (q ? 1000 : 10000)),
    seconds: Math.floor(args.seconds ?? (q ? 5 : 20)),
    shortIterations: Math.floor(args['short-iterations'] ?? (q ? 5000 : 20000)),
    inFlight: Math.floor(args['in-flight']),
    parallel: Math.floor(args.parallel),
    sizeMB: args['size-mb'] ?? (q ? 10 : 30),
  }
  const known = new Set(Object.values(CANDIDATES).flat())
  for (const c of args.candidates ?? []) if (!known.has(c)) throw new Error(`unknown candidate "${c}" (use ${[...known].join(', ')})`)

  const sluice = probeSluice()
  if (!sluice.ok) log(`WARNING: sluice addon not available (${sluice.reason}); skipping the sluice rows. Build it with \`npm run build\`.`)
  const candidatesFor = (scenario) =>
    CANDIDATES[scenario].filter((c) => (!args.candidates || args.candidates.includes(c)) && (!c.startsWith('sluice') || sluice.ok))

  const out = []
  const emit = (text = '') => {
    console.log(text)
    out.push(text)
  }
  const cpus = os.cpus()
  emit('# Concurrency')
  emit()
  emit(
    `${new Date().toISOString()} · Node ${process.version} · ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}), ` +
      `availableParallelism ${os.availableParallelism()} · ${opt.reps} rep(s), median (min–max) · each trial in a fresh child` +
      (q ? ' · **--quick: smoke-test sizes**' : ''),
  )
  if (process.env.SLUICE_MODULE) emit(`\nsluice loaded from \`${SLUICE_MODULE}\` (SLUICE_MODULE)`)
  if (!sluice.ok) emit(`\n**sluice rows skipped: addon not available** (${sluice.reason})`)
  const buildBefore = sluice.ok ? sluiceFingerprint() : null
  if (buildBefore) emit(`\nsluice build \`${buildBefore.id}\`${buildBefore.builtAt ? ` (.node built ${buildBefore.builtAt})` : ''}`)

  const ctx = { opt, failures: [], warnings: [], noisy: [], verdicts: [] }
  const sections = { many: runMany, short: runShort, parallel: runParallel }
  for (const scenario of args.only) {
    const cands = candidatesFor(scenario)
    if (cands.length === 0) {
      log(`[${scenario}] no candidates to run; skipped`)
      continue
    }
    emit()
    emit(await sections[scenario](cands, ctx))
  }

  emit()
  emit(summaryBlock(ctx.verdicts, sluice.ok))
  if (ctx.failures.length) {
    emit()
    emit(`**${ctx.failures.length} trial(s) or check(s) FAILED:**`)
    for (const f of ctx.failures) emit(`- ${f.tag}: ${f.message.split('\n')[0]}`)
  }
  if (buildBefore) {
    const buildAfter = sluiceFingerprint()
    if (!buildAfter || buildAfter.id !== buildBefore.id) {
      ctx.warnings.push(
        `the sluice build changed during the run (\`${buildBefore.id}\` → \`${buildAfter ? buildAfter.id : 'missing'}\`): ` +
          'tables may mix two builds; rerun',
      )
    }
  }
  if (ctx.noisy.length) {
    ctx.warnings.push(
      `background load above ${NOISY_BG_CORES} cores (median over the trials) in ${ctx.noisy.join(', ')}: ` +
        'something else was using the CPU; treat those numbers with care',
    )
  }
  if (ctx.warnings.length) {
    emit()
    emit(`**${ctx.warnings.length} warning(s):**`)
    for (const w of ctx.warnings) emit(`- ${w}`)
  }

  fs.mkdirSync(corpus.CORPUS_DIR, { recursive: true })
  const resultsFile = path.join(corpus.CORPUS_DIR, 'results-concurrency.md')
  fs.writeFileSync(resultsFile, out.join('\n') + '\n')
  log(`\nwrote ${path.relative(process.cwd(), resultsFile)}`)
  if (ctx.failures.length) process.exitCode = 1
}

/**
 * Runs every (candidate, variant) `reps` times, each in a fresh child, rotating the order per rep
 * so a slow drift of a busy machine is spread over all rows. Returns Map key → [result].
 */
async function runTrials(scenario, jobs, ctx, { timeoutMs } = {}) {
  const results = new Map(jobs.map((j) => [j.key, []]))
  const { reps } = ctx.opt
  for (let rep = 0; rep < reps; rep++) {
    const order = jobs.map((_, i) => jobs[(i + rep) % jobs.length])
    for (const job of order) {
      const tag = `[${scenario} rep ${rep + 1}/${reps}] ${job.key}`
      log(`${tag} ...`)
      try {
        const r = await common.runChild(TRIAL, { scenario, ...job.input }, {
          timeoutMs,
          // gc() before the RSS readings of `many`.
          execArgv: ['--expose-gc'],
          warn: (m) => log(`WARNING ${tag}: ${m}`),
        })
        results.get(job.key).push(r)
        for (const w of r.warnings) ctx.warnings.push(`${tag}: ${w}`)
        log(`${tag}: ${job.describe(r)}`)
        const problem = job.check ? job.check(r) : null
        if (problem) {
          ctx.failures.push({ tag, message: problem })
          log(`\n!!!!! CHECK FAILED ${tag}\n${problem}\n`)
        }
      } catch (err) {
        ctx.failures.push({ tag, message: err.message })
        log(`\n!!!!! TRIAL FAILED ${tag}\n${err.message}\n`)
      }
    }
  }
  return results
}

const stat = (results, key, field) => common.summarise((results.get(key) ?? []).map((r) => r[field]))
const okCell = (results, key, reps) => {
  const n = (results.get(key) ?? []).length
  return n === reps ? `${n}/${reps}` : `**${n}/${reps}**`
}
const ratio = (a, b) => (a && b && b.median > 0 ? `${(a.median / b.median).toFixed(2)}×` : '–')
const bgOf = (results) => common.summarise([...results.values()].flat().map((r) => r.bgCores))
function noteNoise(ctx, name, results) {
  const bg = bgOf(results)
  if (bg && bg.median > NOISY_BG_CORES) ctx.noisy.push(`${name} (${bg.median.toFixed(2)} cores)`)
}
const verdict = (pass) => (pass ? 'PASS' : 'MISS')

// ---------------------------------------------------------------------------------------------

async function runMany(cands, ctx) {
  const { streams, seconds, reps } = ctx.opt
  const jobs = cands.map((candidate) => ({
    key: candidate,
    input: { candidate, streams, seconds },
    describe: (r) =>
      `${r.received}/${r.sent} delivered, threads ${r.threadsBefore}→${r.threadsMax}, ` +
      `p50 ${r.latP50Ms.toFixed(2)} ms p99 ${r.latP99Ms.toFixed(2)} ms, ${r.rssPerStreamKiB.toFixed(1)} KiB/stream, ` +
      `CPU ${r.processCpuS.toFixed(2)} s (JS thread ${r.threadCpuS.toFixed(2)} s)`,
    check: manyProblem,
  }))
  const results = await runTrials('many', jobs, ctx, {
    // S seconds of writes plus creating and ending N streams (thread-per-stream: ~1 ms each on a busy box).
    timeoutMs: seconds * 1000 + 120000 + streams * 5,
  })
  noteNoise(ctx, 'many', results)
  // The thread counts come from /proc/self/status; check once per trial that /proc/self/task agrees.
  for (const [c, rs] of results) {
    for (const r of rs) {
      if (Math.abs(r.taskDirLive - r.threadsLive) > 2) {
        ctx.warnings.push(`many/${c}: /proc/self/status said ${r.threadsLive} threads, /proc/self/task listed ${r.taskDirLive}`)
      }
    }
  }

  const base = 'passthrough'
  const rows = cands.map((c) => {
    const rs = results.get(c)
    const s = (f) => stat(results, c, f)
    const sent = rs.reduce((a, r) => a + r.sent, 0)
    const received = rs.reduce((a, r) => a + r.received, 0)
    const bad = rs.some((r) => manyProblem(r))
    return [
      c,
      rs.length ? `${bad ? '**' : ''}${received}/${sent}${bad ? ' FAIL**' : ''}` : '–',
      `${common.fmtStat(s('threadsBefore'), 0)} / ${common.fmtStat(s('threadsMax'), 0)} / ${common.fmtStat(s('threadsAfterEnd'), 0)}`,
      common.fmtStat(s('latP50Ms'), 3),
      common.fmtStat(s('latP99Ms'), 3),
      common.fmtStat(s('latMaxMs'), 1),
      c === base ? '1.00×' : ratio(s('latP99Ms'), stat(results, base, 'latP99Ms')),
      common.fmtStat(s('rssPerStreamKiB'), 1),
      common.fmtStat(s('processCpuS'), 2),
      common.fmtStat(s('threadCpuS'), 2),
      common.fmtStat(s('cpuUsPerLine'), 1),
      c === base ? '1.00×' : ratio(s('processCpuS'), stat(results, base, 'processCpuS')),
      common.fmtStat(s('createMs'), 0),
      common.fmtStat(s('endMs'), 0),
      common.fmtStat(s('bgCores'), 2),
      okCell(results, c, reps),
    ]
  })
  const lineBytes = [...results.values()].flat()[0]?.lineBytes ?? '?'
  const lines = [
    `## many: ${streams} streams × ${seconds} s, one line (≤ ${lineBytes} bytes) per stream per second`,
    '',
    `${streams * seconds} lines per trial. Threads = OS threads of the process (/proc/self/status, same as ` +
      '/proc/self/task): before the first stream / max sampled every 250 ms / 200 ms after every stream ended. ' +
      "Latency = write() to the value's 'data' handler, all lines. RSS/stream = (RSS with every stream live, " +
      'all lines delivered − RSS before creating them) / N, both after a full GC. CPU = the run phase (S s of ' +
      'writes + 0.25 s); JS thread = the main thread only, process = all threads. ' +
      '× passthrough = ratio of medians to the passthrough row (the floor: a core stream doing nothing).',
    '',
    common.mdTable(
      [
        'candidate',
        'delivered (recv/sent)',
        'threads before / max / after end',
        'latency p50 ms',
        'p99 ms',
        'max ms',
        'p99 × passthrough',
        'RSS/stream KiB',
        'process CPU s',
        'JS-thread CPU s',
        'CPU µs/line',
        'CPU × passthrough',
        'create ms',
        'end ms',
        'bg load (cores)',
        'trials ok',
      ],
      rows,
    ),
  ]

  // The targets hold for the default parser (small streams parse inline) and for the pool
  // alone (sluice-pool: every stream a native task).
  for (const name of ['sluice', 'sluice-pool']) {
    const rs = results.get(name)
    const scenario = name === 'sluice' ? 'many' : 'many (pool)'
    if (rs && rs.length) {
      const s = (f) => stat(results, name, f)
      const r0 = rs[0]
      const limit = r0.workers + TARGETS.threadsOverWorkers
      const threadsMax = Math.max(...rs.map((r) => r.threadsMax))
      const problems = rs.map(manyProblem).filter(Boolean)
      const targets = [
        [
          `OS threads ≤ workers + ${TARGETS.threadsOverWorkers} = ${limit} (workers = ${r0.workers} from ${r0.workersFrom})`,
          `max ${threadsMax} (before the first stream: ${common.fmtStat(s('threadsBefore'), 0)})`,
          verdict(threadsMax <= limit),
        ],
        [
          "every value delivered, right stream, in order; every 'end'",
          problems.length ? problems[0] : `${rs[0].received}/${rs[0].sent} per trial, ${rs[0].ended}/${streams} ended`,
          problems.length ? 'FAIL' : 'PASS',
        ],
        [`latency p99 ≤ ${TARGETS.p99Ms} ms`, `${common.fmtStat(s('latP99Ms'), 2)} ms`, verdict(s('latP99Ms').median <= TARGETS.p99Ms)],
        [
          `RSS growth ≤ ${TARGETS.rssKiBPerStream} KiB/stream`,
          `${common.fmtStat(s('rssPerStreamKiB'), 1)} KiB (passthrough: ${common.fmtStat(stat(results, base, 'rssPerStreamKiB'), 1)})`,
          verdict(s('rssPerStreamKiB').median <= TARGETS.rssKiBPerStream),
        ],
      ]
      for (const [what, measured, v] of targets) ctx.verdicts.push({ scenario, what, measured, v })
      lines.push('', `### many: ${name} targets`, '', common.mdTable(['target', name, 'verdict'], targets.map(([a, b, v]) => [a, b, `**${v}**`])))
    } else if (cands.includes(name)) {
      ctx.verdicts.push({ scenario, what: 'all targets', measured: 'no successful trial', v: 'FAIL' })
    }
  }
  return lines.join('\n')
}

/** Why a `many` trial's deliveries are wrong, or null. */
function manyProblem(r) {
  if (r.errors) return `${r.errors} stream error(s), first: ${r.firstError}`
  if (r.wrong || r.lost) return `${r.wrong} wrong value(s), ${r.lost} lost, first: ${r.firstWrong}`
  if (r.received !== r.sent || r.sent !== r.streams * r.seconds) {
    return `received ${r.received} of ${r.sent} sent (${r.streams * r.seconds} planned); short: ${r.shortStreams.join(', ')}`
  }
  if (!r.allEnded || r.ended !== r.streams) return `'end' on ${r.ended} of ${r.streams} streams`
  return null
}

// ---------------------------------------------------------------------------------------------

async function runShort(cands, ctx) {
  const { shortIterations: iterations, inFlight, reps } = ctx.opt
  const variants = [
    { name: 'seq', inFlight: 1 },
    { name: 'conc', inFlight },
  ]
  const jobs = []
  for (const candidate of cands) {
    for (const v of variants) {
      jobs.push({
        key: `${candidate}/${v.name}`,
        input: { candidate, iterations, warmup: SHORT_WARMUP, blocks: SHORT_BLOCKS, inFlight: v.inFlight },
        describe: (r) =>
          `${r.usPerStream.toFixed(1)} µs/stream (blocks ${r.usMin.toFixed(1)}–${r.usMax.toFixed(1)}), ` +
          `CPU ${r.processCpuUsPerStream.toFixed(1)} µs/stream (JS thread ${r.threadCpuUsPerStream.toFixed(1)})`,
      })
    }
  }
  const results = await runTrials('short', jobs, ctx)
  noteNoise(ctx, 'short', results)

  const us = (c, v) => stat(results, `${c}/${v}`, 'usPerStream')
  const rows = cands.map((c) => {
    const s = (v, f) => stat(results, `${c}/${v}`, f)
    return [
      c,
      common.fmtStat(us(c, 'seq'), 1),
      ratio(us(c, 'seq'), us('passthrough', 'seq')),
      common.fmtStat(s('seq', 'processCpuUsPerStream'), 1),
      common.fmtStat(s('seq', 'threadCpuUsPerStream'), 1),
      common.fmtStat(us(c, 'conc'), 1),
      ratio(us(c, 'conc'), us('passthrough', 'conc')),
      common.fmtStat(s('conc', 'processCpuUsPerStream'), 1),
      common.fmtStat(s('conc', 'threadCpuUsPerStream'), 1),
      common.fmtStat(s('conc', 'threadsMax'), 0),
      common.fmtStat(common.summarise([...(results.get(`${c}/seq`) ?? []), ...(results.get(`${c}/conc`) ?? [])].map((r) => r.bgCores)), 2),
      `${okCell(results, `${c}/seq`, reps)}, ${okCell(results, `${c}/conc`, reps)}`,
    ]
  })
  const lines = [
    `## short: ${iterations} short-lived streams per trial (after ${SHORT_WARMUP} warm-up), one line each`,
    '',
    "Each stream: create, write one line, end(), await 'end' (its value checked). µs/stream = wall time per stream, " +
      `median of ${SHORT_BLOCKS} blocks per trial, then median over trials. seq = one at a time; ` +
      `${inFlight} in flight = a new one starts as soon as one ends. CPU per stream: process (all threads) and JS thread. ` +
      'Max threads: sampled every 250 ms and right after each block started its first streams.',
    '',
    common.mdTable(
      [
        'candidate',
        'seq µs/stream',
        'seq × passthrough',
        'seq process CPU µs',
        'seq JS-thread CPU µs',
        `${inFlight} in flight µs/stream`,
        `${inFlight} in flight × passthrough`,
        `${inFlight} in flight process CPU µs`,
        `${inFlight} in flight JS-thread CPU µs`,
        `max threads (${inFlight} in flight)`,
        'bg load (cores)',
        'trials ok (seq, in flight)',
      ],
      rows,
    ),
  ]
  if (cands.includes('sluice')) {
    const a = us('sluice', 'seq')
    const b = us('passthrough', 'seq')
    const what = `sequential µs/stream ≤ ${TARGETS.shortVsPassthrough}× passthrough`
    if (a && b) {
      const x = a.median / b.median
      const measured = `${x.toFixed(2)}× (${a.median.toFixed(1)} vs ${b.median.toFixed(1)} µs)`
      const v = verdict(x <= TARGETS.shortVsPassthrough)
      ctx.verdicts.push({ scenario: 'short', what, measured, v })
      lines.push('', `short target: ${what}: ${measured} **${v}**`)
    } else {
      ctx.verdicts.push({ scenario: 'short', what, measured: 'not measured (a row is missing)', v: a ? 'n/a' : 'FAIL' })
    }
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------

async function runParallel(cands, ctx) {
  const { parallel: p, sizeMB, reps } = ctx.opt
  const meta = corpus.ensureCorpus('small', sizeMB, log)
  const jobs = []
  for (const candidate of cands) {
    for (const parsers of [1, p]) {
      jobs.push({
        key: `${candidate}/${parsers}`,
        input: { candidate, parsers, path: meta.path, bytes: meta.bytes, records: meta.records },
        describe: (r) =>
          `${r.mbPerS.toFixed(1)} MB/s aggregate, spread ${(r.spread * 100).toFixed(1)} %, ` +
          `CPU ${r.processCpuS.toFixed(2)} s (JS thread ${r.threadCpuS.toFixed(2)} s), threads ${r.threadsBefore}→${r.threadsMax}`,
      })
    }
  }
  const results = await runTrials('parallel', jobs, ctx)
  noteNoise(ctx, 'parallel', results)

  const rows = cands.map((c) => {
    const s = (n, f) => stat(results, `${c}/${n}`, f)
    const spread = s(p, 'spread')
    return [
      c,
      common.fmtStat(s(1, 'mbPerS'), 1),
      common.fmtStat(s(p, 'mbPerS'), 1),
      ratio(s(p, 'mbPerS'), s(1, 'mbPerS')),
      spread ? `${(spread.median * 100).toFixed(1)} %` + (spread.n > 1 ? ` (${(spread.min * 100).toFixed(1)}–${(spread.max * 100).toFixed(1)})` : '') : '–',
      `${common.fmtStat(s(1, 'wallS'), 2)} / ${common.fmtStat(s(p, 'wallS'), 2)}`,
      `${common.fmtStat(s(1, 'processCpuS'), 2)} / ${common.fmtStat(s(p, 'processCpuS'), 2)}`,
      `${common.fmtStat(s(1, 'threadCpuS'), 2)} / ${common.fmtStat(s(p, 'threadCpuS'), 2)}`,
      `${common.fmtStat(s(p, 'threadsBefore'), 0)} → ${common.fmtStat(s(p, 'threadsMax'), 0)}`,
      common.fmtStat(s(p, 'peakRssMiB'), 0),
      common.fmtStat(common.summarise([...(results.get(`${c}/1`) ?? []), ...(results.get(`${c}/${p}`) ?? [])].map((r) => r.bgCores)), 2),
      `${okCell(results, `${c}/1`, reps)}, ${okCell(results, `${c}/${p}`, reps)}`,
    ]
  })
  const lines = [
    `## parallel: ${p} parsers at once vs 1 alone, small corpus ${(meta.bytes / 1e6).toFixed(1)} MB (${meta.records} records) each`,
    '',
    `Each parser gets its own copy of the corpus in memory, 64 KiB chunks, pipeline() into a counting sink; all ${p} start ` +
      `in the same tick. MB/s = parsers × corpus MB / wall s (until the last finished). ${p}× / 1 = aggregate over ` +
      'single. Spread = slowest / fastest finish time − 1. CPU s over the wall time; JS thread = the main thread.',
    '',
    common.mdTable(
      [
        'candidate',
        '1 alone MB/s',
        `${p} at once MB/s (aggregate)`,
        `${p}× / 1`,
        'finish spread',
        `wall s (1 / ${p})`,
        `process CPU s (1 / ${p})`,
        `JS-thread CPU s (1 / ${p})`,
        `threads (${p}): before → max`,
        `peak RSS MiB (${p})`,
        'bg load (cores)',
        `trials ok (1, ${p})`,
      ],
      rows,
    ),
  ]
  if (cands.includes('sluice')) {
    const single = stat(results, 'sluice/1', 'mbPerS')
    const agg = stat(results, `sluice/${p}`, 'mbPerS')
    const spread = stat(results, `sluice/${p}`, 'spread')
    const targets = []
    const what1 = `aggregate MB/s of ${p} ≥ 1 alone`
    const what2 = `finish-time spread ≤ ${(TARGETS.spread * 100).toFixed(0)} %`
    if (single && agg) {
      targets.push([what1, `${agg.median.toFixed(1)} vs ${single.median.toFixed(1)} MB/s (${(agg.median / single.median).toFixed(2)}×)`, verdict(agg.median >= single.median)])
    } else targets.push([what1, 'not measured', 'FAIL'])
    if (spread) targets.push([what2, `${(spread.median * 100).toFixed(1)} %`, verdict(spread.median <= TARGETS.spread)])
    else targets.push([what2, 'not measured', 'FAIL'])
    for (const [what, measured, v] of targets) ctx.verdicts.push({ scenario: 'parallel', what, measured, v })
    lines.push('', '### parallel: sluice targets', '', common.mdTable(['target', 'sluice', 'verdict'], targets.map(([a, b, v]) => [a, b, `**${v}**`])))
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------

function summaryBlock(verdicts, haveSluice) {
  const lines = ['## Summary: sluice targets', '']
  if (!haveSluice || verdicts.length === 0) {
    lines.push('_sluice not run: no verdicts._')
    return lines.join('\n')
  }
  lines.push(
    common.mdTable(
      ['scenario', 'target', 'measured', 'verdict'],
      verdicts.map((x) => [x.scenario, x.what, x.measured, `**${x.v}**`]),
    ),
  )
  const count = (v) => verdicts.filter((x) => x.v === v).length
  lines.push('', `${count('PASS')} PASS, ${count('MISS')} MISS (performance), ${count('FAIL')} FAIL (correctness or no data).`)
  return lines.join('\n')
}

main().catch((err) => {
  console.error(err.stack || err)
  process.exitCode = 1
})
