'use strict'

// Meter (a PassThrough) and MonitoredWritable (a Writable, or a wrapper around any Writable):
// they make backpressure, stalls and the bottleneck of a pipeline visible, at a cost close to a
// plain PassThrough. The native side (src/meter/) keeps the histograms, the rates and the
// interval timer; this side owns the stream contract and the per-chunk counting.
//
// Who does what, and why:
// * Per chunk, JS does plain arithmetic into the fields of one `Measure` object and stores the
//   chunk's size into a preallocated Float64Array; the batch goes to Rust when it is full, at
//   every timer signal and before every snapshot. A napi call per chunk (~0.1 µs) would cost a
//   third of the PassThrough being measured (research/peers-baseline.md §4: ~0.3 µs a chunk).
//   Counts are never sampled: a snapshot's counts are the exact totals.
// * Clock reads (performance.now(), ~30 ns) happen at state changes only: a push()/write()
//   that returned false, the next _read()/'drain', the start and end of a stretch of pending
//   writes, and the writes timed for the latency histogram (one in LATENCY_EVERY; for wrap(),
//   see WrappedWritable#write). A Meter's starved time is
//   what is left of its life once blocked time is taken out (a pass-through stage does no
//   work of its own); a MonitoredWritable's starved time is its life minus its busy time.
// * The interval timer runs in Rust on the shared timer thread; each tick is a signal through
//   the environment's hub (lib/signals.js), so 'stats' keep coming while the stream is stalled
//   and JS's own timers (which drift seconds on a busy loop) play no part. A meter waits on the
//   hub with holdsProcess false: its timer never keeps the process alive. It stops waiting and
//   stops the native timer at close/destroy, so no 'stats' or 'stall' comes after; the hub
//   holds it weakly (`Receiver`), so an abandoned meter is collected with its timer, unless
//   someone listens for its 'stall' or 'stats' (then strongly, until it stops: a stalled
//   pipeline nothing else references must still report its stall).
// * Stall detection: every stallMs/4 a CHECK signal compares the progress counter with the
//   previous check's (the first with 0, the count at creation: a meter never written stalls
//   stallMs after its creation); the stall is reported at the first check at least stallMs after
//   the last check that saw progress, once per stall. Never early: the progress happened at or
//   before that check was handled. Late by up to stallMs/4 (the checks' period). A check that
//   finds the stall a little short of stallMs, because the check that saw the progress ran later
//   than this one (3 ms late: 997 ms of a 1000 ms stall), looks again when it is due (`recheck`,
//   a timer of node's, unref'd; not on a manual clock, whose checks are never late) instead of a
//   period later. Counting checks instead made a stall after a busy stretch come up to stallMs/4
//   early (helper-125).

const { PassThrough, Writable } = require('node:stream')
const { chunkBytes, itemBytes, stringBytes } = require('./bytes.js')
const { setImmediate, setTimeout, clearTimeout } = require('node:timers')
const { performance } = require('node:perf_hooks')
const native = require('./native.js')
const { SluiceError } = require('./errors.js')
const { ensureRuntime } = require('./runtime.js')
const { writeAnswerable, answerWriteInFlight, callGuarded, coreTick, holdEndsForHeldWrites, mendEndAndUncork, kWritesHeldBy } = require('./inflight.js')
const { kSignal, enroll, wait, stopWaiting } = require('./signals.js')
const { kNativeClock, validateClockOption } = require('./clock.js')

// Taken when sluice loads, as `setImmediate` above: fake timers installed later (sinon's
// `useFakeTimers()`, which fakes `performance` too) would stop the time of meters made under them,
// and their stalls never came.
const realNow = performance.now.bind(performance)
const {
  STREAM_OPTIONS,
  pickStreamOptions,
  typeError,
  validateBoolean,
  validateEncoding,
  validateInteger,
  validateNumber,
  validateOptionsObject
} = require('./options.js')

// As in src/meter/mod.rs.
const SIGNAL_TICK = 1
const SIGNAL_CHECK = 2
const KIND_METER = 0
const KIND_WRITABLE = 1
const IN_BYTES = 0
const IN_CHUNKS = 1
const IN_BACKPRESSURE = 2
const IN_DRAINS = 3
const IN_BLOCKED_MS = 4
const IN_BUSY_MS = 5
const IN_STALLS = 6
const IN_BUFFERED = 7
const IN_BUFFERED_MAX = 8
const IN_HWM = 9
const IN_LEN = 10

/**
 * Sizes and latencies per batch: one napi call (~0.5 µs) per this many chunks, 2 KiB a meter
 * (1,024 made an idle meter cost 16 KiB more with both batches allocated up front).
 */
const BATCH = 256
/**
 * The bounds of `interval` and `stallMs` in ms. Below 10 ms, ticks of many meters cost more than
 * they tell (1,000 meters at 1 ms is a million snapshots a second); above 2^31 ms (~24.8 days,
 * setTimeout's limit) a deadline is as good as never, and values near 2^53 overflowed the native
 * clock's arithmetic.
 */
const MIN_PERIOD_MS = 10
const MAX_PERIOD_MS = 2 ** 31
const NO_LATENCIES = new Float64Array(0)
/**
 * `blockedSince` of a wrap() refusal whose destination had already completed every write: core
 * emits its 'drain' on the next tick, so the episode lasts microseconds and is counted (a
 * backpressure event, a drain) without reading the clock twice (with 64 KiB chunks against a
 * 16 KiB highWaterMark every write is such a refusal, and the two reads were most of wrap()'s
 * cost).
 */
const INSTANT = -2
/** One write in this many is timed for the latency histogram (a power of two). */
const LATENCY_EVERY = 16
/** wrap() with a destination that completes writes synchronously: one write in this many is timed. */
const SYNC_SAMPLE_EVERY = 256

const MONITOR_OPTIONS = ['name', 'interval', 'stallMs', 'halfLifeMs', 'total', 'clock']
const METER_OPTIONS = [...MONITOR_OPTIONS, 'objectMode', ...STREAM_OPTIONS]
const WRITABLE_OPTIONS = [
  ...MONITOR_OPTIONS, 'write', 'writev', 'final', 'destroy', 'construct', 'objectMode', 'decodeStrings',
  'defaultEncoding', 'emitClose', 'autoDestroy', 'highWaterMark', 'signal'
]

const kMeasure = Symbol('kMeasure')
const kUser = Symbol('kUser')
// Inside the user's destroy (a subclass's _destroy calling super._destroy() lands in ours).
const kInDestroy = Symbol('kInDestroy')
const kDest = Symbol('kDest')
const kWrap = Symbol('kWrap')
const kGone = Symbol('kGone')

let unnamed = 0

/**
 * A first-in first-out queue of numbers and callbacks without Array#shift/splice at the head
 * (O(n) each: with thousands of writes in flight, as when a fast source fills a sink whose
 * callbacks come a tick later, a splice per completion made wrap() 70x slower). The head moves;
 * the array is compacted when the dead prefix is half of it (amortised O(1)).
 */
class Fifo {
  constructor () {
    this.items = []
    this.head = 0
  }

  get size () {
    return this.items.length - this.head
  }

  peek (offset) {
    return this.items[this.head + offset]
  }

  push3 (a, b, c) {
    this.items.push(a, b, c)
  }

  /** Drops the last `n` items pushed. */
  unpush (n) {
    this.items.length -= n
  }

  drop (n) {
    const items = this.items
    for (let i = 0; i < n; i++) items[this.head++] = undefined
    if (this.head === items.length) {
      items.length = 0
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= items.length) {
      items.splice(0, this.head)
      this.head = 0
    }
  }
}

