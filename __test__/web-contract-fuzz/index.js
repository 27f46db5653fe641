'use strict'

// Runs Web fuzz programs on both sides, compares them, and minimises a failing program (the
// runner, minimiser, trace and command line are the ones both fuzzes share:
// ../contract-fuzz/harness.js).

const { makeProgram, runSide } = require('./engine.js')
const { compare } = require('./compare.js')
const { COMPONENTS } = require('./components.js')
const harness = require('../contract-fuzz/harness.js')

async function check (desc, program) {
  // The reference first: the sluice run waits for what the reference settled (engine.js).
  const c = await runSide(desc, desc.reference, program)
  const s = await runSide(desc, desc.create, program, c)
  const { problems, aligned } = compare(desc, program, s, c)
  return { problems, aligned, s, c }
}

/** Smaller programs: a plainer producer and consumer, default strategies, fewer ops, shorter chunks. */
function * variants (p) {
  const c = p.consumer
  if (c && c.slow) yield { ...p, consumer: { ...c, slow: false } }
  if (c && c.breakAt !== null) yield { ...p, consumer: { ...c, breakAt: null } }
  if (c && c.mode !== 'reader') yield { ...p, consumer: { ...c, mode: 'reader', signal: false } }
  if (p.producer.mode !== 'writer') yield { ...p, producer: { mode: 'writer' } }
  for (const side of ['writable', 'readable']) {
    if (p.strategies[side] && p.strategies[side].kind !== 'default') yield { ...p, strategies: { ...p.strategies, [side]: { kind: 'default' } } }
  }
  yield * harness.fewerOps(p)
  // Shorter chunks (bytes): the first half of one.
  for (let i = 0; i < p.ops.length; i++) {
    const op = p.ops[i]
    if (op.bytes === undefined) continue
    const bytes = Buffer.from(op.bytes, 'base64')
    if (bytes.length > 1) yield { ...p, ops: p.ops.map((o, k) => (k === i ? { ...o, bytes: bytes.subarray(0, bytes.length >> 1).toString('base64'), form: 'Uint8Array' } : o)) }
  }
}

const minimise = (desc, program, budget) => harness.shrink(check, desc, program, variants, budget)

const trace = (program) => harness.trace(program, (p) => [
  `strategies ${JSON.stringify(p.strategies)} config ${JSON.stringify(p.config)}`,
  `producer ${JSON.stringify(p.producer)}`,
  `consumer ${JSON.stringify(p.consumer)}`
])

const fuzz = (options) => harness.fuzzWith({ COMPONENTS, makeProgram, check, minimise }, options)
const report = (failure) => harness.report(failure, trace)

module.exports = { check, minimise, trace, fuzz, report, makeProgram, COMPONENTS }

// node __test__/web-contract-fuzz/index.js [seeds] [first] [name regexp]
if (require.main === module) harness.commandLine(module.exports, 2)
