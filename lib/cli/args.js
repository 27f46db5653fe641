'use strict'

// The `sluice` command's arguments: util.parseArgs for the syntax, then one check per option so
// that every mistake is a UsageError naming the argument (the command prints it and exits 2).
//
// Sizes and rates have one grammar (README "Command line"):
//
//   SIZE := NUMBER [MULTIPLIER] ["B"]          e.g. 1500, 64KiB, 2.5MB, 1G
//   RATE := SIZE ["/s"]                         e.g. 5MiB/s, 1000/s, 2k/s
//   MULTIPLIER := k K M G T (powers of 1000) | Ki Mi Gi Ti (powers of 1024)
//   DURATION := DECIMAL ["s" | "ms"]            e.g. 0.5, 2s, 250ms (--interval)
//
// Units are case-sensitive (m is not M): a unit in the wrong case is refused with the right
// spelling suggested. K is 1000 as in SI, unlike pv, whose K is 1024 (sluice's Ki).
// A rate with "B" is always bytes per second. Without it, the rate is in the unit being counted:
// lines per second with --lines or --ndjson, otherwise bytes per second (as pv's -L and -l).

const { parseArgs } = require('node:util')

class UsageError extends Error {
  constructor (message) {
    super(message)
    this.name = 'UsageError'
    this.code = 'ERR_SLUICE_USAGE'
  }
}

const HELP = `Usage: sluice [options] [FILE]

Copies FILE (or standard input when FILE is - or absent) to standard output, like pv:
measured, optionally throttled, optionally validated and filtered as NDJSON.

Options:
  --rate RATE           limit the output: 5MiB/s, 200kB/s, 1000B/s are bytes per second;
                        a rate without B (1000/s, 2k/s) counts lines with --lines or
                        --ndjson, bytes otherwise
  --lines, -l           count lines (progress, --stats, and the unit of --rate)
  --ndjson              validate every line as JSON; valid lines are written unchanged
  --on-invalid MODE     with --ndjson: error (default: stop, exit 1) or skip
  --invalid-log FILE    with --ndjson: one JSON line per invalid line {line, offset, code,
                        reason, excerpt}
  --where EXPR          with --ndjson: only lines matching EXPR, e.g. '.type == "PushEvent"'
  --select PATHS        with --ndjson: write the projection of each line on PATHS (a,b.c;
                        a comma inside a quoted key does not split: 'id,["a,b"]') as JSON
                        text, numbers and escapes as in the input
  --progress, -p        show progress on stderr (the default when stderr is a terminal;
                        a plain line per interval when it is not)
  --quiet, -q           no progress display
  --interval DURATION   progress refresh period: seconds (0.5), or with s or ms (2s, 250ms);
                        default 1s, from 10ms to 3600s
  --size SIZE           expected input size for percent and ETA (default: the size of a
                        regular file)
  --max-line SIZE       with --ndjson: the longest line accepted (default 16MiB); a longer
                        line is an invalid line
  --stats FORMAT        print a summary on stderr at the end: text or json
  --help, -h            show this help and exit
  --version, -V         print the version and exit

Exit status: 0 on success, 1 on an error (an invalid line with --on-invalid error, an I/O
error), 2 on a bad argument, 141 when the reader of standard output went away (EPIPE), as cat
under a pipe. Interrupted (SIGINT, SIGTERM, SIGHUP), it prints its summary and dies of that
signal, as cat does: a shell reports 128 + the signal (130, 143, 129) and stops its loop.
SIGUSR1 (kill -USR1, as for dd) shows the progress so far on stderr; the run goes on.
`

const OPTIONS = {
  rate: { type: 'string' },
  lines: { type: 'boolean', short: 'l' },
  ndjson: { type: 'boolean' },
  'on-invalid': { type: 'string' },
  'invalid-log': { type: 'string' },
  // Given twice, they are refused rather than the last one silently winning (see parseArguments).
  where: { type: 'string', multiple: true },
  select: { type: 'string', multiple: true },
  progress: { type: 'boolean', short: 'p' },
  quiet: { type: 'boolean', short: 'q' },
  interval: { type: 'string' },
  'max-line': { type: 'string' },
  size: { type: 'string' },
  stats: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' }
}

// Powers of 1000 move the decimal exponent (`1.1k` is read as 1.1e3, exactly 1100; 1.1 * 1000 is
// 1100.0000000000002, no whole number of bytes); powers of 1024 multiply, which is exact.
const DECIMAL_EXPONENTS = { '': 0, k: 3, K: 3, M: 6, G: 9, T: 12 }
const BINARY_MULTIPLIERS = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }
// The slowest --rate: one byte or line an hour (the longest --interval). A rate like 1e-300/s
// would hold the first unit past it for good, with the command waiting and showing nothing.
const MIN_RATE_PER_SECOND = 1 / 3600
const QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(?:[eE]([+-]?\d+))?\s*(|k|K|M|G|T|Ki|Mi|Gi|Ti)(B?)$/
// The same, with the unit and a rate's '/s' in any case: to suggest the right spelling.
const ANY_CASE_UNIT = /^(.*?\d\s*)(?:([kmgt])(i?))?(b?)(\s*\/s)?$/i
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(s|ms|)$/