function validateMonitorOptions (opts, what) {
  let name = opts.name
  if (name === undefined) name = `${what}-${++unnamed}`
  else if (typeof name !== 'string') throw typeError('options.name', 'a string', name)
  const interval = validateNumber(opts, 'interval', { min: MIN_PERIOD_MS, inclusive: true, max: MAX_PERIOD_MS, fallback: 1000 })
  const stallMs = validateNumber(opts, 'stallMs', { min: MIN_PERIOD_MS, inclusive: true, max: MAX_PERIOD_MS, allowInfinity: true, fallback: Infinity })
  const halfLifeMs = validateNumber(opts, 'halfLifeMs', { fallback: 5000 })
  // null: unknown, as setTotal(null) clears it.
  const total = opts.total === null ? -1 : validateNumber(opts, 'total', { inclusive: true, fallback: -1 })
  const clock = validateClockOption(opts)
  return { name, interval, stallMs, halfLifeMs, total, clock }
}

/** An item's bytes (lib/bytes.js); other items count none. */
function byteLength (chunk, encoding) {
  return Math.max(0, chunkBytes(chunk, encoding))
}

/**
 * The measuring state of one stream: exact counters in plain fields (the per-chunk code writes
 * them directly), the batches, the native handle, and the hub receiver for timer signals.
 */
class Measure {
  constructor (stream, kind, objectMode, options, highWaterMark) {
    ensureRuntime()
    const { hub, id } = enroll()
    this.stream = stream
    this.id = id
    this.name = options.name
    this.kind = kind
    this.objectMode = objectMode
    this.stallMs = options.stallMs
    this.hwm = highWaterMark
    this.bytes = 0
    this.chunks = 0
    this.backpressure = 0
    this.drains = 0
    this.blockedMs = 0
    this.blockedSince = -1
    this.busyMs = 0
    this.busySince = -1
    this.stalls = 0
    this.bufferedMax = 0
    // Writes issued and completed (MonitoredWritable), for latency samples and progress.
    this.writes = 0
    this.completed = 0
    this.samples = new Fifo()
    // MonitoredWritable's (set here so that every Measure has one shape).
    this.callback = null
    this.inWrite = false
    this.syncDone = false
    this.owed = false
    this.onWritten = null
    this.pending = 0
    this.batchSize = 1
    // Bytes of the write (or writev batch) in the destination's hands: taken back if it fails.
    this.inFlightBytes = 0
    this.lastAsync = false
    this.queue = null
    this.onDestWritten = null
    this.dest = null
    this.forwarding = false
    this.leaveDest = false
    this.sizes = new Float64Array(BATCH)
    this.nSizes = 0
    // Only MonitoredWritable times writes: allocated at the first one.
    this.latencies = NO_LATENCIES
    this.nLatencies = 0
    this.totals = new Float64Array(IN_LEN)
    this.out = new Float64Array(F.length)
    this.lastProgress = 0
    this.lastProgressAt = 0
    this.stalled = false
    this.final = null
    this.live = true
    const checkMs = Number.isFinite(this.stallMs) ? this.stallMs / 4 : 0
    this.checkMs = checkMs
    this.recheck = null
    const clock = options.clock?.[kNativeClock]
    this.handle = native.MeterHandle.create(hub, id, kind, objectMode, options.interval, checkMs,
      options.halfLifeMs, options.total, clock)
    // When its life began on the native clock (which elapsedMs is measured on): bottleneck()
    // places the meters of a pipeline on one time line with it.
    this.startedAt = this.handle.now()
    this.now = clock === undefined ? realNow : () => clock.now()
    this.manual = clock !== undefined
    this.lastProgressAt = this.now()
    this.receiver = new Receiver(this)
    wait(id, this.receiver, false)
    // A meter dropped without end() or destroy(): its handle is collected with it, which stops
    // the native timer, so no signal comes to find its receiver gone (Receiver): the receiver
    // leaves the hub's map here instead of staying there for the life of the process.
    collected.register(this, id)
  }

  /**
   * Someone listens for 'stall' or 'stats': the hub holds this meter strongly until it stops
   * (end/close/destroy) or the listeners go (seen at the next timer signal), so a stalled
   * pipeline that nothing else references still reports its stall. Without such listeners the
   * hub holds it weakly (see Receiver).
   */
  listenersChanged (adding) {
    const s = this.stream
    const wanted = this.live && (adding || s.listenerCount('stall') > 0 || s.listenerCount('stats') > 0)
    this.receiver.strong = wanted ? this : null
  }

  /** Hands the batched sizes and latencies to Rust. */
  flush () {
    if (this.nSizes === 0 && this.nLatencies === 0) return
    this.handle.record(this.sizes, this.nSizes, this.latencies, this.nLatencies)
    this.nSizes = 0
    this.nLatencies = 0
  }

  size (n) {
    this.sizes[this.nSizes++] = n
    if (this.nSizes === BATCH) this.flush()
  }

  latency (ms) {
    if (this.latencies === NO_LATENCIES) this.latencies = new Float64Array(BATCH)
    this.latencies[this.nLatencies++] = ms
    if (this.nLatencies === BATCH) this.flush()
  }

  /** push()/write() returned false: backpressure, and blocked from now until the next drain. */
  refused (buffered) {
    this.backpressure++
    if (buffered > this.bufferedMax) this.bufferedMax = buffered
    if (this.blockedSince < 0) this.blockedSince = this.now()
  }

  /** The next _read()/'drain' after a refusal. */
  drained () {
    if (this.blockedSince === INSTANT) {
      this.blockedSince = -1
      this.drains++
      return
    }
    if (this.blockedSince < 0) return
    this.blockedMs += this.now() - this.blockedSince
    this.blockedSince = -1
    this.drains++
  }

  busyStart () {
    if (this.busySince < 0) this.busySince = this.now()
  }

  /**
   * wrap(): ends the busy stretch if the destination has nothing left. Exact when our callback
   * of the stretch's last write says so; otherwise (a lone asynchronous write that went without
   * our callback) at the next look: a write, a check, a snapshot.
   */
  settle () {
    if (this.busySince >= 0 && this.pending === 0 && (this.dest.writableLength ?? 0) === 0) this.busyEnd()
  }

  busyEnd () {
    if (this.busySince < 0) return
    this.busyMs += this.now() - this.busySince
    this.busySince = -1
  }

  /** Write number `seq` (0-based) is timed from `at`. */
  sample (seq, at) {
    this.samples.push3(seq, at, undefined)
  }

  /** Writes up to number `upTo` (exclusive) completed now. */
  completedUpTo (upTo) {
    const samples = this.samples
    let now = -1
    while (samples.size !== 0 && samples.peek(0) < upTo) {
      if (now < 0) now = this.now()
      this.latency(now - samples.peek(1))
      samples.drop(3)
    }
  }

  buffered () {
    const s = this.stream
    if (this.kind === KIND_METER) return s.writableLength + s.readableLength
    return s.writableLength
  }

  /** A plain snapshot (see README: stats()). `tick`: an interval ended; `last`: finish/close. */
  snapshot (tick, last) {
    if (this.final !== null) return { ...this.final, latencyMs: { ...this.final.latencyMs }, chunkSize: { ...this.final.chunkSize } }
    this.update(tick, last)
    const s = shape(this.out, this)
    if (last) this.final = s
    return s
  }

  /** An interval ended and nobody listens for 'stats': the native side updates its rates only. */
  tick () {
    this.update(true, false)
  }

  /** Hands the batches and the totals to Rust; the snapshot lands in `this.out`. */
  update (tick, last) {
    if (this.dest !== null && !this.stream.destroyed) this.settle()
    this.flush()
    const now = this.now()
    const t = this.totals
    const buffered = this.stream.destroyed ? 0 : this.buffered()
    if (buffered > this.bufferedMax) this.bufferedMax = buffered
    t[IN_BYTES] = this.bytes
    t[IN_CHUNKS] = this.chunks
    t[IN_BACKPRESSURE] = this.backpressure
    t[IN_DRAINS] = this.drains
    t[IN_BLOCKED_MS] = this.blockedMs + (this.blockedSince >= 0 ? now - this.blockedSince : 0)
    t[IN_BUSY_MS] = this.busyMs + (this.busySince >= 0 ? now - this.busySince : 0)
    t[IN_STALLS] = this.stalls
    t[IN_BUFFERED] = buffered
    t[IN_BUFFERED_MAX] = this.bufferedMax
    t[IN_HWM] = this.hwm
    this.handle.snapshotInto(t, tick, last, this.out)
  }

