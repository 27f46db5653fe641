'use strict'

// BoundedBuffer: a Transform that decouples a fast producer from a slow consumer. It takes
// writes eagerly into a ring of at most `capacity` items and/or `capacityBytes` bytes and hands
// them downstream as fast as downstream reads; when the ring is full, `overflow` decides, at
// once and in `_write` (research/anchors.md §4.1, Akka's `buffer(size, OverflowStrategy)`):
//
//   'block'          hold the write (backpressure) until the ring has fallen to `lowWaterMark`
//   'drop-oldest'    drop the oldest buffered item, keep the arriving one   (Akka dropHead)
//   'drop-newest'    drop the newest buffered item, keep the arriving one   (Akka dropTail)
//   'drop-incoming'  drop the arriving item                                  (Akka dropNew)
//   'drop-all'       drop every buffered item, keep the arriving one        (Akka dropBuffer)
//   'error'          drop the arriving item ('overflow'), destroy the stream with
//                    ERR_SLUICE_BUFFER_OVERFLOW                             (Akka fail)
//
// The decision is synchronous: no feedback loop that could itself overflow (akka #25798).
//
// Where the items are:
//
//   write() ─► core writable buffer ─► _write ─► ring (this class) ─► push() ─► core readable buffer ─► read()
//              (writableHighWaterMark)            capacity/Bytes                 (readableHighWaterMark)
//
// Only the ring is "the buffer": its fill is `pressure`, its items are what overflow drops,
// what destroy() discards, what stats().buffered counts. An item pushed into the readable
// buffer has been emitted and is never dropped by overflow; if the stream is destroyed before
// the consumer read it, destroy() reports it too ('drop' reason 'unread', counted in
// `discarded` and `unread`, taken back out of `totalConsumed`). Set readableHighWaterMark: 0 for
// items to leave the ring only when the consumer asks.
//
// This class replaces Transform's `_write`/`_read` pair instead of implementing `_transform`:
// core's Transform calls `_transform` one chunk at a time and holds its callback while the
// readable buffer is full, which is exactly the coupling a buffer removes (in a drop mode the
// producer would be slowed by a slow reader). Core still owns everything else: the writable
// buffer and `write()`'s return value, 'drain', `final` → `_flush` → push(null), destroy.
//
// Invariants:
// * A `_write` callback runs last, after the chunk is pushed, queued or dropped: core may call
//   `_write` again from inside it (clearBuffer), and the order of items must hold.
// * In 'block' mode at most one chunk is held outside the ring (`kHeld`), with its callback:
//   while it is held core queues the writes behind it, and write() returns false once they reach
//   writableHighWaterMark. It enters the ring (and its callback runs) when the ring's fill has
//   fallen to `lowWaterMark` and it fits. In drop modes every callback runs at once: a full ring
//   never makes write() return false.
// * The ring holds at most `capacity` items and `capacityBytes` bytes, except that one item
//   larger than the whole capacity is taken when the ring is empty (it could never fit). Against
//   `capacityBytes` an empty item weighs 1 (`Ring.load`), so empty chunks are bounded in number;
//   the byte counters keep the real 0.
// * Nothing is lost silently: every item written is read, dropped (a 'drop' event, counted by
//   reason), discarded by destroy (a 'drop' event with reason 'unread' for what core's readable
//   buffer held, or that BoundedBufferStream's readable queue held, kDiscardUnread; 'destroy'
//   for the ring and a held write; counted as `discarded`) or still buffered:
//   totalProduced = totalConsumed + droppedItems + discarded + buffered, where
//   totalConsumed = emitted - unread.
// * `push()` only while the readable side asked for data (`kWant`: its last push returned true,
//   or `_read` ran since), never after destroy.
//
// Why JS and not Rust (the issue asks to use Rust where it helps; measured on the 2-core dev box,
// Node 20): a napi method call costs ~0.1–0.3 µs (0.30 µs for ManualClock.now()), a JS ring
// push + shift with byte accounting 7 ns, a whole core PassThrough write of a small chunk 42 ns.
// Byte accounting is an add and a compare on numbers that are exact to 2^53; holding byte chunks
// in Rust would mean a copy or a napi reference per chunk; object-mode items are JS values.
// Every native call on the per-chunk path would cost more than the whole JS path does, and the
// target is ≥ 0.9× a core PassThrough: a pure-JS ring for bytes and objects alike is the fastest
// and the simplest. Measured: see README "Performance", BoundedBuffer.

