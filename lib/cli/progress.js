'use strict'

// What the command shows on stderr: the progress display and the final summary. Both are pure
// formatting of a `sample` the pipeline takes from its meters (lib/cli/index.js: sample());
// nothing here measures anything.
//
// On a terminal the progress line is redrawn in place ('\r', the line, then "erase to end of
// line", so a shorter line leaves no tail of the longer one); elsewhere (a log file, a pipe) each
// refresh is a line of its own. The display never writes to stdout: that is the data.

const { formatBytes, formatRate } = require('../meter.js')

const CLEAR_TO_END = '\x1b[K'
const BAR_MIN = 10
const BAR_MAX = 50

/** H:MM:SS, as pv shows elapsed time and ETA. */
function formatClock (seconds) {
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

function formatSeconds (ms) {
  return `${(ms / 1000).toFixed(2)} s`
}

function formatCount (n) {
  return Math.round(n).toLocaleString('en-US')
}

function lines (n) {
  return `${formatCount(n)} ${n === 1 ? 'line' : 'lines'}`
}

/**
 * The parts of one progress line: elapsed time, bytes read, current rate, lines, percent and
 * ETA (when the size is known), time the output blocked, a log that holds the run's end back
 * (`logWaiting`). `width`: the terminal's columns, for a
 * bar that fills what is left (no bar without a width or a known size).
 */
function formatProgress (sample, width) {
  const head = [formatClock(sample.elapsedMs / 1000), formatBytes(sample.bytes), `[${formatRate(sample.rate, 'bytes')}]`]
  if (sample.lines !== null) head.push(lines(sample.lines))
  const tail = []
  if (sample.percent !== null) {
    tail.push(`${Math.floor(sample.percent)}%`)
    tail.push(`ETA ${sample.eta === null ? '-:--:--' : formatClock(sample.eta)}`)
  }
  if (sample.invalidLines > 0) tail.push(`${formatCount(sample.invalidLines)} invalid`)
  tail.push(`blocked ${formatSeconds(sample.blockedMs)}`)
  if (sample.logWaiting) tail.push('waiting for the --invalid-log reader')
  const text = [...head, ...tail].join(' ')
  if (sample.percent === null || width === undefined) return text
  const room = width - text.length - 4
  if (room < BAR_MIN) return text
  return [...head, bar(sample.percent / 100, Math.min(room, BAR_MAX)), ...tail].join(' ')
}

function bar (fraction, width) {
  const inner = width - 2
  const done = Math.max(0, Math.min(inner, Math.floor(fraction * inner)))
  if (done === inner) return `[${'='.repeat(inner)}]`
  return `[${'='.repeat(done)}>${' '.repeat(inner - done - 1)}]`
}

class ProgressDisplay {
  /** `stream`: where to draw (stderr); `live`: redraw in place (a terminal). */
  constructor (stream, live) {
    this.stream = stream
    this.live = live
    this.drawn = false
  }

  update (sample) {
    // The terminal's width is read at every redraw (Node updates `columns` on SIGWINCH); the
    // line is cut to it, as a wrapped line could not be redrawn in place.
    const width = this.live ? (this.stream.columns || 80) - 1 : undefined
    const text = formatProgress(sample, width)
    if (this.live) this.stream.write(`\r${text.slice(0, Math.max(width, 1))}${CLEAR_TO_END}`)
    else this.stream.write(`sluice: ${text}\n`)
    this.drawn = true
  }

  /** The last state, and the cursor left on a fresh line for whatever comes next. */
  finish (sample) {
    this.update(sample)
    if (this.live) this.stream.write('\n')
  }
}

/**
 * The final summary, as text (a few aligned lines) or as one JSON line (see README: the fields).
 */
function formatSummary (summary, format) {
  // JSON.stringify escapes C0 controls; DEL and C1 (in a file name) are escaped too, the same
  // string to a JSON reader, and no \x9b (CSI) for a terminal.
  if (format === 'json') return `${JSON.stringify(summary).replace(/[\x7f-\x9f]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}\n`
  const s = summary
  const status = s.signal === null ? s.status : `${s.status} (${s.signal})`
  const text = [`sluice: ${status} in ${formatSeconds(s.durationMs)} (exit ${s.exitCode})${s.error === null ? '' : `: ${s.error}`}`]
  // "1,500 of 2,000 bytes (1.5 KiB), 20 lines": of the input's size, when it is known.
  const counted = (side) => `${formatCount(side.bytes)}${side.size == null ? '' : ` of ${formatCount(side.size)}`} bytes (${formatBytes(side.bytes)})${side.lines === null ? '' : `, ${lines(side.lines)}`}`
  text.push(`  input    ${counted(s.input)}`)
  text.push(`  output   ${counted(s.output)}`)
  const rate = (r) => (r === null ? 'n/a' : formatRate(r, 'bytes'))
  text.push(`  rate     min ${rate(s.rate.min)}, mean ${rate(s.rate.mean)}, max ${rate(s.rate.max)} (output, per ${formatSeconds(s.rate.intervalMs)})`)
  if (s.invalidLines !== null) {
    const pending = s.invalidPending > 0 ? ` (and ${formatCount(s.invalidPending)} found but not yet reported when the run stopped)` : ''
    text.push(`  invalid  ${lines(s.invalidLines)}${pending}`)
  }
  if (s.filteredLines !== null) text.push(`  filtered ${lines(s.filteredLines)} (--where)`)
  text.push(`  blocked  ${formatSeconds(s.blockedMs)} (output)${s.throttledMs === null ? '' : `, throttled ${formatSeconds(s.throttledMs)}`}`)
  return `${text.join('\n')}\n`
}

// Control characters: C0, DEL and C1 (a terminal takes \x9b as ESC [).
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g
const NAMED_CONTROLS = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * `text` with its control characters escaped (\n, \r, \t, else \xHH), as a file name in an
 * error message may hold them: the message stays one line, and no escape sequence in a name
 * reaches the terminal.
 */
function printable (text) {
  return text.replace(CONTROL, (c) => NAMED_CONTROLS[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

module.exports = { ProgressDisplay, formatProgress, formatSummary, printable }
