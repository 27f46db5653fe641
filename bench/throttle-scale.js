'use strict'

// Throttles at scale: an HTTP server on loopback (bench/throttle-scale-server.js, its own child)
// streams to --clients concurrent clients (bench/throttle-scale-client.js, another child), each
// response piped through a throttle:
//   single : every response in its own throttle at 64 KiB/s, 64 KiB/s × --seconds each
//   group  : every response a member of one group at 32 MiB/s × clients / 1000 (so each
//            member's share is 32 MiB/s / 1000 = 33,554 B/s whatever --clients is), same bytes
//            (a 5 s body at 64 KiB/s takes ~9.8 s at that share)
// Impls: sluice (Throttle / ThrottleGroup) and stream-throttle (Throttle / ThrottleGroup).
// Per client: achieved/share from first byte → last byte and from request start → 'end'
// (see the client); the table gives min / p1 / median / max over the clients and how many are
// within ±2 % of their share. Server: OS threads (/proc/<pid>/task entries, counted by this
// process every 100 ms), process and main-thread CPU, CPU per MB served, loop delay.
//
//   node bench/throttle-scale.js [--clients N] [--seconds S] [--reps N] [--quick]
//                                [--impls sluice,stream-throttle] [--modes single,group]
//
// Defaults: 1,000 clients, 5 s (320 KiB per client), 3 reps (about 2.5 minutes). --quick:
// 200 clients, 2 s, 1 rep. Each trial = a fresh server child and a fresh client child; the order
// of (impl, mode) rotates by one per rep; cells are median (min–max) over reps. No pass/fail
// targets here: the numbers are for reading. Markdown goes to stdout and to
// bench/.corpus/results-throttle-scale.md. Exits 1 if a trial failed or a client got an error or
// a short body.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { fork, spawnSync } = require('node:child_process')
const corpus = require('./corpus.js')
const common = require('./common.js')
const { sluiceFingerprint, SLUICE_MODULE } = require('./candidates.js')
const { IMPLS, probeSluiceThrottle } = require('./throttles.js')

const SERVER = path.join(__dirname, 'throttle-scale-server.js')
const CLIENT = path.join(__dirname, 'throttle-scale-client.js')
const KiB = 1024
const MiB = 1024 * KiB
const SINGLE_RATE = 64 * KiB
const GROUP_RATE_PER_1000 = 32 * MiB
const CHUNK = 64 * KiB
const TOLERANCE = 0.02
const SCALE_IMPLS = ['sluice', 'stream-throttle']
const MODES = ['single', 'group']
// File descriptors each child needs besides the sockets (stdio, IPC, epoll, the addon, ...).
const FD_MARGIN = 64
const NOISY_BG_CORES = 0.25

const log = (...a) => console.error(...a)

/** The shell's `ulimit -n` (soft and hard), as the brief asks to check. */
function shellUlimit() {
  const res = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' })
  const [soft, hard] = (res.stdout || '').trim().split('\n')
  return { soft, hard }
}

/** "Max open files" of this process: Node raises its soft limit to the hard limit at startup. */
function ownOpenFiles() {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
  const [soft, hard] = line.trim().split(/\s+/).slice(3, 5)
  return { soft: Number(soft), hard: hard === 'unlimited' ? Infinity : Number(hard) }
}

const taskCount = (pid) => {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).length
  } catch {
    return NaN // gone, or not Linux
  }
}

/**
 * Forks the server child and returns a handle: `ready` resolves with the 'listening' message,
 * `call(msg, replyType)` sends a message and resolves with the reply of that type, `exited`
 * resolves when the process has ended (it is killed if it lingers `exitGraceMs` after 'stats').
 */
