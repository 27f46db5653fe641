'use strict'

// A model-based differential fuzz of the Node stream contract (see ../contract-fuzz.spec.js).
//
// A seed makes a program: stream options, a consumer, and a list of operations (writes of
// random chunks, end, destroy, pause/resume/read(n)/pipe/unpipe, cork/uncork,
// setDefaultEncoding, waits) plus an optional trigger (destroy inside the n-th 'data' handler or
// inside a write's callback). The same program runs against the sluice component and against its
// core reference (a PassThrough, a plain Writable, a line-splitting Transform), each run recording
// what a user can observe: the data delivered, every write callback (how often, with what, in
// which order), end()'s callback, the events, what stream.finished() reports and the final state.
//
// `compare()` then checks each run against the model (what was written) and against the other
// run. The normaliser is explicit: every allowance names why (ALLOWANCES below); everything else
// must be equal.

const stream = require('node:stream')
const { isDeepStrictEqual } = require('node:util')
const { setImmediate: immediate } = require('node:timers/promises')
const { makeRng } = require('../helpers.js')
const { makeOps } = require('./harness.js')

// ---------------------------------------------------------------------------------------------
// Seeded PRNG: the suites' mulberry32 (helpers.js), with the draws a program needs

function prng (seed) {
  const next = makeRng(seed)
  const r = {
    next,
    int: next.int, // 0 … n-1
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: next.pick,
    weighted (table) {
      let total = 0
      for (const [w] of table) total += w
      let x = next() * total
      for (const [w, v] of table) {
        if ((x -= w) < 0) return v
      }
      return table[table.length - 1][1]
    }
  }
  return r
}

// ---------------------------------------------------------------------------------------------
// Random data

const UNICODE = ['a', 'z', ' ', 'é', 'ß', '€', '中', '😀', '\u2028', '\u00ff', '\n', '"', '\\', '\t']

function randomText (r, n) {
  let s = ''
  for (let i = 0; i < n; i++) s += r.chance(0.7) ? String.fromCharCode(r.range(0x20, 0x7e)) : r.pick(UNICODE)
  return s
}

function randomBytes (r, n) {
  if (r.chance(0.5)) return Buffer.from(randomText(r, n)).subarray(0, n)
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = r.int(256)
  return b
}

/** A JSON value (no undefined anywhere, so that JSON.stringify round-trips it). */
function randomValue (r, depth = 0) {
  const kind = r.int(depth > 2 ? 5 : 7)
  switch (kind) {
    case 0: return r.range(-1000, 1000)
    case 1: return r.next() * 1e6 - 5e5
    case 2: return randomText(r, r.int(12))
    case 3: return r.chance(0.5)
    case 4: return r.chance(0.5) ? '\ud800x' : ''
    case 5: {
      const a = []
      for (let i = r.int(4); i > 0; i--) a.push(r.chance(0.15) ? null : randomValue(r, depth + 1))
      return a
    }
    default: {
      const o = {}
      for (let i = r.int(4); i > 0; i--) o[randomText(r, r.int(5))] = r.chance(0.15) ? null : randomValue(r, depth + 1)
      return o
    }
  }
}

const BYTE_ENCODINGS = ['latin1', 'hex', 'base64', 'utf16le', 'utf8']

/**
 * How a byte chunk is written: as a Buffer, a Uint8Array or a string in one of the encodings
 * that can carry it exactly. `encoding` undefined: the stream's default encoding is used, so the
 * program only omits it when the string is in the encoding that will be the default then.
 */
function representBytes (r, bytes, defaultEncoding) {
  const form = r.int(4)
  if (form === 0) return { chunk: Buffer.from(bytes), encoding: undefined, form: 'Buffer' }
  if (form === 1) return { chunk: new Uint8Array(bytes), encoding: undefined, form: 'Uint8Array' }
  const usable = BYTE_ENCODINGS.filter((enc) => Buffer.from(bytes.toString(enc), enc).equals(bytes))
  const enc = r.pick(usable)
  const omit = enc === defaultEncoding && r.chance(0.5)
  return { chunk: bytes.toString(enc), encoding: omit ? undefined : enc, form: `string/${enc}${omit ? ' (default)' : ''}` }
}

