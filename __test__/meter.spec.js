'use strict'

// Meter and MonitoredWritable: exact counts, backpressure and drain counts against known
// patterns, wrap() forwarding, stalls and 'stats' on a manual clock (deterministic on a loaded
// machine), ETA, the Prometheus text through a real parser and a real prom-client registry
// scraped over HTTP, and bottleneck() on a pipeline with one deliberately slow stage.

const test = require('ava')
const http = require('node:http')
const { once } = require('node:events')
const fs = require('node:fs')
const path = require('node:path')
const { PassThrough, Readable, Writable, Transform, finished, getDefaultHighWaterMark, pipeline } = require('node:stream')
const { pipeline: pipelineP } = require('node:stream/promises')
const client = require('prom-client')
const parsePrometheus = require('parse-prometheus-text-format')
const { Meter, MonitoredWritable, bottleneck, formatPipeline, registerPrometheus, toPrometheus } = require('..')
const { createClock } = require('../lib/testing.js')
const { randomChunks, runChild } = require('./helpers.js')

/** The first `name` event (events.once would reject on 'error'). */
function next (emitter, name) {
  return new Promise((resolve) => emitter.once(name, (...args) => resolve(args)))
}

/** Runs `script` in a fresh node (without blocking this file's other tests, as spawnSync would). */
function runNode (args, script) {
  const { execFile } = require('node:child_process')
  return new Promise((resolve) => {
    execFile(process.execPath, [...args, '-e', script], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (err.code ?? 1) : 0, stdout, stderr })
    })
  })
}

function sink (options = {}) {
  return new Writable({ ...options, write (chunk, encoding, callback) { callback() } })
}

/** A destination whose writes complete only when the test says so. */
function heldDestination (options = {}) {
  const held = []
  const dest = new Writable({
    ...options,
    write (chunk, encoding, callback) { held.push(callback) }
  })
  dest.releaseAll = () => { for (const cb of held.splice(0)) cb() }
  dest.held = held
  return dest
}

// ---------------------------------------------------------------------------------------------
// Exact counts

test("a 'summary' listener that throws is an uncaught exception, and the pipeline still completes (Meter, MonitoredWritable, MonitoredWritable.wrap)", async (t) => {
  // 'summary' comes from inside core's 'end'/'finish' emit: the throw cut off the listeners after
  // it there, and the pipeline never settled (its promise pending, the sink never finished).
  const root = JSON.stringify(require.resolve('..'))
  const script = `
    const { Meter, MonitoredWritable } = require(${root})
    const { Readable, Writable } = require('node:stream')
    const { pipeline } = require('node:stream/promises')
    let uncaught = 0
    process.on('uncaughtException', (err) => { if (err.message !== 'from summary') throw err; uncaught++ })
    const sink = () => new Writable({ write (c, e, cb) { cb() } })
    const results = {}
    const cases = {
      meter: () => { const m = new Meter(); const out = sink(); return [m, [m, out], out] },
      writable: () => { const w = new MonitoredWritable({ write (c, e, cb) { cb() } }); return [w, [w], w] },
      wrap: () => { const out = sink(); const w = MonitoredWritable.wrap(out); return [w, [w], out] }
    }
    for (const [name, make] of Object.entries(cases)) {
      const [measured, stages, last] = make()
      measured.on('summary', () => { throw new Error('from summary') })
      results[name] = pipeline(Readable.from(['a', 'b']), ...stages).then(() => last.writableFinished, (e) => e.message)
    }
    let done = null
    Promise.all(Object.values(results)).then((d) => { done = d })
    // At exit: the throws come from later turns than the pipelines' ends.
    process.on('exit', () => console.log(JSON.stringify({ done, uncaught })))
  `
  const { status, stdout, stderr } = await runNode([], script)
  t.is(status, 0, stderr)
  t.deepEqual(JSON.parse(stdout), { done: [true, true, true], uncaught: 3 }, stdout + stderr)
})

test('Meter counts bytes and chunks exactly (random chunk sizes), stats() is plain JSON, getStats() is its alias', async (t) => {
  const data = Buffer.alloc(3_000_000, 7)
  const chunks = randomChunks(data, 42, 9000)
  const meter = new Meter({ name: 'bytes' })
  const summaries = []
  meter.on('summary', (s) => summaries.push(s))
  await pipelineP(Readable.from(chunks, { objectMode: false }), meter, sink())
  const s = meter.stats()
  t.is(s.bytes, data.length)
  t.is(s.bytesWritten, data.length)
  t.is(s.chunks, chunks.length)
  t.is(s.chunkSize.count, chunks.length)
  t.is(s.chunkSize.max, Math.max(...chunks.map((c) => c.length)))
  t.deepEqual(JSON.parse(JSON.stringify(s)), s)
  t.deepEqual(meter.getStats(), s)
  t.is(summaries.length, 1)
  t.is(summaries[0].bytes, data.length)
  t.true(s.elapsedMs > 0)
  t.true(Math.abs(s.avgThroughput - s.bytes / (s.elapsedMs / 1000)) < 1e-6 * s.avgThroughput)
  for (const key of ['bytesWritten', 'backpressureEvents', 'drainEvents', 'elapsedMs', 'avgThroughput']) {
    t.is(typeof s[key], 'number', key)
  }
})

test('Meter in object mode counts items exactly; strings and buffers also count their bytes', async (t) => {
  const items = []
  for (let i = 0; i < 20_000; i++) items.push(i % 3 === 0 ? 'abc' : i % 3 === 1 ? Buffer.alloc(5) : { i })
  const meter = new Meter({ objectMode: true, name: 'objects' })
  const out = []
  await pipelineP(Readable.from(items), meter, new Writable({ objectMode: true, write (c, e, cb) { out.push(c); cb() } }))
  const s = meter.stats()
  t.is(out.length, items.length)
  t.is(s.chunks, items.length)
  t.is(s.unit, 'items')
  t.is(s.bytes, 6667 * 3 + 6667 * 5)
})

test("Meter and MonitoredWritable in object mode count bytes of byte data only: a record's own byteLength field is not its size", async (t) => {
  const items = [{ byteLength: -100 }, { byteLength: NaN }, { byteLength: 1e300 }, new Uint16Array(3), new ArrayBuffer(7), 'é']
  const meter = new Meter({ objectMode: true })
  const writable = new MonitoredWritable({ objectMode: true, write (c, e, cb) { cb() } })
  await pipelineP(Readable.from(items), meter, writable)
  for (const s of [meter.stats(), writable.stats()]) {
    t.is(s.chunks, items.length)
    t.is(s.bytes, 6 + 7 + 2)
  }
  t.regex(toPrometheus([meter]), /sluice_stream_bytes_total\{[^}]*\} 15\n/)
})

test('MonitoredWritable: a write() that calls back twice fails the stream with ERR_MULTIPLE_CALLBACK, as core does (no TypeError thrown at the caller)', async (t) => {
  for (const twice of ['at once', 'later']) {
    let second = null
    const w = new MonitoredWritable({
      write (chunk, encoding, cb) {
        cb()
        if (twice === 'at once') cb()
        else second = new Promise((resolve) => setImmediate(() => { cb(); resolve() }))
      }
    })
    const failed = once(w, 'error')
    w.write('x')
    if (second !== null) await second
    const [err] = await failed
    t.is(err.code, 'ERR_MULTIPLE_CALLBACK', twice)
    t.true(w.destroyed)
  }
})

test('MonitoredWritable counts what reached its write(), in byte and object mode', async (t) => {
  const data = Buffer.alloc(1_000_000, 1)
  const chunks = randomChunks(data, 7, 5000)
  let seen = 0
  const w = new MonitoredWritable({ write (chunk, encoding, cb) { seen += chunk.length; setImmediate(cb) } })
  await pipelineP(Readable.from(chunks, { objectMode: false }), w)
  t.is(seen, data.length)
  t.is(w.stats().bytes, data.length)
  t.is(w.stats().chunks, chunks.length)
  const strings = new MonitoredWritable({ decodeStrings: false, write (chunk, encoding, cb) { cb() } })
  strings.write('é€') // 2 + 3 bytes in UTF-8
  strings.write('ff', 'hex')
  t.is(strings.stats().bytes, 6)
  strings.destroy()
  const o = new MonitoredWritable({ objectMode: true, write (chunk, encoding, cb) { cb() } })
  await pipelineP(Readable.from(Array.from({ length: 5000 }, (_, i) => ({ i }))), o)
  t.is(o.stats().chunks, 5000)
})

// ---------------------------------------------------------------------------------------------
// Backpressure and drain

/** Writes until write() returns false, waits for 'drain', `rounds` times; returns the falses. */
async function writeInRounds (w, rounds, chunk) {
  let falses = 0
  for (let r = 0; r < rounds; r++) {
    while (w.write(chunk)) { /* until the stage is full */ }
    falses++
    await once(w, 'drain')
  }
  return falses
}

test('MonitoredWritable: backpressure and drain counts against a slow destination with a known pattern', async (t) => {
  const w = new MonitoredWritable({
    objectMode: true,
    highWaterMark: 4,
    write (chunk, encoding, cb) { setTimeout(cb, 1) }
  })
  const falses = await writeInRounds(w, 6, { x: 1 })
  const s = w.stats()
  t.is(falses, 6)
  t.is(s.backpressureEvents, 6)
  t.is(s.drainEvents, 6)
  t.is(s.chunks, 24) // 4 writes per round: the 4th reaches the highWaterMark
  t.is(s.highWaterMark, 4)
  t.is(s.bufferFillMax, 1)
  t.true(s.blockedMs > 0)
  t.true(s.busyMs >= s.blockedMs * 0.9, `${s.busyMs} vs ${s.blockedMs}`)
  t.true(s.latencyMs.count >= 1)
  w.end()
  await once(w, 'finish')
})

