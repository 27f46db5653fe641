import { NdjsonParseStream, MeterStream, MonitoredWritableStream, ThrottleStream, BoundedBufferStream } from 'sluice/web'
const p = new NdjsonParseStream<{ a: number }>({ onInvalid: 'skip' })
p.on('invalid', (i) => i.line)
const r: ReadableStream<{ a: number }> = new ReadableStream<Uint8Array>().pipeThrough(p)
const m = new MeterStream({ name: 'x' }); m.stats().bytes
new MonitoredWritableStream({ write () {} }).stats()
new ThrottleStream({ rate: 5 }).setRate(3)
new BoundedBufferStream({ capacity: 3 }).stats().dropped
void r
