'use strict'

// Throttle accuracy: sluice's Throttle side by side with the peers stream-throttle 0.1.3 and
// throttle 1.0.3, in one run. Every trial runs in a fresh forked child (bench/throttle-trial.js),
// impls in an order rotated by one per rep, cells are median (min–max) over reps.
//
// Cases (each sends rate × --seconds of data from memory; the throttle is built just before
// the data starts unless stated):
//   bytes-256k, bytes-2m, bytes-64m : 256 KiB/s, 2 MiB/s, 64 MiB/s, 64 KiB input chunks
//   bytes-2m-1k                     : 2 MiB/s, 1 KiB input chunks
//   idle-2m                         : built, 2 s idle, then 2 MiB/s of data
//   group-2m, group-256k            : four streams in one group at the rate, ¼ of the bytes each
//   busy-2m                         : 2 MiB/s while the main thread runs back-to-back busy tasks of 2–8 ms
//   group-busy-1m                   : two streams in one 1 MiB/s group, 16 KiB chunks, while the main
//                                     thread runs back-to-back tasks of 100 ms (a burst's worth)
//   objects-1k, objects-100k        : objectMode, 1,000 and 100,000 objects/s
//
//   node bench/throttle.js [--reps N] [--quick] [--seconds S] [--only case,case] [--impls sluice,throttle,...]
//
// Defaults: 3 reps of 4 s (about 8 minutes). --quick: 1 rep of 2 s (about 1 minute), a smoke
// test. The sluice rows are skipped (with the reason printed) while index.js does not export
// Throttle / ThrottleGroup. Targets apply to sluice only: a missed target prints MISS, a wrong
// delivery or a failed sluice trial prints FAIL. The peers crash on objects; those trials are
// shown as "n/a (crashes: …)" and are not failures. Markdown goes to stdout and to
// bench/.corpus/results-throttle.md; progress goes to stderr. Exits 1 if a trial (other than a
// peer on objects) or a delivery check failed.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const corpus = require('./corpus.js')
const common = require('./common.js')
const { sluiceFingerprint, SLUICE_MODULE } = require('./candidates.js')
const { IMPLS, IMPL_NAMES, probeSluiceThrottle } = require('./throttles.js')

const TRIAL = path.join(__dirname, 'throttle-trial.js')
const KiB = 1024
const MiB = 1024 * KiB
// sluice's default burst (and initialBurst): 100 ms worth of rate. "Steady state" excludes the
// first that many units delivered, for every impl alike.
const BURST_MS = 100
const IDLE_MS = 2000
const GROUP = 4

const CASES = [
  { id: 'bytes-256k', label: '256 KiB/s', rate: 256 * KiB, chunk: 64 * KiB },
  { id: 'bytes-2m', label: '2 MiB/s', rate: 2 * MiB, chunk: 64 * KiB },
  { id: 'bytes-64m', label: '64 MiB/s', rate: 64 * MiB, chunk: 64 * KiB },
  { id: 'bytes-2m-1k', label: '2 MiB/s, 1 KiB chunks', rate: 2 * MiB, chunk: KiB },
  { id: 'idle-2m', label: '2 MiB/s after 2 s idle', rate: 2 * MiB, chunk: 64 * KiB, idleMs: IDLE_MS },
  { id: 'group-2m', label: `2 MiB/s, group ×${GROUP}`, rate: 2 * MiB, chunk: 64 * KiB, group: GROUP },
  { id: 'group-256k', label: `256 KiB/s, group ×${GROUP}`, rate: 256 * KiB, chunk: 64 * KiB, group: GROUP },
  { id: 'busy-2m', label: '2 MiB/s, JS loop busy 2–8 ms', rate: 2 * MiB, chunk: 64 * KiB, busy: true },
  { id: 'group-busy-1m', label: '1 MiB/s, group ×2, 16 KiB chunks, JS loop busy 100 ms', rate: MiB, chunk: 16 * KiB, group: 2, busy: true, busyTaskMs: [100, 100] },
  { id: 'objects-1k', label: '1,000 objects/s', rate: 1000, objects: true },
  { id: 'objects-100k', label: '100,000 objects/s', rate: 100000, objects: true },
]

