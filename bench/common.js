'use strict'

// Helpers shared by the benchmark parents (ndjson.js, ndjson-limits.js, concurrency.js) and their trial children.

const fs = require('node:fs')
const { fork } = require('node:child_process')
const { Readable, Writable } = require('node:stream')
const { PerformanceObserver } = require('node:perf_hooks')

const CHUNK = 64 * 1024
const MiB = 1024 * 1024

// ---------------------------------------------------------------------------------------------
// Child side: measurement

// USER_HZ. It is 100 on every Linux the project targets (getconf CLK_TCK), i.e. 10 ms ticks.
const CLOCK_TICKS_PER_S = 100

/**
 * CPU seconds (user + system) of the main thread alone, from /proc/self/task/<pid>/stat fields 14
 * and 15. process.cpuUsage() also counts GC helpers, the libuv pool and any Rust worker threads;
 * comparing the two shows how much work moved off the JS thread.
 */
function mainThreadCpuSeconds() {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces; fields are counted from after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state), so fields 14 and 15 are at indexes 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S
  } catch {
    return NaN // not Linux
  }
}

/**
 * CPU seconds the whole machine spent busy (all cores, every process), from /proc/stat. Minus our
 * own process CPU it gives the background load during a trial: on a shared 2-core box a compile
 * job next door is the main source of noise, and this shows when it happened.
 */
function machineBusyCpuSeconds() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_S
  } catch {
    return NaN
  }
}

/** A Readable that hands out `buf` as CHUNK-sized subarrays (no copies, so nothing but the parser is timed). */
function memorySource(buf, chunkSize = CHUNK) {
  let offset = 0
  return new Readable({
    read() {
      if (offset >= buf.length) {
        this.push(null)
        return
      }
      this.push(buf.subarray(offset, offset + chunkSize))
      offset += chunkSize
    },
  })
}

/**
 * objectMode Writable (default highWaterMark) that counts records and reads one field of each,
 * like the cheapest real consumer would. `touched` must end up equal to `records`: it proves
 * every record really was an object with an `id` (or, for raw lines, a non-empty Buffer).
 */
function countingSink(shape, { anyObject = false } = {}) {
  const state = { records: 0, touched: 0, chunks: 0 }
  // Real-world records need not have an `id`: there `touched` proves each one is an object, and
  // the sink still reads `id` (like a consumer looking at a field).
  const never = Symbol('never')
  const touch = anyObject
    ? (v) => v !== null && typeof v === 'object' && v.id !== never
    : (v) => v !== null && v.id !== undefined
  const count = {
    value(v) {
      state.records++
      if (touch(v)) state.touched++
    },
    keyed(kv) {
      state.records++
      if (touch(kv.value)) state.touched++
    },
    batch(arr) {
      state.records += arr.length
      for (let i = 0; i < arr.length; i++) if (touch(arr[i])) state.touched++
    },
    line(buf) {
      state.records++
      if (buf.length > 0) state.touched++
    },
  }[shape]
  if (!count) throw new Error(`unknown chunk shape "${shape}"`)
  const sink = new Writable({
    objectMode: true,
    write(chunk, _encoding, callback) {
      state.chunks++
      count(chunk)
      callback()
    },
  })
  return { sink, state }
}

/** Sums the duration of V8 GC pauses that started between start() and stop(). */
function gcTimer() {
  const entries = []
  const obs = new PerformanceObserver((list) => entries.push(...list.getEntries()))
  obs.observe({ entryTypes: ['gc'] })
  let t0 = Infinity
  return {
    start() {
      t0 = performance.now()
    },
    // Node delivers gc entries late (more than one setImmediate after the pause), so wait a little
    // and then keep only the pauses that started inside the window.
    stop() {
      const t1 = performance.now()
      return new Promise((resolve) =>
        setTimeout(() => {
          obs.disconnect()
          let ms = 0
          for (const e of entries) if (e.startTime >= t0 && e.startTime <= t1) ms += e.duration
          resolve(ms)
        }, 100),
      )
    },
  }
}

/** Snapshot of the counters a trial reports; diff two with `since`. */
function snapshot() {
  return { t: performance.now(), thread: mainThreadCpuSeconds(), cpu: process.cpuUsage(), machine: machineBusyCpuSeconds() }
}
function since(a) {
  const b = snapshot()
  const wallS = (b.t - a.t) / 1000
  const processCpuS = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1e6
  return {
    wallS,
    threadCpuS: b.thread - a.thread,
    processCpuS,
    // Average number of cores busy with anything but this process (10 ms ticks: ±0.02 s noise).
    bgCores: Math.max(0, b.machine - a.machine - processCpuS) / wallS,
  }
}

const rssMiB = () => process.memoryUsage.rss() / MiB
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024 // maxRSS is in KiB

/** Child-side: report a result (or an error) to the parent, then let the process end on its own. */
function reply(msg) {
  // No process.exit(): if the addon leaks a handle that keeps the loop alive, the parent sees the
  // child fail to exit and says so, instead of the benchmark hiding it.
  process.send(msg, () => process.disconnect())
}

