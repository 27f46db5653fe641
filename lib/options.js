'use strict'

// Option validation shared by every sluice class. It runs in the constructor, before any native
// handle exists, so a bad option is a synchronous TypeError/RangeError that names the option
// (`options.maxLineBytes`), in the style of Node core's validators; the native side only ever
// sees clean values.

const { inspect } = require('node:util')

/**
 * `name` is an option (`options.maxLineBytes`, `options.select[2]`) or else an argument of a
 * method or constructor (`options` itself, `setTotal(total)`'s total, `write(chunk)`'s chunk),
 * and the message calls it that.
 */
function typeError (name, expected, value) {
  const what = name.startsWith('options.') ? 'option' : 'argument'
  const err = new TypeError(`The "${name}" ${what} must be ${expected}. Received ${describe(value)}`)
  err.code = 'ERR_INVALID_ARG_TYPE'
  return err
}

function rangeError (name, expected, value) {
  // A number as core's own ERR_OUT_OF_RANGE shows it ("Received -1", "-0", "1_099_511_627_776"),
  // not as a wrong type.
  const received = typeof value === 'number' ? showNumber(value) : describe(value)
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${expected}. Received ${received}`)
  err.code = 'ERR_OUT_OF_RANGE'
  return err
}

/** A number as core's ERR_OUT_OF_RANGE shows one: integers past 2^32 with `_` between thousands. */
function showNumber (value) {
  if (!Number.isInteger(value) || Math.abs(value) <= 2 ** 32) return inspect(value)
  const digits = String(value)
  const first = digits.startsWith('-') ? 1 : 0
  let end = digits.length
  let grouped = ''
  for (; end >= first + 4; end -= 3) grouped = `_${digits.slice(end - 3, end)}${grouped}`
  return digits.slice(0, end) + grouped
}

/** A string as core's messages show one: quoted, control characters escaped ('\\r', not a line break). */
function quote (text) {
  return inspect(text)
}

function describe (value) {
  // As core's validators word them: 'Received undefined', 'Received null'.
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'string') return quote(value.length > 40 ? value.slice(0, 40) + '…' : value)
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`
  if (typeof value === 'symbol') return value.toString()
  return `type ${typeof value} (${String(value)})`
}

/**
 * Checks that `options` is an object with no own keys outside `known`; returns a copy of the
 * known options it sets (those not undefined). Keys in `unset` are allowed while undefined (not
 * set, as core reads an undefined option): the options a Web face refuses when set.
 */
function validateOptionsObject (options, className, known, unset = []) {
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw typeError('options', 'an object', options)
  }
  // A misspelt option is refused; only own keys are checked, since an instance of a class of
  // options inherits methods and more that are no options.
  for (const key of Object.keys(options)) {
    if (!known.includes(key) && !(unset.includes(key) && options[key] === undefined)) {
      const err = new TypeError(`Unknown option "options.${key}" for ${className}. Known options: ${known.join(', ')}`)
      err.code = 'ERR_INVALID_ARG_VALUE'
      throw err
    }
  }
  // Read as core reads its options (`options.highWaterMark`): an inherited option or a getter
  // counts, as it does for `new Transform(options)`; copying own properties only ignored them.
  const copy = {}
  for (const key of known) {
    const value = options[key]
    if (value !== undefined) copy[key] = value
  }
  return copy
}

/** Whether `options` (an object, or anything) sets `key`, read as validateOptionsObject reads it. */
function setsOption (options, key) {
  return options !== null && typeof options === 'object' && options[key] !== undefined
}

/**
 * Refuses `options[key]` when it is set (not undefined) where another option leaves it without
 * effect (`why` names that option and says why): a TypeError naming it, rather than a setting
 * that silently does nothing.
 */
function refuseWith (options, key, why) {
  if (options[key] === undefined) return
  const err = new TypeError(`The "options.${key}" option cannot be used with ${why}`)
  err.code = 'ERR_INVALID_ARG_VALUE'
  throw err
}