function startServer(input, { timeoutMs, exitGraceMs = 5000, warn }) {
  const child = fork(SERVER, [JSON.stringify(input)], { stdio: ['ignore', 2, 2, 'ipc'] })
  const waiters = new Map()
  let failure = null
  const failAll = (err) => {
    failure = failure || err
    for (const w of waiters.values()) w.reject(failure)
    waiters.clear()
  }
  const timer = setTimeout(() => {
    child.kill('SIGKILL')
    failAll(new Error(`server timed out after ${timeoutMs / 1000} s`))
  }, timeoutMs)
  const wait = (type) =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure)
      waiters.set(type, { resolve, reject })
    })
  let graceTimer = null
  child.on('message', (m) => {
    if (m.type === 'error') return failAll(new Error(m.error))
    if (m.type === 'stats') {
      graceTimer = setTimeout(() => {
        warn(`server replied but had not exited ${exitGraceMs / 1000} s later (open handle?); killed it`)
        child.kill('SIGKILL')
      }, exitGraceMs)
    }
    const w = waiters.get(m.type)
    if (w) {
      waiters.delete(m.type)
      w.resolve(m)
    }
  })
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      clearTimeout(graceTimer)
      failAll(new Error(`server exited (code ${code}, signal ${signal})`))
      resolve({ code, signal })
    }),
  )
  child.on('error', failAll)
  return {
    pid: child.pid,
    ready: wait('listening'),
    call(msg, replyType) {
      const p = wait(replyType)
      child.send(msg)
      return p
    },
    exited,
    kill: () => child.kill('SIGKILL'),
  }
}