  signal (kind) {
    if (!this.live || this.stream.destroyed) return
    if (this.receiver.strong !== null) this.listenersChanged(false)
    if (kind === SIGNAL_TICK) {
      // The rates move on at every tick; the object is built only for someone listening.
      if (this.stream.listenerCount('stats') === 0) this.tick()
      else this.stream.emit('stats', this.snapshot(true, false))
    } else if (kind === SIGNAL_CHECK) {
      this.check()
    }
  }

  check () {
    if (this.dest !== null && !this.stream.destroyed) this.settle()
    const progress = this.chunks + this.completed
    const now = this.now()
    if (progress !== this.lastProgress) {
      this.lastProgress = progress
      this.lastProgressAt = now
      this.stalled = false
      return
    }
    const ms = now - this.lastProgressAt
    if (this.stalled) return
    if (ms < this.stallMs) {
      if (!this.manual && this.recheck === null && this.stallMs - ms < this.checkMs) {
        this.recheck = setTimeout(() => {
          this.recheck = null
          if (this.live && !this.stream.destroyed) this.check()
        }, Math.ceil(this.stallMs - ms))
        this.recheck.unref()
      }
      return
    }
    this.stalled = true
    this.stalls++
    this.stream.emit('stall', { stage: this.name, reason: this.stallReason(), ms })
  }

  stallReason () {
    if (this.blockedSince >= 0) return 'blocked'
    if (this.kind === KIND_WRITABLE && (this.busySince >= 0 || this.buffered() > 0 || (this.dest === null && this.writes > this.completed))) return 'blocked'
    return 'starved'
  }

  /** Stops the timer for good: nothing is emitted after this but the 'summary'. */
  stop () {
    if (!this.live) return
    this.live = false
    if (this.recheck !== null) {
      clearTimeout(this.recheck)
      this.recheck = null
    }
    this.receiver.strong = null
    stopWaiting(this.id)
    this.handle.stop()
  }

  /** The final snapshot, once: at finish/end or at close, whichever comes first. */
  summary () {
    if (this.final !== null) return
    const s = this.snapshot(false, true)
    this.stop()
    // Emitted from inside core's 'end'/'finish'/'close' emit: a listener's throw would cut off
    // the listeners after it there (pipe's, pipeline's), and the pipeline would never settle.
    // It is an uncaught exception from the next turn instead, as a throwing 'stats' listener's
    // is, and the stream completes.
    callGuarded(emitSummary, this.stream, s)
  }
}

/**
 * What the hub holds while a meter lives: a weak reference, because a meter waits for signals its
 * whole life (unlike a throttle, only while it holds a chunk). A meter nobody references any more
 * (abandoned without end or destroy) is collected; its native handle is dropped with it, which
 * stops its timer, and its next signal finds nobody and unregisters it. A meter in a pipeline is
 * referenced by its neighbours and lives as long as they do. A meter with 'stall' or 'stats'
 * listeners is held strongly (`strong`) until it stops: its events are what someone waits for.
 */
const collected = new FinalizationRegistry(stopWaiting)

class Receiver {
  constructor (measure) {
    this.measure = new WeakRef(measure)
    this.id = measure.id
    /** The measure itself while someone listens for its 'stall' or 'stats' (listenersChanged). */
    this.strong = null
  }

  [kSignal] (kind) {
    const m = this.measure.deref()
    if (m === undefined) {
      stopWaiting(this.id)
      return
    }
    try {
      m.signal(kind)
    } finally {
      // A manual clock's signals come only from advance(): no flood to hold back.
      if (m.manual) m.handle.handled(kind)
      else handledLater(m.handle, kind)
    }
  }
}

// Tick coalescing (src/meter/mod.rs): the native timer queues no TICK (CHECK) for a meter whose
// previous one JS has not handled. "Handled" is said at the next check phase (setImmediate),
// not at once: then a meter gets at most one tick and one check per event-loop turn, the hub's
// calls run dry within a turn, and JS's own timers and I/O get their turn. Said at once, a meter
// handled early in a batch could be queued again before the batch ended, and with more ticks
// than JS could handle (1,000 meters at 1 ms) the calls never ran dry: setTimeout never fired.
let toRelease = []
let releaseScheduled = false

function handledLater (handle, kind) {
  toRelease.push(handle, kind)
  if (!releaseScheduled) {
    releaseScheduled = true
    setImmediate(releaseHandled)
  }
}

function releaseHandled () {
  const list = toRelease
  toRelease = []
  releaseScheduled = false
  for (let i = 0; i < list.length; i += 2) list[i].handled(list[i + 1])
}

// The snapshot's fields as src/meter/mod.rs writes them (checked at load: a mismatch throws).
const F = [
  'bytes', 'chunks', 'bytesWritten', 'backpressureEvents', 'drainEvents', 'elapsedMs', 'avgThroughput',
  'currentRate', 'smoothedRate', 'averageRate', 'minRate', 'maxRate', 'blockedMs', 'busyMs', 'starvedMs',
  'stalls', 'buffered', 'bufferedMax', 'highWaterMark', 'bufferFillMax', 'bufferFillMean', 'total', 'percent',
  'eta', 'latencyCount', 'latencyP50', 'latencyP90', 'latencyP99', 'latencyMax', 'latencyMean', 'sizeCount',
  'sizeP50', 'sizeP90', 'sizeP99', 'sizeMax', 'sizeMean'
]
if (native.meterFields().join() !== F.join()) throw new SluiceError('ERR_SLUICE_NATIVE', 'sluice: lib/meter.js and the native meter disagree on the snapshot fields; rebuild the addon')
const [
  BYTES, CHUNKS, BYTES_WRITTEN, BACKPRESSURE, DRAINS, ELAPSED, AVG_THROUGHPUT, CURRENT, SMOOTHED, AVERAGE, MIN_RATE,
  MAX_RATE, BLOCKED, BUSY, STARVED, STALLS, BUFFERED, BUFFERED_MAX, HWM, FILL_MAX, FILL_MEAN, TOTAL, PERCENT, ETA,
  LAT_COUNT, LAT_P50, LAT_P90, LAT_P99, LAT_MAX, LAT_MEAN, SIZE_COUNT, SIZE_P50, SIZE_P90, SIZE_P99, SIZE_MAX, SIZE_MEAN
] = F.keys()

function orNull (v) {
  return Number.isNaN(v) ? null : v
}

/** The native snapshot (a Float64Array in `F` order) as a plain JSON-serialisable object. */
function shape (v, m) {
  return {
    name: m.name,
    kind: m.kind === KIND_METER ? 'meter' : 'writable',
    unit: m.objectMode ? 'items' : 'bytes',
    bytes: v[BYTES],
    chunks: v[CHUNKS],
    bytesWritten: v[BYTES_WRITTEN],
    backpressureEvents: v[BACKPRESSURE],
    drainEvents: v[DRAINS],
    elapsedMs: v[ELAPSED],
    avgThroughput: v[AVG_THROUGHPUT],
    currentRate: v[CURRENT],
    smoothedRate: v[SMOOTHED],
    averageRate: v[AVERAGE],
    minRate: orNull(v[MIN_RATE]),
    maxRate: orNull(v[MAX_RATE]),
    blockedMs: v[BLOCKED],
    busyMs: v[BUSY],
    starvedMs: v[STARVED],
    stalls: v[STALLS],
    buffered: v[BUFFERED],
    bufferedMax: v[BUFFERED_MAX],
    highWaterMark: v[HWM],
    bufferFillMax: v[FILL_MAX],
    bufferFillMean: orNull(v[FILL_MEAN]),
    total: orNull(v[TOTAL]),
    percent: orNull(v[PERCENT]),
    eta: orNull(v[ETA]),
    latencyMs: {
      count: v[LAT_COUNT],
      p50: orNull(v[LAT_P50]),
      p90: orNull(v[LAT_P90]),
      p99: orNull(v[LAT_P99]),
      max: orNull(v[LAT_MAX]),
      mean: orNull(v[LAT_MEAN])
    },
    chunkSize: {
      count: v[SIZE_COUNT],
      p50: orNull(v[SIZE_P50]),
      p90: orNull(v[SIZE_P90]),
      p99: orNull(v[SIZE_P99]),
      max: orNull(v[SIZE_MAX]),
      mean: orNull(v[SIZE_MEAN])
    }
  }
}

