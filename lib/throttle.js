'use strict'

// Throttle and ThrottleGroup: limit how fast data passes, in bytes or items per unit of time,
// by holding back `_transform`'s callback — so upstream feels ordinary backpressure
// (`write()` returns false, 'drain' later) and nothing is ever dropped.
//
// The native side (src/throttle/) owns the token buckets, the fair order of a group's members
// and the clock: `acquire(cost)` answers at once with what may pass now, and the rest arrives
// later as grant signals through the environment's signal hub (lib/signals.js), released by a
// timer in Rust against absolute deadlines. This class owns the stream contract and the bytes:
// a byte chunk larger than what is granted is pushed in pieces (zero-copy `subarray`s) as the
// grants come, so the rate holds at small time scales; objects are never split.
//
// Invariants:
// * At most one chunk is held (`kPending`): core calls `_transform` once at a time.
// * The stream waits on the hub (keeping the process alive, unless its clock is manual) exactly
//   while a chunk is held; a destroyed stream cancels its request, stops waiting, and ignores
//   any grant already on its way.
// * `pause()`/`resume()` are core's, and also hold and release the budget: a paused throttle
//   passes nothing more, and its bucket fills (to `burst` at most) meanwhile. A consumer's
//   read() releases it too (a paused core stream still answers read()).

const { Transform } = require('node:stream')
const native = require('./native.js')
const { itemBytes } = require('./bytes.js')
const { SluiceError, asError, nativeError, safeString } = require('./errors.js')
const { ensureRuntime } = require('./runtime.js')
const { writeAnswerable, answerWriteInFlight, answerFromDestroy, mendEndAndUncork } = require('./inflight.js')
const { kSignal, enroll, wait, stopWaiting, dispatchQueued } = require('./signals.js')
const { kNativeClock, validateClockOption } = require('./clock.js')
const {
  STREAM_OPTIONS,
  pickStreamOptions,
  rangeError,
  refuseWith,
  typeError,
  validateBoolean,
  validateInteger,
  validateNumber,
  validateOneOf,
  validateOptionsObject
} = require('./options.js')

// As in src/throttle/.
const SIGNAL_GRANT = 1
const REFUSED_RATE = -1
const REFUSED_BURST = -2

// The default burst: 100 ms worth of rate (Akka's automatic burst), at least one unit.
const BURST_SECONDS = 0.1

function defaultBurst (perSecond) {
  return Number.isFinite(perSecond) ? Math.max(perSecond * BURST_SECONDS, 1) : 1
}

/** The bounds of a group member's `weight` (a relative share: 1e18 to 1 is already none at all). */
const MIN_WEIGHT = 1e-9
const MAX_WEIGHT = 1e9
const THROTTLE_OPTIONS = [
  'rate', 'per', 'burst', 'initialBurst', 'cost', 'mode', 'group', 'weight', 'chunkSize', 'clock',
  'objectMode', ...STREAM_OPTIONS
]
const GROUP_OPTIONS = ['rate', 'per', 'burst', 'initialBurst', 'clock']

const kGate = Symbol('kGate')
const kGroupHandle = Symbol('kGroupHandle')
const kPrivateGroup = Symbol('kPrivateGroup')
const kId = Symbol('kId')
const kPending = Symbol('kPending')
const kCostOf = Symbol('kCostOf')
const kSplit = Symbol('kSplit')
const kEnforce = Symbol('kEnforce')
const kManual = Symbol('kManual')
const kPer = Symbol('kPer')
const kFinalStats = Symbol('kFinalStats')
const kGatePaused = Symbol('kGatePaused')

/**
 * Validates rate, per, burst and initialBurst; returns them per second / in units. `rateName`:
 * what errors call the rate (setRate's is a positional argument).
 */
