'use strict'

// Throttle and ThrottleGroup members as contract components (see ../index.js): what goes in
// comes out, unchanged and in order, at a rate high enough for the contract's multi-MiB runs to
// take well under a second, yet low enough that those runs exhaust the burst and wait for
// tokens (the path that holds chunks and is released by the Rust timer).

const { Throttle, ThrottleGroup } = require('../../..')
const { byteStream, objectStream } = require('./runs.js')

const BYTES_PER_S = 64 * 1024 * 1024
const ITEMS_PER_S = 2_000_000

let group = null
function sharedGroup () {
  group ??= new ThrottleGroup({ rate: BYTES_PER_S })
  return group
}

module.exports = [
  {
    ...byteStream,
    module: __filename,
    name: 'Throttle (bytes)',
    create: (options) => new Throttle({ ...options, rate: BYTES_PER_S })
  },
  {
    ...byteStream,
    module: __filename,
    name: 'ThrottleGroup member (bytes)',
    create: (options) => sharedGroup().throttle({ ...options })
  },
  {
    ...objectStream,
    module: __filename,
    name: 'Throttle (objects)',
    create: (options) => new Throttle({ ...options, rate: ITEMS_PER_S, objectMode: true })
  }
]