// The targets the sluice Throttle must meet (from its brief).
const TARGETS = {
  achievedTol: 0.005, // achieved/target within ±0.5 % (steady state)
  max100: 1.1, // max 100 ms window ≤ 1.10× expected (steady state)
  max1s: 1.02, // max 1 s window ≤ 1.02× expected (steady state)
  firstSecondAfterIdle: 1 + BURST_MS / 1000, // first second after idle ≤ burst + 1 s worth
  spreadS: 0.1, // group finish spread ≤ 0.1 s
  busyAchieved: 0.98, // busy loop: achieved/target ≥ 0.98
  objectsTol: 0.01, // objects/s within ±1 %
}
// Median background load (cores busy outside the trial) above which the table is flagged as noisy.
const NOISY_BG_CORES = 0.25

const log = (...a) => console.error(...a)

async function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    reps: { type: 'number' },
    quick: { type: 'flag', default: false },
    seconds: { type: 'number' },
    only: { type: 'list', default: CASES.map((c) => c.id) },
    impls: { type: 'list', default: IMPL_NAMES },
  })
  for (const id of args.only) if (!CASES.some((c) => c.id === id)) throw new Error(`unknown case "${id}" (use ${CASES.map((c) => c.id).join(', ')})`)
  for (const i of args.impls) if (!IMPLS[i]) throw new Error(`unknown impl "${i}" (use ${IMPL_NAMES.join(', ')})`)
  const q = args.quick
  const reps = Math.floor(args.reps ?? (q ? 1 : 3))
  const seconds = args.seconds ?? (q ? 2 : 4)

  const probe = args.impls.includes('sluice') ? probeSluiceThrottle() : { throttle: false, group: false, reason: 'not selected' }
  if (args.impls.includes('sluice') && probe.reason) log(`WARNING: ${probe.reason}; skipping the sluice rows that need it.`)
  const cases = CASES.filter((c) => args.only.includes(c.id))
  const implsFor = (c) =>
    args.impls.filter((i) => {
      if (c.group && !IMPLS[i].group) return false // `throttle` has no group
      if (i === 'sluice') return c.group ? probe.group : probe.throttle
      return true
    })

  const out = []
  const emit = (text = '') => {
    console.log(text)
    out.push(text)
  }
  const cpus = os.cpus()
  emit('# Throttle accuracy')
  emit()
  emit(
    `${new Date().toISOString()} · Node ${process.version} · ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}) · ` +
      `${reps} rep(s), median (min–max) · each trial in a fresh child · ${seconds} s of data per trial` +
      (q ? ' · **--quick: smoke-test sizes**' : ''),
  )
  if (process.env.SLUICE_MODULE) emit(`\nsluice loaded from \`${SLUICE_MODULE}\` (SLUICE_MODULE)`)
  if (args.impls.includes('sluice') && probe.reason) emit(`\n**sluice rows skipped where the export is missing:** ${probe.reason}`)
  const buildBefore = probe.throttle ? sluiceFingerprint() : null
  if (buildBefore) emit(`\nsluice build \`${buildBefore.id}\`${buildBefore.builtAt ? ` (.node built ${buildBefore.builtAt})` : ''}`)

  // Every (case, impl) once per rep, rotating the order by one each rep so a slow drift of a
  // busy machine is spread over all rows.
  const jobs = []
  for (const c of cases) {
    for (const impl of implsFor(c)) {
      jobs.push({
        key: `${c.id}/${impl}`,
        c,
        impl,
        input: {
          impl,
          objects: !!c.objects,
          rate: c.rate,
          chunk: c.chunk ?? 0,
          seconds,
          idleMs: c.idleMs ?? 0,
          group: c.group ?? 0,
          busy: !!c.busy,
          busyTaskMs: c.busyTaskMs, // the trial's default (2–8 ms) when the case gives none
          burstMs: BURST_MS,
          seed: 12345,
          // The child gives up (and says how far it got) after 3× the ideal time plus slack.
          deadlineMs: (c.idleMs ?? 0) + seconds * 3000 + 20000,
        },
      })
    }
  }
  const results = new Map(jobs.map((j) => [j.key, []]))
  const crashes = new Map(jobs.map((j) => [j.key, []]))
  const failures = []
  const warnings = []
  for (let rep = 0; rep < reps; rep++) {
    const order = jobs.map((_, i) => jobs[(i + rep) % jobs.length])
    for (const job of order) {
      const tag = `[rep ${rep + 1}/${reps}] ${job.key}`
      log(`${tag} ...`)
      try {
        const r = await common.runChild(TRIAL, job.input, {
          timeoutMs: job.input.deadlineMs + 30000,
          warn: (m) => log(`WARNING ${tag}: ${m}`),
        })
        results.get(job.key).push(r)
        for (const w of r.warnings) warnings.push(`${tag}: ${w}`)
        log(`${tag}: ${describe(r)}`)
        if (r.problem) {
          failures.push({ tag, message: r.problem })
          log(`\n!!!!! DELIVERY CHECK FAILED ${tag}\n${r.problem}\n`)
        }
        if (r.stats && Number.isFinite(r.stats.units) && r.stats.units !== r.units) {
          warnings.push(`${tag}: stats().units = ${r.stats.units}, but ${r.units} units were delivered`)
        }
      } catch (err) {
        const first = err.message.split('\n')[0]
        // The peers are byte throttles: on objects they throw (uncaught) on the first chunk.
        // That is a finding about them, not a harness failure.
        if (job.c.objects && job.impl !== 'sluice') {
          crashes.get(job.key).push(first.replace(/^uncaught exception: /, ''))
          log(`${tag}: crashed as expected for a byte throttle: ${first}`)
        } else {
          failures.push({ tag, message: err.message })
          log(`\n!!!!! TRIAL FAILED ${tag}\n${err.message}\n`)
        }
      }
    }
  }

  const verdicts = []
  emit()
  emit(mainTable(cases, implsFor, results, crashes, reps, seconds, verdicts))
  emit()
  emit(targetsBlock(verdicts, probe.throttle && args.impls.includes('sluice')))
  emit()
  emit(constructionBlock(cases, implsFor))

  if (failures.length) {
    emit()
    emit(`**${failures.length} trial(s) or check(s) FAILED:**`)
    for (const f of failures) emit(`- ${f.tag}: ${f.message.split('\n')[0]}`)
  }
  if (buildBefore) {
    const buildAfter = sluiceFingerprint()
    if (!buildAfter || buildAfter.id !== buildBefore.id) {
      warnings.push(
        `the sluice build changed during the run (\`${buildBefore.id}\` → \`${buildAfter ? buildAfter.id : 'missing'}\`): ` +
          'the table may mix two builds; rerun',
      )
    }
  }
  const bg = common.summarise([...results.values()].flat().map((r) => r.bgCores))
  if (bg && bg.median > NOISY_BG_CORES) {
    warnings.push(`background load ${bg.median.toFixed(2)} cores (median over the trials): something else was using the CPU; treat CPU figures with care`)
  }
  if (warnings.length) {
    emit()
    emit(`**${warnings.length} warning(s):**`)
    for (const w of warnings) emit(`- ${w}`)
  }

  fs.mkdirSync(corpus.CORPUS_DIR, { recursive: true })
  const resultsFile = path.join(corpus.CORPUS_DIR, 'results-throttle.md')
  fs.writeFileSync(resultsFile, out.join('\n') + '\n')
  log(`\nwrote ${path.relative(process.cwd(), resultsFile)}`)
  if (failures.length) process.exitCode = 1
}