async function trial(job, opt, warn) {
  const { impl, mode } = job
  const payloadBytes = SINGLE_RATE * opt.seconds
  const rate = mode === 'single' ? SINGLE_RATE : (GROUP_RATE_PER_1000 * opt.clients) / 1000
  const share = mode === 'single' ? SINGLE_RATE : rate / opt.clients
  const idealS = payloadBytes / share
  const timeoutMs = Math.round(idealS * 3000) + 60000
  const server = startServer({ impl, mode, rate, payloadBytes, chunk: CHUNK, clients: opt.clients }, { timeoutMs: timeoutMs + 30000, warn })
  let sampler = null
  try {
    const listening = await server.ready
    const threadsBefore = taskCount(server.pid)
    let threadsMax = threadsBefore
    let samples = 0
    sampler = setInterval(() => {
      threadsMax = Math.max(threadsMax, taskCount(server.pid) || 0)
      samples++
    }, 100)
    await server.call({ type: 'go' }, 'going')
    const client = await common.runChild(CLIENT, { port: listening.port, clients: opt.clients, payloadBytes, share, timeoutMs }, { timeoutMs: timeoutMs + 30000, warn })
    const srv = await server.call({ type: 'stop' }, 'stats')
    clearInterval(sampler)
    sampler = null
    threadsMax = Math.max(threadsMax, taskCount(server.pid) || 0)
    await server.exited
    return { impl, mode, rate, share, payloadBytes, idealS, client, server: srv, serverOpenFiles: listening.openFiles, threadsBefore, threadsMax, samples }
  } catch (err) {
    server.kill()
    throw err
  } finally {
    if (sampler) clearInterval(sampler)
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

/** One trial's distribution of achieved/share. */
function distribution(values) {
  const v = values.slice().sort((a, b) => a - b)
  return {
    min: v[0] ?? NaN,
    p1: percentile(v, 1),
    median: percentile(v, 50),
    max: v[v.length - 1] ?? NaN,
    within: v.filter((x) => Math.abs(x - 1) <= TOLERANCE).length,
  }
}

function problemOf(r) {
  const c = r.client
  if (c.complete !== c.clients) {
    return `${c.complete}/${c.clients} complete responses (${c.errors} errors, ${c.short} short bodies${c.firstError ? `; first error: ${c.firstError}` : ''})`
  }
  if (r.server.errors) return `server: ${r.server.errors} pipeline error(s), first: ${r.server.firstError}`
  return null
}

async function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    clients: { type: 'number' },
    seconds: { type: 'number' },
    reps: { type: 'number' },
    quick: { type: 'flag', default: false },
    impls: { type: 'list', default: SCALE_IMPLS },
    modes: { type: 'list', default: MODES },
  })
  for (const i of args.impls) if (!IMPLS[i]) throw new Error(`unknown impl "${i}"`)
  for (const m of args.modes) if (!MODES.includes(m)) throw new Error(`unknown mode "${m}" (use ${MODES.join(', ')})`)
  const q = args.quick
  const opt = {
    clients: Math.floor(args.clients ?? (q ? 200 : 1000)),
    seconds: args.seconds ?? (q ? 2 : 5),
    reps: Math.floor(args.reps ?? (q ? 1 : 3)),
  }

  // Open files: every client socket is one fd in the client child and one in the server child.
  // Node raises its soft RLIMIT_NOFILE to the hard limit at startup, so each child can use up to
  // the hard limit; if that is still too low, run fewer clients and say so.
  const shell = shellUlimit()
  const own = ownOpenFiles()
  const fdNotes = [`\`ulimit -n\` in a shell: soft ${shell.soft}, hard ${shell.hard}; this Node process: soft ${own.soft}, hard ${own.hard} (Node raises soft to hard at startup, and so do the children)`]
  if (opt.clients + FD_MARGIN > own.hard) {
    const fit = Math.max(1, own.hard - FD_MARGIN)
    fdNotes.push(`**--clients ${opt.clients} needs ~${opt.clients + FD_MARGIN} fds per child; the hard limit is ${own.hard}: running ${fit} clients**`)
    log(`WARNING: open-file hard limit ${own.hard} is too low for ${opt.clients} clients; running ${fit}`)
    opt.clients = fit
  }

  const probe = args.impls.includes('sluice') ? probeSluiceThrottle() : { throttle: false, group: false, reason: 'not selected' }
  if (args.impls.includes('sluice') && probe.reason) log(`WARNING: ${probe.reason}; skipping the sluice rows that need it.`)
  const jobs = []
  for (const impl of args.impls) {
    for (const mode of args.modes) {
      if (mode === 'group' && !IMPLS[impl].group) continue
      if (impl === 'sluice' && !(mode === 'group' ? probe.group : probe.throttle)) continue
      jobs.push({ key: `${impl}/${mode}`, impl, mode })
    }
  }

  const out = []
  const emit = (text = '') => {
    console.log(text)
    out.push(text)
  }
  const cpus = os.cpus()
  const payloadBytes = SINGLE_RATE * opt.seconds
  const groupRate = (GROUP_RATE_PER_1000 * opt.clients) / 1000
  emit('# Throttles at scale: one HTTP server, many throttled responses')
  emit()
  emit(
    `${new Date().toISOString()} · Node ${process.version} · ${cpus.length} CPUs (${cpus[0]?.model ?? '?'}) · ` +
      `${opt.reps} rep(s), median (min–max) · server and clients each in a fresh child per trial` +
      (q ? ' · **--quick: smoke-test sizes**' : ''),
  )
  emit()
  emit(
    `${opt.clients} concurrent clients on loopback, ${payloadBytes} bytes (${payloadBytes / KiB} KiB) each, from memory in ` +
      `${CHUNK / KiB} KiB chunks through the throttle into the response. single: one throttle per response at ${SINGLE_RATE} B/s ` +
      `(64 KiB/s). group: all responses in one group at ${groupRate.toFixed(0)} B/s (32 MiB/s × ${opt.clients}/1000), share ` +
      `${(groupRate / opt.clients).toFixed(0)} B/s each.`,
  )
  emit()
  for (const n of fdNotes) emit(`- ${n}`)
  if (process.env.SLUICE_MODULE) emit(`\nsluice loaded from \`${SLUICE_MODULE}\` (SLUICE_MODULE)`)
  if (args.impls.includes('sluice') && probe.reason) emit(`\n**sluice rows skipped where the export is missing:** ${probe.reason}`)
  const buildBefore = probe.throttle ? sluiceFingerprint() : null
  if (buildBefore) emit(`\nsluice build \`${buildBefore.id}\`${buildBefore.builtAt ? ` (.node built ${buildBefore.builtAt})` : ''}`)

  const results = new Map(jobs.map((j) => [j.key, []]))
  const failures = []
  const warnings = []
  for (let rep = 0; rep < opt.reps; rep++) {
    const order = jobs.map((_, i) => jobs[(i + rep) % jobs.length])
    for (const job of order) {
      const tag = `[rep ${rep + 1}/${opt.reps}] ${job.key}`
      log(`${tag} ...`)
      try {
        const r = await trial(job, opt, (m) => {
          warnings.push(`${tag}: ${m}`)
          log(`WARNING ${tag}: ${m}`)
        })
        r.fl = distribution(r.client.firstLast)
        r.re = distribution(r.client.requestEnd)
        results.get(job.key).push(r)
        const c = r.client
        log(
          `${tag}: ${c.complete}/${c.clients} complete; first→last min ${r.fl.min.toFixed(3)} median ${r.fl.median.toFixed(3)} ` +
            `max ${r.fl.max.toFixed(3)}, ${r.fl.within} within ±2 %; request→end median ${r.re.median.toFixed(3)}, ${r.re.within} within ±2 %; ` +
            `server threads ${r.threadsBefore}→${r.threadsMax}, CPU ${r.server.processCpuMs.toFixed(0)} ms (main ${r.server.threadCpuMs.toFixed(0)}), ` +
            `client CPU ${c.processCpuMs.toFixed(0)} ms, wall ${c.wallS.toFixed(2)} s`,
        )
        const problem = problemOf(r)
        if (problem) {
          failures.push({ tag, message: problem })
          log(`\n!!!!! CHECK FAILED ${tag}\n${problem}\n`)
        }
        if (r.server.statsUnits !== null && r.server.statsUnits !== r.server.served) {
          warnings.push(`${tag}: sum of stats().units = ${r.server.statsUnits}, but ${r.server.served} bytes were served`)
        }
      } catch (err) {
        failures.push({ tag, message: err.message })
        log(`\n!!!!! TRIAL FAILED ${tag}\n${err.message}\n`)
      }
    }
  }

  emit()
  emit(rateTable(jobs, results, opt))
  emit()
  emit(costTable(jobs, results, opt))
  emit()
  emit('## How each throttle is built (in the server, once per request)')
  emit()
  emit(
    common.mdTable(
      ['impl', 'mode', 'construction', 'rate'],
      jobs.map((j) => [
        j.impl,
        j.mode,
        `\`${j.mode === 'group' ? `${IMPLS[j.impl].groupHow} (one group for the server's lifetime)` : IMPLS[j.impl].singleHow(false)}\``,
        j.mode === 'group' ? `${groupRate.toFixed(0)} B/s for the group` : `${SINGLE_RATE} B/s`,
      ]),
    ),
  )
  emit()
  emit('`pipeline(source, throttle, res)`; the response has `Content-Length` set. Everything else is left at its default.')

  if (failures.length) {
    emit()
    emit(`**${failures.length} trial(s) or check(s) FAILED:**`)
    for (const f of failures) emit(`- ${f.tag}: ${f.message.split('\n')[0]}`)
  }
  if (buildBefore) {
    const buildAfter = sluiceFingerprint()
    if (!buildAfter || buildAfter.id !== buildBefore.id) {
      warnings.push(`the sluice build changed during the run (\`${buildBefore.id}\` → \`${buildAfter ? buildAfter.id : 'missing'}\`): rerun`)
    }
  }
  const bg = common.summarise([...results.values()].flat().map(bgCoresOf))
  if (bg && bg.median > NOISY_BG_CORES) {
    warnings.push(`background load ${bg.median.toFixed(2)} cores (median over the trials, server and clients excluded): treat the numbers with care`)
  }
  if (warnings.length) {
    emit()
    emit(`**${warnings.length} warning(s):**`)
    for (const w of warnings) emit(`- ${w}`)
  }

  fs.mkdirSync(corpus.CORPUS_DIR, { recursive: true })
  const resultsFile = path.join(corpus.CORPUS_DIR, 'results-throttle-scale.md')
  fs.writeFileSync(resultsFile, out.join('\n') + '\n')
  log(`\nwrote ${path.relative(process.cwd(), resultsFile)}`)
  if (failures.length) process.exitCode = 1
}