function validateBudget (opts, { rateRequired, rateName = 'options.rate' }) {
  if (opts.rate === undefined && rateRequired) throw typeError(rateName, 'a number', undefined)
  const rate = validateNumber(opts, 'rate', { allowInfinity: true, name: rateName })
  const per = validateNumber(opts, 'per', { fallback: 1000 })
  const perSecond = rate === undefined ? Infinity : convertRate(rate, per, 1000)
  if (perSecond === 0 || Number.isNaN(perSecond)) {
    // A finite rate over a finite period that underflows: as good as zero.
    throw rangeError(rateName, `large enough for a rate above 0 per second (per ${per} ms)`, rate)
  }
  if (perSecond === Infinity && rate !== undefined && rate !== Infinity) {
    // One that overflows would silently be no limit at all.
    throw rangeError(rateName, `small enough for a finite rate per second (per ${per} ms), or Infinity for no limit`, rate)
  }
  const fallbackBurst = defaultBurst(perSecond)
  const burst = validateNumber(opts, 'burst', { fallback: fallbackBurst })
  const initialBurst = validateNumber(opts, 'initialBurst', { inclusive: true, fallback: burst })
  return { rate, per, perSecond, burst, initialBurst, burstGiven: opts.burst !== undefined }
}

/** setRate()'s arguments; without `per` the rate is per the `per` set before (`currentPer`). */
function validateRateArguments (rate, options, currentPer) {
  const opts = validateOptionsObject(options, 'setRate', ['burst', 'per'])
  // The rate is a positional argument here: errors name it `rate`, not `options.rate`.
  if (typeof rate !== 'number') throw typeError('rate', 'a number', rate)
  return validateBudget({ ...opts, rate, per: opts.per === undefined ? currentPer : opts.per }, { rateRequired: true, rateName: 'rate' })
}

/**
 * A setRate() on a native group or member: the burst after it is the one given, else the one
 * given before, else `defaultBurst` of the new rate, decided by the native side under its lock
 * (a shared group's other callers change the same group).
 */
function setNativeRate (target, budget) {
  target.setRate(budget.perSecond, budget.burstGiven ? budget.burst : null, defaultBurst(budget.perSecond))
}

class ThrottleGroup {
  /**
   * Members (`group.throttle(options)`, or `new Throttle({ group })`) share one budget of
   * `rate` units per `per` ms, fairly among those that are active.
   */
  constructor (options) {
    const opts = validateOptionsObject(options, 'ThrottleGroup', GROUP_OPTIONS)
    const budget = validateBudget(opts, { rateRequired: true })
    const clock = validateClockOption(opts)
    ensureRuntime()
    this[kPer] = budget.per
    this[kManual] = clock !== undefined
    this[kGroupHandle] = native.ThrottleGroupHandle.create(budget.perSecond, budget.burst, budget.initialBurst, budget.burstGiven, clock?.[kNativeClock])
  }

  /**
   * The process-wide group called `name`, shared by every worker_threads environment (its state
   * lives in Rust). Made with `options` by the first caller; later callers may omit them, and
   * get an error if theirs differ.
   */
  static shared (name, options) {
    if (typeof name !== 'string') throw typeError('name', 'a string', name)
    if (name === '') throw rangeError('name', 'a non-empty string', name)
    // The native side keys groups by UTF-8, where every lone surrogate becomes U+FFFD: distinct
    // names would share one budget.
    if (!name.isWellFormed()) throw typeError('name', 'well-formed text (it has a lone surrogate)', name)
    const opts = validateOptionsObject(options, 'ThrottleGroup.shared', GROUP_OPTIONS.filter((k) => k !== 'clock'))
    const makes = opts.rate !== undefined
    const budget = validateBudget(opts, { rateRequired: false })
    ensureRuntime()
    // Without a rate this call cannot make the group: look it up only (atomically, so a group
    // another thread is making is never made twice or with made-up settings).
    const handle = makes
      ? native.ThrottleGroupHandle.shared(name, budget.perSecond, budget.burst, budget.initialBurst, budget.burstGiven)
      : native.ThrottleGroupHandle.sharedLookup(name)
    if (handle === null) throw typeError('options.rate', `a number (no shared group "${name}" exists yet)`, undefined)
    const group = Object.create(ThrottleGroup.prototype)
    group[kPer] = budget.per
    group[kManual] = false
    group[kGroupHandle] = handle
    // Made by this call, with these options (and its burst kept): another caller's setRate may
    // have changed it already, which is no mismatch.
    if (handle.made) return group
    let burst = refuseMismatch(name, handle, opts, budget)
    // A burst given (the one the group has, or the call failed above) is kept by a later
    // setRate() without one, whoever calls it. Checked and kept in one step: another caller's
    // setRate may have changed the burst since the check, and then this call comes after it and
    // its options no longer match.
    while (budget.burstGiven && !handle.keepBurst(burst)) burst = refuseMismatch(name, handle, opts, budget)
    return group
  }