test('object mode: items that only look like buffers count 0 bytes and pass as through a PassThrough (a revoked Proxy, a Proxy of an ArrayBuffer, an object on ArrayBuffer.prototype); without a SharedArrayBuffer global records still count', async (t) => {
  const { proxy: revoked, revoke } = Proxy.revocable({}, {})
  revoke()
  const items = [revoked, new Proxy(new ArrayBuffer(8), {}), Object.setPrototypeOf({ byteLength: 99 }, ArrayBuffer.prototype), new ArrayBuffer(3)]
  const meter = new Meter({ objectMode: true })
  // 'data', not toArray(): an async iterator's await reads a revoked Proxy's `then`.
  const out = []
  meter.on('data', (item) => out.push(item))
  for (const item of items) t.notThrows(() => meter.write(item))
  meter.end()
  await once(meter, 'end')
  t.is(out.length, items.length)
  t.is(out[0], revoked)
  t.is(meter.stats().bytes, 3, 'only the ArrayBuffer has bytes')
  const script = `const { Meter } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const m = new Meter({ objectMode: true }); m.resume(); m.write({ a: 1 }); m.write(new Uint8Array(4)); m.end(() => console.log(m.stats().bytes))`
  const child = await runChild(['--enable-sharedarraybuffer-per-context', '-e', script])
  t.is(child.status, 0, child.stderr)
  t.is(child.stdout.trim(), '4', 'no SharedArrayBuffer global')
})

test('A Meter subclass with a _transform of its own uses it, as a PassThrough subclass does; super._transform() counts and passes on', async (t) => {
  class Upper extends Meter {
    _transform (chunk, encoding, callback) { super._transform(Buffer.from(chunk.toString().toUpperCase()), encoding, callback) }
  }
  class Dropping extends Meter {
    _transform (chunk, encoding, callback) { callback() }
  }
  for (const [Class, expected, bytes] of [[Upper, 'HELLO', 5], [Dropping, '', 0], [Meter, 'hello', 5]]) {
    const meter = new Class()
    let out = ''
    meter.on('data', (chunk) => { out += chunk })
    meter.end('hello')
    await once(meter, 'end')
    t.is(out, expected, Class.name)
    t.is(meter.stats().bytes, bytes, Class.name)
  }
  const objects = new (class extends Meter { _transform (item, encoding, callback) { super._transform({ wrapped: item }, encoding, callback) } })({ objectMode: true })
  objects.end('x')
  t.deepEqual(await objects.toArray(), [{ wrapped: 'x' }])
  t.is(objects.stats().chunks, 1)
})

test('MonitoredWritable, both forms: a write after end() or destroy() (false, and an error, as in core) is not a backpressure event, nor blocked time', async (t) => {
  const forms = {
    own: () => new MonitoredWritable({ write (chunk, encoding, cb) { cb() } }),
    wrap: () => MonitoredWritable.wrap(new Writable({ write (chunk, encoding, cb) { cb() } }).on('error', () => {}))
  }
  for (const [name, make] of Object.entries(forms)) {
    for (const stop of ['end', 'destroy']) {
      const w = make()
      const errors = []
      w.on('error', (err) => errors.push(err.code))
      t.true(w.write('a'), `${name}: room for the first write`)
      w[stop]()
      for (let i = 0; i < 5; i++) t.false(w.write('b'), `${name} after ${stop}: refused`)
      // (once() would reject on the 'error' of the write after end.)
      await new Promise((resolve) => w.on('close', resolve))
      t.like(w.stats(), { backpressureEvents: 0, blockedMs: 0, bytes: 1 }, `${name} after ${stop}`)
      if (stop === 'end') t.deepEqual(errors.slice(0, 1), ['ERR_STREAM_WRITE_AFTER_END'], name)
    }
  }
})

test('wrap(): write() returns false exactly when the destination does, and drain follows the destination', async (t) => {
  const dest = new Writable({ highWaterMark: 100, write (chunk, encoding, cb) { setTimeout(cb, 1) } })
  const returned = []
  const realWrite = dest.write
  dest.write = function (...args) {
    const ok = realWrite.apply(this, args)
    returned.push(ok)
    return ok
  }
  const w = MonitoredWritable.wrap(dest, { name: 'wrapped' })
  t.true(w instanceof MonitoredWritable)
  t.true(w instanceof Writable)
  const ours = []
  for (let r = 0; r < 5; r++) {
    for (;;) {
      const ok = w.write(Buffer.alloc(30))
      ours.push(ok)
      if (!ok) break
    }
    t.true(w.writableNeedDrain)
    await once(w, 'drain')
  }
  t.deepEqual(ours, returned)
  const s = w.stats()
  t.is(s.backpressureEvents, 5)
  t.is(s.drainEvents, 5)
  t.is(s.chunks, 20) // 30-byte chunks against 100: the 4th (120 bytes) is refused
  t.is(s.bytes, 600)
  t.is(s.highWaterMark, 100)
  w.end()
  await once(w, 'finish')
  t.true(dest.writableFinished)
})

test('wrap(): writes into a destination destroyed without an error are not counted (they fail with ERR_STREAM_DESTROYED)', async (t) => {
  const dest = new Writable({ write (c, e, cb) { cb() } })
  const w = MonitoredWritable.wrap(dest)
  w.on('error', () => {})
  const summary = new Promise((resolve) => w.on('summary', resolve))
  w.write('a')
  w.write('b')
  dest.destroy()
  const failures = ['cc', 'dd'].map((chunk) => new Promise((resolve) => w.write(chunk, resolve)))
  t.deepEqual((await Promise.all(failures)).map((err) => err?.code), ['ERR_STREAM_DESTROYED', 'ERR_STREAM_DESTROYED'])
  t.like(await summary, { bytes: 2, chunks: 2 })
  t.like(w.stats(), { bytes: 2, chunks: 2 })
})

test('wrap(): end() ends the destination and finish comes after the destination has finished', async (t) => {
  const got = []
  const dest = new Writable({ write (chunk, encoding, cb) { got.push(chunk.toString()); setTimeout(cb, 2) } })
  const order = []
  dest.on('finish', () => order.push('dest finish'))
  const w = MonitoredWritable.wrap(dest)
  w.on('finish', () => order.push('wrap finish'))
  w.write('a')
  w.write('b', () => order.push('b written'))
  w.end('c')
  await once(w, 'close')
  t.deepEqual(got, ['a', 'b', 'c'])
  t.deepEqual(order, ['b written', 'dest finish', 'wrap finish'])
  t.is(w.stats().bytes, 3)
  t.true(dest.destroyed)
})

test('wrap() in pipeline(): every byte reaches the destination, honouring its backpressure', async (t) => {
  let bytes = 0
  const dest = new Writable({ highWaterMark: 1024, write (chunk, encoding, cb) { bytes += chunk.length; setImmediate(cb) } })
  const w = MonitoredWritable.wrap(dest)
  await pipelineP(Readable.from(randomChunks(Buffer.alloc(200_000), 3, 700), { objectMode: false }), w)
  t.is(bytes, 200_000)
  const s = w.stats()
  t.is(s.bytes, 200_000)
  t.true(s.backpressureEvents > 0)
  t.is(s.drainEvents, s.backpressureEvents)
  t.true(s.bufferedMax <= 1024 + 700)
})

test('wrap(): an error of the destination reaches the wrapper (and pipeline), then close', async (t) => {
  const dest = new Writable({ write (chunk, encoding, cb) { cb(new Error('disk full')) } })
  const w = MonitoredWritable.wrap(dest)
  const events = []
  w.on('error', (err) => events.push('error ' + err.message))
  w.on('close', () => events.push('close'))
  w.write('x')
  await next(w, 'close')
  t.deepEqual(events, ['error disk full', 'close'])
  const dest2 = new Writable({ write (chunk, encoding, cb) { setTimeout(() => cb(new Error('boom')), 5) } })
  const err = await t.throwsAsync(pipelineP(Readable.from(['a', 'b', 'c']), MonitoredWritable.wrap(dest2)))
  t.is(err.message, 'boom')
})

test('a write the destination fails is not counted: bytes and chunks are what it took (both forms, failing at once or later)', async (t) => {
  // Fails its third write and, as core does, every write after it.
  const failing = (sync) => {
    let n = 0
    return (chunk, encoding, cb) => {
      const err = ++n >= 3 ? new Error('disk full') : null
      if (sync) cb(err)
      else setImmediate(cb, err)
    }
  }
  for (const sync of [true, false]) {
    for (const wrapped of [true, false]) {
      const w = wrapped ? MonitoredWritable.wrap(new Writable({ write: failing(sync) })) : new MonitoredWritable({ write: failing(sync) })
      const errored = new Promise((resolve) => w.on('error', resolve))
      const closed = next(w, 'close')
      for (let i = 0; i < 5; i++) w.write(Buffer.alloc(100))
      t.is((await errored).message, 'disk full')
      await closed
      t.like(w.stats(), { bytes: 200, chunks: 2 }, `${wrapped ? 'wrap()' : 'constructor'}, ${sync ? 'at once' : 'later'}`)
    }
  }
  // A file on a full disk: not one byte was written.
  const file = MonitoredWritable.wrap(fs.createWriteStream('/dev/full'))
  const errored = new Promise((resolve) => file.on('error', resolve))
  const closed = next(file, 'close')
  for (let i = 0; i < 5; i++) file.write(Buffer.alloc(1000))
  t.is((await errored).code, 'ENOSPC')
  await closed
  t.like(file.stats(), { bytes: 0, chunks: 0 })
})

