'use strict'

// The Node stream contract every sluice component must keep (shared/DESIGN.md, "The Node stream
// contract"; research/anchors.md §6), as one table of cases run against each component.
//
// Register a component from its spec file:
//
//   const test = require('ava')
//   const { registerContract } = require('./contract')
//   for (const d of require('./contract/components/ndjson.js')) registerContract(test, d)
//
// A descriptor lives in a module of its own under contract/components/ (the child-process cases
// load it again by path in a bare `node` process), and has:
//
//   name                 unique title prefix, e.g. "NdjsonParser({ output: 'lines' })"
//   module               __filename of the module exporting it (an array of descriptors or one)
//   create(options)      a new stream; `options` holds only core stream options (highWaterMark,
//                        readableHighWaterMark, writableHighWaterMark, signal) or nothing
//   writableObjectMode   what the writable side takes (false: bytes)
//   readableObjectMode   what the readable side gives (false: bytes)
//   input()              chunks of a small normal run
//   expected             the outputs of that run, an array compared with deepEqual
//   map(output)          optional: applied to each output before comparing (e.g. Buffer → string)
//   collect(outputs)     optional: turns the whole output list into what is compared with
//                        `expected` (a byte stream that may cut its output anywhere: the join)
//   bulk(size)           { data, count }: a large run of small records, `size` in writable units
//                        (bytes, or objects), `data` a Buffer (bytes) or an array of chunks
//                        (objects); `count` is what count(outputs) must be at the end
//   count(outputs)       optional, default outputs.length
//   invalid              optional { input(), code }: chunks on which the component itself fails
//                        (mid-flight: valid data before and after), and the error's code
//   maxPushBytes         optional, byte-mode readable sides: the largest single push (default 64 KiB)
//   stallBound           optional, writable units a non-reading consumer may let in (default 4 MiB)
//
// A sink (a Writable with no readable side) registers the same way, with a descriptor of
// `kind: 'writable'`; its cases are the table in ./writable-cases.js (the bare-process ones run
// fixtures/writable-contract-child.js). Such a descriptor has:
//
//   kind                 'writable'
//   name, module         as above
//   create(options, sink)
//                        { stream, received }: a new sink, and the array its underlying sink
//                        records into: every chunk it took, in order, pushed when a write starts
//                        (not when it completes), so that "nothing written after destroy" can be
//                        checked. `options` holds only core Writable options (highWaterMark,
//                        signal) or nothing; a component that takes them elsewhere (a wrapper, from
//                        its destination) puts them there. `sink` (optional) says how the
//                        underlying sink behaves:
//                          slow: true           each write completes on a later turn of the event
//                                               loop (setImmediate) rather than at once
//                          fail: { at, error }  its write number `at` (from 0) completes with
//                                               `error`, and that chunk is not received
//   objectMode           what it takes (false: bytes, received as Buffers)
//   input()              chunks of a small normal run (at least 2)
//   bulk(size)           { data, count } as above, `size` in writable units
//   sinkOptions          optional, which of the `sink` options create() honours (default
//                        ['slow', 'fail']); the cases that need another are not registered

const { CASES } = require('./cases.js')
const { WRITABLE_CASES } = require('./writable-cases.js')

const REQUIRED = ['name', 'module', 'create', 'input', 'expected', 'bulk']

function normalize (descriptor) {
  for (const key of REQUIRED) {
    if (descriptor[key] === undefined) throw new TypeError(`contract descriptor: "${key}" is required`)
  }
  return {
    writableObjectMode: false,
    readableObjectMode: false,
    count: (outputs) => outputs.length,
    maxPushBytes: 65536,
    stallBound: 4 * 1024 * 1024,
    ...descriptor
  }
}

const WRITABLE_REQUIRED = ['name', 'module', 'create', 'input', 'bulk']

function normalizeWritable (descriptor) {
  for (const key of WRITABLE_REQUIRED) {
    if (descriptor[key] === undefined) throw new TypeError(`writable contract descriptor: "${key}" is required`)
  }
  const objectMode = descriptor.objectMode ?? false
  // writableObjectMode: the name the shared utilities (./util.js) read.
  return { sinkOptions: ['slow', 'fail'], ...descriptor, objectMode, writableObjectMode: objectMode }
}

/**
 * How long a case may take before it counts as hung: under ava's 5-minute inactivity timeout, and
 * well above what a loaded runner takes. Every case of a component runs concurrently in one
 * process, so a case that needs many turns of the event loop waits behind the others' work at
 * each: beside a Rust build and two busy loops (load ~14 on 2 cores), with four contract files
 * at once, cases took up to 87 s and the stringifier's six values through highWaterMark 1 stages
 * passed 90 s (69 s for its twin), on a machine where they take milliseconds alone.
 */
const HANG_MS = 240000

/**
 * Registers every contract case that applies to the component as an ava test titled
 * "<name> contract: <case>": the Transform table, or the sink table for `kind: 'writable'`.
 * @param {Function} test ava's `test`
 * @param {object} descriptor see the header of this file
 */
function registerContract (test, descriptor) {
  const writable = descriptor.kind === 'writable'
  const d = writable ? normalizeWritable(descriptor) : normalize(descriptor)
  for (const c of writable ? WRITABLE_CASES : CASES) {
    if (c.applies && !c.applies(d)) continue
    test(`${d.name} contract: ${c.title}`, async (t) => {
      // A hang fails the test instead of waiting for ava's global timeout. Generous: the suite
      // runs its cases concurrently, and CI runs it again beside busy loops (a 2-core runner
      // 3x oversubscribed took over 15 s for cases that take 1 s alone).
      t.timeout(c.timeout ?? HANG_MS)
      await c.run(t, d)
    })
  }
}

module.exports = { registerContract, normalize, normalizeWritable, CASES, WRITABLE_CASES }
