/// <reference types="node" />
// sluice/web: the Web Streams (WHATWG) faces of sluice's components.
// The global Web Streams types (as @types/node declares them), so that a face fits the
// ReadableStream of fetch() and the other globals; nothing here needs the DOM library (a
// server project compiles with `--lib es2022 --types node`).
import type { UnderlyingSink } from 'node:stream/web'
import type {
  BoundedBufferOptions,
  BoundedBufferStats,
  BufferDrop,
  BufferPressure,
  InvalidLine,
  MeterStats,
  MonitorOptions,
  NdjsonParserOptions,
  NdjsonParserStats,
  NdjsonStringifierOptions,
  NdjsonStringifierStats,
  StallInfo,
  ThrottleOptions,
  ThrottleStats,
  UnserializableValue
} from '../index.js'

/** The package's `NULL`: written to NdjsonStringifyStream, a JSON `null` line (as a `null` chunk is). */
export { NULL } from '../index.js'

/**
 * A chunk a byte face takes: the DOM's `BufferSource` (any `ArrayBufferView`, an `ArrayBuffer`),
 * a `SharedArrayBuffer` (copied), or a string (its UTF-8 bytes, as `TextEncoderStream`).
 */
export type ByteChunk = ArrayBufferView | ArrayBuffer | SharedArrayBuffer | string

type NodeStreamOptionKeys = 'highWaterMark' | 'readableHighWaterMark' | 'writableHighWaterMark' | 'signal'

export interface NdjsonParseStreamOptions extends Omit<NdjsonParserOptions, NodeStreamOptionKeys> {
  /** What a `null` line becomes in `'values'` output. Default: `null` (a Web stream carries `null`). */
  nullValue?: unknown
}

/**
 * NDJSON text in (`ByteChunk`s), one value per line out.
 * `I` is the chunk type of the writable side: `any` by default, so that it fits any ReadableStream of
 * bytes or text (TypeScript checks a WritableStream's chunk type both ways).
 */
export declare class NdjsonParseStream<T = any, I extends ByteChunk = any> extends TransformStream<I, T> {
  constructor(options?: NdjsonParseStreamOptions, writableStrategy?: QueuingStrategy<I>, readableStrategy?: QueuingStrategy<T>)
  stats(): NdjsonParserStats
  on(event: 'invalid', listener: (info: InvalidLine) => void): this
  once(event: 'invalid', listener: (info: InvalidLine) => void): this
  off(event: 'invalid', listener: (info: InvalidLine) => void): this
}

export type NdjsonStringifyStreamOptions = Omit<NdjsonStringifierOptions, NodeStreamOptionKeys>

/**
 * JS values in (`null` or `NULL` for a JSON `null`), NDJSON bytes out: `Uint8Array`s (Buffers) of whole lines,
 * in batches of up to 64 KiB (or a `ByteLengthQueuingStrategy` readable side's highWaterMark if smaller).
 */
export declare class NdjsonStringifyStream<T = any> extends TransformStream<T, Uint8Array> {
  constructor(options?: NdjsonStringifyStreamOptions, writableStrategy?: QueuingStrategy<T>, readableStrategy?: QueuingStrategy<Uint8Array>)
  /** values and bytes enqueued, values skipped, batches enqueued, values discarded at teardown. */
  stats(): NdjsonStringifierStats
  on(event: 'skip', listener: (info: UnserializableValue) => void): this
  once(event: 'skip', listener: (info: UnserializableValue) => void): this
  off(event: 'skip', listener: (info: UnserializableValue) => void): this
}

/**
 * Chunks through a throttle. In byte mode it takes `ByteChunk`s and gives `Uint8Array`s (a string
 * leaves as its UTF-8 bytes); so do MeterStream and BoundedBufferStream.
 */
export declare class ThrottleStream<T = any> extends TransformStream<T, T> {
  constructor(options: Omit<ThrottleOptions, NodeStreamOptionKeys>, writableStrategy?: QueuingStrategy<T>, readableStrategy?: QueuingStrategy<T>)
  stats(): ThrottleStats
  setRate(rate: number, options?: { burst?: number; per?: number }): this
}

export interface MeterStreamOptions extends MonitorOptions {
  objectMode?: boolean
}

/** What MeterStream and MonitoredWritableStream share with Meter and MonitoredWritable. */
export interface Measured {
  readonly name: string
  stats(): MeterStats
  getStats(): MeterStats
  setTotal(total: number | null): this
  toPrometheus(): string
  on(event: 'stats' | 'summary', listener: (stats: MeterStats) => void): this
  on(event: 'stall', listener: (info: StallInfo) => void): this
  once(event: 'stats' | 'summary', listener: (stats: MeterStats) => void): this
  once(event: 'stall', listener: (info: StallInfo) => void): this
  off(event: 'stats' | 'summary' | 'stall', listener: (...args: any[]) => void): this
}

export declare class MeterStream<T = any> extends TransformStream<T, T> implements Measured {
  constructor(options?: MeterStreamOptions, writableStrategy?: QueuingStrategy<T>, readableStrategy?: QueuingStrategy<T>)
  readonly name: string
  stats(): MeterStats
  getStats(): MeterStats
  setTotal(total: number | null): this
  toPrometheus(): string
  on(event: 'stats' | 'summary', listener: (stats: MeterStats) => void): this
  on(event: 'stall', listener: (info: StallInfo) => void): this
  once(event: 'stats' | 'summary', listener: (stats: MeterStats) => void): this
  once(event: 'stall', listener: (info: StallInfo) => void): this
  off(event: 'stats' | 'summary' | 'stall', listener: (...args: any[]) => void): this
}

export declare class BoundedBufferStream<T = any> extends TransformStream<T, T> {
  constructor(options?: Omit<BoundedBufferOptions, NodeStreamOptionKeys>, writableStrategy?: QueuingStrategy<T>, readableStrategy?: QueuingStrategy<T>)
  stats(): BoundedBufferStats
  on(event: 'drop', listener: (drop: BufferDrop) => void): this
  on(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  once(event: 'drop', listener: (drop: BufferDrop) => void): this
  once(event: 'pressure', listener: (pressure: BufferPressure) => void): this
  off(event: 'drop' | 'pressure', listener: (...args: any[]) => void): this
}

export interface MonitoredWritableStreamOptions extends MonitorOptions {
  objectMode?: boolean
  /** Bytes (items with objectMode) buffered before the writer waits. Default: Node's default for the mode. */
  highWaterMark?: number
}

/** A WritableStream that forwards to `destination` and measures how it keeps up. */
export declare class MonitoredWritableStream<T = any> extends WritableStream<T> implements Measured {
  constructor(destination: WritableStream<T> | UnderlyingSink<T>, options?: MonitoredWritableStreamOptions)
  readonly name: string
  stats(): MeterStats
  getStats(): MeterStats
  setTotal(total: number | null): this
  toPrometheus(): string
  on(event: 'stats' | 'summary', listener: (stats: MeterStats) => void): this
  on(event: 'stall', listener: (info: StallInfo) => void): this
  once(event: 'stats' | 'summary', listener: (stats: MeterStats) => void): this
  once(event: 'stall', listener: (info: StallInfo) => void): this
  off(event: 'stats' | 'summary' | 'stall', listener: (...args: any[]) => void): this
}
