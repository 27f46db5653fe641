/// <reference types="node" />
import { PassThrough, Transform, TransformOptions, Writable, WritableOptions } from 'node:stream'
import type { MeterStream, MonitoredWritableStream } from './lib/web.js'
import type { ManualClock } from './lib/testing.js'

/**
 * JSON `null` as a stream item: what a `null` line becomes in NdjsonParser's `'values'` output (unless `nullValue` says
 * otherwise), and what to write to NdjsonStringifier for a `null` line (`write(null)` is refused by Node). `Symbol.for('sluice.null')`.
 */
export declare const NULL: unique symbol

/** Where an invalid line is and what is wrong with it. */
export interface InvalidLine {
  /** `ERR_SLUICE_INVALID_JSON` | `ERR_SLUICE_INVALID_UTF8` | `ERR_SLUICE_LINE_TOO_LONG` | `ERR_SLUICE_BLANK_LINE` */
  code: string
  /** 1-based physical line number (blank lines count). */
  line: number
  /** Byte offset of the line's first byte in the stream (3 for line 1 after a UTF-8 BOM, which is not part of the line). */
  offset: number
  /** The start of the line (its first 64 bytes, then `…` when cut), decoded leniently. */
  excerpt: string
  /** What is wrong, e.g. `unexpected 'x' at byte 5`. */
  reason: string
}

/** One value with its position, for `output: 'envelopes'`. */
export interface Envelope<T = unknown> {
  line: number
  offset: number
  value: T
}

export interface NdjsonParserOptions extends Pick<TransformOptions, 'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark' | 'signal'> {
  /**
   * What each `push` carries. `'values'`: one parsed value; `'batches'`: an array of values;
   * `'lines'`: the raw line as a Buffer (validated, not parsed); `'envelopes'`: `{ line, offset, value }`.
   * Default: `'values'`.
   */
  output?: 'values' | 'batches' | 'lines' | 'envelopes'
  /** `'error'` destroys the stream with an `NdjsonError`; `'skip'` drops the line, counts it and emits `'invalid'`. Default: `'error'`. */
  onInvalid?: 'error' | 'skip'
  /** In skip mode, how many invalid lines are tolerated before the stream fails with `ERR_SLUICE_TOO_MANY_INVALID`; refused with `onInvalid: 'error'`. Default: `Infinity`. */
  maxInvalid?: number
  /** Blank and whitespace-only lines: `'skip'` (counted in `stats().blankLines`) or `'error'` (an invalid line). Default: `'skip'`. */
  blankLines?: 'skip' | 'error'
  /** Longest line accepted, in bytes without the terminator; longer lines are invalid and never buffered beyond this. Default: 16 MiB. */
  maxLineBytes?: number
  /** What a `null` line becomes in `'values'` output (anything but `null`; `undefined` means the default); refused with another `output`. Default: `NULL`. */
  nullValue?: unknown
  /** As in `JSON.parse`, applied to each line. Not with `output: 'lines'`. */
  reviver?: (this: any, key: string, value: any) => any
  /**
   * Keep only the lines that match, decided on the worker thread before any JS object exists:
   * a string such as `'.type == "PushEvent" and .payload.size > 2'`, or the object form
   * (`{ path: 'type', eq: 'PushEvent' }`, `{ and: [...] }`, …). See the README for the semantics.
   * With `output: 'lines'` it filters the raw lines.
   */
  where?: string | NdjsonPredicate
  /** Keep only these paths of each value (`['id', 'user.login', 'items[*].sku']`), nested as in the input. With `output: 'lines'`, each projection's JSON text as a Buffer (numbers and escapes as in the input). */
  select?: readonly string[]
}

/** A JSON scalar an operator compares with. */
export type NdjsonScalar = string | number | boolean | null

/** The operators of `where`'s object form, each with what it compares with. */
export interface NdjsonOperators {
  eq: NdjsonScalar
  ne: NdjsonScalar
  lt: number | string
  lte: number | string
  gt: number | string
  gte: number | string
  in: readonly NdjsonScalar[]
  exists: boolean
  startsWith: string
  endsWith: string
  contains: NdjsonScalar
  matches: string
}

