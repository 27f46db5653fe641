'use strict'

// The `sluice` command's argument grammar (lib/cli/args.js), in process: sizes, rates and their
// units, and the settings the command runs with. The command's behaviour: cli.spec.js.

const test = require('ava')
const { UsageError, parseArguments, parseRate, parseSize, splitPaths } = require('../lib/cli/args.js')

test('rates: B means bytes; without it the unit counted (lines with --lines/--ndjson, else bytes)', (t) => {
  const cases = [
    ['5MiB/s', false, 5 * 1024 * 1024, 'bytes'],
    ['5MiB/s', true, 5 * 1024 * 1024, 'bytes'],
    ['200kB/s', true, 200000, 'bytes'],
    ['1000B/s', true, 1000, 'bytes'],
    ['1.5GiB', false, 1.5 * 1024 ** 3, 'bytes'],
    ['64Ki/s', false, 65536, 'bytes'],
    ['1000/s', true, 1000, 'lines'],
    ['1000/s', false, 1000, 'bytes'],
    ['2k/s', true, 2000, 'lines'],
    ['2K/s', true, 2000, 'lines'],
    ['1e3/s', true, 1000, 'lines'],
    ['.5/s', true, 0.5, 'lines'],
    ['3M', true, 3e6, 'lines'],
    // Spaces anywhere around the parts, a trailing one too (it was refused with a wrong hint).
    [' 5MiB/s', false, 5 * 1024 * 1024, 'bytes'],
    ['5 MiB/s', false, 5 * 1024 * 1024, 'bytes'],
    ['5MiB /s', false, 5 * 1024 * 1024, 'bytes'],
    ['5MiB/s ', false, 5 * 1024 * 1024, 'bytes']
  ]
  for (const [text, linesCounted, perSecond, unit] of cases) {
    t.deepEqual(parseRate(text, linesCounted), { perSecond, unit }, `${text} (lines counted: ${linesCounted})`)
  }
  for (const bad of ['0', '0B/s', '-1/s', 'fast', '5 MiB/min', '5mb/s', '5MiBs', '', '/s', '1e400/s', 'NaN/s', 'Infinity']) {
    t.throws(() => parseRate(bad, true), { instanceOf: UsageError, message: /^--rate: / }, bad)
  }
  t.throws(() => parseRate('0', true), { message: /'0' must be above 0/ })
  t.throws(() => parseRate('1e400', true), { message: /'1e400' is too large \(it must be finite\)/ })
  // An exponent past 1e21 prints as 1e+21: it once made the value NaN and the message wrong.
  t.throws(() => parseRate('1e999999999999999999999', true), { message: /is too large \(it must be finite\)/ })
  t.throws(() => parseSize('1e999999999999999999999'), { message: /is too large \(it must be finite\)/ })
  t.throws(() => parseSize('1e-999999999999999999999'), { message: /is too small \(it is 0 as a number\)/ })
  // Units are case-sensitive (m would be milli); the right spelling is suggested.
  t.throws(() => parseRate('5mib/s', true), { message: /'5mib\/s' is not a rate \(units are case-sensitive: did you mean 5MiB\/s\?\)/ })
  t.throws(() => parseRate('2gb', true), { message: /did you mean 2GB\?/ })
  t.throws(() => parseSize('1kib'), { message: /did you mean 1KiB\?/ })
  // The '/s' too, and only a suggestion that is accepted: '5MB/S' was told to try '5MB/S' again.
  for (const [text, suggestion] of [['5MB/S', '5MB/s'], ['5mb/S', '5MB/s'], ['1000/S', '1000/s'], ['5b', '5B']]) {
    const err = t.throws(() => parseRate(text, true), { message: new RegExp(`did you mean ${suggestion.replace('/', '\\/')}\\?`) })
    t.truthy(err)
    t.notThrows(() => parseRate(suggestion, true), `${text}: the suggestion ${suggestion} is accepted`)
  }
  // Never a suggestion the same parse then refuses ('0/s' must be above 0, 0.5 bytes is no size).
  for (const [text, parse] of [['0/S', (x) => parseRate(x, true)], ['1e-9/S', (x) => parseRate(x, true)], ['0.5b', parseSize], ['1e-999kb', parseSize]]) {
    t.throws(() => parse(text), { instanceOf: UsageError, message: /is not a (rate|size) \(examples: / }, text)
  }
  t.throws(() => parseSize('5MB/s'), { message: /'5MB\/s' is not a size \(examples: / }, 'no rate suggested for a size')
  t.throws(() => parseRate('5MB/sec', true), { message: /\(examples: / })
})

test('durations (--interval): seconds, or with s or ms; nothing else', (t) => {
  const cases = [['1', 1000], ['0.5', 500], ['.25', 250], ['2s', 2000], ['250ms', 250], ['10ms', 10], ['3600s', 3600000]]
  for (const [text, ms] of cases) t.is(parseArguments(['--interval', text]).intervalMs, ms, text)
  for (const bad of ['0', '9ms', '3601', '0x10', '1e1', ' 1 ', '1 s', '', '1m', 'Infinity', '1.']) {
    t.throws(() => parseArguments(['--interval', bad]), { instanceOf: UsageError, message: /^--interval: '.*' must be a duration from 10ms to 3600s/ }, JSON.stringify(bad))
  }
})

test('sizes: whole bytes, powers of 1000 for k/M/G/T and of 1024 for Ki/Mi/Gi/Ti', (t) => {
  t.is(parseSize('1500'), 1500)
  t.is(parseSize('64KiB'), 65536)
  t.is(parseSize('2.5MB'), 2500000)
  t.is(parseSize('1G'), 1e9)
  t.is(parseSize('0'), 0)
  t.throws(() => parseSize('1.5x'), { instanceOf: UsageError, message: /^--size: '1\.5x' is not a size/ })
  t.throws(() => parseSize('1e30'), { instanceOf: UsageError, message: /too large/ })
})

test('sizes are whole numbers of bytes: a fraction is refused, not rounded; decimal multipliers are exact', (t) => {
  t.is(parseSize('1.1kB'), 1100, '1.1 * 1000 is 1100.0000000000002; 1.1e3 is 1100')
  t.is(parseSize('0.25KiB'), 256)
  t.is(parseSize('1.5e-1k'), 150)
  for (const bad of ['0.4', '1.5', '1.0001KiB', '0.1KiB', '1e-400']) {
    t.throws(() => parseSize(bad), { instanceOf: UsageError, message: new RegExp(`^--size: '${bad.replace(/\./g, '\\.')}' is (not a whole number of bytes|too small)`) }, bad)
  }
  t.throws(() => parseSize('2.5', '--max-line'), { instanceOf: UsageError, message: /^--max-line: '2\.5' is not a whole number of bytes/ })
})

test('rates below one byte or line an hour are refused by name (they would hold the first unit for good)', (t) => {
  t.deepEqual(parseRate('0.0003/s', true), { perSecond: 0.0003, unit: 'lines' })
  for (const [text, linesCounted, unit] of [['1e-300', false, 'byte'], ['1e-300B/s', true, 'byte'], ['0.0002/s', true, 'line'], ['1e-400/s', true, 'line']]) {
    t.throws(() => parseRate(text, linesCounted), { instanceOf: UsageError, message: /^--rate: '.*' is too small/ }, text)
    if (text !== '1e-400/s') t.throws(() => parseRate(text, linesCounted), { message: new RegExp(`one ${unit} would take more than an hour`) })
  }
})

test('the settings from arguments, with their defaults', (t) => {
  t.deepEqual(parseArguments([]), {
    file: null,
    rate: null,
    lines: false,
    ndjson: false,
    onInvalid: 'error',
    invalidLog: null,
    where: null,
    select: null,
    progress: null,
    intervalMs: 1000,
    size: null,
    maxLineBytes: null,
    stats: null
  })
  const all = parseArguments(['--ndjson', '--rate', '10/s', '--on-invalid', 'skip', '--invalid-log', 'bad.log',
    '--where', '.a == 1', '--select', 'a,b.c', '-q', '--interval', '0.25', '--size', '1MiB', '--max-line', '1KiB', '--stats', 'json', 'in.ndjson'])
  t.like(all, {
    file: 'in.ndjson',
    rate: { perSecond: 10, unit: 'lines' },
    lines: true,
    ndjson: true,
    onInvalid: 'skip',
    invalidLog: 'bad.log',
    where: '.a == 1',
    select: ['a', 'b.c'],
    progress: false,
    intervalMs: 250,
    size: 1048576,
    maxLineBytes: 1024,
    stats: 'json'
  })
  t.is(parseArguments(['-']).file, null, '- is standard input')
  t.is(parseArguments(['-p']).progress, true)
  t.deepEqual(parseArguments(['--rate', 'oops', '--help']), { help: true }, '--help wins over other arguments')
})

test('--select splits at the commas outside brackets and quoted keys', (t) => {
  t.deepEqual(splitPaths('id,["a,b"]'), ['id', '["a,b"]'])
  t.deepEqual(splitPaths('a[*].b,c["x,\\",y"][0],d'), ['a[*].b', 'c["x,\\",y"][0]', 'd'])
  t.deepEqual(splitPaths('a,["b,c'), ['a', '["b,c'], 'an unclosed key stays one path, for the parser to explain')
  t.deepEqual(parseArguments(['--ndjson', '--select', 'id,["a,b"]']).select, ['id', '["a,b"]'])
})

test('--progress and --quiet: the last one given wins, as for the other options (an alias with -q, then -p)', (t) => {
  for (const [args, progress] of [[['-q', '-p'], true], [['-p', '-q'], false], [['-qp'], true], [['--progress', '--quiet'], false], [['-q'], false], [[], null]]) {
    t.is(parseArguments(args).progress, progress, args.join(' '))
  }
})

test("--invalid-log - is refused: '-' is standard input as FILE, and standard output carries the data", (t) => {
  t.throws(() => parseArguments(['--ndjson', '--invalid-log', '-']), { instanceOf: UsageError, message: /^--invalid-log: '-' is not a log file/ })
})

test('--where and --select given twice are usage errors (not: the last one wins)', (t) => {
  t.throws(() => parseArguments(['--ndjson', '--where', '.a == 1', '--where', '.b == 2']),
    { instanceOf: UsageError, message: /^--where given 2 times: combine the tests in one: --where '\.a == 1 and \.b == 2'$/ })
  t.throws(() => parseArguments(['--ndjson', '--select', 'a', '--select', 'b']), { instanceOf: UsageError, message: /^--select given 2 times/ })
  t.is(parseArguments(['--ndjson', '--where', '.a == 1']).where, '.a == 1')
})