/**
 * `{ value, bytes }` of a SIZE (see the grammar above); `bytes`: the unit B was written.
 * `parseWhole`: the caller's whole parse of an argument (parseSize, parseRate), which a spelling
 * hint's suggestion must pass.
 */
function parseQuantity (text, flag, what, parseWhole, shown = text) {
  const m = QUANTITY.exec(text.trim())
  if (m === null) {
    const examples = `examples: ${what === 'rate' ? '5MiB/s, 200kB/s, 1000/s' : '1500, 64KiB, 2.5MB'}`
    throw new UsageError(`${flag}: '${shown}' is not a ${what} (${spellingHint(shown.trim(), what, parseWhole) ?? examples})`)
  }
  const unit = m[3]
  // Clamped to what a command line can offset with mantissa digits (an argument is at most
  // 128 KiB): an exponent of 1e21 or more would print as 1e+21 below, and read as NaN.
  const exponent = Math.max(-1e6, Math.min(1e6, Number(m[2] ?? 0) + (DECIMAL_EXPONENTS[unit] ?? 0)))
  const value = Number(`${m[1]}e${exponent}`) * (BINARY_MULTIPLIERS[unit] ?? 1)
  if (value === Infinity) throw new UsageError(`${flag}: '${shown}' is too large (it must be finite)`)
  // 1e-400 is 0 as a number: not the zero that was written.
  if (value === 0 && /[1-9]/.test(m[1])) throw new UsageError(`${flag}: '${shown}' is too small (it is 0 as a number)`)
  return { value, bytes: m[4] === 'B' }
}

/**
 * "units are case-sensitive: did you mean …?" when `text` is a quantity (and a rate's '/s') in the
 * wrong case, with a suggestion that `parseWhole` accepts ('0/S' is no rate in any case); else null.
 */
function spellingHint (text, what, parseWhole) {
  const u = ANY_CASE_UNIT.exec(text)
  if (u === null || (u[5] !== undefined && what !== 'rate')) return null
  const quantity = `${u[1]}${(u[2] ?? '').toUpperCase()}${(u[3] ?? '').toLowerCase()}${u[4].toUpperCase()}`
  const suggestion = `${quantity}${u[5] === undefined ? '' : u[5].toLowerCase()}`
  if (suggestion === text || !QUANTITY.test(quantity.trim())) return null
  try {
    parseWhole(suggestion)
  } catch {
    return null
  }
  return `units are case-sensitive: did you mean ${suggestion}?`
}

/** A SIZE in bytes (an integer >= 0). */
function parseSize (text, flag = '--size') {
  const { value } = parseQuantity(text, flag, 'size', (suggestion) => parseSize(suggestion, flag))
  if (value > Number.MAX_SAFE_INTEGER) throw new UsageError(`${flag}: '${text}' is too large`)
  // Rounding made 0.4 a size of 0 (and 1.5 of 2) without a word.
  if (!Number.isInteger(value)) throw new UsageError(`${flag}: '${text}' is not a whole number of bytes (${value})`)
  return value
}

/** A RATE: `{ perSecond, unit: 'bytes' | 'lines' }`; `linesCounted`: --lines or --ndjson given. */
function parseRate (text, linesCounted) {
  // Spaces around the number, the unit and the '/s' are all let through (parseQuantity trims).
  const trimmed = text.trimEnd()
  const quantity = trimmed.endsWith('/s') ? trimmed.slice(0, -2) : trimmed
  const { value, bytes } = parseQuantity(quantity, '--rate', 'rate', (suggestion) => parseRate(suggestion, linesCounted), text)
  if (!(value > 0)) throw new UsageError(`--rate: '${text}' must be above 0`)
  const unit = bytes || !linesCounted ? 'bytes' : 'lines'
  if (value < MIN_RATE_PER_SECOND) {
    throw new UsageError(`--rate: '${text}' is too small (one ${unit === 'bytes' ? 'byte' : 'line'} would take more than an hour; the least is 1 an hour, ${MIN_RATE_PER_SECOND.toPrecision(3)}/s)`)
  }
  return { perSecond: value, unit }
}

