'use strict'

// The normaliser of the Web contract fuzz: what must hold of each run (against the model), and
// what must be equal between the sluice run and the reference run. Every allowance is named here
// (ALLOWANCE …) with the reason it is no difference a user is owed.

const { isDeepStrictEqual } = require('node:util')
const { dataProblems, equality, joined } = require('../contract-fuzz/harness.js')
const engine = require('./engine.js')
const { HANG_MS } = engine
// (Of the run compared, the sluice run: the writes it made, engine.js strategyErrorAt.)
const strategyErrorAt = (program) => engine.strategyErrorAt(program, yieldedRun)
const strategyErrors = (program) => strategyErrorAt(program) >= 0

/** The writes a run's writable side took: those that resolved (writer), or all enqueued (a pipe). */
function accepted (program, rec) {
  const took = program.producer.mode === 'writer' ? rec.issued.filter((w) => rec.outcomes.get(`write${w.id}`) === 'ok') : rec.issued
  return took.map((w) => w.input)
}

/** Whether both runs' consumers got the same data (bytes joined, however they were chunked). */
function sameDelivered (desc, s, c) {
  return isDeepStrictEqual(joined(!desc.bytesOut, s.delivered.main), joined(!desc.bytesOut, c.delivered.main))
}

/**
 * Whether the sluice run's consumer got a prefix of the reference run's data, short by no more
 * than the face held for its reader as the first signal came and did not deliver after it
 * (engine.js heldAtSignal, deliveredAtSignal; items, or bytes).
 */
function heldAtSignal (desc, s, c) {
  const objects = !desc.bytesOut
  const got = joined(objects, s.delivered.main)
  const all = joined(objects, c.delivered.main)
  const prefix = objects ? got.every((v, i) => isDeepStrictEqual(v, all[i])) : all.subarray(0, got.length).equals(got)
  // (What the consumer got after the signal came out of what the face held then, or was in the
  // pipe already: at most the rest was thrown away.)
  const thrownAway = (s.heldAtSignal ?? 0) - (got.length - (s.deliveredAtSignal ?? got.length))
  return got.length <= all.length && prefix && all.length - got.length <= thrownAway
}

/** Whether the consumer of `branch` saw the readable side close (so it has everything). */
function sawEnd (program, rec, branch) {
  if (branch === 'tee') return rec.outcomes.get('tee-b') === 'ok'
  const c = program.consumer
  if (c === null) return rec.outcomes.get('settle-close') === 'ok' || [...rec.outcomes].some(([id, o]) => id.startsWith('close@') && o === 'ok')
  if (c.mode === 'pipeTo') return rec.outcomes.get('pipe-out') === 'ok' && !rec.log.some((l) => l.startsWith('source-cancel'))
  if (c.mode === 'iter') return rec.outcomes.get('iter') === 'ok' && (c.breakAt === null || rec.delivered.main.length < c.breakAt)
  // (After the reader's cancel() reads are done too: that is no end.)
  return [...rec.outcomes.values()].includes('done') && ![...rec.outcomes.keys()].some((id) => id.startsWith('cancel@'))
}

/**
 * Whether the reader (of the readable side, or of the tee's first branch) saw that side close
 * before the first cancel() a reader made: its `closed` had resolved by then (the state that
 * cancel() met). A readable side closes only once its queue is read out, after its writable side
 * closed (the standard's ReadableStreamDefaultControllerClose), and cancel() on a closed stream
 * does nothing, so the reader has had every unit the writable side took, as with no cancel() at
 * all (sawEnd). A read the cancel() settled with done is no such end: the state is looked at
 * before it.
 */
function endBeforeCancel (program, rec) {
  const c = program.consumer
  if (c === null || (c.mode !== 'reader' && c.mode !== 'tee')) return false
  const j = program.ops.findIndex((op, k) => op.op === 'cancel' && /reader=true/.test(rec.pre[k] || ''))
  return j >= 0 && / r=closed /.test(rec.pre[j])
}

/**
 * What a consumer still reading an open readable side is owed, or null where that is not known:
 * the output of every write the writable side took (resolved), where the consumer's last read
 * (the settle phase's, or the `for await`'s) is still waiting on an open readable side (not
 * closed, errored or cancelled: a waiting read means its queue is empty). A TransformStream's
 * write resolves once its transform has run and enqueued that output (the standard's
 * TransformStreamDefaultSinkWriteAlgorithm), which then stays in the readable queue until read
 * or until that side errors; a face takes the chunk and delivers its output a turn later
 * (README, "Web Streams"), so by the time the settle phase's reads have waited, it has too. The
 * runs where nothing closes or errors the readable side: a chunk a ByteLengthQueuingStrategy
 * cannot size errors the writable side only (whatwg/streams#628), or the writer never closed.
 * Only with a writer (a producer's pipe has no promise per chunk). For NdjsonParseStream the
 * output of the complete lines taken: the rest waits for its newline or the end.
 */
function owedWhileOpen (desc, program, rec) {
  const c = program.consumer
  if (desc.kind !== 'transform' || program.producer.mode !== 'writer' || c === null) return null
  if (c.mode === 'reader' || c.mode === 'tee') {
    const drains = [...rec.outcomes.keys()].filter((k) => k.startsWith('drain'))
    if (drains.length === 0 || rec.outcomes.get(drains[drains.length - 1]) !== 'pending' || rec.end.r !== null) return null
  } else if (c.mode !== 'iter' || rec.outcomes.get('iter') !== 'pending') {
    return null
  }
  const taken = accepted(program, rec)
  if (!desc.bytesIn || desc.bytesOut) return desc.model(taken).output
  const input = Buffer.concat(taken)
  return desc.model([input.subarray(0, input.lastIndexOf(0x0a) + 1)]).output
}

/** Checks one run against the model; returns a list of problems. */
function invariants (desc, program, rec) {
  const out = []
  for (const id of rec.hang) out.push(`hung: ${id} settled on the reference, not within ${HANG_MS} ms here`)
  const full = desc.model(rec.issued.map((w) => w.input))
  const whole = desc.model(accepted(program, rec))
  for (const branch of ['main', 'tee']) {
    const ended = sawEnd(program, rec, branch) ? 'the end' : branch === 'main' && endBeforeCancel(program, rec) ? 'the end before the cancel' : null
    for (const p of dataProblems({ objects: !desc.bytesOut, chunks: rec.delivered[branch], written: full.output, taken: whole.output, ended })) out.push(`${branch}: ${p}`)
  }
  const owed = owedWhileOpen(desc, program, rec)
  const got = joined(!desc.bytesOut, rec.delivered.main).length
  if (owed !== null && got < owed.length) out.push(`main: a read waiting on the open readable side after ${got} units, where the writes taken owe ${owed.length}`)
  // A parse error where the input written is valid: the face lost or changed a chunk. Checked on
  // every run, aligned or not: such a loss tears the run down early, where it delivered nothing
  // (an empty delivery is a valid prefix) and its outcomes differ from the reference's from the
  // error on, so the comparison of the two runs does not see it (helper-159: a face dropping its
  // 1st or 2nd chunk, NdjsonParseStream, seeds 1-3000: unreported losses 357 -> 146 and
  // 285 -> 108, no report on the unmutated face).
  if (!full.error) {
    const seen = [...rec.pre, rec.end.w, rec.end.r, ...rec.outcomes.values()].find((x) => typeof x === 'string' && x.includes('NdjsonError:'))
    if (seen !== undefined) out.push(`failed with a parse error although the input written is valid (${seen})`)
  }
  if (full.error && sawEnd(program, rec, 'main') && program.consumer !== null) out.push(`the readable side closed although the input is invalid (${full.error})`)
  return out
}

/** Every reason that tears a run down (what a promise pending at the teardown may reject with). */
function teardownReasons (desc, program, rec) {
  const reasons = new Set(['AbortError:20'])
  for (const op of program.ops) {
    if (op.op === 'abort') reasons.add(program.producer.mode === 'writer' ? (op.reason ? 'R' : 'undefined') : 'E')
    if (op.op === 'cancel') reasons.add(op.reason ? 'C' : 'undefined')
    if (op.op === 'signal') reasons.add(op.reason ? 'S' : 'AbortError:20')
    if (op.op === 'invalidWrite') reasons.add('TypeError:ERR_INVALID_ARG_TYPE').add('TypeError:ERR_STREAM_NULL_VALUES')
  }
  if (program.consumer && program.consumer.mode === 'iter') reasons.add('undefined')
  const error = desc.model(rec.issued.map((w) => w.input)).error
  if (error) reasons.add('Error:' + error).add('NdjsonError:' + error)
  if (program.config.failAt >= 0) reasons.add('D')
  // (null under a ByteLengthQueuingStrategy: size() reads its byteLength, a TypeError.)
  if (program.strategies.writable.kind === 'bytes') reasons.add('RangeError:ERR_INVALID_ARG_VALUE').add('TypeError')
  return reasons
}

/**
 * The index of the first operation that tears the run down at once (the writer's abort, the
 * reader's cancel, an invalid chunk), or the program's length. The signal's abort and the
 * source's error act through a pipe, a few jobs later: operations after them may still meet an
 * open stream.
 */
function firstTeardown (desc, program) {
  const writer = program.producer.mode === 'writer'
  const reader = program.consumer && program.consumer.mode === 'reader'
  // (A chunk a ByteLengthQueuingStrategy cannot size errors the writable side with the
  // strategy's error, as the standard has it, at once: engine.js strategyErrorAt.)
  // Not the reader's cancel(): the face errors its writable side at once, a TransformStream after
  // its transformer's cancel, a microtask later (ALLOWANCE same-tick cancel), so a close() or
  // getWriter() in the same tick meets an errored writable on the face only. Not an invalid
  // chunk otherwise: it fails when its turn comes, behind the writes before it.
  void reader
  // (Only an abort a writer made: one after releaseLock() does nothing, seeds 10278, 12025 and
  // 5229 of the pass-throughs and the stringifier, where it made every write after it strict.)
  const at = [program.ops.findIndex((op, k) => op.op === 'abort' && writer && happened(program, k)), strategyErrorAt(program)].filter((k) => k >= 0)
  const i = at.length ? Math.min(...at) : -1
  return i < 0 ? program.ops.length : i
}

/**
 * The operation of a kind in `kinds` in whose tick the operation at `i` came (program.ops.length:
 * the settle phase, which follows the last operation at once): an earlier one with no wait and no
 * awaited operation between; null if none.
 */
function tickOf (program, i, kinds, microtasks = false) {
  for (let k = i - 1; k >= 0; k--) {
    const op = program.ops[k]
    if (kinds.includes(op.op) && happened(program, k)) return op
    // (An awaited operation only if it happened: a write with no writer awaits nothing, seed 915.)
    if ((op.op === 'wait' && !(microtasks && op.how === 'microtask')) || (op.awaited && yieldedAt(program, k))) return null
  }
  return null
}

// The run whose awaited operations tickOf looks at (the sluice run: compared only when aligned,
// i.e. when both runs met every operation in the same state).
let yieldedRun = null
const yieldedAt = (program, k) => (yieldedRun === null ? true : yieldedRun.yielded.includes(k))

/**
 * Whether the writer's or reader's operation at `k` happened: a writer (abort, close) or a reader
 * (cancel) was there to make it (the state it met, engine.js stateKey); the others, yes.
 */
function happened (program, k) {
  if (yieldedRun === null) return true
  const op = program.ops[k].op
  if (op === 'abort' && program.producer.mode === 'writer') return /writer=true/.test(yieldedRun.pre[k])
  if (op === 'close' && program.producer.mode === 'writer') return /writer=true/.test(yieldedRun.pre[k])
  if (op === 'cancel') return /reader=true/.test(yieldedRun.pre[k])
  return true
}

/**
 * The outcome (`rej:` and its reason) of the writer's abort() in whose tick the operation at `i`
 * came (see ALLOWANCE same-tick abort); null if none.
 */
function abortTickOf (program, i) {
  const p = program.producer
  if (p.mode !== 'writer') {
    // The producer's pipe aborts the face's writable side with its signal's reason, promise
    // jobs after the signal (seed 723).
    if (!p.signal || p.preventAbort) return null
    // (With the first signal's reason: a signal aborts once.)
    const first = program.ops.find((op) => op.op === 'signal')
    return tickOf(program, i, ['signal'], true) === null ? null : `rej:${first.reason ? 'S' : 'AbortError:20'}`
  }
  // (Microtask waits too: the reference errors its readable side only once the write in
  // flight has settled and its transformer's cancel after it, promise jobs later: seed 628.)
  // (The first abort's reason, not that of the one nearest: a stream is aborted once, and a
  // second abort() in the tick returns the first one's promise. Seeds 5044 of BoundedBufferStream,
  // 31058 of NdjsonParseStream: abort(R), abort(), read.)
  if (tickOf(program, i, ['abort'], true) === null) return null
  const first = program.ops.find((op, k) => op.op === 'abort' && happened(program, k))
  return `rej:${first.reason ? 'R' : 'undefined'}`
}

/**
 * Whether the writer met the stream in the tick of the reader's cancel(): a write, close(),
 * getWriter() or the settle phase's close() right after it (ALLOWANCE same-tick cancel).
 */
function writerInCancelTick (program) {
  if (program.producer.mode !== 'writer') return false
  const uses = (op) => ['write', 'invalidWrite', 'close', 'getWriter', 'releaseWriter'].includes(op.op)
  // The signal of a consumer's pipe cancels the face's readable side a few promise jobs later
  // (after the pipe's write in flight): operations after it with only microtask waits between
  // meet the same difference (seed 780).
  const c = program.consumer
  const signalCancels = c !== null && c.mode === 'pipeTo' && c.signal && !c.preventCancel
  const inTick = (k) => tickOf(program, k, ['cancel']) !== null || (signalCancels && tickOf(program, k, ['signal'], true) !== null)
  return program.ops.some((op, k) => uses(op) && inTick(k)) || inTick(program.ops.length)
}

/**
 * Whether the writer that the writer promise `id` belongs to (`wready<N>`, `wclosed<N>`: of the
 * N-th writer taken) was released on `rec`'s side: more of the program's releaseLock()s found a
 * writer there than N.
 */
function writerReleased (program, rec, id) {
  const n = Number(id.replace(/^w(ready|closed)/, ''))
  return program.ops.filter((op, k) => op.op === 'releaseWriter' && /writer=true/.test(rec.pre[k])).length > n
}

/**
 * Whether a write the writer made before the abort() in whose tick the operation at `i` came was
 * held by the face then: rejected there with that abort's reason `outcome`.
 */
function writeHeldAtAbort (program, s, i, outcome) {
  const abort = tickOf(program, i, ['abort'], true)
  if (program.producer.mode !== 'writer' || abort === null) return false
  const at = program.ops.indexOf(abort)
  return program.ops.some((op, k) => k < at && op.op === 'write' && s.outcomes.get(`write${op.id}`) === outcome)
}

/** Whether a reader's cancel() that happened came after the operation at `i`, in its tick. */
function cancelLaterInTick (program, i) {
  if (program.ops[i].awaited && yieldedAt(program, i)) return false
  for (let k = i + 1; k < program.ops.length; k++) {
    const op = program.ops[k]
    if (op.op === 'cancel' && happened(program, k)) return true
    if (op.op === 'wait' || (op.awaited && yieldedAt(program, k))) return false
  }
  return false
}

/** Whether the operation at `i` came in the tick of an operation of `kind` at some k for which `test(k)` holds. */
function happenedInTick (program, i, kind, test) {
  const op = tickOf(program, i, [kind], true)
  return op !== null && test(program.ops.indexOf(op))
}

/**
 * Whether a reader's releaseLock() after the operation at `i` came in the tick of an abort() whose
 * outcome is `outcome`; or, with a producer's pipe without preventAbort, in the tick (microtask
 * waits included) of its source's error, `outcome` that error (E): the pipe aborts the face's
 * writable side with it promise jobs later, and the face errors its readable side inside that
 * abort, a TransformStream only once its transformer's cancel has settled (ALLOWANCE same-tick
 * abort), so the release rejects the reader's `closed` and waiting read with its TypeError on the
 * reference only. A TransformStream whose transformer's cancel() errors its controller at once
 * does what the face does: `node __test__/web-contract-fuzz/evidence.js source-error-release`.
 * Only the source's error (E) on the face. Seed 119920 of NdjsonStringifyStream: pipeThrough, the
 * source's error, three microtasks, releaseLock().
 */
function releasedInAbortTick (program, i, outcome) {
  const p = program.producer
  const sourceErrorTick = (k) => p.mode !== 'writer' && !p.preventAbort && outcome === 'rej:E' && tickOf(program, k, ['abort'], true) !== null
  return program.ops.some((op, k) => k > i && op.op === 'releaseReader' && (abortTickOf(program, k) === outcome || sourceErrorTick(k)))
}

/**
 * Compares the sluice run `s` with the reference run `c` of `program`. Returns { problems,
 * aligned }: aligned when every operation met the same state on both sides (else the runs took
 * different, legal paths because of timing, and only the invariants are checked).
 */
function compare (desc, program, s, c) {
  yieldedRun = s
  try {
    return compareRuns(desc, program, s, c)
  } finally {
    yieldedRun = null
  }
}

/**
 * NdjsonParseStream's failure on an invalid line errors its readable side only after the values
 * before that line were read (README, "Cancellation and errors"): where the face's consumer (a
 * reader, or a `for await`) met that error, it got every value before the line (the model's
 * output of the input written; the first invalid line of what the face took is the first of
 * it). A TransformStream may throw them away (controller.error() empties its readable queue), so
 * this is the face's own promise, not compared with the reference. Not under tee() (an errored
 * source errors both branches, which throws away what they held) nor a pipe (its destination's
 * abort throws away the writes still queued).
 */
function valuesBeforeFailure (desc, program, rec) {
  const c = program.consumer
  if (desc.name !== 'NdjsonParseStream' || c === null) return []
  const { output, error } = desc.model(rec.issued.map((w) => w.input))
  if (!error) return []
  const met = c.mode === 'reader' ? rec.end.r === `errored:NdjsonError:${error}` : c.mode === 'iter' && rec.outcomes.get('iter') === `rej:NdjsonError:${error}`
  const got = joined(true, rec.delivered.main)
  if (!met || isDeepStrictEqual(got, output)) return []
  return [`main: failed with ${error} after ${got.length} values, where the input written has ${output.length} before its invalid line`]
}

