'use strict'

// Instructions, not seconds: what each parser costs the CPU per byte of input, counted by
// callgrind (valgrind), on the JS thread and on every other thread of the process.
//
// Why: on this machine a parser's MB/s moves ±10–25 % between fresh processes, so at parity (sluice's
// text mode against minimal-js, both JSON.parse-bound) a 3-rep median of `npm run bench` lands on
// either side of 1.0×. Instruction counts do not depend on the load beside them: the same build
// gives the same count to within ~1 %, so a change of a few percent in what a parser costs shows.
// They are not time (a cache miss costs no instruction, a vector instruction counts as one), and
// under callgrind the process runs ~50× slower with its threads taking turns, so V8's background
// compiles finish later in the stream than they would, and V8 may collect differently (sluice on
// Zeek logs at 30 MB: one full mark-compact under callgrind, none in runs at full speed, its
// concurrent marking ~28 M instructions of the other threads' column). A guide to CPU cost, beside
// `npm run bench`, never a replacement for it.
//
// Each candidate runs 2 × reps times per corpus, each in a fresh `valgrind --tool=callgrind --separate-threads=yes`
// child (bench/instructions.js --child): over the corpus's first 16 lines, and over the whole corpus,
// both from memory in 64 KiB chunks into the counting sink of `npm run bench`. The difference is the
// stream's cost: loading the module, starting Node and reading the file are in both and cancel;
// warm-up (V8 compiling the hot functions, sluice's builders) is in the stream's cost, where it belongs.
//
//   node bench/instructions.js [--size-mb 10] [--reps 3] [--only real-zeek,small] [--candidates sluice,minimal-js]
//
// Markdown goes to stdout and to bench/.corpus/results-instructions.md.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { pipeline } = require('node:stream')
const common = require('./common.js')
const { BENCH_KINDS: ALL_KINDS, ensureBenchCorpus } = require('./real-corpus.js')
const { CORPUS_DIR } = require('./corpus.js')
const BASELINE_LINES = 16

/** Child (under callgrind): one candidate over the corpus, or over its first lines. */
async function child({ candidate, path: file, records, lines }) {
  const { byName } = require('./candidates.js')
  const create = await byName(candidate).load()
  let input = fs.readFileSync(file)
  let expected = records
  if (lines !== undefined) {
    let end = 0
    for (let i = 0; i < lines; i++) end = input.indexOf(10, end) + 1
    input = input.subarray(0, end)
    expected = lines
  }
  const { sink, state } = common.countingSink('value', { anyObject: true })
  await new Promise((resolve, reject) =>
    pipeline(common.memorySource(input), create(), sink, (err) => (err ? reject(err) : resolve())),
  )
  if (state.records !== expected || state.touched !== expected) {
    throw new Error(`${candidate}: ${state.records} records (${state.touched} touched), expected ${expected}`)
  }
}

/** Instructions of one child run: { main, other } (thread 1 is the JS thread). */
function count(input) {
  const dir = fs.mkdtempSync(path.join(CORPUS_DIR, 'callgrind-'))
  try {
    const r = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--separate-threads=yes',
        `--callgrind-out-file=${path.join(dir, 'out')}`,
        process.execPath,
        __filename,
        '--child',
        JSON.stringify(input),
      ],
      { encoding: 'utf8', timeout: 30 * 60 * 1000 },
    )
    if (r.error) throw r.error
    if (r.status !== 0) throw new Error(`valgrind exited with ${r.status}: ${r.stderr.split('\n').slice(-15).join('\n')}`)
    let main = 0
    let other = 0
    for (const f of fs.readdirSync(dir)) {
      const m = /^out-(\d+)$/.exec(f) ?? /^out\.\d+-(\d+)$/.exec(f)
      if (!m) continue
      const summary = /^summary: (\d+)$/m.exec(fs.readFileSync(path.join(dir, f), 'utf8'))
      if (!summary) throw new Error(`${f}: no summary line`)
      if (Number(m[1]) === 1) main += Number(summary[1])
      else other += Number(summary[1])
    }
    if (main === 0) throw new Error(`no callgrind output for the JS thread in ${dir}`)
    return { main, other }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The median of `reps` counts, thread group by thread group. Counts are not quite deterministic:
 * V8 compiles and collects garbage on other threads, and when their work lands changes what the
 * JS thread runs (minimal-js on Zeek logs, 10 MB: 1,086–1,090 M instructions in five runs of six,
 * 1,185 M in the sixth).
 */