test('wrap(): end(callback) after destroy() is answered with ERR_STREAM_DESTROYED, as the destination alone answers it', async (t) => {
  const destinations = {
    'synchronous': () => new Writable({ write (c, e, cb) { cb() } }),
    'asynchronous': () => new Writable({ write (c, e, cb) { setImmediate(cb) } })
  }
  for (const [name, make] of Object.entries(destinations)) {
    for (const wrapped of [false, true]) {
      const s = wrapped ? MonitoredWritable.wrap(make()) : make()
      const calls = []
      s.write('a', (err) => calls.push(err?.code ?? 'ok'))
      s.write('b', (err) => calls.push(err?.code ?? 'ok'))
      s.destroy()
      const code = await new Promise((resolve) => s.end((err) => resolve(err?.code ?? 'ok')))
      t.is(code, 'ERR_STREAM_DESTROYED', `${name}${wrapped ? ', wrapped' : ''}`)
      if (!s.closed) await once(s, 'close')
    }
  }
})

// Found by the contract fuzz (wrap (bytes) seed 11133): an end(callback) filed before destroy()
// was answered from the tick destroy() queued (the wrapper's own buffer is empty), before the
// destination's write in flight and before a later end()'s ERR_STREAM_WRITE_AFTER_END; the
// destination alone answers it after that write, with its error when that write fails.
test('wrap(): end(callback) made before destroy() with a destination write in flight is answered after that write, as the destination alone answers it', async (t) => {
  const order = async (wrapped, fails, error) => {
    const log = []
    // Done once 'close' and the three callbacks are in (a turn more for anything that would
    // follow them); bounded generously, so that a callback never made fails the comparison.
    let done
    const settled = new Promise((resolve) => { done = resolve })
    const push = (entry) => {
      log.push(entry)
      if (['close', 'write x', 'end1', 'end2'].every((k) => log.some((l) => l.startsWith(k)))) done()
    }
    const dest = new Writable({
      write (c, e, cb) { setImmediate(() => cb(fails ? Object.assign(new Error('dest'), { code: 'DEST' }) : null)) }
    })
    const w = wrapped ? MonitoredWritable.wrap(dest) : dest
    const code = (err) => err?.code ?? null
    w.on('error', (err) => push('error ' + code(err)))
    w.on('close', () => push('close'))
    w.write('x', (err) => push('write x ' + code(err)))
    w.end('a', (err) => push('end1 ' + code(err)))
    w.destroy(error ? Object.assign(new Error('boom'), { code: 'BOOM' }) : undefined)
    w.end('b', (err) => push('end2 ' + code(err)))
    const bound = setTimeout(done, 10000)
    await settled
    clearTimeout(bound)
    await new Promise((resolve) => setImmediate(resolve))
    return log
  }
  for (const fails of [false, true]) {
    for (const error of [false, true]) {
      const alone = await order(false, fails, error)
      t.is(alone.indexOf('end2 ERR_STREAM_WRITE_AFTER_END') < alone.findIndex((l) => l.startsWith('end1')), true, 'destination alone')
      t.deepEqual(await order(true, fails, error), alone, `wrapped${fails ? ', its write failing' : ''}${error ? ', destroy(err)' : ''}`)
    }
  }
})

// Found by the contract fuzz (__test__/contract-fuzz/): the wrapper forwards its writes, so its
// own buffer is empty, and core's finished() takes an ended Writable with an empty buffer for
// finished. Destroyed while the destination still held writes, the wrapper said success.
test('wrap(): destroyed while the destination holds writes, pipeline() and finished() report a premature close, as for the destination alone', async (t) => {
  const outcome = (wrapped, when) => new Promise((resolve) => {
    const dest = new Writable({ objectMode: true, write () { /* held: never answered */ } })
    const w = wrapped ? MonitoredWritable.wrap(dest) : dest
    const results = {}
    const settle = (key) => (err) => {
      results[key] = err?.code ?? null
      if ('pipeline' in results && 'finished' in results) resolve(results)
    }
    const source = Readable.from([1, 2, 3])
    if (when === 'after end') source.on('end', () => setImmediate(() => w.destroy()))
    else w.once('pipe', () => setImmediate(() => { w.destroy(); w.end() }))
    pipeline(source, w, settle('pipeline'))
    finished(w, settle('finished'))
  })
  for (const when of ['after end', 'then end()']) {
    const alone = await outcome(false, when)
    t.deepEqual(alone, { pipeline: 'ERR_STREAM_PREMATURE_CLOSE', finished: 'ERR_STREAM_PREMATURE_CLOSE' }, `destination alone, destroyed ${when}`)
    t.deepEqual(await outcome(true, when), alone, `wrapped, destroyed ${when}`)
  }
})

test('wrap(): end(chunk, callback) after end() or destroy() is refused as core refuses it: write after end', async (t) => {
  for (const how of ['finished', 'destroyed after end()']) {
    const codes = []
    for (const wrapped of [false, true]) {
      const dest = new Writable({ write (c, e, cb) { cb() } })
      const w = wrapped ? MonitoredWritable.wrap(dest) : dest
      w.on('error', () => {})
      w.end('a')
      if (how === 'finished') await once(w, 'finish')
      else w.destroy()
      codes.push(await new Promise((resolve) => w.end('b', (err) => resolve(err?.code ?? null))))
    }
    t.deepEqual(codes, ['ERR_STREAM_WRITE_AFTER_END', 'ERR_STREAM_WRITE_AFTER_END'], how)
  }
})

test('wrap(): destroying the wrapper destroys the destination with the error; a destination closed early errors the wrapper', async (t) => {
  const dest = heldDestination()
  const w = MonitoredWritable.wrap(dest)
  dest.on('error', () => {})
  w.on('error', () => {})
  w.write('x')
  const boom = new Error('stop')
  w.destroy(boom)
  await next(dest, 'close')
  t.is(dest.errored, boom)
  const dest2 = heldDestination()
  const w2 = MonitoredWritable.wrap(dest2)
  const errored = next(w2, 'error')
  dest2.destroy()
  const [err] = await errored
  t.is(err.code, 'ERR_STREAM_PREMATURE_CLOSE')
  t.true(w2.destroyed)
  // Writes after destroy fail as core's do.
  const late = await new Promise((resolve) => w2.write('y', resolve))
  t.is(late.code, 'ERR_STREAM_DESTROYED')
})

test('wrap(): a destination already destroyed or ended errors the wrapper (premature close) instead of hanging pipeline()', async (t) => {
  const destroyed = sink()
  destroyed.destroy()
  await next(destroyed, 'close')
  const ended = sink()
  ended.end()
  await next(ended, 'close')
  const ending = sink() // ended, not yet finished
  ending.end()
  for (const dest of [destroyed, ended, ending]) {
    const w = MonitoredWritable.wrap(dest)
    // Asynchronously, as a stream error: wrap() itself does not throw.
    const err = await t.throwsAsync(pipelineP(Readable.from(['data']), w))
    t.is(err.code, 'ERR_STREAM_PREMATURE_CLOSE')
    t.true(w.destroyed)
    t.is(w.stats().chunks, 0)
  }
  // Written to, or ended, before the error comes: the write fails, the end does not finish.
  const w = MonitoredWritable.wrap(destroyed)
  const failed = new Promise((resolve) => w.write('x', resolve))
  const [err] = await next(w, 'error')
  t.is(err.code, 'ERR_STREAM_PREMATURE_CLOSE')
  t.is((await failed).code, 'ERR_STREAM_PREMATURE_CLOSE')
  const w2 = MonitoredWritable.wrap(ended)
  let finished = false
  w2.on('finish', () => { finished = true })
  w2.end()
  t.is((await next(w2, 'error'))[0].code, 'ERR_STREAM_PREMATURE_CLOSE')
  t.false(finished)
  // The wrapper does not destroy a destination that was ended by its owner and still finishing.
  t.false(ending.errored !== null && ending.errored !== undefined)
})

test('wrap(): a destination destroyed with an error just before it is wrapped (its error still to come) errors the wrapper with it, not uncaught', async (t) => {
  const boom = new Error('gone before wrap')
  const destroyed = () => {
    const dest = sink()
    dest.destroy(boom)
    return dest
  }
  const aborted = () => new Writable({ signal: AbortSignal.abort(), write (c, e, cb) { cb() } })
  for (const [make, check] of [[destroyed, (err) => t.is(err, boom)], [aborted, (err) => t.is(err.name, 'AbortError')]]) {
    const w = MonitoredWritable.wrap(make())
    const closed = next(w, 'close')
    const err = await t.throwsAsync(pipelineP(Readable.from(['data']), w))
    check(err)
    t.is(w.errored, err)
    await closed
  }
})

test('wrap(): a destination ended or finished by other code mid-stream rejects pipeline() with a premature close', async (t) => {
  const dest = new Writable({ write (c, e, cb) { setImmediate(cb) } })
  let n = 0
  const src = new Readable({ read () { setImmediate(() => this.push(String(n++))) } })
  const w = MonitoredWritable.wrap(dest)
  const done = pipelineP(src, w)
  while (n < 5) await new Promise((resolve) => setImmediate(resolve)) // some data through first
  dest.end() // e.g. a timeout handler ends the response
  const err = await t.throwsAsync(done)
  t.is(err.code, 'ERR_STREAM_PREMATURE_CLOSE')
  t.true(src.destroyed)
  // A destination that never closes (emitClose: false) still ends the wrapper at its 'finish'.
  const quiet = new Writable({ emitClose: false, autoDestroy: false, write (c, e, cb) { cb() } })
  const w2 = MonitoredWritable.wrap(quiet)
  const errored = next(w2, 'error')
  w2.write('a')
  quiet.end()
  const [err2] = await errored
  t.is(err2.code, 'ERR_STREAM_PREMATURE_CLOSE')
})

