'use strict'

// BoundedBuffer: every overflow strategy against one script of writes and reads, priority
// shedding, the 'block' hysteresis and 'drain', pressure levels, end flushing, destroy
// discarding, byte capacity, options, and a property test over random interleavings.
//
// Determinism: the tests drive the buffer synchronously, most with `readableHighWaterMark: 0`
// so that an item leaves the ring exactly when the test calls read(); those about core's
// readable buffer ('unread') fill it synchronously too. The throwing-listener pipelines run in a
// child process that reports when its event loop empties. No test looks at the clock.

const test = require('ava')
const { getDefaultHighWaterMark, PassThrough, Readable, Transform, Writable, pipeline } = require('node:stream')
const { BoundedBuffer } = require('..')
const { makeRng, runChild } = require('./helpers.js')

/** A buffer whose ring is emptied only by read(), recording its 'drop' and 'pressure' events. */
function make (options) {
  const s = new BoundedBuffer({ readableHighWaterMark: 0, ...options })
  const drops = []
  const pressure = []
  s.on('drop', (d) => drops.push({ reason: d.reason, items: d.items, bytes: d.bytes }))
  s.on('pressure', (p) => pressure.push(p.level))
  s.on('error', () => {})
  // Watched from the start: `closed` turns true inside destroy(), a tick before 'close'.
  const closed = new Promise((resolve) => s.once('close', resolve))
  return { s, drops, pressure, closed }
}

/** Runs a script: a number is written, 'r' is a read. Returns write() results and what was read. */
function run (s, script) {
  const writes = []
  const reads = []
  for (const op of script) {
    if (op === 'r') reads.push(s.read())
    else writes.push(s.write(op))
  }
  return { writes, reads }
}

/** totalProduced = totalConsumed + droppedItems + discarded + buffered, and the parts add up. */
function checkAccounting (t, s) {
  const st = s.stats()
  t.is(st.totalProduced, st.totalConsumed + st.droppedItems + st.discarded + st.buffered, 'produced = consumed + dropped + discarded + buffered')
  const byReason = Object.values(st.dropped).reduce((a, b) => a + b, 0)
  t.is(byReason, st.droppedItems, 'dropped by reason adds up to droppedItems')
  t.is(st.totalConsumed, st.emitted - st.unread, 'consumed = emitted - unread')
  t.true(st.unread <= st.discarded, 'unread items are among the discarded')
  t.is(st.maxBufferSize, st.peakBuffered)
  return st
}

// ---------------------------------------------------------------------------------------------
// Every strategy, one script

// Capacity 3 objects; writes 1–5, two reads, writes 6–8, six reads. `writableHighWaterMark: 1`
// so that a held write shows as write() === false at once.
const SCRIPT = [1, 2, 3, 4, 5, 'r', 'r', 6, 7, 8, 'r', 'r', 'r', 'r', 'r', 'r']
const T = true
const F = false

const STRATEGIES = [
  {
    overflow: 'block',
    writes: [T, T, T, F, F, F, F, F],
    reads: [1, 2, 3, 4, 5, 6, 7, 8],
    drops: [],
    drains: 2
  },
  {
    overflow: 'drop-oldest',
    writes: [T, T, T, T, T, T, T, T],
    reads: [3, 4, 6, 7, 8, null, null, null],
    drops: [{ reason: 'oldest', items: [1], bytes: 0 }, { reason: 'oldest', items: [2], bytes: 0 }, { reason: 'oldest', items: [5], bytes: 0 }],
    drains: 0
  },
  {
    overflow: 'drop-newest',
    writes: [T, T, T, T, T, T, T, T],
    reads: [1, 2, 5, 6, 8, null, null, null],
    drops: [{ reason: 'newest', items: [3], bytes: 0 }, { reason: 'newest', items: [4], bytes: 0 }, { reason: 'newest', items: [7], bytes: 0 }],
    drains: 0
  },
  {
    overflow: 'drop-incoming',
    writes: [T, T, T, T, T, T, T, T],
    reads: [1, 2, 3, 6, 7, null, null, null],
    drops: [{ reason: 'incoming', items: [4], bytes: 0 }, { reason: 'incoming', items: [5], bytes: 0 }, { reason: 'incoming', items: [8], bytes: 0 }],
    drains: 0
  },
  {
    overflow: 'drop-all',
    writes: [T, T, T, T, T, T, T, T],
    reads: [4, 5, 6, 7, 8, null, null, null],
    drops: [{ reason: 'all', items: [1, 2, 3], bytes: 0 }],
    drains: 0
  },
  {
    // The fourth write overflows: it is dropped (reason 'overflow'), the stream is errored at
    // once (write() false, nothing more is read) and destroyed, which discards the three
    // buffered items.
    overflow: 'error',
    writes: [T, T, T, F, F, F, F, F],
    reads: [null, null, null, null, null, null, null, null],
    drops: [{ reason: 'overflow', items: [4], bytes: 0 }, { reason: 'destroy', items: [1, 2, 3], bytes: 0 }],
    drains: 0,
    error: 'ERR_SLUICE_BUFFER_OVERFLOW'
  }
]

for (const row of STRATEGIES) {
  test(`strategy table: '${row.overflow}' on the common script`, async (t) => {
    const { s, drops, closed } = make({ objectMode: true, capacity: 3, overflow: row.overflow, writableHighWaterMark: 1 })
    let drains = 0
    s.on('drain', () => drains++)
    const errors = []
    s.on('error', (err) => errors.push(err))
    const { writes, reads } = run(s, SCRIPT)
    t.deepEqual(writes, row.writes, 'write() results')
    t.deepEqual(reads, row.reads, 'items read, in order')
    if (row.error) {
      await closed
      t.is(errors.length, 1)
      t.is(errors[0].code, row.error)
      t.is(s.stats().discarded, 3)
    } else {
      s.end()
      const rest = await s.toArray()
      t.deepEqual(rest, [], 'nothing left after the script')
      t.is(drains, row.drains, "'drain' events")
    }
    t.deepEqual(drops, row.drops, "'drop' events, exactly")
    const st = checkAccounting(t, s)
    t.is(st.totalProduced, row.error ? 4 : 8)
    t.true(st.peakBuffered <= 3)
  })
}

