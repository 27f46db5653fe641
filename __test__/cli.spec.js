'use strict'

// The `sluice` command, run as a child process: bytes through unchanged, NDJSON validation
// (skip / error, line numbers, --invalid-log), --where/--select, argument errors (exit 2),
// --stats, EPIPE. Timing, progress, SIGINT and backpressure: cli-live.spec.js.

const fs = require('node:fs')
const path = require('node:path')
const test = require('ava')
const { spawn } = require('node:child_process')
const { BIN, collect, records, sluice, tempDir } = require('./cli-helpers.js')

const dir = tempDir()
const file = (name, content) => {
  const p = path.join(dir, name)
  fs.writeFileSync(p, content)
  return p
}

// Binary data with no trailing newline, longer than a read chunk (64 KiB).
const binary = Buffer.alloc(300 * 1024)
for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919 + (i >> 9)) & 0xff
const binaryFile = file('binary.bin', binary)
const ndjson = records(5000)
const ndjsonFile = file('records.ndjson', ndjson)

const BAD = ['{"id":1}', '{oops}', '[2]', '', '{"id":3', '"four"', 'nul', '{"id":5}']
const badFile = file('bad.ndjson', BAD.join('\n') + '\n')
// Byte offset of each line of badFile.
const offsets = BAD.reduce((acc, line, i) => [...acc, i === 0 ? 0 : acc[i - 1] + Buffer.byteLength(BAD[i - 1]) + 1], [])

test('a plain copy writes the input unchanged: a file, stdin, and -', async (t) => {
  const fromFile = await sluice([binaryFile])
  t.is(fromFile.code, 0, fromFile.stderr)
  t.true(fromFile.stdout.equals(binary))
  t.is(fromFile.stderr, '', 'no progress unless stderr is a terminal or --progress')

  const fromStdin = await sluice([], { input: binary })
  t.is(fromStdin.code, 0, fromStdin.stderr)
  t.true(fromStdin.stdout.equals(binary))

  const dash = await sluice(['-', '--lines'], { input: ndjson })
  t.is(dash.code, 0, dash.stderr)
  t.true(dash.stdout.equals(ndjson))
})

test('--ndjson writes valid input unchanged', async (t) => {
  const r = await sluice(['--ndjson', ndjsonFile])
  t.is(r.code, 0, r.stderr)
  t.true(r.stdout.equals(ndjson))
})

test('--ndjson --on-invalid skip: valid lines through, newline-terminated; invalid and blank lines counted', async (t) => {
  const r = await sluice(['--ndjson', '--on-invalid', 'skip', '--stats', 'json', badFile])
  t.is(r.code, 0, r.stderr)
  t.is(r.stdout.toString(), '{"id":1}\n[2]\n"four"\n{"id":5}\n')
  const summary = JSON.parse(r.stderr)
  t.is(summary.invalidLines, 3)
  t.is(summary.blankLines, 1)
  t.is(summary.input.lines, BAD.length)
  t.is(summary.output.lines, 4)
  t.is(summary.input.bytes, fs.statSync(badFile).size)
})

test('--ndjson (on-invalid error by default): the lines before, then exit 1 naming line, offset and reason', async (t) => {
  const r = await sluice(['--ndjson', badFile])
  t.is(r.code, 1)
  t.is(r.stdout.toString(), '{"id":1}\n')
  t.regex(r.stderr, new RegExp(`^sluice: ${escape(badFile)}: Invalid NDJSON at line 2 \\(byte offset ${offsets[1]}\\): unexpected 'o'`))
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace')

  // The same when the bad line is the last one (nothing held after it), with or without its
  // newline, and behind a throttle that still holds the lines before it.
  for (const input of ['{"a":1}\n[2]\nbad\n', '{"a":1}\n[2]\nbad', '{"a":1}\n[2]\nbad\n[3]\n']) {
    for (const extra of [[], ['--rate', '20/s']]) {
      const last = await sluice(['--ndjson', ...extra], { input })
      t.is(last.code, 1, `${JSON.stringify(input)} ${extra.join(' ')}`)
      t.is(last.stdout.toString(), '{"a":1}\n[2]\n')
      t.regex(last.stderr, /^sluice: standard input: Invalid NDJSON at line 3 \(byte offset 12\)/)
    }
  }
})

