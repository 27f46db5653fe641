'use strict'

// The `sluice` command (bin/sluice.js): the library's streams composed into a pv-like tool.
//
//   input → Meter 'read' → [NdjsonParser [→ Cut] [→ LineBatches] | LinePieces | LineCounter]
//         → [Throttle: lines] → [LineJoiner] → [Throttle: bytes] → MonitoredWritable.wrap(stdout)
//
// (A line rate throttles lines in batches of ~5 ms worth, one acquire each: lib/cli/lines.js.)
//
// Every stage is a core stream in one pipeline(), so backpressure runs end to end: a slow reader
// of stdout stops the file being read after a bounded amount (the stages' buffers), never more.
// The numbers shown come from the stages themselves: bytes read, percent and ETA from the 'read'
// meter (its `total` is the input's size), rates (of the output, what a --rate limits) and time
// blocked from the 'write' meter, lines and
// invalid lines from the parser (or the line counter), the output's lines from the writes stdout
// confirmed (WrittenLines), throttled time from the Throttle. The
// display is refreshed by the 'write' meter's timer, which runs in Rust and so keeps ticking
// while the output blocks; it lives until the last byte is written.
//
// Exit status: 0 done, 1 error, 2 usage, 141 EPIPE on stdout (as cat's 128+SIGPIPE); SIGINT,
// SIGTERM or SIGHUP: the summary, then death by that signal (a shell's 130, 143, 129).

const { constants: { signals } } = require('node:os')
const { pipeline } = require('node:stream/promises')
const { NdjsonParser } = require('../ndjson.js')
const { NdjsonError } = require('../errors.js')
const { Throttle } = require('../throttle.js')
const { Meter, MonitoredWritable } = require('../meter.js')
const { UsageError, parseArguments } = require('./args.js')
const { EXIT, answerInfo } = require('./info.js')
const { Cut, LineBatches, LineCounter, LineJoiner, LinePieces, WrittenLines, batchCost, linesPerBatch, pieceCost } = require('./lines.js')
const { ProgressDisplay, formatSummary, printable } = require('./progress.js')
const { InvalidLog, LogGate } = require('./invalid-log.js')
const { InputError, checkInvalidLog, checkOutput, completeWrites, openInput, systemMessage } = require('./files.js')

// Signals that end a run as Ctrl-C does: the summary so far, the log flushed, 128 + the number.
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP']

function main (argv) {
  // A reader of stderr that goes away must not turn a progress redraw into a crash.
  process.stderr.on('error', () => {})
  // On a file, every byte of a write, or an error (Node's own stdout drops a short write's rest).
  completeWrites(process.stdout)
  let opts
  try {
    opts = parseArguments(argv)
  } catch (err) {
    return usageFailure(err)
  }
  const answer = answerInfo(opts)
  if (answer !== null) return answer
  let run
  // What setUp had opened when it failed, for the summary: the input's name and size.
  const opened = { input: null }
  try {
    run = setUp(opts, opened)
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(err)
    // One line, as every error of a run (a file name may hold a newline or an escape sequence).
    const message = printable(err.message)
    process.stderr.write(`sluice: ${message}\n`)
    // Scripts that parse the summary get one after every run that got past its arguments.
    if (opts.stats !== null) process.stderr.write(formatSummary(setUpFailureSummary(opts, opened.input, message), opts.stats))
    return Promise.resolve(EXIT.error)
  }
  return run()
}

/**
 * The summary of a run that failed while it was set up (an input or log that cannot be opened,
 * the input as its own output): nothing read or written. Its fields are summary()'s, each null
 * where a run with these options has no such count.
 */
function setUpFailureSummary (opts, input, error) {
  const lines = opts.lines ? 0 : null
  const parsed = opts.ndjson ? 0 : null
  return {
    status: 'error',
    exitCode: EXIT.error,
    error,
    signal: null,
    durationMs: 0,
    input: { name: input?.name ?? opts.file ?? 'standard input', bytes: 0, size: opts.size ?? input?.size ?? null, lines },
    output: { bytes: 0, lines },
    rate: { unit: 'bytes/s', intervalMs: opts.intervalMs, min: null, mean: 0, max: null },
    invalidLines: parsed,
    invalidPending: parsed,
    blankLines: parsed,
    filteredLines: opts.ndjson && opts.where !== null ? 0 : null,
    blockedMs: 0,
    throttledMs: opts.rate === null ? null : 0
  }
}