const { Transform } = require('node:stream')
const { SluiceError, asError } = require('./errors.js')
const { chunkBytes, itemBytes } = require('./bytes.js')
const { answerFromDestroy, completeInOrder, mendEndAndUncork, throwLater } = require('./inflight.js')
const {
  STREAM_OPTIONS,
  pickStreamOptions,
  rangeError,
  refuseWith,
  typeError,
  validateBoolean,
  validateFunction,
  validateInteger,
  validateNumber,
  validateOneOf,
  validateOptionsObject
} = require('./options.js')

const OVERFLOW = ['block', 'drop-oldest', 'drop-newest', 'drop-incoming', 'drop-all', 'error']
const BUFFER_OPTIONS = [
  'capacity', 'capacityBytes', 'overflow', 'lowWaterMark', 'priority', 'pressureLevels', 'pressureHysteresis',
  'objectMode', ...STREAM_OPTIONS
]
const MiB = 1024 * 1024
const DEFAULT_CAPACITY_ITEMS = 1024
const DEFAULT_CAPACITY_BYTES = MiB
const DEFAULT_LOW_WATER_MARK = 0.5
const DEFAULT_LEVELS = [0.3, 0.5, 0.8]
const DEFAULT_HYSTERESIS = 0.1
// Fills are ratios of integers; a level given as 0.3 must be reached by 3 of 10.
const EPSILON = 1e-9

const kRing = Symbol('kRing')
const kConfig = Symbol('kConfig')
const kSizeOf = Symbol('kSizeOf')
const kRank = Symbol('kRank')
const kWant = Symbol('kWant')
const kPumping = Symbol('kPumping')
const kHeld = Symbol('kHeld')
const kFlush = Symbol('kFlush')
const kLevel = Symbol('kLevel')
const kCount = Symbol('kCount')
const kDiscardUnread = Symbol('kDiscardUnread')
const kWantItems = Symbol('kWantItems')
// BoundedBufferStream's readable side has no read waiting (see kWantItems): nothing leaves the ring.
const kHeldBack = Symbol('kHeldBack')
const kUnreadTaken = Symbol('kUnreadTaken')
// Inside read(): a destroy() there leaves core's buffer to be counted once read() has taken its chunk.
const kReading = Symbol('kReading')
const kUnreadOwed = Symbol('kUnreadOwed')

/** An item's weight against capacityBytes: its bytes, at least 1. */
const weight = (size) => (size === 0 ? 1 : size)

/**
 * A growable circular queue of items with their sizes (and ranks, under a priority function).
 * `push`/`shift` are O(1); removing chosen items (priority shedding) is O(length).
 */
class Ring {
  constructor (ranked) {
    this.items = new Array(16)
    this.sizes = new Array(16).fill(0)
    this.ranks = ranked ? new Array(16).fill(0) : null
    this.mask = 15
    this.head = 0
    this.length = 0
    this.bytes = 0
    // What the items weigh against capacityBytes: their bytes, an empty one counting 1, so that
    // zero-length chunks are bounded in number too.
    this.load = 0
  }

  push (item, size, rank) {
    if (this.length > this.mask) this.#grow()
    const i = (this.head + this.length) & this.mask
    this.items[i] = item
    this.sizes[i] = size
    if (this.ranks !== null) this.ranks[i] = rank
    this.length++
    this.bytes += size
    this.load += weight(size)
  }

  /** The size of the item `shift()` would return. */
  headSize () {
    return this.sizes[this.head]
  }

  shift () {
    const i = this.head
    const item = this.items[i]
    this.items[i] = undefined
    this.bytes -= this.sizes[i]
    this.load -= weight(this.sizes[i])
    this.head = (i + 1) & this.mask
    this.length--
    return item
  }

  tailSize () {
    return this.sizes[(this.head + this.length - 1) & this.mask]
  }

  pop () {
    const i = (this.head + this.length - 1) & this.mask
    const item = this.items[i]
    this.items[i] = undefined
    this.bytes -= this.sizes[i]
    this.load -= weight(this.sizes[i])
    this.length--
    return item
  }

  sizeAt (k) {
    return this.sizes[(this.head + k) & this.mask]
  }

  rankAt (k) {
    return this.ranks[(this.head + k) & this.mask]
  }

  /** Removes every item, oldest first. */
  clear () {
    const out = new Array(this.length)
    for (let k = 0; k < out.length; k++) out[k] = this.shift()
    return out
  }

