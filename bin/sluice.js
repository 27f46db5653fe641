#!/usr/bin/env node
'use strict'

// `sluice`: a pv-like command built from sluice's streams (lib/cli/). `sluice --help` for usage.

let settled = false
require('../lib/cli/index.js').main(process.argv.slice(2)).then((code) => {
  settled = true
  process.exitCode = code
}, (err) => {
  settled = true
  // A bug, not a user error: say so with the stack, and fail.
  process.stderr.write(`sluice: internal error: ${err?.stack ?? err}\n`)
  process.exitCode = 1
})

// An event loop that runs dry before the run has settled is a stall (a bug): it must never look
// like success. (process.exit() on SIGINT passes its own code and is not this case.)
process.on('exit', (code) => {
  if (!settled && code === 0) {
    process.stderr.write('sluice: internal error: the pipeline stopped before it finished\n')
    process.exitCode = 1
  }
})
