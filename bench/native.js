'use strict'

// The NDJSON worker stage on its own, side by side with the fastest Rust JSON parsers on this
// machine: how far the native stage is from 1 GB/s per core (issue 9's target), and how far
// anything written in Rust gets on the same lines.
//
//   node bench/native.js [--size-mb N] [--only real-counties,...,small,medium,large]
//
// Candidates, each a single-threaded release build run on one corpus at a time:
//   sluice worker      examples/worker_speed.rs, 'columns' form (what output 'values' runs): frames,
//                      validates and takes each line apart into the columns JS builds values from
//                      (numbers converted, strings turned into UTF-16), or checks and transcodes
//                      the lines left to JSON.parse. "handed over": each 64 KiB chunk copied into
//                      a buffer of its own first (untimed), as the transport's write does, so
//                      the stage reads memory just written; "one buffer": the whole file read
//                      where it lies (every line a first touch of main memory)
//   sonic-rs, serde_json  (bench/native-peers/) build a value of every line: the same work minus
//                      the columns; "-skip": only check each line, nothing converted or built
// Each cell is the median (min–max) of three runs in one process, MB/s of input. The first run
// compiles both programs in release mode (a few minutes on 2 cores). Markdown goes to stdout and
// to bench/.corpus/results-native.md; progress to stderr.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const corpus = require('./corpus.js')
const realCorpus = require('./real-corpus.js')
const common = require('./common.js')

const ROOT = path.join(__dirname, '..')
const PEERS_DIR = path.join(__dirname, 'native-peers')
const PEERS = ['sonic-rs', 'sonic-rs-skip', 'serde_json', 'serde_json-skip']
const TARGET_MBS = 1000
const ALL_KINDS = [...realCorpus.KINDS.map((k) => `real-${k}`), ...corpus.KINDS]

const log = (...a) => console.error(...a)

/** The MB/s a run printed, summarised per label ("columns, handed over: 603 MB/s (...)"). */
function summaries(output) {
  const runs = new Map()
  for (const line of output.split('\n')) {
    const m = /^(.*): (\d+) MB\/s/.exec(line)
    if (m === null) continue
    if (!runs.has(m[1])) runs.set(m[1], [])
    runs.get(m[1]).push(Number(m[2]))
  }
  return new Map([...runs].map(([label, values]) => [label, common.summarise(values)]))
}

function build() {
  log('building examples/worker_speed (release) ...')
  execFileSync('cargo', ['build', '--release', '--example', 'worker_speed'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
  log('building bench/native-peers (release) ...')
  execFileSync('cargo', ['build', '--release'], { cwd: PEERS_DIR, stdio: ['ignore', 'ignore', 'inherit'] })
}

function main() {
  const args = common.parseArgs(process.argv.slice(2), {
    'size-mb': { type: 'number', default: 100 },
    only: { type: 'list', default: ALL_KINDS },
  })
  build()
  const worker = path.join(ROOT, 'target', 'release', 'examples', 'worker_speed')
  const peers = path.join(PEERS_DIR, 'target', 'release', 'native-peers')
  const header = ['corpus', 'sluice worker, handed over', 'sluice worker, one buffer', ...PEERS, 'worker ≥ 1 GB/s', 'worker / sonic-rs']
  const rows = []
  for (const kind of args.only) {
    const meta = kind.startsWith('real-')
      ? realCorpus.ensureRealCorpus(kind.slice('real-'.length), args['size-mb'], log)
      : corpus.ensureCorpus(kind, args['size-mb'], log)
    log(`[${kind}] sluice worker ...`)
    const ours = summaries(execFileSync(worker, [meta.path, 'columns'], { encoding: 'utf8' }))
    const handedOver = ours.get('columns, handed over')
    const row = [kind, common.fmtStat(handedOver, 0), common.fmtStat(ours.get('columns, from one buffer'), 0)]
    const their = {}
    for (const peer of PEERS) {
      log(`[${kind}] ${peer} ...`)
      their[peer] = summaries(execFileSync(peers, [meta.path, peer], { encoding: 'utf8' })).get(peer)
      row.push(common.fmtStat(their[peer], 0))
    }
    const ratio = handedOver.median / their['sonic-rs'].median
    row.push(handedOver.median >= TARGET_MBS ? 'yes' : '**no**', `${ratio.toFixed(2)}×`)
    rows.push(row)
  }
  const out = [
    `## Native stage alone, ${args['size-mb']} MB per corpus (MB/s, median of 3)`,
    '',
    common.mdTable(header, rows),
    '',
    'Median (min–max) of 3 runs. sonic-rs / serde_json: a value built from every line (numbers converted, strings decoded); ' +
      '-skip: each line only checked. All single-threaded, lines framed with memchr, input handed over in fresh 64 KiB ' +
      'copies (see bench/native.js).',
  ].join('\n')
  console.log(out)
  fs.writeFileSync(path.join(corpus.CORPUS_DIR, 'results-native.md'), out + '\n')
}

main()
