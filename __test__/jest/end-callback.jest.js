'use strict'

// end(callback) is answered once on every component, under jest's fake timers that are never
// advanced (the answer comes from a tick of core's, not from a faked timer): after a destroy(),
// and when a 'data' listener destroys the stream on what end() itself emits (lib/inflight.js,
// endAnswered). Node 20's own Writable loses both.
const { Writable } = require('node:stream')
const { Throttle, BoundedBuffer, Meter, MonitoredWritable, NdjsonParser, NdjsonStringifier } = require('../..')

jest.setTimeout(20000)
beforeEach(() => { jest.useFakeTimers({ doNotFake: [] }) })
afterEach(() => { jest.useRealTimers() })

const real = require('node:timers')
const turn = () => new Promise((resolve) => real.setImmediate(resolve))

const makers = {
  Meter: () => new Meter(),
  Throttle: () => new Throttle({ rate: Infinity }),
  BoundedBuffer: () => new BoundedBuffer({ capacity: 4, overflow: 'block' }),
  Stringifier: () => new NdjsonStringifier(),
  Parser: () => new NdjsonParser(),
  MonitoredWritable: () => new MonitoredWritable({ write (c, e, cb) { cb() } }),
  wrap: () => MonitoredWritable.wrap(new Writable({ write (c, e, cb) { cb() } }))
}

for (const [name, make] of Object.entries(makers)) {
  test(`${name}: end(cb) after destroy() answered under fake timers without advancing them`, async () => {
    const s = make()
    s.on('error', () => {})
    s.destroy()
    const got = []
    s.end((e) => got.push(e?.code ?? e))
    for (let i = 0; i < 5; i++) await turn()
    expect(got).toEqual(['ERR_STREAM_DESTROYED'])
  })
  test(`${name}: end(cb) after destroy(err) gets ERR_STREAM_DESTROYED, as core's end() gives`, async () => {
    const s = make()
    s.on('error', () => {})
    s.destroy(Object.assign(new Error('x'), { code: 'X' }))
    const got = []
    s.end((e) => got.push(e?.code ?? e))
    for (let i = 0; i < 5; i++) await turn()
    expect(got).toEqual(['ERR_STREAM_DESTROYED']) // core: destroyed wins over errored in end()
  })
}
for (const name of ['Meter', 'Throttle', 'BoundedBuffer', 'Stringifier']) {
  test(`${name}: data listener destroying on the flush output inside end(cb)`, async () => {
    const s = makers[name]()
    s.on('error', () => {})
    s.on('data', () => s.destroy())
    const got = []
    s.write(name === 'Stringifier' ? { a: 1 } : 'a')
    s.end((e) => got.push(e?.code ?? e))
    for (let i = 0; i < 10; i++) await turn()
    expect(got.length).toBe(1)
  })
}

test('MonitoredWritable: end(cb) after destroy() with an async write in flight answers after that write, as core', async () => {
  const order = async (w) => {
    const log = []
    w.write('a', (e) => log.push('writeA ' + (e?.code ?? e)))
    w.destroy()
    w.end((e) => log.push('end1 ' + (e?.code ?? e)))
    w.end('b', (e) => log.push('end2 ' + (e?.code ?? e)))
    for (let i = 0; i < 10; i++) await turn()
    return log
  }
  const write = (c, e, cb) => real.setImmediate(cb)
  const core = await order(new Writable({ write }))
  expect(core).toEqual(['end2 ERR_STREAM_WRITE_AFTER_END', 'writeA null', 'end1 ERR_STREAM_DESTROYED'])
  expect(await order(new MonitoredWritable({ write }))).toEqual(core)
})

test('MonitoredWritable.wrap: end(cb) after destroy() with a destination write in flight answers after that write and those queued behind it, as core (contract fuzz, wrap seed 5166)', async () => {
  const order = async (w) => {
    const log = []
    w.on('error', (e) => log.push('error ' + (e?.code ?? e)))
    w.write('a', (e) => log.push('writeA ' + (e?.code ?? e)))
    w.write('c', (e) => log.push('writeC ' + (e?.code ?? e)))
    w.destroy()
    w.end((e) => log.push('end1 ' + (e?.code ?? e)))
    w.end('b', (e) => log.push('end2 ' + (e?.code ?? e)))
    for (let i = 0; i < 10; i++) await turn()
    return log
  }
  for (const fails of [false, true]) {
    const write = (c, e, cb) => real.setImmediate(() => cb(fails ? Object.assign(new Error('dest'), { code: 'DEST' }) : undefined))
    const core = await order(new Writable({ write }))
    const error = fails ? 'DEST' : 'ERR_STREAM_DESTROYED'
    expect(core).toEqual(['end2 ERR_STREAM_WRITE_AFTER_END', `writeA ${fails ? 'DEST' : null}`, `writeC ${error}`, `end1 ${error}`])
    expect(await order(MonitoredWritable.wrap(new Writable({ write })))).toEqual(core)
  }
})