test('--invalid-log: one JSON line per invalid line, with line number, offset, code and reason', async (t) => {
  const log = path.join(dir, 'invalid-skip.log')
  const r = await sluice(['--ndjson', '--on-invalid', 'skip', '--invalid-log', log, badFile])
  t.is(r.code, 0, r.stderr)
  const entries = fs.readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
  t.deepEqual(entries.map((e) => [e.line, e.offset, e.code]), [
    [2, offsets[1], 'ERR_SLUICE_INVALID_JSON'],
    [5, offsets[4], 'ERR_SLUICE_INVALID_JSON'],
    [7, offsets[6], 'ERR_SLUICE_INVALID_JSON']
  ])
  for (const e of entries) {
    t.is(typeof e.reason, 'string')
    t.true(e.reason.length > 0)
    t.is(e.excerpt, BAD[e.line - 1])
  }

  // With on-invalid error, the line that stopped the run is logged too.
  const stopLog = path.join(dir, 'invalid-error.log')
  const stopped = await sluice(['--ndjson', '--invalid-log', stopLog, badFile])
  t.is(stopped.code, 1)
  const [only, ...rest] = fs.readFileSync(stopLog, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
  t.deepEqual([only.line, only.offset, rest.length], [2, offsets[1], 0])
})

test('--invalid-log /dev/stderr with standard error on a file (2> and 2>>): the records and the summary follow each other, none overwritten, nothing the file held truncated', async (t) => {
  for (const flags of ['w', 'a']) {
    const errors = file(`stderr-${flags}.txt`, 'before\n')
    const fd = fs.openSync(errors, flags)
    const child = spawn(process.execPath, [BIN, '--ndjson', '--on-invalid', 'skip', '--invalid-log', '/dev/stderr', '--stats', 'json', badFile],
      { stdio: ['ignore', 'ignore', fd] })
    fs.closeSync(fd)
    const { code } = await collect(child)
    const lines = fs.readFileSync(errors, 'utf8').split('\n')
    t.is(code, 0, lines.join('\n'))
    t.is(lines.pop(), '')
    // 2>> keeps what the file held; 2> (the shell truncated it, sluice does not again) starts at 0.
    if (flags === 'a') t.is(lines.shift(), 'before')
    const summary = JSON.parse(lines.pop())
    t.like(summary, { status: 'done', invalidLines: 3 })
    t.deepEqual(lines.map((line) => JSON.parse(line).line), [2, 5, 7], lines.join('\n'))
  }
})

test('--invalid-log that cannot be written (a full disk): exit 1, one line naming the log, the summary', async (t) => {
  // Enough invalid lines to fill a write mid-run (64 KiB of records), and a few (written at the end).
  const many = file('many-bad.ndjson', 'bad\n'.repeat(100000))
  for (const input of [many, badFile]) {
    const r = await sluice(['--ndjson', '--on-invalid', 'skip', '--invalid-log', '/dev/full', '--stats', 'json', input])
    t.is(r.code, 1, r.stderr)
    const [message, json, ...rest] = r.stderr.split('\n')
    t.regex(message, /^sluice: --invalid-log \/dev\/full: ENOSPC: /)
    t.deepEqual(rest, [''])
    const summary = JSON.parse(json)
    t.is(summary.status, 'error')
    t.is(summary.error, message.slice('sluice: '.length))
  }
})

test('--max-line: a longer line is an invalid line (ERR_SLUICE_LINE_TOO_LONG); shorter ones pass', async (t) => {
  const input = '{"a":"0123456789"}\n{"b":1}\n'
  const skipped = await sluice(['--ndjson', '--max-line', '10', '--on-invalid', 'skip', '--stats', 'json'], { input })
  t.is(skipped.code, 0, skipped.stderr)
  t.is(skipped.stdout.toString(), '{"b":1}\n')
  t.is(JSON.parse(skipped.stderr).invalidLines, 1)
  const stopped = await sluice(['--ndjson', '--max-line', '10'], { input })
  t.is(stopped.code, 1)
  t.regex(stopped.stderr, /^sluice: standard input: .*line 1/)
  const fits = await sluice(['--ndjson', '--max-line', '18'], { input })
  t.is(fits.code, 0, fits.stderr)
  t.is(fits.stdout.toString(), input)
})

test('--lines counts a last line without a newline, as --ndjson does (plain, and with a line rate)', async (t) => {
  for (const [input, expected] of [['abc', 1], ['a\nb', 2], ['a\n', 1], ['', 0], ['\n\n', 2]]) {
    for (const args of [['--lines'], ['--lines', '--rate', '1k/s']]) {
      const r = await sluice([...args, '--stats', 'json'], { input })
      t.is(r.code, 0, r.stderr)
      t.is(r.stdout.toString(), input)
      const s = JSON.parse(r.stderr)
      t.deepEqual([s.input.lines, s.output.lines], [expected, expected], `${JSON.stringify(input)} ${args.join(' ')}`)
    }
  }
  const parsed = await sluice(['--ndjson', '--stats', 'json'], { input: '{}' })
  t.is(JSON.parse(parsed.stderr).input.lines, 1)
})

test('--stats json: totals match the input; text lists the same', async (t) => {
  const r = await sluice(['--ndjson', '--stats', 'json', ndjsonFile])
  t.is(r.code, 0, r.stderr)
  const s = JSON.parse(r.stderr)
  t.is(s.status, 'done')
  t.is(s.exitCode, 0)
  t.deepEqual(s.input, { name: ndjsonFile, bytes: ndjson.length, size: ndjson.length, lines: 5000 })
  t.deepEqual(s.output, { bytes: ndjson.length, lines: 5000 })
  t.is(s.invalidLines, 0)
  t.is(s.filteredLines, null, 'no --where')
  t.true(s.durationMs > 0)
  t.true(s.rate.mean > 0)
  t.true(s.blockedMs >= 0)
  t.is(s.throttledMs, null)

  const text = await sluice(['--stats', 'text', '--lines'], { input: ndjson })
  t.is(text.code, 0, text.stderr)
  t.regex(text.stderr, /^sluice: done in \d+\.\d\d s \(exit 0\)\n/)
  t.regex(text.stderr, new RegExp(`input +${ndjson.length.toLocaleString('en-US')} bytes .*, 5,000 lines`))
  const ofSize = await sluice(['--stats', 'text', '--lines', ndjsonFile])
  const size = ndjson.length.toLocaleString('en-US')
  t.regex(ofSize.stderr, new RegExp(`input +${size} of ${size} bytes \\([\\d.]+ KiB\\), 5,000 lines\n`))
  t.regex(text.stderr, /blocked +\d+\.\d\d s \(output\)/)
})

test('bad arguments: exit 2, a message naming the argument, nothing on stdout', async (t) => {
  const cases = [
    [['--rate', '0'], /--rate: '0' must be above 0/],
    [['--rate', 'fast'], /--rate: 'fast' is not a rate/],
    [['--rate', '5MiB/min'], /--rate: '5MiB\/min' is not a rate/],
    [['--rate'], /--rate <value>' argument missing/],
    [['--size', '1.5x'], /--size: '1.5x' is not a size/],
    [['--interval', '0'], /--interval: '0' must be/],
    [['--interval', '0x10'], /--interval: '0x10' must be a duration/],
    [['--rate', '1e400'], /--rate: '1e400' is too large/],
    [['--max-line', '1KiB'], /--max-line needs --ndjson/],
    [['--ndjson', '--max-line', '0'], /--max-line: 0 bytes is out of range/],
    [['--ndjson', '--max-line', '1TiB'], /--max-line: 1099511627776 bytes is out of range/],
    [['--stats', 'xml'], /--stats: 'xml' must be one of text, json/],
    [['--ndjson', '--on-invalid', 'ignore'], /--on-invalid: 'ignore' must be one of error, skip/],
    [['--on-invalid', 'skip'], /--on-invalid needs --ndjson/],
    [['--where', '.a'], /--where needs --ndjson/],
    [['--select', 'a'], /--select needs --ndjson/],
    [['--ndjson', '--select', 'a,,b'], /--select: 'a,,b' has an empty path/],
    [['--ndjson', '--where', '.a == 1', '--where', '.b == 1'], /--where given 2 times/],
    [['--ndjson', '--select', 'a', '--select', 'b'], /--select given 2 times/],
    [['--rat', '1'], /Unknown option '--rat'/],
    [['a', 'b'], /at most one FILE, got 2/],
    [[''], /FILE must not be empty/]
  ]
  for (const [args, message] of cases) {
    const r = await sluice(args, { input: '' })
    t.is(r.code, 2, `sluice ${args.join(' ')}`)
    t.regex(r.stderr, message, `sluice ${args.join(' ')}`)
    t.regex(r.stderr, /Try 'sluice --help'/)
    t.is(r.stdout.length, 0)
  }
})

test('a --rate too small for one unit an hour, a --size or --max-line that is no whole number of bytes: exit 2 naming the flag (no endless wait, no silent rounding)', async (t) => {
  const input = '{"a":1}\n'.repeat(3)
  const cases = [
    [['--rate', '1e-300'], /^sluice: --rate: '1e-300' is too small \(one byte would take more than an hour/],
    [['--lines', '--rate', '0.0001/s'], /^sluice: --rate: '0\.0001\/s' is too small \(one line would take more than an hour/],
    [['--size', '0.4'], /^sluice: --size: '0\.4' is not a whole number of bytes/],
    [['--size', '1.5'], /^sluice: --size: '1\.5' is not a whole number of bytes/],
    [['--ndjson', '--max-line', '1.0001KiB'], /^sluice: --max-line: '1\.0001KiB' is not a whole number of bytes/]
  ]
  for (const [args, message] of cases) {
    const r = await sluice(args, { input })
    t.is(r.code, 2, `sluice ${args.join(' ')}`)
    t.regex(r.stderr, message, `sluice ${args.join(' ')}`)
    t.is(r.stdout.length, 0)
  }
  const slow = await sluice(['--lines', '--rate', '0.0003/s', '--size', '1.1kB', '--stats', 'json'], { input: '' })
  t.is(slow.code, 0, 'one line in a bit under an hour, and 1.1 kB (1,100 bytes exactly) are accepted')
})

test('--stats: filteredLines is null unless --where filtered (a --select alone filters nothing), in json and text', async (t) => {
  const selectOnly = await sluice(['--ndjson', '--select', 'id', '--stats', 'json', ndjsonFile])
  t.is(selectOnly.code, 0, selectOnly.stderr)
  t.is(JSON.parse(selectOnly.stderr).filteredLines, null)
  const text = await sluice(['--ndjson', '--select', 'id', '--stats', 'text', ndjsonFile])
  t.notRegex(text.stderr, /filtered/)
  const both = await sluice(['--ndjson', '--where', '.type == "WatchEvent"', '--select', 'id', '--stats', 'json', ndjsonFile])
  t.is(JSON.parse(both.stderr).filteredLines, 5000 - Math.ceil(5000 / 3))
})

test('--help and --version exit 0 on stdout; a missing file exits 1', async (t) => {
  const help = await sluice(['--help'])
  t.is(help.code, 0)
  t.regex(help.stdout.toString(), /^Usage: sluice \[options\] \[FILE\]/)
  for (const flag of ['--rate', '--ndjson', '--on-invalid', '--invalid-log', '--where', '--select', '--progress', '--quiet', '--stats']) {
    t.true(help.stdout.toString().includes(flag), flag)
  }
  const version = await sluice(['--version'])
  t.is(version.code, 0)
  t.is(version.stdout.toString(), `sluice ${require('../package.json').version}\n`)

  const missing = await sluice([path.join(dir, 'missing.ndjson')])
  t.is(missing.code, 1)
  t.regex(missing.stderr, /^sluice: cannot open .*missing\.ndjson: no such file\n$/)
  const directory = await sluice([dir])
  t.is(directory.code, 1)
  t.regex(directory.stderr, /it is a directory/)
})

test('I/O errors: exit 1, one line naming the file or stream (a read error of FILE or stdin, a full stdout)', async (t) => {
  // /proc/self/mem of a live process fails at offset 0 (unmapped) with EIO; the test process's
  // own, opened here, is live for the child too.
  const cases = [
    [['/proc/self/mem'], {}, /^sluice: \/proc\/self\/mem: EIO: /],
    [['--stats', 'json'], { stdin: ['/proc/self/mem', 'r'] }, /^sluice: standard input: EIO: /],
    [['--stats', 'json'], { stdin: [dir, 'r'] }, /^sluice: cannot read standard input: it is a directory\n\{"status":"error",[^\n]*\}\n$/],
    [[binaryFile], { stdout: ['/dev/full', 'w'] }, /^sluice: standard output: ENOSPC: /],
    // An --invalid-log that cannot be opened is an I/O error too, not a usage error.
    // The file is named once (Node's message ends with ", open '<path>'", which is dropped).
    [['--ndjson', '--invalid-log', path.join(dir, 'no-such-dir', 'x.log'), binaryFile], {}, /^sluice: --invalid-log \S+no-such-dir\/x\.log: ENOENT: no such file or directory\n$/],
    [['--ndjson', '--invalid-log', dir, binaryFile], {}, /^sluice: --invalid-log \S+: EISDIR: illegal operation on a directory\n$/]
  ]
  for (const [args, files, message] of cases) {
    const r = await withFiles(files, args)
    t.is(r.code, 1, `${args} ${JSON.stringify(files)}: ${r.stderr}`)
    t.regex(r.stderr, message)
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace')
  }
})

test('an error naming a file whose name holds control characters is still one line: a newline, an escape sequence (ESC or C1 CSI) are shown escaped', async (t) => {
  const name = 'we\nird\x1b[31m\x9b.ndjson'
  const shown = 'we\\nird\\x1b[31m\\x9b.ndjson'
  const invalid = file(name, 'oops\n')
  const cases = [
    [['--ndjson', '--stats', 'text', invalid], `${dir}/${shown}: Invalid NDJSON at line 1`],
    [['--stats', 'json', path.join(dir, `missing-${name}`)], `cannot open ${dir}/missing-${shown}: no such file`],
    [['--ndjson', '--invalid-log', invalid, invalid], `--invalid-log: ${dir}/${shown} is the input file`]
  ]
  for (const [args, message] of cases) {
    const r = await sluice(args)
    t.not(r.code, 0)
    const first = r.stderr.split('\n')[0]
    t.true(first.startsWith(`sluice: ${message}`), first)
    t.false(r.stderr.includes('\x1b') || r.stderr.includes('\x9b'), `no control character reaches the terminal: ${r.stderr}`)
    // The text summary's first line repeats the error, on one line too.
    if (args.includes('text')) t.regex(r.stderr.split('\n')[1], /^sluice: error in .*: .*we\\nird.*Invalid NDJSON/)
    if (args.includes('json')) t.is(JSON.parse(r.stderr.split('\n')[1]).error, first.slice('sluice: '.length))
  }
})

test('standard output on a file that reaches its size limit (ulimit -f) in the last write: exit 1 with EFBIG, not a silent cut (Node\'s stdout dropped the rest of a short write: exit 0, every byte counted)', async (t) => {
  const small = file('under-a-read.bin', binary.subarray(0, 200_000))
  for (const args of [[small], ['--lines', ndjsonFile]]) {
    const out = path.join(dir, 'limited.out')
    const fd = fs.openSync(out, 'w')
    // bash's ulimit -f counts KiB: files stop at 102,400 bytes (Node ignores SIGXFSZ: EFBIG).
    const child = spawn('bash', ['-c', 'ulimit -f 100 && exec "$@"', 'bash', process.execPath, BIN, '--stats', 'json', ...args], { stdio: ['ignore', fd, 'pipe'] })
    fs.closeSync(fd)
    const r = await collect(child)
    const size = fs.statSync(out).size
    t.is(size, 102_400, 'the limit applied')
    t.is(r.code, 1, `${args}: ${r.stderr}`)
    t.regex(r.stderr, /^sluice: standard output: EFBIG: /)
    const summary = JSON.parse(r.stderr.split('\n')[1])
    t.true(summary.output.bytes <= size, `${args}: ${summary.output.bytes} bytes counted, ${size} in the file`)
  }
})

test('--stats after a full stdout: the output counts only what was written (none of it on /dev/full)', async (t) => {
  for (const args of [[binaryFile], ['--ndjson', ndjsonFile]]) {
    const r = await withFiles({ stdout: ['/dev/full', 'w'] }, ['--stats', 'json', ...args])
    t.is(r.code, 1, r.stderr)
    const summary = JSON.parse(r.stderr.split('\n').find((line) => line.startsWith('{')))
    t.is(summary.status, 'error')
    t.true(summary.input.bytes > 0, 'input was read')
    t.is(summary.output.bytes, 0, `${args}: no byte reached the file`)
  }
})

test('--stats after an error found while setting up (an input or --invalid-log that cannot be opened, input is output): the summary, of nothing done', async (t) => {
  // A run that got going, for the fields and which of them are null with these options (no
  // whole interval passes: min and max are null).
  const options = ['--ndjson', '--where', '.id == 1', '--rate', '1MiB/s', '--size', '10', '--interval', '3600']
  const ran = await sluice([...options, '--stats', 'json', ndjsonFile])
  t.is(ran.code, 0, ran.stderr)
  const reference = JSON.parse(ran.stderr)
  const shape = (s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v !== null && typeof v === 'object' ? shape(v) : v === null]))
  const missing = path.join(dir, 'missing.ndjson')
  const noDirLog = path.join(dir, 'no-such-dir', 'x.log')
  const self = file('self-setup.bin', 'abc\n')
  const cases = [
    [[missing], {}, missing],
    [[dir], {}, dir],
    [[], { stdin: [dir, 'r'] }, 'standard input'],
    [['--ndjson', '--invalid-log', noDirLog, ndjsonFile], {}, ndjsonFile],
    [[self], { stdout: [self, 'a'] }, self],
    [[...options, missing], {}, missing]
  ]
  for (const [args, files, name] of cases) {
    const r = await withFiles(files, ['--stats', 'json', ...args])
    t.is(r.code, 1, r.stderr)
    const [message, json, ...rest] = r.stderr.split('\n')
    t.regex(message, /^sluice: (cannot (open|read)|--invalid-log|.*: input file is output file)/)
    t.deepEqual(rest, [''], r.stderr)
    const s = JSON.parse(json)
    t.like(s, { status: 'error', exitCode: 1, error: message.slice('sluice: '.length), signal: null, durationMs: 0 }, args.join(' '))
    t.like(s, { input: { name, bytes: 0 }, output: { bytes: 0 }, rate: { mean: 0 }, blockedMs: 0 }, args.join(' '))
    const counted = args.includes('--ndjson')
    t.is(s.output.lines, counted ? 0 : null)
    t.is(s.invalidLines, counted ? 0 : null)
    if (args.includes('--where')) {
      t.deepEqual(shape(s), { ...shape(reference), error: false }, 'the fields of a run, null where it has none')
      t.like(s, { input: { size: 10, lines: 0 }, filteredLines: 0, throttledMs: 0 })
    }
  }
  // The size of an input that was opened: it is known.
  t.is(JSON.parse((await sluice(['--ndjson', '--invalid-log', noDirLog, '--stats', 'json', ndjsonFile])).stderr.split('\n')[1]).input.size, ndjson.length)
  const text = await sluice(['--stats', 'text', missing])
  t.is(text.code, 1)
  t.regex(text.stderr, /^sluice: cannot open \S+: no such file\nsluice: error in 0\.00 s \(exit 1\): cannot open \S+: no such file\n {2}input {4}0 bytes \(0 B\)\n {2}output {3}0 bytes \(0 B\)\n/)
  // A usage error (exit 2) is no run: no summary.
  const usage = await sluice(['--stats', 'json', '--rate', 'fast', missing])
  t.is(usage.code, 2)
  t.notRegex(usage.stderr, /^\{/m)
})

test('EPIPE: piped into head, it stops quietly with 141 (128 + SIGPIPE, as cat)', async (t) => {
  // A file far larger than the pipe: sluice is still writing when head exits.
  const big = file('epipe.ndjson', records(100000))
  for (const args of [[big], ['--ndjson', big], ['--ndjson', '--stats', 'json', big]]) {
    const r = await new Promise((resolve) => {
      const shell = spawn('bash', ['-c', `"$0" "$1" "\${@:2}" | head -n 1; echo "status \${PIPESTATUS[0]}" >&2`, process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      shell.stdout.on('data', (c) => { stdout += c })
      shell.stderr.on('data', (c) => { stderr += c })
      shell.on('close', () => resolve({ stdout, stderr }))
    })
    t.is(r.stdout, '{"id":0,"type":"WatchEvent","actor":{"login":"user0"},"payload":{"size":0}}\n')
    t.regex(r.stderr, /status 141\n$/, args.join(' '))
    t.notRegex(r.stderr, /Error|\n\s+at /, 'no error message, no stack trace')
    if (args.includes('--stats')) {
      const summary = JSON.parse(r.stderr.split('\n')[0])
      t.is(summary.status, 'closed')
      t.true(summary.input.bytes < fs.statSync(big).size)
    }
  }
})

test('--help and --version: a reader that went away is 141 quietly, a full stdout one line and 1', async (t) => {
  for (const flag of ['--help', '--version']) {
    // The pipe's only reader is closed before the child has started: its write fails with EPIPE.
    const r = await new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, flag], { stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout.destroy()
      let stderr = ''
      child.stderr.on('data', (c) => { stderr += c })
      child.on('close', (code) => resolve({ code, stderr }))
    })
    t.is(r.code, 141, `${flag}: ${r.stderr}`)
    t.is(r.stderr, '', `${flag}: no error message, no stack trace`)
    const full = await withFiles({ stdout: ['/dev/full', 'w'] }, [flag])
    t.is(full.code, 1, flag)
    t.is(full.stderr, 'sluice: standard output: ENOSPC: no space left on device, write\n', flag)
  }
})

/** Runs sluice with files as its stdin and/or stdout: `{ stdin: [path, flags], stdout: [path, flags] }`. */
async function withFiles (files, args) {
  const fds = Object.fromEntries(Object.entries(files).map(([which, [p, flags]]) => [which, fs.openSync(p, flags)]))
  try {
    return await sluice(args, fds)
  } finally {
    for (const fd of Object.values(fds)) fs.closeSync(fd)
  }
}

test('standard input redirected from a file at an offset: the size is what is left of it (percent, ETA and --stats)', async (t) => {
  const content = Buffer.alloc(300_000, 'x')
  const input = file('at-offset.bin', content)
  const fd = fs.openSync(input, 'r')
  try {
    // A script read the first 250,000 bytes before sluice runs: the descriptor's offset moved.
    fs.readSync(fd, Buffer.alloc(250_000), 0, 250_000, null)
    const r = await sluice(['--stats', 'json'], { stdin: fd })
    t.is(r.code, 0, r.stderr)
    t.is(r.stdout.length, 50_000)
    t.like(JSON.parse(r.stderr).input, { bytes: 50_000, size: 50_000 })
  } finally {
    fs.closeSync(fd)
  }
})

test('--invalid-log naming the input (by its path, a symlink, or as redirected stdin) or standard output: exit 2, the input untouched', async (t) => {
  const input = file('log-is-input.ndjson', BAD.join('\n') + '\n')
  const size = fs.statSync(input).size
  const link = path.join(dir, 'log-is-input.link')
  fs.symlinkSync(input, link)
  const skip = ['--ndjson', '--on-invalid', 'skip', '--invalid-log']
  const runs = [
    await sluice([...skip, input, input]),
    await sluice([...skip, link, input]),
    await withFiles({ stdin: [input, 'r'] }, [...skip, input])
  ]
  for (const r of runs) {
    t.is(r.code, 2, r.stderr)
    t.regex(r.stderr, /^sluice: --invalid-log: .*log-is-input\.\w+ is the input file/)
    t.is(r.stdout.length, 0)
    t.is(fs.statSync(input).size, size)
  }
  // Nor standard output's file: opening the log would cut what sluice writes there.
  const out = path.join(dir, 'log-is-output.ndjson')
  const r = await withFiles({ stdout: [out, 'w'] }, [...skip, out, input])
  t.is(r.code, 2)
  t.regex(r.stderr, /is standard output's file/)
  // Nor standard output by /dev/stdout when it is a pipe: the records would be mixed into the data.
  const piped = await sluice([...skip, '/dev/stdout', input])
  t.is(piped.code, 2, piped.stderr)
  t.regex(piped.stderr, /^sluice: --invalid-log: \/dev\/stdout is standard output; its records would be mixed into the data\n/)
  t.is(piped.stdout.length, 0)
  // Both on /dev/null is harmless.
  const devNull = await withFiles({ stdout: ['/dev/null', 'w'] }, [...skip, '/dev/null', input])
  t.is(devNull.code, 0, devNull.stderr)
})

test('the input is not its own output: `sluice f >> f` exits 1 as cat ("input file is output file"); `1<> f` copies in place', async (t) => {
  const input = file('self.bin', binary)
  // `sluice f >> f`, and `sluice < f >> f`.
  for (const [files, args] of [[{ stdout: [input, 'a'] }, [input]], [{ stdin: [input, 'r'], stdout: [input, 'a'] }, []]]) {
    const r = await withFiles(files, args)
    t.is(r.code, 1, r.stderr)
    t.regex(r.stderr, /^sluice: (.*self\.bin|standard input): input file is output file\n$/)
    t.true(fs.readFileSync(input).equals(binary), 'the file is untouched')
  }
  // Read and write at the same offset (the output never gets ahead of the input): in place.
  const r = await withFiles({ stdout: [input, 'r+'] }, [input])
  t.is(r.code, 0, r.stderr)
  t.true(fs.readFileSync(input).equals(binary))
})

test('--where: matching lines written unchanged', async (t) => {
  const r = await sluice(['--ndjson', '--where', '.type == "WatchEvent"', '--stats', 'json', ndjsonFile])
  t.is(r.code, 0, r.stderr)
  const expected = ndjson.toString().split('\n').filter((l) => l.includes('"WatchEvent"')).map((l) => l + '\n').join('')
  t.is(r.stdout.toString(), expected)
  const s = JSON.parse(r.stderr)
  t.is(s.input.lines, 5000)
  t.is(s.output.lines, Math.ceil(5000 / 3))
  t.is(s.filteredLines, 5000 - Math.ceil(5000 / 3))
})

test('--select: each line projected, as JSON text; with --where, of the matching lines', async (t) => {
  const r = await sluice(['--ndjson', '--select', 'id,actor.login', ndjsonFile])
  t.is(r.code, 0, r.stderr)
  const lines = r.stdout.toString().trimEnd().split('\n').map((l) => JSON.parse(l))
  t.is(lines.length, 5000)
  t.deepEqual(lines[7], { id: 7, actor: { login: 'user7' } })

  const both = await sluice(['--ndjson', '--where', '.id == 9', '--select', 'id', ndjsonFile])
  t.is(both.code, 0, both.stderr)
  t.is(both.stdout.toString(), '{"id":9}\n')
})

test('--where with an expression the parser refuses: exit 2 naming --where', async (t) => {
  const r = await sluice(['--ndjson', '--where', '.type ==', ndjsonFile])
  t.is(r.code, 2)
  t.regex(r.stderr, /^sluice: --where: the expression is invalid at column 9: expected a value/)
  t.notRegex(r.stderr, /options\./)
})

test('--select writes each projection as the input has it: numbers and escapes untouched (as jq)', async (t) => {
  const input = '{"a":1e400,"b":-0,"f":-1e400,"c":1.0,"d":12345678901234567890,"e":"\\u00e9\\"x","z":1}\n{"a":[-0.0]}\n'
  const expected = '{"a":1e400,"b":-0,"f":-1e400,"c":1.0,"d":12345678901234567890,"e":"\\u00e9\\"x"}\n{"a":[-0.0]}\n'
  // Also through a line rate, where lines travel in batches.
  for (const extra of [[], ['--rate', '1e6/s']]) {
    const r = await sluice(['--ndjson', '--select', 'a,b,f,c,d,e', ...extra], { input })
    t.is(r.code, 0, r.stderr)
    t.is(r.stdout.toString(), expected)
  }
})

test('--select: a comma inside a quoted key does not split; a bad path is named by --select and its place', async (t) => {
  const r = await sluice(['--ndjson', '--select', 'id,["a,b"]'], { input: '{"id":1,"a,b":2,"a":3}\n' })
  t.is(r.code, 0, r.stderr)
  t.is(r.stdout.toString(), '{"id":1,"a,b":2}\n')
  const bad = await sluice(['--ndjson', '--select', 'id,b..c'], { input: '' })
  t.is(bad.code, 2)
  t.regex(bad.stderr, /^sluice: --select: path 2 of 2 \('b\.\.c'\) is invalid at column 3: expected a key name/)
  t.notRegex(bad.stderr, /options\./)
  const unclosed = await sluice(['--ndjson', '--select', 'id,["a,b'], { input: '' })
  t.is(unclosed.code, 2)
  t.regex(unclosed.stderr, /^sluice: --select: path 2 of 2 \('\["a,b'\) is invalid at column 2: unterminated string/)
  // A very long path is cut where the message repeats it (it was 60 KB for 30,000 steps).
  const long = await sluice(['--ndjson', '--select', 'a.'.repeat(30_000) + '['], { input: '' })
  t.is(long.code, 2)
  t.regex(long.stderr, /^sluice: --select: path 1 of 1 \('(a\.){59}a…'\) is invalid at column 512: path too long/)
  t.true(long.stderr.length < 500, `${long.stderr.length} characters`)
})

function escape (s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
