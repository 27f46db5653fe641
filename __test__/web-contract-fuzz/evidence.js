'use strict'

// Standalone repros of the behaviours the Web fuzz's allowances name (compare.js): each prints
// what a plain TransformStream (Node's own, no sluice) does, and what the sluice face does, for
// the same operations. `node __test__/web-contract-fuzz/evidence.js CASE` (no CASE: all).
// Checked on Node 20.20; where Node itself changed since, the case says so.

const { TransformStream, ReadableStream, WritableStream, CountQueuingStrategy, ByteLengthQueuingStrategy } = require('node:stream/web')
const { setImmediate: immediate } = require('node:timers/promises')
const web = require('../../lib/web.js')

const C = new Error('cancel reason')
const R = new Error('abort reason')
const name = (x) => (x === C ? 'C' : x === R ? 'R' : x === undefined ? 'undefined' : `${x.name}${x.code ? ':' + x.code : ''}`)
const outcome = (p) => p.then((v) => (v && typeof v === 'object' && 'done' in v ? (v.done ? 'done' : 'value') : 'ok'), (e) => 'rejected ' + name(e))
// The signal's reason in the cases that abort a pipe's signal, and what they share.
const S = new Error('signal reason')
const named = (x) => (x === S ? 'S' : name(x))
const settled = (p) => p.then(() => 'ok', (e) => 'rejected ' + named(e))
const late = () => new Promise((resolve) => setTimeout(resolve, 50, 'pending'))
const count = (n) => new CountQueuingStrategy({ highWaterMark: n })

/** A destination that takes a turn per chunk and logs its close and abort: `got` counts chunks. */
function slowDest (highWaterMark) {
  const dest = { log: [], got: 0 }
  dest.sink = new WritableStream({
    write () { dest.got++; return immediate() },
    close () { dest.log.push('dest-close') },
    abort (reason) { dest.log.push('dest-abort:' + named(reason)) }
  }, count(highWaterMark))
  return dest
}

const line = (v) => Buffer.from(JSON.stringify(v) + '\n')

/**
 * A TransformStream that joins the JSON lines of values written back to back into one chunk, a
 * turn after the first of them, as NdjsonStringifyStream batches them (README); its flush
 * enqueues what is still held at once.
 */
function joiningLines (readableStrategy) {
  let held = []
  const emit = (controller) => {
    if (held.length) controller.enqueue(Buffer.concat(held))
    held = []
  }
  let turn = null
  return new TransformStream({
    transform (value, controller) {
      held.push(line(value))
      turn ??= immediate().then(() => { emit(controller); turn = null })
    },
    flush: emit
  }, undefined, readableStrategy)
}

/**
 * A TransformStream whose transformer's cancel() errors its controller at once (as a face's
 * readable.cancel() errors its writable side inside the call), with `writableStrategy`.
 */
function cancelErroringAtOnce (writableStrategy) {
  let controller
  return new TransformStream({ start (c) { controller = c }, cancel (reason) { controller.error(reason) } }, writableStrategy)
}

/**
 * A destination taking one chunk a turn (highWaterMark 1): the chunks it took in `got`, its close
 * or abort (with the reason's name) in `dest`.
 */
function loggingSink () {
  const got = []
  const dest = []
  const sink = new WritableStream({
    write (chunk) { got.push(chunk); return immediate() },
    close () { dest.push('close') },
    abort (reason) { dest.push('abort: ' + name(reason)) }
  }, new CountQueuingStrategy({ highWaterMark: 1 }))
  return { sink, got, dest }
}

/**
 * A sink's write() refusing a null as MonitoredWritableStream does: its controller errored with the
 * null's TypeError (ERR_STREAM_NULL_VALUES), which the write also throws.
 */
function refuseNull (chunk, controller) {
  if (chunk === null) {
    const err = Object.assign(new TypeError('null'), { code: 'ERR_STREAM_NULL_VALUES' })
    controller.error(err)
    throw err
  }
}

const faces = {
  'TransformStream (identity)': (w, r) => new TransformStream({}, w, r),
  // A TransformStream whose transform takes a turn, as a face's component does (README: "our
  // output arrives later than transform()"): a conforming TransformStream, the face's timing.
  'TransformStream (a turn per chunk)': (w, r) => new TransformStream({ transform: async (c, ctl) => { await immediate(); ctl.enqueue(c) } }, w, r),
  ThrottleStream: (w, r) => new web.ThrottleStream({ objectMode: true, rate: 1e12 }, w, r)
}