test("'block': nothing is dropped, and the counters say how often the producer was held", (t) => {
  const { s } = make({ objectMode: true, capacity: 3, writableHighWaterMark: 1 })
  run(s, SCRIPT)
  const st = s.stats()
  t.is(st.droppedItems, 0)
  t.is(st.backpressureEvents, 3, 'writes 4, 6 and 8 each waited for room')
  t.is(st.totalConsumed, 8)
  s.destroy()
})

test('the error of overflow: "error" names the capacity and what was buffered', async (t) => {
  const { s, closed } = make({ capacityBytes: 10, overflow: 'error' })
  s.write(Buffer.alloc(6))
  const got = new Promise((resolve) => s.write(Buffer.alloc(6), resolve))
  const err = await got
  t.is(err.code, 'ERR_SLUICE_BUFFER_OVERFLOW')
  t.is(err.name, 'SluiceError')
  t.like(err, { capacity: Infinity, capacityBytes: 10, buffered: 1, bufferedBytes: 6, size: 6 })
  t.is(err.item.length, 6)
  t.regex(err.message, /an item of 6 bytes arrived with 6 of 10 bytes buffered/)
  await closed
  t.is(s.errored, err)
  t.like(checkAccounting(t, s), { totalProduced: 2, droppedItems: 1, droppedBytes: 6, discarded: 1, discardedBytes: 6 })
})

test('overflow: "error" counts the overflowing item: a drop with reason \'overflow\', err.item, err.size 1 in object mode', async (t) => {
  const { s, drops, closed } = make({ objectMode: true, capacity: 2, overflow: 'error' })
  s.write('a')
  s.write('b')
  const item = { the: 'third' }
  const err = await new Promise((resolve) => s.write(item, resolve))
  t.is(err.code, 'ERR_SLUICE_BUFFER_OVERFLOW')
  t.is(err.item, item)
  t.is(err.size, 1, 'one item')
  t.regex(err.message, /an item arrived with 2 of 2 items buffered/)
  await closed
  t.deepEqual(drops, [{ reason: 'overflow', items: [item], bytes: 0 }, { reason: 'destroy', items: ['a', 'b'], bytes: 0 }])
  const st = checkAccounting(t, s)
  t.like(st, { totalProduced: 3, droppedItems: 1, discarded: 2, droppedBytes: 0 })
  t.is(st.dropped.overflow, 1)
})

// ---------------------------------------------------------------------------------------------
// Priority shedding

// Capacity 3, nothing read; priorities: a 1, b 0, c 2, d 1, e 0, f 1.
const PRIORITY_SCRIPT = [['a', 1], ['b', 0], ['c', 2], ['d', 1], ['e', 0], ['f', 1]].map(([id, p]) => ({ id, p }))
const PRIORITY_ROWS = [
  // d: b is the lowest (0 ≤ 1), out. e: everything buffered outranks it, so e goes. f: a and d
  // tie at 1 with f; the oldest of them goes.
  { overflow: 'drop-oldest', drops: [['priority', 'b'], ['incoming', 'e'], ['priority', 'a']], left: ['c', 'd', 'f'] },
  { overflow: 'drop-newest', drops: [['priority', 'b'], ['incoming', 'e'], ['priority', 'd']], left: ['a', 'c', 'f'] },
  // Ties keep what is buffered: f (1) goes rather than a or d (1).
  { overflow: 'drop-incoming', drops: [['priority', 'b'], ['incoming', 'e'], ['incoming', 'f']], left: ['a', 'c', 'd'] },
  // Every buffered item at or below the arriving one's priority goes at once: a and b for d;
  // then e fits; then d and e for f.
  { overflow: 'drop-all', drops: [['priority', 'a', 'b'], ['priority', 'd', 'e']], left: ['c', 'f'] }
]

for (const row of PRIORITY_ROWS) {
  test(`priority shedding with '${row.overflow}': the lowest priority goes first, the strategy breaks ties`, async (t) => {
    const { s, drops } = make({ objectMode: true, capacity: 3, overflow: row.overflow, priority: (item) => item.p })
    for (const item of PRIORITY_SCRIPT) t.true(s.write(item), 'a dropping buffer never answers false for fullness')
    t.deepEqual(drops.map((d) => [d.reason, ...d.items.map((i) => i.id)]), row.drops)
    s.end()
    t.deepEqual((await s.toArray()).map((i) => i.id), row.left, 'what is left, in write order')
    const st = checkAccounting(t, s)
    t.is(st.dropped.priority + st.dropped.incoming, st.droppedItems)
  })
}

test('priority shedding: every priority Infinity (or all -Infinity) is a tie, which the strategy breaks', (t) => {
  // 'drop-oldest' looked for a rank below Infinity to start from, found none, and dropped the
  // arriving item instead of the oldest.
  for (const p of [Infinity, -Infinity]) {
    for (const [overflow, reason, victim] of [['drop-oldest', 'priority', 'a'], ['drop-newest', 'priority', 'b'], ['drop-incoming', 'incoming', 'c']]) {
      const { s, drops } = make({ objectMode: true, capacity: 2, overflow, priority: () => p })
      for (const id of ['a', 'b', 'c']) s.write(id)
      t.deepEqual(drops.map((d) => [d.reason, ...d.items]), [[reason, victim]], `${overflow}, priority ${p}`)
      checkAccounting(t, s)
      s.destroy()
    }
  }
})

test('priority shedding by bytes: low-priority chunks go until the arriving one fits, or it goes alone', (t) => {
  const { s, drops } = make({ capacityBytes: 10, overflow: 'drop-oldest', priority: (chunk) => chunk[0] })
  // First byte = priority.
  const chunk = (p, size) => Buffer.alloc(size, p)
  s.write(chunk(1, 4))
  s.write(chunk(0, 3))
  s.write(chunk(2, 3)) // 10 bytes: full
  s.write(chunk(1, 6)) // needs 6: drops the 0 (3 bytes) and the older 1 (4 bytes)
  t.deepEqual(drops.map((d) => [d.reason, d.items.map((c) => `${c[0]}:${c.length}`), d.bytes]), [['priority', ['1:4', '0:3'], 7]])
  s.write(chunk(0, 2)) // needs 1 more byte; everything buffered outranks it
  t.deepEqual(drops[1], { reason: 'incoming', items: [chunk(0, 2)], bytes: 2 })
  s.write(chunk(3, 9)) // needs 8 more: the 1 (6) is not enough, the 2 (3) joins it
  t.deepEqual(drops[2].items.map((c) => `${c[0]}:${c.length}`), ['2:3', '1:6'])
  t.is(s.stats().bufferedBytes, 9)
  checkAccounting(t, s)
  s.destroy()
})

