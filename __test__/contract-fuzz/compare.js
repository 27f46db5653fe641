'use strict'

// The normaliser: what must hold of each run (against the model), and what must be equal between
// the sluice run and the core run. Every allowance is named here with the reason it is not a
// contract difference.

const { isDeepStrictEqual } = require('node:util')
const { dataProblems, equality, joined, show } = require('./harness.js')

/** The state an operation's synchronous outcome depends on. */
const keyOf = (p) => `destroyed=${p.destroyed} ended=${p.writableEnded} closed=${p.closeSeen} errored=${p.errored}`
/** What a destroy's outcome depends on (whether 'finish'/'end' have already happened). */
const destroyKeyOf = (p) => `${keyOf(p)} finished=${p.writableFinished} readableEnded=${p.readableEnded} allDelivered=${p.allDelivered}`

/** Checks one run against the model and the contract; returns a list of problems. */
function invariants (desc, program, rec, { strict }) {
  // (Core itself answers writes out of order around a destroy: the queued ones first.)
  const destroyedRun = rec.destroyPre.length > 0 || rec.count.error > 0
  const out = [...rec.violations]
  for (const ev of ['end', 'finish', 'close', 'error']) {
    if (rec.count[ev] > 1) out.push(`'${ev}' emitted ${rec.count[ev]} times`)
  }
  if (rec.hang) out.push(`hung: no 'close' within the bound (state ${JSON.stringify(rec.hangState)})`)
  for (const [id, codes] of rec.cbs) {
    if (codes.length > 1) out.push(`write ${id}'s callback called ${codes.length} times: ${codes.join(', ')}`)
  }
  if (rec.finished.length > 1) out.push(`stream.finished called back ${rec.finished.length} times`)
  // Every end(callback) answered once. Not asked of core, which loses one filed inside a destroy
  // (lib/inflight.js, endAnswered), nor of a run that hung (destroyed by the harness).
  if (strict && !rec.hang && rec.endCbs.length !== rec.endCalls) out.push(`end(callback) called ${rec.endCalls} times, answered ${rec.endCbs.length} times`)
  // Data: a prefix of what was taken; all of it when the readable side ended (the destination
  // took all of it, when the writable side finished).
  const model = desc.model(rec.accepted)
  // Core's reference may emit 'end' after a destroy() that discarded some of its output, when its
  // end was already under way (ALLOWANCE after-destroy, below; seed 22229: 'end' after 4 of 25
  // units): in a destroyed run its 'end' vouches for no data. Sluice's always does.
  const endVouches = strict || !destroyedRun
  const ended = desc.kind === 'transform' ? (rec.count.end > 0 && endVouches ? "'end'" : null) : (rec.count.finish > 0 ? "'finish'" : null)
  out.push(...dataProblems({ objects: desc.readableObjectMode, chunks: rec.delivered, written: model.output, ended }))
  if (rec.count.end > 0 && model.error) out.push(`'end' although the input is invalid (${model.error})`)
  // 'finish' comes after every write callback of a write that was taken.
  const finishAt = rec.log.indexOf('finish')
  if (finishAt >= 0) {
    for (const [id, codes] of rec.cbs) {
      const at = rec.log.findIndex((l) => l.startsWith(`cb:${id}:`))
      if (codes[0] === null && at > finishAt) out.push(`write ${id}'s callback after 'finish'`)
    }
  }
  if (strict) {
    // Every write callback exactly once (the run has closed, or been cut by the hang bound).
    for (const op of program.ops) {
      if (op.op === 'write' && op.callback && !rec.cbs.has(op.id) && !rec.hang) out.push(`write ${op.id}'s callback never called`)
    }
    // In write order.
    // (Of the writes taken: one made after end() or destroy() is answered at once, with its error.)
    const taken = new Set(program.ops.filter((o, i) => o.op === 'write' && !rec.pre[i]?.destroyed && !rec.pre[i]?.writableEnded).map((o) => o.id))
    const order = destroyedRun ? [] : rec.log.filter((l) => l.startsWith('cb:')).map((l) => Number(l.split(':')[1])).filter((id) => taken.has(id))
    for (let i = 1; i < order.length; i++) {
      if (order[i] < order[i - 1]) { out.push(`write callbacks out of order: ${order.join(', ')}`); break }
    }
    if (!rec.hang && rec.finished.length !== 1) out.push(`stream.finished called back ${rec.finished.length} times`)
  }
  return out
}

