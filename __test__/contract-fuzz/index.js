'use strict'

// Runs fuzz programs on both sides, compares them, and minimises a failing program (the runner,
// minimiser, trace and command line are the ones both fuzzes share: harness.js).

const { makeProgram, runSide } = require('./engine.js')
const { compare } = require('./compare.js')
const { COMPONENTS } = require('./components.js')
const harness = require('./harness.js')

async function check (desc, program) {
  const s = await runSide(desc, desc.create, program)
  const c = await runSide(desc, desc.reference, program)
  const { problems, aligned } = compare(desc, program, s, c)
  return { problems, aligned, s, c }
}

/** Smaller programs: no trigger, a plainer consumer, default options, fewer ops. */
function * variants (p) {
  if (p.trigger) yield { ...p, trigger: null }
  if (p.consumer && p.consumer.slow) yield { ...p, consumer: { ...p.consumer, slow: false } }
  if (p.consumer && p.consumer.breakAt !== null) yield { ...p, consumer: { ...p.consumer, breakAt: null } }
  if (Object.keys(p.options).length) yield { ...p, options: {} }
  yield * harness.fewerOps(p)
}

const minimise = (desc, program, budget) => harness.shrink(check, desc, program, variants, budget)

const trace = (program) => harness.trace(program, (p) => [
  `options ${JSON.stringify(p.options)} config ${JSON.stringify(p.config)}`,
  `consumer ${JSON.stringify(p.consumer)} trigger ${JSON.stringify(p.trigger)}`
])

/**
 * Runs `seeds` seeds (from `first`) for each component whose name matches `filter`, `parallel`
 * programs at a time. Resolves with { runs, aligned, failures: [{ desc, program, problems, minimal }] }.
 */
const fuzz = (options) => harness.fuzzWith({ COMPONENTS, makeProgram, check, minimise }, options)
const report = (failure) => harness.report(failure, trace)

module.exports = { check, minimise, trace, fuzz, report, makeProgram, COMPONENTS }

// node __test__/contract-fuzz/index.js [seeds] [first] [name regexp]
if (require.main === module) harness.commandLine(module.exports, 4)