function validateOneOf (options, key, allowed, fallback) {
  const value = options[key]
  if (value === undefined) return fallback
  if (!allowed.includes(value)) {
    const err = new TypeError(`The "options.${key}" option must be one of ${allowed.map(quote).join(', ')}. Received ${describe(value)}`)
    err.code = 'ERR_INVALID_ARG_VALUE'
    throw err
  }
  return value
}

/** An encoding `Buffer` knows (`defaultEncoding` of a Writable), named as `Buffer.isEncoding` takes it. */
function validateEncoding (options, key) {
  const value = options[key]
  if (typeof value !== 'string') throw typeError(`options.${key}`, 'a string', value)
  if (!Buffer.isEncoding(value)) {
    const err = new TypeError(`The "options.${key}" option must be an encoding Buffer knows ('utf8', 'hex', 'base64', …). Received ${describe(value)}`)
    err.code = 'ERR_INVALID_ARG_VALUE'
    throw err
  }
  return value
}

/** An integer in [min, max]; `Infinity` too when `allowInfinity`. */
function validateInteger (options, key, min, max, fallback, { allowInfinity = false } = {}) {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw typeError(`options.${key}`, 'a number', value)
  if (allowInfinity && value === Infinity) return value
  if (!Number.isInteger(value) || value < min || value > max) {
    const bound = `an integer >= ${min} and <= ${max}${allowInfinity ? ', or Infinity' : ''}`
    throw rangeError(`options.${key}`, bound, value)
  }
  return value
}

/**
 * A number above `min` (or at least `min` with `inclusive`), finite unless `allowInfinity`. NaN
 * and non-numbers are refused by name: a rate of NaN must never mean "no limit".
 */
function validateNumber (options, key, { min = 0, inclusive = false, max = Infinity, allowInfinity = false, fallback, name = `options.${key}` } = {}) {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw typeError(name, 'a number', value)
  if (allowInfinity && value === Infinity) return value
  const ok = Number.isFinite(value) && (inclusive ? value >= min : value > min) && value <= max
  if (!ok) {
    const upTo = max === Infinity ? '' : ` and <= ${max}`
    const bound = `a finite number ${inclusive ? '>=' : '>'} ${min}${upTo}${allowInfinity ? ', or Infinity' : ''}`
    throw rangeError(name, bound, value)
  }
  return value
}

function validateBoolean (options, key, fallback) {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw typeError(`options.${key}`, 'a boolean', value)
  return value
}

function validateFunction (options, key) {
  const value = options[key]
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw typeError(`options.${key}`, 'a function', value)
  return value
}

/** The options every sluice stream passes straight to its core stream class. */
const STREAM_OPTIONS = ['highWaterMark', 'readableHighWaterMark', 'writableHighWaterMark', 'signal']

function pickStreamOptions (options) {
  const picked = {}
  for (const key of ['highWaterMark', 'readableHighWaterMark', 'writableHighWaterMark']) {
    if (options[key] !== undefined) picked[key] = validateInteger(options, key, 0, 2 ** 31 - 1)
  }
  const signal = options.signal
  if (signal !== undefined) {
    // As core's check, and an addEventListener where core then calls it, i.e. unless it is
    // aborted already (a look-alike without one failed there with a TypeError naming no option).
    if (signal === null || typeof signal !== 'object' || !('aborted' in signal) ||
      (!signal.aborted && typeof signal.addEventListener !== 'function')) {
      throw typeError('options.signal', 'an instance of AbortSignal', signal)
    }
    picked.signal = signal
  }
  return picked
}

module.exports = {
  STREAM_OPTIONS,
  pickStreamOptions,
  rangeError,
  refuseWith,
  setsOption,
  typeError,
  validateBoolean,
  validateEncoding,
  validateFunction,
  validateInteger,
  validateNumber,
  validateOneOf,
  validateOptionsObject
}