  /** A new member: a Throttle sharing this group's budget (`options` as for Throttle, minus group). */
  throttle (options) {
    const opts = validateOptionsObject(options, 'ThrottleGroup.throttle', THROTTLE_OPTIONS.filter((k) => k !== 'group' && k !== 'clock'))
    return new Throttle({ ...opts, group: this })
  }

  /** Changes the group's rate (and burst) from now on; the tokens already earned stay. */
  setRate (rate, options) {
    const budget = validateRateArguments(rate, options, this[kPer])
    this[kPer] = budget.per
    setNativeRate(this[kGroupHandle], budget)
    // On a manual clock what the new rate releases at once is handled now, as in advance().
    if (this[kManual]) dispatchQueued()
  }

  /**
   * `{ units, tokens, rate, per, burst, members, waiting }`: `rate` per `per` ms, as set (as a
   * Throttle's stats() reports its own; the native group keeps it per second).
   */
  stats () {
    const s = this[kGroupHandle].stats()
    return { ...s, rate: ratePer(s.rate, this[kPer]), per: this[kPer] }
  }
}

/**
 * A rate per `from` ms as a rate per `to` ms, without overflowing where the result is finite:
 * divided first where multiplying first would overflow (1.8e305 per 1000 ms is 1.8e305/s).
 */
function convertRate (rate, from, to) {
  const converted = rate * to / from
  return converted === Infinity && Number.isFinite(rate) ? rate / from * to : converted
}

/** A rate per second as a rate per `per` ms. */
const ratePer = (perSecond, per) => convertRate(perSecond, 1000, per)

/**
 * Throws ERR_SLUICE_SHARED_GROUP_MISMATCH if the options `shared()` was given differ from the
 * group's; else returns the group's burst as read (for keepBurst).
 */
function refuseMismatch (name, handle, opts, budget) {
  const [rate, burst, initial] = handle.config()
  const differ = []
  if (opts.rate !== undefined && !sameNumber(rate, budget.perSecond)) differ.push(`rate ${budget.perSecond}/s (it has ${rate}/s)`)
  if (opts.burst !== undefined && !sameNumber(burst, budget.burst)) differ.push(`burst ${budget.burst} (it has ${burst})`)
  if (opts.initialBurst !== undefined && !sameNumber(initial, budget.initialBurst)) differ.push(`initialBurst ${budget.initialBurst} (it was made with ${initial})`)
  if (differ.length === 0) return burst
  throw new SluiceError('ERR_SLUICE_SHARED_GROUP_MISMATCH',
    `The shared throttle group "${name}" already exists; options asked for ${differ.join(', ')}. ` +
    // `group`, not `name`: a `name` detail would overwrite the error's own (err.name 'SluiceError').
    'Change it with group.setRate(), or omit the options to use it as it is.', { group: name, rate, burst, initialBurst: initial })
}

/** Equal but for the rounding of a rate converted to and from its `per`; Infinity only to itself. */
function sameNumber (a, b) {
  return a === b || (Number.isFinite(a) && Number.isFinite(b) && Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b)))
}