function usageFailure (err) {
  process.stderr.write(`sluice: ${err.message}\nTry 'sluice --help' for more information.\n`)
  return Promise.resolve(EXIT.usage)
}

function createParser (opts) {
  // Invalid lines are always reported as events: with --on-invalid error the first one cuts the
  // output after the lines before it (see setUp), which the parser's own error would discard.
  // 'lines' with `select` too: each projection is the JSON text the parser wrote from the input's
  // bytes, so numbers (-0, 1e400, big integers) and escapes come out as they came in.
  const options = { output: 'lines', onInvalid: 'skip' }
  if (opts.where !== null) options.where = opts.where
  if (opts.select !== null) options.select = opts.select
  if (opts.maxLineBytes !== null) options.maxLineBytes = opts.maxLineBytes
  try {
    return new NdjsonParser(options)
  } catch (err) {
    // The parser checks --max-line's range (one check, the library's).
    if (/"options\.maxLineBytes"/.test(err.message)) {
      const bounds = /must be (.*?)\. Received/.exec(err.message)?.[1] ?? err.message
      throw new UsageError(`--max-line: ${opts.maxLineBytes} bytes is out of range (${bounds} bytes)`)
    }
    // Otherwise only --where/--select can make a parser refuse what parseArguments accepted: a
    // bad expression or path. The message names the flag, not the option it became.
    const where = /^The "options\.where[^"]*" (?:expression|option) is invalid(.*)$/s.exec(err.message)
    if (where !== null) throw new UsageError(`--where: the expression is invalid${where[1]}`)
    const select = /^The "options\.select\[(\d+)\]" path is invalid(.*)$/s.exec(err.message)
    if (select !== null) {
      const [, i, rest] = select
      // A long path is cut where it is shown (a 30,000-step one made a 60 KB message); the
      // column still says where.
      const path = opts.select[i]
      const shown = path.length > SHOWN_PATH_CHARS ? `${path.slice(0, SHOWN_PATH_CHARS - 1)}…` : path
      throw new UsageError(`--select: path ${Number(i) + 1} of ${opts.select.length} ('${shown}') is invalid${rest.replace(/ \('.*'\)$/s, '')}`)
    }
    throw err
  }
}

/** The most of a --select path a usage error repeats. */
const SHOWN_PATH_CHARS = 120

/**
 * Builds the stages (throwing UsageError or an input error); returns the function that runs them.
 * `opened.input`: the input, once it is open.
 */
