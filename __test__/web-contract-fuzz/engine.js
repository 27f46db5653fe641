'use strict'

// A seeded differential fuzz of the Web Streams faces (see ../web-contract-fuzz.spec.js), in the
// style of the Node one (../contract-fuzz/, whose PRNG and value generators it uses).
//
// A seed makes a program: queuing strategies for both sides, a producer (a writer the operations
// drive, or a ReadableStream source piped in by pipeTo/pipeThrough, with or without an
// AbortSignal and prevent* options), a consumer (a reader the operations drive, a pipeTo into a
// recording WritableStream, `for await` with break, or tee() with the second branch drained) and
// a list of operations: writes (awaited or not; Uint8Array, Buffer, ArrayBuffer, DataView, other
// views, strings where allowed), close, abort(reason | undefined), releaseLock/getWriter, reads
// (awaited or not), cancel(reason), releaseLock/getReader, the signal's abort, and waits (a
// microtask, one or three setImmediate turns). The same program runs against the sluice face and
// its reference (components.js); each run records what a user observes: every promise's outcome
// by operation (resolved, rejected and with what: a user reason by identity), the data each
// consumer got, the state each operation met, and the underlying sink's log.

const { ReadableStream, WritableStream, CountQueuingStrategy, ByteLengthQueuingStrategy } = require('node:stream/web')
const { setImmediate: immediate, setTimeout: sleep } = require('node:timers/promises')
const { waitsForReader, heldOutput, erroredByStrategy } = require('../../lib/web/face.js')
const { isUtf8 } = require('node:buffer')
const { inspect, isDeepStrictEqual } = require('node:util')
const { prng, randomBytes, randomValue } = require('../contract-fuzz/engine.js')
const { makeOps, joined } = require('../contract-fuzz/harness.js')

// Only a failure detector: no wait ends by time otherwise (see bounded() in runSide).
const HANG_MS = Number(process.env.SLUICE_FUZZ_HANG_MS || 60000)
// A promise the reference has not settled after this many turns of the event loop is left
// pending (the reference is plain JavaScript: it settles within a few turns or never).
const QUIET_TURNS = 30
const WAITS = ['microtask', 'immediate', 'immediate3']

// ---------------------------------------------------------------------------------------------
// Programs

/** A queuing strategy as data: the face's default (undefined) or a count / byte-length one. */
function makeStrategy (r, bytes) {
  const kind = r.weighted([[3, 'default'], [4, 'count'], [bytes ? 3 : 0, 'bytes']])
  if (kind === 'default') return { kind }
  return { kind, highWaterMark: kind === 'count' ? r.pick([0, 1, 1, 4, 16]) : r.pick([0, 1, 64, 16384]) }
}

function buildStrategy (s, fallback) {
  if (s.kind === 'default') return fallback
  return s.kind === 'count' ? new CountQueuingStrategy({ highWaterMark: s.highWaterMark }) : new ByteLengthQueuingStrategy({ highWaterMark: s.highWaterMark })
}

const pipeOptions = (r) => ({ preventClose: r.chance(0.15), preventAbort: r.chance(0.15), preventCancel: r.chance(0.15) })

/** The program for `desc` (components.js) from `seed`: plain data, so it prints as a trace. */
function makeProgram (desc, seed) {
  const r = prng(seed)
  const transform = desc.kind === 'transform'
  const strategies = { writable: makeStrategy(r, desc.bytesIn), readable: transform ? makeStrategy(r, desc.bytesOut) : null }
  const config = desc.configure ? desc.configure(r) : {}
  const producer = r.chance(0.2)
    ? { mode: transform && r.chance(0.5) ? 'pipeThrough' : 'pipeTo', ...pipeOptions(r), signal: r.chance(0.6) }
    : { mode: 'writer' }
  const consumer = transform
    ? {
        mode: r.weighted([[50, 'reader'], [20, 'pipeTo'], [15, 'iter'], [15, 'tee']]),
        slow: r.chance(0.4),
        breakAt: r.chance(0.3) ? r.range(1, 5) : null,
        sinkHwm: r.pick([0, 1, 4]),
        ...pipeOptions(r),
        signal: !producer.signal && r.chance(0.5)
      }
    : null
  const source = desc.source ? desc.source(r, config) : null
  const writer = producer.mode === 'writer'
  const reader = consumer && (consumer.mode === 'reader' || consumer.mode === 'tee')
  const signal = producer.signal || (consumer && consumer.signal)
  let writes = 0
  const ops = makeOps(r, () => [
    [40, 'write'],
    [14, 'wait'],
    [4, 'close'],
    [2, 'abort'],
    [writer ? 2 : 0, 'releaseWriter'],
    [writer ? 2 : 0, 'getWriter'],
    [reader ? 22 : 0, 'read'],
    [reader ? 2 : 0, 'cancel'],
    [reader ? 2 : 0, 'releaseReader'],
    [reader ? 2 : 0, 'getReader'],
    [signal ? 3 : 0, 'signal'],
    [1, 'invalidWrite']
  ], (kind) => {
    switch (kind) {
      case 'write': {
        const chunk = makeChunk(desc, r, source)
        return chunk === null ? null : { op: 'write', id: writes++, awaited: r.chance(0.4), ...chunk }
      }
      case 'wait': return { op: 'wait', how: r.pick(WAITS) }
      case 'abort': case 'cancel': case 'signal': return { op: kind, reason: r.chance(0.7), awaited: r.chance(0.3) }
      case 'close': case 'read': return { op: kind, awaited: r.chance(0.4) }
      case 'invalidWrite': return desc.writableObjectMode ? null : { op: 'invalidWrite', value: r.pick([42, null, 'object']) }
      default: return { op: kind }
    }
  })
  return { seed, component: desc.name, strategies, config, producer, consumer, ops }
}

