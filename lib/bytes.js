'use strict'

// The bytes a chunk is, as core's streams make them (Buffer.from, decodeStrings), written once
// for every component that counts or charges bytes: Meter and MonitoredWritable count them,
// Throttle's cost 'bytes' charges them, BoundedBuffer's capacityBytes holds them.

const { types: { isAnyArrayBuffer } } = require('node:util')

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
  // Brand checks, which read no property and run no Proxy trap: `instanceof` would call a revoked
  // Proxy's getPrototypeOf (a throw out of a Meter's write() where core takes the item), take
  // an object whose prototype is ArrayBuffer.prototype for a buffer, miss another realm's (a vm
  // context's; jest's test environment makes them), and needs a SharedArrayBuffer global, which
  // --enable-sharedarraybuffer-per-context takes away. util.types costs an object-mode record a
  // call into C++ (a few ns).
  if (ArrayBuffer.isView(chunk) || (typeof chunk === 'object' && chunk !== null && isAnyArrayBuffer(chunk))) return chunk.byteLength
  return -1
}

module.exports = { chunkBytes, stringBytes }
