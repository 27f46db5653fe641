'use strict'

// The `sluice` command while it runs: --rate observed (generous bounds: the machine is shared),
// the progress display on a pseudo-terminal (util-linux `script`) and on a pipe, the summary on
// SIGINT, and backpressure from a reader of stdout that stops reading.

const fs = require('node:fs')
const path = require('node:path')
const test = require('ava')
const { spawn, spawnSync } = require('node:child_process')
const { once } = require('node:events')
const { constants: { signals } } = require('node:os')
const { BIN, collect, records, sluice, tempDir } = require('./cli-helpers.js')
const { formatRate } = require('../lib/meter.js')

const dir = tempDir()
const MiB = 1024 * 1024
const oneMiB = Buffer.alloc(MiB)
for (let i = 0; i < oneMiB.length; i++) oneMiB[i] = i % 64 === 63 ? 10 : 97 + (i % 26)
const oneMiBFile = path.join(dir, 'one.bin')
fs.writeFileSync(oneMiBFile, oneMiB)
// ~34 MiB, made before any test starts: building it holds the event loop for a second and more
// (16 s at a load of 17), and a test's child meanwhile found its stdout unread, blocked, and
// showed a rate near 0 and an ETA of 10 hours.
const backpressureFile = path.join(dir, 'backpressure.ndjson')
fs.writeFileSync(backpressureFile, records(400000))
const backpressureSize = fs.statSync(backpressureFile).size

const newlines = (buffer) => buffer.toString('latin1').split('\n').length - 1

/** Resolves with the first line of `stream` (text) that `predicate` accepts. */
function lineMatching (stream, predicate) {
  return new Promise((resolve, reject) => {
    let rest = ''
    const onData = (chunk) => {
      rest += chunk
      const lines = rest.split(/[\r\n]/)
      rest = lines.pop()
      const hit = lines.find(predicate)
      if (hit !== undefined) {
        stream.off('data', onData)
        resolve(hit)
      }
    }
    stream.setEncoding('utf8')
    stream.on('data', onData)
    stream.once('end', () => reject(new Error('stream ended without a matching line')))
  })
}

/**
 * Sends `signal` to a `sluice --progress --stats json` child once a progress line on its stderr
 * satisfies `predicate`; resolves with its status as a shell reports it (128 + the signal that
 * killed it), the signal that killed it (null: it exited) and the summary (stderr's last line).
 */
async function interruptAfter (child, predicate, signal = 'SIGINT', onSignalled = () => {}) {
  let stderr = ''
  const seen = lineMatching(child.stderr, predicate)
  child.stderr.on('data', (c) => { stderr += c })
  await seen
  child.kill(signal)
  onSignalled()
  const [exitCode, killedBy] = await once(child, 'close')
  return { code: exitCode ?? 128 + signals[killedBy], killedBy, summary: JSON.parse(stderr.trimEnd().split('\n').at(-1)) }
}

test('--rate 2MiB/s: 1 MiB takes at least ~0.4 s (0.5 s less the 100 ms burst), and arrives unchanged', async (t) => {
  const r = await sluice(['--rate', '2MiB/s', '--stats', 'json', oneMiBFile])
  t.is(r.code, 0, r.stderr)
  t.true(r.stdout.equals(oneMiB))
  const s = JSON.parse(r.stderr)
  t.true(s.durationMs >= 350, `took ${s.durationMs} ms`)
  // The upper bound only says "not absurdly slow": the run's own time, not the child's start-up,
  // generous for a loaded runner (12 s of wall for the whole child was seen at 6x load).
  t.true(s.durationMs < 30_000, `took ${s.durationMs} ms`)
  t.true(s.throttledMs > 0)
})

test('--rate in lines per second with --lines and with --ndjson: 2,000 lines at 2k/s take at least ~0.9 s', async (t) => {
  const lines = records(2000)
  for (const mode of ['--lines', '--ndjson']) {
    const r = await sluice([mode, '--rate', '2k/s', '--stats', 'json'], { input: lines })
    t.is(r.code, 0, r.stderr)
    t.true(r.stdout.equals(lines), mode)
    const s = JSON.parse(r.stderr)
    t.is(s.output.lines, 2000)
    t.true(s.durationMs >= 700, `${mode}: took ${s.durationMs} ms`)
    t.true(s.durationMs < 30_000, `${mode}: took ${s.durationMs} ms`)
  }
})

