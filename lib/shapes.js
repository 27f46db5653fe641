'use strict'

// Builds JS values from the columns the native shaper sends (src/ndjson/shape.rs has the format
// and the reason: object literals of a fixed shape fed from typed arrays are ~8× faster than
// JSON.parse on this machine).
//
// A shape signature is compiled once per stream into a function that builds one record:
//   {"id"n"tags"[*s]}  →  {"id": N[n++], "tags": h0()}  with  h0 = () => { const a = new Array(N[n++]); … }
// Numbers, booleans (0/1) and array lengths come from N (Float64Array) in document order; strings
// are slices of the batch's string table S, `O[k]..O[k + 1]` for the k-th string. Object literals
// give the same own properties, in the same order, as JSON.parse (integer-like keys first,
// a repeated key keeps its first position and its last value); `"__proto__"` is written as a
// computed key so it stays an own property instead of setting the prototype.
//
// Where code generation is not allowed (`--disallow-code-generation-from-strings`), the same
// signature is interpreted instead; the interpreter is also the reference the tests hold the
// compiled builders to.

/** One parsed signature node: { t: 'n'|'b'|'z'|'s' } | { t: '{', keys, values } | { t: '[*', element } | { t: '[', items }. */
function parseSignature (sig) {
  let pos = 0
  function key () {
    const start = pos
    pos++ // opening quote
    while (sig[pos] !== '"') pos += sig[pos] === '\\' ? 2 : 1
    pos++
    return JSON.parse(sig.slice(start, pos))
  }
  function node () {
    const c = sig[pos++]
    switch (c) {
      case 'n': case 'b': case 'z': case 's':
        return { t: c }
      case '{': {
        const keys = []
        const values = []
        while (sig[pos] !== '}') {
          keys.push(key())
          values.push(node())
        }
        pos++
        return { t: '{', keys, values }
      }
      case '[': {
        if (sig[pos] === '*') {
          pos++
          const element = node()
          pos++ // ]
          return { t: '[*', element }
        }
        const items = []
        while (sig[pos] !== ']') items.push(node())
        pos++
        return { t: '[', items }
      }
      default:
        throw new Error(`sluice: bad shape signature at ${pos - 1}: ${sig}`)
    }
  }
  const root = node()
  if (pos !== sig.length) throw new Error(`sluice: trailing shape signature: ${sig}`)
  return root
}

/**
 * Compiles a signature into `build(N, S, O, cursor)`; `cursor` = { n, s } advances.
 *
 * The cursor is read into locals `n` and `s` for the record and written back at its end: V8 keeps
 * locals in registers, where the variables of an enclosing scope (which the builders shared with
 * their helpers before) are loaded and stored at every use. A call — an array's helper, or
 * numberNest — gets the cursor through `C` and gives it back the same way, `t` holding its value
 * meanwhile. Building the values of 10 MB (in-process, warm, against JSON.parse of the same lines):
 * Zeek logs 0.30× JSON.parse's time instead of 0.46×, GitHub API responses 0.32× instead of 0.56×,
 * the generated and GeoJSON records the same or a little less; the first, cold pass over generated
 * large records 15–18 ms instead of 25–31.
 */
function compileShape (sig) {
  const helpers = []
  function expr (node) {
    switch (node.t) {
      case 'n': return 'N[n++]'
      case 'b': return '(N[n++] === 1)'
      case 'z': return 'null'
      case 's': return 'S.slice(O[s], O[++s])'
      case '{': {
        const props = node.keys.map((k, i) => {
          const name = k === '__proto__' ? '["__proto__"]' : JSON.stringify(k)
          return `${name}: ${expr(node.values[i])}`
        })
        return `{${props.join(', ')}}`
      }
      case '[*': {
        const depth = numberNestDepth(node)
        // Through the shared builder (see numberNest), which moves only `n`.
        if (depth > 0) return `(C.n = n, t = numberNest(N, C, ${depth}), n = C.n, t)`
        const name = `h${helpers.length}`
        helpers.push(null)
        const body = expr(node.element)
        helpers[Number(name.slice(1))] = `function ${name} (N, S, O, C) {
  let n = C.n, s = C.s, t
  const len = N[n++]
  const a = new Array(len)
  for (let i = 0; i < len; i++) a[i] = ${body}
  C.n = n; C.s = s
  return a
}`
        return `(C.n = n, C.s = s, t = ${name}(N, S, O, C), n = C.n, s = C.s, t)`
      }
      case '[':
        // The length is in N for every array; a tuple knows its own.
        return `(n++, [${node.items.map(expr).join(', ')}])`
    }
  }
  const root = expr(parseSignature(sig))
  // N, S, O: the batch's numbers, string table and string ends; n, s: the cursor into N and O;
  // C: the caller's cursor object, through which calls take and give back n and s; t: a call's
  // value while the cursor is taken back.
  const source = `${helpers.join('\n')}
return function build (N, S, O, C) {
  let n = C.n, s = C.s, t
  const value = ${root}
  C.n = n; C.s = s
  return value
}`
  // eslint-disable-next-line no-new-func -- the whole point; keys are JSON.stringify'd.
  return new Function('numberNest', source)(numberNest)
}

