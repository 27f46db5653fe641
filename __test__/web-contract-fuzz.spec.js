'use strict'

// A seeded differential fuzz of the Web faces (__test__/web-contract-fuzz/): random programs of
// writes (awaited or not, every byte form), close, abort, releaseLock/getWriter, reads, cancel,
// releaseLock/getReader, pipeTo/pipeThrough (prevent* options, an AbortSignal aborted at a random
// point), tee(), `for await` with break, queuing strategies of highWaterMark 0, 1 and n, and
// microtask or setImmediate waits, run against each sluice Web face and its reference (an
// identity TransformStream, a line-splitting JSON.parse one, a JSON.stringify one, a plain
// WritableStream over the same sink); what a user can observe is compared (compare.js names
// every allowed difference and why). The programs, model checks, runner and minimiser are the
// Node fuzz's (contract-fuzz/harness.js).
//
// SLUICE_WEB_FUZZ_SEEDS=2000 (seeds per face, default 20: about 0.2 s of CPU a face; at nice 19
// beside two busy loops the ten faces' 20 seeds took 23 s of wall time each, 3 min for this file,
// since no wait is a fixed time any more: engine.js, bounded()) and SLUICE_WEB_FUZZ_FIRST (the
// first seed, default 1) for longer runs; `node __test__/web-contract-fuzz/index.js SEEDS FIRST
// [NAME-REGEXP]` runs them outside ava. A failure prints the seed, the problems and a minimised
// program.

const test = require('ava')
const { registerSpec } = require('./contract-fuzz/harness.js')

registerSpec(test, require('./web-contract-fuzz/index.js'), { title: 'web contract fuzz', env: 'SLUICE_WEB_FUZZ', seeds: 20 })