test('--progress on a pipe: a plain line per interval with bytes, rate, percent, ETA and blocked time', async (t) => {
  const r = await sluice(['--progress', '--interval', '0.05', '--rate', '4MiB/s', oneMiBFile])
  t.is(r.code, 0, r.stderr)
  const lines = r.stderr.trimEnd().split('\n')
  t.true(lines.length >= 2, r.stderr)
  t.false(r.stderr.includes('\r'))
  for (const line of lines) {
    t.regex(line, /^sluice: \d:\d\d:\d\d [\d.]+ (B|KiB|MiB) \[[\d.]+ (B|KiB|MiB)\/s\] \d+% ETA (\d:\d\d:\d\d|-:--:--) blocked \d+\.\d\d s$/)
  }
  t.regex(lines.at(-1), / 1\.0 MiB .* 100% ETA 0:00:00 /)
})

test('--progress: once the output has finished, the last line shows the mean rate of the run, not the last interval\'s', async (t) => {
  const child = spawn(process.execPath, [BIN, '--progress', '--interval', '0.05', '--stats', 'json'], { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += c })
  // Data, then an input that goes quiet: once a line shows the data and a rate of 0 (an interval
  // with nothing), the input ends. The last interval's rate is then 0; the run's mean is not.
  const quiet = lineMatching(child.stderr, (line) => / 1\.0 MiB \[0 B\/s\]/.test(line))
  child.stdin.write(oneMiB)
  await quiet
  child.stdin.end()
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.is(code, 0, stderr)
  const lines = stderr.trimEnd().split('\n')
  const summary = JSON.parse(lines.pop())
  t.true(summary.rate.mean > 0)
  t.is(/\[([^\]]+)\]/.exec(lines.at(-1))?.[1], formatRate(summary.rate.mean, 'bytes'), lines.at(-1))
})

test('--progress: a run stopped by a signal ends on the mean rate of the run too, not the last interval\'s', async (t) => {
  const child = spawn(process.execPath, [BIN, '--progress', '--interval', '0.05', '--stats', 'json'], { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (c) => { stderr += c })
  // Data, then an input that goes quiet (a line shows the data at a rate of 0), then Ctrl-C.
  const interrupted = interruptAfter(child, (line) => / 1\.0 MiB \[0 B\/s\]/.test(line))
  child.stdin.write(oneMiB)
  const { code, summary } = await interrupted
  t.is(code, 130, stderr)
  t.true(summary.rate.mean > 0)
  const progress = stderr.trimEnd().split('\n').filter((line) => line.startsWith('sluice: ') && line.includes(' MiB ['))
  t.is(/\[([^\]]+)\]/.exec(progress.at(-1))?.[1], formatRate(summary.rate.mean, 'bytes'), progress.at(-1))
})

// util-linux `script` runs the command on a pseudo-terminal and copies what it writes.
const hasScript = spawnSync('script', ['--version']).status === 0
const ptyTest = hasScript ? test : test.skip