/** How deep `node` nests uniform arrays down to numbers (`[*n]` 1, `[*[*n]]` 2, …), or 0. */
function numberNestDepth (node) {
  let depth = 0
  for (; node.t === '[*'; node = node.element) depth++
  return node.t === 'n' ? depth : 0
}

/**
 * Builds a nest of uniform number arrays, `depth` deep, from `N` at `C.n` (advanced past it):
 * GeoJSON's coordinates, rings and polygons. One function for every shape in the process rather
 * than a helper per level compiled into each shape: V8 optimizes each shape's helpers on its own,
 * each with its callees inlined, on background threads that, on a 2-core machine, compete with
 * the stream for its first few megabytes. On a 30 MB stream of GeoJSON counties those threads
 * spent ~72 ms of CPU with per-shape helpers and ~53 ms with this (median of 7, alternating),
 * and the stream ran ~10 % faster. The two innermost levels are loops here, not calls, so a point
 * costs no call, and a pair (a point) is an array literal: packed, as `JSON.parse` makes it, and
 * cheaper than `new Array(2)` and two stores (JS-thread CPU on GeoJSON −10–16 %, npm run bench).
 */
function numberNest (N, C, depth) {
  let n = C.n
  const len = N[n++]
  if (depth === 1 && len === 2) {
    C.n = n + 2
    return [N[n], N[n + 1]]
  }
  const a = new Array(len)
  if (depth === 1) {
    for (let i = 0; i < len; i++) a[i] = N[n++]
  } else if (depth === 2) {
    for (let i = 0; i < len; i++) {
      const m = N[n++]
      if (m === 2) {
        a[i] = [N[n], N[n + 1]]
        n += 2
      } else {
        const b = new Array(m)
        for (let j = 0; j < m; j++) b[j] = N[n++]
        a[i] = b
      }
    }
  } else {
    C.n = n
    for (let i = 0; i < len; i++) a[i] = numberNest(N, C, depth - 1)
    return a
  }
  C.n = n
  return a
}

/** The same, interpreted: no code generation. */
function interpretShape (sig) {
  const root = parseSignature(sig)
  return function build (N, S, O, cursor) {
    function value (node) {
      switch (node.t) {
        case 'n': return N[cursor.n++]
        case 'b': return N[cursor.n++] === 1
        case 'z': return null
        case 's': {
          const k = cursor.s++
          return S.slice(O[k], O[k + 1])
        }
        case '{': {
          const obj = {}
          for (let i = 0; i < node.keys.length; i++) {
            Object.defineProperty(obj, node.keys[i], { value: value(node.values[i]), writable: true, enumerable: true, configurable: true })
          }
          return obj
        }
        case '[*': {
          const a = new Array(N[cursor.n++])
          for (let i = 0; i < a.length; i++) a[i] = value(node.element)
          return a
        }
        case '[':
          cursor.n++
          return node.items.map(value)
      }
    }
    return value(root)
  }
}

let codegen = true

// Builders are shared by every parser in the process, by signature: each stream numbers its own
// shapes, but the same records seen by many short-lived parsers (one per request body) compile
// once instead of once per stream (compiling was ~4 % of a one-line parser's life, plus garbage).
// Bounded by entries and by signature text, oldest first out, so that a stream of ever-new
// shapes cannot grow it without limit.
const CACHE_ENTRIES = 4096
const CACHE_CHARS = 4 * 1024 * 1024
const cache = new Map()
let cacheChars = 0

/** A builder for `sig`: compiled when the runtime allows it, interpreted otherwise. */
function shapeBuilder (sig) {
  let build = cache.get(sig)
  if (build !== undefined) return build
  build = newBuilder(sig)
  cache.set(sig, build)
  cacheChars += sig.length
  while (cache.size > CACHE_ENTRIES || cacheChars > CACHE_CHARS) {
    const oldest = cache.keys().next().value
    cache.delete(oldest)
    cacheChars -= oldest.length
  }
  return build
}

function newBuilder (sig) {
  if (codegen) {
    try {
      return compileShape(sig)
    } catch (err) {
      if (!(err instanceof EvalError)) throw err
      codegen = false
    }
  }
  return interpretShape(sig)
}

module.exports = { compileShape, interpretShape, parseSignature, shapeBuilder }