test('wrap(): cork state, end() callback errors and a pending drain are the destination\'s, as if it were written directly', async (t) => {
  // Node's documented uncork loop: it must see the destination corked, or nothing is written.
  const got = []
  const dest = new Writable({ write (c, e, cb) { got.push(String(c)); cb() } })
  const w = MonitoredWritable.wrap(dest)
  w.cork()
  t.is(w.writableCorked, 1)
  const written = new Promise((resolve) => {
    w.write('a\n')
    w.write('b\n', resolve)
  })
  process.nextTick(() => { while (w.writableCorked) w.uncork() })
  await written
  t.deepEqual(got, ['a\n', 'b\n'])
  w.end()

  // end(cb) gets the destination's own error (its last write failed, or its _final).
  for (const where of ['write', 'final']) {
    const failing = new Writable({
      write (c, e, cb) { setImmediate(cb, where === 'write' ? new Error('disk full') : null) },
      final (cb) { setImmediate(cb, where === 'final' ? new Error('fsync failed') : null) }
    })
    const wrapped = MonitoredWritable.wrap(failing)
    wrapped.on('error', () => {})
    const err = await new Promise((resolve) => wrapped.end('last\n', resolve))
    t.is(err?.message, where === 'write' ? 'disk full' : 'fsync failed', `end() callback, the destination failing in ${where}`)
  }

  // A destination already waiting for 'drain' when wrapped: so does the wrapper.
  const slow = new Writable({ highWaterMark: 1, write (c, e, cb) { setImmediate(cb) } })
  slow.write('x')
  const behind = MonitoredWritable.wrap(slow)
  t.true(behind.writableNeedDrain)
  await once(behind, 'drain')
  t.false(behind.writableNeedDrain)
  behind.end()
})

test('wrap(): strings count with the encoding used: the write argument, else the default encoding of the destination', async (t) => {
  const dest = sink()
  dest.setDefaultEncoding('hex')
  const w = MonitoredWritable.wrap(dest)
  w.write('abcd') // 2 bytes in hex
  w.write('abcd', 'utf8') // 4 bytes
  w.write('aGk=', 'base64') // 2 bytes
  await new Promise((resolve) => w.end(resolve))
  t.is(w.stats().bytes, 8)
})

test('strings count as the bytes the destination gets, also hex and base64 that Buffer.byteLength only estimates', async (t) => {
  // [text, encoding]: invalid or partial hex and base64, which the decoder cuts short or skips.
  const writes = [['zz', 'hex'], ['0g12', 'hex'], ['abc', 'hex'], ['ab c', 'base64'], ['a', 'base64'], ['-_-_', 'base64url'], ['abcd', 'HEX'], ['é', 'utf8']]
  const expected = writes.reduce((sum, [text, encoding]) => sum + Buffer.from(text, encoding).length, 0)
  const received = []
  const dest = new Writable({ write (chunk, encoding, callback) { received.push(chunk); callback() } })
  const w = MonitoredWritable.wrap(dest)
  for (const [text, encoding] of writes) w.write(text, encoding)
  await new Promise((resolve) => w.end(resolve))
  t.is(Buffer.concat(received).length, expected)
  t.is(w.stats().bytes, expected, 'wrap()')
  const defaultHex = sink()
  defaultHex.setDefaultEncoding('hex')
  const h = MonitoredWritable.wrap(defaultHex)
  h.write('zz12')
  await new Promise((resolve) => h.end(resolve))
  t.is(h.stats().bytes, 0, "the destination's default encoding: 'zz12' as hex is no byte")
  const strings = new MonitoredWritable({ decodeStrings: false, write (chunk, encoding, cb) { cb() } })
  for (const [text, encoding] of writes) strings.write(text, encoding)
  await new Promise((resolve) => strings.end(resolve))
  t.is(strings.stats().bytes, expected, 'decodeStrings: false')
  const objects = new MonitoredWritable({ objectMode: true, write (chunk, encoding, cb) { cb() } })
  for (const [text, encoding] of writes) objects.write(text, encoding)
  await new Promise((resolve) => objects.end(resolve))
  t.is(objects.stats().bytes, expected, 'object mode')
})

test("wrap(): the wrapper's setDefaultEncoding() is the destination's (which encodes the strings), and the count follows it", async (t) => {
  const received = []
  const dest = new Writable({ write (chunk, encoding, callback) { received.push(chunk); callback() } })
  const w = MonitoredWritable.wrap(dest)
  t.is(w.setDefaultEncoding('hex'), w)
  w.write('abcd') // 2 bytes in hex
  await new Promise((resolve) => w.end(resolve))
  t.deepEqual(Buffer.concat(received), Buffer.from([0xab, 0xcd]))
  t.is(w.stats().bytes, 2)
})

test('options are validated with TypeError/RangeError naming the option', (t) => {
  const cases = [
    [{ interval: 0 }, RangeError, 'interval'],
    [{ interval: 9 }, RangeError, 'interval'],
    [{ interval: Number.MAX_SAFE_INTEGER }, RangeError, 'interval'],
    [{ interval: 2 ** 31 + 1 }, RangeError, 'interval'],
    [{ stallMs: 5 }, RangeError, 'stallMs'],
    [{ stallMs: Number.MAX_SAFE_INTEGER }, RangeError, 'stallMs'],
    [{ interval: 'x' }, TypeError, 'interval'],
    [{ stallMs: -1 }, RangeError, 'stallMs'],
    [{ halfLifeMs: 0 }, RangeError, 'halfLifeMs'],
    [{ halfLifeMs: NaN }, RangeError, 'halfLifeMs'],
    [{ total: -5 }, RangeError, 'total'],
    [{ total: '5' }, TypeError, 'total'],
    [{ name: 5 }, TypeError, 'name'],
    [{ clock: {} }, TypeError, 'clock'],
    [{ nope: 1 }, TypeError, 'nope']
  ]
  for (const [options, type, name] of cases) {
    const e1 = t.throws(() => new Meter(options), { instanceOf: type })
    t.true(e1.message.includes(name), e1.message)
    t.truthy(e1.code)
    const e2 = t.throws(() => MonitoredWritable.wrap(sink(), options), { instanceOf: type })
    t.true(e2.message.includes(name), e2.message)
  }
  t.throws(() => MonitoredWritable.wrap({}), { instanceOf: TypeError, message: /destination/ })
  // Without destroy() it would crash later, when an error or a destroy() propagates to it.
  t.throws(() => MonitoredWritable.wrap({ write () { return true }, end () {}, on () {} }), { instanceOf: TypeError, message: /destination/ })
  // end() waits for the destination's 'finish' or 'close' with once() and lets go of the other
  // with off(): without them it failed at end() (dest.once is not a function), with no code.
  const fourMethods = { write (c, e, cb) { cb(); return true }, end () {}, on () { return this }, destroy () {} }
  t.throws(() => MonitoredWritable.wrap(fourMethods), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /"destination" argument .*once.*off/ })
  t.throws(() => new MonitoredWritable({ write: 5 }), { instanceOf: TypeError, message: /write/ })
  // The Writable options core itself takes unchecked: refused by name, as every option is.
  for (const key of ['decodeStrings', 'emitClose', 'autoDestroy']) {
    for (const bad of ['no', 0, null]) {
      t.throws(() => new MonitoredWritable({ [key]: bad }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: new RegExp(`"options\\.${key}"`) })
    }
  }
  // A look-alike signal (core checks only for `aborted`, then fails calling addEventListener with
  // a TypeError that names nothing): refused by name, by every class that takes a signal.
  const sluice = require('..')
  for (const make of [
    (o) => new sluice.NdjsonParser(o), (o) => new sluice.NdjsonStringifier(o), (o) => new sluice.Throttle({ rate: 1, ...o }),
    (o) => new sluice.BoundedBuffer(o), (o) => new Meter(o), (o) => new MonitoredWritable(o)
  ]) {
    t.throws(() => make({ signal: { aborted: false } }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /"options\.signal"/ })
    // Aborted already, it is never listened to: destroyed at once with an AbortError, as core does.
    const aborted = make({ signal: { aborted: true } })
    aborted.on('error', () => {})
    t.true(aborted.destroyed)
  }
  t.throws(() => new MonitoredWritable({ defaultEncoding: 'bogus' }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /"options\.defaultEncoding"/ })
  t.throws(() => new MonitoredWritable({ defaultEncoding: null }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /"options\.defaultEncoding"/ })
  const written = []
  const hex = new MonitoredWritable({ defaultEncoding: 'hex', decodeStrings: true, emitClose: false, autoDestroy: true, write (chunk, encoding, cb) { written.push(chunk); cb() } })
  hex.write('6869')
  t.deepEqual(written, [Buffer.from('hi')])
  hex.destroy()
  for (const [bad, type] of [[-1, RangeError], [undefined, TypeError], ['5', TypeError], [NaN, RangeError]]) {
    const m = new Meter()
    const err = t.throws(() => m.setTotal(bad), { instanceOf: type })
    t.regex(err.message, /"total"/) // the argument, not options.total
    if (type === TypeError) t.regex(err.message, /^The "total" argument must be/)
    // The options object is an argument too (as core words it), its keys are options.
    t.throws(() => new Meter(null), { instanceOf: TypeError, message: /^The "options" argument must be an object/ })
    t.truthy(err.code)
    m.destroy()
  }
  // null clears the total, in the constructor as in setTotal().
  const cleared = new Meter({ total: null })
  t.is(cleared.stats().total, null)
  t.is(cleared.setTotal(10).stats().total, 10)
  t.is(cleared.setTotal(null).stats().total, null)
  cleared.destroy()
})

// ---------------------------------------------------------------------------------------------
// Time: manual clock

test('stall: a destination that blocks makes a blocked stall, reported once, while stats keep coming', (t) => {
  const clock = createClock()
  const dest = heldDestination({ highWaterMark: 1 })
  const w = MonitoredWritable.wrap(dest, { name: 'sink', clock, interval: 50, stallMs: 100 })
  const stalls = []
  const stats = []
  w.on('stall', (s) => stalls.push(s))
  w.on('stats', (s) => stats.push(s))
  t.false(w.write('x'))
  clock.advance(90)
  t.deepEqual(stalls, [])
  clock.advance(1000)
  t.is(stalls.length, 1)
  t.is(stalls[0].stage, 'sink')
  t.is(stalls[0].reason, 'blocked')
  t.true(stalls[0].ms >= 100 && stalls[0].ms <= 125, String(stalls[0].ms))
  // Snapshots kept coming while stalled: one every 50 ms over 1090 ms.
  t.is(stats.length, 21)
  t.is(stats.at(-1).stalls, 1)
  t.is(stats.at(-1).backpressureEvents, 1)
  t.true(Math.abs(stats.at(-1).blockedMs - 1050) < 1e-6, String(stats.at(-1).blockedMs))
  // Progress re-arms the detector.
  dest.releaseAll()
  w.write('y')
  dest.releaseAll()
  clock.advance(50)
  clock.advance(500)
  t.is(stalls.length, 2)
  t.is(stalls[1].reason, 'starved')
  w.destroy()
})

