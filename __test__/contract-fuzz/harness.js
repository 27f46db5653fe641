'use strict'

// What the two contract fuzzes share: the Node streams' (this folder) and the Web faces'
// (../web-contract-fuzz/). One mechanism for both: a seeded program is a list of operations drawn
// by weight (makeOps), the data a run delivered is checked against the component's model
// (dataProblems), the two runs are compared field by field (equality), and one runner, minimiser,
// trace, spec and command line drive either fuzz. Each fuzz brings its components, its
// operations and how it runs one side; every difference it allows between the sides is named
// with its reason in its own compare.js.

const { isDeepStrictEqual } = require('node:util')

// ---------------------------------------------------------------------------------------------
// Programs

/**
 * 3 to 30 draws of an operation: its kind by weight from `kinds(ops)` (a table of [weight, kind],
 * looked at anew for each draw: it may depend on the operations so far), the operation made by
 * `make(kind, ops)`; a draw that makes null or undefined adds nothing.
 */
function makeOps (r, kinds, make) {
  const ops = []
  const n = r.range(3, 30)
  for (let i = 0; i < n; i++) {
    const op = make(r.weighted(kinds(ops)), ops)
    if (op) ops.push(op)
  }
  return ops
}

// ---------------------------------------------------------------------------------------------
// Data against the model

/** The models of a component that delivers what it takes: the bytes joined, or the values. */
const identityBytes = (taken) => ({ output: Buffer.concat(taken), error: null })
const identityValues = (taken) => ({ output: taken.slice(), error: null })

/** A byte chunk's bytes (a string as its UTF-8); null for anything else. */
function bytesOf (chunk) {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8')
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  return null
}

/** What a consumer got, as the model has it: the values, or the bytes joined (a chunk that is no bytes shows as such). */
function joined (objects, chunks) {
  if (objects) return chunks
  return Buffer.concat(chunks.map((c) => bytesOf(c) ?? Buffer.from(`<not bytes: ${typeof c}>`)))
}

const show = (objects, x) => (objects ? JSON.stringify(x, (k, v) => (typeof v === 'symbol' ? String(v) : v)) : JSON.stringify(x.toString('latin1')))
const short = (s) => (s.length > 300 ? s.slice(0, 300) + '…' : s)

function isPrefix (objects, got, full) {
  if (objects) return got.length <= full.length && got.every((v, i) => isDeepStrictEqual(v, full[i]))
  return got.length <= full.length && full.subarray(0, got.length).equals(got)
}

/**
 * The data a consumer got (`chunks`) against the model: a prefix of `written` (the model's output
 * for everything written), and when the consumer saw the end (`ended`: what to call it), all of
 * `taken` (the output for what the stream took). Returns a list of problems (none or one).
 */
function dataProblems ({ objects, chunks, written, taken = written, ended = null }) {
  const got = joined(objects, chunks)
  if (!isPrefix(objects, got, written)) return [`delivered data is not a prefix of what was written: got ${short(show(objects, got))}, written ${short(show(objects, written))}`]
  if (ended !== null && got.length !== taken.length) return [`${ended} after ${got.length} of ${taken.length} units`]
  return []
}