/** A DURATION in milliseconds, from 10 ms to 3600 s. */
function parseInterval (text) {
  const m = DURATION.exec(text)
  const ms = m === null ? NaN : Number(m[1]) * (m[2] === 'ms' ? 1 : 1000)
  if (!(ms >= 10 && ms <= 3600 * 1000)) {
    throw new UsageError(`--interval: '${text}' must be a duration from 10ms to 3600s (examples: 0.5, 2s, 250ms)`)
  }
  return ms
}

function oneOf (text, flag, allowed) {
  if (!allowed.includes(text)) throw new UsageError(`${flag}: '${text}' must be one of ${allowed.join(', ')}`)
  return text
}

/**
 * The paths of a --select list: split at the commas outside brackets and quoted keys
 * (`id,["a,b"]` is two paths). What is left unclosed is one path, for the parser to explain.
 */
function splitPaths (text) {
  const paths = []
  let start = 0
  let brackets = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quoted) {
      if (c === '\\') i++
      else if (c === '"') quoted = false
    } else if (c === '"') {
      quoted = true
    } else if (c === '[') {
      brackets++
    } else if (c === ']') {
      brackets = Math.max(0, brackets - 1)
    } else if (c === ',' && brackets === 0) {
      paths.push(text.slice(start, i))
      start = i + 1
    }
  }
  paths.push(text.slice(start))
  return paths
}

/**
 * The command's settings from its arguments (process.argv.slice(2)), or `{ help: true }` /
 * `{ version: true }`. Throws a UsageError for anything it cannot honour.
 */
function parseArguments (argv) {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true })
  } catch (err) {
    // parseArgs' messages name the argument; its advice on positionals that start with '-'
    // is cut (a FILE named like an option is rare; '--' works as usual).
    throw new UsageError(err.message.replace(/\. To specify a positional argument.*$/, ''))
  }
  const { values: v, positionals } = parsed
  for (const [flag, advice] of [['where', "combine the tests in one: --where '.a == 1 and .b == 2'"], ['select', 'list every path in one: --select a,b.c']]) {
    if (v[flag] === undefined) continue
    if (v[flag].length > 1) throw new UsageError(`--${flag} given ${v[flag].length} times: ${advice}`)
    v[flag] = v[flag][0]
  }
  if (v.help) return { help: true }
  if (v.version) return { version: true }
  if (positionals.length > 1) throw new UsageError(`expected at most one FILE, got ${positionals.length}: ${positionals.join(' ')}`)
  if (positionals[0] === '') throw new UsageError('FILE must not be empty (use - for standard input)')
  const ndjson = v.ndjson === true
  for (const flag of ['on-invalid', 'invalid-log', 'where', 'select', 'max-line']) {
    if (v[flag] !== undefined && !ndjson) throw new UsageError(`--${flag} needs --ndjson`)
  }
  // --progress and --quiet set one thing: the last given wins, as for every other option (an alias
  // `sluice -q` and then `-p` on its command line).
  const shown = parsed.tokens.findLast((token) => token.kind === 'option' && (token.name === 'progress' || token.name === 'quiet'))
  for (const flag of ['where', 'select', 'invalid-log']) {
    if (v[flag] === '') throw new UsageError(`--${flag}: must not be empty`)
  }
  // '-' is standard input as FILE, and standard output carries the data: a log file named '-' is
  // far more likely a slip than a wish.
  if (v['invalid-log'] === '-') throw new UsageError("--invalid-log: '-' is not a log file (standard output carries the data; name a file, e.g. ./invalid.log)")
  const select = v.select === undefined ? undefined : splitPaths(v.select)
  if (select !== undefined && select.some((path) => path.trim() === '')) {
    throw new UsageError(`--select: '${v.select}' has an empty path (expected a comma-separated list such as a,b.c)`)
  }
  const linesCounted = v.lines === true || ndjson
  return {
    file: positionals[0] === undefined || positionals[0] === '-' ? null : positionals[0],
    rate: v.rate === undefined ? null : parseRate(v.rate, linesCounted),
    lines: linesCounted,
    ndjson,
    onInvalid: v['on-invalid'] === undefined ? 'error' : oneOf(v['on-invalid'], '--on-invalid', ['error', 'skip']),
    invalidLog: v['invalid-log'] ?? null,
    where: v.where ?? null,
    select: select ?? null,
    // null: the default (shown when stderr is a terminal).
    progress: shown === undefined ? null : shown.name === 'progress',
    intervalMs: v.interval === undefined ? 1000 : parseInterval(v.interval),
    size: v.size === undefined ? null : parseSize(v.size),
    // Its range is the parser's (maxLineBytes), checked when the parser is made.
    maxLineBytes: v['max-line'] === undefined ? null : parseSize(v['max-line'], '--max-line'),
    stats: v.stats === undefined ? null : oneOf(v.stats, '--stats', ['text', 'json'])
  }
}

module.exports = { HELP, UsageError, parseArguments, parseRate, parseSize, splitPaths }