/** setTotal()'s argument: a number >= 0, or null to clear (-1 for the native side). */
function validateTotal (total) {
  if (total === null) return -1
  if (total === undefined) throw typeError('total', 'a number >= 0, or null to clear it', total)
  return validateNumber({ total }, 'total', { inclusive: true, name: 'total' })
}

// ---------------------------------------------------------------------------------------------
// Meter

function transformBytes (chunk, encoding, callback) {
  const m = this[kMeasure]
  const n = chunk.length
  m.bytes += n
  m.chunks++
  m.sizes[m.nSizes++] = n
  if (m.nSizes === BATCH) m.flush()
  if (!this.push(chunk)) m.refused(this.readableLength + this.writableLength)
  callback()
}

function transformObjects (chunk, encoding, callback) {
  const m = this[kMeasure]
  // As the item passes on: a string's UTF-8 bytes, whatever encoding its write named.
  const n = Math.max(0, itemBytes(chunk))
  m.bytes += n
  m.chunks++
  if (n > 0) m.size(n)
  if (!this.push(chunk)) m.refused(this.readableLength + this.writableLength)
  callback()
}

/**
 * A PassThrough that measures what goes through it: bytes, chunks (items in object mode),
 * rates, time blocked by downstream (push() returned false until the next _read) and time
 * starved (waiting for upstream).
 */
/**
 * What every measured stream offers besides its stream methods, written once: `Meter` extends
 * PassThrough and `MonitoredWritable` Writable, so these are copied onto both prototypes.
 */
class MeasuredStream {
  get name () {
    return this[kMeasure].name
  }

  /** A plain, JSON-serialisable snapshot (the totals are exact). */
  stats () {
    return this[kMeasure].snapshot(false, false)
  }

  /** Alias of stats(), for code written against the classic BackpressureMonitoredWritable. */
  getStats () {
    return this.stats()
  }

  /** Sets (or with null, clears) the expected total in bytes (items in object mode). */
  setTotal (total) {
    this[kMeasure].handle.setTotal(validateTotal(total))
    return this
  }

  /** This stream's metrics in the Prometheus text exposition format. */
  toPrometheus () {
    return toPrometheus([this])
  }
}

function addMeasuredMethods (Class) {
  const methods = Object.getOwnPropertyDescriptors(MeasuredStream.prototype)
  delete methods.constructor
  Object.defineProperties(Class.prototype, methods)
}

class Meter extends PassThrough {
  constructor (options) {
    const opts = validateOptionsObject(options, 'Meter', METER_OPTIONS)
    const objectMode = validateBoolean(opts, 'objectMode', false)
    const monitor = validateMonitorOptions(opts, 'meter')
    super({ ...pickStreamOptions(opts), objectMode })
    // The mode's own function on the instance (one shape per call site), unless a subclass has
    // a _transform of its own, which is then used, as a PassThrough subclass's is (its counting
    // is that function's: super._transform() counts and pushes).
    if (this._transform === Meter.prototype._transform) this._transform = objectMode ? transformObjects : transformBytes
    this[kMeasure] = new Measure(this, KIND_METER, objectMode, monitor,
      this.readableHighWaterMark + this.writableHighWaterMark)
    watchListeners(this)
    this.once('end', onEnd)
    this.once('close', onClose)
  }

  _write (chunk, encoding, callback) {
    writeAnswerable(this, chunk, encoding, callback)
  }

  _transform (chunk, encoding, callback) {
    if (this[kMeasure].objectMode) transformObjects.call(this, chunk, encoding, callback)
    else transformBytes.call(this, chunk, encoding, callback)
  }

  _read (n) {
    const m = this[kMeasure]
    if (m !== undefined && m.blockedSince >= 0) m.drained()
    super._read(n)
  }

  _destroy (err, callback) {
    // May run inside super() (an aborted `signal`), before the measure exists.
    const m = this[kMeasure]
    if (m !== undefined) m.stop()
    // A write core's PassThrough holds for a `_read` that will not come (./inflight.js).
    answerWriteInFlight(this)
    callback(err)
    summaryWithoutClose(this, m)
  }
}

// end() and uncork() as every sluice Writable side has them (lib/inflight.js).
mendEndAndUncork(Meter)

function emitSummary (stream, stats) {
  stream.emit('summary', stats)
}

/**
 * With `emitClose: false` no 'close' follows a destroy, so nothing else would send the final
 * 'summary' of a stream destroyed before it finished: send it here, once (`summary` is idempotent).
 */
function summaryWithoutClose (stream, m) {
  const state = stream._writableState ?? stream._readableState
  if (m !== undefined && state?.emitClose === false) m.summary()
}

/**
 * Holds the measure strongly from its first 'stall'/'stats' listener (Measure#listenersChanged).
 * The hold is let go at stop, or at the first timer signal that finds no such listener: core's
 * streams do not emit 'removeListener' when their last listener of a name goes (kShapeMode).
 */
function watchListeners (stream) {
  stream.on('newListener', onListenerAdded)
}

function onListenerAdded (name) {
  // 'newListener' comes before the listener is added.
  if (name === 'stall' || name === 'stats') this[kMeasure]?.listenersChanged(true)
}

function onEnd () {
  this[kMeasure].summary()
}

function onClose () {
  this[kMeasure]?.summary()
}

// ---------------------------------------------------------------------------------------------
// MonitoredWritable

function onWritten (stream, err) {
  const m = stream[kMeasure]
  const callback = m.callback
  if (callback === null) {
    // The user's write called back twice: as core's Writable, the stream's error (thrown into
    // the caller's code, from a timer an uncaught exception, it took the process down).
    stream.destroy(new SluiceError('ERR_MULTIPLE_CALLBACK', 'Callback called multiple times'))
    return
  }
  m.callback = null
  // One callback completes the whole batch of a writev.
  m.completed += m.batchSize
  // The counts are of what the destination took: a write it failed is taken back.
  if (err != null) {
    m.bytes -= m.inFlightBytes
    m.chunks -= m.batchSize
  }
  m.batchSize = 1
  if (m.inWrite) m.syncDone = true
  if (m.samples.size !== 0) m.completedUpTo(m.completed)
  callback(err)
  // The callback may have started the next buffered write at once (core's clearBuffer).
  if (!m.inWrite && m.callback === null) m.busyEnd()
}

/**
 * A Writable that measures how its destination pushes back: write() calls that returned false,
 * 'drain' events, time blocked (false to 'drain'), busy (a write in progress) and starved
 * (nothing pending), buffer fill, write latency and chunk sizes, rates.
 * `MonitoredWritable.wrap(dest)` puts the same measures in front of any existing Writable.
 */