test('priority: a throwing or non-numeric priority fails the stream through its callback, never synchronously', async (t) => {
  const boom = new Error('boom')
  for (const [priority, code] of [[() => { throw boom }, undefined], [() => 'high', 'ERR_SLUICE_PRIORITY'], [() => NaN, 'ERR_SLUICE_PRIORITY']]) {
    const s = new BoundedBuffer({ objectMode: true, capacity: 2, overflow: 'drop-oldest', priority })
    const err = await new Promise((resolve) => {
      s.on('error', resolve)
      t.notThrows(() => s.write({ x: 1 }))
    })
    if (code) t.is(err.code, code)
    else t.is(err, boom)
  }
})

test('priority: a priority function that destroys the stream: the item it ranked is discarded and announced, never lost', async (t) => {
  for (const [pre, readableHighWaterMark] of [[0, undefined], [6, 1]]) {
    let s = null
    s = new BoundedBuffer({
      objectMode: true, capacity: 4, overflow: 'drop-oldest', readableHighWaterMark,
      priority: (item) => { if (item === 'X') s.destroy(); return 0 }
    })
    const dropped = []
    s.on('drop', (d) => dropped.push(...d.items))
    for (let i = 0; i < pre; i++) s.write(`p${i}`)
    let answered = null
    s.write('X', (err) => { answered = err ?? null })
    await new Promise((resolve) => s.once('close', resolve))
    const st = s.stats()
    t.true(dropped.includes('X'), `pre ${pre}: X is in a 'drop' event`)
    t.is(st.buffered, 0)
    t.is(st.totalConsumed, 0)
    t.is(st.totalProduced, st.totalConsumed + st.droppedItems + st.discarded + st.buffered)
    t.is(answered, null)
  }
})

// ---------------------------------------------------------------------------------------------
// 'block': hysteresis and 'drain'

for (const [lowWaterMark, resumeAt] of [[undefined, 4], [0.25, 2], [0, 0]]) {
  test(`'block' hysteresis: with lowWaterMark ${lowWaterMark ?? 'default (0.5)'}, 'drain' comes once 8 buffered items fell to ${resumeAt}`, (t) => {
    const { s } = make({ objectMode: true, capacity: 8, lowWaterMark, writableHighWaterMark: 1 })
    let drained = null
    s.on('drain', () => { drained = s.stats().buffered })
    const writes = []
    for (let i = 0; i < 10; i++) writes.push(s.write(i))
    t.deepEqual(writes, [T, T, T, T, T, T, T, T, F, F], 'write() turns false when a write finds the buffer full')
    t.is(s.writableLength, 2, 'the held write and the one queued behind it')
    const seen = []
    for (let i = 0; i < 8 - resumeAt; i++) {
      t.is(drained, null, `no 'drain' with ${s.stats().buffered} buffered`)
      seen.push(s.read())
    }
    // The held write got in as the fill reached the low-water mark, then the queued one: 'drain'.
    t.is(drained, resumeAt + 2)
    t.is(s.writableLength, 0)
    for (let x = s.read(); x !== null; x = s.read()) seen.push(x)
    t.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    s.destroy()
  })
}

test("'block': write callbacks in write order when callbacks read() and release held writes, one after another, before the earlier callbacks ran", async (t) => {
  for (const capacityBytes of [4, 8]) {
    const s = new BoundedBuffer({ capacityBytes, highWaterMark: 2 })
    const order = []
    for (let i = 0; i < 6; i++) {
      s.write(Buffer.alloc(8, 48 + i), () => {
        order.push(i)
        if (i <= 1) s.read()
      })
    }
    const ended = new Promise((resolve) => s.end(() => resolve(order.push('end'))))
    setImmediate(() => s.resume())
    await ended
    t.deepEqual(order, [0, 1, 2, 3, 4, 5, 'end'], `capacityBytes ${capacityBytes}`)
  }
})

test("'block': no stall when every write callback read()s and 'readable' is drained from a microtask; end()'s callback runs", async (t) => {
  // Found stalling with 22 writes (18 answered, a write held, the ring full, nobody asked to read).
  for (const n of [8, 20, 22, 40]) {
    const s = new BoundedBuffer({ objectMode: true, highWaterMark: 1, capacity: 2 })
    const order = []
    s.on('readable', () => queueMicrotask(() => { while (s.read() !== null); }))
    for (let i = 0; i < n - 1; i++) s.write({ i }, () => { order.push(i); s.read() })
    await new Promise((resolve) => s.end({ i: n - 1 }, resolve))
    t.deepEqual(order, Array.from({ length: n - 1 }, (_, i) => i), `${n} writes`)
  }
})

test("'block' with the default highWaterMarks: write() turns false once the readable buffer, the ring and the writable buffer are full", (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 4 })
  const hwm = getDefaultHighWaterMark(true)
  let n = 0
  while (s.write(n)) n++
  // Nothing reads: hwm items wait in the readable buffer (emitted), 4 in the ring, then one
  // write is held and hwm - 1 queue behind it until writableLength reaches hwm.
  t.is(n + 1, hwm + 4 + hwm)
  t.is(s.readableLength, hwm)
  t.is(s.stats().buffered, 4)
  t.is(s.writableLength, hwm)
  s.destroy()
})

test("dropping buffers never answer false for fullness: 1000 writes into 4 slots, every write() true, no 'drain' needed", (t) => {
  for (const overflow of ['drop-oldest', 'drop-newest', 'drop-incoming', 'drop-all']) {
    const { s } = make({ objectMode: true, capacity: 4, overflow, writableHighWaterMark: 1 })
    let falses = 0
    for (let i = 0; i < 1000; i++) if (!s.write(i)) falses++
    t.is(falses, 0, overflow)
    t.is(s.writableLength, 0, overflow)
    t.true(s.stats().buffered <= 4)
    checkAccounting(t, s)
    s.destroy()
  }
})

// ---------------------------------------------------------------------------------------------
// Pressure

