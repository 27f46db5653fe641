'use strict'

// How fast could any parser that builds its values with `JSON.parse` be, on the real corpora?
// Beside sluice and minimal-js (bench/trial.js, from memory), two bounds are timed in children of
// their own, with everything but the value building done before the clock starts:
//   json-parse-lines : the corpus split into lines, each decoded into a string of its own (so that
//                      an ASCII line is a one-byte string, which JSON.parse reads fastest, whatever
//                      the other lines hold), then one JSON.parse per line (no stream, no chunks, no
//                      framing): the ceiling of every parser that hands JS line texts, as sluice's
//                      text mode and every JS peer do;
//   v8-deserialize   : the values serialized with v8.serialize in batches of ~64 KiB of input, then
//                      one v8.deserialize per batch: the one other way Node offers to build plain
//                      objects from bytes another thread could have prepared (the structured-clone
//                      format), asked whether it beats JSON.parse.
// The shape path (src/ndjson/shape.rs) is the third way; its own figures are in `npm run bench`.
//
//   node bench/ceiling.js [--size-mb 30] [--reps 3] [--only real-webhooks,real-zeek]
//
// Markdown goes to stdout and to bench/.corpus/results-ceiling.md.

const fs = require('node:fs')
const path = require('node:path')
const v8 = require('node:v8')
const common = require('./common.js')
const realCorpus = require('./real-corpus.js')
const { CORPUS_DIR } = require('./corpus.js')

const BOUNDS = ['json-parse-lines', 'v8-deserialize']
const STREAMS = ['minimal-js', 'sluice']
const BATCH_BYTES = common.CHUNK

/** The corpus's lines, each decoded on its own, and each line's length in bytes. */
function readLines(file) {
  const buf = fs.readFileSync(file)
  const lines = []
  const bytes = []
  for (let start = 0; start < buf.length; ) {
    let end = buf.indexOf(10, start)
    if (end === -1) end = buf.length
    if (end > start) {
      lines.push(buf.toString('utf8', start, end))
      bytes.push(end - start + 1)
    }
    start = end + 1
  }
  return { lines, bytes }
}

/** Child: one bound, timed over the whole corpus. */
function bound({ name, path: file, bytes, records }) {
  const { lines, bytes: lineBytes } = readLines(file)
  if (lines.length !== records) throw new Error(`${file}: ${lines.length} lines, expected ${records}`)
  let run
  if (name === 'json-parse-lines') {
    run = () => {
      let objects = 0
      for (let i = 0; i < lines.length; i++) if (typeof JSON.parse(lines[i]) === 'object') objects++
      return objects
    }
  } else if (name === 'v8-deserialize') {
    const batches = []
    let batch = []
    let size = 0
    for (let i = 0; i < lines.length; i++) {
      batch.push(JSON.parse(lines[i]))
      size += lineBytes[i]
      if (size >= BATCH_BYTES) {
        batches.push(v8.serialize(batch))
        batch = []
        size = 0
      }
    }
    if (batch.length > 0) batches.push(v8.serialize(batch))
    run = () => {
      let objects = 0
      for (const b of batches) {
        const values = v8.deserialize(b)
        for (let i = 0; i < values.length; i++) if (typeof values[i] === 'object') objects++
      }
      return objects
    }
  } else {
    throw new Error(`unknown bound "${name}"`)
  }
  const t0 = common.snapshot()
  const objects = run()
  const d = common.since(t0)
  if (objects !== records) throw new Error(`${name}: ${objects} objects built, expected ${records}`)
  return { ...d, mbPerS: bytes / 1e6 / d.wallS }
}