/** Cores busy outside both children: the client sees the server's CPU as background, so take it out. */
const bgCoresOf = (r) => Math.max(0, r.client.bgCores - r.server.processCpuMs / 1000 / r.client.wallS)

const cell = (rs, get, digits) => common.fmtStat(common.summarise(rs.map(get)), digits)

function rateTable(jobs, results, opt) {
  const rows = jobs.map((j) => {
    const rs = results.get(j.key)
    if (rs.length === 0) return [j.impl, j.mode, `**0/${opt.reps}**`, ...Array(14).fill('–')]
    const c = (get, digits = 3) => cell(rs, get, digits)
    return [
      j.impl,
      j.mode,
      `${rs.length}/${opt.reps}`,
      rs[0].share.toFixed(0),
      c((r) => r.client.complete, 0),
      c((r) => r.fl.min),
      c((r) => r.fl.p1),
      c((r) => r.fl.median),
      c((r) => r.fl.max),
      c((r) => r.fl.within, 0),
      c((r) => r.re.min),
      c((r) => r.re.p1),
      c((r) => r.re.median),
      c((r) => r.re.max),
      c((r) => r.re.within, 0),
      `${c((r) => r.client.ttfbMedianMs, 0)} / ${c((r) => r.client.ttfbMaxMs, 0)}`,
      `${c((r) => r.client.endSpreadS, 2)} (ideal body ${rs[0].idealS.toFixed(2)})`,
    ]
  })
  return [
    `## Per-client rate: achieved / share over ${opt.clients} clients`,
    '',
    '**first→last** = (body bytes after the first `data` event) / (last byte − first byte), per client, ÷ share. ' +
      "**request→end** = all body bytes / (just before `http.get` → the response's `end`) ÷ share: includes connecting, " +
      `headers and any initial burst. min / p1 / median / max are over the clients of one trial, then median (min–max) over ` +
      `trials; **within ±${TOLERANCE * 100} %** = clients whose ratio is in [${1 - TOLERANCE}, ${1 + TOLERANCE}] (of ${opt.clients}). ` +
      'TTFB = request start → first body byte. End spread = last response end − first response end.',
    '',
    common.mdTable(
      [
        'impl',
        'mode',
        'trials ok',
        'share B/s',
        'complete responses',
        'first→last min',
        'p1',
        'median',
        'max',
        `within ±${TOLERANCE * 100} %`,
        'request→end min',
        'p1',
        'median',
        'max',
        `within ±${TOLERANCE * 100} %`,
        'TTFB ms median / max',
        'end spread s',
      ],
      rows,
    ),
  ].join('\n')
}