  /** Removes the items whose `marked[k]` is true (k counted from the oldest); returns them, oldest first. */
  removeMarked (marked) {
    const removed = []
    const n = this.length
    let kept = 0
    for (let k = 0; k < n; k++) {
      const from = (this.head + k) & this.mask
      if (marked[k]) {
        removed.push(this.items[from])
        this.bytes -= this.sizes[from]
        this.load -= weight(this.sizes[from])
        continue
      }
      const to = (this.head + kept) & this.mask
      this.items[to] = this.items[from]
      this.sizes[to] = this.sizes[from]
      if (this.ranks !== null) this.ranks[to] = this.ranks[from]
      kept++
    }
    for (let k = kept; k < n; k++) this.items[(this.head + k) & this.mask] = undefined
    this.length = kept
    return removed
  }

  #grow () {
    const size = (this.mask + 1) * 2
    const items = new Array(size)
    const sizes = new Array(size).fill(0)
    const ranks = this.ranks === null ? null : new Array(size).fill(0)
    for (let k = 0; k < this.length; k++) {
      const i = (this.head + k) & this.mask
      items[k] = this.items[i]
      sizes[k] = this.sizes[i]
      if (ranks !== null) ranks[k] = this.ranks[i]
    }
    this.items = items
    this.sizes = sizes
    this.ranks = ranks
    this.mask = size - 1
    this.head = 0
  }
}

function newCounters () {
  return {
    accepted: 0,
    acceptedBytes: 0,
    emitted: 0,
    emittedBytes: 0,
    dropped: { oldest: 0, newest: 0, all: 0, incoming: 0, priority: 0, overflow: 0 },
    droppedItems: 0,
    droppedBytes: 0,
    discarded: 0,
    discardedBytes: 0,
    unread: 0,
    unreadBytes: 0,
    peakBuffered: 0,
    peakBufferedBytes: 0,
    backpressureEvents: 0
  }
}

/**
 * A fraction: in [0, 1) by default, [0, 1] with `closed`, and above `above` (instead of at least
 * 0) when given. The one message states the whole range, whichever bound the value missed.
 */