class MonitoredWritable extends Writable {
  constructor (options) {
    // Symbol keys are not options (validateOptionsObject copies string keys only).
    const wrapped = options?.[kWrap] === true
    const opts = validateOptionsObject(options, 'MonitoredWritable', WRITABLE_OPTIONS)
    const objectMode = validateBoolean(opts, 'objectMode', false)
    const monitor = validateMonitorOptions(opts, wrapped ? 'wrap' : 'writable')
    const user = {}
    for (const key of ['write', 'writev', 'final', 'destroy', 'construct']) {
      const fn = opts[key]
      if (fn !== undefined && typeof fn !== 'function') throw typeError(`options.${key}`, 'a function', fn)
      user[key] = fn
    }
    const core = { objectMode }
    // Core's Writable takes any value for these (truthiness; an unknown encoding's error does not
    // name the option): checked here as every sluice option is.
    for (const key of ['decodeStrings', 'emitClose', 'autoDestroy']) {
      if (opts[key] !== undefined) core[key] = validateBoolean(opts, key)
    }
    if (opts.defaultEncoding !== undefined) core.defaultEncoding = validateEncoding(opts, 'defaultEncoding')
    if (opts.highWaterMark !== undefined) core.highWaterMark = validateInteger(opts, 'highWaterMark', 0, 2 ** 31 - 1)
    if (opts.signal !== undefined) core.signal = pickStreamOptions({ signal: opts.signal }).signal
    if (user.construct !== undefined) core.construct = user.construct
    // final only when given, as core: a Writable without _final does not emit 'finish' when
    // destroyed in the tick of its end() (a write after end), one with it does.
    if (user.final !== undefined) core.final = user.final
    super(core)
    // A subclass's own _write, _writev or _destroy (core's usual way to write a Writable) is the
    // user's function, as options.write… are, and measured the same; an option given wins, as in
    // core (its options are own properties over the prototype's methods).
    if (!wrapped) adoptSubclassMethods(this, user)
    this[kUser] = user
    if (user.writev !== undefined) this._writev = monitoredWritev
    const m = new Measure(this, KIND_WRITABLE, objectMode, monitor, this.writableHighWaterMark)
    m.onWritten = (err) => onWritten(this, err)
    this[kMeasure] = m
    watchListeners(this)
    this.on('drain', onOwnDrain)
    this.once('finish', onFinish)
    this.once('close', onClose)
  }

  /**
   * A Writable that forwards every write to `destination` at once and honours its backpressure:
   * its write() returns false when the destination's does and its 'drain' follows the
   * destination's. Errors and close propagate both ways; end() ends the destination.
   */
  static wrap (destination, options) {
    // destroy(): errors and destroy() propagate to the destination (a Writable-like without it
    // crashed later, at the first error).
    if (destination === null || typeof destination !== 'object' || typeof destination.write !== 'function' ||
        typeof destination.end !== 'function' || typeof destination.on !== 'function' ||
        typeof destination.once !== 'function' || typeof destination.off !== 'function' ||
        typeof destination.destroy !== 'function') {
      throw typeError('destination', 'a Writable stream (with write, end, on, once, off and destroy)', destination)
    }
    const opts = validateOptionsObject(options, 'MonitoredWritable.wrap', MONITOR_OPTIONS)
    return new WrappedWritable(destination, opts)
  }

  write (chunk, encoding, callback) {
    const m = this[kMeasure]
    const seq = m.writes
    const timed = (seq & (LATENCY_EVERY - 1)) === 0
    const at = timed ? m.now() : 0
    // After end() or destroy(), core fails the write and returns false: an error, not backpressure.
    const refused = this.writableEnded || this.destroyed
    const ok = super.write(chunk, encoding, callback)
    m.writes++
    if (timed) m.sample(seq, at)
    if (!ok && !refused) {
      m.owed = true
      m.refused(this.writableLength)
    }
    return ok
  }

  _write (chunk, encoding, callback) {
    // super._write() from a subclass's _write (adopted as the user's write) comes inside that
    // write, before its callback: core's base _write answers it. (A write core starts from inside
    // the callback, its clearBuffer, comes after the callback and is a write of its own.)
    const inner = this[kMeasure].inWrite && this[kMeasure].callback !== null
    const write = inner ? undefined : this[kUser].write
    // Only writev given: a single chunk goes to it, as core's default _write does.
    if (write === undefined && !inner && this[kUser].writev !== undefined) {
      monitoredWritev.call(this, [{ chunk, encoding }], callback)
      return
    }
    if (write === undefined) {
      const err = new SluiceError('ERR_METHOD_NOT_IMPLEMENTED', 'The _write() method is not implemented: pass options.write (or options.writev)')
      callback(err)
      return
    }
    const m = this[kMeasure]
    // A string reaches here only with decodeStrings: false.
    const n = m.objectMode || typeof chunk === 'string' ? byteLength(chunk, encoding) : chunk.length
    m.bytes += n
    m.chunks++
    m.inFlightBytes = n
    if (!m.objectMode || n > 0) {
      m.sizes[m.nSizes++] = n
      if (m.nSizes === BATCH) m.flush()
    }
    m.callback = callback
    m.inWrite = true
    m.syncDone = false
    try {
      write.call(this, chunk, encoding, m.onWritten)
    } finally {
      m.inWrite = false
    }
    // A write that did not complete at once keeps the destination busy until its callback.
    if (!m.syncDone && m.callback !== null) m.busyStart()
  }

  _destroy (err, callback) {
    const m = this[kMeasure]
    if (m !== undefined) m.stop()
    // super._destroy() from a subclass's _destroy (adopted as the user's destroy): core's base.
    if (this[kInDestroy] === true) {
      callback(err)
      return
    }
    const destroy = this[kUser]?.destroy
    const done = (e) => {
      callback(e)
      summaryWithoutClose(this, m)
    }
    if (destroy === undefined) {
      done(err)
      return
    }
    this[kInDestroy] = true
    try {
      destroy.call(this, err, done)
    } finally {
      this[kInDestroy] = false
    }
  }
}

// end() and uncork() as every sluice Writable side has them (lib/inflight.js).
mendEndAndUncork(MonitoredWritable)

/**
 * Takes a MonitoredWritable subclass's own `_write`, `_writev` and `_destroy` into `user` (where
 * no option gave one: an option replaces the method, as in core) and puts the measuring methods
 * back in front of them on the instance.
 */
function adoptSubclassMethods (stream, user) {
  for (const [key, method, measuring] of [['write', '_write', MonitoredWritable.prototype._write],
    ['writev', '_writev', monitoredWritev], ['destroy', '_destroy', MonitoredWritable.prototype._destroy]]) {
    const own = stream[method]
    if (typeof own !== 'function' || own === MonitoredWritable.prototype[method] || own === Writable.prototype[method]) continue
    if (user[key] === undefined) user[key] = own
    stream[method] = measuring
  }
}

function monitoredWritev (chunks, callback) {
  const m = this[kMeasure]
  let bytes = 0
  for (const { chunk, encoding } of chunks) {
    const n = m.objectMode || typeof chunk === 'string' ? byteLength(chunk, encoding) : chunk.length
    bytes += n
    m.chunks++
    if (!m.objectMode || n > 0) m.size(n)
  }
  m.bytes += bytes
  m.inFlightBytes = bytes
  m.callback = callback
  m.batchSize = chunks.length
  m.inWrite = true
  m.syncDone = false
  try {
    this[kUser].writev.call(this, chunks, m.onWritten)
  } finally {
    m.inWrite = false
  }
  if (!m.syncDone && m.callback !== null) m.busyStart()
}

function onOwnDrain () {
  const m = this[kMeasure]
  m.owed = false
  m.drained()
}

function onFinish () {
  this[kMeasure].summary()
}

addMeasuredMethods(Meter)
addMeasuredMethods(MonitoredWritable)

// ---------------------------------------------------------------------------------------------
// MonitoredWritable.wrap(destination)

/**
 * The wrapper forwards each write() straight to the destination rather than through its own
 * buffer: the destination's buffer is the only one, so the wrapper's write() returns exactly
 * what the destination's does and costs one call and a few additions (a second Writable layer
 * would double the cost of a fast destination). Core's machinery still runs the wrapper's end:
 * end() goes through core (so 'finish', writableFinished and pipeline's end-of-stream work as
 * for any Writable), and _final waits for the destination's 'finish'.
 */
