'use strict'

// index.d.ts: every listener method has the typed 'invalid' overload, checked as text and with
// the TypeScript compiler (a devDependency; skipped by name where it is not installed).

const fs = require('node:fs')
const path = require('node:path')
const test = require('ava')

const ROOT = path.join(__dirname, '..')
const METHODS = ['addListener', 'on', 'once', 'prependListener', 'prependOnceListener', 'removeListener', 'off']

let ts = null
try {
  ts = require('typescript')
} catch {}

/**
 * The TypeScript compiler's diagnostics for a file of __test__/types/ (strict, NodeNext), as text;
 * `options` add to or replace the compiler options (`lib` replaces the target's default libraries,
 * which include the DOM's).
 */
function typeCheck (name, options = {}) {
  const file = path.join(__dirname, 'types', name)
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    ...options
  })
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? `${path.relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : ''
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n')
  })
}

test("index.d.ts declares the typed 'invalid' overload on every listener method", (t) => {
  const dts = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  for (const method of METHODS) {
    t.true(dts.includes(`  ${method}(event: 'invalid', listener: (info: InvalidLine) => void): this\n`), method)
    t.true(dts.includes(`  ${method}(event: string | symbol, listener: (...args: any[]) => void): this\n`), `${method}, other events`)
  }
})

;(ts ? test : test.skip)('index.d.ts type-checks: listeners of every method get an InvalidLine (TypeScript compiler)', (t) => {
  t.deepEqual(typeCheck('ndjson-types.ts'), [])
})

;(ts ? test : test.skip)('index.d.ts type-checks: Meter, MonitoredWritable, bottleneck, Prometheus (TypeScript compiler)', (t) => {
  t.deepEqual(typeCheck('meter-types.ts'), [])
})

;(ts ? test : test.skip)('index.d.ts type-checks: BoundedBuffer options (read-only pressureLevels), drop events, stats (TypeScript compiler)', (t) => {
  t.deepEqual(typeCheck('buffer-types.ts'), [])
})

;(ts ? test : test.skip)('lib/web.d.ts type-checks: the sluice/web faces fit the global Web Streams types (TypeScript compiler)', (t) => {
  t.deepEqual(typeCheck('web-types.ts'), [])
})

;(ts ? test : test.skip)('lib/web.d.ts type-checks without the DOM library (--lib es2022 --types node: a server project)', (t) => {
  // Our declaration files checked too (skipLibCheck would pass over a missing DOM type in them).
  const diagnostics = typeCheck('web-types.ts', { lib: ['lib.es2022.d.ts'], skipLibCheck: false })
  t.deepEqual(diagnostics.filter((d) => !d.startsWith('node_modules/')), [])
})

;(ts ? test : test.skip)('index.d.ts type-checks: NdjsonStringifier options, NULL, the typed \'skip\' listener, stats (TypeScript compiler)', (t) => {
  t.deepEqual(typeCheck('stringifier-types.ts'), [])
})

test('each entry point: its CommonJS exports, its ES module\'s named exports and its declared values are the same names', async (t) => {
  const pkg = require('../package.json')
  for (const [subpath, entry] of Object.entries(pkg.exports)) {
    if (typeof entry === 'string') continue // ./package.json
    const cjs = Object.keys(require(path.join(ROOT, entry.require))).sort()
    const esm = Object.keys(await import(path.join(ROOT, entry.import))).filter((k) => k !== 'default').sort()
    const dts = fs.readFileSync(path.join(ROOT, entry.types), 'utf8')
    const declared = [...dts.matchAll(/^export declare (?:const|class|function) (\w+)/gm)].map((m) => m[1])
    for (const m of dts.matchAll(/^export \{([^}]*)\} from/gm)) declared.push(...m[1].split(',').map((s) => s.trim()))
    t.deepEqual(esm, cjs, `${subpath}: ES module vs CommonJS`)
    t.deepEqual([...new Set(declared)].sort(), cjs, `${subpath}: ${entry.types} vs CommonJS`)
  }
})