class Throttle extends Transform {
  constructor (options) {
    const opts = validateOptionsObject(options, 'Throttle', THROTTLE_OPTIONS)
    const objectMode = validateBoolean(opts, 'objectMode', false)
    const group = opts.group
    if (group !== undefined && (!(group instanceof ThrottleGroup) || group[kGroupHandle] === undefined)) {
      throw typeError('options.group', 'an instance of ThrottleGroup', group)
    }
    if (group !== undefined) refuseWith(opts, 'clock', 'options.group (the group has the clock)')
    else refuseWith(opts, 'weight', 'no options.group (a weight shares a group)')
    const budget = validateBudget(opts, { rateRequired: group === undefined })
    const clock = validateClockOption(opts)
    // Bounded so that a chunk's cost over its weight stays a finite number: a weight of 1e-310
    // made it Infinity and the member shared 1:1 whatever its weight.
    const weight = validateNumber(opts, 'weight', { min: MIN_WEIGHT, inclusive: true, max: MAX_WEIGHT, fallback: 1 })
    const mode = validateOneOf(opts, 'mode', ['shape', 'enforce'], 'shape')
    const chunkSize = validateInteger(opts, 'chunkSize', 1, Number.MAX_SAFE_INTEGER, 0)
    let cost = opts.cost === undefined ? (objectMode ? 'items' : 'bytes') : opts.cost
    if (typeof cost !== 'function') cost = validateOneOf({ cost }, 'cost', ['bytes', 'items'])
    // Only bytes are split, and only when a late piece is allowed (shaping): elsewhere a
    // chunkSize would do nothing.
    const split = cost === 'bytes' && !objectMode && mode === 'shape'
    if (!split) {
      refuseWith(opts, 'chunkSize', objectMode
        ? 'options.objectMode (objects pass whole)'
        : mode === 'enforce' ? "options.mode 'enforce' (a chunk passes whole or fails)" : 'a cost other than \'bytes\' (only bytes are split)')
    }

    super({ ...pickStreamOptions(opts), objectMode })

    ensureRuntime()
    const { hub, id } = enroll()
    this[kId] = id
    this[kPending] = null
    this[kGatePaused] = false
    this[kFinalStats] = null
    this[kPer] = budget.per
    this[kEnforce] = mode === 'enforce'
    this[kSplit] = split
    this[kCostOf] = costFunction(cost)
    if (group === undefined) {
      this[kManual] = clock !== undefined
      this[kPrivateGroup] = true
      this[kGroupHandle] = native.ThrottleGroupHandle.create(budget.perSecond, budget.burst, budget.initialBurst, budget.burstGiven, clock?.[kNativeClock])
      this[kGate] = this[kGroupHandle].join(hub, id, { weight: 1, capRate: Infinity, capBurst: 1, capInitial: 1, capBurstGiven: false, piece: chunkSize })
    } else {
      this[kManual] = group[kManual]
      this[kPrivateGroup] = false
      this[kGroupHandle] = group[kGroupHandle]
      // `rate` on a member is its own cap; `burst` and `initialBurst` shape that cap.
      this[kGate] = this[kGroupHandle].join(hub, id, {
        weight, capRate: budget.perSecond, capBurst: budget.burst, capInitial: budget.initialBurst, capBurstGiven: budget.burstGiven, piece: chunkSize
      })
    }
    // Destroyed inside super() (an aborted `signal`), before it joined: it leaves at once, or a
    // group (a shared one for the life of the process) counted a member that was gone.
    if (this.destroyed) this.#leave()
  }

