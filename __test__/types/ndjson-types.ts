// Type-checked by __test__/typings.spec.js (not run). An unused `@ts-expect-error` is an error, so
// each one proves that `info` is an `InvalidLine` there, not `any`.

import { InvalidLine, ManualClockLike, NdjsonError, NdjsonParser, NdjsonParserOptions, Throttle, ThrottleGroup, ThrottleOptions, configure } from '../..'

const parser = new NdjsonParser({ onInvalid: 'skip', nullValue: undefined })
const report = (info: InvalidLine): void => { console.log(info.line, info.offset, info.code) }

parser.on('invalid', (info) => {
  // @ts-expect-error line is a number
  const s: string = info.line
  void s
})
parser.once('invalid', (info) => {
  // @ts-expect-error offset is a number
  const s: string = info.offset
  void s
})
parser.addListener('invalid', (info) => {
  // @ts-expect-error code is a string
  const n: number = info.code
  void n
})
parser.prependListener('invalid', (info) => {
  // @ts-expect-error excerpt is a string
  const n: number = info.excerpt
  void n
})
parser.prependOnceListener('invalid', (info) => {
  // @ts-expect-error reason is a string
  const n: number = info.reason
  void n
})
parser.off('invalid', report)
parser.removeListener('invalid', report)

// Other events still take any listener, and the methods chain.
parser.addListener('data', (value: unknown) => { void value }).prependListener('end', () => {}).off('data', report)

const options: NdjsonParserOptions = { nullValue: undefined, output: 'values' }
void options

// where/select: the string form, every operator of the object form, and a list of paths.
const filtered = new NdjsonParser({ where: '.type == "PushEvent"', select: ['id', 'actor.login'] })
new NdjsonParser({
  where: {
    and: [
      { path: 'a', eq: 1 }, { path: 'a', ne: null }, { path: 'a', lt: 'x' }, { path: 'a', gte: 2 },
      { path: 'a', in: [1, 'x', true, null] }, { not: { path: 'a', exists: true } },
      { or: [{ path: 'a', startsWith: 'x' }, { path: 'a', endsWith: 'y' }, { path: 'a', contains: 3 }, { path: 'a', matches: '^x' }] }
    ]
  }
})
const matched: number | undefined = filtered.stats().matchedLines
void matched
// @ts-expect-error lt compares with a number or a string only
new NdjsonParser({ where: { path: 'a', lt: true } })
// @ts-expect-error select is a list of paths
new NdjsonParser({ select: 'id' })

// The shared runtime.
const pool: { workers: number } = configure()
configure({ workers: pool.workers })
// @ts-expect-error workers is a number
configure({ workers: '2' })

// NdjsonError's constructor: the code, then the line's place and reason.
const bad = new NdjsonError('ERR_SLUICE_INVALID_JSON', { line: 2, offset: 8, excerpt: '{oops}', reason: "unexpected 'o' at byte 1" })
const badLine: number = bad.line
// @ts-expect-error the line's place and reason are required
new NdjsonError('ERR_SLUICE_INVALID_JSON')
void badLine

// A shared throttle group: the first caller gives a rate; later ones may give some options only.
ThrottleGroup.shared('uploads', { rate: 1024 * 1024 })
ThrottleGroup.shared('uploads', { burst: 65536 })
ThrottleGroup.shared('uploads')
// @ts-expect-error a shared group lives in Rust, on the real clock
ThrottleGroup.shared('uploads', { clock: null as unknown as ManualClockLike })

// where: exactly one operator beside a path, and and/or/not alone (the parser refuses the rest).
// @ts-expect-error two operators
new NdjsonParser({ where: { path: 'a', eq: 1, ne: 2 } })
// @ts-expect-error and beside a path
new NdjsonParser({ where: { and: [], path: 'a', eq: 1 } })
// @ts-expect-error and beside or
new NdjsonParser({ where: { and: [], or: [] } })
// @ts-expect-error a path needs an operator
new NdjsonParser({ where: { path: 'a' } })

// Throttle options typed ahead, extended, spread, as a program keeps them (a rate or a group is
// checked at run time: typing it as a union broke these).
const group = new ThrottleGroup({ rate: 100 })
const throttleOptions: ThrottleOptions = { rate: 5, burst: 10 }
throttleOptions.group = group
new Throttle(throttleOptions)
interface TenantThrottleOptions extends ThrottleOptions { tenant: string }
const tenant: TenantThrottleOptions = { tenant: 'a', rate: 5 }
const withRate = (extra: Partial<ThrottleOptions>, rate: number) => new Throttle({ ...extra, rate })
withRate(tenant, 3)
group.throttle({ weight: 2 })
