'use strict'

// --invalid-log FILE: one JSON line per invalid input line, { line, offset, code, reason,
// excerpt }, in input order. Records are collected and written 64 KiB at a time and at the end
// of every event-loop turn that added some: an input of nothing but invalid lines does not pile
// records up in memory.
//
// A regular file (or a device) is written synchronously: everything reported before an exit,
// even process.exit() on a signal, is in the file once close() has returned. A pipe or FIFO is
// written without blocking (its reader may stop reading, and a JavaScript thread blocked in a
// write runs no signal handler: Ctrl-C could not end the run): what the pipe refuses is kept,
// oldest first, and offered again on a timer, whole records at a time within PIPE_BUF (atomic,
// so never cut by another writer of the pipe); while any is kept the log is `behind`, and the
// command holds the parser's input (LogGate) and waits for `caughtUp()` before it ends. close()
// on a signal writes what the pipe takes and names the records it did not.
//
// A write that fails (a full disk, an I/O error, a reader gone: EPIPE) is never thrown from here:
// the first error is kept, reported once to `onError` (the command ends the run with it), and
// later records are dropped. `written` counts the records that reached the file.

const fs = require('node:fs')
const { Transform } = require('node:stream')
const { countNewlines } = require('./lines.js')

const FLUSH_BYTES = 64 * 1024
// How long a refused write waits to be offered again: from 1 ms, doubling while the reader takes
// nothing, up to 50 ms (a stalled reader costs 20 wake-ups a second).
const RETRY_MIN_MS = 1
const RETRY_MAX_MS = 50
const NEWLINE = 0x0a
// PIPE_BUF on Linux: a write of at most this many bytes to a pipe is atomic (a non-blocking one
// takes all of it or fails with EAGAIN). A pipe is written whole records at a time within it, so
// a record is never cut by what another writer of the pipe writes meanwhile (sluice's own
// progress lines when the log is /dev/stderr), nor left cut short by a signal.
const ATOMIC_BYTES = 4096
const STDERR = 2

class InvalidLog {
  /**
   * Opens (truncates) `path`; throws if it cannot be opened. A FIFO waits for a reader. The
   * regular file standard error is written to (`--invalid-log /dev/stderr 2> errors.txt`) is
   * written through standard error's own descriptor, neither truncated nor reopened: a second
   * descriptor would write from offset 0 of its own, and the messages and the summary written to
   * standard error would overwrite records (or the records, what a `2>>` file held before).
   */
  constructor (path, onError) {
    this.path = path
    this.ownsFd = !isStderrFile(path)
    this.fd = this.ownsFd ? fs.openSync(path, 'w') : STDERR
    this.canFallBehind = false
    if (this.ownsFd && fs.fstatSync(this.fd).isFIFO()) this.reopenNonBlocking()
    this.onError = onError
    this.error = null
    this.pending = []
    this.size = 0
    // Bytes the pipe has not taken yet, oldest first; `headDone` of the first are written.
    this.queue = []
    this.headDone = 0
    // Records taken (add() before any failure) and records that reached the file.
    this.added = 0
    this.written = 0
    this.scheduled = false
    this.flushLater = () => {
      this.scheduled = false
      this.flush()
    }
    this.retryTimer = null
    this.retryMs = RETRY_MIN_MS
    this.retry = () => {
      this.retryTimer = null
      this.flush()
    }
    this.waiters = []
  }

