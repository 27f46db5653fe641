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
 * structure, a BigInt, a toJSON or replacer that gave undefined or threw, a line longer than V8's
 * longest string): which value it was (`index`, from 0 among the values written), why, and the
 * value.
 */
class UnserializableError extends SluiceError {
  constructor ({ index, reason, value }) {
    super('ERR_SLUICE_UNSERIALIZABLE', `Cannot write value ${index} as an NDJSON line: ${reason}`, { index, reason, value })
    this.name = 'UnserializableError'
  }
}

/**
 * The UnserializableError for a value, with what was thrown as its `cause`. `skipped` (not
 * enumerable, not part of the documented error) tells the encoder's caller whether the 'skip'
 * policy counted it (announce it, go on) or the stream fails with it.
 */
function unserializableError ({ index, reason, value, cause, skipped }) {
  const err = new UnserializableError({ index, reason, value })
  if (cause !== undefined) err.cause = cause
  Object.defineProperty(err, 'skipped', { value: skipped, writable: true, configurable: true })
  return err
}

/**
 * String(value), except that it never throws: a null-prototype object, a throwing toString or
 * Symbol.toPrimitive, a revoked Proxy are described by their type instead. Anything a user's code
 * threw or returned is described with it (or describeThrown): building an error message must not
 * throw out of a stream method in place of the error it describes.
 */
function safeString (value) {
  try {
    return String(value)
  } catch {}
  try {
    return `[${Object.prototype.toString.call(value).slice(8, -1)} with no string form]`
  } catch {}
  return `[${typeof value} with no string form]`
}

/** A thrown value's message (an Error's, or any object's `message`), else the value itself, as text; never throws. */
function describeThrown (thrown) {
  let message
  try {
    message = thrown?.message
  } catch {}
  return safeString(message ?? thrown)
}

/**
 * Turns anything thrown into an Error worth destroying a stream with: `destroy(undefined)` would
 * end it quietly, as if nothing had gone wrong.
 */
function asError (thrown, code, what, where) {
  if (isError(thrown)) return thrown
  // `where`: the input line it threw on ({ line, offset }), in the message and as fields.
  const at = where === undefined ? '' : ` (line ${where.line}, byte offset ${where.offset})`
  return new SluiceError(code, `${what} threw a non-error: ${describeThrown(thrown)}${at}`, { cause: thrown, ...where })
}

/** `value instanceof Error`, false where even asking throws (a Proxy whose getPrototypeOf trap throws). */
function isError (value) {
  try {
    return value instanceof Error
  } catch {
    return false
  }
}

/** An error from the native addon (its `code` is N-API's, e.g. 'GenericFailure'), given a sluice code. */
function nativeError (err) {
  return new SluiceError('ERR_SLUICE_NATIVE', `sluice native call failed: ${describeThrown(err)}`, { cause: err })
}

/** Core's error for a `method` ('write', 'end') called on a destroyed stream (same code and message; its class is internal). */
function destroyedError (method) {
  const err = new Error(`Cannot call ${method} after a stream was destroyed`)
  err.code = 'ERR_STREAM_DESTROYED'
  return err
}

module.exports = { NdjsonError, SluiceError, UnserializableError, asError, describeThrown, destroyedError, nativeError, safeString, unserializableError }