test('stall: a Meter waiting for upstream reports starved; one that downstream refuses reports blocked', (t) => {
  const clock = createClock()
  const starved = new Meter({ name: 'idle', clock, stallMs: 200 })
  const stalls = []
  starved.on('stall', (s) => stalls.push(s))
  // Never written: starved from its creation, so the stall comes stallMs after it, not a check
  // period later (the first check used to count as progress).
  clock.advance(199)
  t.deepEqual(stalls, [])
  clock.advance(1)
  t.is(stalls.length, 1)
  t.is(stalls[0].ms, 200)
  t.is(stalls[0].reason, 'starved')
  t.is(stalls[0].stage, 'idle')
  starved.destroy()

  const blocked = new Meter({ name: 'full', clock, stallMs: 200, highWaterMark: 4 })
  const b = []
  blocked.on('stall', (s) => b.push(s))
  while (blocked.write(Buffer.alloc(4))) { /* nobody reads */ }
  clock.advance(300)
  t.is(b.length, 1)
  t.is(b[0].reason, 'blocked')
  const s = blocked.stats()
  t.is(s.backpressureEvents >= 1, true)
  t.true(Math.abs(s.blockedMs - 300) < 1e-6, String(s.blockedMs))
  t.true(s.starvedMs < 1e-6)
  blocked.destroy()
})

test("stall: never early, also when the check that saw the last progress ran late (a busy event loop, real clock)", async (t) => {
  // The last write happens at the end of a synchronous stretch that holds up the check due in
  // it: that check sees the write when it finally runs, and the stall must come at least stallMs
  // after it, not four on-time checks later (which was stallMs/4 early). Only a lower bound: load
  // can delay the stall, never bring it forward.
  const stallMs = 400
  const m = new Meter({ stallMs })
  m.resume()
  const t0 = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 40))
  while (performance.now() - t0 < 200) { /* busy: holds up the check due at 100 ms */ }
  m.write(Buffer.from('x'))
  const lastWrite = performance.now()
  const [stall] = await next(m, 'stall')
  const quiet = performance.now() - lastWrite
  t.true(quiet >= stallMs - 1, `the stall came ${quiet.toFixed(0)} ms after the last write (stallMs ${stallMs})`)
  t.true(stall.ms >= stallMs && stall.ms <= quiet + 1, `ms ${stall.ms} of ${quiet.toFixed(0)}`)
  m.destroy()
})

test('bufferFillMean: null before the first interval ends (beside an exact bufferFillMax), then the time-weighted fill', (t) => {
  const clock = createClock()
  const m = new Meter({ clock, interval: 100, highWaterMark: 4 })
  while (m.write(Buffer.alloc(4))) { /* nobody reads: full */ }
  clock.advance(50)
  const early = m.stats()
  t.true(early.bufferFillMax >= 1, String(early.bufferFillMax))
  t.is(early.bufferFillMean, null)
  clock.advance(50) // the first interval ends, full all along
  clock.advance(100)
  const later = m.stats()
  t.is(typeof later.bufferFillMean, 'number')
  t.true(later.bufferFillMean > 0 && later.bufferFillMean <= later.bufferFillMax, `${later.bufferFillMean} of ${later.bufferFillMax}`)
  m.destroy()
})

test("a Meter made after sinon's fake timers were installed (on the real global, after sluice loaded) keeps the real time: 'stats' and its 'stall' come", async (t) => {
  // What `sinon.useFakeTimers()` does in a mocha or ava test: every timer, Date and performance
  // faked, and never ticked here.
  const FakeTimers = require('@sinonjs/fake-timers')
  const fake = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'Date', 'hrtime', 'performance'] })
  let meter
  try {
    meter = new Meter({ interval: 20, stallMs: 100 })
    meter.write('abc')
  } finally {
    fake.uninstall()
  }
  // Both come, in whatever order a loaded machine delivers them: a busy event loop merges the
  // ticks of 'stats' that JavaScript has not handled yet (counting them was not a bound).
  const events = Promise.all([once(meter, 'stall'), once(meter, 'stats')])
  // (The meter's timer does not hold the process open: the real timer below does, meanwhile.)
  let timer
  const [[stall], [stats]] = await Promise.race([events, new Promise((resolve) => { timer = setTimeout(resolve, 10_000, [[null], [null]]) })])
  clearTimeout(timer)
  t.not(stall, null, 'a stall within 10 s')
  t.is(stall?.reason, 'starved')
  t.true(stall?.ms >= 100, `stall after ${stall?.ms} ms`)
  t.is(stats?.bytes, 3, "'stats' within 10 s, with the write counted")
  meter.destroy()
})

test('byte counts and rates are shown as they round: 99.97 as 100, 1023.6 as 1.0 of the next unit (no width jitter)', (t) => {
  const { formatBytes, formatRate } = require('../lib/meter.js')
  const shown = [5, 99.94, 99.97, 1023, 1023.6, 99.97 * 1024, 1023.7 * 1024, 1.5 * 1024 ** 3].map(formatBytes)
  t.deepEqual(shown, ['5 B', '99.9 B', '100 B', '1023 B', '1.0 KiB', '100 KiB', '1.0 MiB', '1.5 GiB'])
  t.is(formatRate(99.97, 'items'), '100 items/s')
  t.is(formatRate(99.97 * 1024, 'bytes'), '100 KiB/s')
})

test('no stats, stall or summary-after-close: a destroyed meter stops its timer', (t) => {
  const clock = createClock()
  const m = new Meter({ clock, interval: 10, stallMs: 10 })
  let events = 0
  m.on('stats', () => events++)
  m.on('stall', () => events++)
  clock.advance(25)
  const before = events
  t.true(before >= 2)
  m.destroy()
  clock.advance(1000)
  t.is(events, before)
  t.is(clock.now(), 1025)
})

test('rates: current over the interval, smoothed with the half-life, average; min/max in the summary', (t) => {
  const clock = createClock()
  const m = new Meter({ clock, interval: 1000, halfLifeMs: 1000 })
  const stats = []
  m.on('stats', (s) => stats.push(s))
  m.resume()
  m.write(Buffer.alloc(1000))
  clock.advance(1000)
  m.write(Buffer.alloc(3000))
  clock.advance(1000)
  clock.advance(1000)
  t.is(stats.length, 3)
  t.deepEqual(stats.map((s) => s.currentRate), [1000, 3000, 0])
  t.is(stats[0].smoothedRate, 1000)
  t.is(stats[1].smoothedRate, 2000) // one half-life: halfway from 1000 to 3000
  t.is(stats[2].smoothedRate, 1000)
  t.is(stats[2].averageRate, 4000 / 3)
  const summary = once(m, 'summary')
  m.end()
  return summary.then(([s]) => {
    t.is(s.minRate, 0)
    t.is(s.maxRate, 3000)
    t.is(s.bytes, 4000)
    t.is(s.elapsedMs, 3000)
  })
})

test('ETA: from the smoothed rate with a total, null without one or before any rate; never negative or Infinity', (t) => {
  const clock = createClock()
  const m = new Meter({ clock, total: 10_000, halfLifeMs: 1000 })
  m.resume()
  t.is(m.stats().eta, null) // no rate yet
  t.is(m.stats().percent, 0)
  m.write(Buffer.alloc(2500))
  clock.advance(1000)
  let s = m.stats()
  t.is(s.percent, 25)
  t.is(s.eta, 3) // 7500 left at 2500/s
  clock.advance(5000) // stalled: the smoothed rate decays, the ETA grows, stays finite
  s = m.stats()
  t.true(s.eta > 3 && Number.isFinite(s.eta), String(s.eta))
  m.write(Buffer.alloc(20_000)) // beyond the total
  clock.advance(1000)
  s = m.stats()
  t.is(s.percent, 100)
  t.is(s.eta, 0)
  m.setTotal(null)
  s = m.stats()
  t.is(s.percent, null)
  t.is(s.eta, null)
  t.is(s.total, null)
  const none = new Meter({ clock })
  none.resume()
  none.write(Buffer.alloc(10))
  clock.advance(1000)
  t.is(none.stats().eta, null)
  t.is(none.stats().percent, null)
  m.destroy()
  none.destroy()
})

test('ticks coalesce: 10,000 meters at the minimum interval leave the event loop free (timers fire, the process exits)', async (t) => {
  // Before: every tick was queued whatever JS's backlog, the hub's calls never ran dry and a
  // 100 ms setTimeout never fired. Bounds are generous: only a starved loop fails them (a 2 s
  // bound failed twice on a 2-core machine at load average 11-13, the loop healthy but slow).
  const script = `
    const { Meter } = require(${JSON.stringify(require.resolve('..'))})
    let stats = 0
    const meters = Array.from({ length: 10000 }, (_, i) => {
      const m = new Meter({ interval: 10, stallMs: 10 })
      if (i % 2) m.on('stats', () => { stats++ })
      return m
    })
    const start = Date.now()
    setTimeout(() => {
      for (const m of meters) m.destroy()
      console.log(JSON.stringify({ late: Date.now() - start - 100, stats }))
    }, 100)
  `
  const { execFile } = require('node:child_process')
  const r = await new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { timeout: 90_000 }, (err, stdout, stderr) => resolve({ err, stdout, stderr }))
  })
  t.is(r.err, null, r.stderr)
  const { late, stats } = JSON.parse(r.stdout)
  t.true(late < 20_000, `setTimeout(100) fired ${late} ms late`)
  t.true(stats > 0)
})