function validateFraction (opts, key, fallback, { closed = false, above, aboveWhat = '' } = {}) {
  const value = opts[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw typeError(`options.${key}`, 'a number', value)
  const low = above === undefined ? value >= 0 : value > above
  if (low && (closed ? value <= 1 : value < 1)) return value
  const range = closed ? '<= 1' : '< 1'
  throw rangeError(`options.${key}`, above === undefined ? `>= 0 and ${range}` : `> ${above}${aboveWhat} and ${range}`, value)
}

function validateLevels (opts) {
  const levels = opts.pressureLevels
  if (levels === undefined) return DEFAULT_LEVELS
  if (!Array.isArray(levels)) throw typeError('options.pressureLevels', 'an array of numbers', levels)
  // A plain loop, not forEach: a hole ([0.5, , 0.9], new Array(2)) is an undefined level, refused.
  const out = []
  for (let i = 0; i < levels.length; i++) {
    const key = `pressureLevels[${i}]`
    const level = levels[i]
    if (typeof level !== 'number') throw typeError(`options.${key}`, 'a number', level)
    const previous = i === 0 ? 0 : out[i - 1]
    out.push(validateFraction({ [key]: level }, key, undefined, { closed: true, above: previous, aboveWhat: i === 0 ? '' : ' (the previous level)' }))
  }
  return out
}

/** The bytes of an object-mode item, for capacityBytes (lib/bytes.js: a string's UTF-8 bytes). */
function capacityBytesOf (item) {
  const n = itemBytes(item)
  if (n >= 0) return n
  const err = new TypeError(`BoundedBuffer with capacityBytes in object mode measures strings, Buffers, typed arrays, DataViews, ArrayBuffers and SharedArrayBuffers; got ${item === null ? 'null' : typeof item}. Use capacity (items) for other values`)
  err.code = 'ERR_INVALID_ARG_TYPE'
  throw err
}

const bufferLength = (chunk) => chunk.length
const noBytes = () => 0

/**
 * The items in core's readable buffer, oldest first (what was pushed and not yet read; a chunk
 * partly read is its unread rest), or null if core lays the buffer out in a way this does not
 * know. Two layouts exist among the supported Nodes: an array read from `bufferIndex` (the read
 * slots are nulled; Node 20.10+, 22, 24) and the older BufferList, a linked list of
 * `{ data, next }` from `head`. Whatever is found must agree with `length` (items in object
 * mode, bytes or characters otherwise), or it is not trusted.
 */
function unreadItems (state) {
  const buffer = state?.buffer
  let items = null
  if (Array.isArray(buffer)) {
    const from = Number.isInteger(state.bufferIndex) ? state.bufferIndex : 0
    items = buffer.slice(from)
  } else if (buffer !== null && typeof buffer === 'object' && 'head' in buffer) {
    items = []
    for (let entry = buffer.head; entry; entry = entry.next) items.push(entry.data)
  }
  if (items === null) return null
  let length = 0
  for (const item of items) {
    if (state.objectMode) length++
    else if (typeof item === 'string' || ArrayBuffer.isView(item)) length += item.length
    else return null
  }
  return length === state.length ? items : null
}

class BoundedBuffer extends Transform {
  constructor (options) {
    const opts = validateOptionsObject(options, 'BoundedBuffer', BUFFER_OPTIONS)
    const objectMode = validateBoolean(opts, 'objectMode', false)
    const neither = opts.capacity === undefined && opts.capacityBytes === undefined
    const capacity = validateInteger(opts, 'capacity', 1, Number.MAX_SAFE_INTEGER,
      neither && objectMode ? DEFAULT_CAPACITY_ITEMS : Infinity, { allowInfinity: true })
    const capacityBytes = validateInteger(opts, 'capacityBytes', 1, Number.MAX_SAFE_INTEGER,
      neither && !objectMode ? DEFAULT_CAPACITY_BYTES : Infinity, { allowInfinity: true })
    if (capacity === Infinity && capacityBytes === Infinity) {
      // Named after the option the user gave (capacityBytes: Infinity alone leaves capacity unset).
      if (opts.capacity === undefined) {
        throw rangeError('options.capacityBytes', 'finite, or options.capacity finite (a bounded buffer needs a bound)', capacityBytes)
      }
      throw rangeError('options.capacity', 'finite, or options.capacityBytes finite (a bounded buffer needs a bound)', capacity)
    }
    const overflow = validateOneOf(opts, 'overflow', OVERFLOW, 'block')
    const dropping = overflow.startsWith('drop-')
    if (overflow !== 'block') refuseWith(opts, 'lowWaterMark', `overflow '${overflow}' (it is when a blocked producer resumes)`)
    const lowWaterMark = validateFraction(opts, 'lowWaterMark', DEFAULT_LOW_WATER_MARK)
    const priority = validateFunction(opts, 'priority')
    if (!dropping) refuseWith(opts, 'priority', `overflow '${overflow}' (it chooses what a dropping strategy drops)`)
    const levels = validateLevels(opts)
    if (levels.length === 0) refuseWith(opts, 'pressureHysteresis', "pressureLevels [] (no level to leave: 'pressure' is off)")
    const hysteresis = validateNumber(opts, 'pressureHysteresis', {
      min: 0, inclusive: true, fallback: levels.length > 0 ? Math.min(DEFAULT_HYSTERESIS, levels[0] / 2) : 0
    })
    if (levels.length > 0 && hysteresis >= levels[0]) {
      throw rangeError('options.pressureHysteresis', `>= 0 and < the lowest pressure level (${levels[0]})`, hysteresis)
    }

    super({ ...pickStreamOptions(opts), objectMode })

    this[kConfig] = { overflow, capacity, capacityBytes, lowWaterMark, levels, hysteresis, objectMode }
    this[kRing] = new Ring(priority !== undefined)
    this[kSizeOf] = !objectMode ? bufferLength : capacityBytes !== Infinity ? capacityBytesOf : noBytes
    this[kRank] = priority ?? null
    // Core's Readable asks for data while it holds less than its highWaterMark: with 0 it holds
    // nothing until read.
    this[kWant] = this.readableHighWaterMark > 0
    this[kHeldBack] = false
    this[kPumping] = false
    this[kHeld] = null
    this[kUnreadTaken] = false
    this[kReading] = false
    this[kUnreadOwed] = false
    this[kFlush] = null
    this[kLevel] = 0
    this[kCount] = newCounters()
  }

  _write (chunk, encoding, callback) {
    let size, rank
    try {
      size = this[kSizeOf](chunk, encoding)
      rank = this[kRank] === null ? 0 : rankOf(this[kRank], chunk)
    } catch (err) {
      callback(err)
      return
    }
    const ring = this[kRing]
    const count = this[kCount]
    if (this.destroyed) {
      // Destroyed by the priority function (or a Proxy's trap while the chunk was measured):
      // _destroy has run, so the chunk is thrown away with the stream as a held write's is
      // (counted as accepted and discarded, in a 'destroy' drop), and its write completes
      // without an error, as core completes the write in flight of a destroyed stream.
      count.accepted++
      count.acceptedBytes += size
      const thrown = this.#throwAway([chunk], size)
      if (thrown !== null && this.errored !== thrown) throwLater(thrown)
      callback()
      return
    }
    if (ring.length === 0 && this[kWant] && !this[kHeldBack]) {
      // The consumer keeps up: straight through, as a PassThrough would.
      count.accepted++
      count.acceptedBytes += size
      count.emitted++
      count.emittedBytes += size
      try {
        this[kWant] = this.push(chunk)
      } finally {
        callback()
      }
      return
    }
    if (this.#fits(size)) {
      this.#admit(chunk, size, rank)
      try {
        this.#settle()
      } finally {
        callback()
      }
      return
    }
    const overflow = this[kConfig].overflow
    if (overflow === 'block') {
      count.backpressureEvents++
      this[kHeld] = { chunk, size, rank, callback }
      return
    }
    if (overflow === 'error') {
      // The arriving item is neither buffered nor emitted: it is dropped (reason 'overflow'),
      // counted and announced before the error fails the stream, and carried by the error.
      const err = this.#overflowError(chunk, size)
      this.#count('overflow', [chunk], size)
      this.#announce('drop', { reason: 'overflow', items: [chunk], bytes: size })
      callback(err)
      return
    }
    const drops = this[kRank] === null ? this.#shed(overflow, size) : this.#shedByPriority(overflow, size, rank)
    if (drops.incoming) {
      this.#count('incoming', [chunk], size)
    } else {
      this.#admit(chunk, size, rank)
    }
    try {
      if (drops.items.length > 0) this.#announce('drop', { reason: drops.reason, items: drops.items, bytes: drops.bytes })
      if (drops.incoming) this.#announce('drop', { reason: 'incoming', items: [chunk], bytes: size })
      if (!this.destroyed) this.#settle()
    } finally {
      callback()
    }
  }

  _read () {
    this[kWant] = true
    this.#settle()
  }

  read (n) {
    // destroy() reported what core's readable buffer held as thrown away ('unread'): core would
    // still hand it out, and the same item would be both discarded and read.
    if (this[kUnreadTaken]) return null
    // Destroyed inside this read (by a listener of what its `_read` announced, a falling
    // 'pressure'), core still takes its chunk after `_read` and hands it out (emitting 'data' in
    // flowing mode), so what it held is counted unread only once it has: the chunk is read, the
    // rest is reported, never both.
    this[kReading] = true
    let chunk
    try {
      chunk = super.read(n)
    } finally {
      this[kReading] = false
    }
    if (this[kUnreadOwed]) {
      this[kUnreadOwed] = false
      const unread = this.#takeUnread()
      this[kUnreadTaken] = unread !== null
      // The destroy is over and its error settled: a listener that throws here cannot fail the
      // stream any more, and its throw is an uncaught exception (as at a Web face's teardown).
      const thrown = unread === null ? null : this.#announce('drop', unread)
      if (thrown !== null) throwLater(thrown)
    }
    return chunk
  }

  get readableLength () {
    // And says it holds none, or `while (s.readableLength) s.read()` would never end.
    return this[kUnreadTaken] ? 0 : super.readableLength
  }

  _flush (callback) {
    if (this[kRing].length === 0) {
      callback()
      return
    }
    this[kFlush] = callback
    this.#settle()
  }

  _destroy (err, callback) {
    const ring = this[kRing]
    // May run inside super() (an aborted `signal`), before the fields exist.
    if (ring === undefined) {
      callback(err)
      return
    }
    const held = this[kHeld]
    this[kHeld] = null
    this[kFlush] = null
    let bytes = ring.bytes
    const items = ring.clear()
    // The ring is empty for good: the level in force is 0, announced by no event (nothing is
    // announced after destroy but what it discards).
    this[kLevel] = 0
    const unread = this[kReading] ? null : this.#takeUnread()
    this[kUnreadOwed] = this[kReading]
    this[kUnreadTaken] = unread !== null
    if (held !== null) {
      // Its write is answered below (as core answers those queued behind it) and the chunk is
      // reported with the buffered ones: it was written, and it is thrown away.
      this[kCount].accepted++
      this[kCount].acceptedBytes += held.size
      items.push(held.chunk)
      bytes += held.size
    }
    // A throwing listener cannot stop the destroy, nor the other announcement: with no error of
    // its own, the stream fails with the listener's (the first error wins, as everywhere).
    let thrown = unread === null ? null : this.#announce('drop', unread)
    if (items.length > 0) {
      const alsoThrown = this.#throwAway(items, bytes)
      thrown ??= alsoThrown
    }
    if (held !== null) answerFromDestroy(this, held.callback)
    callback(err ?? thrown ?? null)
  }

  /** Counts `items` (of `bytes`) as discarded by destroy(); returns their 'drop' listener's error, or null. */
  #throwAway (items, bytes) {
    const count = this[kCount]
    count.discarded += items.length
    count.discardedBytes += bytes
    return this.#announce('drop', { reason: 'destroy', items, bytes })
  }

  /**
   * Emits a 'drop' or 'pressure' event, the buffer's state already updated. A listener that
   * throws destroys the stream with what it threw (a non-Error wrapped, ERR_SLUICE_LISTENER)
   * instead of throwing out of write(), read() or destroy(): the same wherever the event fires,
   * and the stream never stalls half-updated. Returns the error, or null.
   */
  #announce (event, payload) {
    if (this.listenerCount(event) === 0) return null
    try {
      this.emit(event, payload)
      return null
    } catch (thrown) {
      const err = asError(thrown, 'ERR_SLUICE_LISTENER', `a '${event}' listener`)
      // Inside _destroy the caller passes it on; elsewhere it fails the stream now.
      if (!this.destroyed) this.destroy(err)
      return err
    }
  }

  /**
   * Counts what is still in core's readable buffer at destroy: emitted, never read, thrown away
   * with the stream. Returns the 'drop' to announce, or null if there is nothing.
   */
  #takeUnread () {
    const state = this._readableState
    const n = this.readableLength
    if (n === 0) return null
    const items = unreadItems(state)
    if (items !== null) return this.#countUnread(items, items.length, this.#bytesOf(items, state.encoding ?? 'utf8'))
    // A core layout this does not know: the count only (items in object mode; in byte mode the
    // bytes, and no items, since how they were cut is unknown).
    const objectMode = this[kConfig].objectMode
    return this.#countUnread([], objectMode ? n : 0, objectMode ? 0 : n)
  }

  /**
   * Items emitted and then held past this stream (BoundedBufferStream's readable queue) that the
   * consumer never read: counted and announced as the unread items of core's readable buffer
   * are. Called by whoever held them once it throws them away, even after this stream closed.
   * Returns a listener's error, or null.
   */
  [kDiscardUnread] (items) {
    if (items.length === 0) return null
    return this.#announce('drop', this.#countUnread(items, items.length, this.#bytesOf(items, 'utf8')))
  }

  /**
   * BoundedBufferStream's readable side says whether a read waits for an item (true) or its
   * queue is full (false). Its readableHighWaterMark is 0, so that an item leaves the ring only
   * for a read; but the core read() that takes an item for the Web side also calls `_read` when
   * it empties core's buffer, and the next item written would then go straight past the ring
   * into core's buffer, where overflow cannot reach it (a reader that had read once got 0, 28,
   * 29 of 0…29 with drop-oldest and capacity 2, not 28, 29). Not wanted, items stay in the
   * ring whatever core asks (its `_read` is noted in kWant); wanted again, what core asked for
   * is pushed now.
   */
  [kWantItems] (want) {
    this[kHeldBack] = !want
    if (want) this.#settle()
  }

  #bytesOf (items, encoding) {
    const objectMode = this[kConfig].objectMode
    const sizeOf = this[kSizeOf]
    let bytes = 0
    for (const item of items) {
      bytes += objectMode ? sizeOf(item) : chunkBytes(item, encoding)
    }
    return bytes
  }

  /** Moves `found` items of `bytes` from consumed to unread (and discarded); returns their 'drop'. */
  #countUnread (items, found, bytes) {
    const count = this[kCount]
    count.unread += found
    count.unreadBytes += bytes
    count.discarded += found
    count.discardedBytes += bytes
    return { reason: 'unread', items, bytes }
  }

  /**
   * The buffer's counters, all from one moment. `totalProduced` = `totalConsumed` +
   * `droppedItems` + `discarded` + `buffered`.
   */
  stats () {
    const c = this[kCount]
    const { overflow, capacity, capacityBytes } = this[kConfig]
    const ring = this[kRing]
    const level = this[kLevel]
    return {
      overflow,
      capacity,
      capacityBytes,
      buffered: ring.length,
      bufferedBytes: ring.bytes,
      pressure: this.#fill(),
      pressureLevel: level === 0 ? 0 : this[kConfig].levels[level - 1],
      peakBuffered: c.peakBuffered,
      peakBufferedBytes: c.peakBufferedBytes,
      accepted: c.accepted,
      acceptedBytes: c.acceptedBytes,
      emitted: c.emitted,
      emittedBytes: c.emittedBytes,
      dropped: { ...c.dropped },
      droppedBytes: c.droppedBytes,
      discarded: c.discarded,
      discardedBytes: c.discardedBytes,
      unread: c.unread,
      unreadBytes: c.unreadBytes,
      // The counters hand-written flow controllers keep, under their usual names.
      // Every write that reached the buffer: taken in, or dropped on arrival.
      totalProduced: c.accepted + c.dropped.incoming + c.dropped.overflow,
      // Read by the consumer: an item in core's readable buffer is the consumer's while the stream
      // lives; if it is destroyed before it is read, it is `unread` (and discarded).
      totalConsumed: c.emitted - c.unread,
      backpressureEvents: c.backpressureEvents,
      droppedItems: c.droppedItems,
      maxBufferSize: c.peakBuffered
    }
  }

  /** The ring's fill, 0 to 1 of the tighter capacity. */
  #fill () {
    const ring = this[kRing]
    const { capacity, capacityBytes } = this[kConfig]
    const items = ring.length / capacity
    const bytes = ring.load / capacityBytes
    return Math.min(1, items > bytes ? items : bytes)
  }

  #fits (size) {
    const ring = this[kRing]
    const { capacity, capacityBytes } = this[kConfig]
    return ring.length === 0 || (ring.length < capacity && ring.load + weight(size) <= capacityBytes)
  }

  #admit (chunk, size, rank) {
    const ring = this[kRing]
    const count = this[kCount]
    ring.push(chunk, size, rank)
    count.accepted++
    count.acceptedBytes += size
    if (ring.length > count.peakBuffered) count.peakBuffered = ring.length
    if (ring.bytes > count.peakBufferedBytes) count.peakBufferedBytes = ring.bytes
  }

  #count (reason, items, bytes) {
    const count = this[kCount]
    count.dropped[reason] += items.length
    count.droppedItems += items.length
    count.droppedBytes += bytes
  }

  /** Makes room for an item of `size` by the strategy alone; the items are counted, not yet announced. */
  #shed (overflow, size) {
    const ring = this[kRing]
    if (overflow === 'drop-incoming') return { incoming: true, items: [], reason: 'incoming', bytes: 0 }
    const before = ring.bytes
    let items
    let reason
    if (overflow === 'drop-all') {
      reason = 'all'
      items = ring.clear()
    } else if (overflow === 'drop-oldest') {
      reason = 'oldest'
      items = []
      while (!this.#fits(size)) items.push(ring.shift())
    } else {
      reason = 'newest'
      items = []
      while (!this.#fits(size)) items.push(ring.pop())
      items.reverse()
    }
    const bytes = before - ring.bytes
    this.#count(reason, items, bytes)
    return { incoming: false, items, reason, bytes }
  }

  /**
   * Priority shedding: the victims are buffered items of lower priority than the arriving one
   * (or equal, except under 'drop-incoming'), lowest first; among equals, the strategy's own
   * victim (oldest first for 'drop-oldest', newest first otherwise). If they cannot make room,
   * the arriving item is dropped instead and nothing buffered is. 'drop-all' drops all of them
   * at once. O(buffered) per victim.
   */
  #shedByPriority (overflow, size, rank) {
    const ring = this[kRing]
    const { capacity, capacityBytes } = this[kConfig]
    const n = ring.length
    const marked = new Array(n).fill(false)
    let length = n
    let load = ring.load
    const fits = () => length === 0 || (length < capacity && load + weight(size) <= capacityBytes)
    if (overflow === 'drop-all') {
      for (let k = 0; k < n; k++) {
        if (ring.rankAt(k) <= rank) {
          marked[k] = true
          length--
          load -= weight(ring.sizeAt(k))
        }
      }
    } else {
      const strict = overflow === 'drop-incoming'
      const oldestFirst = overflow === 'drop-oldest'
      while (!fits()) {
        let best = -1
        let bestRank = Infinity
        for (let k = 0; k < n; k++) {
          if (marked[k]) continue
          const r = ring.rankAt(k)
          // The first candidate counts whatever its rank: with every rank Infinity, 'drop-oldest'
          // (ties to the first) found no victim and dropped the incoming item instead.
          if (best < 0 || r < bestRank || (!oldestFirst && r === bestRank)) {
            best = k
            bestRank = r
          }
        }
        if (best < 0 || bestRank > rank || (strict && bestRank === rank)) break
        marked[best] = true
        length--
        load -= weight(ring.sizeAt(best))
      }
    }
    if (!fits()) return { incoming: true, items: [], reason: 'priority', bytes: 0 }
    const before = ring.bytes
    const items = ring.removeMarked(marked)
    const freed = before - ring.bytes
    this.#count('priority', items, freed)
    return { incoming: false, items, reason: 'priority', bytes: freed }
  }

  /**
   * Moves items downstream while the consumer wants them, then lets a held write in (hysteresis),
   * announces the pressure level, and ends the flush once the ring is empty. Re-entrant calls
   * (from a 'data' listener, or a write made from a held write's callback) leave the pushing to
   * the outer loop.
   */
  #settle () {
    if (this[kPumping]) return
    const ring = this[kRing]
    const count = this[kCount]
    const config = this[kConfig]
    this[kPumping] = true
    try {
      for (;;) {
        while (this[kWant] && !this[kHeldBack] && ring.length > 0 && !this.destroyed) {
          const size = ring.headSize()
          const item = ring.shift()
          count.emitted++
          count.emittedBytes += size
          this[kWant] = this.push(item)
        }
        const held = this[kHeld]
        if (held === null || this.destroyed || this.#fill() > config.lowWaterMark + EPSILON || !this.#fits(held.size)) break
        this[kHeld] = null
        this.#admit(held.chunk, held.size, held.rank)
        this.#pressure()
        // Core calls _write again from here for the writes queued behind it (each settles on
        // its own), then emits 'drain' once they all got in; this loop then carries on pushing.
        // The held write's callback comes after those of the writes before it (completeInOrder).
        this[kPumping] = false
        completeInOrder(this, held.callback)
        this[kPumping] = true
      }
    } finally {
      this[kPumping] = false
    }
    this.#pressure()
    if (this[kFlush] !== null && ring.length === 0 && !this.destroyed) {
      const flush = this[kFlush]
      this[kFlush] = null
      flush()
    }
  }

  /** Emits 'pressure' when the fill has crossed a level: up at the level, down below it minus the hysteresis. */
  #pressure () {
    const { levels, hysteresis } = this[kConfig]
    if (levels.length === 0 || this.destroyed) return
    const fill = this.#fill()
    const previous = this[kLevel]
    let level = previous
    while (level < levels.length && fill >= levels[level] - EPSILON) level++
    while (level > 0 && fill < levels[level - 1] - hysteresis - EPSILON) level--
    if (level === previous) return
    this[kLevel] = level
    this.#announce('pressure', {
      level: level === 0 ? 0 : levels[level - 1],
      previous: previous === 0 ? 0 : levels[previous - 1],
      pressure: fill,
      rising: level > previous
    })
  }

  #overflowError (item, size) {
    const ring = this[kRing]
    const { capacity, capacityBytes } = this[kConfig]
    const held = capacity === Infinity ? `${ring.bytes} of ${capacityBytes} bytes` : capacityBytes === Infinity
      ? `${ring.length} of ${capacity} items`
      : `${ring.length} of ${capacity} items (${ring.bytes} of ${capacityBytes} bytes)`
    return new SluiceError('ERR_SLUICE_BUFFER_OVERFLOW',
      `BoundedBuffer overflow (overflow: 'error'): an item${this[kConfig].objectMode ? '' : ` of ${size} bytes`} arrived with ${held} buffered`,
      // `size` in the capacity's unit: bytes, or 1 (one item) in object mode without capacityBytes.
      { capacity, capacityBytes, buffered: ring.length, bufferedBytes: ring.bytes, size: this[kSizeOf] === noBytes ? 1 : size, item })
  }
}

// end() and uncork() as every sluice Writable side has them (lib/inflight.js).
mendEndAndUncork(BoundedBuffer)

function rankOf (priority, item) {
  let rank
  try {
    rank = priority(item)
  } catch (err) {
    throw asError(err, 'ERR_SLUICE_PRIORITY', 'options.priority')
  }
  if (typeof rank !== 'number' || Number.isNaN(rank)) {
    throw new SluiceError('ERR_SLUICE_PRIORITY', `BoundedBuffer: options.priority must return a number; it returned ${typeof rank === 'number' ? 'NaN' : typeof rank}`, { priority: rank })
  }
  return rank
}

module.exports = { BoundedBuffer, BUFFER_OPTIONS, kDiscardUnread, kWantItems }
