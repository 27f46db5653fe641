'use strict'

// The bytes a chunk is, as core's streams make them (Buffer.from, decodeStrings), written once
// for every component that counts or charges bytes: Meter and MonitoredWritable count them,
// Throttle's cost 'bytes' charges them, BoundedBuffer's capacityBytes holds them (an object-mode
// item by `itemBytes`: as it passes on).

const { types: { isAnyArrayBuffer } } = require('node:util')

/** Undefined where the global is taken away (--enable-sharedarraybuffer-per-context). */
const SharedArrayBufferOfRealm = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : undefined

/** Encodings whose Buffer.byteLength is an estimate from the length alone. */
const ESTIMATED_ENCODINGS = new Set(['hex', 'base64', 'base64url'])

/**
 * The bytes `text` becomes in `encoding` ('buffer' or none: UTF-8), as Buffer.from makes them:
 * for hex and base64, Buffer.byteLength counts characters the decoder drops ('zz' as hex is 1
 * byte there, and none in the Buffer).
 */
function stringBytes (text, encoding) {
  if (encoding === undefined || encoding === null || encoding === 'buffer' || encoding === 'utf8') return Buffer.byteLength(text, 'utf8')
  if (ESTIMATED_ENCODINGS.has(encoding.toLowerCase())) return Buffer.from(text, encoding).length
  return Buffer.byteLength(text, encoding)
}

/**
 * The bytes of a string (in `encoding`), a typed array, a DataView or an ArrayBuffer (of any
 * realm), or -1 for anything else: a record's own `byteLength` field (any number, NaN or
 * negative too) is not its size.
 */
function chunkBytes (chunk, encoding) {
  if (typeof chunk === 'string') return stringBytes(chunk, encoding)
  if (ArrayBuffer.isView(chunk)) return chunk.byteLength
  if (typeof chunk !== 'object' || chunk === null) return -1
  // An ArrayBuffer is told by util.types' brand check, but that is a call into C++ (~6 ns, +12 %
  // on an object-mode wrap() per record), so a record is first sorted out by `instanceof`: an
  // Object of this realm that is no buffer of it. instanceof alone would take an object on
  // ArrayBuffer.prototype (or a Proxy of a buffer) for a buffer, and miss another realm's (a vm
  // context's; jest's test environment makes them): those go to the brand check. It runs a
  // Proxy's getPrototypeOf trap, which may throw (a revoked Proxy): such an item has no bytes.
  try {
    const mayBeBuffer = chunk instanceof ArrayBuffer || !(chunk instanceof Object) ||
      (SharedArrayBufferOfRealm !== undefined && chunk instanceof SharedArrayBufferOfRealm)
    return mayBeBuffer && isAnyArrayBuffer(chunk) ? chunk.byteLength : -1
  } catch {
    return -1
  }
}

/**
 * The bytes of an object-mode item as it passes on (chunkBytes, -1 for other values): core's
 * Transform and Readable pass an object-mode string on unchanged, whatever encoding its write
 * named, so its bytes are the UTF-8 ones a byte stream after it makes of it. Meter, Throttle's
 * cost 'bytes' and BoundedBuffer's capacityBytes measure an item alike, on the way in as at a
 * destroy.
 */
const itemBytes = (item) => chunkBytes(item, 'utf8')

module.exports = { chunkBytes, itemBytes, stringBytes }