test('an interval or stallMs of 2^31 ms (the maximum) does not busy-loop the timer', async (t) => {
  const script = `
    const { Meter } = require(${JSON.stringify(require.resolve('..'))})
    const m = new Meter({ interval: 2 ** 31, stallMs: 2 ** 31 })
    let n = 0
    m.on('stats', () => n++)
    const c = process.cpuUsage()
    setTimeout(() => {
      const u = process.cpuUsage(c)
      console.log(JSON.stringify({ n, cpuMs: (u.user + u.system) / 1000 }))
      m.destroy()
    }, 500)
  `
  const r = await runNode([], script)
  t.is(r.status, 0, r.stderr)
  const { n, cpuMs } = JSON.parse(r.stdout)
  t.is(n, 0)
  t.true(cpuMs < 300, `${cpuMs} ms of CPU in 500 ms`) // a busy loop burns ~500
})

test('a meter does not keep the process alive (its timer is weak) and ends cleanly', async (t) => {
  const script = `
    const { Meter, MonitoredWritable } = require(${JSON.stringify(require.resolve('..'))})
    const m = new Meter({ interval: 10, stallMs: 10 })
    m.on('stats', () => {})
    const w = MonitoredWritable.wrap(new (require('stream').Writable)({ write (c, e, cb) {} }), { interval: 10 })
    w.write('held forever')
    setTimeout(() => {}, 50)
  `
  const r = await runNode([], script)
  t.is(r.status, 0, r.stderr)
})

// ---------------------------------------------------------------------------------------------
// Prometheus

/**
 * A strict check of the text exposition format 0.0.4: every line is a HELP, a TYPE or a sample;
 * a family's HELP/TYPE come once, before its samples; samples are contiguous per family; label
 * values are escaped; values parse; histogram buckets are cumulative and end at +Inf = _count.
 */
