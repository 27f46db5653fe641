'use strict'

// --invalid-log FILE: one JSON line per invalid input line, { line, offset, code, reason,
// excerpt }, in input order. Records are collected and written synchronously, 64 KiB at a time
// and at the end of every event-loop turn that added some: the log can never fall behind by
// more than that (an input of nothing but invalid lines does not pile records up in memory) and
// everything reported before an exit, even process.exit() on SIGINT, is in the file.

const fs = require('node:fs')

const FLUSH_BYTES = 64 * 1024

class InvalidLog {
  constructor (path) {
    // Opened before the pipeline starts: a log that cannot be written is a usage error, not a
    // failure discovered at the first invalid line.
    this.fd = fs.openSync(path, 'w')
    this.pending = []
    this.size = 0
    this.scheduled = false
    this.flushLater = () => {
      this.scheduled = false
      this.flush()
    }
  }

  add ({ line, offset, code, reason, excerpt }) {
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
    if (this.pending.length === 0 || this.fd === null) return
    const text = this.pending.join('')
    this.pending = []
    this.size = 0
    fs.writeSync(this.fd, text)
  }

  close () {
    if (this.fd === null) return
    this.flush()
    fs.closeSync(this.fd)
    this.fd = null
  }
}

module.exports = { InvalidLog }
