// Compiled by typings.spec.js: the Meter / MonitoredWritable declarations in use.
import { Writable } from 'node:stream'
import { Meter, MonitoredWritable, MeterStats, StallInfo, bottleneck, formatPipeline, toPrometheus, registerPrometheus } from '../..'
import { createClock } from 'sluice/testing'

const m = new Meter({ name: 'parse', interval: 500, stallMs: 2000, halfLifeMs: 3000, total: 1024, objectMode: false })
m.on('stats', (s: MeterStats) => { const eta: number | null = s.eta; void eta })
m.on('stall', (info: StallInfo) => { const r: 'blocked' | 'starved' = info.reason; void r })
m.once('summary', (s) => { const n: number = s.avgThroughput; void n })
const w = MonitoredWritable.wrap(new Writable(), { name: 'sink' })
const v = new MonitoredWritable({ write (chunk, encoding, cb) { cb() } })
const classic = w.getStats()
const fields: number[] = [classic.bytesWritten, classic.backpressureEvents, classic.drainEvents, classic.elapsedMs, classic.avgThroughput]
const b = bottleneck([m, w, v])
const stage: string | undefined = b?.stage
const done: number | undefined = b?.evidence[0].done
const text: string = formatPipeline([m, w]) + toPrometheus([m, w]) + m.toPrometheus()
registerPrometheus({ registerMetric () {} }, () => [m])
// Arrays the caller keeps are taken read-only (`as const`, frozen ones).
const stages = [m, w] as const
const fromConst: string = formatPipeline(stages, { since: Object.freeze([m.stats()]) }) + toPrometheus(stages) + String(bottleneck(stages)?.stage)
registerPrometheus({ registerMetric () {} }, stages)
void fromConst
m.setTotal(null).setTotal(10)
void fields
void stage
void done
void text

// Every listener method types the meters' events, as the parser's and the buffer's do.
m.addListener('stats', (s) => {
  // @ts-expect-error eta is a number or null
  const e: string = s.eta
  void e
}).prependListener('stall', (info) => {
  // @ts-expect-error ms is a number
  const ms: string = info.ms
  void ms
}).prependOnceListener('summary', (s) => {
  // @ts-expect-error elapsedMs is a number
  const e: string = s.elapsedMs
  void e
})
const onStats = (s: MeterStats): void => { void s }
w.off('stats', onStats).removeListener('summary', onStats).addListener('drain', () => {})
v.prependListener('stall', (info) => {
  // @ts-expect-error reason is 'blocked' | 'starved'
  const r: 'idle' = info.reason
  void r
})

// Only a clock from sluice/testing: the runtime refuses any other object with now() and advance().
const clock = createClock()
const timed = new Meter({ clock })
void timed
// @ts-expect-error a look-alike clock is not a ManualClock
void new Meter({ clock: { now: () => 0, advance: (ms: number) => ms } })
