'use strict'

// One trial of bench/concurrency.js, in a fresh child. argv[2] is JSON:
//   {scenario: 'many' | 'short' | 'parallel', candidate: 'sluice' | 'passthrough' | 'minimal-js', ...}
//
//   many     : {streams, seconds}         N idle-ish parsers, one line each per second
//   short    : {iterations, warmup, blocks, inFlight}   create → write one line → end → 'end', repeated
//   parallel : {parsers, path, bytes, records}          `parsers` busy pipelines side by side (1 = alone)
//
// Correctness problems in `many` are returned as data (the parent marks them FAIL and exits 1),
// so the thread, latency and memory figures of a broken run are still reported; `short` and
// `parallel` throw, like trial.js.

const fs = require('node:fs')
const path = require('node:path')
const os = require('node:os')
const { PassThrough, pipeline } = require('node:stream')
const { byName, loadSluice, SLUICE_MODULE } = require('./candidates.js')
const common = require('./common.js')

const KiB = 1024

// ---------------------------------------------------------------------------------------------
// Candidates. `raw` ones hand back the written Buffer instead of a parsed value.

const CANDIDATES = {
  sluice: { load: () => byName('sluice').load(), raw: false },
  // The same parser with its inline stage off: every stream is a task on the native pool, as a
  // stream that gets bulk input is. Keeps the runtime's own numbers (threads, latency, memory
  // per task) in view now that a stream this small never reaches it.
  'sluice-pool': {
    load: () => {
      require(path.join(SLUICE_MODULE, 'lib', 'ndjson', 'inline.js')).inlineParsing.enabled = false
      return byName('sluice').load()
    },
    raw: false,
  },
  'minimal-js': { load: () => byName('minimal-js').load(), raw: false },
  // The floor: a core stream that does nothing. Whatever it costs is the harness plus core's
  // Transform machinery, which every candidate pays too.
  passthrough: { load: async () => () => new PassThrough(), raw: true },
}

// The line every scenario writes: small, like one event on a long-lived connection. `i` names
// the stream, `k` the line within it, so a value delivered to the wrong stream or out of order
// is caught, and `t` pads it to ~60 bytes.
const PAD = 'abcdefghijklmnopqrstuvwxyz0123'
const lineFor = (i, k) => `{"i":${i},"k":${k},"t":"${PAD}"}\n`
const isValue = (v, i, k) => v !== null && typeof v === 'object' && v.i === i && v.k === k && v.t === PAD
const isLine = (buf, i, k) => Buffer.isBuffer(buf) && buf.toString('latin1') === lineFor(i, k)

/**
 * OS threads in this process. /proc/self/status "Threads:" is the number of entries in
 * /proc/self/task, read without listing ten thousand directory entries on the event loop every
 * 250 ms (which would show up in the latencies we measure).
 */
function threadCount() {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1])
  } catch {
    return NaN // not Linux
  }
}
const taskDirCount = () => {
  try {
    return fs.readdirSync('/proc/self/task').length
  } catch {
    return NaN
  }
}

