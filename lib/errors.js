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

/**
 * A value NdjsonStringifier cannot write as a line (undefined, a function, a symbol, a circular
 * structure, a BigInt, a toJSON or replacer that gave undefined or threw): which value it was
 * (`index`, from 0 among the values written), why, and the value. `skipped` says whether the
 * stream skipped it ('skip' policy) or fails with it.
 */
function unserializableError ({ index, reason, value, cause, skipped }) {
  const err = new SluiceError('ERR_SLUICE_UNSERIALIZABLE', `Cannot write value ${index} as an NDJSON line: ${reason}`, { index, reason, value, skipped })
  if (cause !== undefined) err.cause = cause
  return err
}

/**
 * Turns anything thrown into an Error worth destroying a stream with: `destroy(undefined)` would
 * end it quietly, as if nothing had gone wrong.
 */
function asError (thrown, code, what) {
  if (thrown instanceof Error) return thrown
  return new SluiceError(code, `${what} threw a non-error: ${String(thrown)}`, { cause: thrown })
}

/** An error from the native addon (its `code` is N-API's, e.g. 'GenericFailure'), given a sluice code. */
function nativeError (err) {
  return new SluiceError('ERR_SLUICE_NATIVE', `sluice native call failed: ${err?.message ?? String(err)}`, { cause: err })
}

module.exports = { NdjsonError, SluiceError, asError, nativeError, unserializableError }