// ---------------------------------------------------------------------------------------------
// Programs

const WAITS = ['microtask', 'immediate', 'immediate3', 'drain']

/**
 * A program for `desc` (a component descriptor, see components.js) from `seed`.
 * Operations are plain data, so the same program drives both sides and prints as a trace.
 */
function makeProgram (desc, seed) {
  const r = prng(seed)
  const writable = desc.kind === 'writable'
  const hwmChoices = [undefined, 1, 2, 5, 16, 1024, 16384]
  const options = {}
  const shape = r.int(3)
  if (shape === 1) options.highWaterMark = r.pick(hwmChoices.slice(1))
  if (shape === 2 && !writable) {
    options.writableHighWaterMark = r.pick(hwmChoices.slice(1))
    options.readableHighWaterMark = r.pick(hwmChoices.slice(1))
  }
  // A highWaterMark of 0 (no buffering ahead: core keeps a write's callback until the next read),
  // decided by a generator of its own, so that every other seed's program stays what it was.
  const zero = prng(seed + 0x9e3779b9)
  if (zero.chance(0.2)) {
    if (shape === 1) options.highWaterMark = 0
    else if (shape === 2 && !writable) options[zero.pick(['writableHighWaterMark', 'readableHighWaterMark'])] = 0
    else if (!writable) options.readableHighWaterMark = 0
  }
  const config = desc.configure ? desc.configure(r) : {}
  const consumer = writable
    ? null
    : {
        mode: r.pick(['data', 'data', 'read', 'pipe', 'iter']),
        slow: r.chance(0.4),
        breakAt: r.chance(0.25) ? r.range(1, 6) : null,
        sinkHwm: r.pick([1, 2, 16, 1024])
      }
  const source = desc.source ? desc.source(r, config) : null
  let defaultEncoding = 'utf8'
  let corked = 0
  let ended = false
  const writeId = (ops) => ops.filter((o) => o.op === 'write' || (o.op === 'end' && o.chunk !== undefined)).length
  const ops = makeOps(r, () => [
    [45, 'write'],
    [18, 'wait'],
    [ended ? 1 : 4, 'end'],
    [2, 'destroy'],
    [4, 'cork'],
    [corked > 0 ? 6 : 1, 'uncork'],
    [desc.writableObjectMode ? 0 : 2, 'setDefaultEncoding'],
    [consumer && consumer.mode === 'data' ? 8 : 0, 'pause'],
    [consumer && consumer.mode === 'data' ? 8 : 0, 'resume'],
    [consumer && consumer.mode === 'read' ? 14 : 0, 'read'],
    [consumer && consumer.mode === 'pipe' ? 4 : 0, 'unpipe'],
    [consumer && consumer.mode === 'pipe' ? 4 : 0, 'pipe'],
    [1, 'invalidWrite']
  ], (kind, ops) => {
    switch (kind) {
      case 'write': {
        const op = { op: 'write', id: writeId(ops), callback: r.chance(0.8) }
        Object.assign(op, makeChunk(desc, r, source, defaultEncoding, options))
        return op.chunk === undefined ? null : op
      }
      case 'wait': return { op: 'wait', how: r.pick(WAITS) }
      case 'end': {
        const op = { op: 'end', callback: r.chance(0.6) }
        if (r.chance(0.3)) {
          const c = makeChunk(desc, r, source, defaultEncoding, options)
          if (c.chunk !== undefined) Object.assign(op, c, { id: writeId(ops) })
        }
        ended = true
        return op
      }
      case 'destroy': return { op: 'destroy', error: r.chance(0.5) }
      case 'setDefaultEncoding':
        defaultEncoding = r.pick(BYTE_ENCODINGS)
        return { op: 'setDefaultEncoding', encoding: defaultEncoding }
      case 'read': return { op: 'read', n: r.chance(0.3) ? undefined : r.range(0, 40) }
      case 'cork':
        corked++
        return { op: 'cork' }
      case 'uncork':
        corked = Math.max(0, corked - 1)
        return { op: 'uncork' }
      case 'invalidWrite': return { op: 'invalidWrite', value: desc.writableObjectMode ? null : r.pick([null, 42, {}]) }
      default: return { op: kind }
    }
  })
  // A source with fixed pieces (the parser's text): what the program did not write goes in the
  // final end(), so that a run that ends has the whole text.
  let trigger = null
  if (r.chance(0.25)) {
    const writes = ops.filter((o) => o.op === 'write' && o.callback).map((o) => o.id)
    const on = writable || r.chance(0.5) ? 'callback' : 'data'
    if (on === 'callback' && writes.length > 0) trigger = { on, id: r.pick(writes), error: r.chance(0.5) }
    else if (on === 'data') trigger = { on, nth: r.range(1, 5), error: r.chance(0.5) }
  }
  return { seed, component: desc.name, options, config, consumer, ops, trigger }
}