/** A chunk as data: a value, or bytes (base64) and the form they are written in. */
function makeChunk (desc, r, source) {
  if (desc.writableObjectMode) return { value: desc.value ? desc.value(r) : randomValue(r) }
  let bytes
  if (source) {
    bytes = source.next(r)
    if (bytes === undefined) return null
  } else {
    bytes = randomBytes(r, r.weighted([[2, 0], [30, r.range(1, 8)], [30, r.range(1, 200)], [4, r.range(1000, 70000)]]))
  }
  const forms = ['Uint8Array', 'Buffer', 'ArrayBuffer', 'DataView', 'subarray']
  if (bytes.length % 2 === 0) forms.push('Uint16Array')
  // A string stands for its UTF-8 bytes: only bytes that are a string's (TextEncoder's) whole.
  if (desc.strings !== false && isUtf8(bytes)) forms.push('string', 'string')
  return { bytes: bytes.toString('base64'), form: r.pick(forms) }
}

/** A fresh chunk for one side (each side gets its own, so neither sees the other's detaching). */
function chunkOf (op) {
  // (Not the NULL symbol: structuredClone throws on a symbol, and a symbol needs no copy.)
  if (op.bytes === undefined) return typeof op.value === 'symbol' ? op.value : structuredClone(op.value)
  const bytes = Buffer.from(op.bytes, 'base64')
  switch (op.form) {
    case 'Buffer': return bytes
    case 'ArrayBuffer': return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)
    case 'DataView': return new DataView(new Uint8Array(bytes).buffer)
    case 'Uint16Array': return new Uint16Array(new Uint8Array(bytes).buffer)
    case 'subarray': {
      const big = new Uint8Array(bytes.length + 7)
      big.set(bytes, 3)
      return big.subarray(3, 3 + bytes.length)
    }
    case 'string': return bytes.toString('utf8')
    default: return new Uint8Array(bytes)
  }
}

/** What a chunk is as input of the model: its bytes, or the value. */
const modelInput = (op) => (op.bytes === undefined ? op.value : Buffer.from(op.bytes, 'base64'))

// ---------------------------------------------------------------------------------------------
// Running one side

/** The user's reasons: one object each per run, told apart by identity. */
function userReasons () {
  const D = Object.assign(new Error('destination failed'), { code: 'FUZZ_DEST' })
  return { R: new Error('abort reason'), C: new Error('cancel reason'), S: new Error('signal reason'), E: new Error('source error'), D }
}

function describer (reasons) {
  return (x) => {
    for (const [name, value] of Object.entries(reasons)) if (x === value) return name
    if (x === undefined) return 'undefined'
    if (x instanceof Error || (x && typeof x === 'object' && typeof x.name === 'string')) {
      // An error the user did not make: told by its kind (name and code), not identity.
      return `${x.name}${x.code !== undefined ? ':' + x.code : ''}`
    }
    return `${typeof x}:${String(x)}`
  }
}

/**
 * Runs `program` against the pair `make(strategies, config, sink)` returns ({ writable,
 * readable }; sink: the underlying sink's log and failure, for a writable component). With `ref`
 * (the reference's record), a promise the reference settled is waited for (bounded() below).
 */