test("'pressure' fires at 0.3, 0.5, 0.8 going up, and below each level minus 0.1 going down", (t) => {
  const { s, pressure } = make({ objectMode: true, capacity: 10 })
  const levelsAt = []
  for (let i = 0; i < 10; i++) {
    s.write(i)
    levelsAt.push(s.stats().pressureLevel)
  }
  t.deepEqual(levelsAt, [0, 0, 0.3, 0.3, 0.5, 0.5, 0.5, 0.8, 0.8, 0.8])
  t.deepEqual(pressure, [0.3, 0.5, 0.8])
  const down = []
  for (let i = 0; i < 10; i++) {
    s.read()
    down.push(s.stats().pressureLevel)
  }
  // 9..0 buffered: 0.8 holds down to 0.7, 0.5 down to 0.4, 0.3 down to 0.2.
  t.deepEqual(down, [0.8, 0.8, 0.8, 0.5, 0.5, 0.5, 0.3, 0.3, 0, 0])
  t.deepEqual(pressure, [0.3, 0.5, 0.8, 0.5, 0.3, 0])
  s.destroy()
})

test("'pressure' hysteresis: a fill that wobbles around a level announces it once", (t) => {
  const { s, pressure } = make({ objectMode: true, capacity: 10, pressureLevels: [0.5], pressureHysteresis: 0.2 })
  for (let i = 0; i < 5; i++) s.write(i)
  t.deepEqual(pressure, [0.5])
  for (let i = 0; i < 20; i++) {
    s.read() // 4 buffered: 0.4 is not below 0.5 - 0.2
    s.write(i)
  }
  t.deepEqual(pressure, [0.5], 'no event while the fill moves between 0.4 and 0.5')
  s.read()
  s.read()
  t.deepEqual(pressure, [0.5], '0.3 is not below 0.3')
  s.read()
  t.deepEqual(pressure, [0.5, 0], 'below 0.3: back to level 0')
  s.destroy()
})

test("'pressure' event payload, and the fill of the tighter capacity", (t) => {
  const s = new BoundedBuffer({ readableHighWaterMark: 0, capacity: 100, capacityBytes: 10, pressureLevels: [0.5, 1] })
  const events = []
  s.on('pressure', (p) => events.push(p))
  s.write(Buffer.alloc(6))
  t.deepEqual(events, [{ level: 0.5, previous: 0, pressure: 0.6, rising: true }])
  t.is(s.stats().pressure, 0.6, 'bytes (6 of 10) are tighter than items (1 of 100)')
  s.write(Buffer.alloc(4))
  t.deepEqual(events[1], { level: 1, previous: 0.5, pressure: 1, rising: true })
  s.destroy()
})

// ---------------------------------------------------------------------------------------------
// End and destroy

test("end() flushes every buffered item downstream before 'finish' and 'end'", async (t) => {
  const { s } = make({ objectMode: true, capacity: 10 })
  for (let i = 0; i < 6; i++) s.write(i)
  const order = []
  s.on('finish', () => order.push(`finish (buffered ${s.stats().buffered})`))
  s.on('end', () => order.push('end'))
  s.end()
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(order, [], "no 'finish' while items wait in the buffer")
  const got = []
  for await (const x of s) {
    got.push(x)
    order.push(x)
  }
  t.deepEqual(got, [0, 1, 2, 3, 4, 5])
  t.deepEqual(order.slice(-2), ['finish (buffered 0)', 'end'])
  t.is(order.indexOf('finish (buffered 0)'), order.length - 2, "'finish' after the last item left the buffer")
  checkAccounting(t, s)
})

test("end() in 'block' mode with a held write: it gets in, and everything arrives", async (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 3, writableHighWaterMark: 1, readableHighWaterMark: 0 })
  for (let i = 0; i < 7; i++) s.write(i)
  s.end()
  t.deepEqual(await s.toArray(), [0, 1, 2, 3, 4, 5, 6])
  t.is(s.stats().backpressureEvents > 0, true)
})

test('destroy() discards the buffered items and reports them: a drop event and stats().discarded', async (t) => {
  const { s, drops, closed } = make({ capacityBytes: 100 })
  for (const size of [10, 20, 30]) s.write(Buffer.alloc(size))
  t.is(s.read().length, 10)
  s.destroy()
  await closed
  t.is(drops.length, 1)
  t.is(drops[0].reason, 'destroy')
  t.deepEqual(drops[0].items.map((c) => c.length), [20, 30])
  t.is(drops[0].bytes, 50)
  const st = checkAccounting(t, s)
  t.like(st, { discarded: 2, discardedBytes: 50, droppedItems: 0, buffered: 0, emitted: 1 })
})

test("destroy() in 'block' mode answers the held write and reports its chunk with the discarded ones", async (t) => {
  const { s, drops, closed } = make({ objectMode: true, capacity: 2, writableHighWaterMark: 1 })
  const callbacks = []
  for (let i = 0; i < 4; i++) s.write(i, (err) => callbacks.push([i, err?.code ?? null]))
  s.destroy()
  await closed
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(drops, [{ reason: 'destroy', items: [0, 1, 2], bytes: 0 }])
  t.deepEqual(callbacks.sort(), [[0, null], [1, null], [2, null], [3, 'ERR_STREAM_DESTROYED']])
  const st = checkAccounting(t, s)
  t.is(st.discarded, 3)
})

test('destroy(err) discards too, and the error is the stream error', async (t) => {
  const { s, drops, closed } = make({ objectMode: true, capacity: 5, overflow: 'drop-oldest' })
  const errors = []
  s.on('error', (e) => errors.push(e))
  s.write('x')
  const reason = new Error('gone')
  s.destroy(reason)
  await closed
  t.deepEqual(errors, [reason])
  t.deepEqual(drops, [{ reason: 'destroy', items: ['x'], bytes: 0 }])
})

test('stats() after destroy: the ring is empty and pressure and pressureLevel say so', async (t) => {
  const { s, closed } = make({ objectMode: true, capacity: 10 })
  for (let i = 0; i < 9; i++) s.write(i)
  t.is(s.stats().pressureLevel, 0.8)
  s.destroy()
  await closed
  t.like(s.stats(), { buffered: 0, pressure: 0, pressureLevel: 0, discarded: 9 })
})

// Items already pushed into core's readable buffer (up to readableHighWaterMark) were emitted but
// not read: destroy() reports them too, with reason 'unread', as discarded.