function costTable(jobs, results, opt) {
  const rows = jobs.map((j) => {
    const rs = results.get(j.key)
    if (rs.length === 0) return [j.impl, j.mode, ...Array(10).fill('–')]
    const c = (get, digits) => cell(rs, get, digits)
    return [
      j.impl,
      j.mode,
      c((r) => r.server.served / 1e6, 1),
      `${c((r) => r.threadsBefore, 0)} / ${c((r) => r.threadsMax, 0)}`,
      c((r) => r.server.processCpuMs, 0),
      c((r) => r.server.threadCpuMs, 0),
      c((r) => r.server.processCpuMs / (r.server.served / 1e6), 1),
      c((r) => r.server.loopP99Ms, 1),
      c((r) => r.server.loopMaxMs, 1),
      c((r) => r.client.processCpuMs, 0),
      c((r) => r.client.wallS, 2),
      c(bgCoresOf, 2),
    ]
  })
  return [
    `## Server cost (${opt.clients} clients)`,
    '',
    'Server threads = entries in /proc/<server pid>/task: once listening (before the first request) / max, sampled by the ' +
      'parent every 100 ms through the run. Server CPU = from just before the clients start to after the last response ' +
      '(`process.cpuUsage()` = all threads; main = the JS thread, 10 ms ticks). CPU per MB = server process CPU ms / MB ' +
      '(10^6 bytes) of body served. Loop delay = `monitorEventLoopDelay({resolution: 10})` in the server, minus the period. ' +
      'Client CPU and wall time are the client child over the whole run: a client near 1 core would be the bottleneck. ' +
      'bg load = machine CPU outside both children.',
    '',
    common.mdTable(
      [
        'impl',
        'mode',
        'MB served',
        'server threads before / max',
        'server process CPU ms',
        'server main CPU ms',
        'server CPU ms per MB',
        'server loop delay p99 ms',
        'loop delay max ms',
        'client process CPU ms',
        'wall s',
        'bg load (cores)',
      ],
      rows,
    ),
  ].join('\n')
}

main().catch((err) => {
  console.error(err.stack || err)
  process.exitCode = 1
})
