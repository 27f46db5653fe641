'use strict'

// Runs fuzz programs on both sides, compares them, and minimises a failing program.

const { makeProgram, runSide } = require('./engine.js')
const { compare } = require('./compare.js')
const { COMPONENTS } = require('./components.js')

async function check (desc, program) {
  const s = await runSide(desc, desc.create, program)
  const c = await runSide(desc, desc.reference, program)
  const { problems, aligned } = compare(desc, program, s, c)
  return { problems, aligned, s, c }
}

/** Smaller programs that still fail: ops removed (halves, then one at a time), options dropped. */
async function minimise (desc, program, budget = 150) {
  let best = program
  let tries = 0
  // The same problem (its first one, numbers aside), not any.
  const sig = (p) => p.replace(/[0-9]+/g, '#')
  const { problems: original } = await check(desc, program)
  const wanted = original.length ? sig(original[0]) : null
  const fails = async (p) => {
    tries++
    const { problems } = await check(desc, p)
    return problems.some((x) => sig(x) === wanted)
  }
  const variants = function * (p) {
    if (p.trigger) yield { ...p, trigger: null }
    if (p.consumer && p.consumer.slow) yield { ...p, consumer: { ...p.consumer, slow: false } }
    if (p.consumer && p.consumer.breakAt !== null) yield { ...p, consumer: { ...p.consumer, breakAt: null } }
    if (Object.keys(p.options).length) yield { ...p, options: {} }
    for (let size = Math.floor(p.ops.length / 2); size >= 1; size = Math.floor(size / 2)) {
      for (let at = 0; at + size <= p.ops.length; at += size) yield { ...p, ops: [...p.ops.slice(0, at), ...p.ops.slice(at + size)] }
    }
  }
  let progress = true
  while (progress && tries < budget) {
    progress = false
    for (const v of variants(best)) {
      if (tries >= budget) break
      if (await fails(v)) {
        best = v
        progress = true
        break
      }
    }
  }
  return best
}

function trace (program) {
  const op = (o) => {
    const { op: name, ...rest } = o
    if (rest.bytes !== undefined) {
      const bytes = Buffer.from(rest.bytes, 'base64')
      rest.bytes = bytes.length <= 48 ? JSON.stringify(bytes.toString('latin1')) : `<${bytes.length} bytes>`
      if (typeof rest.chunk === 'string') rest.chunk = rest.chunk.length <= 48 ? rest.chunk : `<${rest.chunk.length} chars>`
      else delete rest.chunk
    } else if (rest.chunk !== undefined) {
      rest.chunk = typeof rest.chunk === 'symbol' ? String(rest.chunk) : JSON.stringify(rest.chunk)
    }
    return `  ${name} ${Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}`
  }
  return [
    `component ${program.component}, seed ${program.seed}`,
    `options ${JSON.stringify(program.options)} config ${JSON.stringify(program.config)}`,
    `consumer ${JSON.stringify(program.consumer)} trigger ${JSON.stringify(program.trigger)}`,
    ...program.ops.map(op)
  ].join('\n')
}

/**
 * Runs `seeds` seeds (from `first`) for each component whose name matches `filter`, `parallel`
 * programs at a time. Resolves with { runs, aligned, failures: [{ desc, program, problems, minimal }] }.
 */
async function fuzz ({ first = 1, seeds = 50, filter = null, parallel = 4, minimiseFailures = true, onFailure = null } = {}) {
  const descs = COMPONENTS.filter((d) => filter === null || filter.test(d.name))
  const jobs = []
  for (const desc of descs) for (let seed = first; seed < first + seeds; seed++) jobs.push({ desc, seed })
  const stats = { runs: 0, aligned: 0, failures: [] }
  let next = 0
  const worker = async () => {
    while (next < jobs.length) {
      const { desc, seed } = jobs[next++]
      const program = makeProgram(desc, seed)
      const { problems, aligned } = await check(desc, program)
      stats.runs++
      if (aligned) stats.aligned++
      if (problems.length > 0) {
        const failure = { desc, seed, program, problems }
        if (minimiseFailures) {
          failure.minimal = await minimise(desc, program)
          failure.minimalProblems = (await check(desc, failure.minimal)).problems
        }
        stats.failures.push(failure)
        if (onFailure) onFailure(failure)
      }
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
  return stats
}

function report (failure) {
  return [
    `${failure.desc.name} seed ${failure.seed}:`,
    ...failure.problems.map((p) => '  ' + p),
    ...(failure.minimal ? ['minimal program:', trace(failure.minimal), 'its problems:', ...failure.minimalProblems.map((p) => '  ' + p)] : [])
  ].join('\n')
}

module.exports = { check, minimise, trace, fuzz, report, makeProgram, COMPONENTS }

if (require.main === module) {
  // node __test__/contract-fuzz/index.js [seeds] [first] [name regexp]
  const seeds = Number(process.argv[2] ?? 100)
  const first = Number(process.argv[3] ?? 1)
  const filter = process.argv[4] ? new RegExp(process.argv[4]) : null
  const t0 = Date.now()
  fuzz({ seeds, first, filter, onFailure: (f) => console.log(report(f) + '\n') }).then((stats) => {
    console.log(`runs ${stats.runs}, aligned ${stats.aligned}, failures ${stats.failures.length}, ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    process.exitCode = stats.failures.length ? 1 : 0
  })
}