  /**
   * The same pipe, opened again (a new open file description, not shared with any other process
   * or fd) with O_NONBLOCK. Without /proc, or if the reader left meanwhile, the blocking fd stays.
   */
  reopenNonBlocking () {
    let fd
    try {
      fd = fs.openSync(`/proc/self/fd/${this.fd}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)
    } catch {
      return
    }
    fs.closeSync(this.fd)
    this.fd = fd
    this.canFallBehind = true
  }

  /** The pipe holds back some records: the log is behind the invalid lines reported. */
  get behind () {
    return this.queue.length > 0
  }

  add ({ line, offset, code, reason, excerpt }) {
    if (this.error !== null) return
    const record = `${JSON.stringify({ line, offset, code, reason, excerpt })}\n`
    this.added++
    this.pending.push(record)
    this.size += record.length
    if (this.size >= FLUSH_BYTES) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushLater)
    }
  }

  flush () {
    if (this.fd === null || this.error !== null) return
    if (this.pending.length > 0) {
      this.queue.push(Buffer.from(this.pending.join('')))
      this.pending = []
      this.size = 0
    }
    // A retry is due already: the pipe refused moments ago, and this turn's records wait their turn.
    if (this.retryTimer !== null) return
    this.writeQueue()
  }

  /** Writes the queue until it is empty, the pipe refuses (EAGAIN) or a write fails. */
  writeQueue () {
    let progress = false
    while (this.queue.length > 0) {
      const head = this.queue[0]
      const end = this.canFallBehind ? pieceEnd(head, this.headDone) : head.length
      let n
      try {
        n = fs.writeSync(this.fd, head, this.headDone, end - this.headDone)
      } catch (err) {
        if (err.code === 'EAGAIN' && this.canFallBehind) {
          this.retryMs = progress ? RETRY_MIN_MS : Math.min(RETRY_MAX_MS, this.retryMs * 2)
          this.retryTimer = setTimeout(this.retry, this.retryMs)
          return
        }
        this.fail(err)
        return
      }
      progress = true
      this.written += countNewlines(head, this.headDone, this.headDone + n)
      this.headDone += n
      if (this.headDone === head.length) {
        this.queue.shift()
        this.headDone = 0
      }
    }
    this.retryMs = RETRY_MIN_MS
    this.release()
  }

  fail (err) {
    this.error = err
    this.queue = []
    this.headDone = 0
    this.onError(err)
    this.release()
  }

  release () {
    const waiters = this.waiters
    this.waiters = []
    for (const resolve of waiters) resolve()
  }

  /** Resolves once nothing reported is held back (or the log has failed, or closed). */
  caughtUp () {
    this.flush()
    return new Promise((resolve) => this.whenCaughtUp(resolve))
  }

  /** Runs `callback` once the log is not behind (or has failed, or closed): at once if it is not now. */
  whenCaughtUp (callback) {
    if (!this.behind || this.fd === null || this.error !== null) callback()
    else this.waiters.push(callback)
  }

  /**
   * Writes what is pending (what a pipe takes now, without waiting) and closes the file; returns
   * the log's error, or null. Records a pipe did not take are an error that names their number.
   */
  close () {
    if (this.fd !== null) {
      if (this.retryTimer !== null) {
        clearTimeout(this.retryTimer)
        this.retryTimer = null
      }
      this.flush()
      if (this.behind && this.error === null) {
        const head = this.queue[0]
        const cut = this.headDone > 0 && head[this.headDone - 1] !== NEWLINE
        this.error = new Error(`${this.added - this.written} of ${this.added} records not written: the log's reader had not taken them` +
          (cut ? ' (the last record in the log is cut short)' : ''))
        this.error.code = 'ERR_LOG_BEHIND'
        this.queue = []
      }
      try {
        if (this.ownsFd) fs.closeSync(this.fd)
      } catch (err) {
        if (this.error === null) this.error = err
      }
      this.fd = null
      this.release()
    }
    return this.error
  }
}

/**
 * Where the next write to a pipe of `bytes` (whole records, each ending with a newline) from
 * `start` ends: after the last record that ends within ATOMIC_BYTES, or after the first one when
 * it alone is longer (written in as many writes as the pipe makes of it: it can be cut).
 */
function pieceEnd (bytes, start) {
  if (bytes.length - start <= ATOMIC_BYTES) return bytes.length
  const last = bytes.lastIndexOf(NEWLINE, start + ATOMIC_BYTES - 1)
  if (last >= start) return last + 1
  const next = bytes.indexOf(NEWLINE, start)
  return next === -1 ? bytes.length : next + 1
}

/** `path` is the regular file standard error is open on (by /dev/stderr or by any other name). */
function isStderrFile (path) {
  let log, stderr
  try {
    log = fs.statSync(path)
    stderr = fs.fstatSync(STDERR)
  } catch {
    return false
  }
  return log.isFile() && stderr.isFile() && log.dev === stderr.dev && log.ino === stderr.ino
}

/**
 * Holds the parser's input while `log` is behind: the parser then finds no more invalid lines
 * than its own buffers hold, so records a stalled reader has not taken stay bounded.
 */
class LogGate extends Transform {
  constructor (log) {
    super()
    this.log = log
  }

  _transform (chunk, encoding, callback) {
    this.log.whenCaughtUp(() => callback(null, chunk))
  }
}

module.exports = { InvalidLog, LogGate }