class WrappedWritable extends MonitoredWritable {
  constructor (dest, opts) {
    super({
      ...opts,
      [kWrap]: true,
      objectMode: dest.writableObjectMode === true,
      highWaterMark: dest.writableHighWaterMark ?? undefined
    })
    const m = this[kMeasure]
    // Writes in flight that were given our callback (timed ones): [bytes counted (-1: none),
    // callback, at] triples.
    m.queue = new Fifo()
    m.onDestWritten = (err) => {
      m.completed++
      const queue = m.queue
      const counted = queue.peek(0)
      const callback = queue.peek(1)
      const at = queue.peek(2)
      queue.drop(3)
      // The counts are of what the destination took: a write it failed later is taken back.
      if (err != null && counted >= 0) {
        m.bytes -= counted
        m.chunks--
      }
      if (at >= 0) m.latency(m.now() - at)
      if (--m.pending === 0) m.settle()
      // Core runs a run of completions with this one callback in one loop: a user's callback
      // that throws would cut it short, and the writes after it would never be answered.
      if (callback !== undefined) callGuarded(callback, err)
    }
    m.dest = dest
    m.forwarding = true
    this[kDest] = dest
    // Our 'drain' is emitted by onDestDrain, which does the accounting itself: a second
    // listener would make every emit copy its listener array (a refusal per chunk with 64 KiB
    // chunks against a 16 KiB highWaterMark).
    this.off('drain', onOwnDrain)
    // A destination that can take no more writes (destroyed, or ended by its owner) errors the
    // wrapper as pipeline() would: a premature close (or the destination's own error), emitted
    // asynchronously as any stream error. The wrapper leaves such a destination alone (one
    // still finishing what its owner wrote is not destroyed).
    // The wrapper is destroyed on the next tick, not in here: pipeline() (Node 24) refuses a
    // stream destroyed before it is piped to with ERR_STREAM_UNABLE_TO_PIPE and leaves its
    // error uncaught. A write before then fails with the same error (see _write).
    // The destination's errors are the wrapper's, also when it was destroyed with one before it
    // was wrapped (its 'error' still to come: a pre-aborted signal): without this listener that
    // error, which the wrapper reports, would also be thrown as uncaught.
    dest.on('error', (err) => { if (!this.destroyed) this.destroy(err) })
    if (dest.destroyed === true || dest.writableEnded === true || dest.closed === true) {
      m.forwarding = false
      m.leaveDest = true
      this[kGone] = dest.errored ?? prematureClose('the destination was already ' + (dest.destroyed === true ? 'destroyed' : 'ended') + ' when wrapped')
      coreTick(() => destroyGone(this))
      return
    }
    dest.on('drain', () => onDestDrain(this))
    dest.on('finish', () => onDestGone(this))
    dest.on('close', () => onDestGone(this))
    // A destination that already waits for 'drain' (its owner wrote past its highWaterMark): so
    // does the wrapper, which emits 'drain' with it (pipe() and writers check writableNeedDrain).
    if (dest.writableNeedDrain === true) {
      m.owed = true
      m.blockedSince = m.now()
    }
  }

  write (chunk, encoding, callback) {
    const m = this[kMeasure]
    if (!m.forwarding) return Writable.prototype.write.call(this, chunk, encoding, callback)
    if (typeof encoding === 'function') {
      callback = encoding
      encoding = undefined
    }
    const dest = m.dest
    const seq = m.writes
    // Our own callback only where it is needed: a destination that went asynchronous (whose
    // busy stretch we follow to its end, and whose writes we all time: at µs or more per write,
    // a clock read is noise), or one write in SYNC_SAMPLE_EVERY. Otherwise the caller's callback
    // goes to the destination as it is: core coalesces a run of writes completed with the same
    // callback into one nextTick, and a different callback in between breaks the run (two more
    // nextTicks: sampling 1 in 16 cost 15 ns a chunk). Core's write() never calls back
    // synchronously, and an invalid chunk throws from it before anything is queued, so the
    // bookkeeping comes after.
    const timed = m.lastAsync || (seq & (SYNC_SAMPLE_EVERY - 1)) === 0
    // A destination destroyed (without an error) or ended fails the write, a tick later.
    const refused = dest.destroyed === true || dest.writableEnded === true
    let ok
    let at = -1
    if (timed) {
      at = m.now()
      ok = dest.write(chunk, encoding, m.onDestWritten)
    } else {
      ok = dest.write(chunk, encoding, callback)
    }
    m.writes = seq + 1
    // A write still in the destination's hands after write() returned: it is busy.
    // (`> 0`: a Writable-like without writableLength counts as completing at once.)
    const async = dest.writableLength > 0
    m.lastAsync = async
    if (async && m.busySince < 0) m.busyStart()
    // A string is encoded by the destination with the write's encoding, else its default one.
    if (typeof chunk === 'string' && typeof encoding !== 'string') encoding = defaultEncoding(dest)
    const n = m.objectMode ? byteLength(chunk, encoding) : typeof chunk === 'string' ? stringBytes(chunk, encoding) : chunk.length
    // Counted only if the destination took it: a write it failed at once (a file on a full disk
    // through a synchronous stdout), or one into a destination already failed, is not. One that
    // fails later is taken back by onDestWritten, which every write after the destination went
    // asynchronous goes through (not the one in which it did: that has the caller's callback).
    const accepted = !refused && dest.errored == null
    if (accepted) {
      m.bytes += n
      m.chunks++
      if (n > 0 || !m.objectMode) {
        m.sizes[m.nSizes++] = n
        if (m.nSizes === BATCH) m.flush()
      }
    }
    if (timed) {
      m.queue.push3(accepted ? n : -1, callback, at)
      m.pending++
    }
    // A refused write returns false too, and is an error, not backpressure.
    if (!ok && !refused) {
      m.owed = true
      m.backpressure++
      const buffered = dest.writableLength
      if (buffered > m.bufferedMax) m.bufferedMax = buffered
      if (m.blockedSince < 0) m.blockedSince = buffered === 0 ? INSTANT : m.now()
      // A writer that went on writing after a refusal: now the destination holds data, and the
      // wait for its drain is real.
      else if (m.blockedSince === INSTANT && buffered !== 0) m.blockedSince = m.now()
    }
    return ok
  }

  end (chunk, encoding, callback) {
    if (typeof chunk === 'function') {
      callback = chunk
      chunk = undefined
    } else if (typeof encoding === 'function') {
      callback = encoding
      encoding = undefined
    }
    const m = this[kMeasure]
    if (chunk !== undefined && chunk !== null) {
      // Ended, destroyed or its destination gone: core's end() refuses the chunk (write after
      // end, or destroyed) and answers the callback with that error.
      if (!m.forwarding) return super.end(chunk, encoding, callback)
      this.write(chunk, encoding)
    }
    m.forwarding = false
    // On a destroyed wrapper core files the callback for the completion of a write still pending
    // here, and the wrapper's writes are the destination's: none ever completes. endAnswered
    // (MonitoredWritable's end) answers it, after the destination's write in flight if any
    // (kWritesHeldBy).
    return super.end(callback)
  }

  destroy (err, callback) {
    // end()'s callbacks filed before this wait for the destination's write in flight, as core
    // makes them wait for a Writable's own (lib/inflight.js).
    holdEndsForHeldWrites(this)
    return super.destroy(err, callback)
  }

  /** Its writes are the destination's (lib/inflight.js, endAnswered). */
  [kWritesHeldBy] () {
    return this[kDest]
  }

  cork () {
    this[kDest].cork?.()
  }

  uncork () {
    this[kDest].uncork?.()
  }

  /** The destination's: cork() and uncork() go to it (a loop `while (w.writableCorked) w.uncork()` must see them). */
  get writableCorked () {
    const dest = this[kDest]
    return dest === undefined ? super.writableCorked : (dest.writableCorked ?? 0)
  }

  get writableLength () {
    return this[kDest].writableLength ?? 0
  }

  get writableNeedDrain () {
    return this[kMeasure]?.owed === true || super.writableNeedDrain
  }

  _write (chunk, encoding, callback) {
    // A destination gone before it was wrapped: the wrapper's error.
    if (this[kGone] !== undefined) {
      callback(this[kGone])
      return
    }
    // Only reached through core after end() (writes are forwarded in write()): refuse as core.
    callback(new SluiceError('ERR_STREAM_WRITE_AFTER_END', 'write after end'))
  }

  /** Strings are encoded by the destination (write() forwards them): its default is the one. */
  setDefaultEncoding (encoding) {
    if (this[kDest] !== undefined && this[kGone] === undefined) {
      this[kDest].setDefaultEncoding(encoding)
      return this
    }
    return super.setDefaultEncoding(encoding)
  }