function checkExposition (t, text) {
  t.true(text.endsWith('\n'))
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*'
  const labelValue = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
  const labels = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*=${labelValue}(?:,[a-zA-Z_][a-zA-Z0-9_]*=${labelValue})*)?\\}`
  const sample = new RegExp(`^(${name})(${labels})? (-?(?:[0-9]+(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|\\+Inf|-Inf|NaN))$`)
  const types = new Map()
  const done = new Set()
  let current = null
  const buckets = new Map()
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue
    let m
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      t.false(types.has(m[1]) || done.has(m[1]), `HELP twice for ${m[1]}`)
      if (current !== null) done.add(current)
      current = m[1]
      continue
    }
    if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      t.is(m[1], current, `TYPE of ${m[1]} right after its HELP`)
      types.set(m[1], m[2])
      continue
    }
    m = sample.exec(line)
    t.truthy(m, `not a sample line: ${JSON.stringify(line)}`)
    if (!m) continue
    const family = types.get(current) === 'histogram' ? m[1].replace(/_(bucket|sum|count)$/, '') : m[1]
    t.is(family, current, `sample ${m[1]} outside its family`)
    if (m[1].endsWith('_total')) t.is(types.get(current), 'counter')
    if (m[1].endsWith('_bucket')) {
      const key = m[2].replace(/,le="[^"]*"/, '')
      const le = /le="([^"]*)"/.exec(m[2])[1]
      const value = Number(m[3])
      const list = buckets.get(m[1] + key) ?? []
      if (list.length > 0) t.true(value >= list.at(-1).value, `buckets cumulative: ${line}`)
      list.push({ le, value })
      buckets.set(m[1] + key, list)
    }
    if (m[1].endsWith('_count') && types.get(current) === 'histogram') {
      const list = buckets.get(m[1].replace(/_count$/, '_bucket') + m[2])
      t.is(list.at(-1).le, '+Inf')
      t.is(list.at(-1).value, Number(m[3]))
    }
  }
  return types
}

test('toPrometheus(): stable names, a name label, passes a strict format check and a real parser', async (t) => {
  const a = new Meter({ name: 'parse "stage"\none\\x' })
  const b = MonitoredWritable.wrap(new Writable({ write (c, e, cb) { setImmediate(cb) } }), { name: 'sink', total: 1000 })
  await pipelineP(Readable.from([Buffer.alloc(300), Buffer.alloc(700)]), a, b)
  const text = toPrometheus([a, b])
  const types = checkExposition(t, text)
  t.is(types.get('sluice_stream_bytes_total'), 'counter')
  t.is(types.get('sluice_stream_write_latency_seconds'), 'histogram')
  const families = parsePrometheus(text)
  const bytes = families.find((f) => f.name === 'sluice_stream_bytes_total')
  t.deepEqual(bytes.metrics.map((m) => [m.labels.name, Number(m.value)]), [['parse "stage"\none\\x', 1000], ['sink', 1000]])
  const progress = families.find((f) => f.name === 'sluice_stream_progress_ratio')
  t.deepEqual(progress.metrics.map((m) => [m.labels.name, Number(m.value)]), [['sink', 1]])
  const sizes = families.find((f) => f.name === 'sluice_stream_chunk_size_bytes')
  t.is(sizes.type, 'HISTOGRAM')
  // (this parser keeps the buckets of a labelled histogram, not its _sum/_count: the strict check
  // above covers those)
  t.is(sizes.metrics[0].buckets['+Inf'], '2')
  t.is(sizes.metrics[0].buckets['1024'], '2')
  // One meter alone is valid too.
  checkExposition(t, b.toPrometheus())
})

test('toPrometheus(): a value equal to a bucket\'s le is in that bucket (le is "at most"), for sizes and latencies', (t) => {
  // The 64 KiB chunks of a file stream share their log-linear bucket with 65537..69631 bytes;
  // they must be counted in le="65536" all the same, and those just above it must not.
  const clock = createClock()
  const sizes = new Meter({ clock, highWaterMark: 1 << 30 })
  for (const n of [64, 65, 1024, 65536, 65536, 65537]) sizes.write(Buffer.alloc(n))
  const bucket = (text, family, le) => Number(text.split('\n').find((l) => l.startsWith(`${family}_bucket{`) && l.includes(`le="${le}"`)).split(' ').pop())
  const text = sizes.toPrometheus()
  t.deepEqual(['64', '256', '1024', '16384', '65536', '262144'].map((le) => bucket(text, 'sluice_stream_chunk_size_bytes', le)), [1, 2, 3, 3, 5, 6])
  sizes.destroy()
  // Latencies: a write taking exactly 0.1, 1 or 10 ms on the manual clock (a sink's first write
  // is always timed), in le="0.0001", "0.001" or "0.01" and not in the bound below; one of
  // 0.1004 ms (100.4 µs, which rounds to the bound) above it.
  for (const [ms, le, below] of [[0.1, '0.0001', null], [1, '0.001', '0.0005'], [10, '0.01', '0.005'], [0.1004, '0.0005', '0.0001']]) {
    let pending = null
    const sink = new MonitoredWritable({ clock, write (c, e, cb) { pending = cb } })
    sink.write(Buffer.alloc(1))
    clock.advance(ms)
    pending()
    const text = sink.toPrometheus()
    t.is(bucket(text, 'sluice_stream_write_latency_seconds', le), 1, `${ms} ms`)
    if (below !== null) t.is(bucket(text, 'sluice_stream_write_latency_seconds', below), 0, `${ms} ms`)
    sink.destroy()
  }
})

test('registerPrometheus(): a prom-client registry in OpenMetrics mode names the counters as its own Counter does (no `_total_total`)', async (t) => {
  const registry = new client.Registry(client.openMetricsContentType)
  new client.Counter({ name: 'app_requests_total', help: 'requests', registers: [registry] }).inc()
  const m = new Meter({ name: 'read' })
  m.write(Buffer.alloc(10))
  registerPrometheus(registry, () => [m])
  const text = await registry.metrics()
  t.notRegex(text, /_total_total/)
  t.regex(text, /^# TYPE app_requests counter\napp_requests_total 1$/m)
  t.regex(text, /^# TYPE sluice_stream_bytes counter\nsluice_stream_bytes_total\{name="read"\} 10$/m)
  t.regex(text, /^sluice_stream_chunk_size_bytes_bucket\{name="read",le="64"\} 1$/m)
  // The plain text format, from a registry of the default kind, is as before.
  const plain = new client.Registry()
  registerPrometheus(plain, () => [m])
  t.regex(await plain.metrics(), /^# TYPE sluice_stream_bytes_total counter\nsluice_stream_bytes_total\{name="read"\} 10$/m)
  m.destroy()
})

test('registerPrometheus(): a real prom-client registry, scraped over HTTP, carries the meters beside the app metrics', async (t) => {
  const registry = new client.Registry()
  const requests = new client.Counter({ name: 'app_requests_total', help: 'requests', registers: [registry] })
  const meters = []
  registerPrometheus(registry, () => meters)
  const server = http.createServer(async (req, res) => {
    requests.inc()
    res.setHeader('Content-Type', registry.contentType)
    res.end(await registry.metrics())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const scrape = () => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: server.address().port, path: '/metrics' }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ body, type: res.headers['content-type'] }))
    }).on('error', reject)
  })
  try {
    const m = new Meter({ name: 'upload' })
    meters.push(m)
    await pipelineP(Readable.from([Buffer.alloc(4096), Buffer.alloc(100)]), m, sink())
    const { body, type } = await scrape()
    t.true(type.startsWith('text/plain; version=0.0.4'))
    checkExposition(t, body)
    const families = parsePrometheus(body)
    const bytes = families.find((f) => f.name === 'sluice_stream_bytes_total')
    t.deepEqual(bytes.metrics, [{ value: '4196', labels: { name: 'upload' } }])
    t.truthy(families.find((f) => f.name === 'app_requests_total'))
    const sizes = families.find((f) => f.name === 'sluice_stream_chunk_size_bytes')
    t.is(sizes.metrics[0].buckets['+Inf'], '2')
  } finally {
    server.close()
  }
})

// ---------------------------------------------------------------------------------------------
// Bottleneck

function slowStage (ms, objectMode = false) {
  return new Transform({ objectMode, transform (chunk, encoding, cb) { setTimeout(() => cb(null, chunk), ms) } })
}

function source (count, size) {
  let i = 0
  return new Readable({ read () { this.push(i++ < count ? Buffer.alloc(size) : null) } })
}

// The bottleneck tests need backpressure to reach the stages upstream of the slow one, so the
// data must be several times what the buffers between them hold. Buffers are sized from core's
// default highWaterMark, which is not a constant (16 KiB up to Node 21, 64 KiB from Node 22, and
// settable): the chunk size follows it, so the number of chunks (and, with a fixed delay per
// chunk, the run time) is the same on every Node version.
const HWM = getDefaultHighWaterMark(false)
const CHUNK = HWM / 16
/** Chunks of CHUNK bytes that make at least `bytes`. */
function chunksFor (bytes) {
  return Math.ceil(bytes / CHUNK)
}

test('bottleneck(): names a deliberately slow sink in a three-stage pipeline, with the evidence', async (t) => {
  // source → parse → enrich → sink; the sink takes 10x longer per chunk than anything else.
  const m1 = new Meter({ name: 'parse' })
  const m2 = new Meter({ name: 'enrich' })
  const sinkHwm = HWM / 4
  const dest = MonitoredWritable.wrap(new Writable({ highWaterMark: sinkHwm, write (c, e, cb) { setTimeout(cb, 10) } }), { name: 'sink' })
  // Between 'enrich' and the sink: enrich's readable buffer (HWM) and the sink's (sinkHwm);
  // everything beyond that keeps 'enrich' blocked (four times as much: blocked ~75 % of the run).
  await pipelineP(source(chunksFor(4 * HWM + sinkHwm), CHUNK), new PassThrough(), m1, new PassThrough(), m2, dest)
  const b = bottleneck([m1, m2, dest])
  t.is(b.stage, 'sink', JSON.stringify(b))
  t.is(b.evidence.length, 3)
  // Generous: ava runs this file's tests concurrently on one event loop, on a loaded machine.
  t.true(b.evidence[2].busy > 0.5, JSON.stringify(b.evidence))
  t.true(b.evidence[1].blocked > 0.4, JSON.stringify(b.evidence))
  const text = formatPipeline([m1, m2, dest])
  t.regex(text, /sink .*◀ bottleneck/)
})

test('bottleneck(): names a deliberately slow middle stage', async (t) => {
  const m1 = new Meter({ name: 'read' })
  const m2 = new Meter({ name: 'transform' })
  const dest = MonitoredWritable.wrap(new Writable({ write (c, e, cb) { setImmediate(cb) } }), { name: 'write' })
  // The slow stage sits between the 'read' meter and the 'transform' meter it feeds. Between
  // them: read's readable buffer and the slow stage's writable one (HWM each); three times as
  // much keeps 'read' blocked ~2/3 of the run.
  await pipelineP(source(chunksFor(6 * HWM), CHUNK), m1, slowStage(10), m2, dest)
  const b = bottleneck([m1, m2, dest])
  t.is(b.stage, 'transform', JSON.stringify(b))
  t.true(b.evidence[0].blocked > 0.5, JSON.stringify(b.evidence))
  t.true(b.evidence[1].starved > 0.5, JSON.stringify(b.evidence))
  t.regex(formatPipeline([m1, m2, dest]), /transform .*◀ bottleneck/)
  // `since`: only what happened after the earlier snapshots (nothing here: all finished).
  const later = bottleneck([m1, m2, dest], { since: b.snapshots })
  t.is(later.evidence[1].rate, 0)
  t.throws(() => bottleneck([m1], { since: [] }), { instanceOf: TypeError, message: /since/ })
  // A snapshot whose counters are no numbers is named, not turned into NaN scores.
  const forged = b.snapshots.map((st) => ({ ...st }))
  forged[1].blockedMs = NaN
  t.throws(() => bottleneck([m1, m2, dest], { since: forged }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /^The "options\.since\[1\]\.blockedMs" option/ })
  forged[1] = 'snapshot'
  t.throws(() => formatPipeline([m1, m2, dest], { since: forged }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /^The "options\.since\[1\]" option/ })
  t.throws(() => bottleneck([{}]), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /^The "meters\[0\]" argument must be a meter/ })
  t.throws(() => toPrometheus([m1, 5]), { instanceOf: TypeError, message: /^The "meters\[1\]" argument must be a meter/ })
})

// The two shapes of the Node 22+ failures above (all the data fitting in the buffers, so the
// source's meter ends at once and nothing upstream of the slow stage ever blocks), made
// deterministic on a manual clock: stages that are not connected, driven chunk by chunk.
test('bottleneck(): judged over the common span; a source that finished early is done, not the bottleneck of a slow sink', async (t) => {
  const clock = createClock()
  const read = new Meter({ name: 'read', clock })
  const enrich = new Meter({ name: 'enrich', clock })
  const held = []
  const sink = new MonitoredWritable({ name: 'sink', clock, highWaterMark: 1, write (c, e, cb) { held.push(cb) } })
  read.resume()
  enrich.resume()
  // 'read' passes everything in its first 10 ms, never blocked.
  read.write(Buffer.alloc(100))
  clock.advance(10)
  read.end()
  await next(read, 'end')
  // 'enrich' is never blocked either; the sink refuses each write for 100 ms.
  for (let i = 0; i < 10; i++) {
    enrich.write(Buffer.alloc(10))
    t.false(sink.write(Buffer.alloc(10)))
    clock.advance(100)
    held.shift()()
  }
  const ended = Promise.all([next(enrich, 'end'), next(sink, 'finish')])
  enrich.end()
  sink.end()
  await ended
  const b = bottleneck([read, enrich, sink])
  t.is(b.stage, 'sink', JSON.stringify(b))
  const [r, e, s] = b.evidence
  // Fractions of the span 0–1010 ms, not of each meter's own life.
  t.true(Math.abs(r.starved - 10 / 1010) < 1e-3, JSON.stringify(r))
  t.true(Math.abs(r.done - 1000 / 1010) < 1e-3, JSON.stringify(r))
  t.true(Math.abs(e.starved - 1) < 1e-3, JSON.stringify(e))
  t.true(Math.abs(s.blocked - 1000 / 1010) < 1e-3, JSON.stringify(s))
  t.true(Math.abs(s.busy - 1000 / 1010) < 1e-3, JSON.stringify(s))
  t.true(b.score > 0.9, JSON.stringify(b))
  t.regex(b.reason, /refused its writer 99 %/)
})

test('bottleneck(): a slow middle stage behind a source that finished early, with nothing blocked; since: only the later part', async (t) => {
  const clock = createClock()
  const read = new Meter({ name: 'read', clock })
  const work = new Meter({ name: 'work', clock })
  const sink = new MonitoredWritable({ name: 'sink', clock, write (c, e, cb) { cb() } })
  read.resume()
  work.resume()
  read.write(Buffer.alloc(100))
  clock.advance(10)
  read.end()
  await next(read, 'end')
  let earlier = null
  for (let i = 0; i < 10; i++) {
    if (i === 5) earlier = bottleneck([read, work, sink])
    clock.advance(100)
    work.write(Buffer.alloc(10))
    sink.write(Buffer.alloc(10))
  }
  const ended = Promise.all([next(work, 'end'), next(sink, 'finish')])
  work.end()
  sink.end()
  await ended
  const b = bottleneck([read, work, sink])
  t.is(b.stage, 'work', JSON.stringify(b))
  t.true(b.score > 0.9, JSON.stringify(b))
  t.is(earlier.stage, 'work', JSON.stringify(earlier))
  // Since the call at 510 ms: 'read' (ended at 10 ms) was done all along, 'work' starved.
  const later = bottleneck([read, work, sink], { since: earlier.snapshots })
  t.is(later.stage, 'work', JSON.stringify(later))
  t.is(later.evidence[0].done, 1)
  t.is(later.evidence[0].starved, 0)
  t.is(later.evidence[0].rate, 0)
  t.true(Math.abs(later.evidence[1].starved - 1) < 1e-6, JSON.stringify(later.evidence))
  t.true(Math.abs(later.evidence[1].rate - 50 / 0.5) < 1e-6, JSON.stringify(later.evidence))
})

test('stats() and summary after destroy are the frozen final snapshot; pipeline errors reach meters', async (t) => {
  const m = new Meter()
  const summary = next(m, 'summary')
  const failing = new Writable({ write (c, e, cb) { cb(new Error('sink failed')) } })
  await t.throwsAsync(pipelineP(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), m, failing), { message: 'sink failed' })
  const [s] = await summary
  t.true(m.destroyed)
  t.deepEqual(m.stats(), s)
  t.true(s.bytes <= 20)
})

test('pipe() through a Meter into a MonitoredWritable with callbacks: exact counts, callbacks in order', async (t) => {
  const order = []
  const w = new MonitoredWritable({
    write (chunk, encoding, cb) {
      if (chunk[0] % 2 === 0) cb()
      else setImmediate(cb)
    },
    final (cb) { order.push('final'); cb() }
  })
  for (let i = 0; i < 100; i++) w.write(Buffer.from([i]), () => order.push(i))
  w.end()
  await once(w, 'finish')
  t.deepEqual(order, [...Array.from({ length: 100 }, (_, i) => i), 'final'])
  const s = w.stats()
  t.is(s.chunks, 100)
  t.is(s.latencyMs.count, Math.ceil(100 / 16))
})

test('for await over a Meter, and compose-style pipeline use', async (t) => {
  const m = new Meter({ objectMode: true })
  const src = Readable.from([1, 2, 3])
  pipeline(src, m, () => {})
  const out = []
  for await (const v of m) out.push(v)
  t.deepEqual(out, [1, 2, 3])
  t.is(m.stats().chunks, 3)
})

// ---------------------------------------------------------------------------------------------
// MonitoredWritable destroyed mid-flight: its timer stops. (The stream contract of both forms,
// destroy, pipeline errors and signal included, is monitored-writable.contract.spec.js.)

const FORMS = [
  ['new MonitoredWritable({ write })', (write, monitor) => new MonitoredWritable({ ...monitor, write })],
  ['MonitoredWritable.wrap(dest)', (write, monitor) => MonitoredWritable.wrap(new Writable({ write }), monitor)]
]

for (const [form, make] of FORMS) {
  test(`${form}: destroyed mid-flight, its timer stops: no 'stats' after, stats() frozen`, async (t) => {
    const clock = createClock()
    const held = []
    const w = make((chunk, encoding, cb) => held.push(cb), { clock, interval: 10 })
    let stats = 0
    w.on('stats', () => stats++)
    w.on('error', () => {})
    for (let i = 0; i < 5; i++) w.write(Buffer.alloc(10))
    clock.advance(25)
    t.true(stats >= 2, 'stats while alive')
    w.destroy(new Error('gone'))
    await next(w, 'close')
    const before = stats
    const frozen = w.stats()
    clock.advance(1000)
    for (const cb of held) cb()
    t.is(stats, before, "no 'stats' after destroy")
    t.deepEqual(w.stats(), frozen)
  })
}

test('many meters share one timer thread: 2,000 live meters start no thread of their own and all tick', async (t) => {
  const fs = require('node:fs')
  const threads = () => fs.readdirSync('/proc/self/task').length
  // Warm the runtime (pool and timer thread) first, so only per-meter threads would show.
  const warm = new Meter({ interval: 10 })
  await next(warm, 'stats')
  const before = threads()
  const meters = Array.from({ length: 2000 }, () => new Meter({ interval: 50 }))
  const ticked = new Set()
  for (const m of meters) m.once('stats', () => ticked.add(m))
  const deadline = Date.now() + 30_000
  while (ticked.size < meters.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  t.is(ticked.size, meters.length)
  t.is(threads(), before)
  for (const m of meters) m.destroy()
  warm.destroy()
})

test('an abandoned meter without listeners (never ended or destroyed) is collected, and its timer with it', async (t) => {
  const script = `
    const { Meter, MonitoredWritable } = require(${JSON.stringify(require.resolve('..'))})
    let collected = 0
    const registry = new FinalizationRegistry(() => { collected++ })
    for (let i = 0; i < 200; i++) {
      const m = i % 2 ? new Meter({ interval: 10, stallMs: 10 }) : MonitoredWritable.wrap(new (require('stream').Writable)({ write (c, e, cb) { cb() } }), { interval: 10 })
      m.write(Buffer.alloc(10))
      registry.register(m, i)
    }
    let rounds = 0
    const timer = setInterval(() => {
      globalThis.gc()
      if (collected === 200 || ++rounds === 200) {
        clearInterval(timer)
        console.log(collected)
      }
    }, 20)
  `
  const r = await runNode(['--expose-gc'], script)
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout.trim(), '200')
})

test('abandoned meters leave nothing behind once collected: 20 000 of them, with an hour-long interval, grow the heap by less than 60 bytes each', async (t) => {
  // Each left its signal receiver in the hub's map (about 140 bytes), since the timer signal that
  // would have found it gone never comes (the collected handle stops the timer).
  const script = `
    const { Meter, MonitoredWritable } = require(${JSON.stringify(require.resolve('..'))})
    const settle = async () => {
      for (let i = 0; i < 6; i++) {
        globalThis.gc()
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    ;(async () => {
      new Meter().destroy() // the hub and the runtime exist before the first measure
      await settle()
      const before = process.memoryUsage().heapUsed
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 1000; i++) {
          if (i % 2) new Meter({ interval: 3600000 })
          else new MonitoredWritable({ write (c, e, cb) { cb() }, interval: 3600000 })
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
      await settle()
      console.log((process.memoryUsage().heapUsed - before) / 20000)
    })()
  `
  const r = await runNode(['--expose-gc'], script)
  t.is(r.status, 0, r.stderr)
  const perMeter = Number(r.stdout.trim())
  t.log(`${perMeter.toFixed(1)} bytes of heap per abandoned meter`)
  t.true(perMeter < 60, `${perMeter.toFixed(1)} bytes of heap per abandoned meter`)
})

test('a meter with stall or stats listeners stays alive while not ended or destroyed, so a stalled pipeline nothing references still reports its stall', async (t) => {
  const script = `
    const { Meter, MonitoredWritable } = require(${JSON.stringify(require.resolve('..'))})
    const { Readable, Writable, pipeline } = require('node:stream')
    let stalls = 0
    let stats = 0
    let collected = 0
    const registry = new FinalizationRegistry(() => { collected++ })
    function start () {
      // Upstream waits on a promise that never settles (a hung cursor): nothing else holds it.
      const src = new Readable({ read () { new Promise(() => {}).then(() => this.push('x')) } })
      const m = new Meter({ stallMs: 100, interval: 50 })
      m.on('stall', () => { stalls++ })
      m.on('stats', () => { stats++ })
      pipeline(src, m, new Writable({ write (c, e, cb) { cb() } }), () => {})
      // Listeners, then destroyed or the listeners removed: collectable again.
      const gone = new Meter({ stallMs: 100 })
      gone.on('stall', () => {})
      gone.destroy()
      registry.register(gone, 1)
      const removed = MonitoredWritable.wrap(new Writable({ write (c, e, cb) { cb() } }), { stallMs: 100 })
      const f = () => {}
      removed.on('stats', f)
      removed.off('stats', f)
      registry.register(removed, 2)
    }
    start()
    const timer = setInterval(() => globalThis.gc(), 20)
    setTimeout(() => {
      clearInterval(timer)
      console.log(JSON.stringify({ stalls, stats, collected }))
    }, 1500)
  `
  const r = await runNode(['--expose-gc'], script)
  t.is(r.status, 0, r.stderr)
  const { stalls, stats, collected } = JSON.parse(r.stdout)
  t.is(stalls, 1)
  t.true(stats > 0)
  t.is(collected, 2)
})

test('new MonitoredWritable({ writev }): batches count every chunk, and latencies cover the batch', async (t) => {
  const batches = []
  const w = new MonitoredWritable({
    highWaterMark: 1024,
    writev (chunks, cb) { batches.push(chunks.length); setTimeout(cb, 5) }
  })
  for (let i = 0; i < 64; i++) w.write(Buffer.alloc(100))
  w.end()
  await next(w, 'finish')
  const s = w.stats()
  t.is(s.chunks, 64)
  t.is(s.bytes, 6400)
  t.true(batches.length < 64, JSON.stringify(batches))
  t.is(batches.reduce((a, b) => a + b, 0), 64)
  t.is(s.latencyMs.count, 4) // writes 0, 16, 32, 48
  t.true(s.latencyMs.max >= 4, JSON.stringify(s.latencyMs))
})

test("with emitClose: false, a MonitoredWritable destroyed before it finished still sends one 'summary'", (t) => {
  const w = new MonitoredWritable({ emitClose: false, write (chunk, encoding, callback) { callback() } })
  const summaries = []
  w.on('summary', (s) => summaries.push(s))
  w.write('abc')
  w.destroy()
  t.is(summaries.length, 1)
  t.is(summaries[0].bytes, 3)
  w.destroy()
  t.is(summaries.length, 1, 'once')
})

test('a MonitoredWritable subclass\'s own _write, _writev and _destroy are measured as options.write… are (an option replaces the method, as in core; super calls reach core\'s base)', async (t) => {
  class Sink extends MonitoredWritable {
    _write (chunk, encoding, callback) {
      this.got = (this.got ?? 0) + chunk.length
      callback()
    }

    _destroy (err, callback) {
      this.destroyedWith = err
      super._destroy(err, callback)
    }
  }
  const sink = new Sink({ highWaterMark: 4 })
  // Corked, so that core runs the buffered writes from inside a write's callback (its clearBuffer).
  sink.cork()
  for (let i = 0; i < 100; i++) sink.write('abcd')
  sink.uncork()
  await new Promise((resolve) => sink.end(resolve))
  t.is(sink.got, 400)
  t.like(sink.stats(), { bytes: 400, chunks: 100 })
  const destroyed = new Sink()
  const closed = new Promise((resolve) => destroyed.on('error', () => {}).on('close', resolve))
  const boom = new Error('boom')
  destroyed.destroy(boom)
  await closed
  t.is(destroyed.destroyedWith, boom)
  t.is(destroyed.errored, boom)

  class Batches extends MonitoredWritable {
    _writev (chunks, callback) {
      this.batches = (this.batches ?? 0) + 1
      setImmediate(callback)
    }
  }
  const batches = new Batches()
  for (let i = 0; i < 5; i++) batches.write('abc')
  await new Promise((resolve) => batches.end(resolve))
  t.true(batches.batches >= 1 && batches.batches < 5)
  t.like(batches.stats(), { bytes: 15, chunks: 5 })

  class Overridden extends MonitoredWritable {
    _write (chunk, encoding, callback) {
      callback(new Error('the option replaces the method'))
    }
  }
  const overridden = new Overridden({ write (chunk, encoding, callback) { callback() } })
  await new Promise((resolve, reject) => overridden.end('yy', (err) => (err ? reject(err) : resolve())))
  t.is(overridden.stats().bytes, 2)

  class CallsSuper extends MonitoredWritable {
    _write (chunk, encoding, callback) {
      super._write(chunk, encoding, callback)
    }
  }
  const callsSuper = new CallsSuper()
  callsSuper.write('x')
  const [err] = await once(callsSuper, 'error')
  t.is(err.code, 'ERR_METHOD_NOT_IMPLEMENTED')
})

