'use strict'

// Running the real `sluice` command (bin/sluice.js) as a child process, for the cli-*.spec.js
// suites: what it writes to stdout and stderr, its exit code, and files of test data in a
// temporary directory.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')

const BIN = path.join(__dirname, '..', 'bin', 'sluice.js')

/**
 * Runs `sluice ...args`. `input`: a Buffer/string for stdin (else stdin is closed at once);
 * `stdin`: a file descriptor or 'ignore' instead; `stdout`: a file descriptor instead of a pipe.
 * Resolves { code, signal, stdout, stderr, ms }.
 */
function sluice (args, { input, stdin, stdout } = {}) {
  const started = performance.now()
  // A runaway child (a bug: one that never ends) is killed rather than outliving the suite.
  const child = spawn(process.execPath, [BIN, ...args], { stdio: [stdin ?? 'pipe', stdout ?? 'pipe', 'pipe'], timeout: 120000 })
  if (child.stdin !== null) child.stdin.end(input)
  return collect(child, started)
}

function collect (child, started = performance.now()) {
  const out = []
  const err = []
  child.stdout?.on('data', (c) => out.push(c))
  child.stderr?.on('data', (c) => err.push(c))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({
      code,
      signal,
      stdout: Buffer.concat(out),
      stderr: Buffer.concat(err).toString(),
      ms: performance.now() - started
    }))
  })
}

/** A fresh temporary directory, removed when the process exits. */
function tempDir () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-'))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** `n` NDJSON records of about 80 bytes each, as one Buffer. */
function records (n, from = 0) {
  let text = ''
  for (let i = from; i < from + n; i++) {
    text += JSON.stringify({ id: i, type: i % 3 === 0 ? 'WatchEvent' : 'PushEvent', actor: { login: `user${i}` }, payload: { size: i * 1.5 } }) + '\n'
  }
  return Buffer.from(text)
}

module.exports = { BIN, collect, records, sluice, tempDir }