function makeChunk (desc, r, source, defaultEncoding, options) {
  if (desc.writableObjectMode) {
    const value = desc.value ? desc.value(r) : randomValue(r)
    return { chunk: value, encoding: undefined, form: 'value' }
  }
  let bytes
  if (source) {
    bytes = source.next(r)
    if (bytes === undefined) return { chunk: undefined }
  } else {
    const hwm = options.writableHighWaterMark ?? options.highWaterMark ?? 16384
    const size = r.weighted([[2, 0], [30, r.range(1, 8)], [30, r.range(1, Math.max(2, hwm * 2))], [4, r.range(1000, 70000)]])
    bytes = randomBytes(r, size)
  }
  return { ...representBytes(r, bytes, defaultEncoding), bytes: bytes.toString('base64') }
}

// ---------------------------------------------------------------------------------------------
// Running one side

const codeOf = (err) => (err == null ? null : (err.code ?? err.message ?? String(err)))
const HANG_MS = Number(process.env.SLUICE_FUZZ_HANG_MS || 60000)

function snapshot (s, rec, desc) {
  return {
    // Everything taken so far has been delivered (a consumer can see it): a destroy after that
    // meets a stream whose readable side may already be ending.
    allDelivered: desc ? deliveredAll(desc, rec) : undefined,
    destroyed: s.destroyed,
    writable: s.writable,
    writableEnded: s.writableEnded,
    writableFinished: s.writableFinished,
    readable: s.readable,
    readableEnded: s.readableEnded,
    // At a destroy: its last push made (core's `ended`: null pushed), so the readable side ends
    // once what it holds is read. No key of the comparison (a stage that takes its writes sooner
    // gets there sooner); an allowance looks at it (compare.js, ended-first).
    readableEnding: desc ? s._readableState?.ended : undefined,
    // At a destroy: what its readable side still holds (compare.js, emptied-first).
    readableLength: desc ? s.readableLength : undefined,
    errored: codeOf(s.errored),
    closeSeen: rec.count.close > 0
  }
}

/**
 * Runs `program` against a stream made by `make(options, config, sink)` (sink: the underlying
 * write, for a writable-kind component). Resolves with the record.
 */
