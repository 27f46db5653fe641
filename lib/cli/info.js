'use strict'

// What `sluice` answers without running anything: `--help`, `--version`, and how a write to
// stdout ends. Loads no native addon (only lib/cli/args.js), so bin/sluice.js can answer these
// even when the addon is missing, with the same text and exit status as a working install.

const { HELP } = require('./args.js')

/** The exit statuses: 141 is cat's 128 + SIGPIPE when the reader of stdout went away. */
const EXIT = { done: 0, error: 1, usage: 2, closed: 141 }

/** What `--version` prints. */
const VERSION = `sluice ${require('../../package.json').version}\n`

/**
 * The answer to options that ask for information: a promise of the exit status once `--help` or
 * `--version` is printed, or null when the options are a run.
 */
function answerInfo (opts) {
  if (opts.help) return print(HELP)
  if (opts.version) return print(VERSION)
  return null
}

/**
 * `--help`, `--version`: `text` to standard output, whose failure ends the command as a run's
 * does (141 quietly when its reader went away, else the error on one line and 1), never as an
 * unhandled 'error' event.
 */
function print (text) {
  return new Promise((resolve) => {
    let failed = false
    const onError = (err) => {
      if (failed) return
      failed = true
      if (err.code === 'EPIPE') return resolve(EXIT.closed)
      process.stderr.write(`sluice: standard output: ${err.message}\n`)
      resolve(EXIT.error)
    }
    process.stdout.on('error', onError)
    process.stdout.write(text, (err) => {
      if (err) onError(err)
      else if (!failed) resolve(EXIT.done)
    })
  })
}

module.exports = { EXIT, VERSION, answerInfo, print }
