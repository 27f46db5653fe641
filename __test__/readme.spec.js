'use strict'

// The README's examples, run as a user would paste them: each ```js block in a file of its own,
// in a fresh directory whose node_modules/sluice is this package (so `require('sluice')`,
// `sluice/web` and `sluice/testing` resolve through package.json's exports, as after an install),
// with the files it reads made first, and its output checked against what the README says it
// prints. A block is either run here or listed in FRAGMENTS with the reason it cannot run alone;
// a new block that is neither fails the first test, so no example goes out unrun.
//
// Servers (the throttled download, the Prometheus endpoint) are run too: a preload makes their
// listen() take a free port and, once listening, fetches one response and exits.

const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { execFileSync } = require('node:child_process')
const { runChild } = require('./helpers.js')

const ROOT = path.join(__dirname, '..')
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')

/** The ```js blocks of the README, with the line each starts on. */
function jsBlocks (markdown) {
  const blocks = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```js') continue
    const start = i + 2
    const body = []
    while (++i < lines.length && lines[i] !== '```') body.push(lines[i])
    blocks.push({ line: start, code: body.join('\n') + '\n' })
  }
  return blocks
}

const BLOCKS = jsBlocks(README)

/** Output as the README's comments show it: util.inspect breaks a long value over lines. Only
 * newlines and the indentation after them go (`\s` would take U+2028 too). */
const oneLine = (text) => text.replace(/ *\n */g, ' ')

/** An empty directory of its own for one test, removed after it. */
function freshDir (t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-readme-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The block that contains `marker` (exactly one must). */
function block (marker) {
  const found = BLOCKS.filter((b) => b.code.includes(marker))
  if (found.length !== 1) throw new Error(`README: ${found.length} js blocks contain ${JSON.stringify(marker)}`)
  return found[0]
}

// Blocks that are not programs: what an error carries, printed as expressions on an `err`.
const FRAGMENTS = [
  { marker: "err.code    // 'ERR_SLUICE_INVALID_JSON'", why: "an NdjsonError's fields, shown on an `err` the block does not make" },
  { marker: "err.code   // 'ERR_SLUICE_UNSERIALIZABLE'", why: "an UnserializableError's fields, shown on an `err` the block does not make" }
]

// Every block run below names itself here (by a line it contains), so the first test can tell
// whether the README has a block nobody runs.
const RUN = []

/**
 * Writes `code` (plus `after`, code appended to print what the README's comments describe) as
 * `name` in a fresh directory with node_modules/sluice → this package, `files` and what the
 * `shell` command makes, then runs it.
 */
async function runExample (t, { marker, name = 'example.js', files = {}, shell = null, after = '', args = [], preload = null, timeout = 60000 }) {
  const { code, line } = block(marker)
  const dir = freshDir(t)
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'sluice'), 'dir')
  // The Prometheus example's peer, as a user who follows it would have installed it.
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'prom-client'), path.join(dir, 'node_modules', 'prom-client'), 'dir')
  for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content)
  if (shell === undefined) throw new Error('README: the command that makes this example\'s input is gone')
  if (shell !== null) execFileSync('sh', ['-c', shell], { cwd: dir })
  fs.writeFileSync(path.join(dir, name), code + after)
  const preloadArgs = preload === null ? [] : ['--require', path.join(dir, 'preload.js')]
  if (preload !== null) fs.writeFileSync(path.join(dir, 'preload.js'), preload)
  const result = await runChild([...preloadArgs, name, ...args], { cwd: dir, timeout })
  t.log(`README line ${line}: exit ${result.status}`)
  if (result.status !== 0) t.log(result.stderr)
  return { ...result, dir }
}

/** A preload that lets a server example listen on a free port, GETs `urlPath` once, prints the response and exits. */
function fetchOnce (urlPath) {
  return `
const http = require('node:http')
const listen = http.Server.prototype.listen
http.Server.prototype.listen = function () {
  this.once('listening', () => {
    const { port } = this.address()
    http.get({ port, path: ${JSON.stringify(urlPath)} }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        process.stdout.write(JSON.stringify({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('base64') }) + '\\n')
        process.exit(0)
      })
    }).on('error', (err) => { console.error(err); process.exit(1) })
  })
  return listen.call(this, 0, '127.0.0.1')
}
`
}