/** eq(what, a, b): a problem in `problems` unless the sluice side's `a` equals the reference's `b`. */
function equality (problems, reference) {
  return (what, a, b) => {
    if (!isDeepStrictEqual(a, b)) problems.push(`${what}: sluice ${JSON.stringify(a)}, ${reference} ${JSON.stringify(b)}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Running, minimising, reporting

/** `p` with ops removed: halves, then smaller runs, down to one at a time. */
function * fewerOps (p) {
  for (let size = Math.floor(p.ops.length / 2); size >= 1; size = Math.floor(size / 2)) {
    for (let at = 0; at + size <= p.ops.length; at += size) yield { ...p, ops: [...p.ops.slice(0, at), ...p.ops.slice(at + size)] }
  }
}

/**
 * The smallest of `variants(program)` (taken greedily, again and again) for which `check` still
 * reports the same first problem (numbers aside), within `budget` checks.
 */
async function shrink (check, desc, program, variants, budget = 150) {
  let best = program
  let tries = 0
  const sig = (p) => p.replace(/[0-9]+/g, '#')
  const { problems: original } = await check(desc, program)
  const wanted = original.length ? sig(original[0]) : null
  const fails = async (p) => {
    tries++
    const { problems } = await check(desc, p)
    return problems.some((x) => sig(x) === wanted)
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

/**
 * Runs `seeds` seeds (from `first`) of `fuzz` ({ COMPONENTS, makeProgram, check, minimise }) for
 * each component whose name matches `filter`, `parallel` programs at a time. Resolves with
 * { runs, aligned, failures: [{ desc, seed, program, problems, minimal, minimalProblems }] }.
 */
async function fuzzWith ({ COMPONENTS, makeProgram, check, minimise }, { first = 1, seeds = 50, filter = null, parallel = 4, minimiseFailures = true, onFailure = null } = {}) {
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

/** One operation of a program as a line of its trace (bytes shown short, values as JSON). */
function formatOp (o) {
  const { op: name, ...rest } = o
  if (rest.bytes !== undefined) {
    const bytes = Buffer.from(rest.bytes, 'base64')
    rest.bytes = bytes.length <= 48 ? JSON.stringify(bytes.toString('latin1')) : `<${bytes.length} bytes>`
    if (typeof rest.chunk === 'string') rest.chunk = rest.chunk.length <= 48 ? rest.chunk : `<${rest.chunk.length} chars>`
    else delete rest.chunk
  } else if (rest.chunk !== undefined) {
    rest.chunk = typeof rest.chunk === 'symbol' ? String(rest.chunk) : JSON.stringify(rest.chunk)
  }
  const text = (v) => (typeof v === 'string' ? v : typeof v === 'symbol' ? String(v) : JSON.stringify(v))
  return `  ${name} ${Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${text(v)}`).join(' ')}`
}

/** A program as text: its component and seed, the lines `header(program)` gives, its operations. */
function trace (program, header) {
  return [`component ${program.component}, seed ${program.seed}`, ...header(program), ...program.ops.map(formatOp)].join('\n')
}

function report (failure, traceOf) {
  return [
    `${failure.desc.name} seed ${failure.seed}:`,
    ...failure.problems.map((p) => '  ' + p),
    ...(failure.minimal ? ['minimal program:', traceOf(failure.minimal), 'its problems:', ...failure.minimalProblems.map((p) => '  ' + p)] : [])
  ].join('\n')
}

/**
 * One ava test per component of `fuzz` (its index.js): `seeds` seeds each, or `${env}_SEEDS`,
 * from seed 1 or `${env}_FIRST`. A failure logs the seed, the problems and a minimised program.
 */
function registerSpec (test, fuzz, { title, env, seeds }) {
  const SEEDS = Number(process.env[`${env}_SEEDS`] || seeds)
  const FIRST = Number(process.env[`${env}_FIRST`] || 1)
  for (const desc of fuzz.COMPONENTS) {
    test(`${title}: ${desc.name}, seeds ${FIRST}…${FIRST + SEEDS - 1}`, async (t) => {
      t.timeout(240000)
      const escaped = desc.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      const t0 = Date.now()
      const stats = await fuzz.fuzz({ first: FIRST, seeds: SEEDS, filter: new RegExp(`^${escaped}$`), parallel: 2 })
      for (const failure of stats.failures) t.log(fuzz.report(failure))
      t.is(stats.failures.length, 0, `${stats.failures.length} of ${stats.runs} seeds diverged (see the log above)`)
      t.log(`${stats.runs} runs, ${stats.aligned} aligned (compared in full), ${Date.now() - t0} ms`)
    })
  }
}

/** The command line of a fuzz's index.js: `node index.js [seeds] [first] [name regexp]`. */
function commandLine (fuzz, parallel) {
  const seeds = Number(process.argv[2] ?? 100)
  const first = Number(process.argv[3] ?? 1)
  const filter = process.argv[4] ? new RegExp(process.argv[4]) : null
  const t0 = Date.now()
  fuzz.fuzz({ seeds, first, filter, parallel, onFailure: (f) => console.log(fuzz.report(f) + '\n') }).then((stats) => {
    console.log(`runs ${stats.runs}, aligned ${stats.aligned}, failures ${stats.failures.length}, ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    process.exitCode = stats.failures.length ? 1 : 0
  })
}

module.exports = {
  makeOps,
  identityBytes,
  identityValues,
  bytesOf,
  joined,
  show,
  dataProblems,
  equality,
  fewerOps,
  shrink,
  fuzzWith,
  formatOp,
  trace,
  report,
  registerSpec,
  commandLine
}