function compareRuns (desc, program, s, c) {
  const problems = []
  for (const p of invariants(desc, program, s)) problems.push('sluice: ' + p)
  for (const p of valuesBeforeFailure(desc, program, s)) problems.push('sluice: ' + p)
  for (const p of invariants(desc, program, c)) problems.push('reference (fuzz bug?): ' + p)
  const eq = equality(problems, 'reference')
  eq('synchronous throws', s.throws, c.throws)

  let aligned = s.pre.length === c.pre.length && s.settlePre === c.settlePre
  for (let i = 0; aligned && i < s.pre.length; i++) aligned = s.pre[i] === c.pre[i]
  if (!aligned) return { problems, aligned }

  const T = teardownReasons(desc, program, s)
  const answers = (o) => typeof o === 'string' && (o === 'ok' || o === 'pending' || o === 'value' || o === 'done' || (o.startsWith('rej:') && T.has(o.slice(4))))
  const opIndex = (id) => Number((/@([0-9]+)$/.exec(id) || [])[1] ?? -1)
  const writeIndex = (id) => program.ops.findIndex((op) => op.op === 'write' && `write${op.id}` === id)
  // (ALLOWANCE timing, below: with a producer's pipe an unsizable chunk enqueued in its source
  // errors nothing at once: the pipe writes it jobs later, as the signal's abort acts. Where the
  // strategy's error shows nowhere on either side (no outcome, no end state), the pipe never
  // wrote it (the signal's shutdown came first): no teardown at that chunk. Seed 195504 of
  // NdjsonParseStream: a producer's pipeTo with a signal, a tee consumer; a chunk of four lines
  // and two strings enqueued, reads, the signal in the tick of the third read: the face's
  // values come a turn after its component took the chunk (README, "Web Streams"), so the
  // pipe's abort, right after that write completed, errored its readable side with two values
  // still to come (the third read rejected with S); the reference's transform had enqueued all
  // four (the read got a value). A TransformStream that takes the chunk at once and enqueues its
  // values a turn later does what the face does: `node __test__/web-contract-fuzz/evidence.js
  // signal-later-output`.)
  const strategyMet = (rec) => [...rec.outcomes.values(), rec.end.w, rec.end.r].some((o) => typeof o === 'string' &&
    (o.endsWith(':RangeError:ERR_INVALID_ARG_VALUE') || o.endsWith(':TypeError')))
  const strategyUnmet = program.producer.mode !== 'writer' && strategyErrors(program) && !strategyMet(s) && !strategyMet(c)
  const cut = strategyUnmet ? program.ops.length : firstTeardown(desc, program)
  const con0 = program.consumer
  const failing = desc.model(s.issued.map((w) => w.input)).error
  const ids = new Set([...s.outcomes.keys(), ...c.outcomes.keys()])
  const tornDown = failing || program.config.failAt >= 0 || program.ops.some((op) => ['abort', 'cancel', 'signal', 'invalidWrite'].includes(op.op))
  // ALLOWANCE node-assertion: a write after close() while the close is in flight is refused by
  // Node 20's WritableStream with ERR_INTERNAL_ASSERTION (a plain TransformStream too:
  // `await w.write(1); w.close(); await w.write(2)` with a reader that does not read), or with
  // ERR_INVALID_STATE once the close has completed: which one depends on how long the close takes.
  const norm = (o) => (o === 'rej:Error:ERR_INTERNAL_ASSERTION' ? 'rej:TypeError:ERR_INVALID_STATE' : o)
  const cancelTick = writerInCancelTick(program)
  // A writer's abort() after its close(): the close may still be in flight then.
  const abortDuringClose = program.producer.mode === 'writer' &&
    program.ops.some((op, k) => op.op === 'abort' && program.ops.slice(0, k).some((o) => o.op === 'close'))
  const cancelsReadable = program.ops.some((op) => op.op === 'cancel' || op.op === 'signal') ||
    (program.consumer !== null && program.consumer.mode === 'iter' && program.consumer.breakAt !== null)
  const cancelReasons = new Set(program.ops.filter((op) => op.op === 'cancel').map((op) => `rej:${op.reason ? 'C' : 'undefined'}`))
  // ALLOWANCE break-count: a byte face joins or batches chunks (README: NdjsonStringifyStream's
  // values written back to back share a batch), so a `for await` that breaks after N chunks
  // may break on one side only, and the reader's cancel that the break makes errors only that
  // side's writable: there a later write, close() or writer (the settle phase's) meets the
  // cancel (rejected with its reason, undefined, or refused: TypeError ERR_INVALID_STATE;
  // desiredSize null), where the other side's answer as usual. Only on the side that broke.
  // Seed 11124 of NdjsonStringifyStream.
  const broke = (rec) => program.consumer !== null && program.consumer.mode === 'iter' && program.consumer.breakAt !== null &&
    rec.delivered.main.length >= program.consumer.breakAt
  const brokeOnly = desc.bytesOut && broke(s) !== broke(c) ? (broke(s) ? 's' : 'c') : null
  const releasedRead = program.ops.some((op, k) => op.op === 'releaseReader' && program.ops.slice(0, k).some((o) => o.op === 'read'))
  // Whether the face took a write that the reference threw away at the strategy's error
  // (ALLOWANCE strategy-error-taken, below).
  const strategyRej = (o) => o === 'rej:RangeError:ERR_INVALID_ARG_VALUE' || o === 'rej:TypeError'
  const strategyTaken = () => strategyErrors(program) &&
    (program.producer.mode === 'writer'
      ? program.ops.some((op) => op.op === 'write' && s.outcomes.get(`write${op.id}`) === 'ok' && strategyRej(c.outcomes.get(`write${op.id}`)))
      // (A producer's pipe: its writes have no promise of the program's; the face's reads got
      // more values than the reference's. Seed 1416 unminimised.)
      : s.delivered.main.length > c.delivered.main.length)
  // A teardown the writer or reader made (an invalid chunk only with a writer there: one written
  // after a releaseLock() does nothing), or the signal (used before the loop; `tearsDown`
  // below is the same without the signal).
  const teardownMade = (k) => {
    const op = program.ops[k].op
    if (op === 'invalidWrite') return program.producer.mode !== 'writer' || /writer=true/.test(s.pre[k])
    // (The signal only where it reaches the face: a producer's pipe without preventAbort, a
    // consumer's without preventCancel. Seed 24146 of NdjsonParseStream.)
    // (Nor a consumer's signal that no pipe uses: a `for await` or a reader takes none, seed
    // 74335 of NdjsonStringifyStream.)
    if (op === 'signal') return (program.producer.signal && !program.producer.preventAbort) || (con0 !== null && con0.mode === 'pipeTo' && con0.signal && !con0.preventCancel)
    return ['abort', 'cancel'].includes(op) && happened(program, k)
  }
  const signalOp = program.ops.findIndex((op) => op.op === 'signal')
  const signalReason = signalOp >= 0 ? `rej:${program.ops[signalOp].reason ? 'S' : 'AbortError:20'}` : null
  // ALLOWANCE signal-cancel-later: the signal of the consumer's pipe (without preventCancel) is
  // the run's only teardown; the pipe cancels its source, the face's readable side, only once its
  // writes in flight to the destination have settled (the standard's pipeTo shutdown), and the
  // face's output comes a turn after the write (README, "Web Streams"; its writable side also
  // starts two microtasks sooner, ALLOWANCE start-timing, so its pipe may have a chunk where the
  // reference's has none), so its pipe was still writing to a slow destination and cancelled
  // later. A writer taken in between (the settle phase's, after a releaseLock()) sees the face's
  // writable side open (a number) where the reference's had errored with the signal's reason X
  // (null), and its close() is taken there: it completes (the face closed before the cancel
  // came) or is rejected with X, where the reference's is refused (TypeError ERR_INVALID_STATE).
  // An identity TransformStream does either, as its pipe is behind or not: `node
  // __test__/web-contract-fuzz/evidence.js signal-cancel-later`. Only those pairs, only where both
  // pipes were rejected with X, the reference's writable side ended errored with X and the
  // face's closed (then both consumers got the same data) or errored with X. Seeds 23130 of
  // ThrottleStream and MeterStream (bytes; a slow destination), 24444 (objects; the chunk in the
  // face's pipe only).
  // (Or the face's writable side closed where the consumers' data differ: the reference's
  // writable side errored before it took writes (rejected with X, its writable side not yet
  // started: ALLOWANCE start-timing) that the face took; its consumer's pipe delivered the chunk
  // its pending read got (still written at the shutdown: the standard's pipeTo) and its cancel
  // after that write threw away the rest the face held. Then only where every write the face
  // took and the reference did not was rejected there with X, and the reference's consumer got a
  // prefix of what the face's got, which got a prefix of the output of the writes the face took.
  // A WritableStream joined to a ReadableStream (standard streams, started two microtasks before
  // a TransformStream's) does what the face does: `node __test__/web-contract-fuzz/evidence.js
  // signal-at-start`. Seed 89381 of BoundedBufferStream (block, bytes): the signal (no reason)
  // right after the start, writes of 200 and 68814 bytes, releaseLock(), a turn; the settle
  // phase's writer and close(); the face's consumer got the 200 bytes.)
  const prefixOf = (x, y) => (desc.bytesOut ? y.subarray(0, x.length).equals(x) : x.every((v, i) => isDeepStrictEqual(v, y[i]))) && x.length <= y.length
  const tookRefRefused = () => prefixOf(joined(!desc.bytesOut, c.delivered.main), joined(!desc.bytesOut, s.delivered.main)) &&
    prefixOf(joined(!desc.bytesOut, s.delivered.main), desc.model(accepted(program, s)).output) &&
    program.ops.every((op) => op.op !== 'write' || s.outcomes.get(`write${op.id}`) !== 'ok' || ['ok', signalReason].includes(c.outcomes.get(`write${op.id}`)))
  // (Or with the writer's abort() after the signal, made while the face's pipe was still
  // writing to the slow destination (its cancel to come): a writer taken before that abort sees
  // the face's writable side open (a number) where the reference's had errored with X (null).
  // The face's writable side ended errored with X (the cancel came before the abort) or with
  // the abort's reason (the abort came first, and resolved on both sides: on the reference it met
  // the side errored with X). Then only with a slow destination, only where the face's consumer
  // got a chunk (the write its pipe was still waiting for at its shutdown), the reference's got a
  // prefix of it, and every write the face took and the reference did not was rejected there
  // with X (tookRefRefused); no teardown but the signal and the writer's abort()s after it. A
  // WritableStream joined to a ReadableStream (standard streams, started two microtasks before a
  // TransformStream's) does what the face does: `node __test__/web-contract-fuzz/evidence.js
  // signal-cancel-later-abort`. Seed 145170 of NdjsonStringifyStream: a readable strategy of 0
  // bytes; a write, releaseLock(), the signal (S), a turn, getWriter() (desiredSize 1 against
  // null), abort().)
  const laterAbortAt = signalOp < 0 ? -1 : program.ops.findIndex((op, k) => k > signalOp && op.op === 'abort' && teardownMade(k))
  const onlyLaterAborts = laterAbortAt >= 0 && con0 !== null && con0.slow &&
    program.ops.every((op, k) => op.op === 'signal' || !teardownMade(k) || (op.op === 'abort' && k > signalOp))
  const abortedBeforeCancel = onlyLaterAborts && joined(!desc.bytesOut, s.delivered.main).length > 0 && tookRefRefused() &&
    (s.end.w === c.end.w || (s.end.w === `errored:${program.ops[laterAbortAt].reason ? 'R' : 'undefined'}` &&
      s.outcomes.get(`abort@${laterAbortAt}`) === 'ok' && c.outcomes.get(`abort@${laterAbortAt}`) === 'ok'))
  const signalCancelLater = desc.kind === 'transform' && program.producer.mode === 'writer' && con0 !== null && con0.mode === 'pipeTo' &&
    con0.signal && !con0.preventCancel && signalOp >= 0 && (onlyLaterAborts || !program.ops.some((op, k) => op.op !== 'signal' && teardownMade(k))) &&
    !failing && !strategyErrors(program) && s.outcomes.get('pipe-out') === signalReason && c.outcomes.get('pipe-out') === signalReason &&
    c.end.w === 'errored:' + signalReason.slice(4) &&
    (onlyLaterAborts
      ? abortedBeforeCancel
      : (s.end.w === 'closed' && (sameDelivered(desc, s, c) || tookRefRefused())) || s.end.w === c.end.w)
  // ALLOWANCE invalid-chunk-sooner (the reference never took it): a chunk that is no bytes
  // errors the face's both sides inside the write() that reaches its component (README,
  // "Cancellation and errors"), which takes chunks sooner than the reference's transform runs
  // (its writable side starts two microtasks later, ALLOWANCE start-timing, and holds a chunk
  // behind its readable side's backpressure where the face's component has taken it: README,
  // "Backpressure"). The reference's chunk then never reached its transform: a later abort()
  // errored its stream with its reason (the chunk's write rejected with it), or nothing ever
  // reads (its write waits for good, its writable side never ends). So a writer taken after the
  // chunk sees null on the face and a number on the reference; a close() or write after it is
  // refused (TypeError ERR_INVALID_STATE) or rejected with the chunk's error on the face, where
  // the reference's waits or is rejected with the abort's reason; a read or the reader's
  // `closed` meets the chunk's error on the face, where the reference's reader still reads the
  // output queued before it (a TransformStream whose transform had taken that chunk throws that
  // output away too: controller.error() empties the readable queue), or meets the abort's
  // reason, or waits. Only where the face's invalid write was rejected with the chunk's error E
  // and its writable side ended errored with E, and the reference's write of that chunk was
  // rejected with the reason of an abort() the writer made after it, its writable side ended
  // errored with that reason; or that write is still waiting and its writable side never ended.
  // Seeds 26744 of ThrottleStream and MeterStream (bytes), 24146 of NdjsonParseStream (nothing
  // reads), 25013 of NdjsonParseStream (a later abort), 27814 of ThrottleStream and MeterStream
  // (bytes: write(null) right after the start, a microtask, abort(R), a write).
  const chunkAt = program.ops.findIndex((op, k) => op.op === 'invalidWrite' && teardownMade(k))
  const chunkErr = chunkAt >= 0 ? s.outcomes.get(`invalidWrite@${chunkAt}`) : undefined
  const laterAbort = chunkAt < 0 ? undefined : program.ops.find((op, k) => k > chunkAt && op.op === 'abort' && happened(program, k))
  // (A writable side's end is its writer's `closed`: a writer released after the chunk, its
  // `closed` rejected by the release on that side, saw no end (null), which then stands for
  // either. Seed 59895 of NdjsonParseStream: write(null), abort(R), a microtask, releaseLock(),
  // a read that gets a value on the reference, the chunk's error on the face.)
  const releasedAfterChunk = (rec) => rec.end.w === null && rec.outcomes.get(`wclosed${[...rec.outcomes.keys()].filter((k) => k.startsWith('wclosed')).length - 1}`) === 'rej:TypeError:ERR_INVALID_STATE' &&
    program.ops.some((op, k) => k > chunkAt && op.op === 'releaseWriter' && /writer=true/.test(rec.pre[k]))
  const endedW = (rec, w) => rec.end.w === w || releasedAfterChunk(rec)
  // (With the later abort, a signal before the chunk is no teardown before it: with a writer
  // producing, the signal is the consumer's pipe's, which cancels the face's readable side only
  // once its shutdown has waited for its writes in flight, promise jobs after the signal, and
  // only if that side is still readable then (Node's pipeTo), so the chunk in the signal's tick
  // reaches the face's component first. The outcomes asked for show that the cancel came first
  // on neither side: the chunk's write was rejected with its own error on the face and with the
  // abort's reason on the reference (after the cancel, with the signal's reason), and the
  // writable sides ended errored with those.
  // A TransformStream that refuses the chunk, with room on its readable side, rejects the chunk,
  // the abort and the write after it with the chunk's error once it has started, as the face
  // does, and with the abort's reason right after its construction, as the reference does:
  // `node __test__/web-contract-fuzz/evidence.js signal-then-invalid`. Seed 116140 of
  // BoundedBufferStream (block, bytes): the consumer's pipe with a signal; the signal,
  // write(null), a microtask, abort(R), a write.)
  const teardownBeforeChunk = (signals) => program.ops.slice(0, chunkAt).some((op, k) => teardownMade(k) && (signals || op.op !== 'signal'))
  const refNeverTook = chunkAt >= 0 && program.producer.mode === 'writer' && desc.kind === 'transform' &&
    /^rej:TypeError:ERR_(INVALID_ARG_TYPE|STREAM_NULL_VALUES)$/.test(chunkErr || '') && endedW(s, 'errored:' + chunkErr.slice(4)) && (
    (laterAbort !== undefined && !teardownBeforeChunk(false) && c.outcomes.get(`invalidWrite@${chunkAt}`) === `rej:${laterAbort.reason ? 'R' : 'undefined'}` &&
      endedW(c, `errored:${laterAbort.reason ? 'R' : 'undefined'}`)) ||
    (!teardownBeforeChunk(true) && c.outcomes.get(`invalidWrite@${chunkAt}`) === 'pending' && c.end.w === null))
  const refChunkOutcome = chunkAt >= 0 ? c.outcomes.get(`invalidWrite@${chunkAt}`) : undefined
  // (ALLOWANCE same-tick cancel (an abort in its tick), below: the writer's first abort() that
  // happened, in the tick of a reader's cancel() that happened, the program's first teardown.)
  const cancelAbort = (() => {
    if (program.producer.mode !== 'writer') return null
    const at = program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k))
    const cancel = at < 0 ? null : tickOf(program, at, ['cancel'])
    if (cancel === null) return null
    const ck = program.ops.indexOf(cancel)
    if (program.ops.slice(0, ck).some((op, k) => teardownMade(k)) || strategyErrors(program) || failing) return null
    return { at, c: `rej:${cancel.reason ? 'C' : 'undefined'}`, x: `rej:${program.ops[at].reason ? 'R' : 'undefined'}` }
  })()
  for (const id of ids) {
    const a = norm(s.outcomes.get(id))
    const b = norm(c.outcomes.get(id))
    if (a === b) continue
    // ALLOWANCE output-before-error: a face that fails (an invalid line) still delivers the
    // values made before the failure (README, "Cancellation and errors"), where the reference's
    // controller.error() throws away what its readable queue held: reads there get the error
    // (and need fewer reads to get it). The data is checked against the model.
    if (failing && /^(read|drain)/.test(id) && answers(a) && (b === undefined || b.startsWith('rej:'))) continue
    if (a === undefined || b === undefined) {
      // ALLOWANCE drain-count: the settle phase reads until the end; a byte face may join chunks
      // (README: "Their byte forms may join the chunks their Node stream buffered into one") and
      // the stringifier batches lines, so the number of reads differs; the data is compared.
      if (id.startsWith('drain') && desc.bytesOut) continue
      // ALLOWANCE drain-count (teardown): before a teardown one side may have let more chunks
      // through than the other (the face's own buffer takes a chunk where the reference's
      // writable pushes back, so a pipe reads one more from its source before the source errors:
      // an identity TransformStream with one more slot does the same, branch wip/web-contract-fuzz wip-notes/README.md seed
      // 59), and needs that many more reads to reach the teardown's reason. The data is checked
      // against the model.
      // (Or that one more read waits: the teardown does not reach the readable side, a pipe
      // with preventAbort whose source errored, and the side that took the extra chunk reads it
      // and then waits like the other side's last read, seed 249.)
      const defined = a ?? b
      if (id.startsWith('drain') && tornDown && (defined === 'value' || defined === 'pending' || (defined.startsWith('rej:') && T.has(defined.slice(4))))) continue
      // ALLOWANCE drain-count (release): a read that a releaseLock() rejected on one side only
      // (ALLOWANCE later-output, below) leaves its value to the next reader, so the settle phase
      // needs one read more on that side. The data is checked against the model.
      if (id.startsWith('drain') && releasedRead && ['value', 'done'].includes(defined)) continue
      // (Or both sides' last read waits, the readable side open for good: a string under a
      // ByteLengthQueuingStrategy errors only the writable side. The side whose read was released
      // needs one read more to get there: a read of its own still waiting where the other's
      // reads had ended one earlier, waiting too. Seed 10160 of NdjsonParseStream.)
      // (As many reads more as its reads the release rejected where the other side's got a
      // value: two, seed 33588 of NdjsonParseStream (a producer pipe with preventClose: two
      // reads released before the parser's output came, the other side's two got theirs inside
      // the source's enqueue). The other side's last read waits, this side's reads after it got
      // values.)
      const n = Number(id.slice(5))
      const [here, there] = a === undefined ? [c, s] : [s, c]
      const releasedHere = [...here.outcomes].filter(([k, o]) => k.startsWith('read@') && o === 'rej:TypeError:ERR_INVALID_STATE' && there.outcomes.get(k) === 'value').length
      const lastThere = Math.max(...[...there.outcomes.keys()].filter((k) => k.startsWith('drain')).map((k) => Number(k.slice(5))))
      if (id.startsWith('drain') && releasedRead && defined === 'pending' && there.outcomes.get(`drain${lastThere}`) === 'pending' &&
        n - lastThere >= 1 && n - lastThere <= Math.max(1, releasedHere) &&
        Array.from({ length: n - lastThere }, (_, j) => here.outcomes.get(`drain${lastThere + j}`)).every((o) => o === 'value')) continue
      // ALLOWANCE abort-during-close (the end): the reference's close finished, so its settle
      // phase reads to 'done' after the values; the face was torn down, its reads ended with the
      // reason sooner (the values in between: drain-count (teardown) above). Seed 11017 of
      // NdjsonParseStream.
      if (abortDuringClose && desc.kind === 'transform' && id.startsWith('drain') && a === undefined && b === 'done' &&
        [...s.outcomes].some(([k, o]) => k.startsWith('drain') && o.startsWith('rej:') && (T.has(o.slice(4)) || o === 'rej:AbortError:20'))) continue
      // ALLOWANCE ended-before-signal (the end): the source of the producer's pipe ended, then
      // the signal came: the face's own buffer (README, "Backpressure": a Node stage's buffer,
      // here BoundedBufferStream's capacity) had taken every chunk, so its pipe had finished and
      // closed the writable side, the signal found nothing to abort and the settle phase reads
      // every value and then the end; the reference's writable side still held a chunk behind
      // its readable highWaterMark, its pipe was aborted and its readable side errored with the
      // signal's reason, one read sooner (a TransformStream with a readable highWaterMark that
      // holds every chunk ends as the face does: `node __test__/web-contract-fuzz/evidence.js
      // ended-before-signal`). Only the face's extra read, 'done', against
      // none, only with no other teardown before the signal, and only where the reference's
      // reads ended with the signal's reason. The data is checked against the model (the end
      // seen: every value). Seed 11250 of BoundedBufferStream (block, objects).
      const sigAt = program.ops.findIndex((op) => op.op === 'signal')
      const sigReason = sigAt >= 0 && program.ops[sigAt].reason ? 'rej:S' : 'rej:AbortError:20'
      // (With preventAbort the signal leaves the reference's writable side open: its pipe cancels
      // its source with the signal's reason, throwing away the chunks the source still queued, and
      // lets go; nothing closes the writable side, so the reference's last read waits for good
      // where the face's got the end. Then only where the reference's source was cancelled with
      // that reason, its readable side never ended and its last read waits. A TransformStream with
      // room for every chunk ends as the face does: `node __test__/web-contract-fuzz/evidence.js
      // ended-before-signal`. Seed 88895 of ThrottleStream and MeterStream (objects): a
      // pipeThrough with preventAbort, five values (four awaited), the source's close(), a read,
      // the signal.)
      const drains = [...c.outcomes].filter(([k]) => k.startsWith('drain'))
      const refEnd = program.producer.preventAbort
        ? c.log.includes('source-cancel:' + sigReason.slice(4)) && c.end.r === null && drains.length > 0 && drains[drains.length - 1][1] === 'pending'
        : drains.some(([, o]) => o === sigReason)
      if (id.startsWith('drain') && a === 'done' && b === undefined && program.producer.mode !== 'writer' && program.producer.signal && sigAt >= 0 &&
        program.ops.some((op, k) => k < sigAt && op.op === 'close') &&
        // (A reader's cancel() with no reader there does nothing: seed 113343 of NdjsonParseStream,
        // a pipeThrough, two awaited chunks, the source's close(), the reader released, cancel(C).)
        !program.ops.slice(0, sigAt).some((op, k) => ['abort', 'cancel', 'invalidWrite'].includes(op.op) && (op.op !== 'cancel' || happened(program, k))) &&
        !failing && !strategyErrors(program) && refEnd) continue
      // ALLOWANCE strategy-error-taken (the drain, below): the face took a write the
      // reference threw away at the strategy's error, so its settle phase reads those values
      // (and then waits, the readable side open for good) where the reference's reads stopped
      // at its first waiting one. Only the face's extra reads, 'value' or 'pending', only where
      // the face took such a write. The data is checked against the model. Seeds 16089, 14475,
      // 15129 of NdjsonParseStream (the reference's write still queued at the error: its
      // transform waits for a read, a readable strategy of highWaterMark 0 or 1, or its writable
      // side had not started, ALLOWANCE start-timing; the parser's input queue took the chunk).
      if (id.startsWith('drain') && b === undefined && ['value', 'pending'].includes(a) && strategyTaken()) continue
      problems.push(`${id}: sluice ${a}, reference ${b}`)
      continue
    }
    // ALLOWANCE monitored-queue: MonitoredWritableStream's own queue is one chunk (README: its
    // `highWaterMark` option sizes what it buffers before the destination, not the writer's
    // queue), so its writer's desiredSize and ready are not the reference's with the program's
    // strategy; what the writes do is compared.
    if (desc.kind === 'writable' && /^w(desired|ready)/.test(id)) continue
    // ALLOWANCE desired-size: a writer's desiredSize is how much of the writable queue is free at
    // that moment, which depends on where the chunks are (queued, taken by the stage, in the
    // readable queue): a face's component takes a chunk a turn later than a synchronous
    // transform() (README, "Web Streams": "our output arrives later than transform()"), which
    // leaves less free, and holds chunks of its own (README, "Backpressure": a Node stage's
    // buffer, NdjsonStringifyStream's batch), which leaves more. Both directions, each shown by a
    // conforming TransformStream: `node __test__/web-contract-fuzz/evidence.js desired-size`
    // (identity -1, a turn per chunk -2, ThrottleStream 1; seeds 779, 380, 589 and the
    // stringifier's 54, 88, 213, 259). Two numbers only: null (errored) on one side only is not.
    if (desc.kind === 'transform' && id.startsWith('wdesired') && typeof a === 'number' && typeof b === 'number') continue
    // ALLOWANCE parse-error-later (desiredSize): the reference's transform throws on the invalid
    // line inside the write, which errors its writable side at once; the face's parser finds it
    // on the worker, later, and errors the writable side then (README, "Cancellation and
    // errors": a failure that waits for the values before it to be read; the source-race's
    // "the parser's failure comes from the worker"). A writer taken in between sees a number on
    // the face where the reference's is null. Only that way round, only with invalid input.
    // Seed 5414 of NdjsonParseStream (the settle phase's writer, after a releaseLock()).
    if (failing && desc.bytesIn && !desc.bytesOut && id.startsWith('wdesired') && typeof a === 'number' && b === null) continue
    // ALLOWANCE parse-error-later (release): for the same reason a reader released in between
    // (releaseLock() after the invalid line was written) still held an open readable side on the
    // face: its `closed` (and a read still waiting) is rejected by the release (TypeError
    // ERR_INVALID_STATE) where the reference's had been rejected with the parse error. Only that
    // pair, only with invalid input, only for the parser, only where a releaseLock() came after
    // the read. Seed 17698 of NdjsonParseStream: write('0'), write(']\n"'), a microtask,
    // releaseLock().
    if (failing && desc.bytesIn && !desc.bytesOut && /^(rclosed|read@)/.test(id) && a === 'rej:TypeError:ERR_INVALID_STATE' &&
      [`rej:NdjsonError:${failing}`, `rej:Error:${failing}`].includes(b) &&
      program.ops.some((op, k) => op.op === 'releaseReader' && k > (id.startsWith('read@') ? opIndex(id) : -1))) continue
    // (And a writer released in between, its `ready` waiting (backpressure: a writable strategy
    // of highWaterMark 0): rejected by the release (TypeError ERR_INVALID_STATE) on the face,
    // with the parse error on the reference, whose transform had thrown. A TransformStream whose
    // transform parses a turn later does what the face does: `node
    // __test__/web-contract-fuzz/evidence.js parse-error-later-release`. Only that pair, only for
    // the `ready` of a writer the program released. Seeds 153090, 156056, 157827, 161236 of
    // NdjsonParseStream: a writable strategy of highWaterMark 0, an invalid line written, a
    // microtask, releaseLock().)
    if (failing && desc.bytesIn && !desc.bytesOut && id.startsWith('wready') && a === 'rej:TypeError:ERR_INVALID_STATE' &&
      [`rej:NdjsonError:${failing}`, `rej:Error:${failing}`].includes(b) &&
      writerReleased(program, s, id)) continue
    // ALLOWANCE invalid-chunk-sooner (desiredSize): a chunk that is no bytes errors a face's
    // writable side as the write reaches its component, which takes chunks sooner than the
    // reference's transform runs (its writable starts two microtasks later, ALLOWANCE
    // start-timing, and holds chunks behind backpressure where the face's component has taken
    // them: README, "Backpressure"). A writer taken in between sees null on the face and a number
    // on the reference. Only that way round, only where both writable sides ended errored with the
    // same error, the invalid chunk's. Seeds 40045 of ThrottleStream and MeterStream, 169 of
    // NdjsonParseStream (which passed before only because a cancel() made with no reader counted).
    const invalidError = (rec) => /^errored:TypeError:ERR_(INVALID_ARG_TYPE|STREAM_NULL_VALUES)$/.test(rec.end.w || '')
    if (id.startsWith('wdesired') && a === null && typeof b === 'number' && program.ops.some((op) => op.op === 'invalidWrite') &&
      invalidError(s) && s.end.w === c.end.w) continue
    // ALLOWANCE invalid-chunk-later (desiredSize): the other way round, the writes before the
    // chunk still in the face's hands: its component takes a chunk a turn after a synchronous
    // transform() would (README, "Web Streams": "our output arrives later than transform()"),
    // one write at a time, so the write before the chunk is still in flight and the chunk queued
    // behind it when the reference's transform has already refused the chunk. A writer taken in
    // between sees a number on the face and null on the reference; a TransformStream whose
    // transform takes a turn does what the face does: `node __test__/web-contract-fuzz/evidence.js
    // invalid-chunk-later`. Only that way round, only where the first teardown the program made
    // is the invalid chunk, the face's write of it was rejected with its error and both writable
    // sides ended errored with that error. Seed 70064 of BoundedBufferStream (block, bytes): an
    // awaited write, a write, write(42), a microtask, releaseLock(), a microtask, getWriter().
    if (id.startsWith('wdesired') && typeof a === 'number' && b === null && chunkAt >= 0 && invalidError(s) && s.end.w === c.end.w &&
      chunkErr === 'rej:' + s.end.w.slice('errored:'.length) && !program.ops.slice(0, chunkAt).some((op, k) => teardownMade(k))) continue
    // ALLOWANCE break-later: a `for await` that broke after breakAt chunks on both sides breaks
    // later on the face, whose output arrives a turn after the write (README, "Web Streams": "our
    // output arrives later than transform()"), and so does the reader's cancel the break makes,
    // which errors the writable side with undefined. A writer taken in between (the settle
    // phase's, after a releaseLock()) sees the face's writable side still open (a number; its
    // close() taken, then rejected with the cancel's undefined) where the reference's had errored
    // (null; close() refused, TypeError ERR_INVALID_STATE). Only that way round, only with no
    // other teardown in the program, and only where both writable sides ended errored with
    // undefined. Seed 11530 of BoundedBufferStream (block, bytes).
    const brokeLater = program.consumer !== null && program.consumer.mode === 'iter' && broke(s) && broke(c) && !failing && !strategyErrors(program) &&
      // (An abort() made with no writer is none: seed 11530 unminimised.)
      // (Nor an invalid chunk written with no writer: seed 26976 of BoundedBufferStream (block,
      // bytes), after a releaseLock().)
      !program.ops.some((op, k) => ['abort', 'cancel', 'signal', 'invalidWrite'].includes(op.op) && teardownMade(k)) &&
      s.end.w === 'errored:undefined' && c.end.w === 'errored:undefined'
    if (brokeLater && id.startsWith('wdesired') && typeof a === 'number' && b === null) continue
    if (brokeLater && /^(write|close@|settle-close)/.test(id) && a === 'rej:undefined' && b === 'rej:TypeError:ERR_INVALID_STATE') continue
    // (Or the other way round, the face's loop broke sooner: its writable side starts two
    // microtasks before a TransformStream's (ALLOWANCE start-timing), so its first chunk reached
    // the loop sooner, and a close() a few microtasks after the write met a writable side the
    // break's cancel had errored (refused: TypeError ERR_INVALID_STATE), where the reference's
    // close() was taken and then rejected with the cancel's undefined. An identity
    // TransformStream does either, as close() comes fewer or more microtasks after the write:
    // `node __test__/web-contract-fuzz/evidence.js break-before-close`. Only a close() there,
    // only where both consumers got the same data. Seed 60626 of NdjsonStringifyStream: breakAt
    // 1, a microtask, a write, three microtasks, two writes, close().)
    if (brokeLater && /^(close@|settle-close)/.test(id) && a === 'rej:TypeError:ERR_INVALID_STATE' && b === 'rej:undefined' && sameDelivered(desc, s, c)) continue
    // (And for the same reason a writer released a few microtasks after a write, and a writer
    // taken after it: the face's loop had broken before the release, so the released writer's
    // `closed` was rejected with the cancel's undefined and the next writer saw null, where the
    // reference's release came first (TypeError ERR_INVALID_STATE) and its next writer saw a
    // number. The identity TransformStream does what the face does with more microtasks before
    // the release: `node __test__/web-contract-fuzz/evidence.js break-before-release`. Only those
    // pairs, only a writer the program released, only where both consumers got the same data;
    // as brokeLater, but a teardown the program made after both writable sides had errored
    // (the state it met) is none. Seed 74335 of NdjsonStringifyStream: breakAt 2, an awaited
    // write, two writes, a microtask, releaseLock(), getWriter() (abort(R) later).)
    const brokeSooner = program.consumer !== null && program.consumer.mode === 'iter' && broke(s) && broke(c) && !failing && !strategyErrors(program) &&
      !program.ops.some((op, k) => ['abort', 'cancel', 'signal', 'invalidWrite'].includes(op.op) && teardownMade(k) && !/w=errored/.test(s.pre[k])) &&
      s.end.w === 'errored:undefined' && c.end.w === 'errored:undefined'
    if (brokeSooner && sameDelivered(desc, s, c) && ((id.startsWith('wdesired') && a === null && typeof b === 'number') ||
      (id.startsWith('wclosed') && a === 'rej:undefined' && b === 'rej:TypeError:ERR_INVALID_STATE' &&
        writerReleased(program, s, id)))) continue
    // (Or the face's loop broke only after its close() had completed: a byte face batches the
    // lines written back to back (README: NdjsonStringifyStream), so its loop had fewer chunks
    // when the writer was taken again and the settle phase's close() came: that writer saw an
    // open writable side (a number) and its close() completed (the stringifier had nothing left
    // to flush), and the loop's cancel after it left the closed writable side alone, where the
    // reference's loop had broken and its cancel errored the writable side with undefined
    // (null; close() refused, TypeError ERR_INVALID_STATE). A TransformStream that joins the
    // lines written back to back does what the face does: `node
    // __test__/web-contract-fuzz/evidence.js break-after-close`. Only those pairs, only with no
    // teardown in the program, the reference's writable side errored with undefined, the face's
    // closed and its loop with the whole output of everything written (the data nothing lost).
    // Seed 59738 of NdjsonStringifyStream: breakAt 3, two awaited writes, a write, releaseLock(),
    // a turn, getWriter(), a write.)
    const brokeAfterClose = program.consumer !== null && program.consumer.mode === 'iter' && broke(c) && !failing && !strategyErrors(program) &&
      !program.ops.some((op, k) => ['abort', 'cancel', 'signal', 'invalidWrite'].includes(op.op) && teardownMade(k)) &&
      c.end.w === 'errored:undefined' && s.end.w === 'closed' &&
      isDeepStrictEqual(joined(!desc.bytesOut, s.delivered.main), desc.model(s.issued.map((w) => w.input)).output)
    if (brokeAfterClose && id.startsWith('wdesired') && typeof a === 'number' && b === null) continue
    if (brokeAfterClose && /^(close@|settle-close)/.test(id) && a === 'ok' && b === 'rej:TypeError:ERR_INVALID_STATE') continue
    // (And a writer released in between, the other way round: its `closed` was rejected by the
    // release (TypeError ERR_INVALID_STATE) on the face, whose loop had not broken yet, where the
    // reference's had been rejected with the cancel's undefined. Only a writer the program
    // released. Seed 36068 of BoundedBufferStream (block, objects): breakAt 4, the 4th write, two
    // microtasks, releaseLock().)
    if (brokeLater && id.startsWith('wclosed') && a === 'rej:TypeError:ERR_INVALID_STATE' && b === 'rej:undefined' &&
      writerReleased(program, s, id)) continue
    if (brokeOnly !== null && id.startsWith('wdesired')) {
      const [x, y] = brokeOnly === 's' ? [a, b] : [b, a]
      if (x === null && typeof y === 'number') continue
    }
    // ALLOWANCE abort-during-close (desiredSize): a writer taken after writer.abort() came while
    // close() was in flight (ALLOWANCE abort-during-close, below: the face is torn down at once,
    // a TransformStream lets the close finish) sees the face's writable side errored (null) where
    // the reference's had closed (0). Only that pair, only where the face's close() before that
    // abort was rejected, and its writable side ended errored, with that abort's reason (the
    // standard's AbortError for none), and the reference's closed. Seed 4121 of
    // NdjsonParseStream: a turn, close(), abort(R), releaseLock(), three turns, getWriter().
    // (With abort() given no reason the two need not be the same one: the face's close in flight
    // is rejected with the abort signal's reason, the standard's AbortError (README), while the
    // WritableStream stores the reason as given, undefined. Seed 37074 of BoundedBufferStream
    // (block, objects): an awaited write, close(), abort(), releaseLock(), three turns,
    // getWriter().)
    if (abortDuringClose && desc.kind === 'transform' && id.startsWith('wdesired') && a === null && b === 0 && c.end.w === 'closed') {
      const at = program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k))
      const closeAt = program.ops.findIndex((op, k) => k < at && op.op === 'close' && happened(program, k))
      const reasons = at < 0 ? [] : program.ops[at].reason ? ['R'] : ['undefined', 'AbortError:20']
      if (closeAt >= 0 && reasons.some((r) => s.end.w === 'errored:' + r) && reasons.some((r) => s.outcomes.get(`close@${closeAt}`) === 'rej:' + r)) continue
    }
    // ALLOWANCE cancel-during-close (desiredSize): the readable side cancelled (the reader's
    // cancel(), or a consumer pipe's signal without preventCancel) after the writer's close():
    // the face stops at once and errors its writable side with the reason, rejecting the close
    // (README, "Cancellation and errors"); a TransformStream whose flush is already running lets
    // it finish (the standard's TransformStreamDefaultSourceCancelAlgorithm returns the flush's
    // finishPromise and errors nothing), so its close resolves and its writable side closes. Had
    // the close still been queued behind a write (the face's component takes chunks later than a
    // transform(): README "Backpressure"), the standard errors the writable side with the reason
    // and rejects the close with it, as the face did; a flush that still enqueues rejects both with
    // a TypeError: `node __test__/web-contract-fuzz/evidence.js cancel-during-close`. The reader
    // cancelled, so the output after it is thrown away either way. So a writer taken afterwards
    // sees null on the face, 0 on the reference. Only that pair, only where the face's close()
    // before that cancellation was rejected, and its writable side ended errored, with its reason
    // (the standard's AbortError for a signal given none), the reference's writable side closed
    // and its consumer saw no end either. Seed 6677 of ThrottleStream and MeterStream (objects):
    // close(), releaseLock(), the consumer pipe's signal(S), a turn, getWriter().
    // (With the writer taken afterwards released too, the face's writable side's end is not seen
    // (null: engine.js records no end through a released writer); a writer's `closed` rejected
    // with that reason, not the release's TypeError, shows it errored with it. Seed 162127 of
    // BoundedBufferStream (block, bytes): an awaited write, close(), releaseLock(), an awaited
    // cancel(), three turns, getWriter(), releaseLock().)
    const erroredWith = (rec, r) => rec.end.w === 'errored:' + r ||
      (rec.end.w === null && [...rec.outcomes].some(([k, o]) => k.startsWith('wclosed') && o === 'rej:' + r))
    if (desc.kind === 'transform' && program.producer.mode === 'writer' && id.startsWith('wdesired') && a === null && b === 0 &&
      c.end.w === 'closed' && !sawEnd(program, c, 'main')) {
      const closeAt = program.ops.findIndex((op, k) => op.op === 'close' && happened(program, k))
      const cons = program.consumer
      const pipeCancels = cons !== null && cons.mode === 'pipeTo' && cons.signal && !cons.preventCancel
      const reasons = program.ops.flatMap((op, k) => (k <= closeAt ? []
        : op.op === 'cancel' && happened(program, k) ? [op.reason ? 'C' : 'undefined']
          : op.op === 'signal' && pipeCancels ? [op.reason ? 'S' : 'AbortError:20'] : []))
      if (closeAt >= 0 && reasons.some((r) => erroredWith(s, r) && s.outcomes.get(`close@${closeAt}`) === 'rej:' + r)) continue
    }
    // ALLOWANCE same-tick cancel (desiredSize): a writer taken in the tick of the reader's cancel()
    // sees the face's writable errored (null): see the same-tick cancel below.
    if (id.startsWith('wdesired') && a === null && typeof b === 'number' && cancelTick) continue
    if (signalCancelLater && id.startsWith('wdesired') && typeof a === 'number' && b === null) continue
    if (refNeverTook && id.startsWith('wdesired') && a === null && typeof b === 'number') continue
    if (typeof a !== 'string' || typeof b !== 'string') {
      problems.push(`${id}: sluice ${a}, reference ${b}`)
      continue
    }
    // (ALLOWANCE signal-cancel-later, above: the settle phase's close().)
    if (signalCancelLater && /^(close@|settle-close)/.test(id) && b === 'rej:TypeError:ERR_INVALID_STATE' &&
      ((a === 'ok' && s.end.w === 'closed') || a === signalReason)) continue
    // (ALLOWANCE invalid-chunk-sooner (the reference never took it), above: a write or close()
    // after the chunk, a read or the reader's `closed`.)
    if (refNeverTook && /^(write|close@|settle-close)/.test(id) && (id === 'settle-close' || (id.startsWith('write') ? writeIndex(id) : opIndex(id)) > chunkAt) &&
      [chunkErr, 'rej:TypeError:ERR_INVALID_STATE'].includes(a) && b === refChunkOutcome) continue
    if (refNeverTook && /^(read@|drain|rclosed)/.test(id) && (!id.startsWith('read@') || opIndex(id) > chunkAt) && a === chunkErr &&
      ['value', refChunkOutcome].includes(b)) continue
    // (Or a write after both the chunk and the writer's later abort(), the reference's chunk
    // still waiting behind its readable side's backpressure: its writable side is "erroring"
    // with the abort's reason, which a write then meets (WritableStreamDefaultWriterWrite), where
    // the face's has errored with the chunk's error. A TransformStream whose readable side has
    // room takes the chunk and rejects the later write as the face does: `node
    // __test__/web-contract-fuzz/evidence.js invalid-then-abort`. Only a write made after that
    // abort(), the chunk's error (or the refusal's TypeError) on the face, the abort's reason on
    // the reference. Seed 59717 of NdjsonParseStream: write(42), abort(R), write({}) in a tick.)
    const abortAt = laterAbort === undefined ? -1 : program.ops.indexOf(laterAbort)
    if (refNeverTook && refChunkOutcome === 'pending' && abortAt >= 0 && /^(write|invalidWrite@)/.test(id) &&
      (id.startsWith('write') ? writeIndex(id) : opIndex(id)) > abortAt &&
      [chunkErr, 'rej:TypeError:ERR_INVALID_STATE'].includes(a) && b === `rej:${laterAbort.reason ? 'R' : 'undefined'}`) continue
    // ALLOWANCE cancel-in-teardown-tick: the reader's cancel() in the tick of a teardown of the
    // writable side (the writer's abort(), or the signal of the producer's pipe, which aborts it a
    // few promise jobs later): the standard's cancel answers only after its transformer's cancel
    // has settled, a promise job later (TransformStreamDefaultSourceCancelAlgorithm), and rejects
    // with the writable side's stored error if that teardown has errored it by then (no write in
    // flight), or resolves (still "erroring" behind a write in flight; or its own reason got
    // there first). The face errors its writable side inside cancel() (ALLOWANCE same-tick
    // cancel), so the pipe's abort that comes after finds it errored already, and the writer's
    // abort() is still "erroring" behind the write the face's component holds: its cancel
    // resolves. The other way round is ALLOWANCE same-tick abort (seed 716). Only 'ok' on the face
    // against that teardown's reason, only where both readable sides ended closed (the cancel
    // closed them: no value after it). `node __test__/web-contract-fuzz/evidence.js
    // cancel-in-teardown-tick`. Seeds 27482 of ThrottleStream and MeterStream (bytes), 26706 of
    // BoundedBufferStream (block, bytes): the signal, a microtask, cancel(C); 30978 of
    // NdjsonParseStream: two writes, a microtask, abort(), cancel(C).
    if (id.startsWith('cancel@') && a === 'ok' && b === abortTickOf(program, opIndex(id)) && s.end.r === 'closed' && c.end.r === 'closed') continue
    // ALLOWANCE close-sooner (release): a writer's releaseLock() a few microtasks after its
    // close(): the face's writable side starts two microtasks before a TransformStream's
    // (ALLOWANCE start-timing), and NdjsonParseStream with nothing to flush has closed by then,
    // so the released writer's `closed` had resolved; the reference's close was still in flight,
    // and the release rejected it (TypeError ERR_INVALID_STATE). Only that pair, only for a
    // release with nothing but microtask waits (and writes, refused after the close) after a
    // close() that resolved on both sides. Seed 28819 of NdjsonParseStream: close(), four
    // microtasks, releaseLock().
    if (id.startsWith('wclosed') && a === 'ok' && b === 'rej:TypeError:ERR_INVALID_STATE' && program.ops.some((op, k) => op.op === 'releaseWriter' &&
      /writer=true/.test(s.pre[k]) && program.ops.some((o, j) => j < k && o.op === 'close' && happened(program, j) && s.outcomes.get(`close@${j}`) === 'ok' &&
        c.outcomes.get(`close@${j}`) === 'ok' && program.ops.slice(j + 1, k).every((x) => (x.op === 'wait' && x.how === 'microtask') || (x.op === 'write' && !x.awaited))))) continue
    // ALLOWANCE queue-shape (release): NdjsonStringifyStream batches the lines of values written
    // back to back (README), so the one read before a reader's releaseLock() got every line and
    // the face's readable side had closed (`closed` resolved) where the reference's had a chunk
    // left (rejected by the release). Only that pair, only for a byte face, only with a close()
    // that resolved on both sides before the release, both readable sides ended closed and both
    // consumers with the same bytes. Seed 30999 of NdjsonStringifyStream.
    // (With a producer's pipe, the source's close() in that close()'s place: the source's first
    // end, no abort (its error) before it, and, with pipeTo, its pipe resolved on both sides;
    // pipeThrough's promise is not the program's, and both readable sides ended closed say the
    // pipe closed the writable side. Seed 62240 of NdjsonStringifyStream: a pipeThrough, two
    // values enqueued back to back, close(), three turns, read(), releaseLock(): one batch on
    // the face, two chunks on the reference. `node __test__/web-contract-fuzz/evidence.js
    // join-then-release-pipe`.)
    const pipeClosed = (j) => program.producer.mode !== 'writer' && !program.ops.slice(0, j).some((o) => o.op === 'abort' || o.op === 'close') &&
      (program.producer.mode !== 'pipeTo' || (s.outcomes.get('pipe-in') === 'ok' && c.outcomes.get('pipe-in') === 'ok'))
    // (And NdjsonParseStream, whose input queue takes a write that the reference's transform
    // holds back while its readable side has no room (README, "Backpressure": the parser's input
    // queue; a readable strategy of highWaterMark 0): the face's close() flushed the last line
    // and its reads before the release got every value, the readable side closed; the
    // reference's last write and close still waited for a read, and the release rejected its
    // `closed`. A TransformStream whose readable side has room for the values does what the face
    // does: `node __test__/web-contract-fuzz/evidence.js parse-ahead-then-release`. Seed 92475 of
    // NdjsonParseStream: a write of six lines, three reads, a write of '-2' awaited, close(), four
    // reads, releaseLock(). Only the writer's close(), resolved on both sides.)
    const parser = desc.bytesIn && !desc.bytesOut
    if ((desc.bytesOut || parser) && id.startsWith('rclosed') && a === 'ok' && b === 'rej:TypeError:ERR_INVALID_STATE' && s.end.r === 'closed' && c.end.r === 'closed' &&
      sameDelivered(desc, s, c) && program.ops.some((op, k) => op.op === 'releaseReader' && program.ops.some((o, j) => j < k && o.op === 'close' && happened(program, j) &&
        ((s.outcomes.get(`close@${j}`) === 'ok' && c.outcomes.get(`close@${j}`) === 'ok') || (desc.bytesOut && pipeClosed(j)))))) continue
    // ALLOWANCE strategy-error-taken: a chunk a ByteLengthQueuingStrategy cannot size errors the
    // writable side only, throwing away the writes still queued (whatwg/streams#628); the face's
    // writable side starts two microtasks sooner (ALLOWANCE start-timing) and its component
    // takes chunks the reference's transform leaves queued behind its readable side's
    // backpressure (README, "Backpressure": the parser's input queue, a Node stage's buffer). So a
    // write the reference threw away (rejected with the strategy's error) may have been taken
    // on the face, whose reads then get its values where the reference's wait for good (its
    // readable side stays open) or end with a later cancel. Only a read's 'value' on the face
    // against 'pending' or 'done', only where the face took such a write. The data is checked
    // against the model. Seeds 1416, 1711, 2000 of NdjsonParseStream.
    if (/^(read@|drain)/.test(id) && a === 'value' && (b === 'pending' || b === 'done') && strategyTaken()) continue
    // ALLOWANCE strategy-error-before-signal: a producer's pipe writes a chunk its writable
    // strategy cannot size (a ByteLengthQueuingStrategy given a string or an object), then the
    // program tears the pipe down (its signal, or the source's error). The face's own buffer had
    // taken the chunks before it (README, "Backpressure"), so its pipe wrote that chunk first: its
    // size() errored the writable side only (whatwg/streams#628), the pipe was over, and the
    // teardown after it reached nothing: the readable side stays open for good and a read after
    // the chunks waits (engine.js strategyStranded). The reference's readable side pushed back,
    // its pipe still waited before that chunk when the teardown came, and its reads end with the
    // teardown's reason. A TransformStream with room for the chunks does what the face does:
    // `node __test__/web-contract-fuzz/evidence.js strategy-error-before-signal` (and
    // strategy-error-before-abort). Only a read made after that chunk, 'pending' on the face
    // against the reason of the first teardown after the chunk, the reference's readable side
    // ended errored with it, the face's never ended, stranded by its strategy with nothing held
    // (engine.js rec.strandedByStrategy), and its consumer got the whole output of the writes
    // before that chunk. Seed 66408 of BoundedBufferStream (block, bytes): a pipeThrough with a
    // signal, three chunks and an object, three turns, three reads, the signal, a read.
    if (id.startsWith('read@') && a === 'pending' && program.producer.mode !== 'writer' && s.strandedByStrategy && s.end.r === null && strategyErrors(program)) {
      const sAt = strategyErrorAt(program)
      const p = program.producer
      const tearAt = program.ops.findIndex((op, k) => k > sAt && ((op.op === 'signal' && p.signal && !p.preventAbort) || op.op === 'abort'))
      const op = program.ops[tearAt]
      const reason = tearAt < 0 ? null : op.op === 'abort' ? 'rej:E' : `rej:${op.reason ? 'S' : 'AbortError:20'}`
      const before = s.issued.filter((w) => program.ops.findIndex((o) => o.op === 'write' && o.id === w.id) < sAt).map((w) => w.input)
      if (reason !== null && opIndex(id) > sAt && b === reason && c.end.r === 'errored:' + reason.slice(4) &&
        isDeepStrictEqual(joined(!desc.bytesOut, s.delivered.main), desc.model(before).output)) continue
    }
    // ALLOWANCE start-timing: a string under a ByteLengthQueuingStrategy errors the writable side
    // (RangeError) as it is written, but a WritableStream finishes erroring only once started,
    // and a TransformStream's writable starts two microtasks after a plain WritableStream's (its
    // start waits for the transformer's): an abort() in between meets "erroring" on the reference
    // (rejected with the RangeError) and "errored" on the face (resolved, as the standard has it
    // for an errored stream). A plain WritableStream does what the face does (branch wip/web-contract-fuzz wip-notes/README.md,
    // seed 80).
    // (Or the TypeError of null's size (its byteLength read), when the first chunk the strategy
    // sized was a null: seed 37609 of ThrottleStream and MeterStream (bytes): write(null), a
    // microtask, abort(R).)
    const strategyStored = strategyErrors(program) && program.ops[strategyErrorAt(program)].op === 'invalidWrite' && program.ops[strategyErrorAt(program)].value === null
      ? 'rej:TypeError'
      : 'rej:RangeError:ERR_INVALID_ARG_VALUE'
    if (id.startsWith('abort@') && strategyErrors(program) && [a, b].includes('ok') && [a, b].includes(strategyStored)) continue
    // ALLOWANCE ready: writer.ready follows backpressure, which the face's own buffer shifts: it
    // may have resolved on one side and still wait on the other (then rejected by a release).
    if (id.startsWith('wready') && answers(a) && answers(b)) continue
    // (That rejection is the release's TypeError, ERR_INVALID_STATE, not a teardown's: only for a
    // writer the program released, against 'ok' on the other side. Seeds 42880 of ThrottleStream
    // and MeterStream (objects), 41864 of NdjsonParseStream: a readable strategy of highWaterMark
    // 0, a write in flight, a writer taken and released; the face's component took the chunk,
    // the reference's transform waits for a read.)
    if (id.startsWith('wready') && [a, b].includes('ok') && [a, b].includes('rej:TypeError:ERR_INVALID_STATE') &&
      writerReleased(program, s, id)) continue
    // ALLOWANCE (reported, not fixed) parse-error-waits-for-reads: on invalid input
    // NdjsonParseStream errors its writable side only after the values before the bad line have
    // been read (README: "errors both sides with the same error, after the values before it were
    // read"), so a write or close() still waiting then settles only when someone reads; the
    // reference's flush fails at once. See engine.js (not waited for long) and the report.
    if (failing && desc.bytesIn && !desc.bytesOut && (id.startsWith('write') || id.startsWith('close') || id === 'settle-close' || id.startsWith('wclosed')) && (a === 'pending' || b === 'pending')) continue
    // ALLOWANCE queue-shape (bytesOut): a read gets a value on one side and the end on the other
    // because the chunks were joined or batched differently (the data itself is compared).
    if (desc.bytesOut && (id.startsWith('read@') || id.startsWith('drain')) && ['value', 'done', 'pending'].includes(a) && ['value', 'done', 'pending'].includes(b)) continue
    // ALLOWANCE later-output (release): a read a later releaseLock() rejected (TypeError
    // ERR_INVALID_STATE) on one side where the other side's got a value: the output reached the
    // waiting read on one side only before the release. A face's output comes a turn after the
    // write (README, "Web Streams": "our output arrives later than transform()";
    // NdjsonStringifyStream's lines leave once the writes stop for a turn, or are joined into an
    // earlier read's chunk), so in the write's tick the identity transform has fulfilled the read
    // and the face has not; and a TransformStream starts two microtasks after the face's
    // writable (ALLOWANCE start-timing), so right after construction the face's read has its value
    // and the reference's not. What the released read would have got goes to the next reader (the
    // data is checked against the model). `node __test__/web-contract-fuzz/evidence.js
    // write-then-release` (a TransformStream with a turn per chunk does what the face does);
    // seeds 482, 659, 673 (objects), 75, 99 (stringifier), 90 (start).
    if (id.startsWith('read@') && [a, b].includes('rej:TypeError:ERR_INVALID_STATE') && [a, b].includes('value') &&
      program.ops.some((op, k) => k > opIndex(id) && op.op === 'releaseReader')) continue
    // (The next reader's read then gets that value on the side whose read was released, where
    // the other side's, its value taken by the released read, gets the end, or waits. Only a
    // read after such a pair and a releaseLock() between, 'value' on the side whose earlier read
    // was released. The data is checked against the model. Seed 15240 of BoundedBufferStream
    // (objects): read(), a write, releaseLock(), close(), a new reader's read().)
    if (id.startsWith('read@') && [a, b].includes('value') && ['done', 'pending'].includes(a === 'value' ? b : a)) {
      const [x, y] = a === 'value' ? [s, c] : [c, s]
      const j = opIndex(id)
      if (program.ops.some((op, i) => i < j && op.op === 'read' && x.outcomes.get(`read@${i}`) === 'rej:TypeError:ERR_INVALID_STATE' &&
        y.outcomes.get(`read@${i}`) === 'value' && program.ops.some((o, k) => k > i && k < j && o.op === 'releaseReader'))) continue
    }
    // ALLOWANCE same-tick cancel: the face errors its writable side inside reader.cancel(reason)
    // (README, "Cancellation and errors": "readable.cancel(reason) stops the component and errors
    // the writable side with reason"); Node's TransformStream only once its transformer's cancel
    // has settled, a microtask later or more (the standard's
    // TransformStreamDefaultSourceCancelAlgorithm), and meanwhile still takes a close(), which
    // then resolves. So a write, close() or getWriter() in cancel()'s tick (the settle phase's
    // close() too) is refused on the face (TypeError ERR_INVALID_STATE, or the reason) where the
    // reference took it. Only the face's refusal, only with a writer in that tick.
    // `node __test__/web-contract-fuzz/evidence.js cancel-then-close` (seed 45, minimised).
    // (A writer's releaseLock() in that tick: the reference's `closed` and `ready` reject with the
    // release's TypeError, the face's with the cancel's reason, seed 305.)
    if (cancelTick && /^(write|close@|settle-close|wclosed|wready)/.test(id) && (a === 'rej:TypeError:ERR_INVALID_STATE' || cancelReasons.has(a) || a === 'rej:AbortError:20' || a === 'rej:S') &&
      (answers(b) || (/^w(closed|ready)/.test(id) && b === 'rej:TypeError:ERR_INVALID_STATE') ||
        // (Or Node 20's bare TypeError there, ALLOWANCE node-cancel-write below: the close meets
        // the writable side that the reference's write in the same tick errored with it. Seeds
        // 42696, 42706, 42856 of the pass-throughs, 40418, 41894, 42898 of the stringifier.)
        (b === 'rej:TypeError' && cancelsReadable))) continue
    // (An invalid chunk after a reader's cancel(), the first teardown, in whose tick a string
    // was written under a ByteLengthQueuingStrategy: the reference's writable side, still
    // writable in that tick, could not size the string and errored with the strategy's
    // RangeError, which every later write is rejected with, the invalid chunk's too; the face's
    // had errored with the cancel's reason inside cancel(). A TransformStream whose
    // transformer's cancel() errors its controller at once rejects both writes with the reason,
    // as the face: `node __test__/web-contract-fuzz/evidence.js cancel-then-unsizable`. Only that
    // cancel's reason on the face, the strategy's error on the reference, each writable side
    // ended errored with its own. Seeds 68418 of ThrottleStream and MeterStream (bytes): cancel(C),
    // a string, write(42) in a tick; 68121 of NdjsonParseStream: cancel(), a string, a microtask,
    // write({}).)
    // (The writer's abort() after that string in the same tick too: both writable sides are
    // still "erroring" (neither has started), so the abort is rejected with the error each
    // stored, the cancel's reason on the face, the strategy's RangeError on the reference (the
    // standard's WritableStreamAbort, "was already erroring"). A TransformStream whose
    // transformer's cancel() errors its controller at once does what the face does: `node
    // __test__/web-contract-fuzz/evidence.js cancel-then-unsizable-abort`. Only an abort() after
    // the string. Seed 185087 of ThrottleStream and MeterStream (bytes): cancel(), a string,
    // abort() right after construction.)
    // (In that cancel's tick: after it, or after a later cancel() in its tick, seed 185087.)
    const inCancelTick = (j, cancel) => {
      let op = tickOf(program, j, ['cancel'])
      while (op !== null && op !== cancel) op = tickOf(program, program.ops.indexOf(op), ['cancel'])
      return op === cancel
    }
    if ((id.startsWith('invalidWrite@') || id.startsWith('abort@')) && strategyRej(b) && c.end.w === 'errored:' + b.slice(4) && s.end.w === 'errored:' + a.slice(4)) {
      const k0 = program.ops.findIndex((op, k) => teardownMade(k))
      const cancel = program.ops[k0]
      if (k0 >= 0 && k0 < opIndex(id) && cancel.op === 'cancel' && a === `rej:${cancel.reason ? 'C' : 'undefined'}` &&
        program.ops.some((op, j) => op.op === 'write' && op.form === 'string' && inCancelTick(j, cancel) &&
          (id.startsWith('invalidWrite@') || j < opIndex(id)))) continue
    }
    // (An invalid chunk written after a close() made in the tick of the reader's cancel(C): the
    // reference's writable side was still writable in that tick, took the close and refused the
    // chunk behind it (TypeError ERR_INVALID_STATE, or Node 20's ERR_INTERNAL_ASSERTION,
    // node-assertion), before looking at it; the face's had errored with C inside cancel(), so
    // the close was refused (above) and the chunk's write rejected with C, the stored error (the
    // standard's WritableStreamDefaultWriterWrite). A TransformStream whose transformer's cancel()
    // errors its controller at once does what the face does: `node
    // __test__/web-contract-fuzz/evidence.js cancel-close-invalid`. Only C on the face against
    // that refusal, only where that close() in the cancel's tick came before the chunk, was
    // refused on the face and resolved on the reference. Seed 79114 of BoundedBufferStream
    // (block, bytes): an awaited read, cancel(C), close(), write(null) in a tick.)
    if (id.startsWith('invalidWrite@') && cancelReasons.has(a) && b === 'rej:TypeError:ERR_INVALID_STATE' && program.ops.some((op, k) => k < opIndex(id) &&
      op.op === 'close' && tickOf(program, k, ['cancel']) !== null && tickOf(program, opIndex(id), ['cancel']) === tickOf(program, k, ['cancel']) &&
      s.outcomes.get(`close@${k}`) === 'rej:TypeError:ERR_INVALID_STATE' && c.outcomes.get(`close@${k}`) === 'ok')) continue
    // ALLOWANCE same-tick cancel (an abort in its tick): the writer's abort() in the tick of the
    // reader's cancel(C), the first teardown: the face's writable side has errored with C inside
    // cancel() (above), so the abort meets it and a later write or close() is rejected with C;
    // the reference's transformer's cancel settles a microtask later, so the abort came first
    // and its writable side errored with the abort's reason X: its write is rejected with X. A
    // TransformStream whose transformer's cancel() errors its controller at once does what the
    // face does: `node __test__/web-contract-fuzz/evidence.js cancel-then-abort`. Only C on the
    // face against X, only for a write or close() after that abort, only where the face's
    // writable side ended errored with C and the reference's with X. Seed 58814 of
    // BoundedBufferStream (block, objects): cancel(C), abort(), a microtask, a write.
    // (And an invalid chunk written after that abort(): a write into an errored or erroring
    // writable side is rejected with its stored error before any transform looks at the chunk
    // (the standard's WritableStreamDefaultWriterWrite; a count strategy sizes any chunk), C on
    // the face, X on the reference: `node __test__/web-contract-fuzz/evidence.js
    // cancel-then-abort`. Where the writer was released later (no end seen, null on both sides),
    // that abort's own outcome tells the same: rejected with C on the face (it met the errored
    // side), resolved on the reference (it errored the side with X). Seed 93593 of
    // BoundedBufferStream (block, bytes): a read, cancel(), a read, abort(R), write(null) in a
    // tick, the writer released later.)
    const endedWith = (rec, x, abortAnswer) => rec.end.w === 'errored:' + x.slice(4) ||
      (rec.end.w === null && rec.outcomes.get(`abort@${cancelAbort.at}`) === abortAnswer && program.ops.some((op, k) => k > cancelAbort.at && op.op === 'releaseWriter'))
    if (cancelAbort !== null && /^(write|invalidWrite@|close@|settle-close)/.test(id) && a === cancelAbort.c && b === cancelAbort.x &&
      (id.startsWith('write') ? program.ops.findIndex((op) => op.op === 'write' && `write${op.id}` === id) : id === 'settle-close' ? program.ops.length : opIndex(id)) > cancelAbort.at &&
      endedWith(s, a, a) && endedWith(c, b, 'ok')) continue
    // ALLOWANCE node-cancel-write: Node 20's own bug: a write in the tick of reader.cancel(C) (or
    // of a pipe's signal, which cancels the same way) is rejected with a bare TypeError
    // ("controller[kState].transformAlgorithm is not a function"), which also errors the
    // reference's writable; the face answers the reason. Only a bare TypeError on the reference.
    // `node __test__/web-contract-fuzz/evidence.js cancel-then-write` (seed 58).
    // (A `for await` that breaks cancels the same way: seed 966.)
    if (b === 'rej:TypeError' && cancelsReadable && answers(a)) continue
    // (Or a close() after that cancel, not in its tick: the reference's writable side was still
    // "erroring" with the bare TypeError behind the write in flight, so its close was queued and
    // rejected with it; the face's had taken the writes and errored with the cancel's reason
    // inside cancel(), so its close was refused (TypeError ERR_INVALID_STATE), as a
    // TransformStream's whose readable side had room and whose cancel() errors its controller at
    // once: `node __test__/web-contract-fuzz/evidence.js cancel-then-close-later`. Only a close()
    // there, only where the face's writable side ended errored with a reader's cancel reason and
    // the reference's with the bare TypeError. Seed 75357 of NdjsonStringifyStream: two writes,
    // an awaited read, a read, a write, cancel(C), a microtask, the settle phase's close().)
    if (/^(close@|settle-close)/.test(id) && a === 'rej:TypeError:ERR_INVALID_STATE' && b === 'rej:TypeError' && cancelsReadable &&
      cancelReasons.has('rej:' + (s.end.w || '').replace(/^errored:/, '')) && c.end.w === 'errored:TypeError') continue
    if (brokeOnly !== null && /^(write|close@|settle-close|wclosed|wready)/.test(id)) {
      const [x, y] = brokeOnly === 's' ? [a, b] : [b, a]
      if (['rej:undefined', 'rej:TypeError:ERR_INVALID_STATE'].includes(x) && answers(y)) continue
      // (On the side that did not break, a writer the program released while its writable side
      // was open: its `closed` and `ready` are rejected by the release (TypeError
      // ERR_INVALID_STATE, the standard's WritableStreamDefaultWriterRelease), where the side
      // that broke had errored with the cancel's undefined first. Only for a writer the program
      // released. Seed 97157 of NdjsonStringifyStream: breakAt 5, five values in one batch on
      // the face, releaseLock(), three turns, getWriter(), releaseLock().)
      if (/^w(closed|ready)/.test(id) && x === 'rej:undefined' && y === 'rej:TypeError:ERR_INVALID_STATE' &&
        writerReleased(program, s, id)) continue
    }
    // ALLOWANCE close-waits-for-reader (release): a face's close() completes once its component
    // has flushed, which may wait for the reader (README, "Cancellation and errors": "a face's
    // close may be waiting for its reader"; NdjsonParseStream's values behind a readable
    // strategy of highWaterMark 0), where a TransformStream's flush never waits for it. A writer
    // taken and released while that close is in flight has its `closed` rejected by the release
    // (TypeError) on the face, resolved on the reference, whose stream had closed. Only that pair,
    // only where the face's close() resolved after that rejection and the reference's resolved
    // too. Seed 32996 of NdjsonParseStream.
    if (id.startsWith('wclosed') && a === 'rej:TypeError:ERR_INVALID_STATE' && b === 'ok' && program.ops.some((op, k) => op.op === 'close' && happened(program, k) &&
      s.outcomes.get(`close@${k}`) === 'ok' && c.outcomes.get(`close@${k}`) === 'ok' && s.settleOrder.indexOf(`close@${k}`) > s.settleOrder.indexOf(id))) continue
    // (Or that close torn down by the writer's abort() while in flight (ALLOWANCE
    // abort-during-close, above), the writer released after the abort and before the face's
    // close settled: the release found the face's writable side still "erroring" (the close in
    // flight) and rejected its `closed` (TypeError), where the reference's close had completed
    // and its `closed` resolved. A TransformStream whose flush takes a turn does what the face
    // does to `closed` (its close and abort then resolve, the abort-during-close pair): `node
    // __test__/web-contract-fuzz/evidence.js close-abort-release`. Only a writer the program
    // released, only where the face's close() and its first abort() after it rejected with that
    // abort's reason (the standard's AbortError for none, as the face's readable side errors)
    // after the rejection of `closed`, and both resolved on the reference. Seed
    // 179625 of BoundedBufferStream (block, objects): an awaited write, close(), a microtask,
    // abort(R), a microtask, releaseLock().)
    if (abortDuringClose && id.startsWith('wclosed') && a === 'rej:TypeError:ERR_INVALID_STATE' && b === 'ok' && writerReleased(program, s, id)) {
      const at = program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k))
      const reason = at < 0 ? null : `rej:${program.ops[at].reason ? 'R' : 'AbortError:20'}`
      const closeAt = program.ops.findIndex((op, k) => k < at && op.op === 'close' && happened(program, k))
      if (closeAt >= 0 && s.outcomes.get(`close@${closeAt}`) === reason && s.outcomes.get(`abort@${at}`) === reason &&
        c.outcomes.get(`close@${closeAt}`) === 'ok' && c.outcomes.get(`abort@${at}`) === 'ok' &&
        s.settleOrder.indexOf(`close@${closeAt}`) > s.settleOrder.indexOf(id)) continue
    }
    // ALLOWANCE node-abort-after-throw: Node 20's own bug: writer.abort() while a write is in
    // flight whose transform() throws (the reference's line parser on an invalid line) rejects
    // with a bare TypeError ("controller[kState].cancelAlgorithm is not a function": the throw
    // cleared the transformer's algorithms, and the abort then calls its cancel). The face
    // answers as for any abort. Only a bare TypeError on the reference, only the abort's own
    // promise, only with invalid input. Repro: a TransformStream whose transform() throws on a
    // chunk, that chunk written a turn after the start and abort() in the same tick: the abort
    // rejects with that TypeError (seeds 5736, 32717 of NdjsonParseStream).
    if (id.startsWith('abort@') && b === 'rej:TypeError' && failing && answers(a)) continue
    // ALLOWANCE same-tick abort: the face errors its readable side inside writer.abort()
    // (README: "writable.abort(reason) errors the readable side with it (at once …)"); Node's
    // TransformStream only once its transformer's cancel has settled, a microtask later (the
    // standard's TransformStreamDefaultSinkAbortAlgorithm). So in abort()'s tick a read on the
    // reference still takes a chunk queued there, and a reader's releaseLock() still rejects its
    // waiting read and its `closed` with the release's TypeError, where the face's have the
    // abort's reason. Only that reason on the face, only for an operation in that tick.
    // branch wip/web-contract-fuzz, wip-notes/README.md, NdjsonStringifyStream seed 62 (branch wip/web-contract-fuzz, wip-notes/stringify-seeds.js 62) and
    // NdjsonParseStream seed 62 (branch wip/web-contract-fuzz, wip-notes/parse62.js).
    if (id.startsWith('read@') && b === 'value' && a === abortTickOf(program, opIndex(id))) continue
    // (The reader's cancel() in that tick: the face's readable side has errored, so the cancel
    // rejects with the abort's reason; the reference's is still readable, and cancelling it
    // resolves. Seed 716.)
    if (id.startsWith('cancel@') && b === 'ok' && a === abortTickOf(program, opIndex(id))) continue
    // (And a read after that cancel, in the tick too: the reference's cancel closed its readable
    // side, the read gets 'done'; the face's readable side had errored, the read rejects with the
    // abort's reason. Only where such a cancel came before the read and resolved on the reference.
    // Seed 14337 of BoundedBufferStream (objects): write, abort(R), cancel(), read.)
    // (Or a read before that cancel, in the tick too, still waiting on the reference (its queue
    // empty) when the cancel closed the readable side, which answers it 'done'. Seed 43504 of
    // NdjsonParseStream: three turns, abort(), read(), cancel(); a plain TransformStream reads
    // 'done' and its cancel resolves, the face's both reject with the reason: `node
    // __test__/web-contract-fuzz/evidence.js abort-read-cancel`.)
    if (id.startsWith('read@') && b === 'done' && a === abortTickOf(program, opIndex(id)) && program.ops.some((op, k) => k !== opIndex(id) &&
      op.op === 'cancel' && happened(program, k) && abortTickOf(program, k) === a && c.outcomes.get(`cancel@${k}`) === 'ok')) continue
    // ALLOWANCE held-write abort: with a write held by the face's component (not taken yet) the
    // abort() tears the component down at once and rejects that write, but the readable side
    // errors only when the sink's abort() comes, after the rejected write has settled, promise
    // jobs later (lib/web/face.js, abortSignalled: the reason as given, undefined included, which
    // the abort signal does not carry), as a TransformStream with a write in flight does. In
    // the abort's tick the face's readable side is still readable: a read takes a value queued
    // before the abort, a cancel() closes it and resolves; where the reference (whose write
    // had finished) errored it with the reason. Only the face answering 'value' (a read) or 'ok'
    // (a cancel), only where a write the program made before that abort was rejected on the
    // face with the abort's reason. Seeds 10095 of ThrottleStream and MeterStream (a
    // TransformStream whose transform takes a turn does what the face does: a read pending, a
    // write a turn later, abort(R) a microtask after it, then cancel(): its cancel resolves, as
    // the face's, where an identity TransformStream's rejects with R), 31095 of NdjsonParseStream.
    // (With abort() and no reason the held write is rejected with the signal's reason, the
    // standard's AbortError: lib/web/face.js rejects it as the controller's signal tells it, as a
    // sink's write watching that signal would. Seed 17665 of ThrottleStream and MeterStream:
    // write(x), a microtask, abort(), read(): the read gets x on the face, is rejected with
    // undefined on the reference, whose writable had not started: its write was still queued.)
    const heldRejection = b === 'rej:undefined' ? 'rej:AbortError:20' : b
    if (/^(read|cancel)@/.test(id) && b === abortTickOf(program, opIndex(id)) && a === (id.startsWith('read@') ? 'value' : 'ok') && writeHeldAtAbort(program, s, opIndex(id), heldRejection)) continue
    // (And a read in that tick still waiting on the face (its queue empty: the held write was
    // rejected) when a reader's cancel() later in the tick closed the face's readable side, still
    // readable: the read gets 'done' there, where the reference's got a value queued before the
    // abort (its cancel then met the abort's error, or, a microtask after the write, still a
    // readable side). A TransformStream whose transform takes a turn does what the face does:
    // `node __test__/web-contract-fuzz/evidence.js held-write-abort-cancel`. Only 'done' on the
    // face against 'value', only where such a cancel came after the read in the abort's tick
    // (microtask waits included), resolved on the face and was rejected with the abort's reason
    // or resolved on the reference, and a write before the abort was rejected on the face as a
    // held write is. The data is checked against the model. Seed 166369 of ThrottleStream and
    // MeterStream (objects): read(), an awaited write, a write, (a microtask,) abort(R), read(), a
    // microtask, cancel().)
    const abortX = id.startsWith('read@') ? abortTickOf(program, opIndex(id)) : null
    if (id.startsWith('read@') && a === 'done' && b === 'value' && abortX !== null &&
      writeHeldAtAbort(program, s, opIndex(id), abortX === 'rej:undefined' ? 'rej:AbortError:20' : abortX) &&
      program.ops.some((op, k) => k > opIndex(id) && op.op === 'cancel' && happened(program, k) && abortTickOf(program, k) === abortX &&
        s.outcomes.get(`cancel@${k}`) === 'ok' && [abortX, 'ok'].includes(c.outcomes.get(`cancel@${k}`)))) continue
    // (Or a read after the abort's tick: the face's readable side errored once the held write
    // had been rejected, a few promise jobs after the abort, throwing away the values queued
    // before it, and the read meets the reason. The reference's abort still waited for its write
    // in flight (its transform waits for room on the readable side: the standard's
    // WritableStreamAbort waits for the write in flight), so its read got a value queued before
    // the abort, and the pull it made let that write go (rejected with the reason), and only then
    // its readable side errored. A TransformStream with room for that write errors its readable
    // side at the abort and its read rejects, and a WritableStream whose held write watches its
    // controller's signal, joined to a ReadableStream its abort() errors, answers as the face
    // does, write and read: `node __test__/web-contract-fuzz/evidence.js held-write-abort-later`.
    // Only the abort's reason as given on the face against a value, only for a read after the
    // writer's first abort() that happened, where a write before that abort was rejected on both
    // sides (the face's held write with heldRejection), on the reference only after this read
    // and before its abort settled, and where the face's consumer got a prefix of the
    // reference's, short (values) by no more than the reads answered so. Seed 61111 of
    // ThrottleStream and MeterStream (objects): a write, three turns, a write held, abort(R),
    // the writer released, three turns, a new reader's read().)
    const firstAbortAt = program.producer.mode === 'writer' ? program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k)) : -1
    if (id.startsWith('read@') && b === 'value' && firstAbortAt >= 0 && opIndex(id) > firstAbortAt && a === `rej:${program.ops[firstAbortAt].reason ? 'R' : 'undefined'}`) {
      const after = (rec, x, y) => rec.settleOrder.indexOf(x) > rec.settleOrder.indexOf(y)
      const abortId = `abort@${firstAbortAt}`
      const readAt = c.settleOrder.indexOf(id)
      const lostHere = [...c.outcomes].filter(([k, o]) => /^(read@|drain)/.test(k) && o === 'value' && s.outcomes.get(k) === a).length
      const got = joined(!desc.bytesOut, s.delivered.main)
      const all = joined(!desc.bytesOut, c.delivered.main)
      const prefix = desc.bytesOut ? all.subarray(0, got.length).equals(got) : got.every((v, i) => isDeepStrictEqual(v, all[i]))
      if (program.ops.some((op, k) => k < firstAbortAt && op.op === 'write' && s.outcomes.get(`write${op.id}`) === (a === 'rej:undefined' ? 'rej:AbortError:20' : a) &&
        c.outcomes.get(`write${op.id}`) === a && after(c, `write${op.id}`, id)) &&
        readAt >= 0 && (c.outcomes.get(abortId) === 'pending' || after(c, abortId, id)) &&
        got.length <= all.length && prefix && (desc.bytesOut || all.length - got.length <= lostHere)) continue
    }
    // (Or that held write was released, not rejected: NdjsonStringifyStream completes a held
    // write once its line has been enqueued, here by the pull of a read before the abort, in its
    // tick, as a TransformStream's write completes once its transform has enqueued; the
    // reference's transform of that write had not run yet (it waits a promise job for its
    // backpressure to clear). The write is still in flight at the abort: resolved on the face
    // only after this read was answered. Seed 12732 of NdjsonStringifyStream (helper-134).)
    if (id.startsWith('read@') && a === 'value' && b === abortTickOf(program, opIndex(id)) && writeHeldAtAbort(program, s, opIndex(id), 'ok') &&
      program.ops.some((op, k) => k < opIndex(id) && op.op === 'write' && s.outcomes.get(`write${op.id}`) === 'ok' &&
        c.outcomes.get(`write${op.id}`) === b && s.settleOrder.indexOf(`write${op.id}`) > s.settleOrder.indexOf(id))) continue
    // (Or the face's output was a chunk behind: an earlier read was rejected by a releaseLock()
    // on the face only (ALLOWANCE later-output (release)), so its readable queue still held a
    // chunk that the reference's reads had got. A read before the abort took it, and the pull
    // that read made moved the held write's output (taken by the component, waiting for room:
    // README, "Backpressure") into the queue and completed that write, whose promise the
    // WritableStream still counts in flight at the abort: the readable side errors once it has
    // settled, a few promise jobs later (README, "Cancellation and errors": "a read() in the
    // abort's tick may still get a value queued before it"). The reference's reads had got
    // every value, so its read in the abort's tick waited and met the abort. A TransformStream
    // whose transformer buffers as the face's component does answers as the face:
    // `node __test__/web-contract-fuzz/evidence.js read-behind-abort`. Only where a write before
    // the abort settled on the face after this read and resolved on the reference, the face's
    // reads up to this one got no more values than the reference's before it, and both
    // consumers got the same data. Seed 40555 of ThrottleStream and MeterStream (bytes): an
    // awaited write, read(), write, read(), releaseLock(), a write of 32960 bytes (more than
    // Throttle's Node buffer takes) awaited, getReader(), read(), abort(), read().)
    const valuesUpTo = (rec, j) => program.ops.filter((op, k) => k <= j && op.op === 'read' && rec.outcomes.get(`read@${k}`) === 'value').length
    if (id.startsWith('read@') && a === 'value' && b === abortTickOf(program, opIndex(id)) && writeHeldAtAbort(program, s, opIndex(id), 'ok') &&
      program.ops.some((op, k) => k < opIndex(id) && op.op === 'read' && s.outcomes.get(`read@${k}`) === 'rej:TypeError:ERR_INVALID_STATE' &&
        c.outcomes.get(`read@${k}`) === 'value' && program.ops.some((o, j) => j > k && j < opIndex(id) && o.op === 'releaseReader')) &&
      program.ops.some((op, k) => k < program.ops.indexOf(tickOf(program, opIndex(id), ['abort'], true)) && op.op === 'write' &&
        s.outcomes.get(`write${op.id}`) === 'ok' && c.outcomes.get(`write${op.id}`) === 'ok' && s.settleOrder.indexOf(`write${op.id}`) > s.settleOrder.indexOf(id)) &&
      valuesUpTo(s, opIndex(id)) <= valuesUpTo(c, opIndex(id) - 1) && sameDelivered(desc, s, c)) continue
    // ALLOWANCE same-tick close: a face whose component has nothing left to flush closes its
    // readable side inside writer.close() (NdjsonStringifyStream with no line pending); a
    // TransformStream closes it once its flush's promise has settled, a promise job later. So a
    // reader's releaseLock() in close()'s tick finds the face's readable side closed (`closed`
    // resolved) and the reference's open (`closed` rejected with the release's TypeError).
    // Only that pair, only for a release in that tick: `node __test__/web-contract-fuzz/evidence.js
    // close-then-release` (seed 616).
    if (id.startsWith('rclosed') && a === 'ok' && b === 'rej:TypeError:ERR_INVALID_STATE' &&
      program.ops.some((op, k) => op.op === 'releaseReader' && tickOf(program, k, ['close'], true) !== null)) continue
    // (And a read waiting then: the face's gets 'done', the reference's is rejected by the
    // release. Only a read made before that release. Seed 10136 of NdjsonStringifyStream.)
    if (id.startsWith('read@') && a === 'done' && b === 'rej:TypeError:ERR_INVALID_STATE' &&
      program.ops.some((op, k) => op.op === 'releaseReader' && k > opIndex(id) && tickOf(program, k, ['close'], true) !== null)) continue
    // ALLOWANCE close-later (release): the other way round, a face whose component ends through
    // its Node stream (ThrottleStream, MeterStream, BoundedBufferStream: NodeEngine) closes its
    // readable side once that stream has finished, a tick after close() (process.nextTick), where
    // an identity TransformStream with nothing queued closes it a promise job after close(). So a
    // reader's releaseLock() a few microtasks after close() finds the reference's readable side
    // closed (its waiting read 'done', `closed` resolved) and the face's open (both rejected with
    // the release's TypeError ERR_INVALID_STATE). A TransformStream whose flush takes a turn does
    // what the face does: `node __test__/web-contract-fuzz/evidence.js close-microtask-release`.
    // Only that pair (the read made before that release), only for a release with nothing but
    // microtask waits after a close() that resolved on both sides, both readable sides ended
    // closed and both consumers with the same data. Seed 45136 of BoundedBufferStream (block,
    // bytes): read(), close(), a microtask, releaseLock().
    // (The release of that read's reader, or of the reader whose `closed` it is: the first one
    // after the read, or the N-th the program made for rclosedN.)
    const readerReleases = program.ops.flatMap((op, k) => (op.op === 'releaseReader' && /reader=true/.test(s.pre[k]) ? [k] : []))
    const releaseOf = id.startsWith('read@') ? readerReleases.find((k) => k > opIndex(id)) : id.startsWith('rclosed') ? readerReleases[Number(id.slice('rclosed'.length))] : undefined
    // (Or a write not awaited that both sides refused after the close: it changes nothing. Node
    // 20 throws ERR_INTERNAL_ASSERTION there, ALLOWANCE node-assertion: `node
    // __test__/web-contract-fuzz/evidence.js close-write-release`. Seed 73639 of ThrottleStream
    // and MeterStream (bytes): close(), a microtask, a write, releaseLock().)
    // (Or a signal that reaches no pipe (a reader takes none: teardownMade): it does nothing.
    // Seed 156509 of BoundedBufferStream (block, bytes): close(), a refused write, a microtask,
    // the signal, releaseLock().)
    const refusedWrite = (x) => x.op === 'write' && !x.awaited && norm(s.outcomes.get(`write${x.id}`)) === 'rej:TypeError:ERR_INVALID_STATE' &&
      norm(c.outcomes.get(`write${x.id}`)) === 'rej:TypeError:ERR_INVALID_STATE'
    const releasedAfterClose = (k) => k !== undefined && program.ops.some((o, i) => i < k && o.op === 'close' && happened(program, i) &&
      s.outcomes.get(`close@${i}`) === 'ok' && c.outcomes.get(`close@${i}`) === 'ok' &&
      program.ops.slice(i + 1, k).every((x, j) => (x.op === 'wait' && x.how === 'microtask') || (x.op === 'read' && !x.awaited) || refusedWrite(x) ||
        (x.op === 'signal' && !teardownMade(i + 1 + j))))
    if (/^(read@|rclosed)/.test(id) && a === 'rej:TypeError:ERR_INVALID_STATE' && (id.startsWith('read@') ? b === 'done' : b === 'ok') &&
      s.end.r === 'closed' && c.end.r === 'closed' && sameDelivered(desc, s, c) && releasedAfterClose(releaseOf)) continue
    // (Or a release that rejected a read of its reader on the face where the reference's got a
    // value (ALLOWANCE later-output (release)): the face's output for it had not come, and a
    // readable side closes only once its queue is read out, so it was still open at the
    // release: the reader's `closed` and the reads after that one, waiting, were rejected with
    // the release's TypeError; the reference's read took the last chunk and its readable side
    // closed: `closed` resolved, the later reads 'done'. Only those two pairs, only with such a
    // read of that reader before (`closed`: before its release; a read: before that read), a
    // close() before it that resolved on both sides, both readable sides ended closed and both
    // consumers with the same data. Seed 132664 of BoundedBufferStream (block, bytes): two
    // awaited writes (1 and 5565 bytes), close(), a turn, read(), read(), releaseLock(): the
    // face's second read waited for the big chunk's output.)
    const before = id.startsWith('read@') ? opIndex(id) : releaseOf
    if (/^(read@|rclosed)/.test(id) && a === 'rej:TypeError:ERR_INVALID_STATE' && (id.startsWith('read@') ? b === 'done' : b === 'ok') && releaseOf !== undefined &&
      s.end.r === 'closed' && c.end.r === 'closed' && sameDelivered(desc, s, c) &&
      program.ops.some((o, k) => k < before && o.op === 'read' && !readerReleases.some((r) => r > k && r < releaseOf) &&
        s.outcomes.get(`read@${k}`) === 'rej:TypeError:ERR_INVALID_STATE' && c.outcomes.get(`read@${k}`) === 'value' &&
        program.ops.some((x, i) => i < k && x.op === 'close' && happened(program, i) && s.outcomes.get(`close@${i}`) === 'ok' && c.outcomes.get(`close@${i}`) === 'ok'))) continue
    // ALLOWANCE queue-shape (release, a read): as queue-shape (release) above, for a read waiting
    // at the reader's releaseLock(): a byte face's Node stream joins the chunks it buffered into
    // one (README, "Web Streams"), so the face's reads before that one had every byte and its
    // readable side had closed: the waiting read got 'done'; the reference's last chunk still
    // waited behind its readable side's backpressure (a readable strategy of one chunk), and the
    // release rejected that read (TypeError ERR_INVALID_STATE), leaving the chunk to the next
    // reader. A TransformStream that joins the chunks written back to back does what the face
    // does: `node __test__/web-contract-fuzz/evidence.js join-then-release`. Only that pair, only
    // for a byte face, only for a read made before its reader's release with a close() before
    // that release that resolved on both sides, both readable sides ended closed and both
    // consumers with the same bytes (the face's 'done' holds it to every byte: invariants). Seed
    // 53636 of ThrottleStream and MeterStream (bytes): three writes, close(), the writer
    // released, read(), three turns, read(), read(), releaseLock().
    if (desc.bytesOut && id.startsWith('read@') && a === 'done' && b === 'rej:TypeError:ERR_INVALID_STATE' && s.end.r === 'closed' && c.end.r === 'closed' &&
      sameDelivered(desc, s, c) && releaseOf !== undefined && program.ops.some((o, j) => j < releaseOf && o.op === 'close' && happened(program, j) &&
        s.outcomes.get(`close@${j}`) === 'ok' && c.outcomes.get(`close@${j}`) === 'ok')) continue
    // ALLOWANCE start-timing (signal): the producer's pipe, its signal aborted right after the
    // start, still writes the chunk its pending read gets in the source's enqueue() (Node's
    // pipeTo aborts the face's writable side a few promise jobs after the signal). The face's
    // component takes that chunk inside the write and the read in the same tick gets it; a
    // TransformStream that has not started (two microtasks after the face, its readable side
    // not pulled yet, so its transform waits on backpressure) holds it, and the abort throws it
    // away: its read rejects with the signal's reason. A TransformStream given a turn to start
    // delivers the chunk as the face does: `node __test__/web-contract-fuzz/evidence.js
    // signal-before-start`. Only a read's 'value' on the face against the signal's reason, only
    // with a write after the signal and nothing but microtasks from the start to the read, no
    // other teardown before. The data is checked against the model. Seed 59883 of
    // BoundedBufferStream (block, bytes): the signal, a microtask, a write, an invalid chunk, a read.
    if (id.startsWith('read@') && a === 'value' && program.producer.mode !== 'writer' && program.producer.signal && !program.producer.preventAbort) {
      const j = opIndex(id)
      const sig = program.ops.findIndex((op) => op.op === 'signal')
      const early = program.ops.slice(0, j).every((op, k) => !(op.op === 'wait' && op.how !== 'microtask') && !(op.awaited && yieldedAt(program, k)))
      if (sig >= 0 && sig < j && early && b === `rej:${program.ops[sig].reason ? 'S' : 'AbortError:20'}` &&
        program.ops.some((op, k) => k > sig && k < j && op.op === 'write') &&
        !program.ops.slice(0, sig).some((op) => ['abort', 'cancel', 'close', 'invalidWrite'].includes(op.op))) continue
    }
    // (Or the writer's abort() under tee(): a write a microtask after the start, the abort(R) a
    // microtask later, a read of the first branch in the abort's tick. The face's writable side
    // had started and its component took the write (resolved), whose value the tee's pending
    // read of the readable side got and queued in both branches before the abort; its branch's
    // read in the abort's tick takes it. The reference's writable side had not started (two
    // microtasks after the face's), so its write was still queued and the abort rejected it with
    // R, and the read with R. A TransformStream given a turn to start delivers the value as the
    // face does: `node __test__/web-contract-fuzz/evidence.js abort-before-start-tee`. Only a
    // read's 'value' on the face against the reason of the writer's abort() in whose tick it came
    // (abortTickOf), only under tee() with nothing but microtasks from the start to the read,
    // that abort the first teardown, and a write before it resolved on the face and rejected with
    // that reason on the reference. The data is checked against the model. Seed 140975 of
    // NdjsonParseStream: a microtask, a write of one line, a microtask, abort(R), an awaited read.)
    if (id.startsWith('read@') && a === 'value' && program.producer.mode === 'writer' && con0 !== null && con0.mode === 'tee' && b === abortTickOf(program, opIndex(id))) {
      const j = opIndex(id)
      const at = program.ops.findIndex((op, k) => teardownMade(k))
      const early = program.ops.slice(0, j).every((op, k) => !(op.op === 'wait' && op.how !== 'microtask') && !(op.awaited && yieldedAt(program, k)))
      if (early && at >= 0 && at < j && program.ops[at].op === 'abort' && !strategyErrors(program) && program.ops.some((op, k) => k < at && op.op === 'write' &&
        s.outcomes.get(`write${op.id}`) === 'ok' && c.outcomes.get(`write${op.id}`) === b)) continue
    }
    // ALLOWANCE read-before-cancel: a read made in the tick of a later reader's cancel() gets
    // what the readable side has then, and the cancel answers it 'done' if nothing: a face's
    // component runs ahead of the reference (it took and parsed chunks the reference's writable
    // still held by backpressure: README, "Backpressure", "Taken is not passed on") or behind it
    // (its output comes a turn after the write: ALLOWANCE later-output). 'value' against 'done',
    // either way, only for a read with no wait or awaited operation before that cancel. The data
    // is checked against the model. Seed 12417 of NdjsonParseStream.
    if (id.startsWith('read@') && [a, b].includes('value') && [a, b].includes('done') && cancelLaterInTick(program, opIndex(id))) continue
    if (/^(read@|rclosed)/.test(id) && b === 'rej:TypeError:ERR_INVALID_STATE' && a.startsWith('rej:') &&
      releasedInAbortTick(program, id.startsWith('read@') ? opIndex(id) : -1, a)) continue
    // ALLOWANCE same-tick invalid chunk: a chunk that is no bytes errors both sides of a face
    // inside the write() that reaches its component (README, "Cancellation and errors": "before
    // the call returns"); the reference's transform (which errors both sides as it is called)
    // runs only once its writable side has started, two microtasks after the face's (ALLOWANCE
    // start-timing), or once a write ahead of it has finished. So a reader's releaseLock() in
    // the write's tick finds the face's readable side errored (its read and `closed` reject with
    // the chunk's error) and the reference's open (rejected with the release's TypeError). Only
    // the error that write got on the face, only for a release in its tick. Seed 12259 of
    // BoundedBufferStream (a microtask after the start).
    // (Or the chunk a producer's pipe writes, which has no promise of the program's: Node's
    // pipeTo writes a chunk inside the source's enqueue() when its read waits, so the face errors
    // in that tick, where the reference's transform waits for its readable side's backpressure
    // (highWaterMark 0) too. Then only the error the face's readable side ended with, the
    // chunk's (TypeError ERR_INVALID_ARG_TYPE). Seed 12614 of NdjsonParseStream (pipeThrough).)
    const chunkError = (w) => (program.producer.mode === 'writer'
      ? s.outcomes.get(`invalidWrite@${w}`) === a
      : a === 'rej:TypeError:ERR_INVALID_ARG_TYPE' && s.end.r === 'errored:TypeError:ERR_INVALID_ARG_TYPE')
    if (/^(read@|rclosed)/.test(id) && b === 'rej:TypeError:ERR_INVALID_STATE' && program.ops.some((op, k) =>
      op.op === 'releaseReader' && k > (id.startsWith('read@') ? opIndex(id) : -1) && happenedInTick(program, k, 'invalidWrite', chunkError))) continue
    // (The writer's releaseLock() in that tick, the same way round: the face's writable side is
    // "erroring" with the chunk's error, so the writer's `ready` had been rejected with it, where
    // the reference's stream was still writable (its transform waits for its readable side's
    // backpressure: a readable strategy of highWaterMark 1 byte holding the chunk before) and the
    // release rejected `ready` with its TypeError. Only that writer's `ready` (the one the
    // release let go), only the error that chunk's write got on the face. A TransformStream
    // whose readable side has room for the chunk before does what the face does (its transform
    // runs inside the write): BoundedBufferStream's capacity is that room (README,
    // "Backpressure"). Seed 32759 of BoundedBufferStream (block, bytes): a writable strategy of
    // highWaterMark 0, an awaited write, write(42), releaseLock().)
    if (id.startsWith('wready') && program.producer.mode === 'writer' && b === 'rej:TypeError:ERR_INVALID_STATE') {
      const releases = program.ops.flatMap((op, k) => (op.op === 'releaseWriter' && /writer=true/.test(s.pre[k]) ? [k] : []))
      const at = releases[Number(id.slice('wready'.length))]
      if (at !== undefined && happenedInTick(program, at, 'invalidWrite', chunkError)) continue
    }
    // ALLOWANCE second abort: a writer's abort() while an earlier one is pending returns that
    // one's promise (the standard's WritableStreamAbort), and once the stream has errored it
    // resolves: so a later abort() settles as that side's first one did, or resolves. The first
    // ones are compared (seeds 520, 608, 926).
    const firstAbort = program.ops.findIndex((op) => op.op === 'abort')
    if (id.startsWith('abort@') && program.producer.mode === 'writer' && firstAbort >= 0 && opIndex(id) > firstAbort &&
      [s.outcomes.get(`abort@${firstAbort}`), 'ok'].includes(a) && [c.outcomes.get(`abort@${firstAbort}`), 'ok'].includes(b)) continue
    // ALLOWANCE stalled-reference (close): a close() after the writer's abort(), where the
    // reference stalled: a write made before the abort is still in flight there for good (the
    // identity transform waits for room on its readable side, which a reader that never reads,
    // or a consumer's pipe into a destination of highWaterMark 0, never makes), so its writable
    // side stays "erroring" (the standard's WritableStreamAbort waits for the write in flight):
    // the abort never settles and a close() made then is taken and never settles either. The
    // face took that write (the parser's input queue, README "Backpressure") or, holding it, let
    // it go at the abort (lib/web/face.js, abortSignalled), so its abort settled and the close
    // met the writable side errored (refused: TypeError ERR_INVALID_STATE) or still erroring
    // (rejected with the abort's reason once it errored). A TransformStream with room for that
    // write does the same: `node __test__/web-contract-fuzz/evidence.js stalled-abort-close`.
    // Only 'pending' on the reference against one of those two rejections, only a close after
    // the first abort the writer made, only where the reference's abort is pending and the
    // face's settled, a write before the abort pending on the reference and settled on the
    // face, and the face's writable side ended errored with the abort's reason. Seed 3421 of
    // NdjsonParseStream (a turn before the abort) and NdjsonStringifyStream (in the write's tick).
    // (A writer released before its `closed` settled leaves no end state of the writable side
    // (engine.js lock): then only the rejection with the abort's reason, which is the stored
    // error (the standard's WritableStreamRejectCloseAndClosedPromiseIfNeeded rejects a close
    // taken while "erroring" with it), and only where the face's abort resolved. Seed 5544 of
    // BoundedBufferStream (block, objects): an awaited write, a write, abort(R), close(),
    // releaseLock().)
    // (Or, the writer released so, the refusal (TypeError ERR_INVALID_STATE) where no close()
    // came before this one: the face's abort resolved, so its writable side had errored (a
    // close() is refused only on a closed or errored stream, or behind another close). Seed
    // 125737 of ThrottleStream and MeterStream (objects): two awaited writes, abort(R), close(),
    // releaseLock(); a consumer's pipe into a destination of highWaterMark 0.)
    if ((id.startsWith('close@') || id === 'settle-close') && b === 'pending' && program.producer.mode === 'writer') {
      // (The settle phase's close() comes after every operation.)
      const closeAt = id === 'settle-close' ? program.ops.length : opIndex(id)
      const at = program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k))
      const reason = at >= 0 && program.ops[at].reason ? 'R' : 'undefined'
      const firstClose = !program.ops.some((op, k) => k < closeAt && op.op === 'close' && happened(program, k))
      if (at >= 0 && closeAt > at && c.outcomes.get(`abort@${at}`) === 'pending' && !['pending', undefined].includes(s.outcomes.get(`abort@${at}`)) &&
        program.ops.some((op, k) => k < at && op.op === 'write' && c.outcomes.get(`write${op.id}`) === 'pending' && !['pending', undefined].includes(s.outcomes.get(`write${op.id}`))) &&
        (([`rej:${reason}`, 'rej:TypeError:ERR_INVALID_STATE'].includes(a) && s.end.w === `errored:${reason}`) ||
          ((a === `rej:${reason}` || (a === 'rej:TypeError:ERR_INVALID_STATE' && firstClose)) && s.end.w === null && s.outcomes.get(`abort@${at}`) === 'ok'))) continue
      // (The same stall with the strategy's error in the abort's place: a chunk the writable
      // strategy cannot size errors the writable side, "erroring" behind the reference's write in
      // flight for good (its transform waits for a read a consumer's pipe into a destination of
      // highWaterMark 0 never makes), so its close() is taken and never settles; the face's
      // parser input queue had taken that write, so its writable side had errored and the close
      // was refused (TypeError ERR_INVALID_STATE), or rejected with the stored error. Only a close
      // after that chunk, a write before it pending on the reference and settled on the face, the
      // reference's writable side never ended and the face's ended errored with the strategy's
      // error. Seed 38428 of NdjsonParseStream: an awaited write, a string under a
      // ByteLengthQueuingStrategy, close(). The settle phase's close() too: seed 44735 of
      // NdjsonParseStream, a write, three turns, a string, no close() of the program's.)
      // (A writer released after the chunk leaves no end state of the face's writable side: then
      // the error the chunk's write was rejected with there, the strategy's (it errors the
      // writable side at once, as the standard's WritableStreamDefaultControllerGetChunkSize
      // does). Seed 126068 of NdjsonParseStream: a write, an awaited write, write({}) under a
      // ByteLengthQueuingStrategy, close(), releaseLock().)
      const sAt = strategyErrorAt(program)
      const sChunk = sAt < 0 ? undefined : s.outcomes.get(program.ops[sAt].op === 'write' ? `write${program.ops[sAt].id}` : `invalidWrite@${sAt}`)
      const sErr = s.end.w !== null ? (s.end.w || '').slice('errored:'.length) : (sChunk || '').startsWith('rej:') ? sChunk.slice(4) : ''
      if (sAt >= 0 && closeAt > sAt && c.end.w === null && ['RangeError:ERR_INVALID_ARG_VALUE', 'TypeError'].includes(sErr) &&
        ['rej:' + sErr, 'rej:TypeError:ERR_INVALID_STATE'].includes(a) &&
        program.ops.some((op, k) => k < sAt && op.op === 'write' && c.outcomes.get(`write${op.id}`) === 'pending' && !['pending', undefined].includes(s.outcomes.get(`write${op.id}`)))) continue
    }
    // ALLOWANCE abort-during-close: writer.abort() while close() is in flight tears a transform
    // face down at once, as any abort() does (README, "Cancellation and errors": its close may be
    // waiting for the reader, and an abort must not wait behind it): the close and the abort
    // reject with the reason and the readable side errors with it (the standard's AbortError for
    // none: the abort signal's reason); a TransformStream lets the close finish (the standard's
    // WritableStreamAbort waits for the close in flight, which then wins): the close and the abort
    // resolve and the readable side closes after its values. `node
    // __test__/web-contract-fuzz/evidence.js close-then-abort` (seeds 795, 926).
    if (abortDuringClose && desc.kind === 'transform' && /^(read@|drain|rclosed|close@|abort@|settle-close|wclosed|pipe-out|iter|tee-b)/.test(id) &&
      ['value', 'done', 'ok', 'rej:TypeError:ERR_INVALID_STATE'].includes(b) && (a.startsWith('rej:') && (T.has(a.slice(4)) || a === 'rej:AbortError:20'))) continue
    // (And the reader's cancel() after that abort: a cancel() of an errored stream is rejected
    // with its error, of a closed one resolves (the standard's ReadableStreamCancel). Only
    // rejected with the error the face's readable side ended with against resolved, only a
    // cancel after the first abort() the writer made, both the close() before it and that abort
    // resolved on the reference. Seed 150515 of NdjsonParseStream: three turns, close(), abort(),
    // cancel(C) in a tick.)
    if (abortDuringClose && desc.kind === 'transform' && id.startsWith('cancel@') && b === 'ok' && s.end.r === `errored:${a.slice(4)}` && a.startsWith('rej:')) {
      const at = program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k))
      if (at >= 0 && opIndex(id) > at && c.outcomes.get(`abort@${at}`) === 'ok' &&
        program.ops.some((op, k) => k < at && op.op === 'close' && happened(program, k) && c.outcomes.get(`close@${k}`) === 'ok')) continue
    }
    // (And the abort() itself, pending on the reference because its write stalled (ALLOWANCE
    // stalled-reference (close), above): the identity transform waits for room on its readable
    // side that a consumer's pipe into a destination of highWaterMark 0 never makes, so the
    // write stays in flight, the close() behind it queued, and the abort (the standard's
    // WritableStreamAbort) waits for that write for good. The face's component took the write
    // (README, "Backpressure"), its close() went in flight (waiting for the reader), and the
    // abort tore it down at once: both rejected with the reason. A TransformStream with room for
    // that write lets its close finish and its abort resolves, the pair above: `node
    // __test__/web-contract-fuzz/evidence.js stalled-close-then-abort`. Only the first abort()
    // the writer made, pending on the reference, rejected on the face as the close() before it
    // was, that close pending on the reference, a write before that close pending on the
    // reference and resolved on the face, and the face's writable side ended errored with that
    // reason (or its writer released: no end seen). Seed 61799 of BoundedBufferStream (block,
    // bytes): an awaited write, an awaited close(), write(null), abort(R).)
    if (abortDuringClose && desc.kind === 'transform' && id.startsWith('abort@') && b === 'pending' && a.startsWith('rej:') && T.has(a.slice(4))) {
      const at = program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k))
      const closeAt = program.ops.findIndex((op, k) => k < at && op.op === 'close' && happened(program, k))
      if (opIndex(id) === at && closeAt >= 0 && s.outcomes.get(`close@${closeAt}`) === a && c.outcomes.get(`close@${closeAt}`) === 'pending' &&
        [`errored:${a.slice(4)}`, null].includes(s.end.w) &&
        program.ops.some((op, k) => k < closeAt && op.op === 'write' && c.outcomes.get(`write${op.id}`) === 'pending' && s.outcomes.get(`write${op.id}`) === 'ok')) continue
    }
    // (With abort() given no reason, the reference's close still queued (not in flight: behind
    // a write its transform had not taken, a reader that never reads) took the abort, and its
    // readable side errored with the reason as given, undefined; the face's close was in flight
    // (its component had taken the write), and its readable side errored with the abort
    // signal's reason, the standard's AbortError (README). Only the readable side's answers
    // (reads, `closed`), only where the first abort() the writer made had no reason, the face's
    // close() before it was rejected with the AbortError and the reference's with undefined.
    // Seed 28420 of BoundedBufferStream (block, bytes): an empty write, an awaited close(), abort(), read().)
    if (abortDuringClose && desc.kind === 'transform' && /^(read@|drain|rclosed)/.test(id) && a === 'rej:AbortError:20' && b === 'rej:undefined') {
      const at = program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k))
      if (at >= 0 && !program.ops[at].reason && program.ops.some((op, k) => k < at && op.op === 'close' && happened(program, k) &&
        s.outcomes.get(`close@${k}`) === 'rej:AbortError:20' && c.outcomes.get(`close@${k}`) === 'rej:undefined')) continue
    }
    // ALLOWANCE erroring-or-errored: after a teardown of the writable side (abort(), a strategy
    // error, the reader's cancel, a failing chunk) a WritableStream is "erroring" while a write
    // or close is in flight and "errored" after; a close() in the first state is taken and
    // rejected with the stored error, in the second refused with a TypeError, and a write after
    // such a close is refused with a TypeError (close queued) where it would have met the stored
    // error (the standard's WritableStreamDefaultWriterWrite and WritableStreamClose check the
    // states in that order). Which one an operation meets is the sink's timing: the face settles
    // a write when its component has taken the chunk and completes a close once its component
    // has flushed (ticks later than a synchronous transform/flush), and its writable side starts
    // two microtasks before a TransformStream's (ALLOWANCE start-timing). A TransformStream whose
    // transform takes a turn does what the face does: `node __test__/web-contract-fuzz/evidence.js
    // abort-in-flight` (seeds 407, 591, 954, 909, 162, 548 of ThrottleStream, MeterStream,
    // BoundedBufferStream; 80, 292, 520 of NdjsonParseStream).
    // (And readable.cancel() after a strategy error: a TransformStream's rejects with the stored
    // error once its writable side has "errored", resolves while it is "erroring": not started
    // yet, two microtasks after the face's, or a write in flight. Seed 686.)
    // One way only: the reference resolving where the face rejects. The face resolving where the
    // reference rejects is the bug 2ed08aa fixed (seeds 122, 299, 479 catch it).
    if (id.startsWith('cancel@') && strategyErrors(program) && b === 'ok' && /^rej:(RangeError:ERR_INVALID_ARG_VALUE|TypeError)$/.test(a)) continue
    // (The other way too, but only with a write in flight on the face at the cancel: one made
    // before the cancel that settled after it there. Then the writable side torn down by the
    // strategy's error or the writer's abort() is still "erroring" and a TransformStream's cancel
    // resolves, as the face's does (README: "resolves while a write is still in flight"), where
    // the reference's synchronous transform had finished its write and its writable side had
    // "errored": its cancel rejects with the stored error (the strategy's, or the abort's
    // reason). A TransformStream with a turn per chunk resolves as the face does: `node
    // __test__/web-contract-fuzz/evidence.js cancel-while-erroring`. Seeds 10520 (strategy) and 11042 (abort) of
    // BoundedBufferStream (block, bytes).)
    const inFlightAt = (rec, k) => {
      const at = rec.settleOrder.indexOf(id)
      return at >= 0 && program.ops.some((op, j) => j < k && op.op === 'write' && rec.settleOrder.indexOf(`write${op.id}`) > at)
    }
    const storedError = (k) => new Set([
      ...(strategyErrorAt(program) >= 0 && strategyErrorAt(program) < k ? ['rej:RangeError:ERR_INVALID_ARG_VALUE', 'rej:TypeError'] : []),
      ...program.ops.filter((op, j) => j < k && op.op === 'abort' && program.producer.mode === 'writer' && happened(program, j)).map((op) => (op.reason ? 'rej:R' : 'rej:undefined'))
    ])
    if (id.startsWith('cancel@') && a === 'ok' && storedError(opIndex(id)).has(b) && inFlightAt(s, opIndex(id))) continue
    // (With a producer's pipe, which has no promise per chunk: a chunk the source enqueued right
    // before the one the strategy cannot size, in its tick, and the cancel with only microtask
    // waits after them: the face's component takes that chunk a turn later (its write still in
    // flight, the writable side "erroring"), the reference's synchronous transform had finished
    // it. A TransformStream with a turn per chunk resolves as the face does: `node
    // __test__/web-contract-fuzz/evidence.js cancel-while-erroring-pipe`. Seed 80648 of
    // BoundedBufferStream (block, bytes): a chunk and a string enqueued, a microtask, a read, a
    // microtask, cancel(C).)
    if (id.startsWith('cancel@') && a === 'ok' && program.producer.mode !== 'writer' && strategyErrorAt(program) >= 0 && strategyErrorAt(program) < opIndex(id) &&
      ['rej:RangeError:ERR_INVALID_ARG_VALUE', 'rej:TypeError'].includes(b)) {
      const e = strategyErrorAt(program)
      const before = e > 0 && program.ops[e - 1].op === 'write' && program.ops[e - 1].form !== 'string'
      // (Between them only microtask waits, reads not awaited and more chunks enqueued: no turn.)
      const noTurn = (op) => (op.op === 'wait' && op.how === 'microtask') || (op.op === 'read' && !op.awaited) || op.op === 'write' || op.op === 'invalidWrite'
      if (before && program.ops.slice(e + 1, opIndex(id)).every(noTurn)) continue
    }
    const swapped = (x, y) => x === 'rej:TypeError:ERR_INVALID_STATE' && y.startsWith('rej:') && (T.has(y.slice(4)) || y === 'rej:R')
    if (/^(write|close@|settle-close|wclosed|abort@)/.test(id) && (tornDown || strategyErrors(program)) && (swapped(a, b) || swapped(b, a))) continue
    // (A `for await` that breaks is a reader's cancel too, which errors the writable side with
    // undefined: a write after the writer's close() met the close queued on the face (refused,
    // TypeError ERR_INVALID_STATE), whose loop broke later (its component takes a chunk a turn
    // later), where the reference's writable side had errored (rejected with undefined). A
    // TransformStream with a turn per chunk answers as the face: `node
    // __test__/web-contract-fuzz/evidence.js break-then-write-after-close`. Only where both loops
    // broke and both writable sides ended errored with undefined, no other teardown
    // (brokeLater), only a write. Seed 97772 of BoundedBufferStream (block, objects): breakAt 4,
    // four writes, a microtask, close(), a microtask, a write.)
    if (brokeLater && id.startsWith('write') && a === 'rej:TypeError:ERR_INVALID_STATE' && b === 'rej:undefined' &&
      program.ops.some((op, k) => k < writeIndex(id) && op.op === 'close' && happened(program, k))) continue
    // (An invalid chunk written after such a close() too: refused as a write is, close queued or
    // errored, before its chunk is looked at. Only after a close() the writer made, and the other
    // side's answer is the error its writable side stored, not the chunk's own. Seed 12203 of
    // BoundedBufferStream: abort(), close(), write(42) a microtask after the start.)
    // (With the writer released after the chunk, no end seen (null): the reason of the writer's
    // first abort() before the chunk, where the readable side ended errored with it (a transform
    // face's abort errors both sides with its reason; its consumer pipe rejected with it). Seed 106057 of ThrottleStream and
    // MeterStream (bytes): abort(), close(), a microtask, write(42), releaseLock(): the face's
    // writable side had finished erroring (it starts two microtasks sooner, ALLOWANCE
    // start-timing), the reference's was still erroring with the close queued.)
    // (Or its consumer's `for await` rejected with it, no reader's end seen: seed 186905 of
    // ThrottleStream and MeterStream (bytes): abort(), a microtask, close(), write({}),
    // releaseLock(), a `for await` consumer: the face's writable side had errored, so its close
    // was refused and the chunk rejected with undefined; the reference's was still erroring, its
    // close taken and the chunk refused behind it. `node __test__/web-contract-fuzz/evidence.js
    // abort-microtask-close-invalid`.)
    const abortBefore = program.producer.mode === 'writer' ? program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k) && k < opIndex(id)) : -1
    // (The readable side's end as its consumer saw it: a reader's, or a consumer pipe's or
    // `for await`'s rejection.)
    const readableErroredWith = (rec, reason) => rec.end.r === 'errored:' + reason || (rec.end.r === null && con0 !== null &&
      ((con0.mode === 'pipeTo' && rec.outcomes.get('pipe-out') === 'rej:' + reason) || (con0.mode === 'iter' && rec.outcomes.get('iter') === 'rej:' + reason)))
    const abortStored = (rec) => {
      if (desc.kind !== 'transform' || rec.end.w !== null || abortBefore < 0 || !program.ops.some((op, k) => k > opIndex(id) && op.op === 'releaseWriter' && /writer=true/.test(rec.pre[k]))) return null
      const reason = program.ops[abortBefore].reason ? 'R' : 'undefined'
      return readableErroredWith(rec, reason) ? 'rej:' + reason : null
    }
    // (Or, with no abort() before it, the error of the first invalid chunk the writer wrote
    // before it, the first teardown, where that chunk's write was rejected with it and the
    // readable side ended errored with it (as its consumer saw it; unminimised, a consumer's pipe
    // rejected with it): seed 194101 of NdjsonParseStream: a turn, write({}), a
    // microtask, close(), a microtask, write({}), releaseLock(). The face's write of the first
    // chunk settled later (its writable side "erroring" with that write in flight for longer),
    // so the second chunk met the close queued (refused, TypeError ERR_INVALID_STATE); the
    // reference's had "errored" by then (rejected with the stored error). A TransformStream whose
    // transform errors its controller and rejects a turn later does what the face does: `node
    // __test__/web-contract-fuzz/evidence.js invalid-close-invalid`.)
    const invalidStored = (rec) => {
      if (desc.kind !== 'transform' || rec.end.w !== null || program.producer.mode !== 'writer' || !program.ops.some((op, k) => k > opIndex(id) && op.op === 'releaseWriter' && /writer=true/.test(rec.pre[k]))) return null
      const k0 = program.ops.findIndex((op, k) => teardownMade(k))
      if (k0 < 0 || k0 >= opIndex(id) || program.ops[k0].op !== 'invalidWrite') return null
      const first = rec.outcomes.get(`invalidWrite@${k0}`)
      return typeof first === 'string' && first.startsWith('rej:') && readableErroredWith(rec, first.slice(4)) ? first : null
    }
    const stored = (rec) => (rec.end.w && rec.end.w.startsWith('errored:') ? 'rej:' + rec.end.w.slice('errored:'.length) : abortStored(rec) ?? invalidStored(rec))
    if (id.startsWith('invalidWrite@') && program.ops.some((op, k) => k < opIndex(id) && op.op === 'close' && happened(program, k)) &&
      ((swapped(a, b) && b === stored(c)) || (swapped(b, a) && a === stored(s)))) continue
    // ALLOWANCE timing: a promise made before the first teardown (abort, cancel, the signal, an
    // invalid chunk, a failing destination, an invalid line) settles by where its chunk was when
    // the teardown came: taken (resolved) by a face that buffers it (a Node stage's buffer, the
    // parser's input queue), or rejected with the teardown's reason, or still waiting (held by
    // backpressure, which the face's own buffer shifts). Any of these, not something else.
    // Strict where the operation met a writable side that had closed or errored on both sides
    // (aligned), or came after an operation that tore the run down at once.
    // (A consumer's or producer's loop — the `for await`, a pipe, the tee's second branch —
    // settles when the stream ends, not at an operation. Resolved or still waiting is timing and
    // backpressure (a face's own buffer takes a producer pipe's chunks where the reference's
    // waits for a reader; a wait on one side only is checked by the engine's hang detector), but
    // a rejection on either side needs a teardown in the run (one of the program's, an invalid
    // line, a failing destination, a strategy error, a loop that breaks) and a reason such a
    // teardown has: the standard's AbortError only with a signal or an abort() given none (the
    // face's readable side errors with it, ALLOWANCE abort-during-close), undefined only with an
    // abort() or cancel() given none or a loop that breaks. Before, a loop counted as made
    // before any teardown, so a face whose readable side errored with an AbortError where it
    // should have closed passed under every `for await` (a mutant, helper-137).)
    if (['iter', 'pipe-out', 'pipe-in', 'tee-b'].includes(id)) {
      const breaks = program.consumer !== null && program.consumer.mode === 'iter' && program.consumer.breakAt !== null
      const loopTorn = tornDown || failing || strategyErrors(program) || breaks
      const given = (kinds) => program.ops.some((op) => kinds.includes(op.op) && !op.reason)
      const loopReason = (r) => T.has(r) && (r !== 'AbortError:20' || given(['signal', 'abort'])) && (r !== 'undefined' || breaks || given(['abort', 'cancel']))
      const waits = (o) => o === 'ok' || o === 'pending'
      if (waits(a) && waits(b)) continue
      if (loopTorn && (waits(a) || (a.startsWith('rej:') && loopReason(a.slice(4)))) && (waits(b) || (b.startsWith('rej:') && loopReason(b.slice(4))))) continue
      problems.push(`${id}: sluice ${a}, reference ${b}`)
      continue
    }
    const i = id.startsWith('write') ? writeIndex(id) : opIndex(id)
    const early = i >= 0 ? i <= cut && !/w=(closed|errored)/.test(s.pre[i]) : true
    if ((early || failing) && answers(a) && answers(b)) continue
    problems.push(`${id}: sluice ${a}, reference ${b}`)
  }
  // ALLOWANCE monitored-abort: MonitoredWritableStream holds its destination's writer and aborts
  // it with its own error when a chunk is refused (not bytes): the destination learns of the
  // failure; a plain WritableStream's sink never sees the chunk it refused.
  // ALLOWANCE monitored-failure-race (sink log): when the destination fails a write, whether an
  // abort (the writer's, a pipe's signal) reaches its sink is the order of the two: a plain
  // WritableStream whose abort came while the failing write was in flight still calls its
  // sink's abort() after the failure (the standard's WritableStreamFinishErroring), and one whose
  // write failed first never does. MonitoredWritableStream's destination is a WritableStream of
  // its own (README: an underlying sink is taken "as new WritableStream(sink) takes"), errored
  // by its failing write before the face's abort gets there, or not yet when the face's buffer
  // (its highWaterMark) settled the writes early: either way round (seeds 139, 386, 422: the
  // reference's sink aborted; 546: the face's; `node __test__/web-contract-fuzz/evidence.js
  // monitored-failure-race`). Only when the destination got the chunk it fails.
  const destinationFailed = desc.kind === 'writable' && program.config.failAt >= 0 &&
    [s, c].some((rec) => rec.delivered.main.length > program.config.failAt)
  // ALLOWANCE (reported, not fixed) parse-error-waits-for-reads (sink log): NdjsonParseStream's
  // readable side errors only after the values before the bad line have been read (README,
  // "Cancellation and errors"); a consumer's pipe that never reads (a destination of
  // highWaterMark 0 never asks) never sees the error, so it does not abort its destination,
  // where the reference's transform errored its readable side at once (seeds 660, 877).
  const unreadError = failing && desc.bytesIn && !desc.bytesOut && s.outcomes.get('pipe-out') === 'pending'
  const sinkLog = (rec) => rec.log.filter((l) => !(destinationFailed && l.startsWith('abort:')) &&
    !(unreadError && l === `dest-abort:NdjsonError:${failing}`))
  const refused = (l) => desc.kind === 'writable' && /^abort:TypeError:ERR_(INVALID_ARG_TYPE|STREAM_NULL_VALUES)$/.test(l)
  // ALLOWANCE source-race (sink log): a pipe cancels its source only if the source is still
  // open when the destination fails or the signal comes; the program ends the source (close,
  // error, the settle phase: 'source-end') at fixed points, while the face fails at its own pace:
  // later (its output comes a turn after the write; the parser's failure comes from the worker),
  // or sooner (it fails a chunk that is no bytes inside the write, and errors its writable side
  // inside cancel(): ALLOWANCE same-tick cancel). So a source cancelled on one side only is no
  // difference when the program ended the source on the other side first. A TransformStream
  // whose transform takes a turn does it too: `node __test__/web-contract-fuzz/evidence.js
  // source-race` (seeds 134, 812 of ThrottleStream, MeterStream,
  // BoundedBufferStream: the reference with a turn per chunk logs what the face logs; 273, 715,
  // 255, 980, 814).
  // ALLOWANCE teardown-race (sink log): with two teardowns in a run (the signal, the source's
  // error, a failing chunk, an invalid line, the reader's cancel), which reaches a pipe first is
  // their timing through two chains of promise jobs: a pipe's abort or cancel may carry either
  // reason (seeds 426, 411; the reference with a turn per chunk shows seed 426's).
  // ALLOWANCE node-cancel-write (sink log): Node 20's bare TypeError of a write in the tick of a
  // cancel (ALLOWANCE node-cancel-write below, the outcomes) errors the reference's writable
  // side, whose pipe then cancels its source with it (seeds 808, 368, 887).
  const races = (sl, cl) => {
    const ended = (log) => log.includes('source-end') && !log.some((l) => l.startsWith('source-cancel:'))
    const drop = (log, other) => log.filter((l) => l !== 'source-end' && !(l.startsWith('source-cancel:') && ended(other)))
    const reason = (l) => l.slice(l.indexOf(':') + 1)
    const torn = (l) => T.has(reason(l))
    let a = drop(sl, cl)
    const b = drop(cl, sl)
    // One pipe's entry for the other's where both are teardowns (or Node 20's bare TypeError).
    a = a.map((l, i) => {
      const m = b[i]
      if (m === undefined || l === m) return l
      const kind = (x) => x.slice(0, x.indexOf(':'))
      if (kind(l) !== kind(m) || !/^(source-cancel|dest-abort|abort)$/.test(kind(l))) return l
      if (torn(l) && torn(m) && multipleTeardowns) return m
      if (m === 'source-cancel:TypeError' && nodeCancelWrite && torn(l)) return m
      return l
    })
    // (ALLOWANCE monitored-abort, above: the face's abort of its destination for a refused
    // chunk, where no other teardown's abort stands in its place.)
    return [a.filter((l) => !refused(l)), b.filter((l) => !refused(l))]
  }
  const teardownKinds = new Set(program.ops.filter((op) => ['abort', 'cancel', 'signal', 'invalidWrite'].includes(op.op)).map((op) => op.op))
  if (failing) teardownKinds.add('failing')
  // (A `for await` that breaks cancels the readable side: seed 814.)
  if (program.consumer && program.consumer.mode === 'iter' && program.consumer.breakAt !== null) teardownKinds.add('break')
  if (strategyErrors(program)) teardownKinds.add('strategy')
  if (program.config.failAt >= 0) teardownKinds.add('destination')
  const multipleTeardowns = teardownKinds.size > 1 || program.ops.filter((op) => ['abort', 'signal'].includes(op.op)).length > 1
  const nodeCancelWrite = cancelsReadable
  // ALLOWANCE stalled-reference: a reference pipe still pending at the end stalled on its own
  // backpressure (a write in flight that the identity transform holds until its reader has room,
  // which a destination of highWaterMark 0 never makes, so an abort waits behind it forever); the
  // face took that write, so the teardown went on through the pipes: the reference's log must
  // then be the start of the face's.
  const stalled = ['pipe-in', 'pipe-out'].some((id) => c.outcomes.get(id) === 'pending' && s.outcomes.get(id) !== 'pending')
  // ALLOWANCE monitored-abort-order: a pipe aborted by its signal aborts its destination and
  // cancels its source in one job, once its write in flight has settled; the destination's
  // abort() reaches its sink only after the sink's own write in flight (the standard's
  // WritableStreamAbort), so which of the two the log shows first is that write's timing, on
  // either side. MonitoredWritableStream shifts it: it settles a write once its own buffer (its
  // `highWaterMark`: README) has taken the chunk, while its destination may still be writing it,
  // where a plain WritableStream's write settles with its sink's. Adjacent `source-cancel:X` and
  // `abort:X` entries are compared in one order. Branch wip/web-contract-fuzz wip-notes/README.md, MonitoredWritableStream
  // seeds 34 and 51 (branch wip/web-contract-fuzz, wip-notes/monitored34.js).
  const abortBesideCancel = (log) => {
    const out = log.slice()
    for (let i = 0; desc.kind === 'writable' && i + 1 < out.length; i++) {
      if (out[i].startsWith('source-cancel:') && out[i + 1] === 'abort:' + out[i].slice('source-cancel:'.length)) {
        [out[i], out[i + 1]] = [out[i + 1], out[i]]
      }
    }
    return out
  }
  // ALLOWANCE pipes-apart (sink log): the producer's pipe (its source's entries) and the
  // consumer's pipe (its destination's) are two chains of promise jobs that neither waits for:
  // how their entries interleave is timing (seed 113: the signal's abort of the destination and
  // the cancel of the source after a strategy error, in either order). Each pipe's entries are
  // compared in order. (MonitoredWritableStream's log is its sink's and its producer pipe's,
  // which are one chain: compared as one, below.)
  const pipesApart = (log) => (desc.kind === 'transform' ? [...log.filter((l) => l.startsWith('source-')), ...log.filter((l) => !l.startsWith('source-'))] : log)
  const [sr, cr0] = races(pipesApart(sinkLog(s)), pipesApart(sinkLog(c)))
  // ALLOWANCE abort-during-close (sink log): the face torn down by an abort() while its close()
  // was in flight errors its readable side with the abort's reason (the standard's AbortError for
  // none, README), so the consumer's pipe aborts its destination with it; the reference's close
  // finished first (its pipe closes the destination), or, not started yet, took the abort with
  // the reason as given. Only the destination's entry, only the face's abort with that reason.
  // Seeds 5106 of BoundedBufferStream, 31268 of NdjsonParseStream.
  const duringClose = abortDuringClose && desc.kind === 'transform' ? program.ops.find((op, k) => op.op === 'abort' && happened(program, k)) : undefined
  const crA = duringClose === undefined
    ? cr0
    : cr0.map((l, i) => {
      const faceReasons = duringClose.reason ? ['R'] : ['undefined', 'AbortError:20']
      const given = duringClose.reason ? 'R' : 'undefined'
      // (Not with the consumer's preventAbort: then the face's pipe must leave its destination alone.)
      const mayAbort = program.consumer === null || !program.consumer.preventAbort
      return mayAbort && faceReasons.some((r) => sr[i] === 'dest-abort:' + r) && (l === 'dest-close' || l === 'dest-abort:' + given) ? sr[i] : l
    })
  // (With the consumer's preventAbort that pipe leaves its destination alone, where the
  // reference's closed it: no entry against 'dest-close'. Only where the face's pipe was rejected
  // with the abort's reason and its sink log has no destination entry. Seed 12337 of
  // BoundedBufferStream (objects).)
  const faceAbortReasons = duringClose === undefined ? [] : duringClose.reason ? ['rej:R'] : ['rej:undefined', 'rej:AbortError:20']
  const crB = duringClose !== undefined && program.consumer !== null && program.consumer.mode === 'pipeTo' && program.consumer.preventAbort &&
    faceAbortReasons.includes(s.outcomes.get('pipe-out')) && !sr.some((l) => l.startsWith('dest-'))
    ? crA.filter((l) => l !== 'dest-close')
    : crA
  // (And with the consumer's preventClose, the reference's pipe, its readable side closed,
  // leaves its destination alone, where the face's aborted it: the face's 'dest-abort:X' against
  // no destination entry. Only X the face's abort reason, the one destination entry in the face's
  // log, the face's pipe rejected with X and the reference's resolved. Seed 9398 of
  // BoundedBufferStream (block, bytes): an awaited write, close(), abort().)
  const destAt = sr.findIndex((l) => l.startsWith('dest-'))
  const cr = duringClose !== undefined && program.consumer !== null && program.consumer.mode === 'pipeTo' && program.consumer.preventClose &&
    !program.consumer.preventAbort && c.outcomes.get('pipe-out') === 'ok' && destAt >= 0 && sr.filter((l) => l.startsWith('dest-')).length === 1 &&
    faceAbortReasons.some((r) => s.outcomes.get('pipe-out') === r && sr[destAt] === 'dest-abort:' + r.slice(4)) && !crB.some((l) => l.startsWith('dest-'))
    ? [...crB.slice(0, destAt), sr[destAt], ...crB.slice(destAt)]
    : crB
  // ALLOWANCE monitored-close-race (sink log): a close (the writer's close(), or the source's end
  // that the producer's pipe turns into one) followed by a teardown (the writer's abort(), the
  // pipe's signal): whether the sink is closed or aborted is whether the close was in flight when
  // the teardown came (the standard: an abort after that lets the close finish). The face's
  // writes settle once its buffer (its `highWaterMark` option, README) has taken the chunk, not
  // as the reference's WritableStream queue of that size takes it: sooner with the default (16
  // KiB, where the reference holds one chunk: seed 40803), sooner with highWaterMark 0 (the
  // reference's writer.ready never resolves, so its pipe never writes: seeds 42897, 41614 of
  // MonitoredWritableStream(bytes, objects)), later with a count the bytes face reads as bytes
  // (4 bytes against 4 chunks, a 193-byte chunk waits for the destination: seed 40918). So the
  // close goes in flight before the teardown on one side only. Only 'close' against the
  // teardown's 'abort:X', and only where each side's own close promise (the close(), or the
  // producer's pipe) agrees with its sink: resolved with 'close', rejected with X with
  // 'abort:X'; a sink closed and aborted, neither, or with another reason is still a difference.
  const closeOp = program.ops.findIndex((op, k) => op.op === 'close' && happened(program, k))
  const teardownOp = program.ops.findIndex((op, k) => k > closeOp && (program.producer.mode === 'writer' ? op.op === 'abort' && happened(program, k) : op.op === 'signal'))
  const raceReasons = new Set(closeOp < 0 || teardownOp < 0 ? [] : program.producer.mode === 'writer'
    ? program.ops.filter((op) => op.op === 'abort').map((op) => (op.reason ? 'R' : 'undefined'))
    : [program.ops[teardownOp].reason ? 'S' : 'AbortError:20'])
  const closePromise = program.producer.mode === 'writer' ? `close@${closeOp}` : 'pipe-in'
  const agrees = (rec, l) => (l === 'close' ? rec.outcomes.get(closePromise) === 'ok' : rec.outcomes.get(closePromise) === 'rej:' + l.slice('abort:'.length))
  // (Not a pipe with preventClose: its sink is never closed by it. Found by a mutant, helper-135.)
  const pipeKeepsOpen = program.producer.mode === 'pipeTo' && program.producer.preventClose
  const raced = (x, y) => !pipeKeepsOpen && x === 'close' && y.startsWith('abort:') && raceReasons.has(y.slice('abort:'.length))
  const cr2 = desc.kind !== 'writable' || raceReasons.size === 0
    ? cr
    : cr.map((l, i) => (sr[i] !== undefined && (raced(sr[i], l) || raced(l, sr[i])) && agrees(s, sr[i]) && agrees(c, l) ? sr[i] : l))
  // ALLOWANCE closed-before-signal (sink log): the writer's close() and then the signal of the
  // consumer's pipe: the face's readable side closed before the signal came, so its pipe ended
  // as a close (its destination closed, or left alone with preventClose), where the
  // reference's was still running and aborted its destination. The face's close came sooner, or
  // the signal later: NdjsonStringifyStream with no line pending closes its readable side inside
  // close() (README, "Cancellation and errors"; ALLOWANCE same-tick close), the reference's a
  // promise job later, after the signal of the next microtask (seed 42557); a face's close() may
  // wait for its reader (README: "a face's close may be waiting for its reader"; ALLOWANCE
  // close-waits-for-reader), so an awaited close() returns once the slow pipe has read every
  // value, where the reference's returned with values still queued and its pipe behind (seed
  // 41871 of NdjsonParseStream, a readable strategy of highWaterMark 0). Only with no other
  // teardown before the signal, only that entry, and only where the face's pipe resolved
  // (invariants then hold it to every value: the end was seen) and the reference's was
  // rejected with the signal's reason.
  const con = program.consumer
  // (A teardown the writer or reader made: an abort(), a cancel() or an invalid chunk with no
  // writer or reader there (released) does nothing. Seed 15772 of NdjsonParseStream: close(),
  // releaseLock(), abort(), an invalid chunk, the signal.)
  // (Nor one the producer's source enqueues after its close() or error(): engine.js enqueues
  // nothing then. Seed 74282 of BoundedBufferStream (block, bytes), minimised.)
  // (Nor a source's error() after its close(), for the same reason, nor an invalid chunk the
  // writer wrote after its close(), refused on both sides before the chunk is looked at
  // (TypeError ERR_INVALID_STATE, or Node 20's ERR_INTERNAL_ASSERTION: ALLOWANCE
  // node-assertion). Seeds 110703 of BoundedBufferStream (block, objects): a producer's pipeTo,
  // two values, the source's close(), its error(), a microtask, a turn, the signal; 114476 of
  // BoundedBufferStream (block, bytes): close(), an awaited write, write(null), a write, the
  // signal.)
  const refusedWrite = (o) => ['rej:TypeError:ERR_INVALID_STATE', 'rej:Error:ERR_INTERNAL_ASSERTION'].includes(o)
  const tearsDown = (k) => {
    const op = program.ops[k].op
    if (op === 'invalidWrite') {
      if (program.producer.mode === 'writer' && program.ops.slice(0, k).some((o, j) => o.op === 'close' && happened(program, j)) &&
        refusedWrite(s.outcomes.get(`invalidWrite@${k}`)) && refusedWrite(c.outcomes.get(`invalidWrite@${k}`))) return false
      return program.producer.mode !== 'writer' ? !program.ops.slice(0, k).some((o) => o.op === 'close' || o.op === 'abort') : /writer=true/.test(s.pre[k])
    }
    if (op === 'abort' && program.producer.mode !== 'writer' && program.ops.slice(0, k).some((o) => o.op === 'close' || o.op === 'abort')) return false
    return ['abort', 'cancel'].includes(op) && happened(program, k)
  }
  const signalAt = program.ops.findIndex((op) => op.op === 'signal')
  // (Or the source of the producer's pipe ended in the writer's close() place: that pipe closes
  // the writable side. Its writes go through the face a few microtasks sooner (the face's sides
  // start two microtasks before a TransformStream's, ALLOWANCE start-timing), so the consumer's
  // pipe into a slow destination (a turn per chunk) was a turn ahead and had finished when the
  // signal came, where the reference's was writing its last chunk. An identity TransformStream
  // given three microtasks to start before the chunks come does what the face does: `node
  // __test__/web-contract-fuzz/evidence.js ended-before-consumer-signal`. Only a producer's
  // pipeTo whose source the program closed before the signal, both producer pipes resolved.
  // Seed 74282 of BoundedBufferStream (block, bytes): four chunks, a microtask, the source's
  // close(), three turns, the signal.)
  // (Or a producer's pipeThrough that takes no signal (its promise is not the program's): its
  // source's close() before the signal, and the face's consumer pipe resolved, so the face's
  // readable side closed, which it does only after its writable side closed, which only that
  // pipe does, after the source's close. Seed 139344 of NdjsonStringifyStream: four values, the
  // source's close(), three turns, the signal of the consumer's pipe into a slow destination (a
  // turn per chunk): the face's four lines went in one batch (README: values written back to
  // back share a batch), so its pipe had finished; the reference's four chunks took four turns.)
  // A producer's pipe that the source's close() ended on both sides: a pipeTo resolved on both,
  // a pipeThrough that takes no signal (nothing else stops it).
  const sourcePipeEnded = program.producer.mode === 'pipeTo'
    ? s.outcomes.get('pipe-in') === 'ok' && c.outcomes.get('pipe-in') === 'ok'
    : !program.producer.signal
  const endedBefore = (k) => (program.producer.mode === 'writer'
    ? happened(program, k) && s.outcomes.get(`close@${k}`) === 'ok'
    : sourcePipeEnded)
  // (Nor a writer's abort() that met the writable side closed on both sides (the close before it
  // awaited): it resolves and does nothing (the standard's WritableStreamAbort). Seeds 205003
  // and 208644 of NdjsonParseStream: a write of several lines, an awaited close(), abort(), the
  // signal; the face's awaited close returned once its slow pipe had read every value, as in
  // seed 41871. `node __test__/web-contract-fuzz/evidence.js close-abort-then-signal`.)
  const abortOnClosed = (k) => program.ops[k].op === 'abort' && program.producer.mode === 'writer' && [s, c].every((rec) => rec.pre[k].startsWith('w=closed '))
  const closedBeforeSignal = desc.kind === 'transform' && con !== null && con.mode === 'pipeTo' && con.signal &&
    signalAt >= 0 && program.ops.some((op, k) => k < signalAt && op.op === 'close' && endedBefore(k)) &&
    !program.ops.slice(0, signalAt).some((op, k) => tearsDown(k) && !abortOnClosed(k)) && !failing && !strategyErrors(program) &&
    s.outcomes.get('pipe-out') === 'ok' && c.outcomes.get('pipe-out') === `rej:${program.ops[signalAt].reason ? 'S' : 'AbortError:20'}`
  // ALLOWANCE closed-before-abort (sink log): the writer's close() and, a microtask or two
  // later, its abort(), right after the start: the face's writable side starts two microtasks
  // before a TransformStream's (ALLOWANCE start-timing), so its close had gone in flight and,
  // with nothing to flush, closed the readable side (its pipe closes the destination) and the
  // abort found a closed stream (resolved); the reference's close was still queued behind its
  // start, so the abort won (the standard's WritableStreamAbort: a close not in flight is
  // rejected with the reason) and its readable side errored: its pipe aborted the destination.
  // A plain WritableStream does what the face does: `node __test__/web-contract-fuzz/evidence.js
  // close-then-abort-at-start`. Only 'dest-close' (nothing, with preventClose) against that
  // 'dest-abort:X', X the reason the reference's pipe was rejected with, only where the face's
  // close() and abort() resolved and its pipe resolved (invariants then hold it to every value),
  // and the reference's close() was rejected with the abort's reason (it never went in flight);
  // no teardown before that abort. Seeds 15677 of NdjsonStringifyStream, 15772 of
  // NdjsonParseStream (a signal after the abort: the reference's pipe took its reason).
  const abortAt = program.producer.mode === 'writer' ? program.ops.findIndex((op, k) => op.op === 'abort' && happened(program, k)) : -1
  const closedAt = abortAt < 0 ? -1 : program.ops.findIndex((op, k) => k < abortAt && op.op === 'close' && happened(program, k))
  const closedBeforeAbort = desc.kind === 'transform' && con !== null && con.mode === 'pipeTo' && closedAt >= 0 &&
    !program.ops.slice(0, abortAt).some((op, k) => op.op === 'signal' || tearsDown(k)) && !failing && !strategyErrors(program) &&
    s.outcomes.get(`close@${closedAt}`) === 'ok' && s.outcomes.get(`abort@${abortAt}`) === 'ok' && s.outcomes.get('pipe-out') === 'ok' &&
    c.outcomes.get(`close@${closedAt}`) === `rej:${program.ops[abortAt].reason ? 'R' : 'undefined'}` &&
    (c.outcomes.get('pipe-out') || '').startsWith('rej:') && T.has(c.outcomes.get('pipe-out').slice(4))
  // (closed-after-signal, values held: or the face's destination got fewer, what it lacks still
  // held by the face when the signal came: its close() resolved once its Node stage had taken
  // every value (README, "Backpressure": the face's own buffer), before they had all been read,
  // and the pipe's abort cancelled its readable side and threw the rest away, as a
  // TransformStream whose readable side had room for them does, where one whose readable side
  // holds none has handed its last value to the pipe before close() resolves: `node
  // __test__/web-contract-fuzz/evidence.js close-then-signal`. Only a prefix of the reference's
  // data (its pipe resolved: invariants hold it to every value), short by no more than the face
  // held at the signal (engine.js heldAtSignal: lib/web/face.js heldOutput, its readable queue
  // and its Node stage's buffers, in items, or bytes), so a value the face lost is still
  // reported. Seed 55750 of ThrottleStream and MeterStream (objects): three writes, an awaited
  // close(), the signal, a slow destination.)
  // ALLOWANCE closed-after-signal (sink log), the other way round: the writer's awaited close()
  // and then the signal, every chunk already in the destination on both sides. The reference's
  // readable side closed inside its close() (nothing was queued), so its pipe was closing the
  // destination when the signal came and ignored it; the face's readable side closes after its
  // close() resolved, once its buffer has been read out (BoundedBufferStream's capacity took the
  // chunks, so its close() did not wait for the slow consumer), so its pipe was still running and
  // aborted the destination. A TransformStream with a chunk still queued when close() resolves
  // does the same. Only 'dest-abort:X' (X the signal's reason, which rejected the face's pipe)
  // against 'dest-close', only with no other teardown before the signal, and only where both
  // destinations got the same data. Seeds 22559 and 23792 of BoundedBufferStream (block, bytes /
  // objects; capacity 2, a slow consumer: without this allowance the only failures of 21000-38999
  // there); seed 21939, which it was written for, no longer needs it since the readable side's
  // close is requested as the face's close() resolves (f4dd298).
  // (Or a producer's pipe whose source's close() came before the signal, with no source error
  // before it: pipeTo's promise resolved on both sides; pipeThrough's is not the program's, so
  // only with a producer that takes no signal (nothing else stops that pipe). Seed 108075 of
  // BoundedBufferStream (block, bytes): a pipeThrough, four chunks, the source's close(), three
  // turns, the signal of the consumer's pipe into a slow destination; the face's pipe was still
  // writing its last chunk, the reference's had closed the destination. A TransformStream whose
  // output comes a turn after the write does what the face does: `node
  // __test__/web-contract-fuzz/evidence.js close-then-signal`.)
  const sourceClosedFirst = (k) => program.producer.mode !== 'writer' && !program.ops.slice(0, k).some((o) => o.op === 'abort' || o.op === 'close') &&
    sourcePipeEnded
  const sigReason = signalAt >= 0 ? `rej:${program.ops[signalAt].reason ? 'S' : 'AbortError:20'}` : null
  // (With the consumer's preventAbort the face's pipe, rejected with the signal's reason, left
  // its destination alone: no entry against the reference's 'dest-close'. Seed 137087 of
  // BoundedBufferStream (block, bytes): three turns, two writes, close(), an awaited write
  // (refused), the signal; both destinations got both chunks.)
  const closedAfterSignal = desc.kind === 'transform' && con !== null && con.mode === 'pipeTo' && con.signal &&
    signalAt >= 0 &&
    program.ops.some((op, k) => k < signalAt && op.op === 'close' && happened(program, k) &&
      (program.producer.mode === 'writer' ? s.outcomes.get(`close@${k}`) === 'ok' && c.outcomes.get(`close@${k}`) === 'ok' : sourceClosedFirst(k))) &&
    !program.ops.slice(0, signalAt).some((op, k) => tearsDown(k)) && !failing && !strategyErrors(program) &&
    c.outcomes.get('pipe-out') === 'ok' && s.outcomes.get('pipe-out') === sigReason && (sameDelivered(desc, s, c) || heldAtSignal(desc, s, c))
  // ALLOWANCE ended-before-signal (sink log): as ended-before-signal (the end) above, with a
  // consumer's pipe: the source of the producer's pipe ended, then the signal: the face's own
  // buffer (BoundedBufferStream's capacity) had taken every chunk, so its producer pipe had
  // finished (resolved) and its readable side closed after the values, its consumer's pipe
  // closing the destination; the reference's writable side still held chunks behind its
  // readable side's highWaterMark, its producer pipe was aborted (rejected with the signal's
  // reason X), its readable side errored with X and its consumer's pipe aborted the destination
  // with X. Only 'dest-close' (nothing, with preventClose) against that 'dest-abort:X', only with
  // no other teardown before the signal, and only where both of the face's pipes resolved
  // (invariants then hold it to every value) and both of the reference's were rejected with X.
  // Seed 23711 of BoundedBufferStream (block, bytes).
  // (An abort() or an invalid chunk after the source's close() is none: engine.js errors and
  // enqueues nothing then. Seed 82030 of NdjsonStringifyStream: four values, the source's
  // close(), a turn, abort(), the signal; the face had joined the values written back to back
  // into one chunk (README: they share a batch), so its writable side had taken them all and
  // closed, where the reference's writes waited behind its readable side's highWaterMark of one
  // chunk. A TransformStream that joins the lines until its flush, with room for them, does what
  // the face does: `node __test__/web-contract-fuzz/evidence.js joined-before-producer-signal`.)
  // (A pipeThrough in pipeTo's place: its promise is not the program's (no 'pipe-in' on either
  // side), and the consumer pipe's outcomes say the same: the face's readable side closed after
  // every value (its consumer pipe resolved: invariants hold it to every value), so its writable
  // side had closed, where the reference's readable side errored with the signal's reason, which
  // only the producer pipe's abort gives it (only with a consumer's pipe that takes no signal).
  // Seed 87746 of NdjsonStringifyStream: six values (two awaited), the source's close(), a turn,
  // the signal; one joined batch on the face, the reference's readable highWaterMark 0 held its
  // writes back: `node __test__/web-contract-fuzz/evidence.js joined-before-producer-signal`.)
  // (A producer's pipeTo with preventClose: the face's pipe resolved and left its writable side
  // open, so its readable side never closes and its consumer's pipe waits for good (engine.js
  // openForever) with nothing logged, against the reference's 'dest-abort:X'. Then only where
  // the face's consumer got the whole output of everything its source was given. An identity
  // TransformStream with room for every chunk does what the face does: `node
  // __test__/web-contract-fuzz/evidence.js ended-before-signal-pipes`. Seed 175089 of
  // BoundedBufferStream (block, objects): nine values, the source's close(), three turns, the
  // signal; a slow destination of highWaterMark 4, the reference's readable highWaterMark 1.)
  const sourceClosedAt = program.ops.findIndex((op) => op.op === 'close')
  const noOp = (op, k) => ['abort', 'invalidWrite'].includes(op.op) && sourceClosedAt >= 0 && k > sourceClosedAt
  const pipeInEnded = program.producer.mode === 'pipeThrough'
    ? !s.outcomes.has('pipe-in') && !c.outcomes.has('pipe-in') && !con.signal
    : s.outcomes.get('pipe-in') === 'ok' && c.outcomes.get('pipe-in') === sigReason
  // (A pipeThrough with preventClose too: engine.js finishedBeforeSignal, the face's consumer
  // pipe waits for good. Seed 216829 of NdjsonStringifyStream: five values, the source's
  // close(), a turn, the signal; the face's five lines in one batch, the reference's readable
  // highWaterMark 0 held its writes back: `node __test__/web-contract-fuzz/evidence.js
  // ended-before-signal-pipe-through`.)
  const openAfterAll = ['pipeTo', 'pipeThrough'].includes(program.producer.mode) && program.producer.preventClose && s.outcomes.get('pipe-out') === 'pending' &&
    isDeepStrictEqual(joined(!desc.bytesOut, s.delivered.main), desc.model(s.issued.map((w) => w.input)).output)
  const endedBeforeSignalPipe = desc.kind === 'transform' && program.producer.mode !== 'writer' && program.producer.signal && !program.producer.preventAbort &&
    con !== null && con.mode === 'pipeTo' && signalAt >= 0 && program.ops.some((op, k) => k < signalAt && op.op === 'close') &&
    !program.ops.slice(0, signalAt).some((op, k) => ['abort', 'cancel', 'invalidWrite'].includes(op.op) && !noOp(op, k)) && !failing && !strategyErrors(program) &&
    pipeInEnded && (s.outcomes.get('pipe-out') === 'ok' || openAfterAll) && c.outcomes.get('pipe-out') === sigReason
  // ALLOWANCE closed-after-signal (sink log, preventAbort): as closed-after-signal, with a
  // producer's pipe whose source ended (its pipe resolved on both sides) and a consumer's pipe
  // with preventAbort: the reference's consumer pipe had closed the destination before the
  // signal, the face's (its readable side closes a few ticks after its writable side) was
  // rejected with the signal's reason and, with preventAbort, left the destination alone. Only
  // 'dest-close' on the reference against no destination entry on the face, only with no
  // teardown before the signal, only where both destinations got the same data. Seed 28084 of
  // BoundedBufferStream (block, objects).
  // (An abort() or an invalid chunk after the source's close() is none, as above (noOp: engine.js
  // errors and enqueues nothing then). Seed 121301 of ThrottleStream and MeterStream (objects):
  // three turns, five values, the source's close(), abort(), a turn, the signal.)
  const closedAfterSignalPipe = desc.kind === 'transform' && program.producer.mode === 'pipeTo' && con !== null && con.mode === 'pipeTo' && con.signal &&
    con.preventAbort && signalAt >= 0 && program.ops.some((op, k) => k < signalAt && op.op === 'close') &&
    !program.ops.slice(0, signalAt).some((op, k) => ['abort', 'cancel', 'invalidWrite'].includes(op.op) && !noOp(op, k)) && !failing && !strategyErrors(program) &&
    s.outcomes.get('pipe-in') === 'ok' && c.outcomes.get('pipe-in') === 'ok' && c.outcomes.get('pipe-out') === 'ok' && s.outcomes.get('pipe-out') === sigReason &&
    !sr.some((l) => l.startsWith('dest-')) && sameDelivered(desc, s, c)
  // (closed-before-signal with the consumer's preventAbort: the reference's pipe, rejected with
  // the signal's reason, left its destination alone: no entry against the face's 'dest-close'.
  // Seed 28281 of NdjsonStringifyStream: close(), two microtasks, the signal.)
  const cr3 = closedBeforeSignal || closedBeforeAbort || endedBeforeSignalPipe
    ? (closedBeforeSignal && con.preventAbort && !con.preventClose && !cr2.some((l) => l.startsWith('dest-'))
        ? [...cr2, 'dest-close']
        : cr2.flatMap((l) => (l === 'dest-abort:' + c.outcomes.get('pipe-out').slice(4) ? (con.preventClose || (endedBeforeSignalPipe && openAfterAll) ? [] : ['dest-close']) : [l])))
    : closedAfterSignal
      // (With the consumer's preventClose the reference's finished pipe left its destination
      // alone: no entry against the face's 'dest-abort:X'. Seed 117113 of ThrottleStream and
      // MeterStream (objects): a turn, two writes, an awaited close(), the signal; both
      // destinations got both values.)
      ? (con.preventAbort
          ? cr2.filter((l) => l !== 'dest-close')
          : con.preventClose && !cr2.some((l) => l.startsWith('dest-')) ? [...cr2, 'dest-abort:' + sigReason.slice(4)] : cr2.map((l) => (l === 'dest-close' ? 'dest-abort:' + sigReason.slice(4) : l)))
      : closedAfterSignalPipe
        ? cr2.filter((l) => l !== 'dest-close')
        : cr2
  // ALLOWANCE monitored-ended-before-signal (sink log): a producer's pipe with preventClose whose
  // source ended, then its signal: MonitoredWritableStream settles a write once its own buffer
  // has taken the chunk (README: its `highWaterMark` sizes what it buffers before the
  // destination; ALLOWANCE monitored-queue), so its pipe had written everything and resolved
  // before the signal, which then aborted nothing; the reference's write still waited for its
  // sink, and its pipe was aborted by the signal: its sink logs the abort. Only the reference's
  // 'abort:X' with the signal's reason X, only with no other teardown before the signal, no
  // failing destination, and only where the face's pipe resolved and its sink was not aborted
  // (the reference's pipe rejected with X). Seed 12519 of MonitoredWritableStream (bytes).
  // (The other way round too: with a count strategy, which the bytes face reads as bytes (16
  // bytes against 16 chunks, ALLOWANCE monitored-close-race), its writes wait for the destination
  // where the reference's queue takes them: the reference's pipe resolved and the face's was
  // aborted, its sink logging 'abort:X'. Seed 16850 of MonitoredWritableStream (bytes).)
  // (Teardowns of the source after its end do nothing: an error() or a chunk after close() is
  // no teardown, seeds 15119, 16574 of MonitoredWritableStream (objects); nor is a destination
  // that fails a write it never got, seed 16574: failAt 7 with one chunk written.)
  const sigOp = program.ops.findIndex((op) => op.op === 'signal')
  const sigX = sigOp >= 0 && program.ops[sigOp].reason ? 'S' : 'AbortError:20'
  const endOp = program.ops.findIndex((op, k) => k < sigOp && op.op === 'close')
  const endedBeforeSignal = desc.kind === 'writable' && program.producer.mode === 'pipeTo' && program.producer.preventClose && program.producer.signal &&
    sigOp >= 0 && endOp >= 0 && !program.ops.slice(0, endOp).some((op) => ['abort', 'cancel', 'invalidWrite'].includes(op.op)) && !destinationFailed
  const endedHere = (x, y, xl) => x.outcomes.get('pipe-in') === 'ok' && y.outcomes.get('pipe-in') === 'rej:' + sigX && !xl.some((l) => l.startsWith('abort:'))
  const monitoredEnded = endedBeforeSignal && endedHere(s, c, sr)
  const cr4 = monitoredEnded ? cr3.filter((l) => l !== 'abort:' + sigX) : cr3
  const monitoredEndedThere = endedBeforeSignal && endedHere(c, s, cr3) && sr.filter((l) => l === 'abort:' + sigX).length === 1
  // ALLOWANCE monitored-refused-later (sink log): a producer's pipe with its signal, given a
  // chunk that is no bytes and then the signal: the reference's writable queue (the program's
  // strategy) had room, so its pipe read and wrote that chunk at once, its sink refused it and
  // its writable side errored (a plain WritableStream's sink then sees no abort) before the
  // signal; MonitoredWritableStream's own queue is one chunk (ALLOWANCE monitored-queue: its
  // `highWaterMark` sizes what it buffers before the destination, README), still full with a
  // write waiting for the destination, so its pipe had not read that chunk when the signal came,
  // and aborted the face, which aborts its destination with the signal's reason. Only the face's
  // 'abort:X' with the signal's reason X against no abort on the reference, only where an invalid
  // chunk came before the signal, the reference's pipe was rejected with that chunk's error and
  // the face's with X, and no destination failed. Seed 16850 of MonitoredWritableStream (bytes).
  // (Or the source's error in the signal's place, whichever of the two came first: the pipe
  // aborts its destination with the source's error E as it does with the signal's reason. A
  // plain WritableStream with a queue of one chunk and a write waiting for its sink does what the
  // face does: `node __test__/web-contract-fuzz/evidence.js monitored-refused-later`. Seed 44122
  // of MonitoredWritableStream (bytes): a chunk of 22 bytes (more than its highWaterMark of 16
  // holds), null, a turn, the source's error.)
  // (The source's error only while it is open: after its close() an error() does nothing.)
  const refusedAt = program.ops.findIndex((op, k) => (op.op === 'signal' && program.producer.signal) ||
    (op.op === 'abort' && !program.ops.slice(0, k).some((o) => o.op === 'close')))
  const refusedX = refusedAt < 0 ? null : program.ops[refusedAt].op === 'signal' ? sigX : 'E'
  const refusedThere = desc.kind === 'writable' && program.producer.mode === 'pipeTo' && !program.producer.preventAbort &&
    refusedAt >= 0 && program.ops.some((op, k) => k < refusedAt && op.op === 'invalidWrite') && !destinationFailed &&
    /^rej:TypeError:ERR_(INVALID_ARG_TYPE|STREAM_NULL_VALUES)$/.test(c.outcomes.get('pipe-in') || '') && s.outcomes.get('pipe-in') === 'rej:' + refusedX &&
    !cr4.some((l) => l.startsWith('abort:')) && sr.filter((l) => l === 'abort:' + refusedX).length === 1
  // ALLOWANCE monitored-close-race (preventAbort): as monitored-close-race above, with a pipe
  // whose preventAbort leaves the sink alone when the signal wins: the side whose pipe had
  // finished before the signal closed its sink ('close', its pipe resolved), the other's pipe was
  // rejected with the signal's reason X and its sink has no entry. Either way round, only with
  // the source ended before the signal and no other teardown before that end, no failing
  // destination, and no other entry in the aborted side's log. Seed 14745 of
  // MonitoredWritableStream (bytes): a ByteLengthQueuingStrategy of highWaterMark 0, where the
  // reference's writer.ready never resolves, so its pipe never writes.
  const closeRaced = desc.kind === 'writable' && program.producer.mode === 'pipeTo' && program.producer.preventAbort && !program.producer.preventClose &&
    program.producer.signal && sigOp >= 0 && endOp >= 0 && !program.ops.slice(0, endOp).some((op) => ['abort', 'cancel', 'invalidWrite'].includes(op.op)) && !destinationFailed
  const closedHere = (x, y, xl, yl) => closeRaced && x.outcomes.get('pipe-in') === 'ok' && y.outcomes.get('pipe-in') === 'rej:' + sigX &&
    isDeepStrictEqual(xl, ['close']) && yl.length === 0
  // ALLOWANCE monitored-refused-sooner (sink log): the other way round of monitored-refused-later,
  // with preventAbort: a producer's pipe with its signal and preventAbort, given a chunk that is
  // no bytes and then the signal, a writable strategy of highWaterMark 0. The reference's
  // writer.ready never resolves (desiredSize 0), so its pipe never read the chunk, and the signal
  // cancelled the source with its reason X; MonitoredWritableStream's own queue is one chunk
  // (ALLOWANCE monitored-queue), so its pipe read and wrote the chunk, the face refused it and
  // errored (aborting its destination, ALLOWANCE monitored-abort) before the signal, and the pipe
  // cancelled the source with the chunk's error E. A WritableStream with a queue of one chunk
  // does what the face does: `node __test__/web-contract-fuzz/evidence.js
  // monitored-refused-sooner`. (Without preventAbort the same run passes by teardown-race: the
  // reference's sink's 'abort:X' pairs with the face's refused abort.) Only the reference's
  // 'source-cancel:X' against the face's 'source-cancel:E', only where an invalid chunk came
  // before the signal with no teardown before it, the face's pipe was rejected with E and the
  // reference's with X, the reference's sink has no entry and no destination failed. Seed 68218
  // of MonitoredWritableStream (bytes): null, a turn, the signal.
  // (A close() of the source after the chunk too: the face's pipe had cancelled the source with
  // E by then (the close does nothing: engine.js), the reference's source closed with the chunk
  // still queued, unread, so the signal still cancelled it with X. Seed 171404 of
  // MonitoredWritableStream (bytes): null, a turn, the source's close(), the signal.)
  const firstChunkAt = program.ops.findIndex((op) => op.op === 'invalidWrite')
  const chunkE = s.outcomes.get('pipe-in') || ''
  const refusedSooner = desc.kind === 'writable' && program.producer.mode === 'pipeTo' && program.producer.preventAbort && program.producer.signal &&
    sigOp >= 0 && firstChunkAt >= 0 && firstChunkAt < sigOp &&
    !program.ops.slice(0, sigOp).some((op, k) => ['abort', 'cancel'].includes(op.op) || (op.op === 'close' && k < firstChunkAt)) && !destinationFailed &&
    /^rej:TypeError:ERR_(INVALID_ARG_TYPE|STREAM_NULL_VALUES)$/.test(chunkE) && c.outcomes.get('pipe-in') === 'rej:' + sigX &&
    !cr4.some((l) => !l.startsWith('source-')) && sr.includes('source-cancel:' + chunkE.slice(4))
  const cr5 = refusedSooner ? cr4.map((l) => (l === 'source-cancel:' + sigX ? 'source-cancel:' + chunkE.slice(4) : l)) : cr4
  // (Without preventAbort: the reference's pipe, its writer.ready still waiting on a write in
  // flight to its slow sink, had not read the chunk when the signal came, and aborted its
  // writable side (its sink logs 'abort:X'); the face had refused the chunk before the signal
  // (its destination aborted with the chunk's error, ALLOWANCE monitored-abort), so the pipe's
  // shutdown found it errored and aborted nothing. Both pipes cancelled the source with X and
  // were rejected with it (the signal's shutdown came before the pipe saw the error). A
  // WritableStream of one chunk whose sink's writes settle at once (as the face settles a write
  // once its own buffer took it, ALLOWANCE monitored-queue) does what the face does: `node
  // __test__/web-contract-fuzz/evidence.js monitored-refused-sooner-abort`. Only the reference's
  // one 'abort:X' against none on the face, only where an invalid chunk came before the signal
  // with no teardown before it, the face's log has its refusal's abort (the chunk's error), both
  // pipes were rejected with X, no destination failed, and teardown-race did not pair the two
  // aborts already. Seed 161427 of
  // MonitoredWritableStream (bytes): three chunks of 1 byte and one of 17395, three turns, an
  // object, the signal, a chunk.)
  const refusedSoonerAbort = desc.kind === 'writable' && program.producer.mode === 'pipeTo' && !program.producer.preventAbort && program.producer.signal &&
    sigOp >= 0 && program.ops.some((op, k) => k < sigOp && op.op === 'invalidWrite') &&
    !program.ops.slice(0, sigOp).some((op) => ['abort', 'cancel', 'close'].includes(op.op)) && !destinationFailed &&
    s.outcomes.get('pipe-in') === 'rej:' + sigX && c.outcomes.get('pipe-in') === 'rej:' + sigX &&
    s.log.some((l) => refused(l)) && !s.log.includes('abort:' + sigX) && c.log.filter((l) => l === 'abort:' + sigX).length === 1 &&
    // (Not where teardown-race already paired the face's refusal's abort with it, at the same
    // place in the two logs: seed 320.)
    !sr.includes('abort:' + sigX)
  const cr6 = refusedSoonerAbort ? cr5.filter((l) => l !== 'abort:' + sigX) : cr5
  const sr5 = sr.filter((l) => !((refusedThere && l === 'abort:' + refusedX) || (monitoredEndedThere && l === 'abort:' + sigX)))
  const sl = abortBesideCancel(closedHere(s, c, sr5, cr6) ? [] : sr5)
  const cl = abortBesideCancel(closedHere(c, s, cr6, sr5) ? [] : cr6)
  if (!(stalled && isDeepStrictEqual(sl.slice(0, cl.length), cl))) eq('sink log', sl, cl)
  return { problems, aligned }
}

module.exports = { compare, invariants }