function describe(r) {
  return (
    `${r.units}/${r.sent} units in ${r.durationS.toFixed(3)} s (ideal ${r.idealS.toFixed(2)}), achieved ${r.achieved.toFixed(4)} ` +
    `(steady ${r.achievedSteady.toFixed(4)}), max 100 ms ${r.max100.toFixed(2)} (steady ${r.max100Steady.toFixed(2)}), ` +
    `max 1 s ${r.max1s.toFixed(3)} (steady ${r.max1sSteady.toFixed(3)}), first 1 s ${r.first1s.toFixed(2)}, ` +
    `largest ${r.largestOut}, CPU ${r.processCpuMs.toFixed(0)} ms (main ${r.threadCpuMs.toFixed(0)})` +
    (Number.isFinite(r.spreadS) ? `, spread ${r.spreadS.toFixed(3)} s` : '') +
    (r.busyTasks ? `, ${r.busyTasks} busy tasks` : '')
  )
}

const stat = (rs, field) => common.summarise(rs.map((r) => r[field]))
const verdict = (pass) => (pass ? 'PASS' : 'MISS')

function mainTable(cases, implsFor, results, crashes, reps, seconds, verdicts) {
  const rows = []
  for (const c of cases) {
    // Per case: the peers' lowest median process CPU, for the sluice CPU target.
    const peerCpu = implsFor(c)
      .filter((i) => i !== 'sluice')
      .map((i) => stat(results.get(`${c.id}/${i}`), 'processCpuMs'))
      .filter(Boolean)
      .map((s) => s.median)
    for (const impl of implsFor(c)) {
      const key = `${c.id}/${impl}`
      const rs = results.get(key)
      const crashed = crashes.get(key)
      const ok = rs.filter((r) => !r.problem).length
      const okCell = ok === reps ? `${ok}/${reps}` : `**${ok}/${reps}**`
      const name = c.group ? `${impl} group` : impl
      if (rs.length === 0) {
        const why = crashed.length ? `n/a (crashes: ${[...new Set(crashed)].join('; ')})` : '**FAILED** (see below)'
        const units = Math.round(c.rate * seconds)
        rows.push([c.label, name, okCell, `${units} ${c.objects ? 'objects' : 'bytes'}`, why, ...Array(13).fill('–')])
        if (impl === 'sluice') verdicts.push({ c, what: 'trial ran', measured: why, v: 'FAIL' })
        continue
      }
      const s = (f) => stat(rs, f)
      const f = (field, digits) => common.fmtStat(s(field), digits)
      const units = rs[0].sent
      rows.push([
        c.label,
        name,
        okCell + (crashed.length ? ` (${crashed.length} crashed)` : ''),
        `${units} ${c.objects ? 'objects' : 'bytes'}`,
        f('achieved', 4),
        f('achievedSteady', 4),
        `${f('durationS', 2)} (${rs[0].idealS.toFixed(2)})`,
        f('max100', 2),
        f('max100Steady', 2),
        f('max1s', 3),
        f('max1sSteady', 3),
        f('first1s', 3),
        f('largestOut', 0),
        f('processCpuMs', 0),
        f('threadCpuMs', 0),
        f('loopP99Ms', 1),
        c.group ? f('spreadS', 3) : '–',
        impl === 'sluice' ? sluiceTargets(c, rs, peerCpu, verdicts) : '–',
      ])
    }
  }
  const lines = [
    `## Throttle accuracy: rate × ${seconds} s of data per trial, ${reps} rep(s), median (min–max)`,
    '',
    'Definitions. Every delivery into the counting sink is logged with `performance.now()`. **t0** = the moment the ' +
      "source's first chunk is written into the throttle (after the idle wait in the idle case); **duration** = t0 → " +
      'the last unit delivered. **achieved/target (whole)** = units / duration / rate, i.e. against expected = units / rate ' +
      '(a bucket that starts with a 100 ms burst finishes 4 s of data in 3.9 s: 1.026 here is what such a bucket should show). ' +
      `**Steady state** = after the event that completes the first ${BURST_MS} ms worth of units (the sluice default burst, ` +
      'applied to every impl): **achieved/target (steady)** = the units after that event / (last delivery − that event) / rate, ' +
      'and the steady window maxima only consider windows starting after that event. **max 100 ms / 1 s window** = the most ' +
      'units delivered in any half-open window [s, s + W) (exact: every window starting at a delivery is tried) / (rate × W). ' +
      '**first 1 s** = units delivered in [t0, t0 + 1 s) / (rate × 1 s). **largest chunk out** in units. **CPU** = from just ' +
      'before the throttle was built (so the idle case includes its idle wait) to the last delivery; process = all threads ' +
      '(`process.cpuUsage()`), main = the JS thread (/proc/self/task/<pid>/stat, 10 ms ticks); the busy case includes the ' +
      'busy tasks. **loop delay p99** = `monitorEventLoopDelay({resolution: 10})` p99 minus the 10 ms period. **finish ' +
      `spread** (groups) = last stream's last delivery − first stream's last delivery. Group rows: all the group's streams' ` +
      'deliveries merged. sluice targets column: PASS, or the targets missed (details in the next table).',
    '',
    common.mdTable(
      [
        'case',
        'impl',
        'trials ok',
        'units',
        'achieved/target (whole) = units ÷ (first chunk written → last unit delivered) ÷ rate',
        'achieved/target (steady) = units after the first 100 ms worth ÷ (that event → last unit) ÷ rate',
        'duration s (ideal)',
        'max 100 ms window / expected (whole)',
        'max 100 ms (steady)',
        'max 1 s window / expected (whole)',
        'max 1 s (steady)',
        'first 1 s / expected',
        'largest chunk out',
        'process CPU ms',
        'main CPU ms',
        'loop delay p99 ms',
        'group finish spread s',
        'sluice targets',
      ],
      rows,
    ),
  ]
  return lines.join('\n')
}

