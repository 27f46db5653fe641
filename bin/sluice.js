#!/usr/bin/env node
'use strict'

// `sluice`: a pv-like command built from sluice's streams (lib/cli/). `sluice --help` for usage.

// Node starts its inspector on SIGUSR1: a debugger on 127.0.0.1:9229 that any local user can
// connect to and run code in this process. `kill -USR1`, which dd answers with its statistics,
// must not do that: a listener takes the signal from Node (a run prints a progress line on it).
process.on('SIGUSR1', () => {})

let cli
try {
  cli = require('../lib/cli/index.js')
} catch (err) {
  if (err?.code !== 'ERR_SLUICE_NATIVE_LOAD') throw err
  answerWithoutAddon(err)
}

/**
 * No native addon (an unbuilt checkout, a platform without a binary). `--help` and `--version`
 * need none (lib/cli/args.js and info.js load none), and are what a user checking an install
 * runs first; anything else is a run, which cannot start: the loader's message says what was tried and how
 * to build (a stack trace of the require would add nothing).
 */
function answerWithoutAddon (err) {
  const { parseArguments } = require('../lib/cli/args.js')
  const { answerInfo } = require('../lib/cli/info.js')
  let answer = null
  try {
    answer = answerInfo(parseArguments(process.argv.slice(2)))
  } catch {
    // A usage error too: the addon is the problem to report first.
  }
  if (answer !== null) {
    answer.then((code) => { process.exitCode = code })
    return
  }
  process.stderr.write(`sluice: ${err.message}\n`)
  process.exit(1)
}

if (cli !== undefined) run(cli)

function run (cli) {
  let settled = false
  cli.main(process.argv.slice(2)).then((code) => {
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
}