/** Runs a shell command line on a pseudo-terminal; resolves with everything the terminal got. */
async function onTerminal (commandLine) {
  const child = spawn('script', ['-qfec', commandLine, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end()
  const r = await collect(child)
  return { code: r.code, screen: r.stdout.toString() }
}

const quote = (s) => `'${s.replace(/'/g, "'\\''")}'`
const commandIn = (cols, ...args) => `stty cols ${cols} 2>/dev/null; exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')} > /dev/null`
const command = (...args) => commandIn(100, ...args)

ptyTest('on a terminal: the progress line is redrawn in place (\\r, erase to end of line), with a bar, then a newline', async (t) => {
  const { code, screen } = await onTerminal(command('--rate', '4MiB/s', '--interval', '0.05', oneMiBFile))
  t.is(code, 0, screen)
  // "Erase to end of line" (ESC [ K) marked as <EL>, to match it without a control character.
  const marked = screen.replaceAll('\x1b[K', '<EL>')
  const redraws = marked.match(/\r\d:\d\d:\d\d [^\r\n]*?<EL>/g) ?? []
  t.true(redraws.length >= 2, JSON.stringify(screen))
  for (const r of redraws) t.regex(r, /\[[\d.]+ (B|KiB|MiB)\/s\] \[[= >]+\] \d+% ETA /)
  t.regex(redraws.at(-1), / 1\.0 MiB .*\[=+\] 100% ETA 0:00:00 blocked /)
  t.true(marked.endsWith('<EL>\r\n'), 'the last state, then a newline')
})

ptyTest('on a narrow terminal (30 columns) the progress line is cut to fit, never wrapped', async (t) => {
  const { code, screen } = await onTerminal(commandIn(30, '--rate', '4MiB/s', '--interval', '0.05', '--lines', oneMiBFile))
  t.is(code, 0, screen)
  const redraws = screen.replaceAll('\x1b[K', '<EL>').match(/\r\d:\d\d:\d\d[^\r\n]*?<EL>/g) ?? []
  t.true(redraws.length >= 2, JSON.stringify(screen))
  for (const r of redraws) t.true(r.length - '\r<EL>'.length <= 29, JSON.stringify(r))
})

ptyTest('on a terminal progress is the default; --quiet turns it off', async (t) => {
  const shown = await onTerminal(command('--rate', '8MiB/s', '--interval', '0.05', oneMiBFile))
  t.is(shown.code, 0, shown.screen)
  t.regex(shown.screen, /\r\d:\d\d:\d\d .* 100% /)
  const quiet = await onTerminal(command('--quiet', '--rate', '8MiB/s', '--interval', '0.05', oneMiBFile))
  t.is(quiet.code, 0, quiet.screen)
  t.is(quiet.screen, '')
})

test('--size below the input: percent and ETA are dropped once the input passes it; min <= mean <= max', async (t) => {
  const r = await sluice(['--progress', '--interval', '0.05', '--rate', '4MiB/s', '--size', '256KiB', '--stats', 'json', oneMiBFile])
  t.is(r.code, 0, r.stderr)
  const lines = r.stderr.trimEnd().split('\n')
  const summary = JSON.parse(lines.pop())
  t.true(lines.length >= 2, r.stderr)
  for (const line of lines) {
    const bytes = /^sluice: \S+ ([\d.]+) (B|KiB|MiB) /.exec(line)
    t.truthy(bytes, line)
    const beyond = Number(bytes[1]) * { B: 1, KiB: 1024, MiB: MiB }[bytes[2]] > 256 * 1024 + 1024
    if (beyond) t.notRegex(line, /%|ETA/, line)
  }
  t.notRegex(lines.at(-1), /%|ETA/)
  const { min, mean, max } = summary.rate
  t.true(min !== null && min <= mean && mean <= max, JSON.stringify(summary.rate))
  // A /proc file reports a size of 0: its size is unknown, not reached at once.
  const proc = await sluice(['--progress', '--stats', 'json', '/proc/self/status'])
  t.is(proc.code, 0, proc.stderr)
  t.notRegex(proc.stderr, /%|ETA/)
  t.is(JSON.parse(proc.stderr.trimEnd().split('\n').at(-1)).input.size, null)
})

test('SIGINT: the summary so far, then death by SIGINT (a shell\'s 130)', async (t) => {
  const big = path.join(dir, 'sigint.bin')
  fs.writeFileSync(big, Buffer.concat([oneMiB, oneMiB, oneMiB, oneMiB]))
  const child = spawn(process.execPath, [BIN, '--rate', '512KiB/s', '--progress', '--interval', '0.05', '--stats', 'json', big], { stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout = []
  child.stdout.on('data', (c) => stdout.push(c))
  // Once some data has gone through (a progress line shows it), interrupt.
  const { code, summary } = await interruptAfter(child, (line) => /^sluice: \S+ [1-9][\d.]* (KiB|MiB) /.test(line))
  t.is(code, 130)
  t.is(summary.status, 'interrupted')
  t.is(summary.exitCode, 130)
  t.true(summary.input.bytes > 0 && summary.input.bytes < 4 * MiB, String(summary.input.bytes))
  t.is(summary.output.bytes, Buffer.concat(stdout).length, 'what was written is what the reader got')
  t.true(summary.throttledMs > 0)
})

test('SIGUSR1 prints the progress so far, as dd does, and the run goes on: it does not start Node\'s inspector (a debugger any local user could connect to)', async (t) => {
  // 1 MiB at 1 MiB/s: about 1 s; signalled once data has come through.
  const child = spawn(process.execPath, [BIN, '--quiet', '--rate', '1MiB/s', '--stats', 'json', oneMiBFile], { stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout = []
  child.stdout.once('data', () => child.kill('SIGUSR1'))
  child.stdout.on('data', (c) => stdout.push(c))
  const r = await collect(child)
  t.is(r.code, 0, r.stderr)
  t.notRegex(r.stderr, /Debugger|inspector/)
  t.regex(r.stderr, /^sluice: \d:\d\d:\d\d \S+ \S*B \[.*\] .*blocked /m)
  t.is(JSON.parse(r.stderr.trimEnd().split('\n').at(-1)).status, 'done')
  t.true(Buffer.concat(stdout).equals(oneMiB))
})

test('SIGTERM with a reader that has stopped: output counts what the reader got, bytes and lines, not what stdout still held', async (t) => {
  const big = path.join(dir, 'stalled.ndjson')
  fs.writeFileSync(big, '{"a":1}\n'.repeat(4 * MiB / 8))
  for (const args of [[], ['--lines'], ['--ndjson']]) {
    const child = spawn(process.execPath, [BIN, ...args, '--progress', '--interval', '0.05', '--stats', 'json', big], { stdio: ['ignore', 'pipe', 'pipe'] })
    // Nobody reads stdout until the process has exited: it is signalled once the run has
    // blocked on stdout (a progress line shows blocked time), so sluice holds output the reader
    // never gets, and the reader gets exactly what the OS pipe took. (Reading from the moment it
    // blocked, or from the signal on, let it catch up before the handler ran now and then.)
    const stdout = []
    const blocked = (line) => / blocked (?!0\.00)/.test(line)
    const readAfterExit = () => child.once('exit', () => child.stdout.on('data', (c) => stdout.push(c)))
    const { code, summary } = await interruptAfter(child, blocked, 'SIGTERM', readAfterExit)
    const got = Buffer.concat(stdout)
    t.is(code, 143)
    t.true(summary.input.bytes > got.length, `${args}: read ${summary.input.bytes}, reader got ${got.length}`)
    t.is(summary.output.bytes, got.length, `${args}: what was handed to the OS is what the reader got`)
    // The mean rate is of those bytes too, not of what stdout still held (it was 2–11 % above).
    const mean = summary.output.bytes / (summary.durationMs / 1000)
    t.true(Math.abs(summary.rate.mean - mean) <= 1e-9 * mean, `${args}: mean ${summary.rate.mean} B/s for ${summary.output.bytes} B in ${summary.durationMs} ms`)
    // The lines of those bytes: also of the write the OS had only partly taken, none beyond.
    t.is(summary.output.lines, args.length === 0 ? null : newlines(got), `${args}: lines of what the reader got`)
    if (args.length > 0) t.true(summary.input.lines > summary.output.lines, `${args}: lines read beyond those written`)
  }
})

test('--lines with a line rate, stopped by SIGINT: input.lines counts the lines read, ahead of those written', async (t) => {
  const file = path.join(dir, 'line-rate.txt')
  const content = Buffer.from(Array.from({ length: 200_000 }, (_, i) => String(i)).join('\n') + '\n')
  fs.writeFileSync(file, content)
  const child = spawn(process.execPath, [BIN, '--lines', '--rate', '300/s', '--progress', '--interval', '0.05', '--stats', 'json', file], { stdio: ['ignore', 'ignore', 'pipe'] })
  let shown = 0
  const { code, summary } = await interruptAfter(child, (line) => / [\d,]+ lines/.test(line) && ++shown === 5)
  t.is(code, 130)
  // The throttle holds what was read (the stages' buffers, tens of thousands of short lines):
  // input.lines counted only what had passed it.
  t.true(summary.input.lines > 10 * summary.output.lines, `${summary.input.lines} read, ${summary.output.lines} written`)
  t.true(summary.input.lines <= newlines(content.subarray(0, summary.input.bytes)))
})

test('EPIPE with --lines and --ndjson: output.lines counts no line beyond output.bytes', async (t) => {
  const big = path.join(dir, 'epipe-lines.ndjson')
  const content = Buffer.from('{"a":1}\n'.repeat(4 * MiB / 8))
  fs.writeFileSync(big, content)
  for (const args of [['--lines'], ['--ndjson']]) {
    const child = spawn(process.execPath, [BIN, ...args, '--stats', 'json', big], { stdio: ['ignore', 'pipe', 'pipe'] })
    // The reader goes away at the first data: the writes still pending or to come fail (EPIPE).
    child.stdout.once('data', () => child.stdout.destroy())
    const r = await collect(child)
    t.is(r.code, 141, r.stderr)
    const summary = JSON.parse(r.stderr)
    t.is(summary.status, 'closed')
    t.true(summary.input.lines > 0)
    // A failed write counts neither its bytes nor its lines: the lines are among the bytes.
    t.true(summary.output.lines <= newlines(content.subarray(0, summary.output.bytes)),
      `${args}: ${summary.output.lines} lines in ${summary.output.bytes} bytes (${summary.input.lines} read)`)
  }
})

test('SIGINT, SIGTERM, SIGHUP: the summary, then death by the signal (a shell\'s 128 + the signal); the summary counts exactly the invalid lines in the log', async (t) => {
  const mixed = path.join(dir, 'mixed.ndjson')
  fs.writeFileSync(mixed, '{"ok":1}\nbad\n'.repeat(200000))
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    const log = path.join(dir, `mixed-${signal}.log`)
    // 20,000 valid lines a second: ~20 s for the file, interrupted once invalid lines are seen.
    const child = spawn(process.execPath, [BIN, '--ndjson', '--on-invalid', 'skip', '--invalid-log', log, '--rate', '20k/s',
      '--progress', '--interval', '0.05', '--stats', 'json', mixed], { stdio: ['ignore', 'ignore', 'pipe'] })
    const { code: exitCode, killedBy, summary } = await interruptAfter(child, (line) => / [\d,]+ invalid /.test(line), signal)
    t.is(killedBy, signal, `${signal}: it dies of the signal, as cat does`)
    t.is(exitCode, code, signal)
    t.like(summary, { status: 'interrupted', exitCode: code, signal })
    const logged = fs.readFileSync(log, 'utf8').split('\n').length - 1
    t.true(logged > 0)
    t.is(summary.invalidLines, logged, `${signal}: the summary counts what the log holds`)
    t.true(summary.invalidPending >= 0)
  }
})

// --invalid-log on a FIFO: the test holds a read end open (non-blocking, so opening it does not
// wait for sluice) and reads nothing, so the pipe fills after ~64 KiB of records.
const mixedLarge = path.join(dir, 'mixed-large.ndjson')
const MIXED_PAIRS = 400000
fs.writeFileSync(mixedLarge, '{"ok":1}\nbad\n'.repeat(MIXED_PAIRS))
const mixedLargeSize = fs.statSync(mixedLarge).size

function fifoWithReader (name) {
  const fifo = path.join(dir, name)
  const made = spawnSync('mkfifo', [fifo])
  if (made.status !== 0) throw new Error(`mkfifo: ${made.stderr}`)
  return { fifo, fd: fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK) }
}

/** A progress line that shows at least `n` invalid lines. */
const invalidAtLeast = (n) => (line) => Number(/ ([\d,]+) invalid /.exec(line)?.[1].replaceAll(',', '')) >= n

/**
 * `sluice --ndjson --on-invalid skip --invalid-log FIFO --progress --stats json INPUT`: the child,
 * its stderr so far (`run.stderr`), its 'close' (`run.closed`), its summary once closed.
 */
function runWithLog (fifo, input) {
  const child = spawn(process.execPath, [BIN, '--ndjson', '--on-invalid', 'skip', '--invalid-log', fifo,
    '--progress', '--interval', '0.05', '--stats', 'json', input], { stdio: ['ignore', 'ignore', 'pipe'] })
  const run = { child, stderr: '', closed: once(child, 'close') }
  child.stderr.setEncoding('utf8').on('data', (c) => { run.stderr += c })
  run.summary = () => JSON.parse(run.stderr.trimEnd().split('\n').at(-1))
  return run
}

/**
 * `cat FIFO > FILE` reads the log to its end; the run must end done, with `invalidLines`
 * reported. The test's own read end (`fd`, never read) is closed once sluice has ended: until
 * then the pipe never lacks a reader, and its data is cat's.
 */
async function catToEnd (t, run, { fifo, fd }, file, invalidLines) {
  const catClosed = once(spawn('sh', ['-c', 'exec cat "$0" > "$1"', fifo, file], { stdio: 'ignore' }), 'close')
  const [code] = await run.closed
  fs.closeSync(fd)
  t.deepEqual(await catClosed, [0, null])
  t.is(code, 0, run.stderr)
  t.like(run.summary(), { status: 'done', invalidLines, invalidPending: 0 })
}

/** What a pipe holds now: read until it has nothing more (EAGAIN) or its end (its writers all closed). */
function readAvailable (fd) {
  const chunks = []
  const buffer = Buffer.alloc(1 << 20)
  for (;;) {
    let n
    try {
      n = fs.readSync(fd, buffer)
    } catch (err) {
      if (err.code === 'EAGAIN') break
      throw err
    }
    if (n === 0) break
    chunks.push(Buffer.from(buffer.subarray(0, n)))
  }
  return Buffer.concat(chunks)
}

/** What is left in a pipe whose writers have all closed, read to its end. */
function drain (fd) {
  const text = readAvailable(fd).toString()
  fs.closeSync(fd)
  return text
}

/** `lines` are the records of `mixedLarge`'s invalid lines, the first ones: lines 2, 4, 6, … in order. */
function checkRecords (t, lines) {
  for (let i = 0; i < lines.length; i++) {
    const record = JSON.parse(lines[i])
    if (record.line !== 2 * (i + 1)) return t.fail(`record ${i + 1} is of line ${record.line}`)
  }
  t.pass()
}

test('--invalid-log on a FIFO whose reader stops reading: the run waits for it without blocking its thread (the parser\'s input held), SIGTERM ends it, the summary names the records not written, the log holds the rest in order', async (t) => {
  const { fifo, fd } = fifoWithReader('stalled.fifo')
  const { child } = runWithLog(fifo, mixedLarge)
  // A JavaScript thread blocked in the log's write (the fix undone) runs no SIGTERM handler: the
  // child would never end, so it is bounded; 1,000 records (~85 KB) are more than the pipe takes.
  const bound = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const { code, killedBy, summary } = await interruptAfter(child, invalidAtLeast(1000), 'SIGTERM')
  clearTimeout(bound)
  t.is(killedBy, 'SIGTERM')
  t.is(code, 143)
  t.like(summary, { status: 'interrupted', exitCode: 143, signal: 'SIGTERM' })
  const [, unwritten, reported] = /^--invalid-log \S+: (\d+) of (\d+) records not written: the log's reader had not taken them/.exec(summary.error) ?? []
  t.truthy(unwritten, summary.error)
  t.true(Number(unwritten) > 0)
  t.is(Number(reported), summary.invalidLines)
  // The parser's input was held while the log was behind: the file was not read to its end.
  t.true(summary.input.bytes < mixedLargeSize, `${summary.input.bytes} of ${mixedLargeSize} bytes read`)
  const lines = drain(fd).split('\n')
  // Whole records only: the pipe is written a run of whole records at a time, within PIPE_BUF,
  // which it takes all of or none of (a 64 KiB write ended inside a record when the pipe filled).
  t.is(lines.pop(), '')
  t.false(summary.error.includes('cut short'), summary.error)
  t.is(lines.length, summary.invalidLines - Number(unwritten))
  checkRecords(t, lines)
})

test('--invalid-log on a FIFO whose reader reads late: the run ends once the reader has taken every record (exit 0, the whole log in order)', async (t) => {
  const mixedSmall = path.join(dir, 'mixed-small.ndjson')
  fs.writeFileSync(mixedSmall, '{"ok":1}\nbad\n'.repeat(2000))
  // The large file: the parser's input is held until the reader reads, then the run goes on. The
  // small one (28 KB, its 2,000 records ~170 KB) is all parsed before the log falls behind: the
  // run has nothing left to do but wait for the reader.
  for (const [input, pairs] of [[mixedLarge, MIXED_PAIRS], [mixedSmall, 2000]]) {
    const pipe = fifoWithReader(`late-${pairs}.fifo`)
    const run = runWithLog(pipe.fifo, input)
    // The large file: a progress line with 1,000 invalid lines (~85 KB of records, more than the
    // pipe takes). The small one: the line that says the run's end waits for the log's reader.
    const behind = lineMatching(run.child.stderr, pairs === 2000
      ? (line) => / 2,000 invalid .* waiting for the --invalid-log reader$/.test(line)
      : invalidAtLeast(1000))
    // Once the log is behind, a reader: cat.
    await behind
    const log = path.join(dir, `late-${pairs}.log`)
    await catToEnd(t, run, pipe, log, pairs)
    const lines = fs.readFileSync(log, 'utf8').split('\n')
    t.is(lines.pop(), '')
    t.is(lines.length, pairs)
    checkRecords(t, lines)
  }
})

test('--invalid-log on a FIFO that another process writes too: the log writes whole records (at most PIPE_BUF bytes at a time), so a line the other writer adds while the log is behind never lands inside a record', async (t) => {
  // The other writer stands for sluice's own progress lines with `--invalid-log /dev/stderr` on a
  // pipe, or a second program sharing the pipe: each of its lines is one write.
  const pipe = fifoWithReader('shared.fifo')
  const other = fs.openSync(pipe.fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)
  const run = runWithLog(pipe.fifo, mixedLarge)
  // 1,000 invalid lines reported: ~85 KB of records, more than the pipe takes. The log is behind,
  // the pipe full (before the fix, of a 64 KiB write that ended inside a record).
  const behind = lineMatching(run.child.stderr, invalidAtLeast(1000))
  await behind
  // Emptied, and at once the other writer's line: it comes before the log's next retry (due
  // 1-50 ms after the last one), so it follows the last bytes the pipe took from the log.
  const first = readAvailable(pipe.fd)
  fs.writeSync(other, 'OTHER\n')
  fs.closeSync(other)
  const log = path.join(dir, 'shared.log')
  await catToEnd(t, run, pipe, log, MIXED_PAIRS)
  const lines = Buffer.concat([first, fs.readFileSync(log)]).toString().split('\n')
  t.is(lines.pop(), '')
  // The other writer's line whole, on a line of its own; the records whole, all, in order.
  t.is(lines.filter((line) => line === 'OTHER').length, 1)
  const records = lines.filter((line) => line !== 'OTHER')
  t.is(records.length, MIXED_PAIRS)
  checkRecords(t, records)
})

test('--invalid-log on a FIFO whose reader goes away while the log is behind: EPIPE, exit 1, no wait, and the error names the records not written', async (t) => {
  const { fifo, fd } = fifoWithReader('gone.fifo')
  const run = runWithLog(fifo, mixedLarge)
  await lineMatching(run.child.stderr, invalidAtLeast(1000))
  // The reader takes what the pipe holds and goes away: the log's next write fails.
  const taken = readAvailable(fd).toString().split('\n')
  fs.closeSync(fd)
  const [code, signal] = await run.closed
  t.deepEqual([code, signal], [1, null], run.stderr)
  t.notRegex(run.stderr, /\n\s+at /)
  const summary = run.summary()
  t.like(summary, { status: 'error', exitCode: 1 })
  const [, unwritten, reported] = /^--invalid-log \S+: EPIPE: .* \((\d+) of (\d+) records not written\)$/.exec(summary.error) ?? []
  t.truthy(unwritten, summary.error)
  t.is(Number(reported), summary.invalidLines)
  // The pipe took the others; the reader read some of them (more may have come after its read).
  t.is(taken.pop(), '')
  t.true(taken.length > 0 && taken.length <= summary.invalidLines - Number(unwritten), `${taken.length} read, ${unwritten} of ${reported} not written`)
  checkRecords(t, taken)
})

test('--invalid-log on a FIFO: the time the run\'s end waits for the reader counts in durationMs and in the elapsed time shown, and kill -USR1 meanwhile says what the run waits for', async (t) => {
  const mixedSmall = path.join(dir, 'mixed-small-wait.ndjson')
  fs.writeFileSync(mixedSmall, '{"ok":1}\nbad\n'.repeat(2000))
  const pipe = fifoWithReader('wait.fifo')
  const run = runWithLog(pipe.fifo, mixedSmall)
  const { child } = run
  const waiting = (line) => / 2,000 invalid .* waiting for the --invalid-log reader$/.test(line)
  await lineMatching(child.stderr, waiting)
  const since = performance.now()
  // The output has finished: the line SIGUSR1 draws is the only one, and says what the run waits for.
  const status = lineMatching(child.stderr, () => true)
  child.kill('SIGUSR1')
  t.true(waiting(await status), run.stderr)
  // The reader comes a second later: the run has waited at least that long (the time measured,
  // not a synchronisation).
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const waited = performance.now() - since
  await catToEnd(t, run, pipe, '/dev/null', 2000)
  const summary = run.summary()
  t.true(summary.durationMs >= waited, `durationMs ${summary.durationMs}, waited ${waited} ms`)
  // The last progress line shows that time too, and no longer the wait.
  const last = run.stderr.trimEnd().split('\n').at(-2)
  t.false(last.includes('waiting'), last)
  t.true(Number(/^sluice: 0:00:(\d\d) /.exec(last)?.[1]) >= 1, last)
})

test('Ctrl-C stops a shell loop that runs sluice, as it stops one that runs cat: sluice dies of SIGINT, so the shell does too', async (t) => {
  // bash leaves a loop on SIGINT only if its foreground child died of it (a child that exits
  // with a status of its own, even 130, has handled it). Ctrl-C signals the whole process group.
  const loop = `for i in 1 2; do echo "round $i"; "${process.execPath}" "${BIN}" --rate 100KiB/s --progress --interval 0.05 "${oneMiBFile}" > /dev/null; done; echo finished`
  const shell = spawn('bash', ['-c', loop], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  shell.stdout.setEncoding('utf8').on('data', (c) => { stdout += c })
  await lineMatching(shell.stderr, (line) => line.startsWith('sluice: '))
  process.kill(-shell.pid, 'SIGINT')
  const [code, killedBy] = await once(shell, 'close')
  t.is(stdout, 'round 1\n', 'no second round, no "finished"')
  t.is(killedBy, 'SIGINT', `bash ended with ${code}`)
})

test('after a signal, the stdio it shares with the shell are as they were: blocking (libuv makes pipes non-blocking, Node puts them back on its way out, a death by signal skipped that, and the next command of { sluice; cat; } failed with EAGAIN)', async (t) => {
  // sluice in the background with the shell's three pipes (a background job's stdin would be
  // /dev/null), its pid on stderr; once it has read and shown a line, SIGINT; once it is gone,
  // the shell shows the flags of its (the same) file descriptors, from /proc.
  const fdFlags = 'for fd in 0 1 2; do echo "fd $fd $(grep ^flags: /proc/$$/fdinfo/$fd)"; done'
  const script = `"${process.execPath}" "${BIN}" --progress --interval 0.05 <&0 & echo "pid $!" >&2; wait; ${fdFlags}`
  const shell = spawn('bash', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  shell.stdout.setEncoding('utf8').on('data', (c) => { stdout += c })
  const pid = lineMatching(shell.stderr, (line) => line.startsWith('pid '))
  shell.stdin.write('{"a":1}\n')
  const sluicePid = Number((await pid).slice(4))
  await lineMatching(shell.stderr, (line) => / 8 B /.test(line))
  process.kill(sluicePid, 'SIGINT')
  const [code] = await once(shell, 'close')
  t.is(code, 0)
  const flags = [...stdout.matchAll(/^fd (\d) flags:\s+([0-7]+)$/gm)].map(([, fd, octal]) => [Number(fd), parseInt(octal, 8)])
  t.is(flags.length, 3, stdout)
  for (const [fd, value] of flags) t.is(value & fs.constants.O_NONBLOCK, 0, `fd ${fd}: flags ${value.toString(8)}`)
})

test('backpressure: a reader of stdout that stops keeps what sluice reads within a bounded window', async (t) => {
  const file = backpressureFile
  for (const mode of [[], ['--ndjson']]) {
    const child = spawn(process.execPath, [BIN, ...mode, '--progress', '--interval', '0.05', '--stats', 'json', file], { stdio: ['ignore', 'pipe', 'pipe'] })
    // Read 1 MiB, then stop reading.
    let received = 0
    await new Promise((resolve) => {
      child.stdout.on('data', function onData (chunk) {
        received += chunk.length
        if (received >= MiB) {
          child.stdout.pause()
          child.stdout.off('data', onData)
          resolve()
        }
      })
    })
    // Blocked for a good while: the input had all that time to overrun the window if it could.
    // (1.01: the line shows hundredths, and 0.996 s would show as 1.00.)
    const { code, summary } = await interruptAfter(child, (line) => Number(/blocked (\d+\.\d\d) s/.exec(line)?.[1]) >= 1.01)
    t.is(code, 130)
    const window = summary.input.bytes - received
    t.log(`${mode.join(' ') || 'plain'}: read ${summary.input.bytes} bytes, the reader took ${received}: window ${window}`)
    t.true(window < 8 * MiB, `${mode}: read ${summary.input.bytes} bytes while the reader took ${received}`)
    t.true(summary.input.bytes < backpressureSize / 2)
    t.true(summary.blockedMs >= 1000)
  }
})
