'use strict'

// The Web Streams contract every sluice Web face keeps (issue 12), as one table of cases run
// against each face, like the Node contract suite (../contract/). Register a face from its spec:
//
//   const test = require('ava')
//   const { registerWebContract } = require('./web-contract')
//   for (const d of require('./web-contract/components/ndjson.js')) registerWebContract(test, d)
//
// A descriptor lives in a module under web-contract/components/ (the bare-process cases load it
// again by path) and has:
//
//   name, module         a unique title prefix; __filename of the module exporting it
//   create(w, r)         a new face, with writable / readable queuing strategies (or undefined)
//   bytesIn, bytesOut    whether the writable side takes bytes, the readable side gives bytes
//   unitsPerItem         optional: units of `bulk` sizes and `stallBound` one item stands for (default 1)
//   input(), expected    chunks of a small normal run, and its outputs (deepEqual)
//   map(output)          optional: applied to each output before comparing
//   collect(outputs)     optional: the whole output list as compared (a byte join)
//   bulk(size)           { data, count }: a large run, `size` in writable units (bytes or items)
//   count(outputs)       optional, default outputs.length
//   invalid              optional { input(), code, located(err) }: chunks on which the component fails
//                        mid-flight; `located` says the error tells where (default: line and offset)
//   stallBound           optional, writable units a non-reading consumer may let in (default 4 MiB)
//
// Several cases port the semantics of web-platform-tests' streams/transform-streams (backpressure,
// errors, cancel, and the Streams standard's propagation rules); each says which.

const { CountQueuingStrategy, ReadableStream, TransformStream, WritableStream } = require('node:stream/web')
const { chunked } = require('../helpers.js')
const { runWebChild } = require('./util.js')

/** How long nothing must move before a producer counts as stalled (when to look, not what is asserted). */
const QUIET_MS = 300
const MiB = 1024 * 1024
// How long a case may take before it counts as hung: as in ../contract/index.js, which says why.
const HANG_MS = 240000

function normalize (d) {
  return {
    bytesIn: false,
    bytesOut: false,
    unitsPerItem: 1,
    count: (outputs) => outputs.length,
    stallBound: 4 * MiB,
    ...d
  }
}

const chunksOf = (d, data) => (d.bytesIn ? chunked(data, [65536]) : data)
const unitsOf = (d, chunk) => (d.bytesIn ? chunk.length : d.unitsPerItem)
const quiet = (ms) => new Promise((resolve) => setTimeout(resolve, ms, 'quiet'))

function comparable (d, outputs) {
  if (d.collect) return d.collect(outputs)
  return d.map ? outputs.map(d.map) : outputs
}

async function readAll (readable, into = []) {
  const reader = readable.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) {
      reader.releaseLock()
      return into
    }
    into.push(value)
  }
}

/**
 * A pull source of `chunks` that fails with `error` after `failAt` chunks (if given) and records
 * the reason it is cancelled with (`cancelled`: a promise of it).
 */
function recordingSource (chunks, { failAt = -1, error } = {}) {
  let i = 0
  let onCancel
  const cancelled = new Promise((resolve) => { onCancel = resolve })
  const stream = new ReadableStream({
    pull (controller) {
      if (i === failAt) {
        controller.error(error)
        return
      }
      if (i < chunks.length) controller.enqueue(chunks[i++])
      else controller.close()
    },
    cancel (reason) { onCancel(reason) }
  }, { highWaterMark: 0 })
  return { stream, cancelled, pulled: () => i }
}

/** A sink that records what it gets, fails its write number `failAt` with `error`, and records its abort reason. */
function recordingSink (out, { failAt = -1, error, slow = false } = {}) {
  let n = 0
  let onAbort
  const aborted = new Promise((resolve) => { onAbort = resolve })
  const stream = new WritableStream({
    async write (chunk) {
      if (n++ === failAt) throw error
      out.push(chunk)
      if (slow) await new Promise((resolve) => setImmediate(resolve))
    },
    abort (reason) { onAbort(reason) }
  })
  return { stream, aborted }
}