  /** Leaves the group for good (destroy): no more grants; stats() keep their last values. */
  #leave () {
    stopWaiting(this[kId])
    const gate = this[kGate]
    gate.cancel()
    this[kFinalStats] = this.#statsNow()
    gate.close()
  }

  _write (chunk, encoding, callback) {
    writeAnswerable(this, chunk, encoding, callback)
  }

  _transform (chunk, encoding, callback) {
    let cost
    try {
      cost = this[kCostOf](chunk, encoding)
    } catch (err) {
      // A throw of null, 0 or '' as it is would read as success: the chunk gone, uncounted.
      callback(asError(err, 'ERR_SLUICE_INVALID_COST', 'options.cost'))
      return
    }
    // A cost function that destroyed the stream: nothing may wait now (it would hold the
    // process for good); the write is answered, as _destroy answers a held one.
    if (this.destroyed) {
      callback()
      return
    }
    if (typeof cost !== 'number' || !(cost >= 0) || cost === Infinity) {
      callback(new SluiceError('ERR_SLUICE_INVALID_COST',
        `Throttle: the cost of a chunk must be a finite number >= 0; options.cost gave ${describeCost(cost)}`, { cost }))
      return
    }
    if (cost === 0) {
      passNow(this, chunk, callback)
      return
    }
    if (this[kSplit] && typeof chunk === 'string') chunk = Buffer.from(chunk, encoding)
    let granted
    try {
      // More written behind this chunk, or the writer told to wait for 'drain' (its write filled
      // the buffer): it writes again as soon as this chunk passes, and the group's other members
      // wait for it, to keep their shares by weight (src/throttle/group.rs, `anticipated`). A
      // writer of a small chunk now and then is not waited for.
      const length = this.writableLength
      const backlogged = this.writableNeedDrain || length >= this.writableHighWaterMark || length > (this.writableObjectMode ? 1 : chunk.length)
      granted = this[kGate].acquire(cost, this[kSplit], this[kEnforce], backlogged)
    } catch (err) {
      callback(nativeError(err))
      return
    }
    if (granted < 0) {
      callback(this.#refusal(granted, cost))
      return
    }
    if (granted >= cost) {
      passNow(this, chunk, callback)
      return
    }
    this[kPending] = { chunk, callback, cost, done: 0 }
    this.#waitFor(true)
    if (granted > 0) this.#release(granted)
  }

  [kSignal] (kind, amount) {
    if (kind === SIGNAL_GRANT && !this.destroyed) this.#release(amount)
  }

  /** `amount` more units of the held chunk may pass. */
  #release (amount) {
    const pending = this[kPending]
    if (pending === null) return
    const from = pending.done
    pending.done += amount
    const finished = pending.done >= pending.cost - 1e-9
    if (finished) {
      this[kPending] = null
      stopWaiting(this[kId])
    }
    // State first, then user code: a listener that throws inside push() (an uncaught exception,
    // as in core) leaves the stream consistent, and the chunk's callback still runs.
    try {
      if (this[kSplit]) this.push(pending.chunk.subarray(from, pending.done))
      else if (finished) this.push(pending.chunk)
    } finally {
      if (finished) pending.callback()
    }
  }

  #refusal (code, cost) {
    if (code !== REFUSED_RATE && code !== REFUSED_BURST) return new SluiceError('ERR_SLUICE_NATIVE', `Throttle: unexpected refusal ${code}`)
    const [rate, burst] = this[kGate].config()
    const per = this[kPer]
    const perRate = ratePer(rate, per)
    if (code === REFUSED_BURST) {
      return new SluiceError('ERR_SLUICE_COST_EXCEEDS_BURST',
        `Throttle (mode 'enforce'): a chunk costing ${cost} can never pass a burst of ${burst}; raise options.burst or use mode 'shape'`,
        { cost, burst, rate: perRate, per })
    }
    return new SluiceError('ERR_SLUICE_RATE_EXCEEDED',
      `Throttle (mode 'enforce'): upstream is faster than ${perRate} per ${per} ms; a chunk costing ${cost} found too few tokens`,
      { cost, burst, rate: perRate, per, tokens: this[kGate].stats().tokens })
  }

  /**
   * Changes the rate from now on (for a group member: its own cap). The tokens earned so far
   * count at the old rate; a waiting chunk is re-timed at once.
   */
  setRate (rate, options) {
    const budget = validateRateArguments(rate, options, this[kPer])
    this[kPer] = budget.per
    setNativeRate(this[kPrivateGroup] ? this[kGroupHandle] : this[kGate], budget)
    if (this[kManual]) dispatchQueued()
    return this
  }

  pause () {
    // A 'readable' listener (`for await` too) waits for what a paused stream reads ahead into its
    // buffer: for such a consumer the budget keeps going.
    if (!this._readableState?.readableListening) {
      this[kGate]?.setPaused(true)
      this[kGatePaused] = true
      // Nothing comes while paused, so a held chunk must not keep the process alive (a paused
      // core stream does not either): it waits without holding until resume().
      if (this[kPending] != null) this.#waitFor(false)
    }
    return super.pause()
  }

  resume () {
    this.#releaseBudget()
    const result = super.resume()
    // Flowing first, so what the resumed budget releases at once is emitted now.
    if (this[kManual]) dispatchQueued()
    return result
  }

  read (n) {
    // Core's pause() only stops flowing: a consumer that then reads gets data, so its read
    // releases the budget pause() held. Core's own read(0), which reads ahead into the buffer
    // while paused, does not.
    if (this[kGatePaused] && n !== 0) this.#releaseForReader()
    return super.read(n)
  }

  on (event, listener) {
    const result = super.on(event, listener)
    // A consumer of 'readable' (`for await` too) waits for what the stream reads ahead: see pause().
    if (event === 'readable' && this[kGatePaused]) this.#releaseForReader()
    return result
  }

  #releaseForReader () {
    this.#releaseBudget()
    if (this[kManual]) dispatchQueued()
  }

  #releaseBudget () {
    this[kGate]?.setPaused(false)
    this[kGatePaused] = false
    if (this[kPending] != null) this.#waitFor(true)
  }

  /**
   * Waits for grants; `active`: they may come without any JS call, so hold the process. Paused,
   * only a call on this stream resumes it: it waits weakly, so a paused throttle its user dropped
   * (a held chunk and all) is collected and leaves its group, as a paused core stream is
   * collected (helper-122 found 100 such members in a group for good).
   */
  #waitFor (active) {
    stopWaiting(this[kId])
    wait(this[kId], this, active && !this[kManual] && !this[kGatePaused], this[kGatePaused])
  }

  /**
   * `{ units, waitedMs, throttled, tokens, rate, burst, pending }`: units passed, time spent
   * waiting for tokens, how many chunks had to wait, tokens available now, the rate (per `per`
   * ms) and burst in force, units of the held chunk still to pass.
   */
  stats () {
    if (this[kFinalStats] !== null) return { ...this[kFinalStats] }
    return this.#statsNow()
  }

  #statsNow () {
    const s = this[kGate].stats()
    return { ...s, rate: ratePer(s.rate, this[kPer]), per: this[kPer] }
  }

  _destroy (err, callback) {
    // May run inside super() (an aborted `signal`), before the fields below exist.
    const gate = this[kGate]
    if (gate !== undefined && this[kFinalStats] === null) {
      const pending = this[kPending]
      this[kPending] = null
      try {
        this.#leave()
      } catch (closeErr) {
        err = err ?? nativeError(closeErr)
      }
      // The held chunk's write is answered, as core answers the writes queued behind it (with
      // ERR_STREAM_DESTROYED), so a producer waiting on write callbacks does not hang; so is one
      // core's Transform holds for a `_read` that will not come (./inflight.js).
      if (pending !== null) answerFromDestroy(this, pending.callback)
    }
    answerWriteInFlight(this)
    callback(err)
  }
}