/** Exactly one key of `T`: the others, and those of `Others`, absent (the parser refuses two). */
type OneKeyOf<T, Others extends PropertyKey = never> = {
  [K in keyof T]: { [P in K]: T[P] } & { [P in Exclude<keyof T, K> | Others]?: never }
}[keyof T]

/** The object form of `where`: `and`, `or`, `not` or a `path` with exactly one operator, each alone. */
export type NdjsonPredicate =
  | OneKeyOf<{ and: readonly NdjsonPredicate[]; or: readonly NdjsonPredicate[]; not: NdjsonPredicate }, 'path' | keyof NdjsonOperators>
  | ({ path: string } & OneKeyOf<NdjsonOperators, 'and' | 'or' | 'not'>)

export interface NdjsonParserStats {
  lines: number
  bytes: number
  values: number
  blankLines: number
  invalidLines: number
  longestLine: number
  /** With `where` or `select`: valid lines that passed `where` (all of them without one). */
  matchedLines?: number
  /** With `where` or `select`: valid lines that `where` dropped (`values = matchedLines + filteredLines`). */
  filteredLines?: number
}

/** NDJSON bytes in, JS values out; a core `stream.Transform`. */
export declare class NdjsonParser extends Transform {
  constructor(options?: NdjsonParserOptions)
  /** Counters of what has been processed; still available after the stream ended. */
  stats(): NdjsonParserStats
  // `'invalid'` typed on every listener method; other events as on any Transform.
  addListener(event: 'invalid', listener: (info: InvalidLine) => void): this
  addListener(event: string | symbol, listener: (...args: any[]) => void): this
  on(event: 'invalid', listener: (info: InvalidLine) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: 'invalid', listener: (info: InvalidLine) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
  prependListener(event: 'invalid', listener: (info: InvalidLine) => void): this
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this
  prependOnceListener(event: 'invalid', listener: (info: InvalidLine) => void): this
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this
  removeListener(event: 'invalid', listener: (info: InvalidLine) => void): this
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this
  off(event: 'invalid', listener: (info: InvalidLine) => void): this
  off(event: string | symbol, listener: (...args: any[]) => void): this
}

export interface NdjsonStringifierOptions extends Pick<TransformOptions, 'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark' | 'signal'> {
  /** As in `JSON.stringify`: a function, or the property names to keep. `null` means none. */
  // String and Number objects too, as JSON.stringify takes them in a replacer array.
  // oxlint-disable-next-line typescript/no-wrapper-object-types
  replacer?: ((this: any, key: string, value: any) => any) | ReadonlyArray<string | number | String | Number> | null
  /** What ends every line, the last one included. Default: `'\n'`. */
  newline?: '\n' | '\r\n'
  /**
   * A value with no JSON text (`undefined`, a function, a symbol other than `NULL`, a circular structure, a `BigInt`,
   * a `toJSON()`/replacer that gives `undefined` or throws): `'error'` fails the stream with `ERR_SLUICE_UNSERIALIZABLE`;
   * `'skip'` counts it and emits `'skip'`. Default: `'error'`.
   */
  onUnserializable?: 'error' | 'skip'
}

/** A value NdjsonStringifier could not write as a line. */
export interface UnserializableValue {
  /** `ERR_SLUICE_UNSERIALIZABLE` */
  code: string
  /** 0-based position of the value among every value written. */
  index: number
  /** Why, e.g. `JSON.stringify threw: Do not know how to serialize a BigInt`. */
  reason: string
  value: unknown
}

export interface NdjsonStringifierStats {
  /** Values written downstream, one line each. */
  values: number
  /** Bytes pushed downstream. */
  bytes: number
  /** Values skipped under `onUnserializable: 'skip'`. */
  skipped: number
  /** Buffers pushed (each a whole number of lines: 64 KiB (UTF-8 bytes), or the readableHighWaterMark set if smaller, + one line). */
  batches: number
  /** Values whose write completed but whose line `destroy()` threw away before it was pushed (or enqueued, on the Web face). */
  discarded: number
}

/** JS values in (write `NULL` for a JSON `null`), NDJSON bytes out in batches of whole lines; a core `stream.Transform`. */
export declare class NdjsonStringifier extends Transform {
  constructor(options?: NdjsonStringifierOptions)
  /** Counters of what has gone downstream; still available after the stream ended. */
  stats(): NdjsonStringifierStats
  addListener(event: 'skip', listener: (info: UnserializableValue) => void): this
  addListener(event: string | symbol, listener: (...args: any[]) => void): this
  on(event: 'skip', listener: (info: UnserializableValue) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: 'skip', listener: (info: UnserializableValue) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
  prependListener(event: 'skip', listener: (info: UnserializableValue) => void): this
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this
  prependOnceListener(event: 'skip', listener: (info: UnserializableValue) => void): this
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this
  removeListener(event: 'skip', listener: (info: UnserializableValue) => void): this
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this
  off(event: 'skip', listener: (info: UnserializableValue) => void): this
  off(event: string | symbol, listener: (...args: any[]) => void): this
}

/**
 * Every error sluice emits has a stable `code`. Some codes carry details as properties of the error (the README's
 * section of the component says which); they are declared here, absent on the errors of other codes.
 */
export declare class SluiceError extends Error {
  /** `details` become properties of the error (`cause` among them). */
  constructor(code: string, message?: string, details?: object)
  code: string
  /** `ERR_SLUICE_BUFFER_OVERFLOW`: the buffer's `capacity` (items; `Infinity` when unbounded). */
  capacity?: number
  /** `ERR_SLUICE_BUFFER_OVERFLOW`: the buffer's `capacityBytes` (`Infinity` when unbounded). */
  capacityBytes?: number
  /** `ERR_SLUICE_BUFFER_OVERFLOW`: items buffered when the item arrived. */
  buffered?: number
  /** `ERR_SLUICE_BUFFER_OVERFLOW`: bytes buffered when the item arrived. */
  bufferedBytes?: number
  /** `ERR_SLUICE_BUFFER_OVERFLOW`: the item refused. */
  item?: unknown
  /** `ERR_SLUICE_BUFFER_OVERFLOW`: its size in the capacity's unit (bytes, or 1 for an item). */
  size?: number
  /** `ERR_SLUICE_PRIORITY`: what `options.priority` returned. */
  priority?: unknown
  /** `ERR_SLUICE_RATE_EXCEEDED`, `ERR_SLUICE_COST_EXCEEDS_BURST`, `ERR_SLUICE_INVALID_COST`: the chunk's cost (as `options.cost` gave it). */
  cost?: unknown
  /** `ERR_SLUICE_RATE_EXCEEDED`, `ERR_SLUICE_COST_EXCEEDS_BURST`: the throttle's burst (`ERR_SLUICE_SHARED_GROUP_MISMATCH`: the existing group's). */
  burst?: number
  /** `ERR_SLUICE_RATE_EXCEEDED`, `ERR_SLUICE_COST_EXCEEDS_BURST`: the throttle's rate, per `per` ms (`ERR_SLUICE_SHARED_GROUP_MISMATCH`: the existing group's, per second). */
  rate?: number
  /** `ERR_SLUICE_RATE_EXCEEDED`, `ERR_SLUICE_COST_EXCEEDS_BURST`: the throttle's `per`. */
  per?: number
  /** `ERR_SLUICE_RATE_EXCEEDED`: the tokens there were. */
  tokens?: number
  /** `ERR_SLUICE_SHARED_GROUP_MISMATCH`: the shared group's name (its `rate`, per second, `burst` and `initialBurst` are the existing group's). */
  group?: string
  /** `ERR_SLUICE_SHARED_GROUP_MISMATCH`: the existing group's initial burst. */
  initialBurst?: number
  /** `ERR_SLUICE_REVIVER` (and every `NdjsonError`): the 1-based line the reviver threw on. */
  line?: number
  /** `ERR_SLUICE_REVIVER` (and every `NdjsonError`): the byte offset of that line. */
  offset?: number
}

/**
 * A value NdjsonStringifier could not write as a line, the error an `onUnserializable: 'error'` stream fails with
 * (`code` `ERR_SLUICE_UNSERIALIZABLE`; what was thrown, if anything, is its `cause`). The 'skip' event carries the same fields.
 */
export declare class UnserializableError extends SluiceError implements UnserializableValue {
  /** `code` is `ERR_SLUICE_UNSERIALIZABLE`; the message is made from `index` and `reason`. */
  constructor(info: Pick<UnserializableValue, 'index' | 'reason' | 'value'>)
  /** 0-based position of the value among every value written. */
  index: number
  /** Why, e.g. `JSON.stringify threw: Do not know how to serialize a BigInt`. */
  reason: string
  value: unknown
}

/** An invalid line that ended the stream. */
export declare class NdjsonError extends SluiceError implements InvalidLine {
  /** Without `message`, one made from the line's place, reason and excerpt. */
  constructor(code: string, info: Pick<InvalidLine, 'line' | 'offset' | 'excerpt' | 'reason'>, message?: string)
  line: number
  offset: number
  excerpt: string
  reason: string
}

export interface RuntimeOptions {
  /** Worker threads in the shared pool every sluice stream runs on (1–1024). Default: `SLUICE_WORKERS`, else the available parallelism. */
  workers?: number
}

/**
 * Sizes the shared native runtime (before the first stream starts; the pool is fixed for the
 * life of the process) or, without options, reports its size.
 */
export declare function configure(options?: RuntimeOptions): { workers: number }

/**
 * A clock from `require('sluice/testing').createClock()` (see `lib/testing.d.ts`): only those are accepted, not any
 * object with `now()` and `advance()` (the clock lives in Rust).
 */
export type ManualClockLike = ManualClock

export interface ThrottleOptions extends Pick<TransformOptions, 'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark' | 'signal' | 'objectMode'> {
  /** Units per `per` ms (> 0; fractions work; `Infinity`: unthrottled). Required unless `group` is given; for a group member it is the member's own cap. */
  rate?: number
  /** The period `rate` is counted over, in ms. Default 1000. */
  per?: number
  /** Most units that may pass at once after idle time (the bucket's capacity). Default: 100 ms worth of rate, at least 1. */
  burst?: number
  /** Tokens in the bucket at the start (may exceed `burst`, once). Default: `burst`. */
  initialBurst?: number
  /**
   * What a chunk costs: `'bytes'` (default for byte streams), `'items'` (default in objectMode), or a function returning a
   * finite number >= 0 (anything else fails the stream with `ERR_SLUICE_INVALID_COST`).
   */
  cost?: 'bytes' | 'items' | ((chunk: any) => number)
  /** `'shape'` (default): delay. `'enforce'`: fail with `ERR_SLUICE_RATE_EXCEEDED` when upstream outruns the rate, `ERR_SLUICE_COST_EXCEEDS_BURST` for a chunk bigger than the burst. */
  mode?: 'shape' | 'enforce'
  /** Share this group's budget. */
  group?: ThrottleGroup
  /** A group member's share relative to the others, 1e-9 to 1e9. Default 1. */
  weight?: number
  /** The pieces a waiting byte chunk is granted in (never more than the burst); releases are never finer than the timer's wake-ups. Default: 5 ms of rate, at least 1 KiB. Refused with objectMode, mode 'enforce' or a cost other than 'bytes'. */
  chunkSize?: number
  /** A manual clock for tests (`sluice/testing`). */
  clock?: ManualClockLike
}

export interface ThrottleStats {
  /** Units passed. */
  units: number
  /** Time chunks spent waiting for tokens, in ms. */
  waitedMs: number
  /** Chunks that had to wait. */
  throttled: number
  /** Tokens available now. */
  tokens: number
  /** The rate in force, per `per` ms. */
  rate: number
  per: number
  burst: number
  /** Units of the held chunk still to pass. */
  pending: number
}

export declare class Throttle extends Transform {
  constructor(options: ThrottleOptions)
  /**
   * Changes the rate (a group member: its own cap) from now on; tokens earned so far are kept. Without `burst`, the one
   * set before (else 100 ms of the new rate); without `per`, the one set before.
   */
  setRate(rate: number, options?: { burst?: number; per?: number }): this
  stats(): ThrottleStats
}

export interface ThrottleGroupOptions {
  rate: number
  per?: number
  burst?: number
  initialBurst?: number
  clock?: ManualClockLike
}

export declare class ThrottleGroup {
  constructor(options: ThrottleGroupOptions)
  /**
   * The process-wide group `name`, shared by every worker_threads environment; made by the first caller (with a `rate`).
   * Later callers may omit the options or give some of them: those given must match (`ERR_SLUICE_SHARED_GROUP_MISMATCH`).
   */
  static shared(name: string, options?: Partial<Omit<ThrottleGroupOptions, 'clock'>>): ThrottleGroup
  /** A new member sharing this group's budget. */
  throttle(options?: Omit<ThrottleOptions, 'group' | 'clock'>): Throttle
  /** As Throttle#setRate: without `burst` or `per`, the ones set before (a burst: else 100 ms of the new rate). */
  setRate(rate: number, options?: { burst?: number; per?: number }): void
  /** `rate` is per `per` ms, as set (as in a Throttle's stats). */
  stats(): { units: number; tokens: number; rate: number; per: number; burst: number; members: number; waiting: number }
}

/** Options common to `Meter`, `MonitoredWritable` and `MonitoredWritable.wrap`. */
export interface MonitorOptions {
  /** The stage's name in snapshots, 'stall' events, Prometheus labels and `bottleneck()`. Default: `meter-<n>` / `writable-<n>` / `wrap-<n>`. */
  name?: string
  /** Milliseconds between `'stats'` events (timer in Rust; they keep coming while the stream is stalled), 10 to 2^31. Default: 1000. */
  interval?: number
  /** Emit `'stall'` after this many ms without progress (reported at most stallMs/4 late, never early), 10 to 2^31 or `Infinity`. Default: `Infinity` (off). */
  stallMs?: number
  /** Half-life of the smoothed rate (and so of the ETA), in ms, a finite number > 0. Default: 5000. */
  halfLifeMs?: number
  /** Expected total in bytes (items in object mode): enables `percent` and `eta`; null: unknown. */
  total?: number | null
  /** A manual clock for tests (`sluice/testing`). */
  clock?: ManualClockLike
}

/** Percentiles of a histogram (null while empty). */
export interface HistogramStats {
  count: number
  p50: number | null
  p90: number | null
  p99: number | null
  max: number | null
  mean: number | null
}

/** A plain, JSON-serialisable snapshot; counts are exact. */
export interface MeterStats {
  name: string
  kind: 'meter' | 'writable'
  /** What the rates count: bytes, or items in object mode. */
  unit: 'bytes' | 'items'
  bytes: number
  /** Chunks (items in object mode). */
  chunks: number
  /** Classic `BackpressureMonitoredWritable` name: same as `bytes`. */
  bytesWritten: number
  /** `write()` (Meter: `push()`) calls that returned false. */
  backpressureEvents: number
  /** `'drain'` events (Meter: `_read()` after a refused push). */
  drainEvents: number
  /** Since creation; frozen at finish/close. */
  elapsedMs: number
  /** Bytes per second over `elapsedMs`. */
  avgThroughput: number
  /** Units per second over the last interval. */
  currentRate: number
  /** Exponentially smoothed rate (half-life `halfLifeMs`). */
  smoothedRate: number
  /** Units per second over `elapsedMs`. */
  averageRate: number
  /** Lowest / highest interval rate seen (null before the first interval ends). */
  minRate: number | null
  maxRate: number | null
  /** From a false return to the next drain. */
  blockedMs: number
  /** MonitoredWritable: a write in progress in the destination across event-loop turns (writes completed synchronously count 0). */
  busyMs: number
  /** Meter: not blocked (waiting for upstream); MonitoredWritable: nothing pending. */
  starvedMs: number
  stalls: number
  /** Buffered length now, the largest seen, and the highWaterMark they compare to. */
  buffered: number
  bufferedMax: number
  highWaterMark: number
  bufferFillMax: number
  /** Time-weighted mean fill, sampled at each timer signal (null before the first interval ends). */
  bufferFillMean: number | null
  total: number | null
  /** 0–100, null without a total. */
  percent: number | null
  /** Seconds left at the smoothed rate; null when unknown (no total, no rate yet); never negative or Infinity. */
  eta: number | null
  /** write() to callback (MonitoredWritable; sampled). */
  latencyMs: HistogramStats
  chunkSize: HistogramStats
}

export interface StallInfo {
  stage: string
  /** `'blocked'`: downstream does not take (or a write is in progress); `'starved'`: nothing comes from upstream. */
  reason: 'blocked' | 'starved'
  /** Milliseconds without progress. */
  ms: number
}

export interface MeterOptions extends MonitorOptions, Pick<TransformOptions, 'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark' | 'signal' | 'objectMode'> {}

/**
 * A listener of a Meter's or a MonitoredWritable's event: its own events ('stats', 'summary',
 * 'stall') typed, any other event the stream's.
 */
export type MonitorListener<E extends string | symbol> = E extends 'stats' | 'summary'
  ? (stats: MeterStats) => void
  : E extends 'stall'
    ? (info: StallInfo) => void
    : (...args: any[]) => void

/** A PassThrough that measures what goes through it. */
export declare class Meter extends PassThrough {
  constructor(options?: MeterOptions)
  readonly name: string
  stats(): MeterStats
  /** Alias of `stats()`. */
  getStats(): MeterStats
  /** Sets (null: clears) the expected total. */
  setTotal(total: number | null): this
  toPrometheus(): string
  addListener<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  on<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  once<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  prependListener<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  prependOnceListener<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  removeListener<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  off<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
}

export interface MonitoredWritableOptions extends MonitorOptions, Pick<WritableOptions, 'write' | 'writev' | 'final' | 'destroy' | 'construct' | 'objectMode' | 'decodeStrings' | 'defaultEncoding' | 'emitClose' | 'autoDestroy' | 'highWaterMark' | 'signal'> {}

/** A Writable that measures how its destination pushes back. */
export declare class MonitoredWritable extends Writable {
  constructor(options?: MonitoredWritableOptions)
  /** A Writable forwarding to `destination`, honouring its backpressure; errors and close propagate both ways, end() ends it. */
  static wrap(destination: Writable | (NodeJS.WritableStream & { destroy(error?: Error): unknown }), options?: MonitorOptions): MonitoredWritable
  readonly name: string
  stats(): MeterStats
  getStats(): MeterStats
  setTotal(total: number | null): this
  toPrometheus(): string
  addListener<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  on<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  once<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  prependListener<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  prependOnceListener<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  removeListener<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
  off<E extends string | symbol>(event: E, listener: MonitorListener<E>): this
}

export interface StageEvidence {
  stage: string
  kind: 'meter' | 'writable'
  /** Over the stage's own life (within the `since` window). */
  rate: number
  unit: 'bytes' | 'items'
  /** Fractions of the pipeline's span: from the earliest start to the latest end among the meters (with `since`: from that call to now). */
  blocked: number
  busy: number
  starved: number
  /** The part of the span after this stage's meter ended. */
  done: number
}

export interface Bottleneck {
  stage: string
  index: number
  reason: string
  /** 0–1: how clearly this stage limits the pipeline. */
  score: number
  evidence: StageEvidence[]
  /** The snapshots judged: pass them as `since` next time for a live view. */
  snapshots: MeterStats[]
}

/** A stage with a meter: a `Meter` or `MonitoredWritable`, or their Web faces (`sluice/web`), which mix freely. */
export type Metered = Meter | MonitoredWritable | MeterStream | MonitoredWritableStream

/** Names the stage that limits a pipeline from its meters, in pipeline order (null without meters). */
export declare function bottleneck(meters: readonly Metered[], options?: { since?: readonly MeterStats[] }): Bottleneck | null
/** A compact text diagram of the stages: rate, busy/blocked/starved bars, the bottleneck marked. */
export declare function formatPipeline(meters: readonly Metered[], options?: { /** 1 to 200 columns. */ width?: number; since?: readonly MeterStats[] }): string
/** The Prometheus text exposition (0.0.4) of the meters, one `name` label each. */
export declare function toPrometheus(meters: readonly Metered[] | Metered): string
/** Registers the meters' metric families with a prom-client Registry (prom-client is an optional peer). */
export declare function registerPrometheus(registry: { registerMetric(metric: any): void }, meters: readonly Metered[] | (() => readonly Metered[])): void

export type OverflowStrategy = 'block' | 'drop-oldest' | 'drop-newest' | 'drop-incoming' | 'drop-all' | 'error'

export interface BoundedBufferOptions {
  /** Items the buffer holds at most. Default: 1024 in object mode when `capacityBytes` is not given either. */
  capacity?: number
  /** Bytes the buffer holds at most (a zero-length chunk weighs 1). Default: 1 MiB in byte mode when `capacity` is not given either. */
  capacityBytes?: number
  /** What a write that finds the buffer full does. Default: `'block'`. */
  overflow?: OverflowStrategy
  /** `'block'` only: the fill (0 ≤ x < 1) at which a held write gets in and 'drain' can follow. Default: 0.5. */
  lowWaterMark?: number
  /** Dropping strategies only: lower numbers are dropped first. */
  priority?: (item: any) => number
  /** Fills (increasing, in (0, 1]) at which 'pressure' fires. Default: [0.3, 0.5, 0.8]. */
  pressureLevels?: readonly number[]
  /** How far below a level the fill must fall to leave it (>= 0, below the lowest level). Default: 0.1 (at most half the lowest level). */
  pressureHysteresis?: number
  objectMode?: boolean
  highWaterMark?: number
  readableHighWaterMark?: number
  writableHighWaterMark?: number
  signal?: AbortSignal
}

export interface BufferDrop {
  /** 'oldest' | 'newest' | 'all' | 'incoming' | 'priority' (a strategy dropped them), 'overflow' (the item that overflowed under overflow: 'error'), 'unread' (at destroy: emitted into core's readable buffer, never read) or 'destroy' (the ring and a held write, discarded). */
  reason: 'oldest' | 'newest' | 'all' | 'incoming' | 'priority' | 'overflow' | 'unread' | 'destroy'
  /** The items, oldest first. */
  items: any[]
  /** Their bytes (0 in object mode without capacityBytes). */
  bytes: number
}

export interface BufferPressure {
  /** The level now in force (0: below every level). */
  level: number
  previous: number
  /** The fill, 0 to 1 of the tighter capacity. */
  pressure: number
  rising: boolean
}

export interface BoundedBufferStats {
  overflow: OverflowStrategy
  capacity: number
  capacityBytes: number
  buffered: number
  bufferedBytes: number
  pressure: number
  pressureLevel: number
  peakBuffered: number
  peakBufferedBytes: number
  accepted: number
  acceptedBytes: number
  emitted: number
  emittedBytes: number
  dropped: { oldest: number; newest: number; all: number; incoming: number; priority: number; overflow: number }
  droppedBytes: number
  discarded: number
  discardedBytes: number
  /** Of `discarded`: emitted into core's readable buffer but never read before destroy. */
  unread: number
  unreadBytes: number
  /** accepted + dropped.incoming + dropped.overflow = totalConsumed + droppedItems + discarded + buffered */
  totalProduced: number
  /** emitted - unread */
  totalConsumed: number
  backpressureEvents: number
  droppedItems: number
  maxBufferSize: number
}

export declare class BoundedBuffer extends Transform {
  constructor(options?: BoundedBufferOptions)
  stats(): BoundedBufferStats
  addListener(event: 'drop', listener: (drop: BufferDrop) => void): this
  addListener(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  addListener(event: string | symbol, listener: (...args: any[]) => void): this
  on(event: 'drop', listener: (drop: BufferDrop) => void): this
  on(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: 'drop', listener: (drop: BufferDrop) => void): this
  once(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
  prependListener(event: 'drop', listener: (drop: BufferDrop) => void): this
  prependListener(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this
  prependOnceListener(event: 'drop', listener: (drop: BufferDrop) => void): this
  prependOnceListener(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this
  removeListener(event: 'drop', listener: (drop: BufferDrop) => void): this
  removeListener(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this
  off(event: 'drop', listener: (drop: BufferDrop) => void): this
  off(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  off(event: string | symbol, listener: (...args: any[]) => void): this
}
