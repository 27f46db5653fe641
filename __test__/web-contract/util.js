'use strict'

// The bare-process runner of the Web contract (./index.js).

const { execFile } = require('node:child_process')
const path = require('node:path')

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'web-contract-child.js')

/** Runs the fixture for a scenario in a bare `node`; resolves with its exit status and output. */
function runWebChild (d, scenario, timeoutMs = 200000) {
  return new Promise((resolve) => {
    execFile(process.execPath, [FIXTURE, d.module, d.name, scenario], { timeout: timeoutMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          stdout: String(stdout),
          stderr: String(stderr)
        })
      })
  })
}

module.exports = { runWebChild }
