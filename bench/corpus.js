'use strict'

// Deterministic NDJSON corpora for the benchmarks.
//
// Every corpus comes from a seeded PRNG, so two machines (or two runs) measure byte-identical
// input. Files live in bench/.corpus/ (gitignored) next to a small JSON "meta" file that records
// the byte size and record count; a corpus is regenerated only when the file or its meta is
// missing, the sizes disagree, or GENERATOR_VERSION changed.
//
//   small  : ~100 B flat records, 7 scalar ASCII fields
//   medium : ~1 KB nested records; raw multibyte UTF-8 (é, 日本, emoji) and \uXXXX escapes,
//            including escaped surrogate pairs
//   large  : ~64 KB records, {id, source, count, batch: [60–69 medium-like objects]}
//
// CLI: node bench/corpus.js <small|medium|large> <sizeMB>   (prints the meta)

const fs = require('node:fs')
const path = require('node:path')

const CORPUS_DIR = path.join(__dirname, '.corpus')
// Bump when the record shapes change, so stale corpora are rebuilt instead of silently reused.
const GENERATOR_VERSION = 1
const SEEDS = { small: 0x5eed0001, medium: 0x5eed0002, large: 0x5eed0003 }

// mulberry32: tiny, fast and good enough for synthetic data; Math.random() can't be seeded.
function prng(seed) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1))
  const pick = (arr) => arr[Math.floor(next() * arr.length)]
  const word = (lo, hi) => {
    let s = ''
    for (let n = int(lo, hi); n > 0; n--) s += ALPHA[Math.floor(next() * 26)]
    return s
  }
  return { next, int, pick, word }
}

const ALPHA = 'abcdefghijklmnopqrstuvwxyz'
const EVENTS = ['view', 'click', 'scroll', 'purchase', 'signup', 'logout', 'search']
const COUNTRIES = ['DE', 'FR', 'JP', 'US', 'BR', 'IN', 'CH', 'SE']
const CITIES = ['Zürich', 'Malmö', 'São Paulo', '東京', '大阪', 'Kraków', 'Reykjavík', 'Córdoba']
// Left as raw UTF-8 by JSON.stringify: 2-, 3- and 4-byte sequences.
const RAW_WORDS = ['café', 'naïve', 'résumé', '日本', '日本語', 'données', '😀', '🚀', 'Ωmega', 'Ünïcødé']
// Written as \uXXXX escapes by escapeSome() below (☃, ♥ and two astral characters, which become
// escaped surrogate pairs), so the parser's escape handling is exercised on every medium record.
const ESCAPED_WORDS = ['☃', '♥', '𝄞', '🎵', 'snow☃man', 'clef𝄞']
const ESCAPE_RE = /[\u2603\u2665]|\ud834\udd1e|\ud83c\udfb5/g
const escapeSome = (json) =>
  json.replace(ESCAPE_RE, (m) => {
    let out = ''
    for (let i = 0; i < m.length; i++) out += '\\u' + m.charCodeAt(i).toString(16).padStart(4, '0')
    return out
  })

function smallRecord(r, i) {
  // 7 flat scalar fields, ~100 bytes once serialised.
  return {
    id: i,
    ts: 1732300000000 + i * 37 + r.int(0, 36),
    user: 'u' + r.int(10000, 99999),
    event: r.pick(EVENTS),
    amt: r.int(0, 999999) / 100,
    ok: r.next() < 0.9,
    country: r.pick(COUNTRIES),
  }
}

function text(r, lo, hi) {
  // Mostly ASCII words, with raw multibyte and to-be-escaped characters sprinkled in; JSON.stringify
  // adds the usual \" \\ \n \t escapes for the punctuation.
  const parts = []
  for (let n = r.int(lo, hi); n > 0; n--) {
    const x = r.next()
    if (x < 0.12) parts.push(r.pick(RAW_WORDS))
    else if (x < 0.16) parts.push(r.pick(ESCAPED_WORDS))
    else if (x < 0.18) parts.push(r.pick(['"quoted"', 'back\\slash', 'tab\there', 'line\nbreak']))
    else parts.push(r.word(2, 9))
  }
  return parts.join(' ')
}