function setUp (opts, opened) {
  // Arguments first (exit 2), then the input (exit 1): a failed run creates no log file.
  const parser = opts.ndjson ? createParser(opts) : null
  const input = openInput(opts.file)
  opened.input = input
  checkOutput(input)
  if (opts.invalidLog !== null) checkInvalidLog(opts.invalidLog, input)
  // A log that cannot be written ends the run: the error goes through the pipeline (by the
  // input, a core stream), named after the log.
  let logFailure = null
  const invalidLog = opts.invalidLog === null
    ? null
    : openInvalidLog(opts.invalidLog, (err) => {
      logFailure = new Error(`--invalid-log ${opts.invalidLog}: ${err.message}`)
      process.nextTick(() => input.stream.destroy(logFailure))
    })
  const interval = opts.intervalMs
  const meterOptions = { interval, halfLifeMs: Math.max(1000, 3 * interval) }
  const read = new Meter({ name: 'read', ...meterOptions, total: opts.size ?? input.size })
  const write = MonitoredWritable.wrap(process.stdout, { name: 'write', ...meterOptions })
  const written = opts.lines ? new WrittenLines(write) : null

  // Which stream an I/O error came from, for a message that names the file or stream.
  const origins = new WeakMap()
  input.stream.on('error', (err) => { if (!origins.has(err)) origins.set(err, input.name) })
  process.stdout.on('error', (err) => { if (!origins.has(err)) origins.set(err, 'standard output') })

  const stages = [input.stream, read]
  const lineRate = opts.rate !== null && opts.rate.unit === 'lines'
  let counter = null
  let pieces = null
  let throttle = null
  let cut = null
  let failure = null
  // Invalid lines reported ('invalid' events handled, each logged): what the display and the
  // summary count, so that they agree with the log. The parser may have found more that had not
  // reached JavaScript when the run stopped: the summary shows those apart.
  let reportedInvalid = 0
  if (parser !== null) {
    // A log on a pipe can fall behind its reader: the parser then waits for it (invalid-log.js).
    if (invalidLog?.canFallBehind) stages.push(new LogGate(invalidLog))
    stages.push(parser)
    if (opts.onInvalid === 'error') stages.push(cut = new Cut())
    if (lineRate) {
      stages.push(new LineBatches(linesPerBatch(opts.rate.perSecond)))
      stages.push(throttle = new Throttle({ objectMode: true, rate: opts.rate.perSecond, cost: batchCost }))
    }
    stages.push(new LineJoiner({ input: lineRate ? 'batches' : 'lines' }))
  } else if (lineRate) {
    stages.push(pieces = new LinePieces({ linesPerPiece: linesPerBatch(opts.rate.perSecond) }))
    stages.push(throttle = new Throttle({ objectMode: true, rate: opts.rate.perSecond, cost: pieceCost }))
    stages.push(new LineJoiner({ input: 'pieces' }))
  } else if (opts.lines) {
    stages.push(counter = new LineCounter())
  }
  if (opts.rate !== null && !lineRate) stages.push(throttle = new Throttle({ rate: opts.rate.perSecond }))
  stages.push(write)

  if (parser !== null) {
    parser.on('invalid', (info) => {
      if (cut?.isCut) return
      reportedInvalid++
      if (invalidLog !== null) invalidLog.add(info)
      if (cut === null) return
      // --on-invalid error: every line before this one has been read from the parser (an
      // 'invalid' event waits for that); they are written, and then the run fails with the
      // parser's own error for this line. The pipeline is ended by destroying the cut, which
      // holds the lines after it (or, when this was the last line, it finishes on its own).
      cut.cut()
      failure = new NdjsonError(info.code, info)
      const fail = () => cut.destroy(failure)
      if (write.writableFinished) fail()
      else write.once('finish', fail)
    })
  }

  // The run's end waits for the reader of a log on a pipe (after the output has finished, so its
  // meter's clock has stopped): that time counts in the elapsed time shown and summarized.
  let logWaitStart = null
  let logWaitEnd = null
  const logWaitedMs = () => logWaitStart === null ? 0 : (logWaitEnd ?? performance.now()) - logWaitStart

  const linesIn = () => {
    if (parser !== null) return parser.stats().lines
    if (counter !== null) return counter.lines
    return pieces === null ? null : pieces.lines
  }

  /**
   * Everything the display shows, from the stages' own measurements. `last`: the run is over
   * (finished, failed or stopped by a signal); `w`, the output meter's snapshot the summary shows
   * too (the mean of a run stopped by a signal falls while time passes between two).
   */
  function sample (last = false, w = write.stats()) {
    const r = read.stats()
    // Past the size given (--size smaller than the input, a file that grew): no percent or ETA
    // rather than a 100% that means nothing.
    const beyond = r.total !== null && r.bytes > r.total
    return {
      elapsedMs: w.elapsedMs + logWaitedMs(),
      bytes: r.bytes,
      // Once the run is over or the output has finished, the run's mean, as pv's last line shows:
      // the last interval is a partial one (and after an input that went quiet, or before a
      // Ctrl-C, 0 B/s). The stream's flag, as stats() snapshots have none.
      rate: last || write.writableFinished ? w.averageRate : w.currentRate,
      lines: linesIn(),
      percent: beyond ? null : r.percent,
      eta: beyond ? null : r.eta,
      invalidLines: reportedInvalid,
      blockedMs: w.blockedMs,
      logWaiting: !last && logWaitStart !== null && logWaitEnd === null
    }
  }

  /**
   * `w` is the output meter's last snapshot, as `handedOver` left it; `unsent`, what stdout still
   * held when a signal stopped the run (null otherwise).
   */
  function summary (status, exitCode, error, signal, w, unsent) {
    const r = read.stats()
    let lines = null
    if (written !== null) {
      lines = written.lines
      if (unsent !== null) lines += written.newlinesTaken(written.pendingBytes - unsent)
      // A last line without a newline counts once the output is complete, as LineCounter's.
      if (write.writableFinished && written.openLine) lines++
    }
    return {
      status,
      exitCode,
      error: error ?? null,
      signal: signal ?? null,
      durationMs: w.elapsedMs + logWaitedMs(),
      input: { name: input.name, bytes: r.bytes, size: r.total, lines: linesIn() },
      output: { bytes: w.bytes, lines },
      // min/max are of whole intervals, the mean of the whole run (its start and a last partial
      // interval included), so the mean can fall outside them: they are widened to include it.
      rate: {
        unit: 'bytes/s',
        intervalMs: interval,
        min: w.minRate === null ? null : Math.min(w.minRate, w.averageRate),
        mean: w.averageRate,
        max: w.maxRate === null ? null : Math.max(w.maxRate, w.averageRate)
      },
      invalidLines: parser === null ? null : reportedInvalid,
      invalidPending: parser === null ? null : Math.max(0, parser.stats().invalidLines - reportedInvalid),
      blankLines: parser === null ? null : parser.stats().blankLines,
      // Valid lines --where dropped: null without --where, as for every count of a stage that did
      // not run (the parser reports 0 for a --select alone, which filters nothing).
      filteredLines: parser === null || opts.where === null ? null : parser.stats().filteredLines,
      blockedMs: w.blockedMs,
      throttledMs: throttle === null ? null : throttle.stats().waitedMs
    }
  }

  const showProgress = opts.progress ?? process.stderr.isTTY === true
  const display = showProgress ? new ProgressDisplay(process.stderr, process.stderr.isTTY === true) : null
  if (display !== null) write.on('stats', () => display.update(sample()))
  // `kill -USR1`, as dd answers it: the progress so far, now (redrawn in place on a terminal that
  // shows it, else one plain line). bin/sluice.js keeps the signal from starting Node's inspector.
  const statusDisplay = display ?? new ProgressDisplay(process.stderr, false)
  const onStatus = () => statusDisplay.update(sample())

  /** The last word: the display's final state, the log flushed and closed, the summary. */
  function finish (status, error, signal) {
    process.off('SIGUSR1', onStatus)
    const logError = invalidLog === null ? null : invalidLog.close()
    if (logError !== null) {
      // The log's last write (or its close) failed: the run has failed too. (The write may have
      // failed inside close() itself, whose onError has then just set logFailure.)
      if (logFailure === null) logFailure = new Error(`--invalid-log ${opts.invalidLog}: ${logError.message}`)
      // The records reported that are not in the log (from the failed write on: on a pipe, all
      // that its reader had not taken when it went away) are named, as after a signal.
      const unwritten = reportedInvalid - invalidLog.written
      const logMessage = unwritten > 0 && logError.code !== 'ERR_LOG_BEHIND'
        ? `${logFailure.message} (${unwritten} of ${reportedInvalid} records not written)`
        : logFailure.message
      if (status === 'done') status = 'error'
      if (error === undefined || error === logFailure.message) error = logMessage
      else process.stderr.write(`sluice: ${printable(logMessage)}\n`)
    }
    const exitCode = signal === undefined ? EXIT[status] : 128 + signals[signal]
    // After a signal, process.exit() discards what stdout still holds: the output counts only
    // what was handed to the OS (its bytes, its mean rate, its lines: those of the writes stdout
    // confirmed and of the part of the one in progress that the OS took).
    const unsent = signal === undefined ? null : unsentBytes(process.stdout)
    const w = handedOver(write.stats(), unsent)
    if (display !== null) display.finish(sample(true, w))
    // One line, shown and summarized alike, whatever the file names in it hold.
    if (error !== undefined) {
      error = printable(error)
      process.stderr.write(`sluice: ${error}\n`)
    }
    if (opts.stats !== null) process.stderr.write(formatSummary(summary(status, exitCode, error, signal, w, unsent), opts.stats))
    return exitCode
  }

  return async function run () {
    process.on('SIGUSR1', onStatus)
    for (const signal of STOP_SIGNALS) {
      process.once(signal, () => {
        // The log is written synchronously, so it is complete when finish() returns. Then the
        // process dies of the signal itself, as cat or sort do (its handler is gone: `once`), so
        // that a shell running sluice in a loop stops on Ctrl-C instead of going on to the next
        // round, as it does for a child that exits with a status of its own; the shell still
        // reports 128 + the signal. process.exit() is the fallback if the signal is not fatal:
        // stages still waiting (a throttle, a blocked write) must not hold the exit back.
        const code = finish('interrupted', undefined, signal)
        restoreBlockingStdio(opts.file === null)
        process.kill(process.pid, signal)
        process.exit(code)
      })
    }
    let error = null
    try {
      await pipeline(stages)
    } catch (err) {
      error = err
    }
    // A log on a pipe may still hold records its reader has not taken: the run ends once they
    // are written (a signal meanwhile ends it with what was not).
    if (invalidLog !== null) {
      invalidLog.flush()
      if (invalidLog.behind) {
        // The output has finished, so the display has stopped: one line says what holds the end.
        logWaitStart = performance.now()
        if (display !== null) display.update(sample())
        await invalidLog.caughtUp()
        logWaitEnd = performance.now()
      }
    }
    if (logFailure !== null) return finish('error', logFailure.message)
    if (error !== null && error.code === 'EPIPE') return finish('closed')
    if (error !== null || failure !== null) return finish('error', describeError(failure ?? error, input.name, origins))
    return finish('done')
  }
}

