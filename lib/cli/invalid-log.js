'use strict'

// --invalid-log FILE: one JSON line per invalid input line, { line, offset, code, reason,
// excerpt }, in input order. Records are collected and written synchronously, 64 KiB at a time
// and at the end of every event-loop turn that added some: the log can never fall behind by
// more than that (an input of nothing but invalid lines does not pile records up in memory) and
// everything reported before an exit, even process.exit() on a signal, is in the file once
// close() has returned.
//
// A write that fails (a full disk, an I/O error) is never thrown from here: the first error is
// kept, reported once to `onError` (the command ends the run with it), and later records are
// dropped. `written` counts the records that reached the file.

const fs = require('node:fs')

const FLUSH_BYTES = 64 * 1024

class InvalidLog {
  /** Opens (truncates) `path`; throws if it cannot be opened. */
  constructor (path, onError) {
    this.path = path
    this.fd = fs.openSync(path, 'w')
    this.onError = onError
    this.error = null
    this.pending = []
    this.size = 0
    this.written = 0
    this.scheduled = false
    this.flushLater = () => {
      this.scheduled = false
      this.flush()
    }
  }

  add ({ line, offset, code, reason, excerpt }) {
    if (this.error !== null) return
    const record = `${JSON.stringify({ line, offset, code, reason, excerpt })}\n`
    this.pending.push(record)
    this.size += record.length
    if (this.size >= FLUSH_BYTES) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flushLater)
    }
  }

  flush () {
    if (this.pending.length === 0 || this.fd === null || this.error !== null) return
    const records = this.pending.length
    const bytes = Buffer.from(this.pending.join(''))
    this.pending = []
    this.size = 0
    try {
      for (let done = 0; done < bytes.length;) done += fs.writeSync(this.fd, bytes, done)
      this.written += records
    } catch (err) {
      this.error = err
      this.onError(err)
    }
  }

  /** Writes what is pending and closes the file; returns the log's error, or null. */
  close () {
    if (this.fd !== null) {
      this.flush()
      try {
        fs.closeSync(this.fd)
      } catch (err) {
        if (this.error === null) this.error = err
      }
      this.fd = null
    }
    return this.error
  }
}

module.exports = { InvalidLog }