function mediumObject(r, i) {
  const items = []
  for (let n = r.int(3, 6); n > 0; n--) {
    items.push({
      sku: 'SKU-' + r.int(100000, 999999),
      qty: r.int(1, 20),
      price: r.int(99, 99999) / 100,
      title: text(r, 3, 7),
      tags: [r.word(3, 8), r.word(3, 8)],
    })
  }
  return {
    id: i,
    ts: new Date(1732300000000 + i * 1000).toISOString(),
    user: {
      id: r.int(1, 1e7),
      name: text(r, 2, 3),
      email: r.word(4, 10) + '@' + r.word(4, 8) + '.example',
      verified: r.next() < 0.5,
      geo: {
        lat: r.int(-90000000, 90000000) / 1e6,
        lon: r.int(-180000000, 180000000) / 1e6,
        city: r.pick(CITIES),
        country: r.pick(COUNTRIES),
      },
    },
    items,
    comment: text(r, 14, 38),
    flags: { a: r.next() < 0.5, b: null, c: r.int(0, 3) },
    score: r.int(0, 1e6) / 1e6,
  }
}

const serialisers = {
  small: (r, i) => JSON.stringify(smallRecord(r, i)),
  medium: (r, i) => escapeSome(JSON.stringify(mediumObject(r, i))),
  large: (r, i) => {
    const batch = []
    for (let n = r.int(60, 69), k = 0; k < n; k++) batch.push(mediumObject(r, i * 100 + k))
    return escapeSome(JSON.stringify({ id: i, source: 'shard-' + r.int(0, 15), count: batch.length, batch }))
  },
}

function corpusPaths(kind, sizeMB) {
  const base = path.join(CORPUS_DIR, `${kind}-${sizeMB}MB`)
  return { file: base + '.ndjson', meta: base + '.meta.json' }
}

function readMeta(kind, sizeMB) {
  const p = corpusPaths(kind, sizeMB)
  try {
    const meta = JSON.parse(fs.readFileSync(p.meta, 'utf8'))
    if (meta.version !== GENERATOR_VERSION) return null
    if (fs.statSync(p.file).size !== meta.bytes) return null
    return { ...meta, path: p.file }
  } catch {
    return null
  }
}

// Writes records until the file reaches sizeMB * 1e6 bytes (it overshoots by < 1 record).
function generate(kind, sizeMB) {
  const serialise = serialisers[kind]
  if (!serialise) throw new Error(`unknown corpus kind "${kind}"`)
  const p = corpusPaths(kind, sizeMB)
  fs.mkdirSync(CORPUS_DIR, { recursive: true })
  // Write to a temp name and rename, so an interrupted run never leaves a plausible-looking file.
  const tmp = p.file + '.tmp'
  const fd = fs.openSync(tmp, 'w')
  const target = sizeMB * 1e6
  const r = prng(SEEDS[kind])
  let bytes = 0
  let records = 0
  let pending = []
  let pendingLen = 0
  try {
    while (bytes < target) {
      const line = serialise(r, records) + '\n'
      records++
      bytes += Buffer.byteLength(line)
      pending.push(line)
      pendingLen += line.length
      if (pendingLen >= 1 << 20) {
        fs.writeSync(fd, pending.join(''))
        pending = []
        pendingLen = 0
      }
    }
    if (pending.length) fs.writeSync(fd, pending.join(''))
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, p.file)
  const meta = { version: GENERATOR_VERSION, kind, sizeMB, bytes, records, seed: SEEDS[kind] }
  fs.writeFileSync(p.meta, JSON.stringify(meta, null, 2) + '\n')
  return { ...meta, path: p.file }
}

/** Returns {path, bytes, records, ...}, generating the corpus first if needed. */
function ensureCorpus(kind, sizeMB, log = () => {}) {
  const meta = readMeta(kind, sizeMB)
  if (meta) return meta
  const t0 = performance.now()
  log(`generating ${kind} corpus (${sizeMB} MB) ...`)
  const out = generate(kind, sizeMB)
  log(`  ${out.records} records, ${out.bytes} bytes in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return out
}

/** `n` bytes' worth of complete small records, in memory (for scenarios that need no file). */
function smallRecordsBuffer(n) {
  const r = prng(SEEDS.small)
  const lines = []
  let bytes = 0
  for (let i = 0; bytes < n; i++) {
    const line = serialisers.small(r, i) + '\n'
    lines.push(line)
    bytes += line.length
  }
  return Buffer.from(lines.join(''))
}

module.exports = { CORPUS_DIR, ensureCorpus, smallRecordsBuffer, prng, KINDS: Object.keys(serialisers) }

if (require.main === module) {
  const [kind, size] = process.argv.slice(2)
  if (!kind || !size) {
    console.error('usage: node bench/corpus.js <small|medium|large> <sizeMB>')
    process.exit(2)
  }
  console.log(ensureCorpus(kind, Number(size), (m) => console.error(m)))
}
