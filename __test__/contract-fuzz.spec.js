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
const { fuzz, report, COMPONENTS } = require('./contract-fuzz/index.js')

const SEEDS = Number(process.env.SLUICE_FUZZ_SEEDS || 40)
const FIRST = Number(process.env.SLUICE_FUZZ_FIRST || 1)

for (const desc of COMPONENTS) {
  test(`contract fuzz: ${desc.name}, seeds ${FIRST}…${FIRST + SEEDS - 1}`, async (t) => {
    t.timeout(240000)
    const escaped = desc.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const stats = await fuzz({ first: FIRST, seeds: SEEDS, filter: new RegExp(`^${escaped}$`), parallel: 2 })
    for (const failure of stats.failures) t.log(report(failure))
    t.is(stats.failures.length, 0, `${stats.failures.length} of ${stats.runs} seeds diverged (see the log above)`)
    t.log(`${stats.runs} runs, ${stats.aligned} aligned (compared in full)`)
  })
}