function medianCount(input, reps) {
  const counts = []
  for (let i = 0; i < reps; i++) counts.push(count(input))
  const median = (key) => common.summarise(counts.map((c) => c[key])).median
  return { main: median('main'), other: median('other') }
}

function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    'size-mb': { type: 'number', default: 10 },
    only: { type: 'list', default: ALL_KINDS },
    candidates: { type: 'list', default: ['sluice', 'minimal-js'] },
    reps: { type: 'number', default: 3 },
  })
  if (!Number.isInteger(args.reps)) throw new Error('--reps must be a whole number')
  for (const k of args.only) if (!ALL_KINDS.includes(k)) throw new Error(`unknown corpus "${k}"; known: ${ALL_KINDS.join(', ')}`)
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' })
  if (probe.error || probe.status !== 0) throw new Error('valgrind is not installed (it counts the instructions): apt install valgrind')
  const log = (m) => console.error(m)
  const out = []
  const emit = (s = '') => {
    console.log(s)
    out.push(s)
  }
  const [reference] = args.candidates
  const others = args.candidates.slice(1)
  emit(`# Instructions per byte of input (callgrind, ${args['size-mb']} MB from memory, median of ${args.reps})`)
  emit()
  emit(
    `JS thread / every other thread (V8's compilers and GC, sluice's workers) / total, per byte of input: ` +
      `the whole stream's count less that of a stream of the corpus's first ${BASELINE_LINES} lines. ` +
      `The ratios are ${reference}'s total (and JS thread) over each other candidate's.`,
  )
  emit()
  const header = ['corpus', ...args.candidates.map((c) => `${c} JS / other / total`), ...others.map((c) => `total (JS) vs ${c}`)]
  const rows = []
  for (const kind of args.only) {
    const meta = ensureBenchCorpus(kind, args['size-mb'], log)
    const per = new Map()
    for (const candidate of args.candidates) {
      const input = { candidate, path: meta.path, records: meta.records }
      log(`${kind} ${candidate}: counting…`)
      const base = medianCount({ ...input, lines: BASELINE_LINES }, args.reps)
      const whole = medianCount(input, args.reps)
      const bytes = meta.bytes
      per.set(candidate, {
        main: (whole.main - base.main) / bytes,
        other: (whole.other - base.other) / bytes,
      })
    }
    const f = (x) => x.toFixed(1)
    const cells = args.candidates.map((c) => {
      const p = per.get(c)
      return `${f(p.main)} / ${f(p.other)} / ${f(p.main + p.other)}`
    })
    const ref = per.get(reference)
    const ratios = others.map((c) => {
      const p = per.get(c)
      return `${((ref.main + ref.other) / (p.main + p.other)).toFixed(2)}× (${(ref.main / p.main).toFixed(2)}×)`
    })
    rows.push([kind, ...cells, ...ratios])
  }
  emit(common.mdTable(header, rows))
  fs.writeFileSync(path.join(CORPUS_DIR, 'results-instructions.md'), out.join('\n') + '\n')
}

if (process.argv[2] === '--child') {
  child(JSON.parse(process.argv[3])).catch((err) => {
    console.error(err && err.stack ? err.stack : err)
    process.exitCode = 1
  })
} else {
  try {
    main()
  } catch (err) {
    console.error(`bench/instructions.js: ${err.message}`)
    process.exitCode = 1
  }
}