// ---------------------------------------------------------------------------------------------
// Cases

async function normalRun (t, d, source) {
  const outputs = []
  for await (const item of source.pipeThrough(d.create())) outputs.push(item)
  t.deepEqual(comparable(d, outputs), d.expected)
}

/**
 * The pattern every Web Streams tutorial teaches: `await writer.ready; writer.write(chunk)`.
 * With nothing reading, `ready` must stay pending (desiredSize <= 0) within `stallBound`; once a
 * reader reads, it resolves and everything arrives. (WPT transform-streams/backpressure: "writer.
 * ready should resolve after the readable side is read from", "desiredSize reflects backpressure".)
 */
async function tutorialBackpressure (t, d) {
  const s = d.create()
  const writer = s.writable.getWriter()
  t.true(writer.desiredSize > 0, 'an idle face has room')
  const { data, count } = d.bulk(Math.ceil(d.stallBound * 1.5))
  const outputs = []
  const writes = []
  let written = 0
  let stalled = null
  let reading = null
  for (const chunk of chunksOf(d, data)) {
    if (reading === null) {
      const ready = writer.ready
      const state = await Promise.race([ready.then(() => 'ready'), quiet(QUIET_MS)])
      if (state === 'quiet') {
        stalled = { written, desiredSize: writer.desiredSize }
        reading = readAll(s.readable, outputs)
        // The same promise that was pending: reads make room and it resolves.
        await ready
      }
    } else {
      await writer.ready
    }
    writes.push(writer.write(chunk))
    written += unitsOf(d, chunk)
  }
  if (reading === null) reading = readAll(s.readable, outputs)
  await writer.close()
  await Promise.all(writes)
  await reading
  t.not(stalled, null, `a reader that never reads must stall the producer (it wrote all ${written} units)`)
  if (stalled !== null) {
    t.log(`stalled after ${stalled.written} units written (desiredSize ${stalled.desiredSize})`)
    t.true(stalled.written < d.stallBound, `stalled within ${d.stallBound} units (wrote ${stalled.written})`)
    t.true(stalled.desiredSize <= 0, `desiredSize <= 0 while ready is pending (${stalled.desiredSize})`)
  }
  t.is(d.count(outputs), count, 'every record arrives once the reader reads')
}

/** The readable side never holds more than its queuing strategy allows while nothing reads. */
async function readableStrategyRun (t, d) {
  let queued = 0
  let lastEnqueue = null
  let onEnqueue = () => {}
  const hwm = d.bytesOut ? 4096 : 4
  const strategy = {
    highWaterMark: hwm,
    size (chunk) {
      const n = d.bytesOut ? chunk.byteLength : 1
      queued += n
      lastEnqueue = n
      onEnqueue()
      return n
    }
  }
  const s = d.create(undefined, strategy)
  const writer = s.writable.getWriter()
  const { data, count } = d.bulk(256 * 1024)
  const writes = chunksOf(d, data).map((chunk) => writer.write(chunk))
  writes.forEach((w) => w.catch(() => {}))
  // The first enqueue (however long a busy machine takes), then until nothing more is enqueued
  // for a while (each enqueue restarts the wait).
  if (queued === 0) await new Promise((resolve) => { onEnqueue = resolve })
  for (;;) {
    const more = new Promise((resolve) => { onEnqueue = () => resolve('more') })
    if (await Promise.race([more, quiet(QUIET_MS)]) === 'quiet') break
  }
  t.true(queued > 0, 'something was enqueued')
  // Enqueued only while desiredSize > 0: at most the highWaterMark, plus the last chunk for bytes.
  const bound = d.bytesOut ? hwm + lastEnqueue - 1 : hwm
  t.true(queued <= bound, `queued ${queued} <= ${bound} (highWaterMark ${hwm})`)
  const outputs = readAll(s.readable)
  await writer.close()
  t.is(d.count(await outputs), count)
}

async function pipeToOk (t, d, { slow }) {
  const { data, count } = d.bulk(2 * MiB)
  const out = []
  const source = recordingSource(chunksOf(d, data))
  await source.stream.pipeThrough(d.create()).pipeTo(recordingSink(out, { slow }).stream)
  t.is(d.count(out), count)
}