test("for-await break: the items waiting in core's readable buffer are reported ('unread'), not counted as consumed", async (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 100 })
  const drops = []
  s.on('drop', (d) => drops.push(d))
  for (let i = 0; i < 30; i++) s.write(i)
  t.is(s.readableLength, getDefaultHighWaterMark(true), 'the readable buffer is full')
  const read = []
  for await (const x of s) {
    read.push(x)
    if (read.length === 3) break
  }
  t.deepEqual(read, [0, 1, 2])
  const unread = drops.filter((d) => d.reason === 'unread').flatMap((d) => d.items)
  const discarded = drops.filter((d) => d.reason === 'destroy').flatMap((d) => d.items)
  t.deepEqual(drops.map((d) => d.reason), ['unread', 'destroy'], 'the unread items first: they are the older')
  t.deepEqual([...read, ...unread, ...discarded], Array.from({ length: 30 }, (_, i) => i), 'every item read or reported, once, in order')
  const st = checkAccounting(t, s)
  t.like(st, { totalProduced: 30, totalConsumed: 3, unread: unread.length, discarded: unread.length + discarded.length, buffered: 0 })
})

test("destroy() in byte mode: the unread bytes of the readable buffer are reported, a partly read chunk as unread", async (t) => {
  const s = new BoundedBuffer({ capacityBytes: 100 })
  const drops = []
  s.on('drop', (d) => drops.push(d))
  s.on('error', () => {})
  s.write(Buffer.from('abcdefghij'))
  s.write(Buffer.from('klm'))
  t.is(s.readableLength, 13)
  t.is(s.read(3).toString(), 'abc')
  s.destroy()
  t.is(drops.length, 1)
  t.is(drops[0].reason, 'unread')
  t.deepEqual(drops[0].items.map(String), ['defghij', 'klm'])
  t.is(drops[0].bytes, 10)
  // Reported as thrown away, so not readable after (core's read() would still hand them out).
  t.is(s.read(), null)
  t.is(s.read(1), null)
  t.is(s.readableLength, 0)
  const st = checkAccounting(t, s)
  t.like(st, { totalProduced: 2, totalConsumed: 0, unread: 2, unreadBytes: 10, discarded: 2, discardedBytes: 10, emittedBytes: 13 })
})

test("destroy() in object mode: the items reported unread cannot be read after it", async (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 10 })
  const drops = []
  s.on('drop', (d) => drops.push(d))
  s.write('a')
  s.write('b')
  await new Promise((resolve) => setImmediate(resolve))
  t.is(s.readableLength, 2)
  s.destroy()
  t.deepEqual(drops.map((d) => [d.reason, d.items]), [['unread', ['a', 'b']]])
  t.is(s.read(), null)
  t.is(s.readableLength, 0)
  const st = checkAccounting(t, s)
  t.like(st, { totalConsumed: 0, unread: 2, discarded: 2 })
})

for (const consumer of ['read()', 'pipeline']) {
  for (const how of ['throws', 'destroys']) {
    test(`destroyed inside a read (a falling 'pressure' listener that ${how}), ${consumer}: each item is read or reported dropped, never both`, async (t) => {
      const s = new BoundedBuffer({ objectMode: true, capacity: 4, readableHighWaterMark: 0 })
      for (let i = 0; i < 4; i++) s.write('item' + i)
      s.on('pressure', (p) => {
        if (p.rising) return
        if (how === 'throws') throw new Error('listener failed')
        s.destroy()
      })
      const drops = []
      s.on('drop', (d) => drops.push(d))
      const got = []
      if (consumer === 'read()') {
        s.on('error', () => {})
        for (let k = 0; k < 3; k++) {
          const item = s.read()
          if (item !== null) got.push(item)
        }
        await new Promise((resolve) => s.on('close', resolve))
      } else {
        // Core's read() emits 'data' before it returns: the item reached the sink (and was in
        // the 'unread' drop too).
        const sink = new Writable({ objectMode: true, write (item, encoding, callback) { got.push(item); callback() } })
        await new Promise((resolve) => pipeline(s, sink, resolve))
      }
      const dropped = drops.flatMap((d) => d.items)
      t.deepEqual([...got, ...dropped].sort(), ['item0', 'item1', 'item2', 'item3'], JSON.stringify({ got, drops }))
      const st = checkAccounting(t, s)
      t.is(st.totalConsumed, got.length)
    })
  }
}

test("pipeline error: what the buffer had emitted but the failing consumer had not read is reported", async (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 10, readableHighWaterMark: 4 })
  const drops = []
  s.on('drop', (d) => drops.push(d))
  let n = 0
  const source = new Readable({
    objectMode: true,
    read () { this.push(n < 12 ? n++ : null) }
  })
  const got = []
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write (item, encoding, callback) {
      got.push(item)
      // The fifth item fails the consumer, asynchronously, with more waiting upstream.
      if (got.length === 5) setImmediate(callback, new Error('sink failed'))
      else setImmediate(callback)
    }
  })
  const err = await new Promise((resolve) => pipeline(source, s, sink, resolve))
  t.is(err.message, 'sink failed')
  await new Promise((resolve) => setImmediate(resolve))
  const reported = drops.flatMap((d) => d.items)
  const st = checkAccounting(t, s)
  t.is(st.totalConsumed, got.length, 'consumed = what the sink took')
  t.deepEqual([...got, ...reported], Array.from({ length: st.totalProduced }, (_, i) => i), 'every item the buffer took was read or reported')
  t.true(st.unread > 0, 'some items were waiting in the readable buffer')
})

// A 'drop' or 'pressure' listener that throws: the buffer is already updated, the stream is
// destroyed with what was thrown, and nothing is thrown out of write()/read()/destroy(). Run in a
// child process with an 'uncaughtException' handler (which is what turned an escaped throw into
// a stalled pipeline): the child reports at exit whether the pipeline finished; a pipeline that
// stalled never calls back, and the child exits with an empty event loop, not on a timer.
const LISTENER_CHILD = `
const { Readable, Writable, pipeline } = require('node:stream')
const { BoundedBuffer } = require(${JSON.stringify(require.resolve('..'))})
const [event, options, when] = JSON.parse(process.argv[1])
const uncaught = []
process.on('uncaughtException', (err) => uncaught.push(err.message))
let done
process.on('exit', () => console.log(JSON.stringify({ done, uncaught })))
let n = 0
const source = new Readable({ objectMode: true, read () { setImmediate(() => this.push(n < 300 ? n++ : null)) } })
const buffer = new BoundedBuffer({ objectMode: true, readableHighWaterMark: 0, ...options })
buffer.on(event, (e) => { if (when === 'any' || e.rising === (when === 'rising')) throw new Error('listener boom') })
const sink = new Writable({
  objectMode: true,
  highWaterMark: 1,
  write (item, encoding, callback) { setImmediate(() => setImmediate(() => setImmediate(callback))) }
})
pipeline(source, buffer, sink, (err) => { done = err ? err.message : 'ok' })
`

