'use strict'

// One trial of bench/throttle.js, in a fresh child. argv[2] is JSON:
//   {impl, objects, rate, chunk, seconds, idleMs, group, busy, busyTaskMs, burstMs, seed, deadlineMs}
//
// Builds the throttle(s) (bench/throttles.js), optionally waits `idleMs`, then pipes
// rate × seconds units from memory through them into counting sinks that log every delivery
// with performance.now(). `group` > 0 = that many streams in one group, each carrying an equal
// share. `busy` = the main thread runs back-to-back synchronous tasks of `busyTaskMs` ([lo, hi],
// 2–8 ms by default) while data flows.
// The metrics are computed here from the delivery log (up to a few hundred thousand entries),
// so only numbers cross the IPC channel.
//
// A wrong delivery (units lost or added, objects out of order) is returned as `problem`, so the
// parent can print the rates of a broken run and mark it FAIL. An uncaught exception (the peers
// throw one on objects) ends the child through common.runChildMain, and the parent reports it.

const { Readable, Writable, pipeline } = require('node:stream')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const common = require('./common.js')
const { impl: implOf, statsOf } = require('./throttles.js')

// monitorEventLoopDelay's samples include its own timer period; it is subtracted below.
const LOOP_RESOLUTION_MS = 10

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Every delivery as (time ms, units), in arrival order: one JS thread records them, so times never go backwards. */
function deliveryLog() {
  let t = new Float64Array(1 << 16)
  let u = new Float64Array(1 << 16)
  let n = 0
  return {
    add(time, units) {
      if (n === t.length) {
        const t2 = new Float64Array(n * 2)
        const u2 = new Float64Array(n * 2)
        t2.set(t)
        u2.set(u)
        t = t2
        u = u2
      }
      t[n] = time
      u[n] = units
      n++
    },
    view: () => ({ t: t.subarray(0, n), u: u.subarray(0, n), n }),
  }
}

/** Like common.memorySource, but notes when its first chunk goes out (the start of the run). */
function byteSource(buf, chunk, onFirst) {
  let offset = 0
  let first = true
  return new Readable({
    read() {
      if (first) {
        first = false
        onFirst(performance.now())
      }
      if (offset >= buf.length) {
        this.push(null)
        return
      }
      this.push(buf.subarray(offset, offset + chunk))
      offset += chunk
    },
  })
}

/** `count` objects {seq}, so the sink can check order. */
function objectSource(count, onFirst) {
  let seq = 0
  return new Readable({
    objectMode: true,
    read() {
      if (seq === 0) onFirst(performance.now())
      if (seq >= count) {
        this.push(null)
        return
      }
      this.push({ seq: seq++ })
    },
  })
}

/** Counts what one stream delivers and logs it; the callback is synchronous, so the sink never holds data back. */
function sink(objects, log, member) {
  return new Writable({
    objectMode: objects,
    write(chunk, _encoding, callback) {
      const t = performance.now()
      let units
      if (objects) {
        units = 1
        const seq = chunk && chunk.seq
        if (seq !== member.next) member.wrong++
        member.next = (Number.isInteger(seq) ? seq : member.next) + 1
      } else {
        units = chunk.length
      }
      member.units += units
      member.largest = Math.max(member.largest, units)
      member.last = t
      log.add(t, units)
      callback()
    },
  })
}

/** mulberry32: a seeded PRNG, so every impl sees the same sequence of busy-task lengths. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Back-to-back synchronous tasks of `lo`–`hi` ms (2–8 by default), one per setImmediate, until stop(). */
function busyLoop(seed, [lo, hi] = [2, 8]) {
  const rnd = prng(seed)
  const s = { on: true, tasks: 0, ms: 0 }
  const task = () => {
    if (!s.on) return
    const ms = lo + (hi - lo) * rnd()
    const end = performance.now() + ms
    while (performance.now() < end);
    s.tasks++
    s.ms += ms
    setImmediate(task)
  }
  setImmediate(task)
  return {
    stop() {
      s.on = false
      return s
    },
  }
}

/**
 * The most units delivered in any half-open window [s, s + W) whose start s comes at or after
 * event `from`. Exact: the best window always starts at an event, so only those are tried.
 * cum[i] = units delivered by events 0..i-1.
 */
function maxWindow(t, cum, n, from, W) {
  let best = 0
  let j = from
  for (let i = from; i < n; i++) {
    if (j < i) j = i
    while (j < n && t[j] < t[i] + W) j++
    best = Math.max(best, cum[j] - cum[i])
  }
  return best
}

