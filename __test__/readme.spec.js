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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-readme-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
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