/** An error anywhere in source.pipeThrough(face).pipeTo(sink): pipeTo rejects with it, every other stage gets it. */
async function pipeToFails (t, d, where) {
  const err = new Error(`boom from the ${where}`)
  const { data } = where === 'component' ? { data: null } : d.bulk(2 * MiB)
  const chunks = where === 'component' ? d.invalid.input() : chunksOf(d, data)
  const out = []
  const source = recordingSource(chunks, where === 'source' ? { failAt: 3, error: err } : {})
  const sink = recordingSink(out, where === 'sink' ? { failAt: 5, error: err } : {})
  const s = d.create()
  const rejected = await t.throwsAsync(source.stream.pipeThrough(s).pipeTo(sink.stream))
  if (where === 'component') {
    t.is(rejected.code, d.invalid.code)
    const located = d.invalid.located ?? ((err) => Number.isInteger(err.line) && Number.isInteger(err.offset))
    t.true(located(rejected), 'the error says where (line and offset, or index)')
    t.is(await source.cancelled, rejected, 'the source is cancelled with the same error')
    t.is(await sink.aborted, rejected, 'the sink is aborted with the same error')
  } else {
    t.is(rejected, err)
    if (where === 'source') t.is(await sink.aborted, err, 'the sink is aborted with the source error')
    if (where === 'sink') t.is(await source.cancelled, err, 'the source is cancelled with the sink error')
  }
  // The face's writable side is errored with it; its readable side too, unless the sink's error
  // reached it as a cancel (a cancelled ReadableStream is closed: the Streams standard).
  const writer = s.writable.getWriter()
  await t.throwsAsync(writer.closed, { is: rejected })
  if (where === 'sink') await s.readable.getReader().closed
  else await t.throwsAsync(s.readable.getReader().closed, { is: rejected })
}

/** Writes MiBs without awaiting, the reader takes a few items, then `stop` tears the face down. */
async function midFlight (d, stop) {
  const s = d.create()
  const writer = s.writable.getWriter()
  const reader = s.readable.getReader()
  const { data } = d.bulk(2 * MiB)
  const writes = chunksOf(d, data).map((chunk) => writer.write(chunk))
  writes.forEach((w) => w.catch(() => {}))
  for (let i = 0; i < 3; i++) await reader.read()
  const reason = new Error('stop')
  await stop({ writer, reader, reason })
  return { s, writer, reader, reason, writes }
}

/** A case run in a bare `node` (../fixtures/web-contract-child.js): it must print `milestone` and exit 0. */
function bareProcess (scenario, milestone, what) {
  return {
    title: `bare process: ${what}`,
    async run (t, d) {
      const r = await runWebChild(d, scenario)
      t.is(r.code, 0, r.stderr)
      t.regex(r.stdout, milestone)
      t.regex(r.stdout, /EXIT 0/)
    }
  }
}