function metrics(log, { rate, burstUnits, t0 }) {
  const { t, u, n } = log.view()
  const cum = new Float64Array(n + 1)
  for (let i = 0; i < n; i++) cum[i + 1] = cum[i] + u[i]
  const total = cum[n]
  const tLast = n ? t[n - 1] : NaN
  const durationS = (tLast - t0) / 1000
  // The initial burst = the first `burstUnits` delivered (the sluice default burst, 100 ms of
  // rate, applied to every impl alike). iB = the event that completes it. "Steady" figures look
  // only at what came after that event.
  let iB = 0
  while (iB < n - 1 && cum[iB + 1] < burstUnits) iB++
  const steadyFrom = iB + 1
  const steadyS = (tLast - t[iB]) / 1000
  let j1 = 0
  while (j1 < n && t[j1] < t0 + 1000) j1++
  const per = (W) => (rate * W) / 1000
  return {
    units: total,
    events: n,
    durationS,
    achieved: total / durationS / rate,
    achievedSteady: steadyFrom < n && steadyS > 0 ? (total - cum[steadyFrom]) / steadyS / rate : NaN,
    burstDoneS: n ? (t[iB] - t0) / 1000 : NaN,
    max100: maxWindow(t, cum, n, 0, 100) / per(100),
    max100Steady: steadyFrom < n ? maxWindow(t, cum, n, steadyFrom, 100) / per(100) : NaN,
    max1s: maxWindow(t, cum, n, 0, 1000) / per(1000),
    max1sSteady: steadyFrom < n ? maxWindow(t, cum, n, steadyFrom, 1000) / per(1000) : NaN,
    first1s: cum[j1] / per(1000),
  }
}

common.runChildMain(async (input) => {
  const { impl: name, objects, rate, chunk, seconds, idleMs, group, busy, busyTaskMs, burstMs, seed, deadlineMs } = input
  const im = implOf(name)
  const streams = group > 0 ? group : 1
  if (group > 0 && !im.group) throw new Error(`${name} has no group`)
  const total = Math.round(rate * seconds)
  if (total % streams) throw new Error(`${total} units do not split into ${streams} equal parts`)
  const share = total / streams

  // Everything is allocated before the throttles exist, so none of it lands in the timed window.
  const data = objects ? null : Buffer.alloc(total, 0x61)
  const log = deliveryLog()
  const members = Array.from({ length: streams }, () => ({ units: 0, largest: 0, last: NaN, next: 0, wrong: 0 }))
  const eld = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })

  eld.enable()
  const snap = common.snapshot()
  let throttles
  if (group > 0) {
    const member = im.group({ rate })
    throttles = members.map(() => member())
  } else {
    throttles = [im.single({ rate, objectMode: objects })]
  }
  if (idleMs > 0) await sleep(idleMs)

  let t0 = Infinity
  const onFirst = (t) => {
    t0 = Math.min(t0, t)
  }
  const load = busy ? busyLoop(seed, busyTaskMs) : null
  const done = throttles.map(
    (thr, k) =>
      new Promise((resolve, reject) => {
        const src = objects ? objectSource(share, onFirst) : byteSource(data.subarray(k * share, (k + 1) * share), chunk, onFirst)
        pipeline(src, thr, sink(objects, log, members[k]), (err) => (err ? reject(err) : resolve()))
      }),
  )
  // A throttle that stalls must not hang the run: report how far it got instead.
  let deadline
  const stalled = new Promise((_, reject) => {
    deadline = setTimeout(() => {
      for (const thr of throttles) thr.destroy()
      const got = members.reduce((a, m) => a + m.units, 0)
      reject(new Error(`stalled: ${got} of ${total} units delivered ${(deadlineMs / 1000).toFixed(0)} s after the throttle was built`))
    }, deadlineMs)
  })
  try {
    await Promise.race([Promise.all(done), stalled])
  } finally {
    clearTimeout(deadline)
  }
  const busyStats = load ? load.stop() : null
  const d = common.since(snap)
  eld.disable()

  // Whole units: a burst of 100 ms at 256 KiB/s is 26214 bytes, not 26214.4.
  const m = metrics(log, { rate, burstUnits: Math.floor((rate * burstMs) / 1000), t0 })
  const lasts = members.map((x) => x.last)
  const stats = statsOf(throttles)
  let problem = null
  if (m.units !== total) problem = `${m.units} of ${total} units delivered`
  const wrong = members.reduce((a, x) => a + x.wrong, 0)
  if (!problem && wrong) problem = `${wrong} object(s) out of order or not the object written`
  const bad = members.findIndex((x) => x.units !== share)
  if (!problem && bad >= 0) problem = `stream ${bad} delivered ${members[bad].units} of its ${share} units`
  return {
    ...m,
    sent: total,
    idealS: total / rate,
    largestOut: Math.max(...members.map((x) => x.largest)),
    spreadS: streams > 1 ? (Math.max(...lasts) - Math.min(...lasts)) / 1000 : NaN,
    processCpuMs: d.processCpuS * 1000,
    threadCpuMs: d.threadCpuS * 1000,
    bgCores: d.bgCores,
    loopP99Ms: eld.percentile(99) / 1e6 - LOOP_RESOLUTION_MS,
    loopMaxMs: eld.max / 1e6 - LOOP_RESOLUTION_MS,
    busyTasks: busyStats ? busyStats.tasks : 0,
    busyMs: busyStats ? busyStats.ms : 0,
    stats,
    problem,
  }
})