for (const [label, event, options, when] of [
  ["'drop' (inside a write)", 'drop', { capacity: 4, overflow: 'drop-oldest' }, 'any'],
  ["'pressure' rising (inside a write)", 'pressure', { capacity: 10, pressureLevels: [0.5] }, 'rising'],
  ["'pressure' falling (inside a read)", 'pressure', { capacity: 10, pressureLevels: [0.5] }, 'falling']
]) {
  test(`a throwing ${label} listener in a pipeline: the pipeline fails with its error, nothing escapes, nothing stalls`, async (t) => {
    const { status, stdout, stderr } = await runChild(['-e', LISTENER_CHILD, JSON.stringify([event, options, when])])
    t.is(status, 0, stderr)
    const { done, uncaught } = JSON.parse(stdout)
    t.deepEqual(uncaught, [], 'nothing thrown out of write() or read()')
    t.is(done, 'listener boom', 'the pipeline called back with the listener\'s error')
  })
}

test('a throwing listener: the state is updated before the event, and the stream is destroyed with the error', async (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 2, overflow: 'drop-oldest', readableHighWaterMark: 0 })
  const boom = new Error('boom')
  let seen
  s.once('drop', () => {
    seen = s.stats()
    throw boom
  })
  const errors = []
  s.on('error', (e) => errors.push(e))
  s.write(1)
  s.write(2)
  t.notThrows(() => s.write(3))
  t.like(seen, { buffered: 2, droppedItems: 1, totalProduced: 3 })
  t.true(s.destroyed)
  await new Promise((resolve) => s.once('close', resolve))
  t.deepEqual(errors, [boom])
  checkAccounting(t, s)
  // Not an Error: wrapped, as a throwing priority function's value is.
  const s2 = new BoundedBuffer({ objectMode: true, capacity: 1, readableHighWaterMark: 0, pressureLevels: [1] })
  s2.on('pressure', () => { throw 'nope' }) // eslint-disable-line no-throw-literal
  const err = await new Promise((resolve) => {
    s2.on('error', resolve)
    t.notThrows(() => s2.write('x'))
  })
  t.is(err.code, 'ERR_SLUICE_LISTENER')
  t.is(err.cause, 'nope')
})

test("a throwing 'drop' listener at destroy: destroy() does not throw, the stream errors with it", async (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 5, readableHighWaterMark: 0 })
  s.write(1)
  const boom = new Error('boom')
  s.on('drop', () => { throw boom })
  const errored = new Promise((resolve) => s.on('error', resolve))
  t.notThrows(() => s.destroy())
  t.is(await errored, boom)
  t.like(s.stats(), { discarded: 1 })
})

test("a 'drop' listener that throws at destroy for the unread items still hears of the ring's: both are announced, the first error stands", async (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 10, readableHighWaterMark: 1 })
  for (let i = 0; i < 4; i++) s.write(i)
  s.read(0) // core's readable buffer takes one item; three stay in the ring
  const heard = []
  const first = new Error('first')
  s.on('drop', ({ reason, items }) => {
    heard.push([reason, items])
    throw heard.length === 1 ? first : new Error('second')
  })
  const errored = new Promise((resolve) => s.on('error', resolve))
  t.notThrows(() => s.destroy())
  t.is(await errored, first)
  t.deepEqual(heard.map(([reason]) => reason), ['unread', 'destroy'])
  t.deepEqual(heard.flatMap(([, items]) => items).sort(), [0, 1, 2, 3])
  t.like(s.stats(), { discarded: 4 })
})

// ---------------------------------------------------------------------------------------------
// Byte capacity

test('byte capacity with mixed chunk sizes (drop-oldest): whole chunks go until the new one fits; one chunk larger than the capacity passes alone', (t) => {
  const { s, drops } = make({ capacityBytes: 10, overflow: 'drop-oldest' })
  const sizes = []
  for (const [name, size] of [['A', 4], ['B', 3], ['C', 5], ['D', 2], ['E', 8], ['F', 11]]) {
    s.write(Buffer.alloc(size, name))
    sizes.push(s.stats().bufferedBytes)
  }
  t.deepEqual(sizes, [4, 7, 8, 10, 10, 11])
  t.deepEqual(drops.map((d) => [d.items.map((c) => String.fromCharCode(c[0])).join(''), d.bytes]), [['A', 4], ['BC', 8], ['DE', 10]])
  t.is(s.read().toString(), 'FFFFFFFFFFF')
  const st = checkAccounting(t, s)
  t.like(st, { peakBufferedBytes: 11, droppedBytes: 22, acceptedBytes: 33, emittedBytes: 11 })
  s.destroy()
})

test("byte capacity in 'block' mode: a chunk that does not fit waits until the fill is at the low-water mark and it fits", (t) => {
  const { s } = make({ capacityBytes: 10, writableHighWaterMark: 1 })
  let drains = 0
  s.on('drain', () => drains++)
  t.true(s.write(Buffer.alloc(4, 'a')))
  t.true(s.write(Buffer.alloc(3, 'b')))
  t.false(s.write(Buffer.alloc(5, 'c')), '7 + 5 > 10: held')
  t.is(s.stats().bufferedBytes, 7)
  t.is(s.read().toString(), 'aaaa') // 3 bytes left: 0.3 <= 0.5 and 3 + 5 fits
  t.is(drains, 1)
  t.is(s.stats().bufferedBytes, 8)
  t.is(s.read().toString(), 'bbb')
  t.is(s.read().toString(), 'ccccc')
  s.destroy()
})

