'use strict'

// `where` and `select` of NdjsonParser: the documented semantics in a table (every operator on
// every JSON type), the string form against the object form, a differential property test
// against a JS reference (filter-reference.js: JSON.parse, then the predicate and projection
// written from the README), chunk-boundary equivalence, and how filtering meets the rest of the
// parser (invalid lines, stats, reviver, outputs, constructor errors).

const test = require('ava')
const { NdjsonParser } = require('..')
const { chunked, collect, flattenBatches, makeRng, randomChunks, sameValue } = require('./helpers.js')
const ref = require('./filter-reference.js')

/** Parses `lines` with `options` ('batches' output, flattened: a null line stays null). */
async function parse (lines, options, chunks = (buf) => [buf]) {
  const input = Buffer.from(lines.map((l) => l + '\n').join(''))
  const run = await collect(new NdjsonParser({ output: 'batches', onInvalid: 'skip', ...options }), chunks(input))
  if (run.error) throw run.error
  return { ...run, log: flattenBatches(run.log), values: flattenBatches(run.log).filter((e) => e.kind === 'value').map((e) => e.value) }
}

// ---- the semantic table ----------------------------------------------------------------------

// One value of every JSON type, with the corner cases: -0, integers beyond 2^53 (which JS rounds),
// escapes and non-ASCII characters, a lone surrogate, empty and mixed containers.
const VALUES = [
  'null', 'true', 'false', '0', '-0', '1', '1.5', '-2', '1e21', '9007199254740993', '9007199254740992',
  '""', '"a"', '"ab"', '"b"', '"A"', '"é"', '"\\u00e9"', '"😀"', '"\\ud83d"', '"\\uffff"', '"x\\"y"', '"a\\nb"',
  '[]', '[1,"a",null]', '[2]', '["a","b"]', '[[1]]', '{}', '{"a":1}'
]
const OPERANDS = {
  eq: [null, true, false, 0, 1, 1.5, 9007199254740992, 1e21, '', 'a', 'é', '😀', '\ud83d', 'x"y'],
  lt: [0, 1, 9007199254740992, '', 'a', 'b', 'é', '\uffff', '😀'],
  in: [[], [1, 'a'], [null, false], [0, '']],
  exists: [true, false],
  startsWith: ['', 'a', 'é', '\ud83d', 'x"'],
  contains: [1, 'a', '', null, 'b', '\n'],
  matches: ['^a', 'b$', '^.$', '[é]', '^$', '\\n']
}
OPERANDS.ne = OPERANDS.eq
OPERANDS.lte = OPERANDS.gt = OPERANDS.gte = OPERANDS.lt
OPERANDS.endsWith = OPERANDS.startsWith

test('every operator on every JSON type agrees with the documented semantics, in both forms', async (t) => {
  // Each value under key "v" of its own line, plus one line without "v" (a missing path).
  const lines = [...VALUES.map((v) => `{"v":${v}}`), '{"w":1}']
  const parsed = lines.map((l) => JSON.parse(l))
  let checked = 0
  for (const [op, operands] of Object.entries(OPERANDS)) {
    for (const x of operands) {
      const pred = { steps: ['v'], [op]: x }
      const expected = parsed.filter((v) => ref.evaluate(pred, v))
      for (const where of [ref.objectForm(pred), ref.stringForm(pred)]) {
        const { values, stats } = await parse(lines, { where })
        const diff = sameValue(values, expected)
        t.is(diff, null, `${JSON.stringify(where)}: ${diff}`)
        t.is(stats.matchedLines + stats.filteredLines, lines.length)
        checked++
      }
    }
  }
  t.true(checked > 150)
})

