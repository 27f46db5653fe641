'use strict'

// A reference for NdjsonParser's `where` and `select`, written from their documented semantics
// (README, "Filtering and projecting") on values JSON.parse built — independent of the native
// code it checks. Paths here are arrays of steps: a string is a key, a number an index, EACH is
// `[*]`; `pathText` renders them in the option syntax. Also: random records (as JSON text, with
// escapes, duplicate keys and big integers) and random predicates/selections for the
// differential tests.

const EACH = Symbol('[*]')
const ABSENT = Symbol('absent')

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The values a path reaches: a key on an object (own), an index or `[*]` on an array. */
function reach (value, steps) {
  let here = [value]
  for (const step of steps) {
    const next = []
    for (const v of here) {
      if (step === EACH) {
        if (Array.isArray(v)) next.push(...v)
      } else if (typeof step === 'number') {
        if (Array.isArray(v) && step < v.length) next.push(v[step])
      } else if (isObject(v) && Object.hasOwn(v, step)) {
        next.push(v[step])
      }
    }
    here = next
  }
  return here
}

function typeOf (v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

const sameType = (v, x) => typeOf(v) === typeOf(x)
const equal = (v, x) => sameType(v, x) && v === x

const TESTS = {
  eq: equal,
  ne: (v, x) => sameType(v, x) && v !== x,
  lt: (v, x) => sameType(v, x) && v < x,
  lte: (v, x) => sameType(v, x) && v <= x,
  gt: (v, x) => sameType(v, x) && v > x,
  gte: (v, x) => sameType(v, x) && v >= x,
  in: (v, xs) => xs.some((x) => equal(v, x)),
  startsWith: (v, x) => typeof v === 'string' && v.startsWith(x),
  endsWith: (v, x) => typeof v === 'string' && v.endsWith(x),
  contains: (v, x) => (typeof v === 'string' ? typeof x === 'string' && v.includes(x) : Array.isArray(v) && v.some((e) => equal(e, x))),
  // The differential tests only draw patterns JS (with 'u') and the regex crate read alike.
  matches: (v, x) => typeof v === 'string' && new RegExp(x, 'u').test(v)
}

/** Whether `value` satisfies the object-form predicate `pred` (its path given as steps in `steps`). */
function evaluate (pred, value) {
  if (pred.and) return pred.and.every((p) => evaluate(p, value))
  if (pred.or) return pred.or.some((p) => evaluate(p, value))
  if (pred.not) return !evaluate(pred.not, value)
  const reached = reach(value, pred.steps)
  if ('exists' in pred) return (reached.length > 0) === pred.exists
  const op = Object.keys(pred).find((k) => k in TESTS)
  return reached.some((v) => TESTS[op](v, pred[op]))
}

/** The selection tree of a list of step arrays: `true` keeps a value whole. */
function selectionTree (paths) {
  const root = { keys: new Map(), indices: new Map(), each: null }
  for (const steps of paths) {
    let node = root
    for (let i = 0; i < steps.length && node !== true; i++) {
      const step = steps[i]
      const last = i === steps.length - 1
      const fresh = () => (last ? true : { keys: new Map(), indices: new Map(), each: null })
      if (step === EACH) {
        node.each = last ? true : (node.each ?? fresh())
        node = node.each
      } else {
        const map = typeof step === 'number' ? node.indices : node.keys
        map.set(step, last ? true : (map.get(step) ?? fresh()))
        node = map.get(step)
      }
    }
  }
  return root
}

function mergeTrees (a, b) {
  if (a === true || b === true) return true
  const out = { keys: new Map(a.keys), indices: new Map(a.indices), each: a.each }
  for (const [k, t] of b.keys) out.keys.set(k, out.keys.has(k) ? mergeTrees(out.keys.get(k), t) : t)
  for (const [k, t] of b.indices) out.indices.set(k, out.indices.has(k) ? mergeTrees(out.indices.get(k), t) : t)
  if (b.each !== null) out.each = out.each === null ? b.each : mergeTrees(out.each, b.each)
  return out
}

function projectValue (v, tree) {
  if (tree === true) return v
  if (isObject(v) && tree.keys.size > 0) {
    const out = {}
    for (const k of Object.keys(v)) {
      if (!tree.keys.has(k)) continue
      const p = projectValue(v[k], tree.keys.get(k))
      // defineProperty: a "__proto__" key stays an own property, as JSON.parse makes it.
      if (p !== ABSENT) Object.defineProperty(out, k, { value: p, writable: true, enumerable: true, configurable: true })
    }
    return Object.keys(out).length > 0 ? out : ABSENT
  }
  if (Array.isArray(v) && tree.each !== null) {
    return v.map((e, i) => {
      const t = tree.indices.has(i) ? mergeTrees(tree.indices.get(i), tree.each) : tree.each
      const p = projectValue(e, t)
      if (p !== ABSENT) return p
      return t !== true && t.keys.size > 0 ? {} : []
    })
  }
  if (Array.isArray(v) && tree.indices.size > 0) {
    const out = []
    for (const i of [...tree.indices.keys()].sort((a, b) => a - b)) {
      if (i >= v.length) continue
      const p = projectValue(v[i], tree.indices.get(i))
      if (p !== ABSENT) out.push(p)
    }
    return out.length > 0 ? out : ABSENT
  }
  return ABSENT
}

/** `select`'s result for one value. */
function project (value, paths) {
  const p = projectValue(value, selectionTree(paths))
  return p === ABSENT ? {} : p
}

const NAME = /^(?:[A-Za-z0-9_$-]|[^\x00-\x7f])+$/u // eslint-disable-line no-control-regex

/** Steps in the option syntax: `a.b[0][*]["x y"]`. */
function pathText (steps) {
  let out = ''
  for (const step of steps) {
    if (step === EACH) out += '[*]'
    else if (typeof step === 'number') out += `[${step}]`
    else if (NAME.test(step) && !/[\ud800-\udfff]/.test(step)) out += out === '' ? step : `.${step}`
    else out += `[${JSON.stringify(step)}]`
  }
  return out
}

/** The object form as the parser takes it (`path` as text). */
function objectForm (pred) {
  if (pred.and) return { and: pred.and.map(objectForm) }
  if (pred.or) return { or: pred.or.map(objectForm) }
  if (pred.not) return { not: objectForm(pred.not) }
  const { steps, ...rest } = pred
  return { path: pathText(steps), ...rest }
}

const SYMBOLS = { eq: '==', ne: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=' }

/** The same predicate in the string form. */
function stringForm (pred) {
  if (pred.and) return `(${pred.and.map(stringForm).join(' and ')})`
  if (pred.or) return `(${pred.or.map(stringForm).join(' or ')})`
  if (pred.not) return `not ${stringForm(pred.not)}`
  const path = '.' + pathText(pred.steps)
  if ('exists' in pred) return pred.exists ? `${path} exists` : `not ${path} exists`
  const op = Object.keys(pred).find((k) => k in TESTS)
  const operand = op === 'in' ? `[${pred.in.map((x) => JSON.stringify(x)).join(', ')}]` : JSON.stringify(pred[op])
  return `${path} ${SYMBOLS[op] ?? op} ${operand}`
}

// --- random data -------------------------------------------------------------------------------

const KEYS = ['a', 'b', 'c', 'é', 'x y', 'q"', '0', '__proto__']
const STRINGS = ['', 'a', 'ab', 'b', 'A', 'é', 'été', '😀', '\ufffd', 'a\nb', 'x"y', '\ud83d', 'abc']
const NUMBERS = ['0', '-0', '1', '-1', '1.5', '2', '1e21', '9007199254740993', '9007199254740992', '0.1', '-2.5e-3']

/** A random line: mostly an object record, sometimes any value. */
function randomRecord (rng) {
  if (rng() < 0.15) return randomJson(rng, 3)
  const n = 1 + rng.int(5)
  const members = []
  for (let i = 0; i < n; i++) members.push(`${stringText(rng, rng.pick(KEYS))}:${randomJson(rng, 3)}`)
  return `${rng() < 0.1 ? ' ' : ''}{${members.join(',')}}`
}

/** A random JSON text of `depth` at most; escapes, duplicate keys and big integers included. */
function randomJson (rng, depth = 3) {
  const r = rng.int(depth > 0 ? 10 : 6)
  switch (r) {
    case 0: return 'null'
    case 1: return rng.pick(['true', 'false'])
    case 2: case 3: return rng.pick(NUMBERS)
    case 4: case 5: return stringText(rng, rng.pick(STRINGS))
    case 6: case 7: {
      const n = rng.int(4)
      const items = []
      for (let i = 0; i < n; i++) items.push(randomJson(rng, depth - 1))
      return `[${items.join(rng() < 0.3 ? ' , ' : ',')}]`
    }
    default: {
      const n = rng.int(5)
      const members = []
      // Keys may repeat: the last one wins, as in JSON.parse.
      for (let i = 0; i < n; i++) members.push(`${stringText(rng, rng.pick(KEYS))}${rng() < 0.2 ? ' : ' : ':'}${randomJson(rng, depth - 1)}`)
      return `{${members.join(rng() < 0.2 ? ' ,\t' : ',')}}`
    }
  }
}

/** A string's JSON text, with some characters written as \u escapes. */
function stringText (rng, s) {
  if (rng() < 0.7) return JSON.stringify(s)
  let out = '"'
  for (const unit of s.split('').map((c) => c.charCodeAt(0))) {
    out += rng() < 0.5 || unit < 0x20 || unit === 0x22 || unit === 0x5c || (unit >= 0xd800 && unit <= 0xdfff)
      ? '\\u' + unit.toString(16).padStart(4, '0')
      : String.fromCharCode(unit)
  }
  return out + '"'
}

function randomSteps (rng) {
  const n = 1 + rng.int(3)
  const steps = []
  for (let i = 0; i < n; i++) {
    const r = rng.int(10)
    steps.push(r < 6 ? rng.pick(KEYS) : r < 8 ? rng.int(3) : EACH)
  }
  return steps
}

const randomScalar = (rng) => JSON.parse(rng.pick(['null', 'true', 'false', ...NUMBERS, ...STRINGS.map((s) => JSON.stringify(s))]))
const PATTERNS = ['^a', 'b$', 'a.b', '[a-c]+', '^$', 'é', '^.$', 'x"?y', '(?:ab|b)c']

/** A random predicate (object form, paths as steps). */
function randomPredicate (rng, depth = 2) {
  const r = rng.int(depth > 0 ? 14 : 10)
  if (r >= 10) {
    const kind = ['and', 'or', 'not', 'and'][r - 10]
    if (kind === 'not') return { not: randomPredicate(rng, depth - 1) }
    return { [kind]: [randomPredicate(rng, depth - 1), randomPredicate(rng, depth - 1)] }
  }
  const steps = randomSteps(rng)
  const op = rng.pick(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'exists', 'startsWith', 'endsWith', 'contains', 'matches'])
  switch (op) {
    case 'exists': return { steps, exists: rng() < 0.5 }
    case 'in': return { steps, in: [randomScalar(rng), randomScalar(rng)] }
    case 'lt': case 'lte': case 'gt': case 'gte': {
      const x = randomScalar(rng)
      return { steps, [op]: typeof x === 'number' || typeof x === 'string' ? x : 1 }
    }
    case 'startsWith': case 'endsWith': return { steps, [op]: rng.pick(STRINGS) }
    case 'matches': return { steps, matches: rng.pick(PATTERNS) }
    default: return { steps, [op]: randomScalar(rng) }
  }
}

module.exports = {
  EACH,
  evaluate,
  objectForm,
  pathText,
  project,
  randomJson,
  randomPredicate,
  randomRecord,
  randomSteps,
  reach,
  stringForm
}