async function runSide (desc, make, program, ref = null) {
  const reasons = userReasons()
  const describe = describer(reasons)
  const rec = {
    outcomes: new Map(), // promise id → 'pending' | 'ok' | 'done' | 'value' | 'rej:REASON'
    settleOrder: [],
    delivered: { main: [], tee: [] },
    issued: [], // model inputs of every write the program made, in order
    sized: [], // the indices of the write and invalidWrite operations whose chunk the writable strategy sized (strategyErrorAt)
    pre: [], // the state each operation met
    throws: [],
    log: [], // sink / source calls
    hang: [],
    waits: new Map(), // promise id → whether waiting for it saw it settle
    yielded: [], // the operations that awaited their promise (those that happened)
    drainEnded: false, // the settle phase's reads got to the end (done, or the error)
    heldAtSignal: null, // the output the face held for its reader as the first signal came (face.js heldOutput)
    deliveredAtSignal: null, // what the consumer had got by then (items, or bytes)
    end: null
  }
  const deadline = { hung: false }
  // Promise id → a promise that resolves once the tracked one has settled (for bounded()).
  const settling = new Map()
  const track = (id, promise, onValue) => {
    rec.outcomes.set(id, 'pending')
    settling.set(id, promise.then(() => {}, () => {}))
    promise.then((v) => {
      if (onValue) onValue(v)
      const outcome = v && typeof v === 'object' && 'done' in v ? (v.done ? 'done' : 'value') : 'ok'
      rec.outcomes.set(id, outcome)
      rec.settleOrder.push(id)
    }, (err) => {
      rec.outcomes.set(id, 'rej:' + describe(err))
      rec.settleOrder.push(id)
    })
    return promise
  }
  const settled = (id) => rec.outcomes.get(id) !== 'pending'
  const whenSettled = (id) => settling.get(id)
  let made = null
  // Waits for promise `id` until it settles, where the reference's wait for it saw it settle
  // (what the reference's wait found, not whether it settled later); otherwise a few turns of
  // the event loop (the reference is plain JavaScript: it settles within a few turns or never).
  // No wait ends because time has passed: HANG_MS only detects a hang, a failure.
  // Exceptions, each by a state the face is in, never by time:
  // * A read of a byte face is not waited for as long: the face joins or batches chunks
  //   (README), so one read may wait where the reference's got the next chunk; the reads to the
  //   end are.
  // * A promise stops being waited for once what the face holds waits for a read that only the
  //   program would make (waitsForReader, lib/web/face.js: no room on its readable side, README "Backpressure",
  //   while the reference's identity transform enqueues a whole chunk's output at once; or
  //   NdjsonParseStream's failure waiting for the values before it to be read, README
  //   "Cancellation and errors", while the reference's transform fails at once). Reads are
  //   always waited for. Whether the rest settle in the end is checked after the settle phase
  //   has read everything (`final` below).
  // * Nothing is waited for on a side that cannot end (`openForever`).
  const bounded = async (id, final = false) => {
    const joins = desc.bytesOut && (id.startsWith('read@') || id.startsWith('drain'))
    // (Nor a read of values, the reference's a value, once this side has every value the
    // reference's consumer got: a read released on the reference only (ALLOWANCE later-output,
    // compare.js) handed its value to the next read there, which this side's earlier read got;
    // this one then waits for more, forever if the writable side stays open (a pipe with
    // preventClose). Seed 41769 of BoundedBufferStream. The data is checked against the model.)
    // (Asked on every turn, not once: what this side has delivered grows while it waits. Seed
    // 14923 of NdjsonStringifyStream: the loop's one batch of three lines came after the wait
    // began, and brokeThereOnly, asked before it came, made the wait a hang.)
    const hasAll = () => !desc.bytesOut && /^(read@|drain)/.test(id) && ref !== null && ref.outcomes.get(id) === 'value' &&
      rec.delivered.main.length >= ref.delivered.main.length
    // (Nor a read of values, the reference's a value, where an earlier read was rejected by a
    // reader's releaseLock() on the reference only and got a value here (ALLOWANCE later-output
    // (release), compare.js: the face's output came sooner), once this side has as many values
    // as the reference's reads had got up to this one: the reference's read takes the value its
    // released read left behind, this side's waits for the next write, which an awaited read
    // keeps the program from making. Seed 28866 of ThrottleStream and MeterStream (objects):
    // two awaited writes, two reads, releaseLock(), getReader(), an awaited read. The data is
    // checked against the model.)
    const valuesThere = () => ref.settleOrder.slice(0, ref.settleOrder.indexOf(id) + 1).filter((k) => /^(read@|drain)/.test(k) && ref.outcomes.get(k) === 'value').length
    const releasedThere = () => !desc.bytesOut && id.startsWith('read@') && ref !== null && ref.outcomes.get(id) === 'value' &&
      [...ref.outcomes].some(([k, o]) => k.startsWith('read@') && Number(k.slice(5)) < Number(id.slice(5)) && o === 'rej:TypeError:ERR_INVALID_STATE' &&
        rec.outcomes.get(k) === 'value' && program.ops.some((op, j) => j > Number(k.slice(5)) && j < Number(id.slice(5)) && op.op === 'releaseReader')) &&
      rec.delivered.main.length >= valuesThere()
    // (Nor a read, once this side's producer pipe has let go of the writable side (producerLetGo
    // below: its signal came first, with preventAbort, so nothing will write to that side or end
    // it) and this side's consumer has the whole output of everything its source was given: there
    // is nothing left to come. The reference's pipe may have taken a chunk more: the standard's
    // pipeTo writes a chunk its pending read gets while it waits for its writes in flight at the
    // shutdown, and the reference's writes wait longer (the face's own buffer takes a chunk where
    // the reference's readable side holds none: README, "Backpressure"), so its source was still
    // open for a chunk enqueued after the signal, where this side's pipe had cancelled its source
    // already. An identity TransformStream with room on its readable side does what the face does:
    // `node __test__/web-contract-fuzz/evidence.js let-go-before-chunk`. Seed 53504 of
    // ThrottleStream and MeterStream (bytes). The reads' outcomes are compared in compare.js.)
    const givenAllDelivered = () => /^(read@|drain)/.test(id) && producerLetGo() &&
      isDeepStrictEqual(joined(!desc.bytesOut, rec.delivered.main), desc.model(rec.issued.map((w) => w.input)).output)
    // (Nor a read or the reader's `closed`, once this side's producer pipeThrough with
    // preventClose had finished before its signal came (finishedBeforeSignal below: nothing will
    // end the writable side) and this side's consumer has the whole output of everything its
    // source was given, where the reference's pipe had not finished and the signal errored its
    // readable side. A TransformStream with room for every chunk does what the face does: `node
    // __test__/web-contract-fuzz/evidence.js ended-before-signal` (preventClose). Seed 85668 of
    // ThrottleStream and MeterStream (bytes). The reads' outcomes are compared in compare.js.)
    // (Or the `for await` (finishedBeforeSignal: the reference's loop rejected with the signal's
    // reason): seed 177104 of ThrottleStream and MeterStream (bytes), a slow loop, six chunks
    // (one of 35408 bytes, past the reference's readable highWaterMark of 16384), the source's
    // close(), three turns, the signal: the face's pipe had finished, the reference's still
    // wrote the last two chunks. `node __test__/web-contract-fuzz/evidence.js
    // ended-before-signal-loop`. The loop's outcome is compared in compare.js.)
    // (Or the consumer's pipe (the reference's rejected with the signal's reason), its slow
    // destination given the whole output: seed 216829 of NdjsonStringifyStream, five values in
    // one batch, the source's close(), the signal a turn later; `node
    // __test__/web-contract-fuzz/evidence.js ended-before-signal-pipe-through`.)
    const finishedAllDelivered = () => /^(read@|drain|rclosed|iter$|pipe-out$)/.test(id) && finishedBeforeSignal() &&
      isDeepStrictEqual(joined(!desc.bytesOut, rec.delivered.main), desc.model(rec.issued.map((w) => w.input)).output)
    // (Nor a read or a reader's `closed` once the face's writable side has errored by its
    // strategy's size() (a chunk a ByteLengthQueuingStrategy cannot size; lib/web/face.js
    // erroredByStrategy) and the face holds nothing more for its reader (heldOutput): the
    // standard tells no sink of that error (whatwg/streams#628), so the readable side stays open
    // for good, and a teardown after it (the pipe's abort) errors no side that is not errored
    // already. The reference's teardown may have come first: the face's own buffer took the
    // chunks before the string where the reference's readable side pushed back (README,
    // "Backpressure"), so the reference's pipe was still waiting to write the string when its
    // source errored, and its reads ended with that error. An identity TransformStream with room
    // on its readable side does what the face does: `node __test__/web-contract-fuzz/evidence.js
    // strategy-error-before-abort`. Seed 55454 of BoundedBufferStream (block, bytes). The data is
    // checked against the model; the reads' outcomes in compare.js.)
    // (Or the consumer's pipe, which then waits for good too: seed 195243 of BoundedBufferStream
    // (block, bytes): a pipeThrough with a signal (preventCancel), a string among the chunks, the
    // signal; the consumer's pipe into a slow destination (preventClose, preventAbort) rejected
    // with the signal's reason on the reference. `node __test__/web-contract-fuzz/evidence.js
    // strategy-error-before-signal-pipe`.)
    const strategyStranded = () => /^(read@|drain|rclosed|pipe-out$)/.test(id) && made.face !== undefined && erroredByStrategy(made.face) && heldOutput(made.face) === 0
    // (Nor the consumer's pipe into a destination of highWaterMark 0, once the face's writable
    // side has closed and its readable side holds the whole output of everything written: such a
    // destination's writer.ready never resolves (desiredSize 0 is backpressure), so the pipe
    // never reads, and a readable side that closed cleanly ends only once read: the pipe waits
    // for good, as it does with any TransformStream whose close completed. The reference's
    // settled because a teardown (an abort() after its close(), still queued behind its write in
    // flight) errored its readable side. Only where the consumer got nothing and the model's
    // output of what was written is not empty (a readable side with nothing queued closes, and
    // the pipe then resolves: a face that does not close is still a hang; what it holds cannot
    // be asked once closed, face.js heldOutput). Seed 105400 of NdjsonStringifyStream: a turn, a write, a microtask, close(), abort(): the
    // face took the value at once (README: a value goes into the stringifier's batch), so its
    // close completed before the abort, which then did nothing.)
    const closedUnread = () => id === 'pipe-out' && program.consumer.sinkHwm === 0 && state.wTerminal === 'closed' && rec.delivered.main.length === 0 &&
      made.face !== undefined && desc.model(rec.issued.map((w) => w.input)).output.length > 0
    const refWaited = () => !hasAll() && !releasedThere() && !brokeThereOnly(id) && !strandedLoop(id) && !givenAllDelivered() && !finishedAllDelivered() && !strategyStranded() && !closedUnread() && (final || (joins ? id.startsWith('drain') && ref !== null && ref.drainEnded : ref !== null && ref.waits.get(id) === true))
    const isLong = () => refWaited() && !deadline.hung && !openForever()
    const heldForReader = () => made !== null && made.face !== undefined && !consumerReads() && waitsForReader(made.face)
    // (Not a read: a read waiting is room, though not in the promise jobs between a read() and
    // the pull it makes; and held on two turns in a row, for the same reason.)
    const read = /^(read@|drain)/.test(id)
    let held = 0
    const t0 = Date.now()
    rec.waits.set(id, false)
    // (Quiet turns count from the last turn on which a long wait was owed.)
    let quiet = 0
    for (let turn = 0; !settled(id); turn++) {
      const long = isLong()
      quiet = long ? 0 : quiet + 1
      if (!long && quiet > QUIET_TURNS) return false
      held = !read && heldForReader() ? held + 1 : 0
      if (long && held >= 2) return false
      if (long && Date.now() - t0 > HANG_MS) {
        deadline.hung = true
        rec.hang.push(id)
        return false
      }
      if (turn < QUIET_TURNS) {
        await immediate()
      } else {
        // Woken by the settlement; the poll re-checks the face's state (a background consumer's
        // read changes it) and the hang detector.
        await Promise.race([whenSettled(id), sleep(5)])
      }
    }
    rec.waits.set(id, true)
    return true
  }
  // A consumer that reads on its own (a pipe into a destination that asks, `for await`, the
  // tee's second branch) while it runs: what the face holds for a reader then moves on without
  // the program (seed 448 of NdjsonParseStream: a slow pipe leaves the face full for turns).
  const consumerReads = () => {
    const c = program.consumer
    if (c === null) return false
    const running = (id) => rec.outcomes.get(id) === 'pending'
    if (c.mode === 'tee') return running('tee-b')
    if (c.mode === 'pipeTo') return c.sinkHwm > 0 && running('pipe-out')
    if (c.mode === 'iter') return running('iter')
    return false
  }
  // The producer's pipe finished (preventClose: the face's writable side stays open) where the
  // reference's was torn down (the signal came while the reference still held a chunk: it
  // buffers less, README "Backpressure"): nothing will ever close or error this side, so what
  // the reference settled through its teardown cannot settle here.
  const openForever = () => ref !== null && program.producer.mode === 'pipeTo' && program.producer.preventClose &&
    rec.outcomes.get('pipe-in') === 'ok' && ref.outcomes.get('pipe-in') !== 'ok'

  // A `for await` that broke after breakAt chunks on the reference only: a byte face joins or
  // batches chunks (README: NdjsonStringifyStream's values written back to back share a batch),
  // so with every byte the reference's loop got, this side's loop has fewer chunks and waits for
  // more, forever when its writable side stays open (a producer pipe with preventClose that has
  // finished: nobody is left to close it). Seed 42957 of NdjsonStringifyStream (five values in
  // one batch, breakAt 5). Only then: a writable side that closes still ends the loop here.
  // The data is checked against the model; the loop's outcome in compare.js (ALLOWANCE break-count).
  // (Or a producer pipe with preventAbort that its signal or its source's error ended: it let go
  // of the writable side without aborting it, and nothing closes it either. Seed 48851 of
  // NdjsonStringifyStream, below.)
  const brokeThereOnly = (id) => id === 'iter' && desc.bytesOut && ref !== null && program.consumer.breakAt !== null &&
    ((program.producer.preventClose && producerFinished()) || producerLetGo()) &&
    ref.outcomes.get('iter') === 'ok' && ref.delivered.main.length >= program.consumer.breakAt &&
    rec.delivered.main.length < program.consumer.breakAt && byteCount(rec.delivered.main) >= byteCount(ref.delivered.main)

  // The producer's pipe finished without a teardown, so that (with preventClose) nothing will
  // close or error the face's writable side: pipeTo's promise resolved; pipeThrough's promise is
  // not the program's (it marks it handled), so there: the source ended by its close() (no
  // abort, signal or invalid chunk in the program, the source not cancelled, the input valid),
  // the pipe let go of the writable side, and that side is still 'writable' (as util.inspect
  // tells it: no program's writer is there to ask). Seed 19290 of NdjsonStringifyStream
  // (pipeThrough: null and 383 in one batch, breakAt 2).
  // (Or a pipeTo with preventAbort whose source errored: its promise rejected with the source's
  // error and it left the writable side open. Seed 29396 of NdjsonStringifyStream: four values
  // in fewer batches, breakAt 4, the source's error.)
  // (The signal only where it reaches that pipe (producer.signal): a consumer's signal under a
  // `for await` reaches nothing. Seed 37973 of NdjsonStringifyStream: five values in one batch,
  // breakAt 5, the signal of a consumer that takes none.)
  // (An abort() or an invalid chunk after the source's close() is none: the source is closed,
  // and nothing is errored or enqueued then (runSide). Seed 216675 of NdjsonStringifyStream:
  // five values, the source's close(), an abort() later; breakAt 4, the face's five lines in
  // one batch.)
  const sourceClosedAt = program.ops.findIndex((op) => op.op === 'close')
  const beforeSourceClose = (k) => sourceClosedAt < 0 || k < sourceClosedAt
  const producerFinished = () => {
    if (program.producer.mode === 'pipeTo') return rec.outcomes.get('pipe-in') === 'ok' || (program.producer.preventAbort && rec.outcomes.get('pipe-in') === 'rej:E')
    if (program.producer.mode !== 'pipeThrough') return false
    return rec.log.includes('source-end') && !rec.log.some((l) => l.startsWith('source-cancel')) &&
      !program.ops.some((op, k) => (['abort', 'invalidWrite'].includes(op.op) && beforeSourceClose(k)) || (op.op === 'signal' && program.producer.signal)) &&
      !desc.model(rec.issued.map((w) => w.input)).error && !made.writable.locked &&
      /\bstate: 'writable'/.test(inspect(made.writable))
  }
  // A producer pipe with preventAbort whose first end was a teardown, the signal (producer.signal)
  // or the source's error, not the source's close(): the pipe stopped and let go of the writable
  // side without aborting (nor closing) it, so nothing will end that side. pipeTo: its promise
  // rejected with that teardown's reason; pipeThrough (no promise of the program's): the pipe
  // let go of the writable side and that side is still 'writable'. Not with an invalid chunk or
  // invalid input (the face's failure may come later). Seed 48851 of NdjsonStringifyStream
  // (pipeThrough, preventAbort, the signal: three values in one batch and one written after the
  // signal, the pipe's read pending then; breakAt 4, the reference's loop broke on its 4th chunk).
  const producerLetGo = () => {
    const p = program.producer
    if (!p.preventAbort || (p.mode !== 'pipeTo' && p.mode !== 'pipeThrough')) return false
    const endAt = program.ops.findIndex((op) => ['close', 'abort'].includes(op.op) || (op.op === 'signal' && p.signal))
    if (endAt < 0 || program.ops[endAt].op === 'close') return false
    if (program.ops.some((op) => op.op === 'invalidWrite') || desc.model(rec.issued.map((w) => w.input)).error) return false
    const end = program.ops[endAt]
    const reason = end.op === 'abort' ? 'rej:E' : `rej:${end.reason ? 'S' : 'AbortError:20'}`
    if (p.mode === 'pipeTo') return rec.outcomes.get('pipe-in') === reason
    return !made.writable.locked && /\bstate: 'writable'/.test(inspect(made.writable))
  }

  // A producer pipeThrough with preventClose and a signal, that finished by its source's close()
  // before the signal came: the source was not cancelled (a pipe the signal stopped cancels its
  // source, unless preventCancel: then not), no abort (the source's error) or invalid chunk in
  // the program, the input valid, the writable side let go and still 'writable' (a pipe the
  // signal stopped without preventAbort aborts it). Nothing will end the writable side, so the
  // readable side stays open after the output. Only where the reference's readable side ended
  // errored with the signal's reason (its pipe had not finished: its writes waited behind its
  // readable side's backpressure). Seed 85668 of ThrottleStream and MeterStream (bytes).
  // (With a `for await` consumer (no reader of the program's: ref.end.r is null), where the
  // reference's loop rejected with the signal's reason. Seed 177104 of ThrottleStream and
  // MeterStream (bytes).)
  const finishedBeforeSignal = () => {
    const p = program.producer
    if (ref === null || p.mode !== 'pipeThrough' || !p.preventClose || !p.signal || p.preventCancel) return false
    const sig = program.ops.find((op) => op.op === 'signal')
    const sigReason = sig === undefined ? null : sig.reason ? 'S' : 'AbortError:20'
    if (sig === undefined || ref.end === null || (ref.end.r !== `errored:${sigReason}` &&
      !(program.consumer.mode === 'iter' && ref.outcomes.get('iter') === `rej:${sigReason}`) &&
      !(program.consumer.mode === 'pipeTo' && ref.outcomes.get('pipe-out') === `rej:${sigReason}`))) return false
    return rec.log.includes('source-end') && !rec.log.some((l) => l.startsWith('source-cancel')) &&
      !program.ops.some((op, k) => ['abort', 'invalidWrite'].includes(op.op) && beforeSourceClose(k)) && !desc.model(rec.issued.map((w) => w.input)).error &&
      !made.writable.locked && /\bstate: 'writable'/.test(inspect(made.writable))
  }

  // A `for await` that breaks after breakAt chunks, with fewer here, after a chunk a
  // ByteLengthQueuingStrategy cannot size (strategyErrors): that errors the writable side only
  // and throws away the writes queued then, while the readable side stays open for good
  // (whatwg/streams#628, below). Which chunks got through first is timing: the reference's
  // synchronous transform had taken every earlier chunk, the face's component takes a chunk a
  // turn later (README, "Web Streams"), so a chunk still queued is thrown away here and the loop
  // waits for a chunk that never comes (a TransformStream whose transform takes a turn does the
  // same: `node __test__/web-contract-fuzz/evidence.js strategy-error-loop`). Seed 1700 of BoundedBufferStream (block, bytes). The data is
  // checked against the model; the loop's outcome (pending against 'ok') in compare.js by ALLOWANCE timing
  // (a promise made before the first teardown, here the strategy's error).
  // Also a loop without breakAt that the reference's teardown ended (its producer pipe rejected
  // with the signal's reason: it still waited to write the string then), where this side's pipe
  // had written it (it rejected with the strategy's RangeError): the strategy's error came first
  // here, and the teardown after it errors no side that is not already errored, so the readable
  // side stays open. Seed 21468 of ThrottleStream and MeterStream (bytes).
  const STRATEGY_ERROR = 'rej:RangeError:ERR_INVALID_ARG_VALUE'
  const strandedLoop = (id) => id === 'iter' && strategyErrors(program, rec) && (
    (program.consumer.breakAt !== null && rec.delivered.main.length < program.consumer.breakAt) ||
    (ref !== null && rec.outcomes.get('pipe-in') === STRATEGY_ERROR && (ref.outcomes.get('pipe-in') ?? '').startsWith('rej:') &&
      ref.outcomes.get('pipe-in') !== STRATEGY_ERROR && (ref.outcomes.get('iter') ?? '').startsWith('rej:')))

  const sinkLog = rec.log
  const strategies = program.strategies
  made = make(strategies, program.config, { log: sinkLog, describe, reasons, out: rec.delivered.main })
  const { writable, readable } = made
  const state = { closeIssued: false, abortIssued: false, wTerminal: null, rTerminal: null }

  // A writer or reader ('w' or 'r') of `stream`: its `closed` is tracked, and is the side's terminal state.
  const taken = { w: 0, r: 0 }
  const lock = (side, stream) => {
    const l = side === 'w' ? stream.getWriter() : stream.getReader()
    const k = taken[side]++
    const terminal = `${side}Terminal`
    l.closed.then(() => { if (state[terminal] === null) state[terminal] = 'closed' }, (err) => {
      if (!l.released && state[terminal] === null) state[terminal] = 'errored:' + describe(err)
    })
    track(`${side}closed${k}`, l.closed)
    return { l, k }
  }

  // The producer.
  let writer = null
  const takeWriter = () => {
    const { l: w, k } = lock('w', writable)
    track(`wready${k}`, w.ready)
    rec.outcomes.set(`wdesired${k}`, w.desiredSize)
    return w
  }
  let srcCtl = null
  let sourceOpen = true
  const controller = program.producer.signal || (program.consumer && program.consumer.signal) ? new AbortController() : null
  if (program.producer.mode === 'writer') {
    writer = takeWriter()
  } else {
    const source = new ReadableStream({
      start (c) { srcCtl = c },
      cancel (reason) {
        sourceOpen = false
        sinkLog.push('source-cancel:' + describe(reason))
      }
    }, { highWaterMark: 0 })
    const { preventClose, preventAbort, preventCancel } = program.producer
    const options = { preventClose, preventAbort, preventCancel, signal: program.producer.signal ? controller.signal : undefined }
    if (program.producer.mode === 'pipeTo') track('pipe-in', source.pipeTo(writable, options))
    else source.pipeThrough(made.face, options) // its promise is not the user's: pipeThrough marks it handled
  }

  // The consumer.
  let reader = null
  let front = readable
  const background = []
  const deliver = (branch) => (v) => { if (v && !v.done) rec.delivered[branch].push(v.value) }
  const takeReader = () => lock('r', front).l
  const c = program.consumer
  if (c) {
    if (c.mode === 'reader') {
      reader = takeReader()
    } else if (c.mode === 'tee') {
      const [a, b] = readable.tee()
      front = a
      reader = takeReader()
      background.push(track('tee-b', (async () => {
        for await (const v of b) {
          rec.delivered.tee.push(v)
          if (c.slow) await immediate()
        }
      })()))
    } else if (c.mode === 'pipeTo') {
      const sink = new WritableStream({
        write (chunk) {
          rec.delivered.main.push(chunk)
          if (c.slow) return immediate()
        },
        close () { sinkLog.push('dest-close') },
        abort (reason) { sinkLog.push('dest-abort:' + describe(reason)) }
      }, new CountQueuingStrategy({ highWaterMark: c.sinkHwm }))
      const { preventClose, preventAbort, preventCancel } = c
      background.push(track('pipe-out', readable.pipeTo(sink, { preventClose, preventAbort, preventCancel, signal: c.signal ? controller.signal : undefined })))
    } else {
      background.push(track('iter', (async () => {
        let n = 0
        for await (const v of readable) {
          rec.delivered.main.push(v)
          if (c.breakAt !== null && ++n >= c.breakAt) break
          if (c.slow) await immediate()
        }
      })()))
    }
  }

  // The source's controller throws once the pipe has let go of the source (cancelled it): when
  // that happens is the pipe's timing, so its throws are not compared.
  const sourceCall = (fn) => {
    try {
      fn()
    } catch {
      sourceOpen = false
    }
  }
  const stateKey = () => `w=${state.wTerminal} r=${state.rTerminal} writer=${writer !== null} reader=${reader !== null}`
  const released = (x) => {
    if (x !== null) {
      x.released = true
      x.releaseLock()
    }
    return null
  }

  // Whether a chunk written now reaches the writable strategy in a way that can error the
  // stream: a writer is there (or the producer's source is open), and, after the writer's close()
  // or abort(), only a chunk whose size() throws (null under a ByteLengthQueuingStrategy) before
  // the close: a chunk the strategy sizes as no number (a string, 42, an object) is refused
  // (TypeError, close queued; or the stored error) before it is queued, which is where that
  // RangeError comes (Node's WritableStreamDefaultWriterWrite), and once aborted the stream is
  // erroring, which a size() error no longer changes. Seed 13097 of BoundedBufferStream: a
  // string written after close() counted as the strategy's error.
  const sizes = (throws) => (writer !== null
    ? !state.abortIssued && (!state.closeIssued || throws)
    : srcCtl !== null && sourceOpen)
  // An awaited operation that happened (a writer or reader was there to make it) ends a tick.
  const yielding = (i, id) => {
    rec.yielded.push(i)
    return bounded(id)
  }
  for (let i = 0; i < program.ops.length; i++) {
    const op = program.ops[i]
    rec.pre.push(stateKey())
    const id = `${op.op}@${i}`
    try {
      switch (op.op) {
        case 'write':
          if (sizes(false)) rec.sized.push(i)
          if (writer !== null) {
            // (Not after close() or abort(): those are refused, and the data ended before them.)
            if (!state.closeIssued && !state.abortIssued) rec.issued.push({ id: op.id, input: modelInput(op) })
            track(`write${op.id}`, nodeAssertion(() => writer.write(chunkOf(op))))
            if (op.awaited) await yielding(i, `write${op.id}`)
          } else if (srcCtl !== null && sourceOpen) {
            rec.issued.push({ id: op.id, input: modelInput(op) })
            sourceCall(() => srcCtl.enqueue(chunkOf(op)))
          }
          break
        case 'invalidWrite':
          if (sizes(op.value === null)) rec.sized.push(i)
          if (writer !== null) track(id, nodeAssertion(() => writer.write(op.value === 'object' ? {} : op.value)))
          else if (srcCtl !== null && sourceOpen) sourceCall(() => srcCtl.enqueue(op.value === 'object' ? {} : op.value))
          break
        case 'close':
          if (writer !== null) {
            state.closeIssued = true
            track(id, writer.close())
            if (op.awaited) await yielding(i, id)
          } else if (srcCtl !== null && sourceOpen) {
            sourceOpen = false
            sinkLog.push('source-end')
            sourceCall(() => srcCtl.close())
          }
          break
        case 'abort':
          if (writer !== null) {
            state.abortIssued = true
            track(id, writer.abort(op.reason ? reasons.R : undefined))
            if (op.awaited) await yielding(i, id)
          } else if (srcCtl !== null && sourceOpen) {
            sourceOpen = false
            sinkLog.push('source-end')
            sourceCall(() => srcCtl.error(reasons.E))
          }
          break
        case 'releaseWriter': writer = released(writer); break
        case 'getWriter': writer ??= takeWriter(); break
        case 'read':
          if (reader !== null) {
            track(id, reader.read(), deliver('main'))
            if (op.awaited) await yielding(i, id)
          }
          break
        case 'cancel':
          if (reader !== null) {
            track(id, reader.cancel(op.reason ? reasons.C : undefined))
            if (op.awaited) await yielding(i, id)
          }
          break
        case 'releaseReader': reader = released(reader); break
        case 'getReader': reader ??= takeReader(); break
        case 'signal':
          // What the face held for its reader as the first signal came (compare.js,
          // closed-after-signal): the output a consumer pipe's abort may throw away.
          // (And what its consumer had got by then, in the same units: items, or bytes.)
          if (rec.heldAtSignal === null) {
            rec.heldAtSignal = made.face === undefined ? 0 : heldOutput(made.face)
            rec.deliveredAtSignal = desc.bytesOut ? byteCount(rec.delivered.main) : rec.delivered.main.length
          }
          controller.abort(op.reason ? reasons.S : undefined)
          break
        case 'wait':
          if (op.how === 'microtask') await Promise.resolve()
          else for (let k = op.how === 'immediate' ? 1 : 3; k > 0; k--) await immediate()
          break
      }
    } catch (err) {
      rec.throws.push(`${id}:${describe(err)}`)
    }
  }

  // Settle: the producer ends (unless the program closed or aborted), the consumer reads to the end.
  rec.settlePre = stateKey()
  try {
    if (program.producer.mode === 'writer' && !state.closeIssued && !state.abortIssued) {
      if (writer === null && !writable.locked) writer = takeWriter()
      if (writer !== null) track('settle-close', writer.close())
    } else if (srcCtl !== null && sourceOpen) {
      sourceOpen = false
      sinkLog.push('source-end')
      srcCtl.close()
    }
  } catch (err) {
    rec.throws.push(`settle-close:${describe(err)}`)
  }
  if (c && (c.mode === 'reader' || c.mode === 'tee')) {
    try {
      if (reader === null && !front.locked) reader = takeReader()
    } catch (err) {
      rec.throws.push(`settle-reader:${describe(err)}`)
    }
    for (let k = 0; reader !== null && k < 100000; k++) {
      const id = `drain${k}`
      track(id, reader.read(), deliver('main'))
      if (!(await bounded(id))) break
      if (rec.outcomes.get(id) !== 'value') {
        rec.drainEnded = true
        break
      }
    }
  }
  for (const id of ['settle-close', 'pipe-in', 'pipe-out', 'iter', 'tee-b', ...[...rec.outcomes.keys()].filter((k) => /^(w|r)closed/.test(k))]) {
    if (rec.outcomes.has(id)) await bounded(id)
  }
  // No hang: what the reference settled in the end, the face settles too. Not a read after a
  // string under a ByteLengthQueuingStrategy (strategyErrors): that errors the writable side only
  // (RangeError), the standard tells no sink of it (whatwg/streams#628), so the readable side of
  // any TransformStream stays open forever, and which chunks reached it before the error is
  // timing: the writes queued then are thrown away, and the reference's synchronous transform
  // has none queued (branch wip/web-contract-fuzz wip-notes/README.md, seed 36). The data read is checked against the model.
  // Nor a read whose value the face has delivered already: a byte face joins or batches chunks
  // (README, "Web Streams"), so a read the reference answered with its own chunk may have nothing
  // left to get here once the earlier reads got all the reference's reads did, and then waits for
  // more input, forever if the writable side is never closed (a pipe with preventClose:
  // branch wip/web-contract-fuzz, wip-notes/README.md, NdjsonStringifyStream seed 43).
  if (ref !== null) {
    const skipReads = strategyErrors(program, rec)
    const joinedAll = desc.bytesOut && byteCount(rec.delivered.main) >= byteCount(ref.delivered.main)
    for (const [id, outcome] of ref.outcomes) {
      if (skipReads && /^(read|drain)/.test(id)) continue
      if (joinedAll && outcome === 'value' && /^(read|drain)/.test(id)) continue
      if (brokeThereOnly(id) || strandedLoop(id)) continue
      if (outcome !== 'pending' && rec.outcomes.get(id) === 'pending') await bounded(id, true)
    }
  }
  for (let i = 0; i < 5; i++) await immediate()
  rec.end = { writerDesired: writer === null ? 'no writer' : desiredOf(writer), w: state.wTerminal, r: state.rTerminal }
  // (The face's writable side errored by its strategy before any teardown, and it holds nothing
  // more for its reader: its readable side stays open for good (strategyStranded above;
  // compare.js, ALLOWANCE strategy-error-before-signal). False for the reference.)
  rec.strandedByStrategy = made.face !== undefined && erroredByStrategy(made.face) && heldOutput(made.face) === 0
  return rec
}