test('the semantics, spelled out on cases users rely on', async (t) => {
  const cases = [
    // [where, line, matches]
    ['.v == 1', '{"v":"1"}', false], // no coercion
    ['.v == "1"', '{"v":1}', false],
    ['.v == 0', '{"v":-0}', true], // JS numbers: -0 === 0
    ['.v == 9007199254740992', '{"v":9007199254740993}', true], // rounded as JSON.parse rounds
    ['.v != 1', '{"w":1}', false], // a missing path is not unequal
    ['.v != 1', '{"v":"x"}', false], // nor is another type
    ['not .v == 1', '{"w":1}', true], // not negates
    ['not .v exists', '{"w":1}', true],
    ['.v exists', '{"v":null}', true],
    ['.v > "😀"', '{"v":"\\uffff"}', true], // UTF-16 order: 0xFFFF > 0xD83D
    ['.v == "é"', '{"v":"\\u00e9"}', true], // escapes decoded
    ['.["é"] == 1', '{"\\u00e9":1}', true],
    ['.v == 2', '{"v":1,"v":2}', true], // the last duplicate wins
    ['.v == 1', '{"v":1,"v":2}', false],
    ['.v[*] == 2', '{"v":[1,"2",2]}', true], // any element
    ['.v[*] exists', '{"v":[]}', false],
    ['.v[*] exists', '{"v":{"a":1}}', false], // [*] over a non-array: no elements
    ['.v[1].a == 1', '{"v":[{"a":1},{"a":1}]}', true],
    ['.v.a == 1', '{"v":[{"a":1}]}', false], // a key on an array reaches nothing
    ['.v contains "b"', '{"v":"abc"}', true],
    ['.v contains "b"', '{"v":["abc"]}', false], // membership, not substring, on arrays
    ['.v contains 1', '{"v":[[1],1]}', true],
    ['.["x.y"] == 1', '{"x.y":1,"x":{"y":2}}', true],
    ['.v matches "^a.c$"', '{"v":"a\\nc"}', false],
    ['.v matches "(?i)^ABC"', '{"v":"abcd"}', true]
  ]
  for (const [where, line, want] of cases) {
    const { values } = await parse([line], { where })
    t.is(values.length === 1, want, `${where} on ${line}`)
  }
})

test('select: documented corner cases', async (t) => {
  const line = '{"id":1,"user":{"login":"x","id":2},"tags":[{"a":1,"b":2},{"b":3},4],"dup":1,"dup":{"k":2}}'
  const cases = [
    [['id', 'user.login'], { id: 1, user: { login: 'x' } }],
    [['user.login', 'id'], { id: 1, user: { login: 'x' } }], // input order, not select order
    [['user', 'user.login'], { user: { login: 'x', id: 2 } }], // a whole value wins
    [['nope', 'user.nope'], {}], // nothing selected: {}
    [['tags[*].a'], { tags: [{ a: 1 }, {}, {}] }], // [*] keeps every element
    [['tags[1]', 'tags[0].b'], { tags: [{ b: 2 }, { b: 3 }] }], // indices keep input order
    [['tags[9]'], {}],
    [['tags[*].b', 'tags[0].a'], { tags: [{ a: 1, b: 2 }, { b: 3 }, {}] }],
    [['dup.k'], { dup: { k: 2 } }], // the last duplicate
    [['dup', 'id'], { id: 1, dup: { k: 2 } }],
    [[], {}] // an empty selection selects nothing
  ]
  for (const [select, expected] of cases) {
    const { values } = await parse([line], { select })
    t.is(sameValue(values[0], expected), null, JSON.stringify(select))
  }
  const { values } = await parse(['5', '[1,2]', 'null', '{"a":[]}'], { select: ['a[*]'] })
  t.deepEqual(values, [{}, {}, {}, { a: [] }])
  const none = await parse(['5', '[1,2]', 'null', '"s"', '{"a":1}'], { select: [] })
  t.deepEqual(none.values, [{}, {}, {}, {}, {}])
})

// ---- differential property test ------------------------------------------------------------