function defineRun (title, spec, check) {
  RUN.push(spec.marker)
  test(title, async (t) => {
    const result = await runExample(t, spec)
    t.is(result.status, 0, result.stderr)
    await check(t, result)
  })
}

test('every js block of the README is run below or named as a fragment', (t) => {
  t.true(BLOCKS.length >= 10, `found ${BLOCKS.length} js blocks`)
  const claimed = [...RUN, ...FRAGMENTS.map((f) => f.marker)]
  for (const marker of claimed) t.notThrows(() => block(marker), marker)
  const unclaimed = BLOCKS.filter((b) => !claimed.some((marker) => b.code.includes(marker)))
  t.deepEqual(unclaimed.map((b) => `README line ${b.line}: ${b.code.split('\n')[0]}`), [])
})

// The file the parser example reads, made by the README's own command (the ```sh line before it).
const MAKE_EVENTS = README.split('\n').find((line) => line.startsWith("printf '%s\\n' ") && line.endsWith('> events.ndjson'))

defineRun('NdjsonParser: on the README\'s events.ndjson, counts the purchases, warns about the invalid line, prints the stats', {
  marker: "new NdjsonParser({ onInvalid: 'skip' })",
  shell: MAKE_EVENTS
}, (t, { stdout, stderr }) => {
  t.regex(stdout, /^2 \{/, 'two purchases')
  t.regex(oneLine(stdout), /lines: 4, bytes: 88, values: 3, blankLines: 0, invalidLines: 1/)
  t.regex(stderr, /^skipped line 3 \(byte 48\): .*: not json\n$/)
})

defineRun('NdjsonParser: the where/select examples construct without an error', {
  marker: 'where: \'.type == "PullRequestEvent"'
}, (t, { stderr }) => {
  t.is(stderr, '')
})

defineRun('NdjsonStringifier: skips the BigInt, prints the stats the README shows, and reads the file back', {
  marker: "new NdjsonStringifier({ onUnserializable: 'skip' })",
  after: `
process.on('beforeExit', () => {
  const lines = fs.readFileSync('rows.ndjson', 'utf8')
  console.log('FILE ' + JSON.stringify(lines))
})
`
}, (t, { stdout, stderr }) => {
  t.true(oneLine(stdout).includes('{ values: 3, bytes: 54, skipped: 1, batches: 1, discarded: 0 }'), stdout)
  t.true(oneLine(stdout).includes("[ { id: 1, name: 'Zoë' }, { id: 2, tags: [ 'a\u2028b' ] }, Symbol(sluice.null) ]"), stdout)
  t.regex(stderr, /value 3 skipped: /)
  const file = JSON.parse(stdout.split('FILE ')[1])
  // JSON.stringify's text: U+2028 as it is (valid JSON, and no line break to an NDJSON reader).
  t.is(file, '{"id":1,"name":"Zoë"}\n{"id":2,"tags":["a\u2028b"]}\nnull\n')
})

defineRun('Throttle and ThrottleGroup: the download server sends its file through the throttles', {
  marker: 'const everyone = new ThrottleGroup(',
  preload: fetchOnce('/')
}, (t, { stdout, dir }) => {
  const response = JSON.parse(stdout)
  t.is(response.status, 200)
  t.is(Buffer.from(response.body, 'base64').toString(), fs.readFileSync(path.join(dir, 'example.js'), 'utf8'))
})

defineRun('Throttle on a manual clock: the burst, then five bytes in 500 ms', {
  marker: 'const t = new Throttle({ rate: 10, burst: 1, clock })',
  after: 'console.log(JSON.stringify(out))\n'
}, (t, { stdout }) => {
  t.deepEqual(JSON.parse(stdout), ['a', 'b', 'c', 'd', 'e', 'f'])
})

defineRun('Meter and MonitoredWritable: compresses a file and names the pipeline\'s bottleneck', {
  marker: 'async function compress (file)',
  files: { 'big.log': 'a log line of some length\n'.repeat(40000) },
  args: ['big.log']
}, (t, { stdout, dir }) => {
  t.regex(stdout, /stage/)
  t.regex(stdout, /read/)
  t.regex(stdout, /gzip/)
  t.regex(stdout, /write/)
  const original = fs.readFileSync(path.join(dir, 'big.log'))
  t.deepEqual(zlib.gunzipSync(fs.readFileSync(path.join(dir, 'big.log.gz'))), original)
})

defineRun('registerPrometheus: the endpoint answers with the registry\'s metrics', {
  marker: 'registerPrometheus(client.register',
  preload: fetchOnce('/metrics')
}, (t, { stdout }) => {
  const response = JSON.parse(stdout)
  t.is(response.status, 200)
  t.regex(response.type, /^text\/plain/)
})

defineRun('MonitoredWritable on a manual clock: one stall, as the README prints it', {
  marker: 'const w = MonitoredWritable.wrap(dest, { clock, interval: 100, stallMs: 500 })'
}, (t, { stdout }) => {
  t.is(stdout, "{ stage: 'wrap-1', reason: 'blocked', ms: 500 }\n")
})

defineRun('BoundedBuffer: every sample is delivered or counted as dropped', {
  marker: "new BoundedBuffer({ objectMode: true, capacity: 100, overflow: 'drop-oldest' })"
}, (t, { stdout }) => {
  const done = /done \{ totalProduced: (\d+), totalConsumed: (\d+), droppedItems: (\d+), dropped: (\d+) \}/.exec(oneLine(stdout))
  t.truthy(done, stdout)
  const [produced, consumed, droppedItems, dropped] = done.slice(1).map(Number)
  t.is(produced, 1000)
  t.is(consumed + droppedItems, 1000)
  t.is(dropped, droppedItems)
  // The consumer takes a sample per millisecond or slower, the producer none: most are dropped.
  t.true(droppedItems > 0, stdout)
})

defineRun('Web streams: NdjsonParseStream and MeterStream over a fetch() body, then a writer', {
  marker: "import { NdjsonParseStream, MeterStream } from 'sluice/web'",
  name: 'example.mjs'
}, (t, { stdout }) => {
  t.is(stdout, '{ id: 1 }\n{ id: 2 }\nnull\n3 23\n{ a: 1 }\n')
})

defineRun('Web streams: NdjsonStringifyStream into a Response', {
  marker: "import { NdjsonStringifyStream } from 'sluice/web'",
  name: 'example.mjs'
}, (t, { stdout }) => {
  t.is(stdout, '{"id":1}\nnull\n{"text":"é"}\n\n')
})

defineRun('Web streams: every face loads from sluice/web', {
  marker: "} = require('sluice/web')",
  after: `for (const face of [NdjsonParseStream, NdjsonStringifyStream, ThrottleStream, MeterStream, BoundedBufferStream, MonitoredWritableStream]) if (typeof face !== 'function') throw new Error('missing face')
if (typeof NULL !== 'symbol') throw new Error('NULL is no symbol')
`
}, (t, { stderr }) => {
  t.is(stderr, '')
})

defineRun('configure(): the pool size, read back', {
  marker: 'configure({ workers: 4 })',
  after: 'console.log(JSON.stringify(configure()))\n'
}, (t, { stdout }) => {
  t.is(stdout, '{"workers":4}\n')
})

// --- The `sluice` command's examples: the ```sh block of command lines and the transcripts
// (``` blocks of `$ command` lines, each followed by what it prints), run with `sluice` on the
// PATH as `npm install -g` or npx puts it there.

/** The bare ``` blocks whose first line is a `$ ` command: transcripts, with their line. */
function transcripts (markdown) {
  const found = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```') continue
    const start = i + 2
    const body = []
    while (++i < lines.length && lines[i] !== '```') body.push(lines[i])
    if (body[0]?.startsWith('$ ')) found.push({ line: start, lines: body })
  }
  return found
}