/**
 * libuv made the stdio pipes non-blocking, and they are shared with the processes around sluice
 * (the next command of a shell's `{ sluice; cat; }` reads the same pipe): Node puts the flags back
 * on its way out, which a death by signal skips, and the others then failed with EAGAIN. Blocking
 * again, as before sluice ran (a terminal is not shared: libuv reopens it). Standard input only
 * if it was read: reading process.stdin now would open it, and make it non-blocking first.
 */
function restoreBlockingStdio (readStdin) {
  for (const stream of readStdin ? [process.stdin, process.stdout, process.stderr] : [process.stdout, process.stderr]) {
    try {
      stream._handle?.setBlocking?.(true)
    } catch {
      // Closed already: nothing left to restore.
    }
  }
}

/**
 * The output meter's snapshot `w` less the `unsent` bytes stdout still holds (null: none): its
 * bytes, and its mean rate over the same time (the run's elapsed time is the meter's either way).
 */
function handedOver (w, unsent) {
  if (unsent === null || unsent === 0) return w
  const bytes = w.bytes - unsent
  return { ...w, bytes, averageRate: w.bytes > 0 ? w.averageRate * (bytes / w.bytes) : 0 }
}

/**
 * The bytes `stream` (stdout) holds that the OS has not taken: its buffered chunks, and of the
 * write in progress the part still in libuv's queue (the handle's writeQueueSize; without a
 * handle, all of it).
 */
function unsentBytes (stream) {
  let bytes = 0
  for (const { chunk } of stream.writableBuffer ?? []) bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
  const inFlight = stream.writableLength - bytes
  const queued = stream._handle?.writeQueueSize
  return bytes + (typeof queued === 'number' ? Math.min(queued, inFlight) : inFlight)
}

function openInvalidLog (path, onError) {
  try {
    return new InvalidLog(path, onError)
  } catch (err) {
    // An I/O error (exit 1), as a log that fails later: named as that one is.
    throw new InputError(`--invalid-log ${path}: ${systemMessage(err)}`)
  }
}

/** One line naming where the error happened: the input (its name), standard output, the log. */
function describeError (err, inputName, origins) {
  if (err.name === 'NdjsonError') return `${inputName}: ${err.message}`
  const origin = origins.get(err)
  return origin === undefined ? err.message : `${origin}: ${err.message}`
}

module.exports = { main }