test('differential: random records, predicates and selections match JSON.parse + the JS reference', async (t) => {
  const seed = 0x5eed
  const rng = makeRng(seed)
  for (let round = 0; round < 60; round++) {
    const lines = Array.from({ length: 40 }, () => ref.randomRecord(rng))
    const parsed = lines.map((l) => JSON.parse(l))
    const pred = ref.randomPredicate(rng)
    const paths = Array.from({ length: 1 + rng.int(3) }, () => ref.randomSteps(rng))
    const useSelect = rng() < 0.6
    const expected = parsed.filter((v) => ref.evaluate(pred, v)).map((v) => (useSelect ? ref.project(v, paths) : v))
    const select = useSelect ? paths.map(ref.pathText) : undefined
    for (const where of [ref.objectForm(pred), ref.stringForm(pred)]) {
      const options = { where, ...(select && { select }) }
      const { values, stats } = await parse(lines, options, (buf) => randomChunks(buf, seed + round, 97))
      const diff = sameValue(values, expected)
      if (diff !== null) {
        t.fail(`seed ${seed} round ${round} ${JSON.stringify(options)}: ${diff}\n${lines.join('\n')}`)
        return
      }
      t.is(stats.matchedLines, expected.length)
    }
  }
  t.pass()
})

test('chunk boundaries do not change what where/select give, nor the reports', async (t) => {
  const rng = makeRng(77)
  const lines = []
  for (let i = 0; i < 200; i++) lines.push(i % 17 === 5 ? '{"a":' : ref.randomRecord(rng))
  const options = { where: '.a exists or .b[*] exists', select: ['a', 'b[*]', 'é'] }
  const whole = await parse(lines, options)
  t.true(whole.values.length > 10 && whole.stats.invalidLines > 5)
  for (const chunks of [(b) => chunked(b, [1]), (b) => chunked(b, [7, 3]), (b) => randomChunks(b, 9, 300)]) {
    const run = await parse(lines, options, chunks)
    t.is(sameValue(run.log, whole.log), null)
    t.deepEqual(run.stats, whole.stats)
  }
})

// ---- filtering and the rest of the parser --------------------------------------------------

const INPUT = ['{"type":"A","n":1,"u":{"l":"x"}}', '{"type":"B","n":2}', 'not json', '{"type":"A","n":3}', '', '{"type":"A"']

test('invalid lines are reported with their line numbers whether or not they would match; stats count every line', async (t) => {
  const { log, stats } = await parse(INPUT, { where: '.type == "A"', select: ['n'] })
  t.deepEqual(log.map((e) => (e.kind === 'value' ? e.value : [e.info.line, e.info.offset, e.info.code])), [
    { n: 1 }, [3, 52, 'ERR_SLUICE_INVALID_JSON'], { n: 3 }, [6, 81, 'ERR_SLUICE_INVALID_JSON']
  ])
  t.like(stats, { lines: 6, values: 3, blankLines: 1, invalidLines: 2, matchedLines: 2, filteredLines: 1 })
})

test('the first invalid line still fails the stream under onInvalid: error', async (t) => {
  const run = await collect(new NdjsonParser({ where: '.type == "Z"' }), [Buffer.from(INPUT.join('\n'))])
  t.is(run.error?.code, 'ERR_SLUICE_INVALID_JSON')
  t.is(run.error.line, 3)
})

test('every output honours where and select; lines filters the raw bytes', async (t) => {
  const input = [Buffer.from(INPUT.join('\n') + '\n')]
  const opts = { where: { path: 'n', gte: 2 }, onInvalid: 'skip' }
  const values = await collect(new NdjsonParser({ ...opts, select: ['n'] }), input)
  t.deepEqual(values.values, [{ n: 2 }, { n: 3 }])
  const envelopes = await collect(new NdjsonParser({ ...opts, select: ['n'], output: 'envelopes' }), input)
  t.deepEqual(envelopes.values, [{ line: 2, offset: 33, value: { n: 2 } }, { line: 4, offset: 61, value: { n: 3 } }])
  const batches = await collect(new NdjsonParser({ ...opts, select: ['type'], output: 'batches' }), input)
  t.deepEqual(batches.values.flat(), [{ type: 'B' }, { type: 'A' }])
  const lines = await collect(new NdjsonParser({ ...opts, output: 'lines' }), input)
  t.deepEqual(lines.values.map(String), [INPUT[1], INPUT[3]])
  t.like(lines.stats, { matchedLines: 2, filteredLines: 1 })
})