const TRANSCRIPTS = transcripts(README)

/** A fresh directory with `bin/sluice` → this package's command, for PATH. */
function commandDir (t) {
  const dir = freshDir(t)
  fs.mkdirSync(path.join(dir, 'bin'))
  fs.symlinkSync(path.join(ROOT, 'bin', 'sluice.js'), path.join(dir, 'bin', 'sluice'))
  return dir
}

/** Runs `command` with sh in `dir` (the Node running the tests first on the PATH): `{ status, stdout, stderr }`. */
function sh (dir, command) {
  const { execFile } = require('node:child_process')
  const env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${path.dirname(process.execPath)}:${process.env.PATH}` }
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd: dir, env, encoding: 'utf8', timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (err.code ?? err.signal) : 0, stdout, stderr })
    })
  })
}

/** Whether `expected` (lines) is `a` and `b` interleaved, each in its order (stdout and stderr shown together). */
function interleaves (expected, a, b) {
  const seen = new Map()
  const go = (i, j) => {
    if (i + j === expected.length) return i === a.length && j === b.length
    const key = i * (b.length + 1) + j
    if (seen.has(key)) return seen.get(key)
    const ok = (i < a.length && a[i] === expected[i + j] && go(i + 1, j)) || (j < b.length && b[j] === expected[i + j] && go(i, j + 1))
    seen.set(key, ok)
    return ok
  }
  return go(0, 0)
}

const linesOf = (text) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'))

const VALIDATION_TRANSCRIPT = TRANSCRIPTS.find((x) => x.lines[0].startsWith("$ printf '{\"id\":1,\"type\":\"PushEvent\"}"))

test('the sluice command: the validation transcript prints exactly what the README shows', async (t) => {
  t.truthy(VALIDATION_TRANSCRIPT, 'README: the transcript that makes events.ndjson is gone')
  const dir = commandDir(t)
  let last = 0
  let i = 0
  const lines = VALIDATION_TRANSCRIPT.lines
  while (i < lines.length) {
    const command = lines[i].slice(2)
    const expected = []
    while (++i < lines.length && !lines[i].startsWith('$ ')) expected.push(lines[i])
    if (command === 'echo $?') {
      t.deepEqual([String(last)], expected, command)
      continue
    }
    const r = await sh(dir, command)
    last = r.status
    t.true(interleaves(expected, linesOf(r.stdout), linesOf(r.stderr)), `${command}\nexpected:\n${expected.join('\n')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`)
  }
})

test('the sluice command: --stats json on the same file, as the README shows it (timings aside)', async (t) => {
  const transcript = TRANSCRIPTS.find((x) => x.lines[0] === '$ sluice --ndjson --on-invalid skip --stats json events.ndjson > /dev/null')
  t.truthy(transcript, 'README: the --stats json transcript is gone')
  const dir = commandDir(t)
  t.is((await sh(dir, VALIDATION_TRANSCRIPT.lines[0].slice(2))).status, 0)
  const r = await sh(dir, transcript.lines[0].slice(2))
  t.is(r.status, 0, r.stderr)
  const shown = JSON.parse(transcript.lines[1])
  const got = JSON.parse(r.stderr)
  // A run's duration and mean rate are its own; everything else is the file's.
  for (const stats of [shown, got]) {
    t.is(typeof stats.durationMs, 'number')
    t.is(typeof stats.rate.mean, 'number')
    delete stats.durationMs
    delete stats.rate.mean
  }
  t.deepEqual(got, shown)
})

test('the sluice command: the command lines of the README run as their comments say', async (t) => {
  const block = README.slice(README.indexOf('```sh\nsluice big.log > copy.log'))
  const commands = block.slice(6, block.indexOf('\n```')).split('\n').map((line) => line.replace(/\s+#.*$/, ''))
  t.is(commands.length, 8, 'README: the block of command lines changed; update this test')
  const dir = commandDir(t)
  // Their inputs: the transcript's events.ndjson (an invalid line 2), a log, a dump; `./ingest`
  // counts the lines it is given. `ssh host` is the one thing not run (no host here): the
  // throttled copy goes to a local file instead.
  t.is((await sh(dir, VALIDATION_TRANSCRIPT.lines[0].slice(2))).status, 0)
  fs.writeFileSync(path.join(dir, 'big.log'), 'a log line\n'.repeat(5000))
  fs.writeFileSync(path.join(dir, 'backup.tar'), Buffer.alloc(64 * 1024, 7))
  fs.writeFileSync(path.join(dir, 'dump.ndjson'), '{"n":1}\n'.repeat(1000))
  fs.writeFileSync(path.join(dir, 'ingest'), '#!/bin/sh\nwc -l\n', { mode: 0o755 })
  const run = (command) => {
    t.true(commands.includes(command), `README no longer has: ${command}`)
    return sh(dir, command)
  }
  const read = (file) => fs.readFileSync(path.join(dir, file))

  t.is((await run('sluice big.log > copy.log')).status, 0)
  t.deepEqual(read('copy.log'), read('big.log'))

  t.true(commands.includes("sluice --rate 5MiB/s backup.tar | ssh host 'cat > backup.tar'"))
  t.is((await sh(dir, 'sluice --rate 5MiB/s backup.tar > sent.tar')).status, 0)
  t.deepEqual(read('sent.tar'), read('backup.tar'))

  const validated = await run('sluice --ndjson events.ndjson > /dev/null && echo valid')
  t.is(validated.status, 1, 'exit 1 at the first invalid line')
  t.is(validated.stdout, '')
  t.regex(validated.stderr, /line 2/)

  t.is((await run('sluice --ndjson --on-invalid skip --invalid-log bad.jsonl events.ndjson > clean.ndjson')).status, 0)
  t.is(read('clean.ndjson').toString(), '{"id":1,"type":"PushEvent"}\n{"id":3,"type":"WatchEvent"}\n')
  t.deepEqual(linesOf(read('bad.jsonl').toString()).map((l) => JSON.parse(l).line), [2, 5])

  // Stops at line 2 (the default --on-invalid error): ingest is given the one line before it.
  const ingested = await run('sluice --ndjson --rate 1000/s events.ndjson | ./ingest')
  t.is(ingested.stdout.trim(), '1')
  t.regex(ingested.stderr, /line 2/)

  t.is((await run('sluice --ndjson --on-invalid skip --where \'.type == "PushEvent"\' events.ndjson > pushes.ndjson')).status, 0)
  t.is(read('pushes.ndjson').toString(), '{"id":1,"type":"PushEvent"}\n')

  const selected = await run('sluice --ndjson --on-invalid skip --select id,actor.login events.ndjson')
  t.is(selected.status, 0)
  t.is(selected.stdout, '{"id":1}\n{"id":3}\n')

  const dumped = await run('sluice --stats json --quiet dump.ndjson | gzip > dump.ndjson.gz')
  t.is(dumped.status, 0)
  t.deepEqual(zlib.gunzipSync(read('dump.ndjson.gz')), read('dump.ndjson'))
  t.is(JSON.parse(dumped.stderr).output.bytes, read('dump.ndjson').length)
})

test('the sluice command: every transcript of the README is checked above or named here', (t) => {
  // The progress capture needs the 64 MB webhooks corpus, a terminal and a slower consumer; its
  // lines are timings. cli-live.spec.js checks the progress line itself.
  const notRun = ['$ sluice --ndjson --stats text real-webhooks-64MB.ndjson | sluice --quiet --rate 16MiB/s > /dev/null']
  const checked = [VALIDATION_TRANSCRIPT?.lines[0], '$ sluice --ndjson --on-invalid skip --stats json events.ndjson > /dev/null']
  t.deepEqual(TRANSCRIPTS.map((x) => x.lines[0]).filter((first) => !checked.includes(first) && !notRun.includes(first)), [])
})