function runChildMain(fn) {
  process.on('uncaughtException', (err) => {
    const error = `uncaught exception: ${err && err.stack ? err.stack : err}`
    if (!process.connected) {
      // Already replied: the parent only sees the exit code, so say why here.
      console.error(error)
      process.exit(1)
    }
    process.send({ ok: false, error }, () => process.exit(1))
  })
  const input = JSON.parse(process.argv[2])
  Promise.resolve()
    .then(() => fn(input))
    .then(
      (result) => reply({ ok: true, result }),
      (err) => reply({ ok: false, error: err && err.stack ? err.stack : String(err) }),
    )
}

// ---------------------------------------------------------------------------------------------
// Parent side: running children

/**
 * Runs `script` in a fresh child (clean heap, clean peak RSS, no JIT state from earlier trials)
 * and resolves with its reply. Rejects if the child fails, times out, or exits without replying;
 * a child that replied but does not exit within `exitGraceMs` is killed and reported through
 * `warn` and the result's `warnings` array (something held its event loop open: a leaked handle).
 * `execArgv` adds Node flags for the child (e.g. --expose-gc).
 */
function runChild(script, input, { timeoutMs = 600000, exitGraceMs = 5000, warn = () => {}, execArgv = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify(input)], {
      execArgv: ['--max-old-space-size=12000', ...execArgv],
      // The child's stdout goes to our stderr, so our stdout stays pure Markdown.
      stdio: ['ignore', 2, 2, 'ipc'],
    })
    let msg = null
    let graceTimer = null
    let killedLingering = false
    const warnings = []
    const note = (m) => {
      warnings.push(m)
      warn(m)
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`timed out after ${timeoutMs / 1000} s`))
    }, timeoutMs)
    child.on('message', (m) => {
      msg = m
      graceTimer = setTimeout(() => {
        note(`child replied but had not exited ${exitGraceMs / 1000} s later (open handle?); killed it`)
        killedLingering = true
        child.kill('SIGKILL')
      }, exitGraceMs)
    })
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      clearTimeout(graceTimer)
      if (!msg) return reject(new Error(`child exited (code ${code}, signal ${signal}) without a result`))
      if (!msg.ok) return reject(new Error(msg.error))
      if ((code !== 0 || signal) && !killedLingering) {
        note(`child replied, then exited with code ${code}, signal ${signal}`)
      }
      resolve({ ...msg.result, warnings })
    })
  })
}

/** Reads a file once so file-source trials start with it in the page cache. */
function warmPageCache(file) {
  const fd = fs.openSync(file, 'r')
  const buf = Buffer.allocUnsafe(MiB)
  try {
    while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    fs.closeSync(fd)
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting

function summarise(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = v.length >> 1
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
  return { median, min: v[0], max: v[v.length - 1], n: v.length }
}

/**
 * Summaries of a run's trial results (a Map candidate → [result]), for table cells:
 * `stat(name, key)` of a field, and `perMB(name, key)` of a field in seconds as ms per MB of
 * `bytes` (or, without `bytes`, of each result's own `bytes`).
 */
function resultStats(results, bytes) {
  const of = (name) => results.get(name) ?? []
  return {
    stat: (name, key) => summarise(of(name).map((r) => r[key])),
    perMB: (name, key) => summarise(of(name).map((r) => (r[key] * 1000) / ((bytes ?? r.bytes) / 1e6))),
  }
}

/** "median (min–max)", or just the value when there is a single sample. */
function fmtStat(s, digits = 1) {
  if (!s) return '–'
  const f = (x) => x.toFixed(digits)
  return s.n === 1 || f(s.min) === f(s.max) ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`
}

function mdTable(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** Minimal flag parser: --name value, --name=value, --flag. */
function parseArgs(argv, spec) {
  const out = {}
  for (const [k, d] of Object.entries(spec)) out[k] = d.default
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i])
    const d = m && spec[m[1]]
    if (!d) throw new Error(`unknown argument "${argv[i]}"; known: ${Object.keys(spec).map((k) => '--' + k).join(' ')}`)
    if (d.type === 'flag') {
      out[m[1]] = true
      continue
    }
    const raw = m[2] !== undefined ? m[2] : argv[++i]
    if (raw === undefined) throw new Error(`--${m[1]} needs a value`)
    if (d.type === 'number') {
      out[m[1]] = Number(raw)
      if (!(out[m[1]] > 0)) throw new Error(`--${m[1]} must be a positive number`)
    } else if (d.type === 'list') {
      out[m[1]] = raw.split(',').filter(Boolean)
    } else out[m[1]] = raw
  }
  return out
}

module.exports = {
  CHUNK,
  MiB,
  mainThreadCpuSeconds,
  memorySource,
  countingSink,
  gcTimer,
  snapshot,
  since,
  rssMiB,
  peakRssMiB,
  runChildMain,
  runChild,
  warmPageCache,
  summarise,
  resultStats,
  fmtStat,
  mdTable,
  parseArgs,
}
