'use strict'

// BoundedBuffer in 'block' mode as contract components (see ../index.js): nothing is lost, so
// what goes in comes out unchanged and in order. Two byte buffers (the default 1 MiB, and a
// small one counted in chunks that is full most of the time) and one of objects.

const { BoundedBuffer } = require('../../..')
const { byteStream, objectBulk, objectStream } = require('./runs.js')

/**
 * One object stands for 16 of the contract's units here: still hundreds to hundreds of thousands
 * of objects, far beyond the 64 the buffer holds.
 */
const objectBulk16 = (size) => objectBulk(size, 16)

module.exports = [
  {
    ...byteStream,
    module: __filename,
    name: 'BoundedBuffer (bytes, default capacityBytes)',
    create: (options) => new BoundedBuffer({ ...options })
  },
  {
    ...byteStream,
    module: __filename,
    name: 'BoundedBuffer (bytes, capacity 4 chunks)',
    create: (options) => new BoundedBuffer({ ...options, capacity: 4 })
  },
  {
    ...objectStream,
    module: __filename,
    name: 'BoundedBuffer (objects, capacity 64)',
    create: (options) => new BoundedBuffer({ ...options, objectMode: true, capacity: 64 }),
    // Stalled with its readable buffer, its ring and its writable buffer full: about 100 objects.
    bulk: objectBulk16
  }
]