// end() and uncork() as every sluice Writable side has them (lib/inflight.js).
mendEndAndUncork(Throttle)

/**
 * A chunk that may pass at once. Pushed, not handed to the callback: core's Transform drops an
 * `undefined` given there, while a chunk that waited is pushed, so an `undefined` item in object
 * mode went through or vanished depending on the tokens (it is counted in `units` either way).
 */
function passNow (stream, chunk, callback) {
  stream.push(chunk)
  callback()
}

// Core's Readable aliases addListener to its own on(), not to a subclass's.
Throttle.prototype.addListener = Throttle.prototype.on

/** A cost as a message shows it: a string or a BigInt must not read as the number it spells. */
function describeCost (cost) {
  if (typeof cost === 'string') return `the string '${cost}'`
  if (typeof cost === 'bigint') return `the BigInt ${cost}n`
  return safeString(cost)
}

function costFunction (cost) {
  if (cost === 'items') return () => 1
  if (cost === 'bytes') {
    // A byte chunk is a Buffer here (core decodes written strings); an object-mode string passes
    // on unchanged, so it costs its UTF-8 bytes, whatever encoding its write named.
    return (chunk) => {
      const n = itemBytes(chunk)
      if (n < 0) {
        const err = new TypeError(`Throttle with cost 'bytes' takes strings, Buffers, typed arrays and ArrayBuffers; got ${chunk === null ? 'null' : typeof chunk}. Use cost: 'items' or a function for objects`)
        err.code = 'ERR_INVALID_ARG_TYPE'
        throw err
      }
      return n
    }
  }
  return (chunk) => cost(chunk)
}

module.exports = { Throttle, ThrottleGroup, THROTTLE_OPTIONS }