  _final (callback) {
    if (this[kGone] !== undefined) {
      callback(this[kGone])
      return
    }
    const dest = this[kDest]
    if (dest.writableFinished) {
      callback()
      return
    }
    const onFinish = () => {
      dest.off('close', onClosed)
      callback()
    }
    const onClosed = () => {
      dest.off('finish', onFinish)
      // The destination's own error when it failed (its last write, its _final), as end()'s
      // callback gets from core; a premature close only if it closed without one.
      if (!dest.writableFinished) callback(dest.errored ?? prematureClose())
    }
    dest.once('finish', onFinish)
    dest.once('close', onClosed)
    if (!dest.writableEnded) dest.end()
  }

  _destroy (err, callback) {
    const m = this[kMeasure]
    if (m !== undefined) {
      m.forwarding = false
      m.stop()
      m.busyEnd()
    }
    const dest = this[kDest]
    // Core's finished() and pipeline() take a stream ended with nothing in its own buffer for
    // finished (their non-strict check), and the wrapper's buffer is always empty: its writes are
    // the destination's. Destroyed while the destination still held some of them, and ended
    // before or after, it must read as the destination would, a premature close, not a success
    // with data lost: its length is theirs (nothing reads it after a destroy but those checks).
    const state = this._writableState
    const held = dest?.writableLength
    if (err == null && !state.finished && typeof held === 'number' && held > 0) state.length = held
    // A destination that finished (ended by other code, or by us) has nothing left to destroy.
    if (dest !== undefined && !m.leaveDest && !dest.destroyed && !dest.writableFinished) dest.destroy(err ?? undefined)
    callback(err)
    summaryWithoutClose(this, m)
  }
}

/** The encoding `dest` gives a string written without one (setDefaultEncoding), else utf8. */
function defaultEncoding (dest) {
  const enc = dest._writableState?.defaultEncoding ?? dest.writableState?.defaultEncoding
  return typeof enc === 'string' && Buffer.isEncoding(enc) ? enc : 'utf8'
}

function destroyGone (stream) {
  if (!stream.destroyed) stream.destroy(stream[kGone])
}

function onDestDrain (stream) {
  const m = stream[kMeasure]
  if (!m.owed) return
  m.owed = false
  m.drained()
  stream.emit('drain')
}

/**
 * The destination finished or closed. After our end() and its 'finish', that is the normal end
 * (ours finishes, and autoDestroy closes it). Otherwise it can take no more of our writes: ended
 * by other code (a timeout handler ending a response) or closed early. Either way the wrapper
 * errors, as core's pipeline() does for a stream that closes before it finished.
 */
function onDestGone (stream) {
  if (stream.destroyed) return
  const dest = stream[kDest]
  if (stream.writableEnded && dest.writableFinished) return
  stream.destroy(dest.errored ?? prematureClose())
}

/** Core's error for a stream that closed before it finished (same code and message). */
function prematureClose (detail) {
  const err = new Error(detail === undefined ? 'Premature close' : `Premature close: ${detail}`)
  err.code = 'ERR_STREAM_PREMATURE_CLOSE'
  return err
}

// ---------------------------------------------------------------------------------------------
// Many meters

const METER_KINDS = 'Meter, MonitoredWritable, MeterStream, MonitoredWritableStream'
const A_METER = `a meter (${METER_KINDS})`

/** The measure of `stream`, one of the meters an argument lists (`what`: its name, `meters[2]`). */
function measureOf (stream, what, expected = A_METER) {
  const m = stream?.[kMeasure]
  if (m === undefined) throw typeError(what, expected, stream)
  return m
}

/**
 * The Prometheus text exposition (format 0.0.4) of `meters`: one `# HELP`/`# TYPE` pair per
 * family, one sample per meter with its `name` label.
 */
function toPrometheus (meters) {
  if (!Array.isArray(meters)) {
    measureOf(meters, 'meters', `${A_METER} or an array of meters`)
    meters = [meters]
  }
  const samples = meters.map((s, i) => {
    const m = measureOf(s, `meters[${i}]`)
    m.snapshot(false, false)
    return m.handle.prometheusSamples(m.name)
  })
  const headers = native.prometheusHeaders()
  let out = ''
  for (let i = 0; i < headers.length; i++) {
    out += headers[i]
    for (const s of samples) out += s[i]
  }
  return out
}

/**
 * Registers the meters' metric families with a prom-client `Registry` (prom-client is an
 * optional peer: pass your own registry; sluice never requires it). `meters` is an array or a
 * function returning the meters alive now (pipelines come and go); each scrape takes fresh
 * snapshots. The metrics are prom-client "custom metrics" (objects with `get()`, as its own
 * metric classes are), so they appear in `registry.metrics()` beside the application's own, with
 * the names and types of `toPrometheus()`.
 */
function registerPrometheus (registry, meters) {
  if (registry === null || typeof registry !== 'object' || typeof registry.registerMetric !== 'function') {
    throw typeError('registry', 'a prom-client Registry', registry)
  }
  const list = typeof meters === 'function' ? meters : () => meters
  if (typeof meters !== 'function' && !Array.isArray(meters)) {
    throw typeError('meters', `an array of meters (${METER_KINDS}), or a function returning one`, meters)
  }
  // One scrape reads every family: snapshot once per scrape, not once per family.
  let scrape = null
  const collect = () => {
    if (scrape === null) {
      scrape = list().map((s, i) => {
        const m = measureOf(s, `meters[${i}]`)
        m.snapshot(false, false)
        return { name: m.name, values: m.handle.prometheusValues() }
      })
      queueMicrotask(() => { scrape = null })
    }
    return scrape
  }
  native.prometheusFamilies().forEach((line, i) => {
    const [name, type, help] = line.split('\t')
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get () {
        // The family's name as the registry now has it: in OpenMetrics mode prom-client renames a
        // counter without its `_total` and adds that to each sample that names no metric of its
        // own, as its own Counter's do (naming one here came out `..._total_total`).
        const family = this.name
        const values = []
        for (const { name: stage, values: families } of collect()) {
          for (const row of families[i].split('\n')) {
            if (row === '') continue
            const [suffix, le, value] = row.split('\t')
            const labels = le === '' ? { name: stage } : { name: stage, le: le === '+Inf' ? '+Inf' : Number(le) }
            values.push(suffix === '' ? { labels, value: Number(value) } : { metricName: family + suffix, labels, value: Number(value) })
          }
        }
        return { name: family, help, type, aggregator: 'sum', values }
      },
      reset () {}
    }
    registry.registerMetric(metric)
  })
}

/** The counters of a `since` snapshot that bottleneck() subtracts. */
const SNAPSHOT_COUNTERS = ['elapsedMs', 'bytes', 'chunks', 'blockedMs', 'busyMs', 'starvedMs']

/**
 * Each entry of `options.since` is a snapshot (or null/undefined: none for that meter) whose
 * counters are finite numbers where present: a string or NaN there made every score NaN, and the
 * call failed with "reading 'stage'" of undefined (or, for elapsedMs, concatenated a string).
 */
function validateSnapshots (since) {
  for (let i = 0; i < since.length; i++) {
    const before = since[i]
    if (before == null) continue
    if (typeof before !== 'object') throw typeError(`options.since[${i}]`, 'a snapshot of an earlier call (an object), null or undefined', before)
    for (const key of SNAPSHOT_COUNTERS) {
      const v = before[key]
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v))) {
        throw typeError(`options.since[${i}].${key}`, 'a finite number (a snapshot of an earlier call)', v)
      }
    }
  }
}