/**
 * Checks the sluice row of case `c` against TARGETS, records each check in `verdicts`, and
 * returns the table cell: PASS, or the names of the targets missed.
 */
function sluiceTargets(c, rs, peerCpu, verdicts) {
  const s = (f) => stat(rs, f)
  const checks = []
  const add = (short, what, measured, pass) => checks.push({ short, what, measured, v: verdict(pass) })
  const bad = rs.find((r) => r.problem)
  if (bad) checks.push({ short: 'delivery', what: 'every unit delivered, in order', measured: bad.problem, v: 'FAIL' })
  const ach = s('achievedSteady')
  if (c.objects) {
    add('objects/s', `objects/s within ±${TARGETS.objectsTol * 100} % (steady)`, `${ach.median.toFixed(4)} (whole ${s('achieved').median.toFixed(4)})`, Math.abs(ach.median - 1) <= TARGETS.objectsTol)
  } else if (c.busy) {
    add('busy achieved', `achieved/target ≥ ${TARGETS.busyAchieved} (steady)`, `${ach.median.toFixed(4)} (whole ${s('achieved').median.toFixed(4)})`, ach.median >= TARGETS.busyAchieved)
  } else {
    add('achieved', `achieved/target within ±${TARGETS.achievedTol * 100} % (steady)`, `${ach.median.toFixed(4)} (whole ${s('achieved').median.toFixed(4)})`, Math.abs(ach.median - 1) <= TARGETS.achievedTol)
    const m100 = s('max100Steady')
    add('100 ms', `max 100 ms window ≤ ${TARGETS.max100}× (steady)`, `${m100.median.toFixed(3)} (whole ${s('max100').median.toFixed(3)})`, m100.median <= TARGETS.max100)
    const m1 = s('max1sSteady')
    add('1 s', `max 1 s window ≤ ${TARGETS.max1s}× (steady)`, `${m1.median.toFixed(3)} (whole ${s('max1s').median.toFixed(3)})`, m1.median <= TARGETS.max1s)
    if (c.idleMs) {
      const f1 = s('first1s')
      // 1e-9: float slack only; a whole chunk over the limit is a miss.
      add('idle', `first 1 s after idle ≤ burst + 1 s = ${TARGETS.firstSecondAfterIdle.toFixed(2)}×`, f1.median.toFixed(4), f1.median <= TARGETS.firstSecondAfterIdle + 1e-9)
    }
    if (c.group) {
      const sp = s('spreadS')
      add('spread', `group finish spread ≤ ${TARGETS.spreadS} s`, `${sp.median.toFixed(3)} s`, sp.median <= TARGETS.spreadS)
    }
    if (peerCpu.length) {
      const cpu = s('processCpuMs')
      const best = Math.min(...peerCpu)
      add('CPU', 'process CPU ≤ the lowest peer median', `${cpu.median.toFixed(0)} ms vs ${best.toFixed(0)} ms`, cpu.median <= best)
    }
  }
  for (const x of checks) verdicts.push({ c, ...x })
  const missed = checks.filter((x) => x.v !== 'PASS')
  return missed.length ? `**${missed.map((x) => `${x.v} ${x.short}`).join(', ')}**` : 'PASS'
}

