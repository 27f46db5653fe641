// sluice/web's declarations in use (type-checked by __test__/web.spec.js): the faces fit the
// global Web Streams types, as a fetch() body's pipeThrough needs.
import { BoundedBufferStream, type ByteChunk, MeterStream, MonitoredWritableStream, NdjsonParseStream, NdjsonStringifyStream, NULL, ThrottleStream } from 'sluice/web'
import { bottleneck, formatPipeline, Meter, registerPrometheus, toPrometheus } from 'sluice'

const parse = new NdjsonParseStream<{ a: number }>({ onInvalid: 'skip' })
parse.on('invalid', (info) => info.line)
const values: ReadableStream<{ a: number }> = new ReadableStream<Uint8Array>().pipeThrough(parse)
const bytes: number = new MeterStream({ name: 'x' }).stats().bytes
const chunks: number = new MonitoredWritableStream({ write () {} }).stats().chunks
const throttle: ThrottleStream = new ThrottleStream({ rate: 5 }).setRate(3)
const dropped: number = new BoundedBufferStream({ capacity: 3 }).stats().dropped.oldest
const stringify = new NdjsonStringifyStream<{ a: number } | null | typeof NULL>({ newline: '\r\n', onUnserializable: 'skip', replacer: ['a'] })
stringify.on('skip', (info) => info.index)
const lines: ReadableStream<Uint8Array> = new ReadableStream<{ a: number } | null>().pipeThrough(stringify)
const skipped: number = stringify.stats().skipped
// @ts-expect-error Node stream options are not NdjsonStringifyStream's
new NdjsonStringifyStream({ highWaterMark: 5 })
// Every chunk a byte face takes, without the DOM library's BufferSource.
const byteChunks: ByteChunk[] = [new Uint8Array(1), new DataView(new ArrayBuffer(1)), new ArrayBuffer(1), new SharedArrayBuffer(1), 'text']
const fromShared: ReadableStream<unknown> = new ReadableStream<SharedArrayBuffer>().pipeThrough(new NdjsonParseStream<unknown, SharedArrayBuffer>())
// Web meters go into the pipeline functions beside Node ones.
const meters = [new MeterStream(), new MonitoredWritableStream({ write () {} }), new Meter()]
const report: string = formatPipeline(meters) + toPrometheus(meters) + toPrometheus(meters[0]) + String(bottleneck(meters)?.stage)
registerPrometheus({ registerMetric () {} }, () => meters)
export { values, bytes, chunks, throttle, dropped, lines, skipped, byteChunks, fromShared, report }