test('a reviver sees the projected value, with keys in the projected order', async (t) => {
  const seen = []
  const reviver = function (key, value) {
    seen.push(key)
    return typeof value === 'number' ? value * 10 : value
  }
  const run = await collect(new NdjsonParser({ where: '.type == "A"', select: ['u.l', 'n'], reviver, onInvalid: 'skip' }), [Buffer.from(INPUT.join('\n'))])
  t.deepEqual(run.values, [{ n: 10, u: { l: 'x' } }, { n: 30 }])
  t.deepEqual(seen, ['n', 'l', 'u', '', 'n', ''])
})

test('without where/select, stats() has no filter counters', async (t) => {
  const run = await collect(new NdjsonParser(), [Buffer.from('1\n')])
  t.false('matchedLines' in run.stats)
  const filtered = await collect(new NdjsonParser({ select: ['a'] }), [Buffer.from('1\n')])
  t.like(filtered.stats, { matchedLines: 1, filteredLines: 0 })
})

test('the constructor refuses a bad where or select, naming the option and the position', (t) => {
  const syntax = t.throws(() => new NdjsonParser({ where: '.type = "A"' }), { instanceOf: SyntaxError, code: 'ERR_INVALID_ARG_VALUE' })
  t.regex(syntax.message, /"options\.where" expression is invalid at column 7: expected an operator/)
  t.throws(() => new NdjsonParser({ where: '.a == 1 and' }), { instanceOf: SyntaxError, message: /column 12/ })
  t.throws(() => new NdjsonParser({ where: '.a matches "("' }), { instanceOf: SyntaxError, message: /column 12: invalid regular expression/ })
  t.throws(() => new NdjsonParser({ where: { and: [{ path: 'a', eq: 1 }, { path: 'a[x]', eq: 1 }] } }),
    { instanceOf: TypeError, message: /"options\.where\.and\[1\]\.path" option is invalid: .*column 3/ })
  t.throws(() => new NdjsonParser({ where: { path: 'a', equals: 1 } }), { instanceOf: TypeError, message: /unknown operator 'equals'/ })
  t.throws(() => new NdjsonParser({ where: { path: 'a', lt: null } }), { instanceOf: TypeError, message: /options\.where\.lt.*a number or a string/ })
  t.throws(() => new NdjsonParser({ where: { path: 'a', matches: '(' } }), { instanceOf: TypeError, message: /options\.where\.matches.*invalid regular expression/ })
  t.throws(() => new NdjsonParser({ where: { path: 'a', eq: NaN } }), { instanceOf: RangeError, message: /options\.where\.eq/ })
  t.throws(() => new NdjsonParser({ where: { path: 'a', matches: /x/ } }), { instanceOf: TypeError, message: /options\.where\.matches/ })
  t.throws(() => new NdjsonParser({ where: 5 }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new NdjsonParser({ select: 'a' }), { instanceOf: TypeError, message: /options\.select/ })
  t.throws(() => new NdjsonParser({ select: ['a', 1] }), { instanceOf: TypeError, message: /options\.select\[1\]/ })
  // A hole in a sparse array is an undefined path too (it reached the native check unnamed).
  t.throws(() => new NdjsonParser({ select: [, 'a'] }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /options\.select\[0\]/ }) // eslint-disable-line no-sparse-arrays
  t.throws(() => new NdjsonParser({ select: ['a', , 'b'] }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /options\.select\[1\]/ }) // eslint-disable-line no-sparse-arrays
  t.throws(() => new NdjsonParser({ select: ['a', 'b..c'] }), { instanceOf: TypeError, message: /options\.select\[1\]" path is invalid at column 3/ })
  // The regex crate's explanation keeps its lines: the reason, then the pattern and a caret.
  t.throws(() => new NdjsonParser({ where: '.a matches "x["' }), { message: /invalid regular expression: unclosed character class\n {4}x\[\n {5}\^/ })
  t.throws(() => new NdjsonParser({ where: '.a exists == 1' }), { instanceOf: SyntaxError, message: /column 11: 'exists' takes no value/ })
  // A number out of a double's range is refused by both forms (the string form took 1e400 as
  // Infinity where the object form refused Infinity: helper-128).
  for (const [where, as] of [['.a == 1e400', 'Infinity'], ['.a < -1e400', '-Infinity'], ['.a in [1, 1e999]', 'Infinity']]) {
    t.throws(() => new NdjsonParser({ where }), { instanceOf: SyntaxError, code: 'ERR_INVALID_ARG_VALUE', message: new RegExp(`a number out of range \\(it is ${as} as a double; it must be finite\\)`) }, where)
  }
  t.throws(() => new NdjsonParser({ where: { path: 'a', eq: Number('1e400') } }), { instanceOf: RangeError, message: /options\.where\.eq.*finite/ })
  t.notThrows(() => new NdjsonParser({ where: '.a == 1e-400' }), 'an underflow is 0, a finite number')
  // The whole of `where` is a string or a plain object: its message does not list the scalars a
  // node inside it may be.
  for (const where of [new Map(), Object.create({ path: 'a', eq: 1 }), new (class Where {})(), [], 5, null]) {
    t.throws(() => new NdjsonParser({ where }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: /"options\.where" option must be a string or a plain object\./ })
  }
  t.notThrows(() => new NdjsonParser({ where: Object.assign(Object.create(null), { path: 'a', eq: 1 }) }), 'a null-prototype object is plain')
})

/** Runs `source` in a worker with a 1 MiB stack; resolves to what it posts, or its error's message. */
function inSmallWorker (source) {
  const { Worker } = require('node:worker_threads')
  const worker = new Worker(`const { parentPort } = require('node:worker_threads'); const { NdjsonParser } = require(${JSON.stringify(require.resolve('..'))}); (async () => { ${source} })().then((m) => parentPort.postMessage(m))`,
    { eval: true, resourceLimits: { stackSizeMb: 1 } })
  return new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', (err) => resolve(`worker error: ${err.message}`))
    worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)))
  })
}

