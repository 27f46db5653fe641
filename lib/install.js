'use strict'

// package.json "install": runs at `npm install` of a checkout, a git dependency or a folder (and
// of the published tarball, where npm lets it run). It never downloads anything:
//
// * a binary already loads (the tarball's prebuilt one, or a checkout built before): nothing.
// * none loads, and this copy has the Rust sources, `cargo` on PATH and @napi-rs/cli installed
//   (a checkout after its dev dependencies): builds from source. In the repository's own
//   `npm install` (INIT_CWD is this folder) the `ci` profile that `npm test` builds, so its
//   pretest build finds it done; installed as a dependency, the optimised release build.
// * otherwise (e.g. the tarball on a platform without a prebuilt binary): prints the loader's
//   ERR_SLUICE_NATIVE_LOAD message and exits 0. A failed install would roll back the user's
//   whole `npm install` for a package that may only be reached on some code paths; the same
//   message is thrown at `require('sluice')`, where it can be handled.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const loader = require('./loader.js')

const ROOT = loader.ROOT

function loads () {
  // In a child: a failed require of binding.js must not stay cached for the check after a build.
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, 'native.js'))})`], { encoding: 'utf8' })
  return { ok: r.status === 0, stderr: r.stderr }
}

function message () {
  try {
    loader.load()
    return null
  } catch (err) {
    return err.message
  }
}

function missing () {
  const why = []
  if (!fs.existsSync(path.join(ROOT, 'Cargo.toml')) || !fs.existsSync(path.join(ROOT, 'src'))) why.push('this copy has no Rust sources (a packed tarball)')
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) why.push('`cargo` is not on PATH')
  try {
    require.resolve('@napi-rs/cli/package.json', { paths: [ROOT] })
  } catch {
    why.push('@napi-rs/cli (a dev dependency) is not installed')
  }
  return why
}

function main () {
  if (loads().ok) return
  const why = missing()
  if (why.length > 0) {
    console.warn(`${message()}\nsluice install: not building from source: ${why.join('; ')}.`)
    return
  }
  const dev = process.env.INIT_CWD !== undefined && path.resolve(process.env.INIT_CWD) === path.resolve(ROOT)
  const script = dev ? 'build:ci' : 'build'
  console.warn(`sluice install: no usable native binary; building from source (npm run ${script})`)
  const r = spawnSync('npm', ['run', script], { cwd: ROOT, stdio: 'inherit' })
  const after = loads()
  if (r.status !== 0 || !after.ok) {
    console.warn(`sluice install: the build from source failed (npm run ${script} exited ${r.status}).\n${message() || after.stderr}`)
  }
}

main()