test('zero-length chunks take 1 byte of capacityBytes each: their number is bounded too', (t) => {
  const { s, drops } = make({ capacityBytes: 4, overflow: 'drop-incoming' })
  for (let i = 0; i < 10; i++) s.write(Buffer.alloc(0))
  t.like(s.stats(), { buffered: 4, bufferedBytes: 0, pressure: 1, droppedBytes: 0 }, 'the counters keep the real bytes')
  t.is(s.stats().dropped.incoming, 6)
  t.is(drops.length, 6)
  s.write(Buffer.alloc(1))
  t.is(s.stats().dropped.incoming, 7, 'a 1-byte chunk does not fit beside four empty ones')
  checkAccounting(t, s)
  s.destroy()
  // 'block': the fourth empty chunk is held (core's write() itself never answers false for
  // empty chunks: they add 0 to writableLength).
  const { s: b } = make({ capacityBytes: 3 })
  for (let i = 0; i < 4; i++) b.write('')
  t.like(b.stats(), { buffered: 3, backpressureEvents: 1 })
  b.destroy()
})

test('both capacities: whichever is reached first makes the buffer full', (t) => {
  const { s, drops } = make({ capacity: 3, capacityBytes: 100, overflow: 'drop-incoming' })
  for (let i = 0; i < 4; i++) s.write(Buffer.alloc(1))
  t.is(drops.length, 1, 'the fourth 1-byte chunk: 3 items')
  s.write(Buffer.alloc(200))
  t.is(drops.length, 2, 'a 200-byte chunk never fits beside others')
  s.destroy()
})

test('capacityBytes in object mode measures strings and Buffers, and refuses other values through the callback', async (t) => {
  const { s } = make({ objectMode: true, capacityBytes: 8, overflow: 'drop-oldest' })
  s.write('héllo') // 6 bytes in UTF-8
  s.write(Buffer.alloc(2))
  t.is(s.stats().bufferedBytes, 8)
  const err = await new Promise((resolve) => s.write({ not: 'bytes' }, resolve))
  t.is(err.code, 'ERR_INVALID_ARG_TYPE')
  // A string by its UTF-8 bytes whatever encoding its write named (core passes it on unchanged),
  // and ArrayBuffers.
  const { s: more, drops } = make({ objectMode: true, capacityBytes: 100, overflow: 'drop-oldest', readableHighWaterMark: 4 })
  more.write('zzzz', 'hex')
  more.write('6869', 'base64')
  more.write(new ArrayBuffer(5))
  more.write(new DataView(new ArrayBuffer(3)))
  const st = more.stats()
  t.is(st.acceptedBytes, 4 + 4 + 5 + 3)
  // Emitted into core's buffer, never read: measured the same way when destroy() discards them.
  t.is(st.emittedBytes, st.acceptedBytes)
  more.destroy()
  const after = more.stats()
  t.is(after.unreadBytes, after.emittedBytes)
  t.deepEqual(drops.map((d) => [d.reason, d.bytes]), [['unread', 16]])
})

// ---------------------------------------------------------------------------------------------
// Options, defaults, interop

test('defaults: 1 MiB in byte mode, 1024 items in object mode, block, lowWaterMark 0.5, core highWaterMarks', (t) => {
  const b = new BoundedBuffer()
  t.like(b.stats(), { overflow: 'block', capacity: Infinity, capacityBytes: 1024 * 1024 })
  t.is(b.writableHighWaterMark, getDefaultHighWaterMark(false))
  const o = new BoundedBuffer({ objectMode: true })
  t.like(o.stats(), { capacity: 1024, capacityBytes: Infinity })
  t.true(o instanceof Transform)
})

test('bad options are TypeError/RangeError naming the option', (t) => {
  const cases = [
    [{ capacity: 0 }, RangeError, 'options.capacity'],
    [{ capacity: 1.5 }, RangeError, 'options.capacity'],
    [{ capacity: '3' }, TypeError, 'options.capacity'],
    [{ capacityBytes: -1 }, RangeError, 'options.capacityBytes'],
    [{ capacity: Infinity }, RangeError, 'options.capacity'],
    [{ overflow: 'drop' }, TypeError, 'options.overflow'],
    [{ lowWaterMark: 1 }, RangeError, 'options.lowWaterMark'],
    [{ lowWaterMark: 100 }, RangeError, 'options.lowWaterMark'],
    [{ lowWaterMark: 0.2, overflow: 'drop-oldest' }, TypeError, 'options.lowWaterMark'],
    [{ priority: () => 0 }, TypeError, 'options.priority'],
    [{ priority: 3, overflow: 'drop-all' }, TypeError, 'options.priority'],
    [{ pressureLevels: [0.5, 0.3] }, RangeError, 'options.pressureLevels[1]'],
    [{ pressureLevels: [0, 0.5] }, RangeError, 'options.pressureLevels[0]'],
    [{ pressureLevels: ['0.5'] }, TypeError, 'options.pressureLevels[0]'],
    [{ pressureLevels: 0.5 }, TypeError, 'options.pressureLevels'],
    [{ pressureHysteresis: 0.3 }, RangeError, 'options.pressureHysteresis'],
    // No level to leave: the setting would do nothing.
    [{ pressureLevels: [], pressureHysteresis: 0.05 }, TypeError, 'options.pressureHysteresis'],
    [{ size: 3 }, TypeError, 'options.size']
  ]
  for (const [options, type, name] of cases) {
    const err = t.throws(() => new BoundedBuffer(options), { instanceOf: type }, JSON.stringify(options))
    t.true(err.message.includes(name), `${err.message} names ${name}`)
  }
  // Neither bounds it: the error is about the option the user gave, not the one left unset.
  t.regex(t.throws(() => new BoundedBuffer({ capacityBytes: Infinity }), { instanceOf: RangeError }).message, /^The value of "options\.capacityBytes" is out of range/)
  t.regex(t.throws(() => new BoundedBuffer({ objectMode: true, capacity: Infinity }), { instanceOf: RangeError }).message, /^The value of "options\.capacity" is out of range/)
})

test('pressureLevels with holes are refused, naming the hole', (t) => {
  // eslint-disable-next-line no-sparse-arrays
  for (const [levels, name] of [[[0.5, , 0.9], 'options.pressureLevels[1]'], [new Array(2), 'options.pressureLevels[0]']]) {
    const err = t.throws(() => new BoundedBuffer({ pressureLevels: levels }), { instanceOf: TypeError })
    t.true(err.message.includes(name), `${err.message} names ${name}`)
    t.true(err.message.endsWith('Received undefined'), err.message) // as core words it
  }
})