/**
 * Compares the sluice run `s` with the core run `c` of `program`. Returns { problems, aligned }:
 * aligned when every operation met the same relevant state on both sides (else the runs took
 * different but legal paths because of timing, and only the invariants are checked).
 */
function compare (desc, program, s, c) {
  const problems = []
  for (const p of invariants(desc, program, s, { strict: true })) problems.push('sluice: ' + p)
  // The reference is checked with the same invariants: a failure there is a bug of the fuzz.
  for (const p of invariants(desc, program, c, { strict: false })) problems.push('core reference (fuzz bug?): ' + p)

  let aligned = s.pre.length === c.pre.length && s.destroyPre.length === c.destroyPre.length && keyOf(s.settlePre) === keyOf(c.settlePre)
  for (let i = 0; aligned && i < s.pre.length; i++) {
    const op = program.ops[i].op
    // A write or end() after end() destroys the stream (ERR_STREAM_WRITE_AFTER_END): as destroy().
    if (op === 'destroy' || (s.pre[i].writableEnded && op !== 'invalidWrite')) aligned = destroyKeyOf(s.pre[i]) === destroyKeyOf(c.pre[i])
    else if (op === 'write' || op === 'end' || op === 'invalidWrite') aligned = keyOf(s.pre[i]) === keyOf(c.pre[i])
  }
  // The destroys the runs met are the same ones: a different destroy in the same state (a write's
  // callback destroying the stream on one side, a break out of for await with its AbortError on
  // the other, each getting there first by timing: NdjsonParser seed 3320) is a different path.
  for (let i = 0; aligned && i < s.destroyPre.length; i++) aligned = destroyKeyOf(s.destroyPre[i]) === destroyKeyOf(c.destroyPre[i]) && s.destroyPre[i].by === c.destroyPre[i].by
  // ALLOWANCE async-failure: an asynchronous stage that fails on its input (the parser on an
  // invalid line) delivers the values before it first and fails later, not inside the write that
  // brought the line (README, "Invalid lines and errors"): the operations after that write meet
  // different states. Only the error itself is compared, when nothing else ended the run first.
  const failing = desc.async && desc.model(s.accepted).error
  if (failing && aligned) {
    aligned = false
    const cut = s.destroyPre.length > 0 || c.destroyPre.length > 0 || (program.consumer && program.consumer.breakAt !== null) ||
      program.ops.some((o, i) => (o.op === 'write' || o.op === 'end') && (s.pre[i].writableEnded || c.pre[i].writableEnded))
    if (!cut) {
      const errs = (rec) => rec.log.filter((l) => l.startsWith('error:'))
      if (!isDeepStrictEqual(errs(s), errs(c))) problems.push(`error: sluice ${JSON.stringify(errs(s))}, core ${JSON.stringify(errs(c))}`)
    }
  }
  if (!aligned) return { problems, aligned }

  // Ended abnormally: destroy(), an error (a write after end() is one), on either side.
  const writeAfterEnd = program.ops.some((o, i) => (o.op === 'write' || o.op === 'end') && s.pre[i].writableEnded)
  const destroyed = s.destroyPre.length > 0 || writeAfterEnd || s.count.error > 0 || c.count.error > 0
  const eq = equality(problems, 'core')
  eq('synchronous throws', s.writeThrows, c.writeThrows)
  eq('error', s.log.filter((l) => l.startsWith('error:')), c.log.filter((l) => l.startsWith('error:')))
  // ALLOWANCE after-destroy (below): core may still emit 'end' after destroy() when the readable
  // side's end was already under way (an end() and a write completed after the destroy: Transform's
  // final pushes null, endReadableNT does not look at destroyed); sluice's stages emit nothing more.
  const lateEnd = destroyed && c.count.end > s.count.end && s.destroyPre.every((p) => !p.readableEnded)
  // ALLOWANCE after-destroy, the other way: a destroy() right after end(), with everything taken
  // delivered, meets sluice's readable side ending (its end pushed, 'end' a tick away), as a
  // flowing core PassThrough's would (write, end(), destroy(): 'data', 'end', 'finish', 'close').
  // The reference's slow 'data' consumer pauses on every third chunk, and sluice's stringifier
  // delivers its lines in fewer chunks: the reference had paused, so its 'end' never came. Only
  // a slow 'data' consumer, only sluice's one 'end', only a destroy after end() with every chunk
  // delivered. Seed 60190 of NdjsonStringifier.
  const pausedRefEnd = destroyed && s.count.end === 1 && c.count.end === 0 && program.consumer !== null &&
    program.consumer.mode === 'data' && program.consumer.slow && s.destroyPre.length > 0 &&
    s.destroyPre.every((p) => p.writableEnded && p.allDelivered) && c.destroyPre.every((p) => p.writableEnded)
  // ALLOWANCE after-destroy, in write order: a write's callback destroys the stream after end(),
  // everything delivered. Core's PassThrough had held that write (its readable side full) and ran
  // its callback from the read that took it, ahead of the callbacks of earlier writes still on
  // their tick, before it counted the write done: the destroy stopped its finish. Sluice runs
  // write callbacks in write order (README), from a tick after those, once core has counted the
  // write done and queued its finish and end, which then follow the destroy: sluice's 'end',
  // 'finish' and a finished() that reports success, as core's own PassThrough gives when it ran
  // the callbacks in order (the same program with a consumer that never pauses). Only a destroy
  // from a write's callback after end() with every unit delivered on both sides, sluice ending
  // completely, core's write callbacks out of write order. Seed 5904 of Meter(bytes).
  const coreCbOrder = c.log.filter((l) => l.startsWith('cb:')).map((l) => Number(l.split(':')[1]))
  const inOrderFinish = destroyed && desc.kind === 'transform' && program.trigger !== null && program.trigger.on === 'callback' &&
    s.count.finish === 1 && s.count.end === 1 && c.count.end === 0 && isDeepStrictEqual(s.finished, [null]) &&
    isDeepStrictEqual(c.finished, ['ERR_STREAM_PREMATURE_CLOSE']) && s.destroyPre.length > 0 &&
    [s, c].every((rec) => rec.destroyPre.every((p) => p.writableEnded && p.allDelivered)) &&
    coreCbOrder.some((id, i) => i > 0 && id < coreCbOrder[i - 1])
  // ALLOWANCE after-destroy: core's 'finish' after a destroy (below) makes its stream.finished()
  // report success for a Transform whose readable side never ended; sluice's says
  // ERR_STREAM_PREMATURE_CLOSE, as core does for the same destroy without that late 'finish'.
  // Also when core's end() callback or write never completed (the in-flight case): sluice's
  // readable side did not end, and PREMATURE_CLOSE is what a destroyed stream reports.
  const lateFinish = destroyed && c.finished[0] === null && s.finished[0] === 'ERR_STREAM_PREMATURE_CLOSE' && s.count.end === 0 && s.final.destroyed
  // ALLOWANCE after-destroy, paused reference (as pausedRefEnd above, without an 'end' on either
  // side): a destroy() after end() on a paused stream, its output then flowing to the slow 'data'
  // consumer (a 'resume' after the destroy). Both ended their readable side at end(); sluice's
  // stringifier delivered its lines in fewer chunks, so its readable side was empty at 'close'
  // and finished() (not strict) reports success, while the reference's consumer had paused at its
  // third chunk with a line still buffered: a premature close. Seeds 12175 and 60859 of
  // NdjsonStringifier. The same with a pipe whose sink's write() said false on the reference's
  // last chunk (one of at least the sink's highWaterMark): the pipe paused the reference with a
  // line still buffered, where sluice's one chunk carried every line (seed 27218 of
  // NdjsonStringifier: pipe() after the destroy, a sink of highWaterMark 1). Only a slow 'data'
  // consumer or such a pipe, no 'end' on either side, destroys after end() on both, sluice having
  // delivered everything it took and the reference a part of it ending with that pause.
  const fullOutput = desc.model(s.accepted).output
  // How much of the model's output a side delivered (bytes, or values in object mode).
  const deliveredUnits = (rec) => joined(desc.readableObjectMode, rec.delivered).length
  const units = (chunk) => (desc.readableObjectMode ? 1 : joined(false, [chunk]).length)
  const refPaused = program.consumer !== null && (program.consumer.mode === 'data'
    ? program.consumer.slow && c.count.data > 0 && c.count.data % 3 === 0
    : program.consumer.mode === 'pipe' && c.delivered.length > 0 && units(c.delivered[c.delivered.length - 1]) >= program.consumer.sinkHwm)
  const pausedRefFinished = destroyed && desc.kind === 'transform' && refPaused && s.count.end === 0 && c.count.end === 0 &&
    isDeepStrictEqual(s.finished, [null]) && isDeepStrictEqual(c.finished, ['ERR_STREAM_PREMATURE_CLOSE']) &&
    s.destroyPre.length > 0 && [s, c].every((rec) => rec.destroyPre.every((p) => p.writableEnded)) &&
    deliveredUnits(s) === fullOutput.length &&
    deliveredUnits(c) < fullOutput.length
  // ALLOWANCE after-destroy, ended first: a destroy after end() met sluice's readable side with
  // its last push made (its null pushed: every write taken through the stage, the end under way)
  // and the reference's without: the reference still held a write behind its readable side (a
  // highWaterMark of 0, or one its one-line chunks had filled, seeds 33745 of BoundedBuffer(block,
  // bytes), 24393 and 33383 of NdjsonStringifier), or had run the held write's callback, which
  // destroyed it, ahead of the earlier writes' callbacks and before it counted that write done
  // (seed 23661 of Throttle(rate Infinity/1e12, bytes) and Meter(bytes), a pipe consumer, as in
  // the in-write-order allowance above). Sluice's stages take writes sooner (BoundedBuffer into
  // its capacity, the stringifier into batches, callbacks in write order: README): what its
  // readable side held still flows out after the destroy, as core's flowing loop gives it, so its
  // finished() reports success, with the 'finish' and 'end' queued before the destroy, where the
  // reference's end never came (PREMATURE_CLOSE). Core's own PassThrough in sluice's state gives
  // what sluice gave. Only a destroy without an error after end() on both sides, sluice's readable
  // side ending at every destroy and the reference's at none, sluice's whole output delivered,
  // no 'end' on the reference's side. A break out of for await that meets the stream already
  // destroyed (by that destroy, in the same 'data': its destroy() returns at once, on both sides)
  // destroys nothing and is left out: seed 129299 of BoundedBuffer(block, objects), the third
  // value's 'data' destroys it and then breaks; without the break (or with it one value later)
  // the same program is this allowance, and core's PassThrough in sluice's state (three values
  // and its end buffered, for await, destroy() and break at the third) emits 'end' after the
  // destroy and finished() reports success, as sluice did.
  const acting = (rec) => rec.destroyPre.filter((p) => !(p.by === 'break' && p.destroyed))
  const endedFirst = destroyed && desc.kind === 'transform' && acting(s).length > 0 &&
    acting(s).every((p) => p.writableEnded && p.readableEnding === true && p.by === 'none') &&
    acting(c).every((p) => p.writableEnded && p.readableEnding === false) &&
    isDeepStrictEqual(s.finished, [null]) && isDeepStrictEqual(c.finished, ['ERR_STREAM_PREMATURE_CLOSE']) &&
    s.count.end <= 1 && c.count.end === 0 && deliveredUnits(s) === fullOutput.length
  // ALLOWANCE after-destroy, emptied first: a destroy() without an error from a write's callback
  // after end() met both readable sides with their last push made (null pushed), sluice's with
  // everything emitted (its buffer empty, its 'end' a tick away) and the reference's still
  // holding chunks, its pipe paused by a sink whose write() said false. Sluice's Throttle ran
  // that callback later: a throttle its pipe paused holds the chunks written to it (README,
  // pause() holds the budget), so its writes completed as the sink drained, the reference's at
  // once. Core's own PassThrough in sluice's state gives what sluice gave ('end' after the
  // destroy, 'finish', finished() success); the reference's 'close' came before its sink drained,
  // so what it held never went out (PREMATURE_CLOSE). Only a pipe consumer whose sink's write()
  // said false on the reference's last chunk, sluice's readable side ending and empty at every
  // destroy and the reference's ending but not empty, sluice's whole output delivered and a part
  // of it on the reference's side, sluice's one 'end' and none on the reference's. Seed 46485 of
  // Throttle(rate Infinity / 1e12, bytes).
  // Sluice's pipe may itself be paused at the destroy, what it emitted still in its sink: then no
  // read came after its end was pushed, so no 'end' was queued, and none follows the destroy;
  // finished() still reports success (ended and empty). Core's PassThrough gives the same, its
  // pipe paused by a slow sink of highWaterMark 16: write 20 bytes (the pipe takes them, the sink
  // says false), end(), destroy() on 'finish': 'close', no 'end', finished() success; the same
  // with 10 more bytes written before end() (left in its readable side): PREMATURE_CLOSE, the
  // reference's outcome. The reference's pipe paused is measured at the destroy (pipePaused,
  // engine.js), not inferred from its last chunk: its sink may hold earlier chunks too (seed
  // 137458 of Throttle(rate Infinity / 1e12, bytes): a last chunk of 5 bytes, 18 in the sink of
  // highWaterMark 16). So: sluice's one 'end' when its own pipe flowed at every destroy, none
  // when it was paused at every destroy.
  // Unless the chunk the pipe paused on was read after sluice's end was pushed (pipeEndQueued,
  // engine.js): that read() queued the 'end' (core's endReadable), and it follows the destroy.
  // Seed 385577 of NdjsonStringifier: a slow sink of highWaterMark 16, the pipe re-made at the
  // settle, two values written back to back went out in one batch of 26 bytes (README), their
  // end pushed before the pipe's flow read that chunk; the sink said false, and the first of
  // the two values' callbacks destroyed the stream before the next tick: 'end' after the destroy,
  // finished() success, where the reference held its second line (6 bytes) behind the paused pipe
  // (PREMATURE_CLOSE). Core's PassThrough in sluice's state gives sluice's outcome: write 26
  // bytes, end(), then a turn later pipe() to that sink and destroy() from a 'data' listener
  // after the pipe's (the pipe paused, readableLength 0, ended): 'end', finished() success,
  // 'close'. So: sluice's one 'end' when at every destroy its pipe flowed or its 'end' was queued,
  // none when at every destroy its pipe was paused with no 'end' queued.
  // The destroy may also be the program's own destroy() after a wait for 'drain' (seed 157070 of
  // Throttle(rate Infinity / 1e12, bytes): writes of 20, 57937 and 5 bytes, the last two said
  // false, a wait for 'drain', a write of 5 bytes, end(), destroy(); a slow sink of highWaterMark
  // 16). The pipe paused both on the 57937 bytes. The reference answered the 5 bytes at once
  // (held in its readable side) and emitted 'drain' with its pipe still paused; sluice's paused
  // Throttle answered them, and emitted 'drain', only once the sink had drained and the pipe had
  // resumed and passed them on (README). The next write then went through sluice's flowing pipe
  // and stayed in the reference's readable side: at the destroy sluice's readable side was ended
  // and empty, its pipe flowing, the reference's holding 10 bytes, its pipe paused. Core's own
  // PassThrough gives sluice's outcome from sluice's state (pipe to a slow sink of highWaterMark
  // 16, write 5 bytes, a microtask: the sink busy with them, the pipe flowing; write 5 bytes,
  // end(), destroy(): 'end' after the destroy, 'finish', finished() success, 'close', then the
  // sink takes the 5 bytes) and the reference's from the reference's (write 20 and 5 bytes first:
  // the pipe paused, 10 bytes held, PREMATURE_CLOSE); sluice's Throttle from either state gives
  // what core's PassThrough gives. The wait for 'drain' is what a held answer delays; the waits of
  // a fixed number of turns run alike on both sides.
  const heldAnswer = program.trigger !== null
    ? program.trigger.on === 'callback'
    : program.ops.some((o, i) => o.op === 'wait' && o.how === 'drain' && program.ops.slice(0, i).every((p) => p.op !== 'destroy'))
  const sluicePaused = s.destroyPre.every((p) => p.pipePaused === true && p.pipeEndQueued !== true)
  const emptiedFirst = destroyed && desc.kind === 'transform' && program.consumer !== null && program.consumer.mode === 'pipe' &&
    (refPaused || c.destroyPre.every((p) => p.pipePaused === true)) &&
    heldAnswer && s.destroyPre.length > 0 &&
    s.destroyPre.every((p) => p.writableEnded && p.readableEnding === true && p.readableLength === 0 && p.by === 'none') &&
    c.destroyPre.every((p) => p.writableEnded && p.readableEnding === true && p.readableLength > 0 && p.by === 'none') &&
    isDeepStrictEqual(s.finished, [null]) && isDeepStrictEqual(c.finished, ['ERR_STREAM_PREMATURE_CLOSE']) &&
    s.count.end === (sluicePaused ? 0 : 1) && c.count.end === 0 && deliveredUnits(s) === fullOutput.length &&
    deliveredUnits(c) < fullOutput.length
  // ALLOWANCE after-destroy, end under way: a destroy() without an error after end(), everything
  // taken delivered on both sides, met sluice's readable side with its last push made and nothing
  // left in it: sluice's stages push their end from their own job (a promise job's kick), outside
  // core's read, so core's read() that took the last value had already queued endReadableNT,
  // which emits 'end' after a destroy too. The reference pushes its end inside end() itself (its
  // readable side then ends from a tick that looks at `destroyed`, seed 74152 of NdjsonParser:
  // end() with nothing written, pipe(), a microtask, destroy()) or had not pushed it yet (its
  // flush's last value emitted inside the push, seed 68033 of NdjsonParser: the third 'data'
  // destroys it): no 'end'. Core's own streams in sluice's state give what sluice gave: the
  // reference with its flush run from a promise job ('end' after the destroy, seed 74152), a
  // PassThrough whose buffered values and end() come before a flow whose third 'data' destroys it
  // ('data' x3, destroy, 'end'). Only sluice's one 'end' against none, stream.finished() equal
  // (compared), the same whole output delivered on both sides.
  const endUnderWay = destroyed && desc.kind === 'transform' && s.destroyPre.length > 0 && c.destroyPre.length > 0 &&
    s.destroyPre.every((p) => p.writableEnded && p.readableEnding === true && p.readableLength === 0 && p.allDelivered === true && p.by === 'none') &&
    c.destroyPre.every((p) => p.writableEnded && p.allDelivered === true && p.by === 'none') &&
    s.count.end === 1 && c.count.end === 0 && isDeepStrictEqual(s.finished, c.finished) &&
    [s, c].every((rec) => deliveredUnits(rec) === fullOutput.length)
  // ALLOWANCE after-destroy, end under way into a pipe: as end-under-way above, with a pipe
  // consumer whose slow sink takes one value a turn, so neither side had everything delivered (to
  // the sink's write) at the destroy. Sluice's readable side was ended and empty, its pipe flowing
  // (everything it emitted written into the sink, its 'end' queued by the read at its end's push);
  // the reference's held values behind its end, pushed inside end() itself: whatever read takes
  // them comes after the destroy, and queues its 'end' behind the 'close'. Seed 402950 of
  // NdjsonParser (and its native stage): unpipe, end() with six lines, pipe(), a microtask,
  // destroy(). The parser's values came from its job after pipe(), the stream already flowing,
  // so each went straight to the sink (README: an asynchronous stage); the reference had taken
  // them inside end(), before pipe(), and its pipe's flow was a tick away. Core's objectMode
  // PassThrough gives either outcome from either state: pipe() to a slow sink, a microtask, six
  // writes and end(), three microtasks, destroy(): 'end' after the destroy, finished() success;
  // six writes, end(), pipe(), a microtask, destroy(): no 'end', finished() success. The
  // reference's sink is not waited for after its 'close' (no 'end' ended it), so its delivered
  // values are a prefix (invariants). Only a pipe consumer, sluice's one 'end' against none,
  // stream.finished() equal (compared), sluice's readable side ending, empty and piped without a
  // pause at every destroy and the reference's ending and not empty, sluice's whole output
  // delivered.
  const endUnderWayPiped = destroyed && desc.kind === 'transform' && program.consumer !== null && program.consumer.mode === 'pipe' &&
    s.destroyPre.length > 0 && c.destroyPre.length > 0 &&
    s.destroyPre.every((p) => p.writableEnded && p.readableEnding === true && p.readableLength === 0 && p.piped === true && p.pipePaused === false && p.by === 'none') &&
    c.destroyPre.every((p) => p.writableEnded && p.readableEnding === true && p.readableLength > 0 && p.by === 'none') &&
    s.count.end === 1 && c.count.end === 0 && isDeepStrictEqual(s.finished, c.finished) &&
    deliveredUnits(s) === fullOutput.length
  if (!lateFinish && !inOrderFinish && !pausedRefFinished && !endedFirst && !emptiedFirst) eq('stream.finished', s.finished, c.finished)
  // The allowances above under which the two sides' 'end' (its count, readableEnded) may differ.
  const endDiffers = lateEnd || pausedRefEnd || inOrderFinish || endedFirst || emptiedFirst || endUnderWay || endUnderWayPiped
  for (const ev of ['end', 'close', 'error']) if (!(ev === 'end' && endDiffers)) eq(`'${ev}' count`, s.count[ev], c.count[ev])
  const wrapDestroyedFirst = desc.kind === 'writable' && s.destroyPre.length > 0 && s.final.errored === null && c.final.errored === 'FUZZ_DEST'
  const final = (rec) => {
    const f = { ...rec.final }
    if (endDiffers) delete f.readableEnded
    // ALLOWANCE after-destroy (below): whether 'finish' came after the destroy.
    if (destroyed) delete f.writableFinished
    // ALLOWANCE wrap-error: MonitoredWritable.wrap() learns of its destination's failure from the
    // destination's 'error' (a tick later than the destination itself): an end() in between ends
    // the wrapper (writableEnded) where the destination alone was already errored.
    if (desc.kind === 'writable' && rec.final.errored === 'FUZZ_DEST') delete f.writableEnded
    // ALLOWANCE wrap-destroyed-first: destroy() without an error while the destination holds a
    // write it then fails. The destination alone records that failure as its error (core's
    // onwrite sets `errored` even on a destroyed stream); the wrapper was destroyed first, without
    // an error, and stays so: its 'close' was emitted with nothing to report.
    if (wrapDestroyedFirst) {
      delete f.errored
      delete f.writableEnded
    }
    return f
  }
  eq('final state', final(s), final(c))
  if (!destroyed) {
    eq("'finish' count", s.count.finish, c.count.finish)
    eq('end() callbacks', s.endCbs, c.endCbs)
    for (const op of program.ops) {
      if (op.op === 'write' && op.callback) eq(`write ${op.id}'s callback`, s.cbs.get(op.id) ?? [], c.cbs.get(op.id) ?? [])
    }
    if (!desc.async) eq('data delivered', ...[s, c].map((rec) => show(desc.readableObjectMode, joined(desc.readableObjectMode, rec.delivered))))
    return { problems, aligned }
  }
  // ALLOWANCE after-destroy: once a stream is destroyed (destroy(), an error, a write after end())
  // what happens to the writes already made depends on where each one was, which differs:
  // * core's Transform keeps the callback of a write that filled the readable side until its next
  //   _read; destroyed then, it never calls it, nor end()'s callback, nor errors the writes queued
  //   behind it (they get the stream's error, or ERR_STREAM_DESTROYED, only when that write
  //   completes). sluice answers them (lib/inflight.js): the write in flight with null, those
  //   behind it with the stream's error or ERR_STREAM_DESTROYED, end() with the error.
  // * core runs the callbacks of writes a synchronous transform completed in one batch from a
  //   tick: destroy(err) inside the first leaves the rest null and 'finish' is still emitted after
  //   the error; sluice's stages answer writes one by one, so those not yet answered get the
  //   error and no 'finish' follows.
  // * an asynchronous stage (native, batched) has completed fewer writes when it is destroyed.
  // So each write's callback must be called exactly once (invariants) with null, the stream's
  // error or ERR_STREAM_DESTROYED when core's was one of these or never came; a write made after
  // the destroy (its pre-state) must get exactly what core gives; 'finish' may be missing on
  // sluice's side only.
  const answers = [null, 'ERR_STREAM_DESTROYED', s.final.errored, c.final.errored]
  program.ops.forEach((op, i) => {
    if (op.op !== 'write' || !op.callback) return
    const a = s.cbs.get(op.id) ?? []
    const b = c.cbs.get(op.id) ?? []
    if (isDeepStrictEqual(a, b)) return
    const after = s.pre[i].destroyed || s.pre[i].writableEnded
    if (!after && a.length === 1 && b.length <= 1 && answers.includes(a[0]) && (b.length === 0 || answers.includes(b[0]))) return
    problems.push(`write ${op.id}'s callback: sluice ${JSON.stringify(a)}, core ${JSON.stringify(b)}`)
  })
  // 'finish' after a destroy: core emits it whenever the last write completes after the destroy
  // (its finishing is queued from the write's completion); sluice answers a held write at the
  // destroy (lib/inflight.js), so its 'finish' may follow where core's write never completes.
  // The same for end(callback) after a destroy: core leaves one queued behind the write it holds
  // unanswered, sluice answers it, wherever it comes among the others (an end(chunk) after it is
  // refused at once by both). So core's callbacks must be sluice's in order, with only answers
  // (null, destroyed, the error) in between.
  const ends = (rec) => rec.endCbs.map((x) => (answers.includes(x) ? 'answered' : x))
  const endsAgree = () => {
    const core = ends(c)
    let matched = 0
    for (const x of ends(s)) {
      if (matched < core.length && isDeepStrictEqual(x, core[matched])) matched++
      else if (x !== 'answered') return false
    }
    return matched === core.length
  }
  if (!endsAgree()) eq('end() callbacks', s.endCbs, c.endCbs)
  return { problems, aligned }
}

module.exports = { compare, invariants }
