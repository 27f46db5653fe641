#!/usr/bin/env node
'use strict'

// `sluice`: a pv-like command built from sluice's streams (lib/cli/). `sluice --help` for usage.

require('../lib/cli/index.js').main(process.argv.slice(2)).then((code) => {
  process.exitCode = code
}, (err) => {
  // A bug, not a user error: say so with the stack, and fail.
  process.stderr.write(`sluice: internal error: ${err?.stack ?? err}\n`)
  process.exitCode = 1
})