function targetsBlock(verdicts, haveSluice) {
  const lines = ['## sluice targets', '']
  if (!haveSluice || verdicts.length === 0) {
    lines.push('_sluice not run: no verdicts._')
    return lines.join('\n')
  }
  lines.push(
    'Medians over the reps. Achieved rates and window maxima are judged in the steady state (see the definitions above); ' +
      'the whole-run value is shown beside them.',
    '',
    common.mdTable(
      ['case', 'target', 'measured', 'verdict'],
      verdicts.map((x) => [x.c.label, x.what, x.measured, `**${x.v}**`]),
    ),
  )
  const count = (v) => verdicts.filter((x) => x.v === v).length
  lines.push('', `${count('PASS')} PASS, ${count('MISS')} MISS, ${count('FAIL')} FAIL (a trial failed or a unit was lost, added or reordered).`)
  return lines.join('\n')
}

/** How each row's throttle was built, so the numbers can be tied to an API. */
function constructionBlock(cases, implsFor) {
  const rows = []
  for (const c of cases) {
    for (const impl of implsFor(c)) {
      const how = c.group ? IMPLS[impl].groupHow : IMPLS[impl].singleHow(!!c.objects)
      rows.push([c.label, impl, `\`${how}\``, `${c.rate} ${c.objects ? 'objects' : 'bytes'}/s`])
    }
  }
  return [
    '## How each throttle is built',
    '',
    'Everything else is left at its default. The sources are Readables from memory (64 KiB or 1 KiB `subarray`s of one ' +
      'Buffer; objects are `{seq}`), piped with `pipeline(source, throttle, sink)`; the sink is a Writable (objectMode for ' +
      'objects) whose callback is synchronous.',
    '',
    common.mdTable(['case', 'impl', 'construction', 'rate'], rows),
  ].join('\n')
}

main().catch((err) => {
  console.error(err.stack || err)
  process.exitCode = 1
})