const CASES = {
  // engine.js strandedLoop. A `for await` breaking after 2 chunks; a pipeThrough writes two
  // chunks and a string its ByteLengthQueuingStrategy cannot size (fuzz seed 1700 of
  // BoundedBufferStream, minimised): the string errors the writable side only and throws away
  // the writes still queued; the readable side stays open for good (whatwg/streams#628). The
  // identity TransformStream had taken both chunks (the loop gets 2 and breaks); a stage that
  // takes a chunk a turn later had not taken the second, and the loop waits forever ('pending'
  // after 50 ms here).
  async 'strategy-error-loop' (make) {
    const ts = make(new ByteLengthQueuingStrategy({ highWaterMark: 16384 }), new ByteLengthQueuingStrategy({ highWaterMark: 65536 }))
    let ctl
    const src = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 })
    const out = src.pipeThrough(ts, { preventAbort: true, preventCancel: true })
    let n = 0
    const loop = outcome((async () => { for await (const v of out) { void v; if (++n >= 2) break } })())
    ctl.enqueue(new Uint8Array([0xe2]))
    ctl.enqueue(new Uint8Array([0x6d]))
    ctl.enqueue('')
    ctl.close()
    const late = new Promise((resolve) => setTimeout(resolve, 50, 'pending'))
    return { loop: await Promise.race([loop, late]), chunks: n }
  },
  // ALLOWANCE ended-before-signal. A pipeThrough with a signal; the source enqueues three values
  // and closes; three turns later the signal (fuzz seed 11250 of BoundedBufferStream, objects):
  // an identity TransformStream whose readable side holds them all has finished the pipe and
  // reads them and then the end, as the face does (its own buffer holds them); one that holds
  // fewer is aborted, its reads end with the AbortError.
  async 'ended-before-signal' () {
    const out = {}
    const kinds = {
      'TransformStream (readable highWaterMark 1)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 1 })),
      'TransformStream (readable highWaterMark 4)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 4 })),
      'BoundedBufferStream (capacity 64)': () => new web.BoundedBufferStream({ objectMode: true, capacity: 64, overflow: 'block' }, undefined, new CountQueuingStrategy({ highWaterMark: 1 }))
    }
    // (And with preventAbort or preventClose, the end the signal gives the pipe: with preventAbort
    // the pipe that has not finished cancels its source (throwing away any chunk it still queued)
    // and leaves the writable side open, so the last read waits ('pending' after 50 ms here);
    // with preventClose the pipe that has finished leaves it open, and the last read waits after
    // every value. Fuzz seeds 88895 (preventAbort) of ThrottleStream and MeterStream (objects),
    // 85668 (preventClose) of ThrottleStream and MeterStream (bytes): the identity
    // TransformStream that holds one chunk on its readable side against the face and the one with
    // room for all.)
    kinds['MeterStream (objects)'] = () => new web.MeterStream({ objectMode: true }, undefined, new CountQueuingStrategy({ highWaterMark: 1 }))
    const read = (reader) => Promise.race([outcome(reader.read()), new Promise((resolve) => setTimeout(resolve, 50, 'pending'))])
    for (const options of [{}, { preventAbort: true }, { preventClose: true }]) {
      for (const [label, make] of Object.entries(kinds)) {
        let ctl
        const ac = new AbortController()
        const reader = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 }).pipeThrough(make(), { signal: ac.signal, ...options }).getReader()
        ctl.enqueue(1)
        ctl.enqueue(2)
        ctl.enqueue(3)
        ctl.close()
        for (let i = 0; i < 3; i++) await immediate()
        ac.abort()
        const reads = []
        for (let r = null; r === null || (r.startsWith('value') && reads.length < 10);) reads.push(r = await read(reader))
        out[`${Object.keys(options).join('') || 'no options'}, ${label}`] = reads.join(' ')
      }
    }
    return out
  },
  // engine.js finishedAllDelivered (a `for await`). A pipeThrough with preventClose and a signal
  // into a byte stage, a slow `for await` (a turn per chunk); the source enqueues chunks of 11,
  // 83, 1, 35408, 1 and 5 bytes and closes; three turns later the signal (S) (fuzz seed 177104
  // of ThrottleStream and MeterStream (bytes), minimised). The identity TransformStream with the
  // reference's readable highWaterMark (16384 bytes: the 35408-byte chunk is past it) still
  // writes the last two chunks when the signal comes: the pipe aborts its writable side, the
  // loop rejects with S and those 6 bytes are thrown away. The one with room for every chunk
  // (65536) has finished the pipe before the signal, and with preventClose nothing closes its
  // writable side: the loop gets every byte and then waits ('pending' after 50 ms here), as the
  // faces' does (their own buffer holds the chunks: README, "Backpressure").
  async 'ended-before-signal-loop' () {
    const out = {}
    const bytes = (n) => new ByteLengthQueuingStrategy({ highWaterMark: n })
    const kinds = {
      'TransformStream (readable highWaterMark 16384)': () => new TransformStream({}, undefined, bytes(16384)),
      'TransformStream (readable highWaterMark 65536)': () => new TransformStream({}, undefined, bytes(65536)),
      'ThrottleStream (bytes)': () => new web.ThrottleStream({ rate: 1e12, burst: 1e11 }),
      'MeterStream (bytes)': () => new web.MeterStream({})
    }
    for (const [label, make] of Object.entries(kinds)) {
      let ctl
      const ac = new AbortController()
      const readable = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 }).pipeThrough(make(), { preventClose: true, signal: ac.signal })
      let got = 0
      const loop = (async () => {
        for await (const chunk of readable) {
          got += chunk.byteLength
          await immediate()
        }
      })().then(() => 'ok', (e) => 'rejected ' + (e === S ? 'S' : name(e)))
      for (const n of [11, 83, 1, 35408, 1, 5]) ctl.enqueue(new Uint8Array(n))
      ctl.close()
      for (let i = 0; i < 3; i++) await immediate()
      ac.abort(S)
      const result = await Promise.race([loop, new Promise((resolve) => setTimeout(resolve, 50, 'pending'))])
      out[label] = `${result} after ${got} of 35509 bytes`
    }
    return out
  },
  // ALLOWANCE ended-before-signal (sink log), a producer's pipeTo with preventClose. The source
  // enqueues nine values and closes; three turns later the producer pipe's signal (S); a
  // consumer's pipeTo into a slow destination (a turn per chunk, highWaterMark 4) (fuzz seed
  // 175089 of BoundedBufferStream (block, objects), minimised). The identity TransformStream
  // with the reference's readable highWaterMark (1) still held writes when the signal came: its
  // producer pipe aborts the writable side, the readable side errors with S, the consumer's pipe
  // aborts the destination with S (8 of the 9 values there). The one with room for every value
  // had finished the producer pipe (resolved), and with preventClose nothing closes its writable
  // side: the destination gets all 9 values and nothing else, the consumer's pipe waits
  // ('pending' after 50 ms here), as with the face (its own buffer takes the values).
  async 'ended-before-signal-pipes' () {
    const out = {}
    const kinds = {
      'TransformStream (readable highWaterMark 1)': () => new TransformStream({}, undefined, count(1)),
      'TransformStream (readable highWaterMark 16)': () => new TransformStream({}, undefined, count(16)),
      'BoundedBufferStream (capacity 4)': () => new web.BoundedBufferStream({ objectMode: true, capacity: 4, overflow: 'block' }, undefined, count(1))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      let ctl
      const ac = new AbortController()
      const pipeIn = settled(new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 }).pipeTo(ts.writable, { preventClose: true, signal: ac.signal }))
      const dest = slowDest(4)
      const pipeOut = settled(ts.readable.pipeTo(dest.sink))
      for (let i = 0; i < 9; i++) ctl.enqueue(i)
      ctl.close()
      for (let i = 0; i < 3; i++) await immediate()
      ac.abort(S)
      out[label] = { pipeIn: await Promise.race([pipeIn, late()]), pipeOut: await Promise.race([pipeOut, late()]), log: dest.log, got: dest.got }
    }
    return out
  },
  // The same with a producer's pipeThrough (preventClose, a signal) in pipeTo's place (fuzz
  // seed 216829 of NdjsonStringifyStream, its shape; engine.js finishedBeforeSignal): the one
  // with room for every value had finished its producer pipe before the signal, so the signal
  // does nothing and the consumer's pipe waits after every value; the other's signal aborts
  // the destination. As with the face, whose stringifier joined the values into one batch.
  async 'ended-before-signal-pipe-through' () {
    const out = {}
    const kinds = {
      'TransformStream (readable highWaterMark 1)': () => new TransformStream({}, undefined, count(1)),
      'TransformStream (readable highWaterMark 16)': () => new TransformStream({}, undefined, count(16)),
      'NdjsonStringifyStream (readable highWaterMark 0)': () => new web.NdjsonStringifyStream({}, undefined, count(0))
    }
    for (const [label, make] of Object.entries(kinds)) {
      let ctl
      const ac = new AbortController()
      const readable = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 }).pipeThrough(make(), { preventClose: true, signal: ac.signal })
      const dest = slowDest(1)
      const pipeOut = settled(readable.pipeTo(dest.sink))
      for (let i = 0; i < 5; i++) ctl.enqueue(i)
      ctl.close()
      await immediate()
      ac.abort(S)
      out[label] = { pipeOut: await Promise.race([pipeOut, late()]), log: dest.log, got: dest.got }
    }
    return out
  },
  // ALLOWANCE closed-before-signal (a producer's pipe). A producer's pipeTo into the stage, a
  // consumer's pipeTo (preventCancel, a signal) into a slow destination (a turn per chunk,
  // highWaterMark 1); the source enqueues chunks of 5, 156, 5 and 7 bytes, a microtask, closes,
  // three turns, the signal (fuzz seed 74282 of BoundedBufferStream (block, bytes), minimised).
  // The identity TransformStream's consumer pipe is still writing the last chunk: it aborts the
  // destination. The same TransformStream given three microtasks to start before the chunks
  // (the face's sides start two microtasks sooner) is a turn ahead: its pipe has closed the
  // destination before the signal, as BoundedBufferStream's.
  async 'ended-before-consumer-signal' () {
    const out = {}
    const bytes = () => new ByteLengthQueuingStrategy({ highWaterMark: 16384 })
    const kinds = {
      'TransformStream (identity)': [() => new TransformStream({}, undefined, bytes()), 0],
      'TransformStream (identity, three microtasks to start)': [() => new TransformStream({}, undefined, bytes()), 3],
      'BoundedBufferStream (block, bytes)': [() => new web.BoundedBufferStream({ capacity: 2, overflow: 'block' }), 0]
    }
    for (const [label, [make, start]] of Object.entries(kinds)) {
      const log = []
      const ts = make()
      let ctl
      const ac = new AbortController()
      const pipeIn = outcome(new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 }).pipeTo(ts.writable))
      const sink = new WritableStream({ write: () => immediate(), close () { log.push('dest-close') }, abort (r) { log.push('dest-abort:' + name(r)) } },
        new CountQueuingStrategy({ highWaterMark: 1 }))
      const pipeOut = outcome(ts.readable.pipeTo(sink, { preventCancel: true, signal: ac.signal }))
      for (let i = 0; i < start; i++) await Promise.resolve()
      for (const n of [5, 156, 5, 7]) ctl.enqueue(new Uint8Array(n))
      await Promise.resolve()
      ctl.close()
      for (let i = 0; i < 3; i++) await immediate()
      ac.abort(new Error('S'))
      out[label] = { pipeIn: await pipeIn, pipeOut: await pipeOut, log }
    }
    return out
  },
  // ALLOWANCE ended-before-signal (sink log), values joined. A producer's pipeTo with a signal
  // into the stage (a readable strategy of one chunk), a consumer's pipeTo (preventCancel) into a
  // slow destination (a turn per chunk, highWaterMark 1); the source enqueues four values and
  // closes, a turn, the signal (fuzz seed 82030 of NdjsonStringifyStream, minimised). A
  // TransformStream with a chunk per value still holds writes behind its readable side: the
  // signal aborts its producer pipe (rejected with the signal's reason, printed 'Error'), which
  // errors the readable side, and the consumer's pipe aborts the destination. One that joins the
  // lines until its flush, with room for them, had taken them all and closed: both pipes
  // resolve, the destination is closed, as the face's (README: values written back to back
  // share a batch).
  async 'joined-before-producer-signal' () {
    const out = {}
    const one = () => new CountQueuingStrategy({ highWaterMark: 1 })
    const joining = () => joiningLines(new CountQueuingStrategy({ highWaterMark: 4 }))
    const kinds = {
      'TransformStream (a chunk per value)': () => new TransformStream({ transform: (value, controller) => controller.enqueue(line(value)) }, undefined, one()),
      'TransformStream (joins the lines until its flush, readable highWaterMark 4)': joining,
      NdjsonStringifyStream: () => new web.NdjsonStringifyStream({}, undefined, one())
    }
    const settled = (p) => Promise.race([outcome(p), new Promise((resolve) => setTimeout(resolve, 100, 'pending'))])
    // (And with pipeThrough in pipeTo's place, whose promise is not the caller's: the same end.
    // Fuzz seed 87746 of NdjsonStringifyStream.)
    for (const through of [false, true]) {
      for (const [label, make] of Object.entries(kinds)) {
        const log = []
        const ts = make()
        let ctl
        const ac = new AbortController()
        const src = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 })
        const pipeIn = through ? (src.pipeThrough(ts, { signal: ac.signal }), 'not the caller\'s') : settled(src.pipeTo(ts.writable, { signal: ac.signal }))
        const sink = new WritableStream({ write: () => immediate(), close () { log.push('dest-close') }, abort (r) { log.push('dest-abort:' + name(r)) } }, one())
        const pipeOut = settled(ts.readable.pipeTo(sink, { preventCancel: true }))
        for (const v of [{ a: 1 }, true, { b: 2 }, false]) ctl.enqueue(v)
        ctl.close()
        await immediate()
        ac.abort(new Error('S'))
        out[(through ? 'pipeThrough, ' : 'pipeTo, ') + label] = { pipeIn: await pipeIn, pipeOut: await pipeOut, log }
      }
    }
    return out
  },
  // ALLOWANCE closed-before-abort. Right after construction: writer.close(), a microtask,
  // writer.abort(R) (fuzz seed 15677 of NdjsonStringifyStream, minimised; two microtasks: 15772
  // of NdjsonParseStream). A plain WritableStream has started by then: its close is in flight,
  // finishes, and the abort finds it closed (resolves); so do the faces, whose writable side is
  // one (NdjsonStringifyStream with nothing to flush closes its readable side inside close();
  // NdjsonParseStream after a microtask more: before it, the abort tears it down, ALLOWANCE
  // abort-during-close). A TransformStream's writable starts two
  // microtasks later: its close is still queued, the abort wins, the close rejects with R and
  // the readable side errors with R.
  async 'close-then-abort-at-start' () {
    const out = {}
    const kinds = {
      WritableStream: () => ({ writable: new WritableStream() }),
      'TransformStream (identity)': () => new TransformStream(),
      NdjsonStringifyStream: () => new web.NdjsonStringifyStream(),
      NdjsonParseStream: () => new web.NdjsonParseStream()
    }
    for (const microtasks of [1, 2]) {
      for (const [label, make] of Object.entries(kinds)) {
        const { writable, readable } = make()
        const writer = writable.getWriter()
        const close = outcome(writer.close())
        for (let i = 0; i < microtasks; i++) await Promise.resolve()
        const abort = outcome(writer.abort(R))
        out[`${label}, ${microtasks} microtask${microtasks > 1 ? 's' : ''}`] = { close: await close, abort: await abort, ...(readable ? { read: await outcome(readable.getReader().read()) } : {}) }
      }
    }
    return out
  },
  // ALLOWANCE erroring-or-errored (cancel, the other way). reader.cancel(C) a microtask after
  // the writable side was torn down, a write in flight (fuzz seeds 10520: a string under a
  // ByteLengthQueuingStrategy; 11042: writer.abort()): the identity TransformStream had finished
  // that write, its writable side "errored", and its cancel rejects with the stored error; a
  // stage still on the write leaves it "erroring", and the cancel resolves.
  async 'cancel-while-erroring' (make) {
    const out = {}
    for (const how of ['strategy', 'abort']) {
      const ts = make(new ByteLengthQueuingStrategy({ highWaterMark: 0 }), new ByteLengthQueuingStrategy({ highWaterMark: 65536 }))
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      await immediate()
      void writer.write(new Uint8Array([1])).catch(() => {})
      if (how === 'strategy') void writer.write('x').catch(() => {})
      else void writer.abort().catch(() => {})
      await Promise.resolve()
      out[how] = await outcome(reader.cancel(C))
    }
    return out
  },
  // ALLOWANCE cancel-while-erroring, a producer's pipe. A pipeThrough (writable
  // ByteLengthQueuingStrategy of highWaterMark 64, the readable side with room); three turns;
  // the source enqueues a byte and a string (which that strategy cannot size), two microtasks,
  // reader.cancel(C) (fuzz seed 80648 of BoundedBufferStream (block, bytes), minimised). The
  // identity TransformStream has finished the byte's write: its writable side has "errored" and
  // the cancel rejects with the strategy's RangeError. One with a turn per chunk still has that
  // write in flight ("erroring"): the cancel resolves, as the face's. A turn later all three
  // reject.
  async 'cancel-while-erroring-pipe' () {
    const out = {}
    const room = () => new ByteLengthQueuingStrategy({ highWaterMark: 16384 })
    const kinds = {
      'TransformStream (identity)': (w) => new TransformStream({}, w, room()),
      'TransformStream (a turn per chunk)': (w) => new TransformStream({ transform: async (c, ctl) => { await immediate(); ctl.enqueue(c) } }, w, room()),
      'BoundedBufferStream (block, bytes)': (w) => new web.BoundedBufferStream({ capacity: 64, overflow: 'block' }, w)
    }
    for (const [label, make] of Object.entries(kinds)) {
      for (const later of ['two microtasks', 'a turn']) {
        const ts = make(new ByteLengthQueuingStrategy({ highWaterMark: 64 }))
        let ctl
        const reader = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 }).pipeThrough(ts).getReader()
        for (let i = 0; i < 3; i++) await immediate()
        ctl.enqueue(new Uint8Array([0xef]))
        ctl.enqueue('')
        if (later === 'a turn') await immediate()
        else for (let i = 0; i < 2; i++) await Promise.resolve()
        out[`${label}, ${later}`] = await outcome(reader.cancel(C))
      }
    }
    return out
  },
  // ALLOWANCE cancel-in-teardown-tick. A turn after the start, a chunk written (or none), a
  // microtask, writer.abort(), reader.cancel(C) in its tick ('abort'); or a producer's pipeTo
  // with a signal, a turn, the signal (a chunk enqueued five microtasks before it, or none), a
  // microtask, reader.cancel(C) ('signal'; fuzz seeds 30978, 27482, minimised). The standard's
  // cancel answers after its transformer's cancel has settled: it rejects with the writable
  // side's stored error where the teardown errored it by then (nothing in flight: 'abort,
  // nothing written', 'signal'), and resolves where a write in flight kept it "erroring" or
  // held the pipe's abort back until the cancel had errored it with C. The face errors its
  // writable side inside cancel() (or holds the write its component has not finished): its
  // cancel resolves.
  async 'cancel-in-teardown-tick' (make) {
    const out = {}
    for (const how of ['abort', 'abort, nothing written', 'signal', 'signal, a chunk in flight']) {
      const ts = make()
      const reader = ts.readable.getReader()
      const ac = new AbortController()
      let writer = null
      let ctl = null
      if (how.startsWith('abort')) writer = ts.writable.getWriter()
      else void new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 }).pipeTo(ts.writable, { signal: ac.signal }).catch(() => {})
      await immediate()
      if (how.startsWith('abort')) {
        if (how === 'abort') void writer.write(new Uint8Array([1])).catch(() => {})
        await Promise.resolve()
        void writer.abort().catch(() => {})
      } else {
        // (A chunk the pipe is writing when the signal comes: its abort waits for that write.)
        if (how !== 'signal') ctl.enqueue(new Uint8Array([1]))
        for (let i = 0; i < 5; i++) await Promise.resolve()
        ac.abort(R)
        await Promise.resolve()
      }
      out[how] = await outcome(reader.cancel(C))
    }
    return out
  },
  // ALLOWANCE signal-cancel-later. A consumer's pipe into a slow destination (a turn per chunk,
  // highWaterMark 4) with a signal; three turns; four writes, the last awaited; the signal; the
  // writer released; three turns; a new writer and its close() (fuzz seed 23130, minimised). The
  // pipe cancels the readable side once its writes in flight to the destination have settled:
  // the identity TransformStream's pipe is behind them, its writable side still open (desiredSize
  // a number, the close completes), as the face's; with a turn per chunk the pipe's cancel came
  // first (null, the close refused: TypeError ERR_INVALID_STATE), as the fuzz's reference did.
  async 'signal-cancel-later' (make) {
    const ts = make()
    const ac = new AbortController()
    const sink = new WritableStream({ write: () => immediate() }, new CountQueuingStrategy({ highWaterMark: 4 }))
    const pipe = outcome(ts.readable.pipeTo(sink, { signal: ac.signal }))
    for (let i = 0; i < 3; i++) await immediate()
    let writer = ts.writable.getWriter()
    for (const n of [5953, 7, 1]) void writer.write(new Uint8Array(n)).catch(() => {})
    await writer.write(new Uint8Array(49))
    ac.abort(R)
    writer.releaseLock()
    for (let i = 0; i < 3; i++) await immediate()
    writer = ts.writable.getWriter()
    const desiredSize = writer.desiredSize
    return { desiredSize, close: await outcome(writer.close()), pipe: await pipe }
  },
  // ALLOWANCE signal-cancel-later (the face closed, the reference never took the write). A
  // consumer's pipeTo with a signal into a slow destination (a turn per chunk, highWaterMark 4);
  // right after construction the signal, writes of 8 and 1000 bytes, the writer released, a
  // turn, a new writer's desiredSize and close() (fuzz seed 89381 of BoundedBufferStream (block,
  // bytes), shortened). The identity TransformStream's writable side has not started (its start waits
  // for the transformer's): the write is still queued when the pipe cancels its readable side,
  // which errors the writable side (the write rejected, the close refused). A WritableStream
  // joined to a ReadableStream (standard streams, which start two microtasks sooner, as the
  // face's sides do: ALLOWANCE start-timing) took the write, and the pipe's pending read got the
  // chunk, which the pipe still writes at its shutdown and waits for: its cancel comes after the
  // slow destination's turn, after the writer's close() has completed, and throws away the
  // second chunk, still queued. As on the face.
  async 'signal-at-start' () {
    const out = {}
    const joinedPair = () => {
      let rc
      let wc
      const readable = new ReadableStream({ start (c) { rc = c }, cancel (reason) { wc.error(reason) } }, { highWaterMark: 0 })
      const writable = new WritableStream({ start (c) { wc = c }, write (chunk) { rc.enqueue(chunk) }, close () { rc.close() } })
      return { readable, writable }
    }
    const kinds = {
      'TransformStream (identity)': () => new TransformStream(),
      'WritableStream joined to a ReadableStream': joinedPair,
      'BoundedBufferStream (block, bytes)': () => new web.BoundedBufferStream({ capacity: 64, overflow: 'block' })
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const ac = new AbortController()
      const got = []
      const sink = new WritableStream({ write: (chunk) => { got.push(chunk.byteLength); return immediate() } }, new CountQueuingStrategy({ highWaterMark: 4 }))
      const pipe = outcome(ts.readable.pipeTo(sink, { signal: ac.signal }))
      let writer = ts.writable.getWriter()
      ac.abort()
      const writes = [outcome(writer.write(new Uint8Array(8))), outcome(writer.write(new Uint8Array(1000)))]
      writer.releaseLock()
      await immediate()
      writer = ts.writable.getWriter()
      const desiredSize = writer.desiredSize
      out[label] = { writes: await Promise.all(writes), desiredSize, close: await outcome(writer.close()), pipe: await pipe, got }
    }
    return out
  },
  // ALLOWANCE erroring-or-errored (a loop that breaks). A `for await` that breaks after 4
  // values; three writes (the third awaited), a fourth, a microtask, close(), a microtask, a
  // fifth write (fuzz seed 97772 of BoundedBufferStream (block, objects), minimised). The
  // identity TransformStream's loop has broken and its cancel errored the writable side: the
  // close and the late write are rejected with undefined. One with a turn per chunk breaks
  // later: the close is still queued, and the late write is refused (TypeError
  // ERR_INVALID_STATE), as on the face.
  async 'break-then-write-after-close' (make) {
    const ts = make()
    const writer = ts.writable.getWriter()
    let n = 0
    const loop = outcome((async () => { for await (const v of ts.readable) { void v; if (++n >= 4) break } })())
    const writes = [outcome(writer.write(1)), outcome(writer.write(2)), await outcome(writer.write(3)), outcome(writer.write(4))]
    await Promise.resolve()
    const close = outcome(writer.close())
    await Promise.resolve()
    const late = await outcome(writer.write(5))
    return { writes: await Promise.all(writes), close: await close, late, loop: await loop }
  },
  // engine.js closedUnread. A consumer's pipeTo into a destination of highWaterMark 0; a turn,
  // a write, a microtask, close(), abort() (fuzz seed 105400 of NdjsonStringifyStream,
  // minimised). The destination's writer.ready never resolves, so the pipe never reads. The
  // identity TransformStream's close is still queued behind its write when abort() comes: the
  // readable side errors and the pipe rejects. Whose close completed first (here abort() a turn
  // later; the face takes the value into its batch at once, README) ignores the abort: its
  // readable side holds the chunk, closes only once read, and the pipe waits ('pending' after
  // 50 ms here), as the face's.
  async 'closed-unread' () {
    const out = {}
    const settled = (p) => Promise.race([outcome(p), new Promise((resolve) => setTimeout(resolve, 50, 'pending'))])
    const kinds = {
      'TransformStream (identity, readable highWaterMark 16), abort() in close()\'s tick': [() => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 16 })), false],
      'TransformStream (identity, readable highWaterMark 16), abort() a turn after close()': [() => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 16 })), true],
      'NdjsonStringifyStream, abort() in close()\'s tick': [() => new web.NdjsonStringifyStream(), false]
    }
    for (const [label, [make, turn]] of Object.entries(kinds)) {
      const ts = make()
      const sink = new WritableStream({}, new CountQueuingStrategy({ highWaterMark: 0 }))
      const pipe = settled(ts.readable.pipeTo(sink))
      const writer = ts.writable.getWriter()
      await immediate()
      const write = settled(writer.write(1))
      await Promise.resolve()
      const close = settled(writer.close())
      if (turn) await immediate()
      const abort = settled(writer.abort())
      out[label] = { write: await write, close: await close, abort: await abort, pipe: await pipe }
    }
    return out
  },
  // ALLOWANCE same-tick cancel. A read waits; reader.cancel(C) then writer.close() in the same
  // tick (fuzz seed 45, minimised): Node's
  // TransformStream errors its writable only once the transformer's cancel has settled (the
  // standard's TransformStreamDefaultSourceCancelAlgorithm), so the close is still taken and
  // resolves; the face errors its writable inside cancel() (README, "Cancellation and errors"),
  // so the close is refused (TypeError ERR_INVALID_STATE). A microtask later both refuse it.
  async 'cancel-then-close' (make) {
    const ts = make()
    const writer = ts.writable.getWriter()
    const reader = ts.readable.getReader()
    await immediate()
    const read = outcome(reader.read())
    const cancel = outcome(reader.cancel(C))
    const close = outcome(writer.close())
    return { read: await read, cancel: await cancel, close: await close, writerClosed: await outcome(writer.closed) }
  },
  // ALLOWANCE node-cancel-write: Node 20's own bug. A write in the tick of reader.cancel(C), a
  // turn after the start, on a TransformStream whose readable side has room, is rejected with
  // "TypeError: controller[kState].transformAlgorithm is not a function" (cancel cleared the
  // transformer's algorithms; the writable errors with C only a microtask later), and the
  // writable side errors with that TypeError instead of C. The face answers C.
  async 'cancel-then-write' (make) {
    const ts = make(undefined, new CountQueuingStrategy({ highWaterMark: 16 }))
    const writer = ts.writable.getWriter()
    const reader = ts.readable.getReader()
    await immediate()
    void reader.cancel(C)
    const write = await outcome(writer.write(244))
    return { write, writerClosed: await outcome(writer.closed) }
  },
  // ALLOWANCE node-cancel-write (a close after it). A readable side of highWaterMark 0; two
  // writes, an awaited read, a read, a write, reader.cancel(C), a microtask, writer.close()
  // (fuzz seed 75357 of NdjsonStringifyStream, minimised; n microtasks before the second read).
  // The identity TransformStream: the
  // second read's pull let the held write's transform go a microtask later, after cancel() had
  // cleared the algorithms: Node 20's bare TypeError (nodejs/node#62036) errors the writable
  // side, still "erroring" behind that write at the close, which is queued and rejected with the
  // TypeError. A TransformStream whose readable side had room for the writes (they were taken,
  // nothing in flight) and whose cancel() errors its controller at once has an errored writable
  // side: the close is refused (TypeError ERR_INVALID_STATE), as the face's.
  async 'cancel-then-close-later' () {
    const out = {}
    const kinds = {
      'TransformStream (identity, readable highWaterMark 0)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 0 })),
      'TransformStream (its cancel errors at once, readable highWaterMark 16)': () => {
        let controller
        return new TransformStream({ start (c) { controller = c }, cancel (reason) { controller.error(reason) } }, undefined, new CountQueuingStrategy({ highWaterMark: 16 }))
      },
      'NdjsonStringifyStream (readable highWaterMark 0)': () => new web.NdjsonStringifyStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 0 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const rows = []
      for (let n = 0; n <= 4; n++) {
        const ts = make()
        const writer = ts.writable.getWriter()
        const reader = ts.readable.getReader()
        const writes = [outcome(writer.write('')), outcome(writer.write(''))]
        await reader.read()
        for (let i = 0; i < n; i++) await Promise.resolve()
        reader.read().catch(() => {})
        writes.push(outcome(writer.write(false)))
        reader.cancel(C).catch(() => {})
        await Promise.resolve()
        const close = outcome(writer.close())
        rows.push(`${n}: writes ${(await Promise.all(writes)).join(', ')}; close ${await close}`)
      }
      out[label] = rows
    }
    return out
  },
  // ALLOWANCE later-output (release). A read waits, write(1), then the reader's releaseLock() in
  // the same tick (fuzz seed 482, minimised): the identity TransformStream ran its transform inside write() and fulfilled the
  // read; a stage whose output comes a turn later (the face, the TransformStream with a turn per
  // chunk) has not, so the release rejects the read and the next reader gets the value.
  async 'write-then-release' (make) {
    const ts = make()
    const writer = ts.writable.getWriter()
    let reader = ts.readable.getReader()
    for (let i = 0; i < 3; i++) await immediate()
    const read = outcome(reader.read())
    void writer.write(1)
    reader.releaseLock()
    reader = ts.readable.getReader()
    void writer.close()
    return { read: await read, next: await outcome(reader.read()), after: await outcome(reader.read()) }
  },
  // ALLOWANCE erroring-or-errored. write(1), three microtasks, abort(R), then close() and
  // write(2): the identity TransformStream has finished its write, so the abort errors the
  // writable side at once (close() refused with a TypeError, the write rejected with R); a
  // stage still writing (a turn per chunk, the face) leaves it "erroring" until the write
  // settles (close() taken and rejected with R, the write refused with a TypeError: close queued).
  async 'abort-in-flight' (make) {
    const ts = make(undefined, new CountQueuingStrategy({ highWaterMark: 16 }))
    const writer = ts.writable.getWriter()
    await immediate()
    const write = outcome(writer.write(1))
    for (let i = 0; i < 3; i++) await Promise.resolve()
    const abort = outcome(writer.abort(R))
    const close = outcome(writer.close())
    const after = outcome(writer.write(2))
    return { write: await write, abort: await abort, close: await close, writeAfterClose: await after }
  },
  // ALLOWANCE desired-size. writer.desiredSize after three writes and a turn, with a readable
  // side of highWaterMark 1 (the fuzz's seeds 779 and 380 look at it through a second writer): where the chunks are then (in the writable queue, taken by the stage, in
  // the readable queue) is the stage's timing and buffering, and the face's differs both ways
  // (its component takes chunks a turn later, and holds some of its own).
  async 'desired-size' (make) {
    const ts = make(undefined, new CountQueuingStrategy({ highWaterMark: 1 }))
    const writer = ts.writable.getWriter()
    void writer.write(1)
    void writer.write(2)
    void writer.write(3)
    await immediate()
    return { desiredSize: writer.desiredSize }
  },
  // ALLOWANCE abort-during-close. write(1) and a turn, then close() and abort(R) in the same
  // tick, with a reader that reads after: a TransformStream lets the close in flight finish (the
  // standard's WritableStreamAbort waits for it, and then it wins): close and abort resolve, the
  // reader gets the value and the end. The face tears down at once, as on any abort(): close
  // and abort reject with R and the reader gets R (fuzz seeds 795, 926).
  async 'close-then-abort' (make) {
    const ts = make(undefined, new CountQueuingStrategy({ highWaterMark: 16 }))
    const writer = ts.writable.getWriter()
    const reader = ts.readable.getReader()
    await writer.write(1)
    await immediate()
    const close = outcome(writer.close())
    const abort = outcome(writer.abort(R))
    return { close: await close, abort: await abort, read: await outcome(reader.read()), next: await outcome(reader.read()) }
  },
  // ALLOWANCE close-waits-for-reader (release), the close torn down by abort-during-close. A
  // consumer's pipe into a destination of highWaterMark 1; an awaited write, close(), a
  // microtask, abort(R), a microtask, the writer's releaseLock() (fuzz seed 179625 of
  // BoundedBufferStream (block, objects), minimised). The identity TransformStream's close has
  // completed by the release: `closed` resolved. One whose flush takes a turn still has its
  // close in flight, the abort waiting behind it (the writable side "erroring"): the release
  // rejects `closed` (TypeError ERR_INVALID_STATE), then the close wins and the abort resolves.
  // The face's close is in flight too (the release rejects `closed` as there), and the abort
  // tore it down at once: the close, the abort and the pipe reject with R (close-then-abort).
  async 'close-abort-release' () {
    const out = {}
    const kinds = {
      'TransformStream (identity)': () => new TransformStream({}),
      'TransformStream (flush takes a turn)': () => new TransformStream({ flush: () => immediate() }),
      'BoundedBufferStream (capacity 1)': () => new web.BoundedBufferStream({ objectMode: true, capacity: 1, overflow: 'block' })
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const closed = outcome(writer.closed)
      const pipe = outcome(ts.readable.pipeTo(new WritableStream({}, new CountQueuingStrategy({ highWaterMark: 1 }))))
      await writer.write(-383)
      const close = outcome(writer.close())
      await Promise.resolve()
      const abort = outcome(writer.abort(R))
      await Promise.resolve()
      writer.releaseLock()
      out[label] = { closed: await closed, close: await close, abort: await abort, pipe: await pipe }
    }
    return out
  },
  // ALLOWANCE abort-during-close (the abort, the reference stalled). A consumer's pipe into a
  // destination of highWaterMark 0, a readable strategy of highWaterMark 0; an awaited write, a
  // close() given two turns, abort(R) (fuzz seed 61799 of BoundedBufferStream (block, bytes),
  // minimised; its write(null) before the abort is left out: it errors the reference's writable
  // side with the strategy's TypeError, which changes nothing here, and meets Node 20's internal
  // assertion on the face, whose close is in flight). The identity TransformStream's write waits
  // for room that the pipe never makes: the close stays queued behind it and the abort waits for
  // it, all for good ('pending' after 50 ms here). One with room for the write (readable
  // highWaterMark 1) finishes the close and the abort resolves; the face took the write, its
  // close waits for the reader, and the abort tears it down at once (README, "Cancellation and
  // errors"): the close and the abort reject with R, as in close-then-abort.
  async 'stalled-close-then-abort' () {
    const out = {}
    const count = (highWaterMark) => new CountQueuingStrategy({ highWaterMark })
    const kinds = {
      'TransformStream (readable highWaterMark 0)': () => new TransformStream({}, undefined, count(0)),
      'TransformStream (readable highWaterMark 1)': () => new TransformStream({}, undefined, count(1)),
      'BoundedBufferStream (capacity 1, readable highWaterMark 0)': () => new web.BoundedBufferStream({ capacity: 1, overflow: 'block' }, undefined, count(0))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const pipe = outcome(ts.readable.pipeTo(new WritableStream({}, count(0))))
      const writer = ts.writable.getWriter()
      const write = outcome(writer.write(new Uint8Array([67])))
      await Promise.race([write, late()])
      const close = outcome(writer.close())
      await Promise.race([close, immediate().then(() => immediate())])
      const abort = outcome(writer.abort(R))
      out[label] = { write: await Promise.race([write, late()]), close: await Promise.race([close, late()]), abort: await Promise.race([abort, late()]), pipe: await Promise.race([pipe, late()]) }
    }
    return out
  },
  // ALLOWANCE held-write abort, a read before the reader's cancel(). A readable strategy of 16
  // values; read(), an awaited write, a write, abort(R), read(), a microtask, cancel() (fuzz seed
  // 166369 of ThrottleStream and MeterStream (objects), minimised). The identity TransformStream
  // took the second write into its readable queue: the read in the abort's tick gets it, and the
  // cancel meets the abort's error. One whose transform takes a turn still has that write in
  // flight at the abort, which waits for it: its readable side is still readable, the read waits,
  // and the cancel a microtask later closes it (the read 'done', the cancel resolved), as on the
  // face, which held the write and rejected it.
  async 'held-write-abort-cancel' () {
    const out = {}
    const values = () => new CountQueuingStrategy({ highWaterMark: 16 })
    const kinds = {
      'TransformStream (identity)': () => new TransformStream({}, undefined, values()),
      'TransformStream (a turn per chunk)': () => new TransformStream({ transform: async (c, ctl) => { await immediate(); ctl.enqueue(c) } }, undefined, values()),
      'ThrottleStream (objects)': () => new web.ThrottleStream({ objectMode: true, rate: 1e12 })
    }
    for (const microtask of [false, true]) {
      for (const [label, make] of Object.entries(kinds)) {
        const ts = make()
        const writer = ts.writable.getWriter()
        const reader = ts.readable.getReader()
        const first = outcome(reader.read())
        await writer.write(1)
        const second = outcome(writer.write('x'))
        if (microtask) await Promise.resolve()
        const abort = outcome(writer.abort(R))
        const read = outcome(reader.read())
        await Promise.resolve()
        const cancel = outcome(reader.cancel())
        out[label + (microtask ? ', a microtask before abort()' : '')] = { first: await first, second: await second, abort: await abort, read: await read, cancel: await cancel }
      }
    }
    return out
  },
  // ALLOWANCE held-write abort (later reads). A readable strategy of one chunk; the reader
  // released, a write, three turns, a second write (held: no room), abort(R), the writer
  // released, three turns, a new reader's read() (fuzz seed 61111 of ThrottleStream and
  // MeterStream (objects), minimised). The identity TransformStream's second write waits for
  // room (its transform has not run), and the abort waits for that write: the read gets the
  // first value, its pull lets the write go (rejected with R) and only then the readable side
  // errors. One with room for the second write took it: the abort errors the readable side at
  // once, throwing the queued values away, and the read rejects with R. A pair of a
  // WritableStream whose held write watches its controller's signal (rejected with its reason
  // at the abort) and a ReadableStream its abort() errors rejects both, as the face does
  // (README, "Cancellation and errors": an abort stops the component at once, even while a
  // write is held by a full stage).
  async 'held-write-abort-later' () {
    const out = {}
    const count = (highWaterMark) => new CountQueuingStrategy({ highWaterMark })
    const watching = () => {
      let rctl
      let held = null
      const readable = new ReadableStream({ start (c) { rctl = c }, pull () { if (held !== null) held() } }, count(1))
      const writable = new WritableStream({
        write (chunk, wctl) {
          if (rctl.desiredSize > 0) return rctl.enqueue(chunk)
          return new Promise((resolve, reject) => {
            held = () => { held = null; rctl.enqueue(chunk); resolve() }
            wctl.signal.addEventListener('abort', () => { held = null; reject(wctl.signal.reason) }, { once: true })
          })
        },
        close () { rctl.close() },
        abort (reason) { rctl.error(reason) }
      })
      return { readable, writable }
    }
    const kinds = {
      'TransformStream (readable highWaterMark 1)': () => new TransformStream({}, undefined, count(1)),
      'TransformStream (readable highWaterMark 2)': () => new TransformStream({}, undefined, count(2)),
      'WritableStream and ReadableStream (a held write watches the signal)': watching,
      'ThrottleStream (objects)': () => new web.ThrottleStream({ objectMode: true, rate: 1e12 }, undefined, count(1)),
      'MeterStream (objects)': () => new web.MeterStream({ objectMode: true }, undefined, count(1))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const first = outcome(writer.write(1))
      for (let i = 0; i < 3; i++) await immediate()
      const second = outcome(writer.write(2))
      const abort = outcome(writer.abort(R))
      writer.releaseLock()
      for (let i = 0; i < 3; i++) await immediate()
      const read = await outcome(ts.readable.getReader().read())
      out[label] = { first: await first, second: await second, abort: await abort, read }
    }
    return out
  },
  // ALLOWANCE source-race (sink log). A pipe from a source that the program closes right after
  // enqueueing two chunks and a number (no bytes) into a byte stage: the identity transform fails
  // on the number while the source still holds the last chunk, so the pipe cancels the source;
  // a stage whose transform takes a turn (and the face) fails after the pipe has read the
  // source to its end, and there is nothing left to cancel (fuzz seed 134).
  async 'source-race' () {
    const out = {}
    const bytesFaces = {
      'TransformStream (identity)': () => new TransformStream({ transform (c, ctl) { if (typeof c === 'number') { ctl.error(new TypeError('not bytes')); throw new TypeError('not bytes') } ctl.enqueue(c) } }, new CountQueuingStrategy({ highWaterMark: 4 }), new CountQueuingStrategy({ highWaterMark: 16 })),
      'TransformStream (a turn per chunk)': () => new TransformStream({ async transform (c, ctl) { await immediate(); if (typeof c === 'number') throw new TypeError('not bytes'); ctl.enqueue(c) } }, new CountQueuingStrategy({ highWaterMark: 4 }), new CountQueuingStrategy({ highWaterMark: 16 })),
      'ThrottleStream (bytes)': () => new web.ThrottleStream({ rate: 1e12 }, new CountQueuingStrategy({ highWaterMark: 4 }))
    }
    for (const [label, make] of Object.entries(bytesFaces)) {
      const ts = make()
      let cancelled = 'not cancelled'
      let ctl
      const source = new ReadableStream({ start (c) { ctl = c }, cancel (r) { cancelled = 'cancelled: ' + name(r) } }, { highWaterMark: 0 })
      const piped = outcome(source.pipeTo(ts.writable))
      ctl.enqueue(new Uint8Array([1]))
      ctl.enqueue(42)
      ctl.enqueue(new Uint8Array([2]))
      ctl.close()
      out[label] = { pipe: await piped, source: cancelled }
    }
    return out
  },
  // ALLOWANCE same-tick close. close() then the reader's releaseLock() in the same tick, nothing
  // written: NdjsonStringifyStream has no line to send and closes its readable side inside
  // close() (its reader's closed resolves); a TransformStream closes it once its flush's promise
  // has settled, a promise job later (the release comes first: closed rejects with its TypeError).
  async 'close-then-release' () {
    const out = {}
    for (const [label, ts] of [['TransformStream (identity)', new TransformStream()], ['NdjsonStringifyStream', new web.NdjsonStringifyStream()]]) {
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      await immediate()
      const closed = outcome(reader.closed)
      void writer.close()
      reader.releaseLock()
      out[label] = await closed
    }
    return out
  },
  // ALLOWANCE stalled-reference (close). A readable side nobody reads; write(1) awaited, write(2),
  // a turn, abort(), close() (fuzz seed 3421 of NdjsonParseStream, minimised). An identity
  // TransformStream whose readable side holds one chunk stalls: the second write waits for a
  // read for good, so the abort waits behind it and the close taken meanwhile never settles
  // ('pending' after 50 ms here). One whose readable side has room for both took the second
  // write: the abort finds nothing in flight and errors the stream at once, the close is refused
  // (TypeError), as the parser face does (its input queue took the write). A WritableStream whose
  // write in flight watches its controller's signal lets it go at the abort: the close was taken
  // while "erroring" and is rejected with the abort's reason, as NdjsonStringifyStream does
  // (seed 3421 of it: no turn before the abort here, for either).
  async 'stalled-abort-close' () {
    const out = {}
    const kinds = {
      'TransformStream (readable highWaterMark 1)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 1 })),
      'TransformStream (readable highWaterMark 2)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 2 })),
      'WritableStream (a write in flight watches the signal)': () => ({
        writable: new WritableStream({
          write (chunk, controller) {
            if (chunk === 1) return
            return new Promise((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }))
          }
        })
      }),
      NdjsonParseStream: () => new web.NdjsonParseStream(undefined, undefined, new CountQueuingStrategy({ highWaterMark: 1 })),
      NdjsonStringifyStream: () => new web.NdjsonStringifyStream(undefined, undefined, new CountQueuingStrategy({ highWaterMark: 1 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const writer = make().writable.getWriter()
      const chunk = (n) => (label === 'NdjsonParseStream' ? new TextEncoder().encode(`${n}\n`) : n)
      await writer.write(chunk(1))
      const second = outcome(writer.write(chunk(2)))
      if (!label.startsWith('WritableStream') && label !== 'NdjsonStringifyStream') await immediate()
      const abort = outcome(writer.abort())
      const close = outcome(writer.close())
      out[label] = { second: await Promise.race([second, late()]), abort: await Promise.race([abort, late()]), close: await Promise.race([close, late()]) }
    }
    return out
  },
  // ALLOWANCE monitored-failure-race. A sink whose second write fails (a turn later), and
  // writer.abort(R) in that write's tick or a turn later: a plain WritableStream calls the
  // sink's abort(R) after the failure if the abort came while the write was in flight (the
  // standard's WritableStreamFinishErroring), and never if it came after.
  // ALLOWANCE cancel-during-close (desiredSize). close() (after a write, or none), then
  // readable.cancel(S) in the same tick, three microtasks or a turn later; then releaseLock() and,
  // two turns later, a new writer's desiredSize (fuzz seed 6677 of ThrottleStream and MeterStream,
  // objects). A TransformStream whose flush is running when the cancel comes lets it finish: the
  // close resolves and the writable side closes (0). Where the close is still queued behind a
  // write (the identity's in the write's tick, a transform that takes a turn), the writable side
  // errors with the reason and the close rejects with it (null), as the face's does; a flush that
  // enqueues after the cancel rejects the close and the cancel with a TypeError (null).
  async 'cancel-during-close' () {
    const S = new Error('S')
    const said = (p) => p.then(() => 'ok', (e) => 'rejected ' + (e === S ? 'S' : name(e)))
    const out = {}
    const kinds = {
      'TransformStream (identity)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 4 })),
      'TransformStream (a turn per chunk)': () => new TransformStream({ transform: async (c, ctl) => { await immediate(); ctl.enqueue(c) } }, undefined, new CountQueuingStrategy({ highWaterMark: 4 })),
      'TransformStream (a flush that enqueues a turn later)': () => new TransformStream({ async flush (ctl) { await immediate(); ctl.enqueue('tail') } }, undefined, new CountQueuingStrategy({ highWaterMark: 4 })),
      ThrottleStream: () => new web.ThrottleStream({ objectMode: true, rate: 1e12 }, undefined, new CountQueuingStrategy({ highWaterMark: 4 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      for (const write of [false, true]) {
        for (const wait of ['same tick', 'microtasks', 'a turn']) {
          const ts = make()
          await immediate()
          const writer = ts.writable.getWriter()
          const wrote = write ? said(writer.write(1)) : 'none'
          const close = said(writer.close())
          if (wait === 'microtasks') for (let i = 0; i < 3; i++) await Promise.resolve()
          if (wait === 'a turn') await immediate()
          const cancel = said(ts.readable.cancel(S))
          writer.releaseLock()
          await immediate()
          await immediate()
          out[`${label}, ${write ? 'write, ' : ''}close, cancel ${wait}`] = { write: await wrote, close: await close, cancel: await cancel, desiredSize: ts.writable.getWriter().desiredSize }
        }
      }
    }
    return out
  },
  // ALLOWANCE held-write abort (a chunk behind). A readable side of highWaterMark 1 byte; an
  // awaited write of 1 byte and a turn, read(), write(1 byte), read(), releaseLock(), a write of
  // 32960 bytes, five turns, a new reader's read(), abort(), read() (fuzz seed 40555 of
  // ThrottleStream, minimised). The identity TransformStream's reads got both small chunks, its
  // transform took the big one at once, the read before the abort gets it and the read in the
  // abort's tick waits and meets the abort. A stage whose output comes a turn later had not given
  // the second read its chunk before the release: the new reader's first read gets it. A
  // TransformStream whose transformer buffers (takes a chunk at once, hands its buffer on while
  // the readable side has room, looking each turn, and finishes a write once it holds less than
  // 16 KiB) holds the big chunk with its write in flight, so the abort waits for that write and
  // the read in its tick gets the chunk, as ThrottleStream's does (its Node buffer holds it).
  async 'read-behind-abort' () {
    const out = {}
    const room = () => new ByteLengthQueuingStrategy({ highWaterMark: 1 })
    const kinds = {
      'TransformStream (identity)': () => new TransformStream({}, undefined, room()),
      'TransformStream (a turn per chunk)': () => new TransformStream({ transform: async (c, ctl) => { await immediate(); ctl.enqueue(c) } }, undefined, room()),
      'TransformStream (a transformer that buffers)': () => {
        const held = []
        let size = 0
        let ctl = null
        let timer = null
        const drain = () => {
          timer = null
          while (held.length > 0 && ctl.desiredSize > 0) {
            const c = held.shift()
            size -= c.byteLength
            ctl.enqueue(c)
          }
          if (held.length > 0) timer = setImmediate(drain)
        }
        return new TransformStream({
          start (c) { ctl = c },
          async transform (c) {
            held.push(c)
            size += c.byteLength
            if (timer === null) timer = setImmediate(drain)
            while (size >= 16384) await immediate()
          }
        }, undefined, room())
      },
      'ThrottleStream (bytes)': () => new web.ThrottleStream({ rate: 1e12, burst: 1e11 }, undefined, room())
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      let reader = ts.readable.getReader()
      await writer.write(new Uint8Array([1]))
      await immediate()
      const first = outcome(reader.read())
      void writer.write(new Uint8Array([2])).catch(() => {})
      const second = outcome(reader.read())
      reader.releaseLock()
      void writer.write(new Uint8Array(32960)).catch(() => {})
      for (let i = 0; i < 5; i++) await immediate()
      reader = ts.readable.getReader()
      const before = outcome(reader.read())
      const abort = outcome(writer.abort())
      const inTick = outcome(reader.read())
      out[label] = { first: await first, second: await second, before: await before, abort: await abort, inTick: await inTick }
    }
    return out
  },
  // ALLOWANCE same-tick abort (a read, then cancel()). A turn after the start: writer.abort(),
  // read(), reader.cancel() in one tick (fuzz seed 43504 of NdjsonParseStream). A
  // TransformStream errors its readable side only once its transformer's cancel has settled, so
  // the cancel closes it first: the read waiting gets 'done', the cancel resolves. The face
  // errors it inside abort(): both reject with the abort's reason.
  async 'abort-read-cancel' (make) {
    const ts = make()
    const writer = ts.writable.getWriter()
    const reader = ts.readable.getReader()
    await immediate()
    const abort = outcome(writer.abort(R))
    const read = outcome(reader.read())
    const cancel = outcome(reader.cancel(C))
    return { abort: await abort, read: await read, cancel: await cancel }
  },
  // ALLOWANCE same-tick abort (a producer pipe's source error, then releaseLock()). A source piped
  // through the stage errors, three microtasks, the reader's releaseLock() (fuzz seed 119920 of
  // NdjsonStringifyStream, minimised). The pipe aborts the stage's writable side with the
  // source's error promise jobs later; the identity TransformStream errors its readable side only
  // once its transformer's cancel has settled, a microtask after that, so the release comes first
  // and rejects `closed` with its TypeError. One whose transformer's cancel() errors its
  // controller at once (conforming), as the face errors its readable side inside abort(), has
  // errored it by then: `closed` rejects with the source's error (R here). A microtask more and
  // the identity TransformStream has too.
  async 'source-error-release' () {
    const out = {}
    const kinds = {
      'TransformStream (identity)': () => new TransformStream(),
      'TransformStream (its cancel errors at once)': cancelErroringAtOnce,
      NdjsonStringifyStream: () => new web.NdjsonStringifyStream()
    }
    for (const microtasks of [3, 4]) {
      for (const [label, make] of Object.entries(kinds)) {
        let ctl
        const reader = new ReadableStream({ start (c) { ctl = c } }).pipeThrough(make()).getReader()
        const closed = outcome(reader.closed)
        ctl.error(R)
        for (let i = 0; i < microtasks; i++) await Promise.resolve()
        reader.releaseLock()
        out[`${label}, ${microtasks} microtasks`] = await closed
      }
    }
    return out
  },
  // ALLOWANCE close-later (release). A read waits; close(), a microtask, the reader's
  // releaseLock() (fuzz seed 45136 of BoundedBufferStream, minimised). The identity
  // TransformStream has closed its readable side a promise job after close(): the read is 'done',
  // `closed` resolved. One whose flush takes a turn has not: the release rejects both, as it does
  // on the faces that end through a Node stream (closed once it has finished, a tick later);
  // NdjsonParseStream and NdjsonStringifyStream close within the microtask.
  async 'close-microtask-release' () {
    const out = {}
    const kinds = {
      'TransformStream (identity)': () => new TransformStream(),
      'TransformStream (a flush that takes a turn)': () => new TransformStream({ flush: () => immediate() }),
      'ThrottleStream (bytes)': () => new web.ThrottleStream({ rate: 1e12 }),
      'BoundedBufferStream (bytes)': () => new web.BoundedBufferStream({ capacity: 64, overflow: 'block' }),
      NdjsonParseStream: () => new web.NdjsonParseStream()
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      await immediate()
      const read = outcome(reader.read())
      const closed = outcome(reader.closed)
      const close = outcome(writer.close())
      await Promise.resolve()
      reader.releaseLock()
      out[label] = { read: await read, closed: await closed, close: await close }
    }
    return out
  },
  // ALLOWANCE close-later (release), a write refused in between. A turn after the start,
  // close(), a microtask, a write (refused: the close is queued; Node 20 throws
  // ERR_INTERNAL_ASSERTION), the reader's releaseLock() (fuzz seed 73639 of ThrottleStream and
  // MeterStream (bytes), minimised): the refused write changes nothing, and the reader's
  // `closed` is as in close-microtask-release: resolved on the identity TransformStream,
  // rejected by the release (TypeError) where the flush takes a turn, as on the faces.
  async 'close-write-release' () {
    const out = {}
    const kinds = {
      'TransformStream (identity)': () => new TransformStream(),
      'TransformStream (a flush that takes a turn)': () => new TransformStream({ flush: () => immediate() }),
      'MeterStream (bytes)': () => new web.MeterStream({})
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      await immediate()
      const closed = outcome(reader.closed)
      const close = outcome(writer.close())
      await Promise.resolve()
      let write
      try {
        write = outcome(writer.write(new Uint8Array([0x3b])))
      } catch (err) {
        write = Promise.resolve('threw ' + name(err))
      }
      reader.releaseLock()
      out[label] = { closed: await closed, close: await close, write: await write }
    }
    return out
  },
  // ALLOWANCE queue-shape (release, a read). Three writes back to back (4, 8 and 5 bytes),
  // close(), the writer released, read(), three turns, read(), read(), the reader's
  // releaseLock(), with a readable strategy of one chunk (fuzz seed 53636 of ThrottleStream and
  // MeterStream (bytes), minimised). The identity TransformStream's third chunk waits behind its
  // readable side's backpressure: the third read waits for it and the release rejects it. One
  // whose transform joins the chunks written back to back (a turn later) has every byte in its
  // reads before, and has closed: the third read is 'done', as on the byte faces, whose Node
  // stream joins what it buffered (README, "Web Streams").
  async 'join-then-release' () {
    const out = {}
    const one = () => new CountQueuingStrategy({ highWaterMark: 1 })
    const joining = () => {
      let held = []
      let turn = null
      return new TransformStream({
        transform (chunk, controller) {
          held.push(chunk)
          turn ??= immediate().then(() => { controller.enqueue(Buffer.concat(held)); held = []; turn = null })
        },
        flush: () => turn
      }, undefined, one())
    }
    const kinds = {
      'TransformStream (identity)': () => new TransformStream({}, undefined, one()),
      'TransformStream (joins the chunks written back to back)': joining,
      'ThrottleStream (bytes)': () => new web.ThrottleStream({ rate: 1e12 }, undefined, one()),
      'MeterStream (bytes)': () => new web.MeterStream({}, undefined, one())
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      const writes = [4, 8, 5].map((n) => outcome(writer.write(new Uint8Array(n))))
      for (let i = 0; i < 3; i++) await immediate()
      const close = outcome(writer.close())
      writer.releaseLock()
      const sizes = []
      const read = () => outcome(reader.read().then((v) => { if (!v.done) sizes.push(v.value.byteLength); return v }))
      const reads = [read()]
      for (let i = 0; i < 3; i++) await immediate()
      reads.push(read(), read())
      reader.releaseLock()
      out[label] = { reads: await Promise.all(reads), sizes, writes: await Promise.all(writes), close: await close }
    }
    return out
  },
  // ALLOWANCE queue-shape (release), with a producer's pipe. A pipeThrough whose source enqueues
  // two values back to back and closes; three turns, read(), the reader's releaseLock() (fuzz
  // seed 62240 of NdjsonStringifyStream, minimised). A TransformStream with a chunk per value
  // still has the second line queued: the release rejects the reader's `closed`. One that joins
  // the lines of the values written back to back (a turn later) had one chunk, which the read
  // got, and has closed: `closed` resolved, as on the face (README: values written back to back
  // share a batch).
  async 'join-then-release-pipe' () {
    const out = {}
    // (The face's default readable strategy, which the fuzz's reference is given.)
    const bytes = () => new ByteLengthQueuingStrategy({ highWaterMark: 16384 })
    const joining = () => joiningLines(bytes())
    const kinds = {
      'TransformStream (a chunk per value)': () => new TransformStream({ transform: (value, controller) => controller.enqueue(line(value)) }, undefined, bytes()),
      'TransformStream (joins the lines written back to back)': joining,
      NdjsonStringifyStream: () => new web.NdjsonStringifyStream()
    }
    for (const [label, make] of Object.entries(kinds)) {
      let ctl
      const src = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 })
      const reader = src.pipeThrough(make()).getReader()
      const closed = outcome(reader.closed)
      ctl.enqueue([null, null])
      ctl.enqueue('')
      ctl.close()
      for (let i = 0; i < 3; i++) await immediate()
      const sizes = []
      const read = outcome(reader.read().then((v) => { if (!v.done) sizes.push(v.value.byteLength); return v }))
      reader.releaseLock()
      out[label] = { read: await read, sizes, closed: await closed }
    }
    return out
  },
  // ALLOWANCE queue-shape (release), NdjsonParseStream. A readable strategy of highWaterMark 0;
  // a write of three lines, a read, a write of '4' (no newline), close(), two reads, a turn, a
  // read and the reader's releaseLock() in its tick (fuzz seed 92475 of NdjsonParseStream,
  // minimised and shortened). A line-parsing TransformStream with no room on its readable side
  // holds the second write back (its transform waits for a read with nothing queued), so its
  // close() and the flush of '4' wait too: the last read waits, and the release rejects it and
  // `closed`. One with room has taken the write and flushed at close(): the last read gets '4',
  // the readable side has closed before the release, `closed` resolved, as on the face, whose
  // input queue takes the write (README, "Backpressure").
  async 'parse-ahead-then-release' () {
    const out = {}
    const lines = (hwm) => {
      let rest = ''
      const parse = (text, controller) => { if (text.trim() !== '') controller.enqueue(JSON.parse(text)) }
      return new TransformStream({
        transform (chunk, controller) {
          const parts = (rest + Buffer.from(chunk).toString()).split('\n')
          rest = parts.pop()
          for (const part of parts) parse(part, controller)
        },
        flush (controller) { parse(rest, controller) }
      }, undefined, new CountQueuingStrategy({ highWaterMark: hwm }))
    }
    const kinds = {
      'TransformStream (lines, readable highWaterMark 0)': () => lines(0),
      'TransformStream (lines, readable highWaterMark 16)': () => lines(16),
      'NdjsonParseStream (readable highWaterMark 0)': () => new web.NdjsonParseStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 0 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      const closed = outcome(reader.closed)
      void writer.write(Buffer.from('1\n2\n3\n')).catch(() => {})
      const reads = [await outcome(reader.read())]
      void writer.write(Buffer.from('4')).catch(() => {})
      const close = outcome(writer.close())
      reads.push(await outcome(reader.read()), await outcome(reader.read()))
      await immediate()
      const last = outcome(reader.read())
      reader.releaseLock()
      reads.push(await last)
      out[label] = { reads, closed: await closed, close: await Promise.race([close, immediate('pending')]) }
    }
    return out
  },
  // engine.js givenAllDelivered. A producer's pipe with preventAbort, preventClose and a signal
  // (writable strategy of 4 chunks, readable of 0): the source enqueues 64679 and 5 bytes, three
  // turns, 69796 bytes, three turns, the signal; a read, a microtask, the reader released, a
  // turn, 197 bytes enqueued, a new reader's reads (fuzz seed 53504 of ThrottleStream and
  // MeterStream (bytes), minimised). The pipe waits for its writes in flight before it cancels
  // its source, and writes a chunk its pending read gets meanwhile: the identity
  // TransformStream's writes wait for reads (no room on its readable side), so the 197 bytes came
  // while it waited and were written (the last read gets them). One with room on its readable
  // side had finished its writes and cancelled the source: the enqueue throws, and the last read
  // waits for good (nothing ends the writable side), as on the face, whose own buffer took the
  // chunks.
  async 'let-go-before-chunk' () {
    const out = {}
    const S = new Error('signal reason')
    const kinds = {
      'TransformStream (readable highWaterMark 0)': () => new TransformStream({}, new CountQueuingStrategy({ highWaterMark: 4 }), new CountQueuingStrategy({ highWaterMark: 0 })),
      'TransformStream (readable highWaterMark 4)': () => new TransformStream({}, new CountQueuingStrategy({ highWaterMark: 4 }), new CountQueuingStrategy({ highWaterMark: 4 })),
      'MeterStream (bytes)': () => new web.MeterStream({}, new CountQueuingStrategy({ highWaterMark: 4 }), new CountQueuingStrategy({ highWaterMark: 0 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      let ctl
      const source = []
      const src = new ReadableStream({ start (c) { ctl = c }, cancel () { source.push('cancelled') } }, { highWaterMark: 0 })
      const ac = new AbortController()
      const pipe = outcome(src.pipeTo(ts.writable, { preventAbort: true, preventClose: true, signal: ac.signal }))
      let reader = ts.readable.getReader()
      const sizes = []
      const read = () => outcome(reader.read().then((v) => { if (!v.done) sizes.push(v.value.byteLength); return v }))
      const reads = [read()]
      ctl.enqueue(new Uint8Array(64679))
      ctl.enqueue(new Uint8Array(5))
      for (let i = 0; i < 3; i++) await immediate()
      ctl.enqueue(new Uint8Array(69796))
      for (let i = 0; i < 3; i++) await immediate()
      ac.abort(S)
      reads.push(read())
      await Promise.resolve()
      reader.releaseLock()
      await immediate()
      try {
        ctl.enqueue(new Uint8Array(197))
        source.push('197 bytes enqueued')
      } catch {
        source.push('197 bytes refused')
      }
      reader = ts.readable.getReader()
      reads.push(await Promise.race([read(), late()]), await Promise.race([read(), late()]))
      out[label] = { reads: await Promise.all(reads), sizes, source, pipe: await pipe }
    }
    return out
  },
  // ALLOWANCE closed-before-signal (sink log), an abort() after the close. Three values written,
  // an awaited close(), an awaited abort(), the consumer pipe's signal, a slow destination (fuzz
  // seeds 205003 and 208644 of NdjsonParseStream, their shape). The abort meets a closed
  // writable side: it resolves and changes nothing, so each TransformStream ends as in
  // close-then-signal: the one whose readable side holds nothing closes the destination, the one
  // with room for the values aborts it.
  async 'close-abort-then-signal' () {
    const out = {}
    const kinds = {
      'TransformStream (readable highWaterMark 0)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 0 })),
      'TransformStream (readable highWaterMark 4)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 4 })),
      'NdjsonParseStream (readable highWaterMark 0)': () => new web.NdjsonParseStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 0 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const { sink, got, dest } = loggingSink()
      const ac = new AbortController()
      const pipe = outcome(ts.readable.pipeTo(sink, { signal: ac.signal }))
      const writer = ts.writable.getWriter()
      const writes = label.startsWith('Ndjson') ? [outcome(writer.write(Buffer.from('1\n2\n3\n')))] : [1, 2, 3].map((v) => outcome(writer.write(v)))
      const close = await outcome(writer.close())
      const abort = await outcome(writer.abort())
      ac.abort()
      out[label] = { writes: await Promise.all(writes), close, abort, pipe: await pipe, got, dest }
    }
    return out
  },
  // ALLOWANCE closed-after-signal (sink log), values held. Three values written, an awaited
  // close(), the consumer pipe's signal, a slow destination (fuzz seed 55750 of ThrottleStream
  // and MeterStream (objects), minimised). The identity TransformStream whose readable side holds
  // nothing has handed its last value to the pipe when close() resolves: the pipe is closing the
  // destination, which gets every value. One whose readable side has room for them resolves
  // close() with values still queued: the signal aborts the pipe, which cancels the readable
  // side and throws them away, as on the faces (their Node stage took the values).
  async 'close-then-signal' () {
    const out = {}
    const kinds = {
      'TransformStream (readable highWaterMark 0)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 0 })),
      'TransformStream (readable highWaterMark 4)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 4 })),
      'MeterStream (objects)': () => new web.MeterStream({ objectMode: true }, undefined, new CountQueuingStrategy({ highWaterMark: 0 })),
      'ThrottleStream (objects)': () => new web.ThrottleStream({ objectMode: true, rate: 1e12 }, undefined, new CountQueuingStrategy({ highWaterMark: 0 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const { sink, got, dest } = loggingSink()
      const ac = new AbortController()
      const pipe = outcome(ts.readable.pipeTo(sink, { signal: ac.signal }))
      const writer = ts.writable.getWriter()
      const writes = [1, 2, 3].map((v) => outcome(writer.write(v)))
      const close = await outcome(writer.close())
      ac.abort()
      out[label] = { writes: await Promise.all(writes), close, pipe: await pipe, got, dest }
    }
    // (And a producer's pipeThrough in the writer's place: its source enqueues four values and
    // closes, four turns, the signal (fuzz seed 108075 of BoundedBufferStream (block, bytes)).
    // The identity TransformStream has written every value and closed the destination; one whose
    // output comes a turn after the write (as a face's: README, "Web Streams") is still writing
    // when the signal comes and aborts it, throwing away the rest, as the face did in that seed.)
    const later = {
      'TransformStream (identity)': () => new TransformStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 0 })),
      'TransformStream (a turn per chunk)': () => new TransformStream({ transform: async (c, ctl) => { await immediate(); ctl.enqueue(c) } }),
      'BoundedBufferStream (objects, capacity 2)': () => new web.BoundedBufferStream({ objectMode: true, capacity: 2, overflow: 'block' })
    }
    for (const [label, make] of Object.entries(later)) {
      const { sink, got, dest } = loggingSink()
      const ac = new AbortController()
      let ctl
      const src = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 })
      const pipe = outcome(src.pipeThrough(make()).pipeTo(sink, { signal: ac.signal }))
      for (const v of [1, 2, 3, 4]) ctl.enqueue(v)
      ctl.close()
      for (let i = 0; i < 4; i++) await immediate()
      ac.abort()
      out['pipeThrough, ' + label] = { pipe: await pipe, got, dest }
    }
    return out
  },
  // engine.js strategyStranded. A pipeThrough (preventCancel) into a writable side with a
  // ByteLengthQueuingStrategy of highWaterMark 1: the source enqueues 62119 bytes, 100 bytes and a
  // string, a turn, then errors with E (fuzz seed 55454 of BoundedBufferStream (block, bytes),
  // minimised). An identity TransformStream whose readable side pushes back (16384 bytes) keeps
  // the pipe waiting before the string: E comes first, the pipe aborts the writable side with it
  // and the reads end with E. One with room for the chunks has the string written first: its
  // size() errors the writable side only (whatwg/streams#628), the abort after it does nothing,
  // and the read after the chunks waits for good, as on the face (its own buffer took them).
  async 'strategy-error-before-abort' () {
    const out = {}
    const E = new Error('source error')
    const bytes = (highWaterMark) => new ByteLengthQueuingStrategy({ highWaterMark })
    const kinds = {
      'TransformStream (readable highWaterMark 16384 bytes)': () => new TransformStream({}, bytes(1), bytes(16384)),
      'TransformStream (readable highWaterMark 131072 bytes)': () => new TransformStream({}, bytes(1), bytes(131072)),
      'BoundedBufferStream (capacity 64, bytes)': () => new web.BoundedBufferStream({ capacity: 64, overflow: 'block' }, bytes(1))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      let ctl
      const src = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 })
      const reader = src.pipeThrough(ts, { preventCancel: true }).getReader()
      ctl.enqueue(new Uint8Array(62119))
      ctl.enqueue(new Uint8Array(100))
      ctl.enqueue('x'.repeat(64))
      await immediate()
      ctl.error(E)
      const reads = []
      const sizes = []
      for (let r = 'value'; r === 'value';) {
        r = await Promise.race([outcome(reader.read().then((v) => { if (!v.done) sizes.push(v.value.byteLength); return v })), late()])
        reads.push(r === 'rejected Error' ? 'rejected E' : r)
      }
      out[label] = { reads, sizes }
    }
    return out
  },
  // ALLOWANCE strategy-error-before-signal. The same with the producer's signal in the source
  // error's place, and reads before it: a pipeThrough with a signal into a writable side with a
  // ByteLengthQueuingStrategy of highWaterMark 1 and a readable one of one chunk; the source
  // enqueues 199, 47126 and 76 bytes and an object (no byteLength), three turns, three reads,
  // the signal, a read (fuzz seed 66408 of BoundedBufferStream (block, bytes), minimised). The
  // identity TransformStream whose readable side pushes back keeps its pipe waiting before the
  // object: the signal aborts the writable side and the last read rejects with S. One with room
  // for the chunks has written the object first: its size() errors the writable side only
  // (whatwg/streams#628), the pipe is over and the signal does nothing: the last read waits for
  // good, as on the face (its own buffer took the chunks).
  async 'strategy-error-before-signal' () {
    const out = {}
    const S = new Error('signal reason')
    const count = (highWaterMark) => new CountQueuingStrategy({ highWaterMark })
    const bytes1 = () => new ByteLengthQueuingStrategy({ highWaterMark: 1 })
    const kinds = {
      'TransformStream (readable highWaterMark 1)': () => new TransformStream({}, bytes1(), count(1)),
      'TransformStream (readable highWaterMark 4)': () => new TransformStream({}, bytes1(), count(4)),
      'BoundedBufferStream (capacity 4, bytes)': () => new web.BoundedBufferStream({ capacity: 4, overflow: 'block' }, bytes1(), count(1))
    }
    for (const [label, make] of Object.entries(kinds)) {
      let ctl
      const ac = new AbortController()
      const src = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 })
      const reader = src.pipeThrough(make(), { signal: ac.signal }).getReader()
      for (const n of [199, 47126, 76]) ctl.enqueue(new Uint8Array(n))
      ctl.enqueue({})
      for (let i = 0; i < 3; i++) await immediate()
      const sizes = []
      const read = () => outcome(reader.read().then((v) => { if (!v.done) sizes.push(v.value.byteLength); return v }))
      const reads = [read(), read(), read()]
      ac.abort(S)
      reads.push(read())
      out[label] = { reads: (await Promise.all(reads.map((r) => Promise.race([r, late()])))).map((r) => (r === 'rejected Error' ? 'rejected S' : r)), sizes }
    }
    return out
  },
  // engine.js strategyStranded (the consumer's pipe). As strategy-error-before-signal, with the
  // readable side piped (preventClose, preventAbort) into a slow destination (fuzz seed 195243 of
  // BoundedBufferStream (block, bytes), its shape). The identity TransformStream whose readable
  // side pushes back (highWaterMark 0) keeps its pipe waiting before the object: the
  // signal aborts the writable side, the readable side errors with S and the consumer's pipe
  // rejects with it. One with room for the chunks has written the object first: its size()
  // errors the writable side only (whatwg/streams#628), the signal does nothing, and the
  // consumer's pipe waits for good after the chunks, as on the face.
  async 'strategy-error-before-signal-pipe' () {
    const out = {}
    const S = new Error('signal reason')
    const count = (highWaterMark) => new CountQueuingStrategy({ highWaterMark })
    const bytes1 = () => new ByteLengthQueuingStrategy({ highWaterMark: 1 })
    const kinds = {
      'TransformStream (readable highWaterMark 0)': () => new TransformStream({}, bytes1(), count(0)),
      'TransformStream (readable highWaterMark 4)': () => new TransformStream({}, bytes1(), count(4)),
      'BoundedBufferStream (capacity 4, bytes)': () => new web.BoundedBufferStream({ capacity: 4, overflow: 'block' }, bytes1(), count(1))
    }
    for (const [label, make] of Object.entries(kinds)) {
      let ctl
      const ac = new AbortController()
      const src = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 })
      // (A destination taking a chunk every five turns.)
      const got = []
      const sink = new WritableStream({ async write (chunk) { got.push(chunk.byteLength); for (let i = 0; i < 5; i++) await immediate() } }, count(1))
      const pipe = outcome(src.pipeThrough(make(), { signal: ac.signal, preventCancel: true }).pipeTo(sink, { preventClose: true, preventAbort: true }))
      for (const n of [199, 47126, 76]) ctl.enqueue(new Uint8Array(n))
      ctl.enqueue({})
      for (let i = 0; i < 3; i++) await immediate()
      ac.abort(S)
      for (let i = 0; i < 6; i++) await immediate()
      const r = await Promise.race([pipe, late()])
      out[label] = { pipe: r === 'rejected Error' ? 'rejected S' : r, got }
    }
    return out
  },
  // ALLOWANCE brokeLater (the face's close first). A `for await` breaking after 3 chunks; two
  // awaited writes, a write, the writer released, a turn, a new writer's desiredSize, a write and
  // close() (fuzz seed 59738 of NdjsonStringifyStream, minimised). A TransformStream with a
  // chunk per write (at once or a turn later) has its loop broken by then: its cancel errored the
  // writable side (null; the write rejected with undefined, close() refused). One that joins the
  // lines written back to back has fewer chunks: the writer sees an open stream and its write and
  // close() complete, as on the face.
  async 'break-after-close' () {
    const out = {}
    const line = (v) => JSON.stringify(v) + '\n'
    const kinds = {
      'TransformStream (identity)': () => new TransformStream({ transform (v, controller) { controller.enqueue(line(v)) } }),
      'TransformStream (a turn per chunk)': () => new TransformStream({ transform: async (v, controller) => { await immediate(); controller.enqueue(line(v)) } }),
      'TransformStream (joins the lines written back to back, a turn later)': () => {
        let held = []
        let turn = null
        return new TransformStream({
          transform (v, controller) {
            held.push(line(v))
            turn ??= immediate().then(() => { controller.enqueue(held.join('')); held = []; turn = null })
          },
          flush: () => turn
        })
      },
      NdjsonStringifyStream: () => new web.NdjsonStringifyStream()
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      let n = 0
      const loop = outcome((async () => { for await (const v of ts.readable) { void v; if (++n >= 3) break } })())
      let writer = ts.writable.getWriter()
      await writer.write(null)
      await writer.write(1.5)
      void writer.write('')
      writer.releaseLock()
      await immediate()
      writer = ts.writable.getWriter()
      const desiredSize = writer.desiredSize
      const write = outcome(writer.write(null))
      const close = outcome(writer.close())
      out[label] = { desiredSize, write: await write, close: await close, loop: await loop, chunks: n }
    }
    return out
  },
  // ALLOWANCE same-tick cancel (an abort in its tick). The reader's cancel(C), the writer's
  // abort() in the same tick, a microtask, a write (fuzz seed 58814 of BoundedBufferStream
  // (block, objects), minimised). The identity TransformStream errors its writable side with C
  // only once its transformer's cancel has settled: the abort came first, the write is rejected
  // with its reason (undefined). One whose transformer's cancel() errors its controller at once
  // has errored the writable side with C: the abort and the write are rejected with C, as on the
  // face (README, "Cancellation and errors": cancel(reason) errors the writable side with it).
  async 'cancel-then-abort' () {
    const out = {}
    const kinds = {
      'TransformStream (identity)': () => new TransformStream(),
      'TransformStream (its cancel errors at once)': cancelErroringAtOnce,
      'BoundedBufferStream (objects)': () => new web.BoundedBufferStream({ objectMode: true, capacity: 1, overflow: 'block' })
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      const cancel = outcome(reader.cancel(C))
      const abort = outcome(writer.abort())
      await Promise.resolve()
      const write = outcome(writer.write(false))
      out[label] = { cancel: await cancel, abort: await abort, write: await write }
    }
    // (And an invalid chunk in the tick: cancel(), abort(R), write(null), fuzz seed 93593 of
    // BoundedBufferStream (block, bytes). The write is rejected with the stored error, whichever
    // got there first: R on the identity TransformStream, the cancel's undefined on the one whose
    // cancel errors at once and on the face.)
    kinds['BoundedBufferStream (bytes)'] = () => new web.BoundedBufferStream({ capacity: 4, overflow: 'block' })
    delete kinds['BoundedBufferStream (objects)']
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      const cancel = outcome(reader.cancel())
      const abort = outcome(writer.abort(R))
      const write = outcome(writer.write(null))
      out['invalid chunk, ' + label] = { cancel: await cancel, abort: await abort, write: await write }
    }
    return out
  },
  // ALLOWANCE same-tick cancel (an unsizable chunk in its tick). Right after construction, a
  // writable ByteLengthQueuingStrategy of highWaterMark 0: reader.cancel(C), then in its tick a
  // write of a string (which that strategy cannot size) and write(42) (fuzz seeds 68418 of
  // ThrottleStream and MeterStream (bytes), 68121 of NdjsonParseStream, minimised). The
  // identity TransformStream's writable side is still writable (its cancel errors it a promise
  // job later): the string's size errors it with the strategy's RangeError, and write(42) is
  // rejected with that. A TransformStream whose transformer's cancel() errors its controller at
  // once (conforming: the standard lets a transformer's cancel error the stream) has errored
  // its writable side with C inside cancel(): both writes are rejected with C, as the face's.
  async 'cancel-then-unsizable' () {
    const out = {}
    const kinds = {
      'TransformStream (identity)': (w) => new TransformStream({}, w),
      'TransformStream (its cancel errors at once)': cancelErroringAtOnce,
      'MeterStream (bytes)': (w) => new web.MeterStream({}, w),
      NdjsonParseStream: (w) => new web.NdjsonParseStream({}, w)
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make(new ByteLengthQueuingStrategy({ highWaterMark: 0 }))
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      const cancel = outcome(reader.cancel(C))
      const string = outcome(writer.write('V\tWzD?3l'))
      const invalid = outcome(writer.write(42))
      out[label] = { cancel: await cancel, string: await string, invalid: await invalid, writerClosed: await outcome(writer.closed) }
    }
    return out
  },
  // ALLOWANCE same-tick cancel (an abort() after an unsizable chunk in its tick). Right after
  // construction, a writable ByteLengthQueuingStrategy of highWaterMark 64: reader.cancel(), a
  // string (which that strategy cannot size), writer.abort() (fuzz seed 185087 of ThrottleStream
  // and MeterStream (bytes), minimised). Neither writable side has started, so each is still
  // "erroring" at the abort, which is rejected with the error stored (the standard's
  // WritableStreamAbort, "was already erroring"): the identity TransformStream's is the string's
  // RangeError (its cancel errors it a promise job later); one whose transformer's cancel()
  // errors its controller at once stored the cancel's undefined, as the face's.
  async 'cancel-then-unsizable-abort' () {
    const out = {}
    const kinds = {
      'TransformStream (identity)': (w) => new TransformStream({}, w),
      'TransformStream (its cancel errors at once)': cancelErroringAtOnce,
      'ThrottleStream (bytes)': (w) => new web.ThrottleStream({ rate: 1e12, burst: 1e11 }, w),
      'MeterStream (bytes)': (w) => new web.MeterStream({}, w)
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make(new ByteLengthQueuingStrategy({ highWaterMark: 64 }))
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      const cancel = outcome(reader.cancel())
      const string = outcome(writer.write(''))
      const abort = outcome(writer.abort())
      out[label] = { cancel: await cancel, string: await string, abort: await abort, writerClosed: await outcome(writer.closed) }
    }
    return out
  },
  // ALLOWANCE erroring-or-errored (an invalid chunk after close(), a `for await` consumer).
  // Right after construction writer.abort(), a microtask, close(), write({}), releaseLock(),
  // with a `for await` reading the readable side (fuzz seed 186905 of ThrottleStream and
  // MeterStream (bytes), minimised). The identity TransformStream's writable side has not
  // finished erroring (it starts two microtasks after a plain WritableStream's): the close is
  // taken (rejected later with undefined) and the chunk refused behind it (TypeError
  // ERR_INVALID_STATE). A WritableStream joined to a ReadableStream (standard streams, which
  // start two microtasks sooner, as the face's sides do: ALLOWANCE start-timing) has "errored":
  // the close is refused and the chunk rejected with the stored undefined, as on the face.
  async 'abort-microtask-close-invalid' () {
    const out = {}
    const joinedPair = () => {
      let rc
      const readable = new ReadableStream({ start (c) { rc = c } }, { highWaterMark: 0 })
      const writable = new WritableStream({ write (chunk) { rc.enqueue(chunk) }, close () { rc.close() }, abort (reason) { rc.error(reason) } })
      return { readable, writable }
    }
    const kinds = {
      'TransformStream (identity)': () => new TransformStream(),
      'WritableStream joined to a ReadableStream': joinedPair,
      'ThrottleStream (bytes)': () => new web.ThrottleStream({ rate: 1e12, burst: 1e11 }),
      'MeterStream (bytes)': () => new web.MeterStream({})
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const loop = outcome((async () => { for await (const v of ts.readable) void v })())
      const writer = ts.writable.getWriter()
      const abort = outcome(writer.abort())
      await Promise.resolve()
      const close = outcome(writer.close())
      const invalid = outcome(writer.write({}))
      writer.releaseLock()
      out[label] = { abort: await abort, close: await close, invalid: await invalid, loop: await loop }
    }
    return out
  },
  // ALLOWANCE erroring-or-errored (an invalid chunk after close(), the first teardown an invalid
  // chunk). A turn after construction write({}), a microtask, close(), a microtask, write({}),
  // releaseLock() (fuzz seed 194101 of NdjsonParseStream, minimised). A TransformStream that
  // refuses the chunk at once (its controller errored, the transform throwing: the fuzz's
  // reference) has "errored" by the second chunk: the close was taken while "erroring" (rejected
  // with the chunk's error), the second chunk is rejected with that error. One whose transform
  // errors its controller at once but rejects a turn later (conforming: a transform may take its
  // time) is still "erroring" with that write in flight: the second chunk meets the close queued
  // and is refused (TypeError ERR_INVALID_STATE), as on the face.
  async 'invalid-close-invalid' () {
    const out = {}
    const notBytes = () => Object.assign(new TypeError('not bytes'), { code: 'ERR_INVALID_ARG_TYPE' })
    const kinds = {
      // (A readable side with room, as the fuzz's reference's (objects: 16): one of
      // highWaterMark 0 holds the write back until a read.)
      'TransformStream (refuses at once)': () => new TransformStream({ transform (chunk, c) { const e = notBytes(); c.error(e); throw e } }, undefined, new CountQueuingStrategy({ highWaterMark: 16 })),
      'TransformStream (errors at once, rejects a turn later)': () => new TransformStream({ async transform (chunk, c) { const e = notBytes(); c.error(e); await immediate(); throw e } }, undefined, new CountQueuingStrategy({ highWaterMark: 16 })),
      NdjsonParseStream: () => new web.NdjsonParseStream({})
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const reader = ts.readable.getReader()
      const rclosed = outcome(reader.closed)
      const writer = ts.writable.getWriter()
      await immediate()
      const first = outcome(writer.write({}))
      await Promise.resolve()
      const close = outcome(writer.close())
      await Promise.resolve()
      const second = outcome(writer.write({}))
      writer.releaseLock()
      out[label] = { first: await first, close: await close, second: await second, readableClosed: await rclosed }
    }
    return out
  },
  // ALLOWANCE timing (a producer's pipe that never wrote an unsizable chunk). A producer's pipe
  // with a signal (preventCancel): a chunk of four lines enqueued in its source, reads, a
  // microtask, the signal in the tick of a read (fuzz seed 195504 of NdjsonParseStream, its
  // shape). A TransformStream that parses in transform() has enqueued all four values before
  // the pipe aborts its writable side: every read gets one. One that takes the chunk at once
  // and enqueues its values a turn later (conforming: a transformer may enqueue after its
  // transform settled) is aborted first: every read rejects with the signal's reason, as a
  // face's reads may when its output (README: "our output arrives later than transform()") has
  // not come by the abort.
  async 'signal-later-output' () {
    const out = {}
    const values = (chunk, c) => { for (const l of Buffer.from(chunk).toString().split('\n')) if (l.trim()) c.enqueue(JSON.parse(l)) }
    const objects16 = () => new CountQueuingStrategy({ highWaterMark: 16 })
    const kinds = {
      'TransformStream (parses in transform())': () => new TransformStream({ transform: values }, undefined, objects16()),
      'TransformStream (takes the chunk, enqueues a turn later)': () => new TransformStream({ transform (chunk, c) { immediate().then(() => { try { values(chunk, c) } catch {} }) } }, undefined, objects16()),
      NdjsonParseStream: () => new web.NdjsonParseStream({})
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      let ctl
      const source = new ReadableStream({ start (c) { ctl = c } })
      const ac = new AbortController()
      const pipe = outcome(source.pipeTo(ts.writable, { signal: ac.signal, preventCancel: true }))
      const reader = ts.readable.getReader()
      const reads = [outcome(reader.read())]
      ctl.enqueue(new TextEncoder().encode('[]\ntrue\n"x"\nfalse\n'))
      reads.push(outcome(reader.read()))
      await Promise.resolve()
      reads.push(outcome(reader.read()))
      ac.abort(C)
      reads.push(outcome(reader.read()))
      out[label] = { reads: await Promise.all(reads), pipe: await pipe }
    }
    return out
  },
  // ALLOWANCE same-tick cancel (an invalid chunk after a close()). A turn after the start, a
  // read, reader.cancel(C), writer.close(), write(null) in its tick (fuzz seed 79114 of
  // BoundedBufferStream (block, bytes), minimised). The identity TransformStream's writable side
  // is still writable in that tick: it takes the close, and refuses the chunk behind it before
  // looking at it (Node 20: ERR_INTERNAL_ASSERTION, the close in flight; ERR_INVALID_STATE once
  // it has completed). A TransformStream whose transformer's cancel() errors its controller at
  // once has errored its writable side with C inside cancel(): the close is refused
  // (ERR_INVALID_STATE) and the chunk rejected with C, as the face's (its cancel() itself
  // rejects with C on Node 20; the face's resolves, as the fuzz's reference's: not in question).
  async 'cancel-close-invalid' () {
    const out = {}
    const kinds = {
      'TransformStream (identity)': () => new TransformStream(),
      'TransformStream (its cancel errors at once)': cancelErroringAtOnce,
      'BoundedBufferStream (block, bytes)': () => new web.BoundedBufferStream({ capacity: 64, overflow: 'block' })
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      await immediate()
      const read = outcome(reader.read())
      const cancel = outcome(reader.cancel(C))
      const close = outcome(writer.close())
      let invalid
      try {
        invalid = outcome(writer.write(null))
      } catch (err) {
        invalid = Promise.resolve('threw ' + name(err))
      }
      out[label] = { read: await read, cancel: await cancel, close: await close, invalid: await invalid }
    }
    return out
  },
  // ALLOWANCE invalid-chunk-later (desiredSize). An awaited write, then a write and write(42) (no
  // bytes) in a tick, a microtask, the writer released, a microtask, a new writer's desiredSize
  // (fuzz seed 70064 of BoundedBufferStream (block, bytes), minimised). The identity
  // TransformStream (a transform that refuses a chunk that is no bytes) has run both transforms
  // by then and errored both sides: null. One whose transform takes a turn is still on the write
  // before the chunk (in flight, the chunk queued): -1, as the face, whose component takes the
  // chunk behind it. Both end errored with the chunk's TypeError.
  async 'invalid-chunk-later' () {
    const out = {}
    // (The readable side the face has by default, as the fuzz's reference.)
    const bytes = () => new ByteLengthQueuingStrategy({ highWaterMark: 16384 })
    const refuse = (chunk, ctl) => {
      // (As the fuzz's reference refuses it: errors the stream, then throws.)
      if (!ArrayBuffer.isView(chunk)) {
        const err = Object.assign(new TypeError('not bytes'), { code: 'ERR_INVALID_ARG_TYPE' })
        ctl.error(err)
        throw err
      }
      ctl.enqueue(chunk)
    }
    const kinds = {
      'TransformStream (identity, refusing no bytes)': () => new TransformStream({ transform: refuse }, undefined, bytes()),
      'TransformStream (a turn per chunk, refusing no bytes)': () => new TransformStream({ transform: async (c, ctl) => { await immediate(); refuse(c, ctl) } }, undefined, bytes()),
      'BoundedBufferStream (block, bytes)': () => new web.BoundedBufferStream({ capacity: 4, overflow: 'block' })
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      let writer = ts.writable.getWriter()
      await writer.write(new Uint8Array([0x6b]))
      const write = outcome(writer.write(new Uint8Array([0xc3, 0xaf])))
      const chunk = outcome(writer.write(42))
      await Promise.resolve()
      writer.releaseLock()
      await Promise.resolve()
      writer = ts.writable.getWriter()
      const desiredSize = writer.desiredSize
      out[label] = { desiredSize, write: await write, chunk: await chunk, writerClosed: await outcome(writer.closed) }
    }
    return out
  },
  // ALLOWANCE brokeLater (the face's loop sooner). A `for await` breaking after 1 chunk, a
  // readable ByteLengthQueuingStrategy of 1 byte; a microtask, write(false), N microtasks,
  // close() (fuzz seed 60626 of NdjsonStringifyStream, N = 3). The identity TransformStream's
  // close() is taken and then rejected with the break's undefined for N up to 5, and refused
  // (TypeError, the writable side errored already) from 6; NdjsonStringifyStream, whose writable
  // side starts two microtasks sooner, is refused from 3 (before that its close completes first).
  async 'break-before-close' () {
    const out = {}
    const line = (v) => new TextEncoder().encode(JSON.stringify(v) + '\n')
    const kinds = {
      'TransformStream (identity)': () => new TransformStream({ transform (v, controller) { controller.enqueue(line(v)) } }, undefined, new ByteLengthQueuingStrategy({ highWaterMark: 1 })),
      NdjsonStringifyStream: () => new web.NdjsonStringifyStream({}, undefined, new ByteLengthQueuingStrategy({ highWaterMark: 1 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const closes = []
      for (let n = 1; n <= 8; n++) {
        const ts = make()
        const loop = outcome((async () => { for await (const v of ts.readable) { void v; break } })())
        const writer = ts.writable.getWriter()
        await Promise.resolve()
        writer.write(false).catch(() => {})
        for (let i = 0; i < n; i++) await Promise.resolve()
        closes.push(`${n}: ${await outcome(writer.close())}`)
        await loop
      }
      out[label] = closes
    }
    return out
  },
  // ALLOWANCE brokeLater (the face's loop sooner: a writer released, a new writer's
  // desiredSize). As break-before-close, with the writer's releaseLock() in close()'s place and
  // a new writer taken right after (fuzz seed 74335 of NdjsonStringifyStream: a readable strategy
  // of 0 bytes, breakAt 2). Where the break's cancel came first, the released writer's `closed`
  // is rejected with its undefined and the new writer sees null; where the release came first,
  // `closed` is rejected by the release (TypeError) and the new writer sees a number. The
  // identity TransformStream switches at more microtasks than the face, whose writable side
  // starts two microtasks sooner.
  async 'break-before-release' () {
    const out = {}
    const line = (v) => new TextEncoder().encode(JSON.stringify(v) + '\n')
    const kinds = {
      'TransformStream (identity)': () => new TransformStream({ transform (v, controller) { controller.enqueue(line(v)) } }, undefined, new ByteLengthQueuingStrategy({ highWaterMark: 1 })),
      NdjsonStringifyStream: () => new web.NdjsonStringifyStream({}, undefined, new ByteLengthQueuingStrategy({ highWaterMark: 1 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const rows = []
      for (let n = 1; n <= 8; n++) {
        const ts = make()
        const loop = outcome((async () => { for await (const v of ts.readable) { void v; break } })())
        const writer = ts.writable.getWriter()
        await Promise.resolve()
        writer.write(false).catch(() => {})
        for (let i = 0; i < n; i++) await Promise.resolve()
        const closed = outcome(writer.closed)
        writer.releaseLock()
        const desiredSize = ts.writable.getWriter().desiredSize
        rows.push(`${n}: closed ${await closed}, desiredSize ${desiredSize}`)
        await loop
      }
      out[label] = rows
    }
    return out
  },
  // ALLOWANCE monitored-refused-later. A producer's pipe enqueues a chunk of 22 bytes and a null,
  // a turn, then the source errors with E (fuzz seed 44122 of MonitoredWritableStream (bytes),
  // minimised; the signal in E's place: seed 16850). A WritableStream with room for both (a
  // queue of 16 chunks) has its sink refuse the null and errors before E comes: its sink sees no
  // abort, the pipe rejects with the null's error. One with a queue of one chunk, its write
  // waiting for a sink that takes a turn, has not read the null when E comes: the pipe aborts it
  // with E, as it does MonitoredWritableStream (its queue is one chunk; its highWaterMark of 16
  // bytes is what it buffers before the destination).
  async 'monitored-refused-later' () {
    const out = {}
    const E = new Error('source error')
    const said = (p) => p.then(() => 'ok', (e) => 'rejected ' + (e === E ? 'E' : name(e)))
    const kinds = {
      'WritableStream (16 chunks)': (sink) => new WritableStream(sink, new CountQueuingStrategy({ highWaterMark: 16 })),
      'WritableStream (one chunk)': (sink) => new WritableStream(sink, new CountQueuingStrategy({ highWaterMark: 1 })),
      'MonitoredWritableStream (highWaterMark 16)': (sink) => new web.MonitoredWritableStream(sink, { highWaterMark: 16 })
    }
    for (const [label, make] of Object.entries(kinds)) {
      const log = []
      const sink = {
        write (chunk, controller) {
          refuseNull(chunk, controller)
          return immediate()
        },
        abort (reason) { log.push('abort: ' + (reason === E ? 'E' : name(reason))) }
      }
      let ctl
      const pipe = said(new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 }).pipeTo(make(sink)))
      ctl.enqueue(new Uint8Array(22))
      ctl.enqueue(null)
      await immediate()
      ctl.error(E)
      out[label] = { pipe: await pipe, sink: log }
    }
    return out
  },
  // ALLOWANCE monitored-refused-sooner. A producer's pipe with preventAbort and its signal
  // enqueues a null, a turn, then the signal (fuzz seed 68218 of MonitoredWritableStream
  // (bytes), minimised; a writable ByteLengthQueuingStrategy of highWaterMark 0). A
  // WritableStream of highWaterMark 0 never has room (desiredSize 0), so the pipe never reads the
  // null and the signal cancels the source with its AbortError; one with a queue of one chunk
  // reads and writes it, its sink refuses it, and the pipe cancels the source with the null's
  // error before the signal, as with MonitoredWritableStream (its queue is one chunk; its
  // highWaterMark of 0 bytes is what it buffers before the destination).
  async 'monitored-refused-sooner' () {
    const out = {}
    const kinds = {
      'WritableStream (highWaterMark 0)': (sink) => new WritableStream(sink, { highWaterMark: 0, size: () => 1 }),
      'WritableStream (one chunk)': (sink) => new WritableStream(sink, new CountQueuingStrategy({ highWaterMark: 1 })),
      'MonitoredWritableStream (highWaterMark 0)': (sink) => new web.MonitoredWritableStream(sink, { highWaterMark: 0 })
    }
    // And with the source's close() after the turn, before the signal (fuzz seed 171404,
    // minimised): the same, the null left unread in the closed source of the WritableStream of
    // highWaterMark 0, which the signal still cancels; the others' sources were cancelled before
    // the close.
    for (const closed of [false, true]) {
      for (const [label, make] of Object.entries(kinds)) {
        const log = []
        const sink = {
          write: refuseNull,
          abort (reason) { log.push('abort: ' + name(reason)) }
        }
        let ctl
        let open = true
        const ac = new AbortController()
        const source = new ReadableStream({ start (c) { ctl = c }, cancel (reason) { open = false; log.push('source-cancel: ' + name(reason)) } }, { highWaterMark: 0 })
        const pipe = outcome(source.pipeTo(make(sink), { preventAbort: true, signal: ac.signal }))
        ctl.enqueue(null)
        await immediate()
        if (closed && open) ctl.close()
        ac.abort()
        out[closed ? `${label}, the source's close()` : label] = { pipe: await pipe, log }
      }
    }
    return out
  },
  // ALLOWANCE monitored-refused-sooner, without preventAbort. A producer's pipe with its signal
  // into a sink that takes a turn per write and refuses a chunk that is no bytes; chunks of 1, 1,
  // 1 and 17395 bytes, three turns, an object, the signal (fuzz seed 161427 of
  // MonitoredWritableStream (bytes), minimised). A WritableStream of one chunk still has the
  // last write in flight: its pipe has not read the object when the signal comes, and aborts it
  // (the sink logs the abort). One whose sink's writes settle at once (as MonitoredWritableStream
  // settles a write once its own buffer took it) took the object at once, refused it, and the
  // signal's shutdown found it errored: no abort, the source cancelled with the AbortError, as
  // on the face (whose own abort of its destination for the refused chunk is ALLOWANCE
  // monitored-abort).
  async 'monitored-refused-sooner-abort' () {
    const out = {}
    const kinds = {
      'WritableStream (one chunk)': (sink) => new WritableStream(sink, new CountQueuingStrategy({ highWaterMark: 1 })),
      'WritableStream (one chunk), writes settled at once': (sink) => new WritableStream({ ...sink, write (chunk, controller) { void sink.write(chunk, controller) } }, new CountQueuingStrategy({ highWaterMark: 1 })),
      MonitoredWritableStream: (sink) => new web.MonitoredWritableStream(sink)
    }
    for (const [label, make] of Object.entries(kinds)) {
      const log = []
      const sink = {
        write (chunk, controller) {
          if (!(chunk instanceof Uint8Array)) {
            const err = Object.assign(new TypeError('not bytes'), { code: 'ERR_INVALID_ARG_TYPE' })
            controller.error(err)
            throw err
          }
          return immediate()
        },
        abort (reason) { log.push('abort: ' + name(reason)) }
      }
      let ctl
      const ac = new AbortController()
      const source = new ReadableStream({ start (c) { ctl = c }, cancel (reason) { log.push('source-cancel: ' + name(reason)) } }, { highWaterMark: 0 })
      const pipe = outcome(source.pipeTo(make(sink), { signal: ac.signal }))
      for (const n of [1, 1, 1, 17395]) ctl.enqueue(new Uint8Array(n))
      for (let i = 0; i < 3; i++) await immediate()
      ctl.enqueue({})
      ac.abort()
      out[label] = { pipe: await pipe, log }
    }
    return out
  },
  // MonitoredWritableStream settles the write once its own buffer took it (it resolves), so its
  // abort reaches its destination (a WritableStream of its own over the sink) at another moment
  // of that write than the writer's abort does on a plain WritableStream: whether the sink's
  // abort() is called differs either way round (fuzz seeds 139, 386, 422, 546).
  async 'monitored-failure-race' () {
    const out = {}
    const D = new Error('destination failed')
    for (const label of ['WritableStream', 'MonitoredWritableStream']) {
      const log = []
      let n = 0
      const sink = {
        write () { return new Promise((resolve, reject) => setImmediate(() => (n++ === 1 ? reject(D) : resolve()))) },
        abort (r) { log.push('abort: ' + name(r)) }
      }
      for (const when of ['in the write\'s tick', 'a turn later']) {
        log.length = 0
        n = 0
        const ws = label === 'WritableStream' ? new WritableStream(sink) : new web.MonitoredWritableStream(sink)
        const writer = ws.getWriter()
        await writer.write(new Uint8Array([1]))
        const second = outcome(writer.write(new Uint8Array([2])))
        if (when === 'a turn later') await immediate()
        const abort = outcome(writer.abort(R))
        out[`${label}, abort ${when}`] = { second: await second, abort: await abort, sink: log.slice() }
      }
    }
    return out
  },
  // ALLOWANCE start-timing (signal). A pipeThrough with a signal (preventCancel); the signal
  // aborts right away, a microtask, the source enqueues a chunk its pipe's read waits for, then
  // a read (fuzz seed 59883 of BoundedBufferStream, block, bytes). Node's pipeTo writes that chunk
  // before it aborts the writable side: a TransformStream not started yet holds it behind its
  // backpressure and the abort throws it away (the read rejects with the AbortError); one given
  // a turn to start first transforms it inside the write and the read gets it, as the face does.
  async 'signal-before-start' () {
    const out = {}
    const kinds = {
      TransformStream: () => new TransformStream({}, new ByteLengthQueuingStrategy({ highWaterMark: 1 }), new CountQueuingStrategy({ highWaterMark: 4 })),
      BoundedBufferStream: () => new web.BoundedBufferStream({ capacity: 4 }, new ByteLengthQueuingStrategy({ highWaterMark: 1 }), new CountQueuingStrategy({ highWaterMark: 4 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      for (const start of ['at once', 'a turn to start']) {
        let ctl
        const src = new ReadableStream({ start (c) { ctl = c } }, { highWaterMark: 0 })
        const ac = new AbortController()
        const reader = src.pipeThrough(make(), { preventCancel: true, signal: ac.signal }).getReader()
        if (start !== 'at once') await immediate()
        ac.abort()
        await Promise.resolve()
        ctl.enqueue(new Uint8Array([0x60, 0x20]))
        out[`${label}, ${start}`] = await outcome(reader.read())
      }
    }
    return out
  },
  // ALLOWANCE invalid-chunk-sooner (the reference never took it), a write after a later abort().
  // write(42), abort(R), write({}) in one tick (fuzz seed 59717 of NdjsonParseStream, minimised:
  // its readable side full). A TransformStream whose readable side has no room holds the 42
  // behind backpressure: abort(R) leaves its writable side "erroring" with R and the next write
  // is rejected with R; one with room runs its transform, which refuses the 42 (errors the
  // stream, as the faces do), and the next write is rejected with the chunk's TypeError, as on
  // the face.
  async 'invalid-then-abort' () {
    const out = {}
    const refuse = (chunk, ctl) => {
      if (typeof chunk === 'object' && chunk !== null) return ctl.enqueue(chunk)
      const err = Object.assign(new TypeError('not bytes'), { code: 'ERR_INVALID_ARG_TYPE' })
      ctl.error(err)
      throw err
    }
    for (const room of [0, 16]) {
      const ts = new TransformStream({ transform: refuse }, undefined, new CountQueuingStrategy({ highWaterMark: room }))
      const writer = ts.writable.getWriter()
      await immediate()
      const chunk = outcome(writer.write(42))
      void outcome(writer.abort(R))
      const later = outcome(writer.write({}))
      const late = new Promise((resolve) => setTimeout(resolve, 50, 'pending'))
      out[`TransformStream (readable highWaterMark ${room})`] = { chunk: await Promise.race([chunk, late]), later: await later }
    }
    // And a read after the writer's releaseLock() (fuzz seed 59895 of NdjsonParseStream: a
    // value queued, write(null), abort(R), a microtask, releaseLock(), read()): the
    // TransformStream that held the chunk behind backpressure still has the value queued; the
    // one whose transform refused the chunk emptied its queue (controller.error()), so the read
    // rejects with the chunk's error, as the face's does.
    for (const room of [0, 16]) {
      const ts = new TransformStream({ transform: (chunk, ctl) => { if (chunk === null) refuse(chunk, ctl); ctl.enqueue(1); ctl.enqueue(2) } }, undefined, new CountQueuingStrategy({ highWaterMark: room }))
      const writer = ts.writable.getWriter()
      const reader = ts.readable.getReader()
      await immediate()
      const first = outcome(reader.read())
      await writer.write({})
      void outcome(writer.write(null))
      void outcome(writer.abort(R))
      await Promise.resolve()
      writer.releaseLock()
      out[`TransformStream (readable highWaterMark ${room}), a value queued, releaseLock(), read()`] = { first: await first, read: await outcome(reader.read()) }
    }
    const face = new web.NdjsonParseStream({}, undefined, new CountQueuingStrategy({ highWaterMark: 0 }))
    const writer = face.writable.getWriter()
    await immediate()
    const chunk = outcome(writer.write(42))
    void outcome(writer.abort(R))
    out['NdjsonParseStream (readable highWaterMark 0)'] = { chunk: await chunk, later: await outcome(writer.write({})) }
    return out
  },
  // ALLOWANCE invalid-chunk-sooner (the reference never took it), a consumer's signal before the
  // chunk. The stage's readable side piped (a signal) into a destination; the signal (S),
  // write(null), a microtask, abort(R), a write (fuzz seed 116140 of BoundedBufferStream (block,
  // bytes), minimised). A TransformStream that refuses a chunk that is no bytes (errors the
  // stream, as the faces do), with room on its readable side: right after its construction it
  // has not started, holds the chunk, and the abort errors it with R: the chunk, the abort and
  // the later write are rejected with R, and the pipe's cancel of its still readable side with
  // R too. Given a turn to start first (the pipe and the rest made after it), its transform
  // refuses the chunk inside the write, before the pipe's shutdown (which waits for its writes
  // in flight) comes: all three are rejected with the chunk's TypeError and the pipe with S (its
  // readable side errored, Node's pipeTo cancels no such source), as on the face (its sides
  // start two microtasks sooner, ALLOWANCE start-timing). The destination is aborted with S on
  // all.
  async 'signal-then-invalid' () {
    const out = {}
    const refuse = (chunk, ctl) => {
      if (chunk instanceof Uint8Array) return ctl.enqueue(chunk)
      const err = Object.assign(new TypeError('not bytes'), { code: 'ERR_INVALID_ARG_TYPE' })
      ctl.error(err)
      throw err
    }
    const kinds = {
      'TransformStream (refuses, readable highWaterMark 16), at once': [() => new TransformStream({ transform: refuse }, undefined, new CountQueuingStrategy({ highWaterMark: 16 })), false],
      'TransformStream (refuses, readable highWaterMark 16), a turn to start': [() => new TransformStream({ transform: refuse }, undefined, new CountQueuingStrategy({ highWaterMark: 16 })), true],
      'BoundedBufferStream (block, bytes), at once': [() => new web.BoundedBufferStream({ capacity: 4, overflow: 'block' }), false]
    }
    for (const [label, [make, started]] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      if (started) await immediate()
      const dest = []
      const ac = new AbortController()
      const sink = new WritableStream({ write () { dest.push('write') }, abort (reason) { dest.push('abort: ' + named(reason)) } }, new CountQueuingStrategy({ highWaterMark: 1 }))
      const pipe = ts.readable.pipeTo(sink, { signal: ac.signal }).then(() => 'ok', (e) => 'rejected ' + named(e))
      ac.abort(S)
      const chunk = outcome(writer.write(null))
      await Promise.resolve()
      const abort = outcome(writer.abort(R))
      const later = outcome(writer.write(new Uint8Array([7])))
      out[label] = { chunk: await chunk, abort: await abort, later: await later, pipe: await pipe, dest }
    }
    return out
  },
  // ALLOWANCE parse-error-later (release), the writer's `ready`. A writable strategy of
  // highWaterMark 0 (ready waits), a read waiting, a turn, an invalid line written, a
  // microtask, the writer's releaseLock() (fuzz seed 157827 of NdjsonParseStream, minimised). A
  // TransformStream that parses inside transform() errors both sides in the write: `ready` is
  // rejected with the parse error before the release. One that parses a turn later is still
  // writable at the release, which rejects `ready` with its TypeError, as on the face (its parser
  // finds the error on the worker, later). The read meets the parse error on all.
  async 'parse-error-later-release' () {
    const out = {}
    const late = (p) => Promise.race([outcome(p), new Promise((resolve) => setTimeout(resolve, 50, 'pending'))])
    const parse = (chunk, ctl) => { for (const l of Buffer.from(chunk).toString().split('\n')) if (l.trim()) ctl.enqueue(JSON.parse(l)) }
    const kinds = {
      'TransformStream (parses in transform)': () => new TransformStream({ transform: parse }, new CountQueuingStrategy({ highWaterMark: 0 })),
      'TransformStream (parses a turn later)': () => new TransformStream({ transform: async (c, ctl) => { await immediate(); parse(c, ctl) } }, new CountQueuingStrategy({ highWaterMark: 0 })),
      NdjsonParseStream: () => new web.NdjsonParseStream({}, new CountQueuingStrategy({ highWaterMark: 0 }))
    }
    for (const [label, make] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const ready = late(writer.ready)
      const read = late(ts.readable.getReader().read())
      await immediate()
      void late(writer.write(Buffer.from('[1,\n')))
      await Promise.resolve()
      writer.releaseLock()
      out[label] = { ready: await ready, read: await read }
    }
    return out
  },
  // ALLOWANCE start-timing (signal), the writer's abort() under tee(). The readable side teed,
  // a reader on the first branch, the second drained; a microtask, a write of one line, a
  // microtask, abort(R), a read of the first branch (fuzz seed 140975 of NdjsonParseStream,
  // minimised). A TransformStream (a line parser) not started yet holds the write behind its
  // start: the abort rejects the write and the read with R, as the fuzz's reference did. Given a
  // turn to start first, its transform runs inside the write, the tee's pending read gets the
  // value and queues it in both branches, and the read in the abort's tick takes it (the write
  // resolved), as on the face, whose sides start two microtasks sooner.
  async 'abort-before-start-tee' () {
    const out = {}
    const lines = () => new TransformStream({ transform (chunk, ctl) { for (const l of Buffer.from(chunk).toString().split('\n')) if (l.trim()) ctl.enqueue(JSON.parse(l)) } })
    const kinds = {
      'TransformStream (lines), at once': [lines, false],
      'TransformStream (lines), a turn to start': [lines, true],
      'NdjsonParseStream, at once': [() => new web.NdjsonParseStream(), false]
    }
    for (const [label, [make, started]] of Object.entries(kinds)) {
      const ts = make()
      const writer = ts.writable.getWriter()
      const [a, b] = ts.readable.tee()
      const reader = a.getReader()
      const other = (async () => { for await (const v of b) void v })().then(() => 'ok', (e) => 'rejected ' + name(e))
      if (started) await immediate()
      await Promise.resolve()
      const write = outcome(writer.write(Buffer.from('[{},1.5,[]]\r\n')))
      await Promise.resolve()
      const abort = outcome(writer.abort(R))
      const read = await outcome(reader.read())
      out[label] = { write: await write, abort: await abort, read, secondBranch: await other }
    }
    return out
  },
  // ALLOWANCE signal-cancel-later, with the writer's abort() after the signal. A consumer's
  // pipeTo with a signal into a slow destination (a turn per chunk, highWaterMark 1), a
  // readable strategy of 0 bytes; right after construction a write of a value (its JSON line),
  // the writer released, the signal (S), a turn, a new writer's desiredSize, abort() (fuzz seed
  // 145170 of NdjsonStringifyStream, minimised). The identity TransformStream's writable side
  // has not started: the pipe's cancel comes first and errors it with S (the write rejected,
  // desiredSize null). Given a turn to start first, it takes the write inside write() and its
  // pipe writes the line at once: the slow destination's turn comes before the program's, and
  // the cancel too (null). A WritableStream joined to a ReadableStream (standard streams, which
  // start two microtasks sooner, as the face's sides do: ALLOWANCE start-timing) takes the write
  // once started, after the program's turn was asked for: its pipe's pending read gets the line
  // and writes it to the slow destination after that turn, its cancel waits for that write, so
  // the new writer sees its writable side open (desiredSize 1) and abort() errors it with
  // undefined; the pipe is rejected with S. As on the face.
  async 'signal-cancel-later-abort' () {
    const out = {}
    const bytes0 = () => new ByteLengthQueuingStrategy({ highWaterMark: 0 })
    const joinedPair = () => {
      let rc
      let wc
      const readable = new ReadableStream({ start (c) { rc = c }, cancel (reason) { wc.error(reason) } }, bytes0())
      const writable = new WritableStream({ start (c) { wc = c }, write (v) { rc.enqueue(line(v)) }, close () { rc.close() }, abort (reason) { rc.error(reason) } })
      return { readable, writable }
    }
    const identity = () => new TransformStream({ transform: (v, ctl) => ctl.enqueue(line(v)) }, undefined, bytes0())
    const kinds = {
      'TransformStream (identity), at once': [identity, false],
      'TransformStream (identity), a turn to start': [identity, true],
      'WritableStream joined to a ReadableStream': [joinedPair, false],
      NdjsonStringifyStream: [() => new web.NdjsonStringifyStream({}, undefined, bytes0()), false]
    }
    for (const [label, [make, started]] of Object.entries(kinds)) {
      const ts = make()
      let writer = ts.writable.getWriter()
      if (started) await immediate()
      const ac = new AbortController()
      const got = []
      const sink = new WritableStream({ write: (chunk) => { got.push(chunk.byteLength); return immediate() } }, new CountQueuingStrategy({ highWaterMark: 1 }))
      const pipe = settled(ts.readable.pipeTo(sink, { signal: ac.signal }))
      const write = settled(writer.write(-565))
      writer.releaseLock()
      ac.abort(S)
      await immediate()
      writer = ts.writable.getWriter()
      const desiredSize = writer.desiredSize
      const closed = settled(writer.closed)
      const abort = settled(writer.abort())
      out[label] = { write: await write, desiredSize, abort: await abort, closed: await closed, pipe: await pipe, got }
    }
    return out
  }
}

async function main () {
  const only = process.argv[2]
  for (const [label, run] of Object.entries(CASES)) {
    if (only && only !== label) continue
    if (run.length === 0) {
      console.log(label, JSON.stringify(await run()))
      continue
    }
    for (const [face, make] of Object.entries(faces)) console.log(label, '|', face, JSON.stringify(await run(make)))
  }
}

if (require.main === module) main()

module.exports = { CASES }