async function main() {
  let args
  try {
    args = common.parseArgs(process.argv.slice(2), {
      'size-mb': { type: 'number', default: 30 },
      reps: { type: 'number', default: 3 },
      only: { type: 'list', default: realCorpus.KINDS.map((k) => `real-${k}`) },
    })
  } catch (err) {
    throw new UsageError(err.message)
  }
  const kinds = args.only.map((spec) => spec.replace(/^real-/, ''))
  const unknown = kinds.filter((k) => !realCorpus.KINDS.includes(k))
  if (unknown.length > 0 || kinds.length === 0) {
    throw new UsageError(
      `--only: unknown corpus "${unknown.join(',')}"; known: ${realCorpus.KINDS.map((k) => `real-${k}`).join(',')}`,
    )
  }
  if (!Number.isInteger(args.reps)) throw new UsageError('--reps must be a whole number')
  const log = (m) => console.error(m)
  const out = []
  const emit = (s = '') => {
    console.log(s)
    out.push(s)
  }
  emit(`# The JSON.parse ceiling on the real corpora (${args['size-mb']} MB, median of ${args.reps})`)
  emit()
  emit(
    'MB/s of input; ms of JS-thread CPU per MB (counted in 10 ms ticks: steps of 0.1 ms/MB at 100 MB). json-parse-lines: JSON.parse over lines already split and ' +
      'decoded, each a string of its own, nothing else; v8-deserialize: the same values from v8.serialize batches of ~64 KiB of input; ' +
      'minimal-js and sluice: the whole stream from memory in 64 KiB chunks (bench/trial.js). ' +
      '"ceiling" = json-parse-lines / minimal-js: the most a parser that hands JS line texts can reach.',
  )
  emit()
  const names = [...BOUNDS, ...STREAMS]
  const rows = []
  for (const kind of kinds) {
    const meta = realCorpus.ensureRealCorpus(kind, args['size-mb'], log)
    const results = new Map(names.map((n) => [n, []]))
    for (let rep = 0; rep < args.reps; rep++) {
      const order = names.map((_, i) => names[(i + rep) % names.length])
      for (const name of order) {
        const input = { path: meta.path, bytes: meta.bytes, records: meta.records }
        const r = BOUNDS.includes(name)
          ? await common.runChild(__filename, { child: true, name, ...input })
          : await common.runChild(path.join(__dirname, 'trial.js'), {
              candidate: name,
              source: 'mem',
              anyObject: true,
              ...input,
            })
        results.get(name).push(r)
        log(`[${kind} rep ${rep + 1}/${args.reps}] ${name}: ${r.mbPerS.toFixed(1)} MB/s`)
      }
    }
    const { stat, perMB } = common.resultStats(results, meta.bytes)
    const mb = (n) => stat(n, 'mbPerS').median
    const cells = names.map((n) => `${mb(n).toFixed(0)} (${perMB(n, 'threadCpuS').median.toFixed(1)})`)
    rows.push([
      kind,
      ...cells,
      `${(mb('json-parse-lines') / mb('minimal-js')).toFixed(2)}×`,
      `${(mb('sluice') / mb('minimal-js')).toFixed(2)}×`,
      `${(mb('v8-deserialize') / mb('json-parse-lines')).toFixed(2)}×`,
    ])
  }
  emit(
    common.mdTable(
      [
        'corpus',
        ...names.map((n) => `${n} MB/s (JS ms/MB)`),
        'ceiling',
        'sluice / minimal-js',
        'v8-deserialize / json-parse-lines',
      ],
      rows,
    ),
  )
  fs.mkdirSync(CORPUS_DIR, { recursive: true })
  fs.writeFileSync(path.join(CORPUS_DIR, 'results-ceiling.md'), out.join('\n') + '\n')
}

/** A bad command line: said in one line, without a stack. */
class UsageError extends Error {}

// A child is forked by common.runChild, with an IPC channel and its input as JSON.
if (process.send && process.argv[2]?.startsWith('{')) {
  common.runChildMain(bound)
} else {
  main().catch((err) => {
    console.error(err instanceof UsageError ? `bench/ceiling.js: ${err.message}` : err)
    process.exit(1)
  })
}
