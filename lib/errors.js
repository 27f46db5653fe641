'use strict'

// Errors sluice hands to users. They are created here, in JS, so they belong to the user's realm:
// `err instanceof Error` holds inside jest tests too (an Error made by the addon would come from
// the outer realm; research/tooling.md, pitfall 11). Every error has a stable `code`.

/** A stream-ending error from the native side (a panic, an internal failure). */
class SluiceError extends Error {
  constructor (code, message, details) {
    super(message)
    this.name = 'SluiceError'
    this.code = code
    if (details !== undefined) Object.assign(this, details)
  }
}

/** An invalid NDJSON line that ends the stream: where it is, what it looks like, what is wrong. */
class NdjsonError extends SluiceError {
  constructor (code, { line, offset, excerpt, reason }, message) {
    super(code, message ?? `Invalid NDJSON at line ${line} (byte offset ${offset}): ${reason}: ${JSON.stringify(excerpt)}`, {
      line, offset, excerpt, reason
    })
    this.name = 'NdjsonError'
  }
}

module.exports = { NdjsonError, SluiceError }