test('where nests at most 256 levels deep, in both forms: deeper is a TypeError, never a crash, even on a small stack', async (t) => {
  const nestNot = (n) => { let o = { path: 'a', eq: 1 }; for (let i = 0; i < n; i++) o = { not: o }; return o }
  const nestAnd = (n) => { let o = { path: 'a', eq: 1 }; for (let i = 0; i < n; i++) o = { and: [o] }; return o }
  for (const nest of [nestNot, nestAnd]) {
    for (const n of [256, 7000, 100000]) {
      const err = t.throws(() => new NdjsonParser({ where: nest(n) }), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE' })
      t.regex(err.message, /^The "options\.where\.(not|and)[^"]*" option is invalid: nested too deeply \(and, or and not nest at most 256 levels deep\)$/)
      t.true(err.message.length < 300)
    }
  }
  let deepOperand = [1]
  for (let i = 0; i < 100000; i++) deepOperand = [deepOperand]
  t.throws(() => new NdjsonParser({ where: { path: 'a', in: deepOperand } }), { instanceOf: TypeError, message: /"options\.where\.in\[0\].*nested too deeply/ })
  // 255 levels of logic above the test (256 in all) work, on a worker with a 1 MiB stack, where
  // 2,000 levels used to overflow it.
  const answer = await inSmallWorker(`
    const nest = (n) => { let o = { path: 'a', eq: 1 }; for (let i = 0; i < n; i++) o = { not: o }; return o }
    try { new NdjsonParser({ where: nest(2000) }) } catch (err) { var refused = err instanceof TypeError && /nested too deeply/.test(err.message) }
    const p = new NdjsonParser({ where: nest(255), output: 'lines' })
    p.end('{"a":1}\\n{"a":2}\\n')
    const out = []
    for await (const line of p) out.push(String(line))
    return [refused, out]`)
  t.deepEqual(answer, [true, ['{"a":2}']])
  t.truthy(new NdjsonParser({ where: nestAnd(255) }))
  t.throws(() => new NdjsonParser({ where: 'not '.repeat(256) + '.a == 1' }), { instanceOf: SyntaxError, message: /column 1025: nested too deeply/ })
})

test('paths have at most 256 steps; over deep data, where and select recurse per step, not per level of data', async (t) => {
  const steps = '[*]'.repeat(255)
  for (const path of ['a' + '[*]'.repeat(256), 'a' + '.b'.repeat(100000)]) {
    t.throws(() => new NdjsonParser({ select: [path] }), { instanceOf: TypeError, message: /options\.select\[0\]" path is invalid at column \d+: path too long \(at most 256 steps\)/ })
  }
  t.throws(() => new NdjsonParser({ where: `.a${steps}[*] exists` }), { instanceOf: SyntaxError, message: /path too long/ })
  const depth = 100000
  const line = `{"a":${'['.repeat(depth)}1${']'.repeat(depth)},"b":2}`
  const run = await collect(new NdjsonParser({ where: `.a${steps} exists`, select: [`a${steps}`], output: 'lines' }), [Buffer.from(line + '\n{"a":[]}\n')])
  t.is(run.error, null)
  t.deepEqual(run.values.map(String), [`{"a":${'['.repeat(depth)}1${']'.repeat(depth)}}`])
  t.like(run.stats, { matchedLines: 1, filteredLines: 1 })
})

test('a large select is built in seconds at most, not a minute (the quadratic build took 65 s)', async (t) => {
  const keys = Array.from({ length: 100000 }, (_, i) => `k${i}`)
  const started = process.hrtime.bigint()
  const parser = new NdjsonParser({ select: [...keys, 'x.y'], output: 'lines' })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  // The bound is generous (a loaded runner can be 10x slower): the quadratic build took 65 s,
  // the linear one ~0.1 s on a quiet machine, 0.4-0.8 s at load 8.
  t.true(ms < 20_000, `${ms} ms`)
  const run = await collect(parser, [Buffer.from('{"z":1,"k99999":2,"k5":3,"x":{"y":4,"z":5}}\n')])
  t.deepEqual(run.values.map(String), ['{"k99999":2,"k5":3,"x":{"y":4}}'])
})

test('a raw lone surrogate in a path or a string-form where is refused (it would become U+FFFD); escapes work', async (t) => {
  t.throws(() => new NdjsonParser({ where: '.a == "x\ud800"' }), { instanceOf: SyntaxError, code: 'ERR_INVALID_ARG_VALUE', message: /"options\.where" expression is invalid at column 9: a lone surrogate \(U\+D800\)/ })
  t.throws(() => new NdjsonParser({ select: ['a', 'b\udc00'] }), { instanceOf: TypeError, message: /"options\.select\[1\]" path is invalid at column 2: a lone surrogate \(U\+DC00\).*\["\\udc00"\]/ })
  t.throws(() => new NdjsonParser({ where: { path: '["\ud800"]', eq: 1 } }), { instanceOf: TypeError, message: /"options\.where\.path" option is invalid: has a lone surrogate/ })
  t.throws(() => new NdjsonParser({ where: { path: 'a', matches: '\ud800' } }), { instanceOf: TypeError, message: /options\.where\.matches.*lone surrogate/ })
  // A well-formed pair is fine; the escape names the key exactly; operands keep lone surrogates.
  const lines = ['{"\\ud800":1,"😀":2,"a":"\\ud800"}', '{"\\ufffd":1}']
  t.deepEqual((await parse(lines, { where: '.["\\ud800"] == 1', select: ['😀'] })).values, [{ '😀': 2 }])
  t.deepEqual((await parse(lines, { where: { path: 'a', eq: '\ud800' } })).values, [JSON.parse(lines[0])])
})

test("select with output 'lines' gives each projection's JSON text as it is in the input (numbers and escapes untouched)", async (t) => {
  const input = '{"a":1e400,"b":-0,"c":1.0,"d":12345678901234567890,"e":"\\u00e9\\n\\ud800","f":-1e400,"g":[1.50]}\n{"a":null}\n7\n'
  const run = await collect(new NdjsonParser({ select: ['a', 'b', 'c', 'd', 'e', 'g[*]'], where: 'not .a == null', output: 'lines' }), [Buffer.from(input)])
  t.is(run.error, null)
  t.true(run.values.every(Buffer.isBuffer))
  t.deepEqual(run.values.map(String), ['{"a":1e400,"b":-0,"c":1.0,"d":12345678901234567890,"e":"\\u00e9\\n\\ud800","g":[1.50]}', '{}'])
  t.like(run.stats, { matchedLines: 2, filteredLines: 1 })
})