async function runSide (desc, make, program) {
  const writable = desc.kind === 'writable'
  const rec = {
    log: [], // events in order: 'data', 'end', 'finish', 'close', 'error:CODE', 'cb:ID:CODE', 'endcb:CODE', 'drain'
    count: { data: 0, end: 0, finish: 0, close: 0, error: 0, drain: 0 },
    cbs: new Map(), // write id → array of codes
    endCbs: [],
    endCalls: 0, // end(callback) calls made (each must be answered once)
    accepted: [], // model inputs of the writes the program made while the stream took them
    delivered: [],
    pre: [], // pre-state per operation
    destroyPre: [], // pre-state at each destroy (op, trigger or a break out of for await), with what it destroyed with (`by`)
    writeThrows: [],
    finished: [],
    hang: false,
    violations: []
  }
  const sinkLog = writable ? [] : null
  const made = make(program.options, program.config, sinkLog)
  const s = made.stream
  const after = (ev) => { if (rec.count.close > 0) rec.violations.push(`'${ev}' after 'close'`) }
  let dataCount = 0
  let destroyNow = null
  const deliver = (chunk, byRead = false) => {
    // (A read() the user makes after 'close' may still return what was buffered, as in core.)
    if (!byRead) after('data')
    if (!byRead && rec.count.end > 0) rec.violations.push("'data' after 'end'")
    rec.count.data++
    rec.delivered.push(chunk)
    rec.log.push(byRead ? 'got' : 'data')
    if (program.trigger && program.trigger.on === 'data' && ++dataCount === program.trigger.nth) destroyNow(program.trigger.error)
  }
  const boom = () => Object.assign(new Error('fuzz boom'), { code: 'FUZZ_BOOM' })
  destroyNow = (withError) => {
    // pipePaused: the pipe consumer's sink said false and has not drained, so the pipe paused the
    // stream: nothing reads it (compare.js, emptied-first).
    const pipePaused = piped && s.readableFlowing === false && sink.writableNeedDrain
    // pipeEndQueued: that pause came on a chunk the pipe read after the stream's end was pushed:
    // core's read() then queued 'end' (endReadable), which a destroy does not stop (compare.js,
    // emptied-first; seed 385577 of NdjsonStringifier).
    const pipeEndQueued = pipePaused && pipedAfterEnd
    rec.destroyPre.push({ ...snapshot(s, rec, desc), by: withError ? 'FUZZ_BOOM' : 'none', piped, pipePaused, pipeEndQueued })
    rec.log.push('destroy')
    s.destroy(withError ? boom() : undefined)
  }
  for (const ev of ['end', 'finish', 'close', 'drain']) {
    s.on(ev, () => {
      after(ev)
      rec.count[ev]++
      rec.log.push(ev)
    })
  }
  s.on('error', (err) => {
    after('error')
    rec.count.error++
    rec.log.push('error:' + codeOf(err))
  })
  stream.finished(s, (err) => { rec.finished.push(codeOf(err)) })

  // The consumer.
  const c = program.consumer
  let sink = null
  let piped = false
  let pipedAfterEnd = false
  // pipe() ends the sink when the stream emits 'end' while piped to it, or when piped to it after
  // its 'end'; a sink unpiped before then is never ended (see the settle below).
  let sinkEnds = false
  s.on('end', () => { if (piped) sinkEnds = true })
  const pipeToSink = () => {
    if (s.readableEnded) sinkEnds = true
    s.pipe(sink)
    piped = true
  }
  let iterDone = null
  let paused = false
  if (c) {
    if (c.mode === 'data') {
      s.on('data', (chunk) => {
        deliver(chunk)
        if (c.slow && !paused && rec.count.data % 3 === 0) {
          s.pause()
          setImmediate(() => { if (!paused) s.resume() })
        }
      })
    } else if (c.mode === 'pipe') {
      sink = new stream.Writable({
        objectMode: desc.readableObjectMode,
        highWaterMark: c.sinkHwm,
        write (chunk, encoding, callback) {
          // (The sink takes chunks when it gets to them: after the source's 'end' is fine.)
          deliver(chunk, true)
          if (c.slow) setImmediate(callback)
          else callback()
        }
      })
      // Whether the pipe's last chunk came from a read() made after the stream's end was pushed
      // (its `ended`): that read queued the stream's 'end' before the pipe wrote the chunk here.
      // (A chunk the pipe gets straight from a push, not through read(), comes before the end.)
      const write = sink.write
      sink.write = function (...args) {
        pipedAfterEnd = s._readableState?.ended === true
        return write.apply(this, args)
      }
      pipeToSink()
    } else if (c.mode === 'iter') {
      iterDone = (async () => {
        let n = 0
        try {
          for await (const chunk of s) {
            deliver(chunk)
            if (c.breakAt !== null && ++n >= c.breakAt) {
              // Leaving the loop destroys the stream (with an AbortError, when it has not
              // finished): a destroy for the comparison.
              rec.destroyPre.push({ ...snapshot(s, rec, desc), by: 'break' })
              break
            }
            if (c.slow) await immediate()
          }
        } catch (err) {
          rec.log.push('iter-threw:' + codeOf(err))
        }
      })()
    }
  }

  // Not checked against 'close': core answers writes after it (ERR_STREAM_DESTROYED for those
  // made after destroy(), or null: a Transform destroyed from a 'data' listener has the write in
  // flight answered from a tick queued before 'close' was).
  const callbackFor = (id) => (err) => {
    const code = codeOf(err)
    if (!rec.cbs.has(id)) rec.cbs.set(id, [])
    rec.cbs.get(id).push(code)
    rec.log.push(`cb:${id}:${code}`)
    if (program.trigger && program.trigger.on === 'callback' && program.trigger.id === id && rec.cbs.get(id).length === 1) destroyNow(program.trigger.error)
  }
  let defaultEncoding = 'utf8'
  const modelInput = (op) => {
    if (desc.writableObjectMode) return op.chunk
    return Buffer.from(op.bytes, 'base64')
  }
  const chunkOf = (op) => (op.form === 'Buffer' ? Buffer.from(op.chunk) : op.form === 'Uint8Array' ? new Uint8Array(op.chunk) : op.chunk)

  for (const op of program.ops) {
    const pre = snapshot(s, rec)
    rec.pre.push(pre)
    rec.log.push(`op${rec.pre.length - 1}:${op.op}`)
    switch (op.op) {
      case 'write': {
        const takes = !s.destroyed && !s.writableEnded
        try {
          const ret = op.encoding === undefined
            ? (op.callback ? s.write(chunkOf(op), callbackFor(op.id)) : s.write(chunkOf(op)))
            : (op.callback ? s.write(chunkOf(op), op.encoding, callbackFor(op.id)) : s.write(chunkOf(op), op.encoding))
          rec.log.push(`ret:${op.id}:${ret}`)
          if (takes) rec.accepted.push(modelInput(op))
        } catch (err) {
          rec.writeThrows.push(`${op.id}:${codeOf(err)}`)
        }
        break
      }
      case 'invalidWrite':
        try {
          s.write(op.value)
          rec.writeThrows.push('invalid:none')
        } catch (err) {
          rec.writeThrows.push('invalid:' + codeOf(err))
        }
        break
      case 'end': {
        const takes = !s.destroyed && !s.writableEnded
        const cb = op.callback ? (err) => { rec.endCbs.push(codeOf(err)); rec.log.push('endcb:' + codeOf(err)) } : undefined
        try {
          if (op.chunk !== undefined) {
            if (op.id !== undefined) {
              // end(chunk) has no write callback of its own: 'finish' or an error answers it.
              if (cb) rec.endCalls++
              s.end(chunkOf(op), op.encoding, cb)
              if (takes) rec.accepted.push(modelInput(op))
            }
          } else {
            if (cb) rec.endCalls++
            s.end(cb)
          }
        } catch (err) {
          rec.writeThrows.push('end:' + codeOf(err))
        }
        break
      }
      case 'destroy':
        destroyNow(op.error)
        break
      case 'cork':
        s.cork()
        break
      case 'uncork':
        s.uncork()
        break
      case 'setDefaultEncoding':
        s.setDefaultEncoding(op.encoding)
        defaultEncoding = op.encoding
        break
      case 'pause':
        paused = true
        s.pause()
        break
      case 'resume':
        paused = false
        s.resume()
        break
      case 'read': {
        const chunk = s.read(op.n)
        if (chunk !== null) deliver(chunk, true)
        break
      }
      case 'unpipe':
        if (piped) s.unpipe(sink)
        piped = false
        break
      case 'pipe':
        if (!piped) pipeToSink()
        break
      case 'wait':
        await wait(s, op.how)
        break
    }
  }
  void defaultEncoding

  // Settle: let the consumer take everything, end the stream, wait for 'close'.
  // The 'close' event itself, not `closed`: destroy() sets that at once and emits 'close' (and an
  // 'end' already under way) a tick later, so a program whose last operation was destroy() went
  // on before them and did not wait for the sink that 'end' ends (seed 73088 of NdjsonParser: a
  // slow sink still held 6 of 9 values, taken as lost: "'end' after 8 of 9 units").
  const closed = new Promise((resolve) => {
    if (rec.count.close > 0) resolve()
    else s.once('close', resolve)
  })
  while (s.writableCorked > 0) s.uncork()
  if (c && !s.destroyed) {
    if (c.mode === 'data') { paused = false; s.resume() } else if (c.mode === 'read') s.on('data', deliver)
    else if (c.mode === 'pipe' && !piped) pipeToSink()
  }
  rec.settlePre = snapshot(s, rec) // (after the consumer resumed: that may destroy it at once)
  if (!s.writableEnded && !s.destroyed) {
    rec.endCalls++
    s.end((err) => { rec.endCbs.push(codeOf(err)); rec.log.push('settle-endcb:' + codeOf(err)) })
  }
  let timer
  const timedOut = await Promise.race([
    closed.then(() => false),
    new Promise((resolve) => { timer = setTimeout(() => resolve(true), HANG_MS) })
  ])
  clearTimeout(timer)
  if (iterDone) await iterDone
  // A piped sink takes the last chunks after the source's 'close': pipe() ends it on 'end'.
  if (sink && rec.count.end > 0 && sinkEnds && !sink.writableFinished && !timedOut) {
    await new Promise((resolve) => {
      const t = setTimeout(resolve, HANG_MS)
      sink.once('finish', () => { clearTimeout(t); resolve() })
    })
  }
  // A sink unpiped before the 'end' is never ended: it takes what it was given (its length goes
  // to 0), rather than the wait above running out its HANG_MS on both sides (two minutes a
  // program: Throttle(rate Infinity, objects) seed 10323, unpipe then end()).
  if (sink && rec.count.end > 0 && !sinkEnds && !timedOut) {
    const until = Date.now() + HANG_MS
    while (sink.writableLength > 0 && !sink.destroyed && Date.now() < until) await immediate()
  }
  // Late events: nothing may come after 'close'.
  for (let i = 0; i < 3; i++) await immediate()
  if (timedOut) {
    rec.hang = true
    rec.hangState = snapshot(s, rec)
    s.destroy()
    await immediate()
  }
  rec.final = snapshot(s, rec)
  if (sinkLog) rec.delivered = sinkLog
  if (made.after) made.after(rec)
  return rec
}

function deliveredAll (desc, rec) {
  if (desc.kind !== 'transform') return undefined
  const model = desc.model(rec.accepted).output
  if (desc.readableObjectMode) return rec.delivered.length >= model.length
  let n = 0
  for (const c of rec.delivered) n += typeof c === 'string' ? Buffer.byteLength(c) : c.length
  return n >= model.length
}

async function wait (s, how) {
  if (how === 'microtask') await Promise.resolve()
  else if (how === 'immediate') await immediate()
  else if (how === 'immediate3') { for (let i = 0; i < 3; i++) await immediate() } else if (how === 'drain') {
    if (!s.writableNeedDrain || s.destroyed) return
    // 'drain', 'close', or a bounded number of turns (a stalled consumer never drains).
    let done = false
    const stop = () => { done = true }
    s.once('drain', stop)
    s.once('close', stop)
    for (let i = 0; i < 20 && !done; i++) await immediate()
    s.off('drain', stop)
    s.off('close', stop)
  }
}

module.exports = { prng, makeProgram, runSide, randomValue, randomText, randomBytes, codeOf, isDeepStrictEqual }