/** How many bytes a byte face's consumer got. */
function byteCount (chunks) {
  return chunks.reduce((n, chunk) => n + (ArrayBuffer.isView(chunk) ? chunk.byteLength : 0), 0)
}

/**
 * The index of the first write that a ByteLengthQueuingStrategy cannot size, or -1: a string (no
 * byteLength: RangeError ERR_INVALID_ARG_VALUE) or an invalid chunk (42 or an object: the same;
 * null: size() itself throws a TypeError). Either errors the writable side only, as the standard
 * has it (whatwg/streams#628).
 */
function strategyErrorAt (program, rec = null) {
  // (Not MonitoredWritableStream's (no readable side): its queue is its own, and the reference
  // counts a chunk's bytes as the face does, a string by its UTF-8, anything else as 1: seed 231.)
  if (program.strategies.writable.kind !== 'bytes' || program.strategies.readable === null) return -1
  // (Given a run `rec`, only a chunk its strategy sized (runSide, sizes): one with no writer
  // (after a releaseLock()) or after the source ended writes nothing. Seed 13037 of the
  // pass-throughs: a string written with no writer counted as the strategy's error, which made
  // every later write's outcome strict.)
  return program.ops.findIndex((op, k) => ((op.op === 'write' && op.form === 'string') || op.op === 'invalidWrite') && (rec === null || rec.sized.includes(k)))
}
const strategyErrors = (program, rec = null) => strategyErrorAt(program, rec) >= 0

/**
 * Node 20's WritableStream fails an internal assertion (ERR_INTERNAL_ASSERTION, thrown by write()
 * or its rejection) on a write after close() while the close is in flight, with an abort() or
 * not: for a plain TransformStream too (see compare.js, ALLOWANCE node-assertion). Taken as the
 * rejection it stands for; whether it comes depends on how long the close takes.
 */
function nodeAssertion (write) {
  try {
    return write()
  } catch (err) {
    if (err.code !== 'ERR_INTERNAL_ASSERTION') throw err
    return Promise.reject(err)
  }
}

function desiredOf (writer) {
  const d = writer.desiredSize
  return d === null ? null : d > 0 ? 'positive' : d
}

module.exports = { makeProgram, runSide, chunkOf, modelInput, buildStrategy, strategyErrors, strategyErrorAt, HANG_MS }