/**
 * Names the stage that limits a pipeline from the meters placed along it, in pipeline order.
 * A Meter stands for the stage just upstream of it (it sees what that stage produces); a
 * MonitoredWritable stands for itself (the sink).
 *
 * Every stage is judged over the same span of time: from the earliest start to the latest end
 * among the meters (with `since`, from the earlier call to now). A meter's own life is shorter
 * (a source's meter ends as soon as the source has pushed everything into the buffers after it);
 * after its end the stage is `done`, not starved, so a short-lived stage cannot outweigh the
 * others with fractions of its own brief life.
 *
 * Stage i limits the pipeline when it holds back what comes before it and does not deliver:
 * - it holds back its upstream while the meter before it is blocked (stage i does not take its
 *   input fast enough) or done (everything upstream has passed; the rest is in stage i's hands),
 *   and, for a sink, while its own write() refuses its writer (its own blocked time);
 * - it does not deliver while its own meter is starved (a Meter) or busy (a sink);
 * - and no stage after it blocks: a slow stage blocks every stage upstream of it, and a fast
 *   stage behind it is starved of nothing but buffer room.
 * The score is the smallest of these fractions of the span. The first stage has no meter before
 * it: its first term is 1. A first stage that was never blocked, was done for longer than it was
 * starved, while a stage after it blocked its upstream, is never named (it finished early; what
 * followed took the time). `options.since`: the `snapshots` of an earlier result, to judge only
 * what happened since then (a live view). Returns `{ stage, index, reason, score, evidence,
 * snapshots }`, or null without meters.
 */
function bottleneck (meters, options) {
  if (!Array.isArray(meters)) throw typeError('meters', `an array of meters (${METER_KINDS})`, meters)
  const opts = validateOptionsObject(options, 'bottleneck', ['since'])
  const since = opts.since
  if (since !== undefined && (!Array.isArray(since) || since.length !== meters.length)) {
    throw typeError('options.since', 'the snapshots of an earlier call (its .snapshots)', since)
  }
  if (since !== undefined) validateSnapshots(since)
  if (meters.length === 0) return null
  const measures = meters.map((s, i) => measureOf(s, `meters[${i}]`))
  const snapshots = meters.map((s) => s.stats())
  // Each meter's part of the time line: from its start (with `since`: from the earlier snapshot,
  // or its end if it had ended by then) to its end (now, if it still runs). With `since`, the
  // span starts at the earlier call: the latest of those starts (every meter then alive reads
  // the same moment; one that had ended reads its earlier end).
  const from = snapshots.map((st, i) => measures[i].startedAt + (since?.[i]?.elapsedMs ?? 0))
  const to = snapshots.map((st, i) => measures[i].startedAt + st.elapsedMs)
  const spanStart = since === undefined ? Math.min(...from) : Math.max(...from)
  const spanEnd = Math.max(...to)
  const span = spanEnd - spanStart > 0 ? spanEnd - spanStart : 1
  const evidence = snapshots.map((st, i) => {
    const before = since?.[i]
    const d = (key) => st[key] - (before?.[key] ?? 0)
    // The rate is the stage's own: over its life (within the window), not the span.
    const life = d('elapsedMs') > 0 ? d('elapsedMs') : 1
    return {
      stage: st.name,
      kind: st.kind,
      rate: (st.unit === 'items' ? d('chunks') : d('bytes')) / (life / 1000),
      unit: st.unit,
      blocked: d('blockedMs') / span,
      busy: d('busyMs') / span,
      starved: d('starvedMs') / span,
      done: Math.max(0, spanEnd - Math.max(to[i], spanStart)) / span
    }
  })
  const n = evidence.length
  // How much stage i refused its input (its upstream waited on it): the meter before it blocked,
  // or, for a sink, its own write() returning false.
  const refused = evidence.map((e, i) => {
    const before = i === 0 ? 0 : evidence[i - 1].blocked
    return e.kind === 'writable' ? Math.max(before, e.blocked) : before
  })
  // The most any stage after i refused its input.
  const laterRefused = new Array(n).fill(0)
  for (let i = n - 2; i >= 0; i--) laterRefused[i] = Math.max(laterRefused[i + 1], refused[i + 1])
  let best = -1
  let bestScore = -1
  let bestReason = ''
  for (let i = 0; i < n; i++) {
    const e = evidence[i]
    const own = e.kind === 'writable' ? e.busy : e.starved
    const prev = i === 0 ? null : evidence[i - 1]
    // A first stage that finished early, never blocked, while a later stage blocked: not it.
    if (i === 0 && e.blocked === 0 && e.done > e.starved && laterRefused[0] > 0) continue
    const held = i === 0 ? 1 : Math.min(1, Math.max(prev.blocked + prev.done, refused[i]))
    const score = Math.max(0, Math.min(own, held, 1 - laterRefused[i]))
    if (score > bestScore) {
      best = i
      bestScore = score
      let reason = e.kind === 'writable' ? `busy ${pct(e.busy)} of the time` : `its output meter starved ${pct(e.starved)}`
      if (i > 0) {
        reason += refused[i] > prev.blocked + prev.done
          ? `, while it refused its writer ${pct(e.blocked)} of the time`
          : `, while "${prev.stage}" before it was blocked ${pct(prev.blocked)}${prev.done >= 0.005 ? ` and done ${pct(prev.done)}` : ''}`
      }
      if (i < n - 1) reason += `, and no stage after it blocked more than ${pct(laterRefused[i])}`
      bestReason = reason
    }
  }
  return { stage: evidence[best].stage, index: best, reason: bestReason, score: bestScore, evidence, snapshots }
}

function pct (f) {
  return `${Math.round(f * 100)} %`
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** A byte count in IEC units, three significant digits or so: '512 B', '7.3 MiB', '120 GiB'. */
function formatBytes (n) {
  let i = 0
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024
    i++
  }
  // Decided on the value as shown: 99.96 is '100', not '100.0', and 1023.6 is '1.0' of the next
  // unit, not '1024' (a progress line's width jittered with them).
  if (n >= 99.95 || (i === 0 && Number.isInteger(n))) {
    if (Math.round(n) >= 1024 && i < UNITS.length - 1) return `${(n / 1024).toFixed(1)} ${UNITS[i + 1]}`
    return `${Math.round(n)} ${UNITS[i]}`
  }
  return `${n.toFixed(1)} ${UNITS[i]}`
}

function formatRate (rate, unit) {
  if (unit === 'items') return `${rate >= 99.95 ? Math.round(rate) : rate.toFixed(1)} items/s`
  return `${formatBytes(rate)}/s`
}

function bar (fraction, width) {
  const n = Math.max(0, Math.min(width, Math.round(fraction * width)))
  return '█'.repeat(n) + '·'.repeat(width - n)
}

/**
 * The stages of a pipeline as a compact text diagram for a terminal: each stage's rate, bars for
 * the time busy / blocked / starved, and the bottleneck marked. `options.since`: as for
 * bottleneck() (pass the `snapshots` of `bottleneck(meters)` taken at the previous redraw).
 */
function formatPipeline (meters, options) {
  const opts = validateOptionsObject(options, 'formatPipeline', ['width', 'since'])
  const width = validateInteger(opts, 'width', 1, 200, 10)
  const b = bottleneck(meters, opts.since === undefined ? undefined : { since: opts.since })
  if (b === null) return ''
  const nameWidth = Math.max(5, ...b.evidence.map((e) => e.stage.length))
  const lines = [`${'stage'.padEnd(nameWidth)}  ${'rate'.padStart(12)}  ${'busy'.padEnd(width)}  ${'blocked'.padEnd(width)}  ${'starved'.padEnd(width)}`]
  b.evidence.forEach((e, i) => {
    const busy = e.kind === 'writable' ? bar(e.busy, width) : ' '.repeat(width)
    const mark = i === b.index && b.score > 0 ? '  ◀ bottleneck' : ''
    lines.push(`${e.stage.padEnd(nameWidth)}  ${formatRate(e.rate, e.unit).padStart(12)}  ${busy}  ${bar(e.blocked, width)}  ${bar(e.starved, width)}${mark}`)
    if (i < b.evidence.length - 1) lines.push(`${' '.repeat(nameWidth)}  ${''.padStart(12)}  ↓`)
  })
  return lines.join('\n')
}

module.exports = {
  Meter,
  MonitoredWritable,
  bottleneck,
  formatBytes,
  formatPipeline,
  formatRate,
  registerPrometheus,
  toPrometheus,
  // For the Web faces (lib/web.js), which share their component's measure.
  kMeasure,
  addMeasuredMethods,
  METER_OPTIONS,
  WRITABLE_OPTIONS
}