test('options are read as core reads them (options.capacity): getters of a class and options inherited through the prototype chain count, and are validated', (t) => {
  class Config {
    get objectMode () { return true }
    get capacity () { return 3 }
    get overflow () { return 'drop-oldest' }
  }
  t.like(new BoundedBuffer(new Config()).stats(), { capacity: 3, overflow: 'drop-oldest' })
  const inherited = new BoundedBuffer(Object.create({ objectMode: true, capacity: 5, readableHighWaterMark: 2 }))
  t.like(inherited.stats(), { capacity: 5 })
  t.is(inherited.readableHighWaterMark, 2, 'a core stream option too')
  t.throws(() => new BoundedBuffer(Object.create({ capacity: 0 })), { instanceOf: RangeError, message: /options\.capacity/ })
})

test('fraction options: the error message states the real bounds, whatever the bad value', (t) => {
  for (const bad of [-1, 0, NaN, Infinity, 1.5]) {
    const err = t.throws(() => new BoundedBuffer({ pressureLevels: [bad] }), { instanceOf: RangeError }, String(bad))
    t.true(err.message.includes('It must be > 0 and <= 1.'), err.message)
  }
  const next = t.throws(() => new BoundedBuffer({ pressureLevels: [0.5, -0.1] }), { instanceOf: RangeError })
  t.true(next.message.includes('It must be > 0.5 (the previous level) and <= 1.'), next.message)
  for (const bad of [-0.1, NaN, 1, 2]) {
    const err = t.throws(() => new BoundedBuffer({ lowWaterMark: bad }), { instanceOf: RangeError }, String(bad))
    t.true(err.message.includes('It must be >= 0 and < 1.'), err.message)
  }
})

test('in a pipeline with a 10x slower consumer, drop-oldest keeps the newest items and never stalls the producer', async (t) => {
  const s = new BoundedBuffer({ objectMode: true, capacity: 16, overflow: 'drop-oldest', readableHighWaterMark: 1 })
  let dropped = 0
  s.on('drop', (d) => { dropped += d.items.length })
  const out = []
  const sink = new PassThrough({ objectMode: true, highWaterMark: 1 })
  s.pipe(sink)
  const reading = (async () => {
    for await (const x of sink) {
      out.push(x)
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve))
    }
  })()
  let falses = 0
  for (let i = 0; i < 2000; i++) {
    if (!s.write(i)) falses++
    if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  s.end()
  await reading
  t.is(falses, 0)
  t.is(out.length + dropped, 2000)
  t.true(out.every((x, i) => i === 0 || x > out[i - 1]), 'in order')
  t.is(out.at(-1), 1999, 'the newest item is delivered')
})

// ---------------------------------------------------------------------------------------------
// Property: for any interleaving of writes and reads, every item written is emitted, dropped or
// still buffered, exactly once, and what is emitted keeps the write order.

const PROPERTY_RUNS = 300

test(`property: emitted + dropped + buffered = written, in order (${PROPERTY_RUNS} random runs, both modes, every strategy, with and without priority)`, async (t) => {
  const strategies = ['block', 'drop-oldest', 'drop-newest', 'drop-incoming', 'drop-all']
  for (let seed = 1; seed <= PROPERTY_RUNS; seed++) {
    const rng = makeRng(seed)
    const objectMode = rng() < 0.5
    const overflow = rng.pick(strategies)
    const withPriority = overflow !== 'block' && rng() < 0.4
    // read() of a byte stream returns all it holds: one chunk at a time only with
    // readableHighWaterMark 0.
    const options = { overflow, objectMode, readableHighWaterMark: !objectMode || rng() < 0.7 ? 0 : 1 + rng.int(3) }
    if (rng() < 0.7) options.capacity = 1 + rng.int(8)
    if (!objectMode && (options.capacity === undefined || rng() < 0.5)) options.capacityBytes = 4 + rng.int(40)
    if (objectMode && options.capacity === undefined) options.capacity = 1 + rng.int(8)
    if (withPriority) options.priority = objectMode ? (item) => item.p : (chunk) => chunk[4]
    if (overflow === 'block') options.writableHighWaterMark = 1 + rng.int(3)
    const label = `seed ${seed}: ${JSON.stringify({ ...options, priority: withPriority })}`

    const s = new BoundedBuffer(options)
    const idOf = objectMode ? (item) => item.id : (chunk) => chunk.readUInt32BE(0)
    const emitted = []
    const dropped = []
    s.on('drop', (d) => { for (const item of d.items) dropped.push(idOf(item)) })
    const total = 20 + rng.int(60)
    let written = 0
    let ok = true
    while (written < total) {
      if (rng() < 0.6) {
        const p = rng.int(4)
        let item
        if (objectMode) {
          item = { id: written, p }
        } else {
          item = Buffer.alloc(5 + rng.int(12))
          item.writeUInt32BE(written, 0)
          item[4] = p
        }
        s.write(item)
        written++
      } else {
        const x = s.read()
        if (x !== null) emitted.push(idOf(x))
      }
      const st = s.stats()
      if (st.buffered > (options.capacity ?? Infinity) || (st.bufferedBytes > (options.capacityBytes ?? Infinity) && st.buffered > 1)) {
        ok = false
        t.fail(`${label}: over capacity: ${st.buffered} items, ${st.bufferedBytes} bytes`)
        break
      }
    }
    if (!ok) break
    const st = s.stats()
    const buffered = st.buffered
    // A write held in 'block' mode is still the writable side's (writableLength), not produced.
    t.is(st.totalProduced, st.totalConsumed + st.droppedItems + st.buffered, label)
    t.is(dropped.length, st.droppedItems, `${label}: every drop was announced`)
    s.end()
    for await (const x of s) emitted.push(idOf(x))
    const all = [...emitted, ...dropped].sort((a, b) => a - b)
    const expected = Array.from({ length: total }, (_, i) => i)
    if (JSON.stringify(all) !== JSON.stringify(expected)) {
      t.fail(`${label}: emitted ∪ dropped is not every item once (buffered before end: ${buffered})\nemitted ${emitted}\ndropped ${dropped}`)
      break
    }
    if (!emitted.every((id, i) => i === 0 || id > emitted[i - 1])) {
      t.fail(`${label}: emitted out of order: ${emitted}`)
      break
    }
    if (overflow === 'block' && dropped.length > 0) {
      t.fail(`${label}: 'block' dropped ${dropped}`)
      break
    }
    const end = checkAccounting(t, s)
    t.is(end.buffered, 0)
  }
})