/** Samples the thread count (and RSS) every `ms` until stop(); remembers the maxima. */
function sampler(ms = 250) {
  const s = { maxThreads: threadCount(), maxRssMiB: common.rssMiB(), samples: 0 }
  const take = () => {
    s.maxThreads = Math.max(s.maxThreads, threadCount())
    s.maxRssMiB = Math.max(s.maxRssMiB, common.rssMiB())
    s.samples++
  }
  const timer = setInterval(take, ms)
  timer.unref()
  return {
    state: s,
    take,
    stop() {
      clearInterval(timer)
      take()
      return s
    },
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Churns ~2 million short-lived objects so V8's young generation grows to the size it keeps under
 * load *before* the "RSS before" reading. Otherwise that growth (~15 MiB, measured on a bare
 * PassThrough run) lands in "RSS live" and reads as several KiB per stream at 1,000 streams.
 */
function warmHeap() {
  let sink = 0
  for (let i = 0; i < 2e6; i++) {
    const o = { a: i, b: 'x' + i }
    sink ^= o.b.length
  }
  return sink
}

/** Full GC (the child runs with --expose-gc), then a moment for V8 to hand pages back. */
async function settledRssMiB() {
  if (typeof global.gc === 'function') {
    global.gc()
    await sleep(50)
    global.gc()
  }
  await sleep(50)
  return common.rssMiB()
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

/** Pool size to hold the thread count against, and where it came from. */
function workersOf(candidate) {
  if (!candidate.startsWith('sluice')) return { workers: null, workersFrom: null }
  const m = loadSluice()
  if (typeof m.configure === 'function') {
    const cfg = m.configure()
    if (cfg && Number.isFinite(cfg.workers)) return { workers: cfg.workers, workersFrom: 'configure().workers' }
  }
  return { workers: os.availableParallelism(), workersFrom: 'os.availableParallelism() (no configure())' }
}

// ---------------------------------------------------------------------------------------------
// many: N concurrent parsers, each fed one line about every second for S seconds.

async function many({ candidate, streams: n, seconds }) {
  const cand = CANDIDATES[candidate]
  const create = await cand.load()
  const { workers, workersFrom } = workersOf(candidate)
  const lines = n * seconds

  // Everything sized by N × S is allocated before the "RSS before" reading, so the per-stream
  // figure is what the streams cost, not the harness's latency log.
  const writtenAt = new Float64Array(lines) // performance.now() of each write, [i * seconds + k]
  const latency = new Float64Array(lines) // ms, in arrival order
  const received = new Uint32Array(n) // next k expected per stream
  let arrived = 0
  let sent = 0
  let wrong = 0 // values that are not a later line of this stream (corrupt, foreign, repeated)
  let lost = 0 // lines skipped over: a later line of the stream arrived first
  let firstWrong = null
  let ended = 0
  let errors = 0
  let firstError = null
  const note = (msg) => {
    if (firstWrong === null) firstWrong = msg
  }
  // A delivery for stream i that is not the expected line k. If it is a later line of the same
  // stream, the lines in between were lost (or overtaken): count them and resynchronise, so one
  // loss is reported as one loss rather than as every later line being wrong.
  const unexpected = (i, k, got, shown) => {
    const later = got !== null && typeof got === 'object' && got.i === i && Number.isInteger(got.k) && got.k > k && got.k < seconds
    if (!later || (cand.raw ? !isLine(shown, i, got.k) : !isValue(got, i, got.k))) {
      wrong++
      note(`stream ${i}: got ${cand.raw ? String(shown).trim() : JSON.stringify(shown)} when line ${k} was due`)
      return
    }
    lost += got.k - k
    note(`stream ${i}: line ${got.k} arrived when line ${k} was due`)
    latency[arrived++] = performance.now() - writtenAt[i * seconds + got.k]
    received[i] = got.k + 1
  }
  const parseOrNull = (buf) => {
    try {
      return JSON.parse(buf)
    } catch {
      return null
    }
  }

  // Typed arrays come zeroed but untouched: write every page now, or they are counted as the
  // streams' memory once the run fills them.
  writtenAt.fill(-1)
  latency.fill(-1)
  received.fill(1)
  received.fill(0)
  warmHeap()

  const threadsBefore = threadCount()
  const taskDirBefore = taskDirCount()
  const rssBefore = await settledRssMiB()
  const watch = sampler(250)

  // Create phase: N streams, listeners attached, nothing written yet.
  const tCreate = performance.now()
  const list = new Array(n)
  for (let i = 0; i < n; i++) {
    let s
    try {
      s = create()
    } catch (err) {
      throw new Error(`creating stream ${i + 1} of ${n} failed (threads: ${threadCount()}): ${err.message}`)
    }
    const onData = cand.raw
      ? (buf) => {
          const k = received[i]
          if (k >= seconds || !isLine(buf, i, k)) return unexpected(i, k, parseOrNull(buf), buf)
          latency[arrived++] = performance.now() - writtenAt[i * seconds + k]
          received[i] = k + 1
        }
      : (v) => {
          const k = received[i]
          if (k >= seconds || !isValue(v, i, k)) return unexpected(i, k, v, v)
          latency[arrived++] = performance.now() - writtenAt[i * seconds + k]
          received[i] = k + 1
        }
    s.on('data', onData)
    s.on('end', () => ended++)
    s.on('error', (err) => {
      errors++
      if (firstError === null) firstError = `stream ${i}: ${err && err.message}`
    })
    list[i] = s
  }
  const createMs = performance.now() - tCreate
  const threadsCreated = threadCount()

  // Run phase. Stream i writes line k at t0 + i/N s + k s: the N first writes are spread
  // uniformly over the first second, and each stream keeps its slot (timers are armed from the
  // absolute due time, so late callbacks do not drift the schedule).
  const t0 = performance.now() + 100
  const snap0 = common.snapshot()
  await new Promise((resolve) => {
    let streamsDone = 0
    for (let i = 0; i < n; i++) {
      const offset = (i * 1000) / n
      let k = 0
      const tick = () => {
        const line = Buffer.from(lineFor(i, k))
        writtenAt[i * seconds + k] = performance.now()
        sent++
        list[i].write(line)
        k++
        if (k < seconds) setTimeout(tick, Math.max(0, t0 + offset + k * 1000 - performance.now()))
        else if (++streamsDone === n) resolve()
      }
      setTimeout(tick, Math.max(0, t0 + offset - performance.now()))
    }
  })
  // The last writes went out just now; give them time to arrive (anything later than this is
  // still counted at the end, and shows in the latency max).
  const settleMs = 250
  await sleep(settleMs)
  const run = common.since(snap0)

  // All streams live (none ended), everything written: the memory they hold.
  const threadsLive = threadCount()
  const taskDirLive = taskDirCount()
  const rssLive = await settledRssMiB()

  // End phase: end every stream and wait for every 'end'.
  const tEnd = performance.now()
  const endTimeoutMs = 30000 + n
  for (const s of list) s.end()
  const allEnded = await new Promise((resolve) => {
    const deadline = performance.now() + endTimeoutMs
    const poll = () => {
      if (ended + errors >= n) return resolve(true)
      if (performance.now() > deadline) return resolve(false)
      setTimeout(poll, 5)
    }
    poll()
  })
  const endMs = performance.now() - tEnd
  // Threads a finished stream leaves behind (a pool keeps its workers; per-stream threads exit).
  await sleep(200)
  const threadsAfterEnd = threadCount()
  const watched = watch.stop()

  const sorted = latency.subarray(0, arrived).slice().sort()
  const short = []
  for (let i = 0; i < n && short.length < 3; i++) if (received[i] !== seconds) short.push(`stream ${i}: ${received[i]}/${seconds}`)
  return {
    workers,
    workersFrom,
    streams: n,
    seconds,
    lineBytes: Buffer.byteLength(lineFor(n - 1, seconds - 1)),
    sent,
    received: arrived,
    wrong,
    lost,
    firstWrong,
    shortStreams: short,
    ended,
    allEnded,
    errors,
    firstError,
    threadsBefore,
    taskDirBefore,
    threadsCreated,
    threadsLive,
    taskDirLive,
    threadsMax: watched.maxThreads,
    threadsAfterEnd,
    samples: watched.samples,
    latP50Ms: percentile(sorted, 50),
    latP99Ms: percentile(sorted, 99),
    latMaxMs: sorted.length ? sorted[sorted.length - 1] : NaN,
    rssBeforeMiB: rssBefore,
    rssLiveMiB: rssLive,
    rssPerStreamKiB: ((rssLive - rssBefore) * KiB) / n,
    maxRssMiB: watched.maxRssMiB,
    createMs,
    endMs,
    // CPU of the run phase: S seconds of writes plus the settle pause.
    wallS: run.wallS,
    processCpuS: run.processCpuS,
    threadCpuS: run.threadCpuS,
    cpuUsPerLine: (run.processCpuS * 1e6) / lines,
    bgCores: run.bgCores,
  }
}

// ---------------------------------------------------------------------------------------------
// short: the whole life of a parser that carries a single line.

function oneShort(create, raw, i) {
  return new Promise((resolve, reject) => {
    const s = create()
    let got = 0
    let ok = false
    s.on('data', (v) => {
      got++
      ok = raw ? isLine(v, i, 0) : isValue(v, i, 0)
    })
    s.on('error', reject)
    s.on('end', () => {
      if (got === 1 && ok) resolve()
      else reject(new Error(`stream ${i}: ${got} chunk(s) delivered${got ? ', not the line written' : ''}`))
    })
    s.write(Buffer.from(lineFor(i, 0)))
    s.end()
  })
}

/**
 * Runs `count` short streams with at most `inFlight` alive at once; resolves when all ended.
 * `started` runs once the first `inFlight` exist (the moment most of them are alive).
 */
function shortBlock(create, raw, first, count, inFlight, started = () => {}) {
  return new Promise((resolve, reject) => {
    let next = first
    let done = 0
    let failed = false
    const end = first + count
    const start = () => {
      const i = next++
      oneShort(create, raw, i).then(() => {
        if (failed) return
        if (++done === count) resolve()
        else if (next < end) start()
      }, (err) => {
        failed = true
        reject(err)
      })
    }
    for (let j = 0; j < Math.min(inFlight, count); j++) start()
    started()
  })
}

async function short({ candidate, iterations, warmup, blocks, inFlight }) {
  const cand = CANDIDATES[candidate]
  const create = await cand.load()
  const threadsBefore = threadCount()
  await shortBlock(create, cand.raw, 0, warmup, inFlight)
  const watch = sampler(250)
  const perBlock = Math.max(1, Math.floor(iterations / blocks))
  const blockUs = []
  const snap0 = common.snapshot()
  for (let b = 0; b < blocks; b++) {
    const t = performance.now()
    // A thread-per-stream build's threads live for ~100 µs: the 250 ms sampler alone would
    // mostly miss them, so also look right after each block has started its first `inFlight`.
    await shortBlock(create, cand.raw, warmup + b * perBlock, perBlock, inFlight, watch.take)
    blockUs.push(((performance.now() - t) * 1000) / perBlock)
  }
  const d = common.since(snap0)
  const timed = perBlock * blocks
  const s = common.summarise(blockUs)
  return {
    inFlight,
    streams: timed,
    blockUs,
    usPerStream: s.median,
    usMin: s.min,
    usMax: s.max,
    processCpuUsPerStream: (d.processCpuS * 1e6) / timed,
    threadCpuUsPerStream: (d.threadCpuS * 1e6) / timed,
    threadsBefore,
    threadsMax: watch.stop().maxThreads,
    wallS: d.wallS,
    bgCores: d.bgCores,
    peakRssMiB: common.peakRssMiB(),
  }
}

// ---------------------------------------------------------------------------------------------
// parallel: `parsers` busy pipelines at once, each on its own copy of the corpus.

async function parallel({ candidate, parsers, path, bytes, records }) {
  if (CANDIDATES[candidate].raw) throw new Error(`${candidate}: not a parser`)
  const cand = byName(candidate)
  const create = await cand.load()
  const file = fs.readFileSync(path)
  if (file.length !== bytes) throw new Error(`corpus is ${file.length} bytes, expected ${bytes}`)
  // Warm the JIT on ~2 MB of whole lines first: otherwise the single parser, which runs for a
  // fraction of a second at --quick sizes, pays all of the warm-up and the 8 almost none of it.
  const warm = file.subarray(0, file.indexOf(10, Math.min(file.length - 1, 2e6)) + 1)
  await new Promise((resolve, reject) =>
    pipeline(common.memorySource(warm), create(), common.countingSink(cand.shape).sink, (err) => (err ? reject(err) : resolve())),
  )
  // A copy each, so no two parsers read the same memory (as separate requests would not).
  const inputs = []
  for (let p = 0; p < parsers; p++) inputs.push(Buffer.from(file))
  // Before the parsers exist: a thread-per-stream build starts its threads in the constructor.
  const threadsBefore = threadCount()
  const watch = sampler(250)
  const jobs = inputs.map((buf) => {
    const { sink, state } = common.countingSink(cand.shape)
    return { src: common.memorySource(buf), parser: create(), sink, state, finishMs: NaN }
  })
  watch.take() // every parser exists now; the run itself may be shorter than one sampling period
  const rssBefore = common.rssMiB()
  const t0 = common.snapshot()
  // All started in the same tick; each finish time is taken in its own callback.
  await Promise.all(
    jobs.map(
      (job) =>
        new Promise((resolve, reject) =>
          pipeline(job.src, job.parser, job.sink, (err) => {
            job.finishMs = performance.now() - t0.t
            if (err) reject(err)
            else resolve()
          }),
        ),
    ),
  )
  const d = common.since(t0)
  const threadsMax = watch.stop().maxThreads
  for (const [p, job] of jobs.entries()) {
    if (job.state.records !== records || job.state.touched !== records) {
      throw new Error(`parser ${p + 1}/${parsers}: got ${job.state.records} records (${job.state.touched} with an id), expected ${records}`)
    }
  }
  const finish = jobs.map((j) => j.finishMs)
  const fastest = Math.min(...finish)
  const slowest = Math.max(...finish)
  return {
    ...d,
    parsers,
    mbPerS: (parsers * bytes) / 1e6 / d.wallS,
    finishMs: finish,
    spread: slowest / fastest - 1,
    threadsBefore,
    threadsMax,
    rssBeforeMiB: rssBefore,
    peakRssMiB: common.peakRssMiB(),
  }
}

const SCENARIOS = { many, short, parallel }

common.runChildMain((input) => {
  const fn = SCENARIOS[input.scenario]
  if (!fn) throw new Error(`unknown scenario "${input.scenario}"`)
  if (!CANDIDATES[input.candidate]) throw new Error(`unknown candidate "${input.candidate}"`)
  return fn(input)
})