const CASES = [
  {
    title: 'is a TransformStream: instanceof holds, its sides are a ReadableStream and a WritableStream',
    run (t, d) {
      const s = d.create()
      t.true(s instanceof TransformStream)
      t.true(s.readable instanceof ReadableStream)
      t.true(s.writable instanceof WritableStream)
      t.is(s.readable, s.readable, 'the same readable every time')
      t.is(s.writable, s.writable, 'the same writable every time')
    }
  },
  {
    title: 'ReadableStream.from(array) → pipeThrough → every output in order',
    run: (t, d) => normalRun(t, d, ReadableStream.from(d.input()))
  },
  {
    title: 'ReadableStream.from(async generator) → pipeThrough → for await gets a large run',
    async run (t, d) {
      const { data, count } = d.bulk(MiB)
      const chunks = chunksOf(d, data)
      const source = ReadableStream.from((async function * () { yield * chunks })())
      const outputs = []
      for await (const item of source.pipeThrough(d.create())) outputs.push(item)
      t.is(d.count(outputs), count)
    }
  },
  {
    title: 'pipeTo success: source → face → WritableStream delivers every record',
    run: (t, d) => pipeToOk(t, d, { slow: false })
  },
  {
    title: 'pipeTo success: a slow sink (each write a turn later) still gets every record',
    run: (t, d) => pipeToOk(t, d, { slow: true })
  },
  {
    title: "tutorial backpressure: `await writer.ready` stays pending while the face is full (desiredSize <= 0, bounded), resolves after reads",
    run: tutorialBackpressure
  },
  {
    title: 'the readable side honours its queuing strategy: nothing is enqueued beyond its highWaterMark while nobody reads',
    run: readableStrategyRun
  },
  {
    title: "a readable strategy whose size() throws: pipeTo rejects with what it threw, both sides errored with it (no uncaught exception, as TransformStream)",
    async run (t, d) {
      const boom = new Error('size boom')
      // Nothing reads, so every item goes through size().
      const s = d.create(undefined, { highWaterMark: 4, size () { throw boom } })
      await t.throwsAsync(recordingSource(d.input()).stream.pipeTo(s.writable), { is: boom })
      await t.throwsAsync(s.writable.getWriter().closed, { is: boom })
      await t.throwsAsync(s.readable.getReader().read(), { is: boom })
    }
  },
  {
    title: 'a chunk that throws as it is taken (a view of a detached ArrayBuffer): the write rejects, both sides errored with that error (no reader left waiting)',
    applies: (d) => d.bytesIn,
    async run (t, d) {
      const s = d.create()
      const writer = s.writable.getWriter()
      const read = s.readable.getReader().read()
      const chunk = new Uint8Array(8)
      structuredClone(chunk.buffer, { transfer: [chunk.buffer] })
      const err = await t.throwsAsync(writer.write(chunk))
      await t.throwsAsync(read, { is: err })
      await t.throwsAsync(writer.closed, { is: err })
    }
  },
  {
    title: 'every byte chunk type gives the same output: Uint8Array, DataView, ArrayBuffer, SharedArrayBuffer and views of one, and strings (UTF-8)',
    applies: (d) => d.bytesIn,
    async run (t, d) {
      // `bytes` in a SharedArrayBuffer, after `pad` bytes and before as many.
      const shared = (bytes, pad) => {
        const sab = new SharedArrayBuffer(bytes.length + 2 * pad)
        new Uint8Array(sab).set(bytes, pad)
        return sab
      }
      const forms = [
        (b) => new Uint8Array(b),
        (b) => new DataView(new Uint8Array(b).buffer),
        (b) => new Uint8Array(b).buffer,
        (b) => shared(b, 0),
        (b) => new Uint8Array(shared(b, 1), 1, b.length),
        // A whole-character chunk as text; the others as bytes.
        (b) => (Buffer.from(Buffer.from(b).toString()).equals(Buffer.from(b)) ? Buffer.from(b).toString() : new Uint8Array(b))
      ]
      for (let f = 0; f < forms.length; f++) {
        const chunks = d.input().map((chunk) => forms[f](chunk))
        const outputs = await readAll(ReadableStream.from(chunks).pipeThrough(d.create()))
        t.deepEqual(comparable(d, outputs), d.expected, `chunk form ${f}`)
        if (d.bytesOut) t.true(outputs.every((c) => c instanceof Uint8Array), `chunk form ${f}: Uint8Arrays out (a string's UTF-8 bytes)`)
      }
    }
  },
  {
    title: 'a chunk that is not bytes or text: the write rejects with ERR_INVALID_ARG_TYPE naming the "chunk" argument, both sides errored with it',
    applies: (d) => d.bytesIn,
    async run (t, d) {
      const s = d.create()
      const writer = s.writable.getWriter()
      const err = await t.throwsAsync(writer.write(42), { code: 'ERR_INVALID_ARG_TYPE', message: /^The "chunk" argument must be /u })
      await t.throwsAsync(s.readable.getReader().read(), { is: err })
      await t.throwsAsync(writer.closed, { is: err })
    }
  },
  {
    title: 'the default strategies: the readable side queues items by count (or bytes by length), and holds a few',
    async run (t, d) {
      // Without a reader, the face enqueues up to its default highWaterMark and no more: a reader
      // then gets the first item from the queue at once.
      const s = d.create()
      const writer = s.writable.getWriter()
      writer.write(d.input()[0]).catch(() => {})
      const { value } = await s.readable.getReader().read()
      t.not(value, undefined)
      t.is(new CountQueuingStrategy({ highWaterMark: 1 }).size(), 1)
    }
  },
  {
    title: 'pipeTo error from the source mid-flight: pipeTo rejects with it, the sink is aborted with it, both sides of the face errored',
    run: (t, d) => pipeToFails(t, d, 'source')
  },
  {
    title: 'pipeTo error from the face (invalid input mid-flight): the same error (code, where) rejects pipeTo, cancels the source, aborts the sink',
    applies: (d) => d.invalid !== undefined,
    run: (t, d) => pipeToFails(t, d, 'component')
  },
  {
    title: 'pipeTo error from the sink mid-flight: pipeTo rejects with it, the face is cancelled and the source cancelled with it',
    run: (t, d) => pipeToFails(t, d, 'sink')
  },
  {
    title: 'an invalid input errors both sides with the same error object (WPT: an error in transform errors the writable and the readable)',
    applies: (d) => d.invalid !== undefined,
    async run (t, d) {
      const s = d.create()
      const writer = s.writable.getWriter()
      const writes = d.invalid.input().map((chunk) => writer.write(chunk))
      writes.forEach((w) => w.catch(() => {}))
      writer.close().catch(() => {})
      const err = await t.throwsAsync(readAll(s.readable))
      t.is(err.code, d.invalid.code)
      await t.throwsAsync(writer.closed, { is: err })
      await t.throwsAsync(writer.write(d.input()[0]), { is: err }, 'a later write rejects with it')
    }
  },
  {
    title: 'readable.cancel(reason) mid-flight: the writable side errors with that reason, held writes settle (WPT: cancelling the readable errors the writable)',
    async run (t, d) {
      const { writer, reason, writes } = await midFlight(d, ({ reader, reason }) => reader.cancel(reason))
      await t.throwsAsync(writer.closed, { is: reason })
      await t.throwsAsync(writer.write(d.input()[0]), { is: reason })
      // Every write settles: taken before the cancel, or rejected with the reason.
      for (const result of await Promise.allSettled(writes)) {
        if (result.status === 'rejected') t.is(result.reason, reason)
      }
      // WPT: abort after cancel resolves, and the first reason stays.
      await writer.abort(new Error('later'))
      await t.throwsAsync(writer.closed, { is: reason })
    }
  },
  {
    title: 'writable.abort(reason) mid-flight: the readable side errors with that reason (WPT: abort errors the readable)',
    async run (t, d) {
      const { reader, reason, writes } = await midFlight(d, ({ writer, reason }) => writer.abort(reason))
      await t.throwsAsync(reader.read(), { is: reason })
      await t.throwsAsync(reader.closed, { is: reason })
      for (const result of await Promise.allSettled(writes)) {
        if (result.status === 'rejected') t.is(result.reason, reason)
      }
    }
  },
  {
    title: 'writable.abort() without a reason, idle or mid-flight: the readable side errors with undefined, as an identity TransformStream\'s (the AbortError is only its signal\'s reason)',
    async run (t, d) {
      const settled = (promise) => promise.then((value) => ({ value }), (reason) => ({ reason }))
      const idle = d.create()
      const idleReader = idle.readable.getReader()
      await idle.writable.getWriter().abort()
      t.deepEqual(await settled(idleReader.read()), { reason: undefined }, 'idle')
      const { reader, writes } = await midFlight(d, ({ writer }) => writer.abort())
      // Items the face queued before the abort may still be read, then the error.
      let result
      for (let i = 0; i < 64 && !('reason' in (result = await settled(reader.read()))); i++);
      t.deepEqual(result, { reason: undefined }, 'mid-flight')
      t.deepEqual(await settled(reader.closed), { reason: undefined })
      t.true(writes.length > 0)
    }
  },
  {
    title: 'an AbortSignal given to pipeTo, aborted mid-flight: pipeTo rejects with its reason, the source is cancelled and the sink aborted with it',
    async run (t, d) {
      const { data } = d.bulk(4 * MiB)
      const source = recordingSource(chunksOf(d, data))
      const out = []
      const controller = new AbortController()
      const reason = new Error('aborted by the caller')
      const sink = recordingSink(out, {})
      const s = d.create()
      const piped = source.stream.pipeThrough(s).pipeTo(new WritableStream({
        write (chunk) {
          out.push(chunk)
          if (out.length === 3) controller.abort(reason)
        }
      }), { signal: controller.signal })
      await t.throwsAsync(piped, { is: reason })
      t.is(await source.cancelled, reason)
      await t.throwsAsync(s.writable.getWriter().closed, { is: reason })
      t.truthy(sink)
    }
  },
  {
    title: 'an AbortSignal given to pipeThrough, aborted mid-flight: the source is cancelled and the face torn down',
    async run (t, d) {
      const { data } = d.bulk(4 * MiB)
      const source = recordingSource(chunksOf(d, data))
      const controller = new AbortController()
      const reason = new Error('aborted by the caller')
      const s = d.create()
      const reader = source.stream.pipeThrough(s, { signal: controller.signal }).getReader()
      for (let i = 0; i < 3; i++) await reader.read()
      controller.abort(reason)
      // pipeTo aborts only once its write in flight has settled (the Streams spec's "shutdown with
      // an action"), and a write is held while the reader is behind — as in Node's TransformStream:
      // the reader that goes on reading lets it through. pipeThrough then aborts the face's
      // writable side with the reason, and the readable side errors with it.
      await t.throwsAsync(async () => { for (;;) { const { done } = await reader.read(); if (done) break } }, { is: reason })
      t.is(await source.cancelled, reason)
      t.true(source.pulled() < chunksOf(d, data).length, 'the source was not read to its end')
    }
  },
  {
    title: 'for await with an early break: the face and the source are cancelled, no hang',
    async run (t, d) {
      const { data } = d.bulk(4 * MiB)
      const source = recordingSource(chunksOf(d, data))
      let n = 0
      for await (const item of source.stream.pipeThrough(d.create())) {
        t.not(item, undefined)
        if (++n === 3) break
      }
      const reason = await source.cancelled
      t.true(reason === undefined || reason instanceof Error, 'the source is cancelled')
      t.true(source.pulled() < chunksOf(d, data).length, 'the source was not read to its end')
    }
  },
  {
    title: 'writer.close() closes the readable side once its output is read (WPT: closing the writable closes the readable)',
    async run (t, d) {
      const s = d.create()
      const writer = s.writable.getWriter()
      for (const chunk of d.input()) writer.write(chunk)
      const closed = writer.close()
      const outputs = await readAll(s.readable)
      await closed
      t.deepEqual(comparable(d, outputs), d.expected)
      await s.readable.getReader().closed
    }
  },
  bareProcess('pipe', /DONE (\d+) \1\b/, 'source → face → WritableStream of MiBs completes (no early exit with work in flight)'),
  bareProcess('idle', /WROTE/, 'written to (MiBs), never closed, never read, the process exits on its own'),
  bareProcess('cancel', /CANCELLED/, 'cancelled mid-flight by its reader, the process exits')
]

/**
 * Registers every Web contract case that applies to the face as an ava test titled
 * "<name> web contract: <case>".
 */
function registerWebContract (test, descriptor) {
  const d = normalize(descriptor)
  for (const c of CASES) {
    if (c.applies && !c.applies(d)) continue
    test(`${d.name} web contract: ${c.title}`, async (t) => {
      t.timeout(HANG_MS)
      await c.run(t, d)
    })
  }
}

module.exports = { registerWebContract, CASES, recordingSource, recordingSink, readAll, quiet, QUIET_MS }
