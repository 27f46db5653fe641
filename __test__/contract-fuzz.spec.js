'use strict'

// A model-based differential fuzz of the Node stream contract (__test__/contract-fuzz/): seeded
// random programs of writes, end, destroy, pause/resume/read(n)/pipe/unpipe/for await, cork,
// setDefaultEncoding and waits run against each sluice component and against its core
// reference, and what a user can observe is compared (compare.js names every allowance).
//
// SLUICE_FUZZ_SEEDS=2000 (seeds per component, default 40) and SLUICE_FUZZ_FIRST (the first
// seed, default 1) for longer runs; `node __test__/contract-fuzz/index.js SEEDS FIRST [NAME-REGEXP]`
// runs them outside ava. A failure prints the seed, the problems and a minimised program.

const test = require('ava')
const { registerSpec } = require('./contract-fuzz/harness.js')

registerSpec(test, require('./contract-fuzz/index.js'), { title: 'contract fuzz', env: 'SLUICE_FUZZ', seeds: 40 })
