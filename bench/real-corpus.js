'use strict'

// Real-world NDJSON corpora for the benchmarks, built reproducibly from public data shipped in npm
// packages (devDependencies, so `npm install` is all it takes; nothing is fetched at run time).
//
//   webhooks   : GitHub webhook payloads, every example of every event in @octokit/webhooks-examples
//                (329 records, ~10 KB each, hundreds of keys, nearly every record its own shape)
//   rest       : GitHub REST API response examples from @octokit/openapi (components.examples,
//                lists flattened into their items): a catalog of ~700 records of ~450 different kinds
//   responses  : recorded GitHub API responses from @octokit/fixtures (issues, repos, labels,
//                contents, search results…): ~120 records of ~3 KB, few shapes, repeated
//   counties   : GeoJSON features of the 3 231 US counties (us-atlas + topojson-client): ~1 KB,
//                number-heavy coordinate arrays, two shapes (Polygon, MultiPolygon)
//   countries  : GeoJSON features of the 241 countries at 1:50m (world-atlas): ~16 KB, up to 600 KB
//   tweets     : 100 tweets from Twitter's search API (simdjson's twitter.json, kept in bench/data/
//                because its package needs a native build): ~4 KB, mostly Japanese text, ids,
//                counts, entity index pairs; each tweet nearly a shape of its own
//   zeek       : Zeek network logs in JSON, 874 lines of 23 log types (conn, dns, http, ssl, x509,
//                files, kerberos…) from real captures, shipped as test data in the PyPI packages
//                zat and parsezeeklogs (kept in bench/data/: no npm package ships real log lines):
//                ~370 bytes, timestamps, addresses, ports, byte counts, a shape per log type and
//                per set of fields present
//   turning    : counties for the first tenth of the file, then webhooks: a stream whose records turn
//                from numbers to plain strings (not in KINDS: bench/ndjson.js adds it to its table)
//
// Each source's records are compacted with JSON.stringify, then written round after round, every
// round in a new seeded shuffle, until the file reaches the requested size (it overshoots by less
// than one record). Same seed, same package versions: byte-identical files on every machine. Files
// live in bench/.corpus/ (gitignored) beside a meta file; a corpus is rebuilt when the file, the
// meta, the generator version or the source package's version changed.
//
// CLI: node bench/real-corpus.js <kind|all> <sizeMB>   (prints the meta)

const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const corpus = require('./corpus.js')
const { CORPUS_DIR, prng } = corpus

const GENERATOR_VERSION = 1
const SEED = 0x5eed1000

const isRecord = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The version of a source's data: its installed package's, or those its vendored files came from. */
function sourceVersion(src) {
  if (src.phases) return src.phases.map(([kind]) => sourceVersion(SOURCES[kind])).join('+')
  return src.vendored ? src.vendored.map((v) => v.version).join('+') : require(`${src.package}/package.json`).version
}

/** A file of bench/data/ (see its README), gunzipped and checked against the SHA-256 it had. */
function vendoredFile({ file, sha256 }) {
  const bytes = zlib.gunzipSync(fs.readFileSync(path.join(__dirname, 'data', file)))
  const actual = crypto.createHash('sha256').update(bytes).digest('hex')
  if (actual !== sha256) throw new Error(`bench/data/${file}: SHA-256 ${actual}, expected ${sha256}`)
  return bytes
}

const SOURCES = {
  webhooks: {
    package: '@octokit/webhooks-examples',
    licence: 'MIT',
    what: 'GitHub webhook payloads',
    records() {
      const events = require('@octokit/webhooks-examples/api.github.com/index.json')
      return events.flatMap((e) => e.examples).filter(isRecord)
    },
  },
  // Not one of bench/ndjson.js's corpora (`extra`): the `where` benchmark (bench/filter.js) needs
  // records with an event `type`, as GitHub's Events API (and GH Archive) carries them.
  events: {
    package: '@octokit/webhooks-examples',
    licence: 'MIT',
    what: 'GitHub events (Events API envelope: id, type, actor, repo, payload, public, created_at) around each webhook example',
    extra: true,
    records() {
      const events = require('@octokit/webhooks-examples/api.github.com/index.json')
      const pascal = (name) => name.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('')
      let id = 30000000000
      return events.flatMap((e) =>
        e.examples.filter(isRecord).map(({ sender, repository, organization, installation: _installation, ...payload }) => ({
          id: String(id++),
          type: `${pascal(e.name)}Event`,
          actor: sender ? { id: sender.id, login: sender.login, display_login: sender.login, gravatar_id: '', url: sender.url, avatar_url: sender.avatar_url } : null,
          repo: repository ? { id: repository.id, name: repository.full_name, url: repository.url } : null,
          payload,
          public: repository ? !repository.private : true,
          created_at: repository?.pushed_at ?? repository?.updated_at ?? '2024-01-01T00:00:00Z',
          ...(organization && { org: { id: organization.id, login: organization.login, url: organization.url, avatar_url: organization.avatar_url } }),
        })),
      )
    },
  },
  rest: {
    package: '@octokit/openapi',
    licence: 'MIT',
    what: 'GitHub REST response examples (catalog, many shapes)',
    records() {
      const file = path.join(path.dirname(require.resolve('@octokit/openapi/package.json')), 'generated', 'api.github.com.json')
      const examples = JSON.parse(fs.readFileSync(file, 'utf8')).components.examples
      const out = []
      for (const name of Object.keys(examples).sort()) {
        const v = examples[name].value
        for (const r of Array.isArray(v) ? v : [v]) if (isRecord(r)) out.push(r)
      }
      return out
    },
  },
  responses: {
    package: '@octokit/fixtures',
    licence: 'MIT',
    what: 'recorded GitHub API responses',
    records() {
      const dir = path.join(path.dirname(require.resolve('@octokit/fixtures/package.json')), 'scenarios', 'api.github.com')
      const out = []
      for (const scenario of fs.readdirSync(dir).sort()) {
        const file = path.join(dir, scenario, 'raw-fixture.json')
        if (!fs.existsSync(file)) continue
        for (const exchange of JSON.parse(fs.readFileSync(file, 'utf8'))) {
          let v = exchange.response
          if (typeof v === 'string') {
            try {
              v = JSON.parse(v)
            } catch {
              continue
            }
          }
          for (const r of Array.isArray(v) ? v : [v]) if (isRecord(r)) out.push(r)
        }
      }
      return out
    },
  },
  counties: {
    package: 'us-atlas',
    licence: 'ISC (data: US Census Bureau, public domain)',
    what: 'GeoJSON features, US counties',
    records() {
      const topo = require('topojson-client')
      const t = require('us-atlas/counties-10m.json')
      return topo.feature(t, t.objects.counties).features
    },
  },
  countries: {
    package: 'world-atlas',
    licence: 'ISC (data: Natural Earth, public domain)',
    what: 'GeoJSON features, countries 1:50m',
    records() {
      const topo = require('topojson-client')
      const t = require('world-atlas/countries-50m.json')
      return topo.feature(t, t.objects.countries).features
    },
  },
  tweets: {
    package: 'simdjson',
    licence: 'Apache-2.0 (tweets: Twitter search API sample)',
    what: 'tweets (Twitter search API)',
    vendored: [{ file: 'twitter.json.gz', version: '0.9.2', sha256: 'a08b769f32b95f426cbc3abafcec65c1a19d3eb544d4ddf320eae142c99efc5d' }],
    records() {
      return JSON.parse(vendoredFile(this.vendored[0])).statuses
    },
  },
  zeek: {
    package: 'zat + parsezeeklogs (PyPI)',
    licence: 'MIT (zat), Apache-2.0 (parsezeeklogs)',
    what: 'Zeek network logs, JSON (23 log types)',
    vendored: [
      { file: 'zeek-zat.ndjson.gz', version: '0.4.9', sha256: 'a10ea507b4ca011452f869ee8a3e83d33e0d55574d3007190b962abd3657a179' },
      { file: 'zeek-parsezeeklogs.ndjson.gz', version: '3.0.1', sha256: '4bfbb7ead6cf1fbf82af3372fbab45cb6f8ddaa3190daf9a56acffe5a145845c' },
    ],
    records() {
      return this.vendored.flatMap((v) =>
        vendoredFile(v)
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line)),
      )
    },
  },
}

SOURCES.turning = {
  package: 'us-atlas + @octokit/webhooks-examples',
  licence: 'ISC, MIT (as counties, webhooks)',
  what: 'GeoJSON counties (first 10 %), then GitHub webhook payloads',
  extra: true,
  // Each phase's records, shuffled round after round as a source's are, to its share of the size.
  phases: [['counties', 0.1], ['webhooks', 0.9]],
}

const KINDS = Object.keys(SOURCES).filter((k) => !SOURCES[k].extra)
/** Every corpus the parser's benchmarks take: the real ones (`real-…`, with `turning`), then the generated ones. */
const BENCH_KINDS = [...[...KINDS, 'turning'].map((k) => `real-${k}`), ...corpus.KINDS]

/** The meta of a corpus named as in BENCH_KINDS, built if needed. */
function ensureBenchCorpus(kind, sizeMB, log) {
  return kind.startsWith('real-') ? ensureRealCorpus(kind.slice('real-'.length), sizeMB, log) : corpus.ensureCorpus(kind, sizeMB, log)
}

function corpusPaths(kind, sizeMB) {
  const base = path.join(CORPUS_DIR, `real-${kind}-${sizeMB}MB`)
  return { file: base + '.ndjson', meta: base + '.meta.json' }
}

function readMeta(kind, sizeMB) {
  const p = corpusPaths(kind, sizeMB)
  try {
    const meta = JSON.parse(fs.readFileSync(p.meta, 'utf8'))
    if (meta.version !== GENERATOR_VERSION) return null
    if (meta.packageVersion !== sourceVersion(SOURCES[kind])) return null
    if (fs.statSync(p.file).size !== meta.bytes) return null
    return { ...meta, path: p.file }
  } catch {
    return null
  }
}

/** The source's records as compact JSON lines (without newlines), in the package's order. */
function sourceLines(kind) {
  const src = SOURCES[kind]
  if (!src) throw new Error(`unknown real corpus "${kind}"`)
  if (src.phases) return src.phases.flatMap(([phase]) => sourceLines(phase))
  return src.records().map((r) => JSON.stringify(r))
}

function generate(kind, sizeMB) {
  const src = SOURCES[kind]
  const phases = src.phases ?? [[kind, 1]]
  const p = corpusPaths(kind, sizeMB)
  fs.mkdirSync(CORPUS_DIR, { recursive: true })
  const tmp = p.file + '.tmp'
  const fd = fs.openSync(tmp, 'w')
  const r = prng(SEED)
  let bytes = 0
  let records = 0
  let share = 0
  let sourceRecords = 0
  const distinct = new Set()
  try {
    for (const [phase, part] of phases) {
      const lines = sourceLines(phase)
      sourceRecords += lines.length
      for (const line of lines) distinct.add(line)
      const order = lines.map((_, i) => i)
      share += part
      const target = sizeMB * 1e6 * share
      while (bytes < target) {
        // One round: every source record once, in a fresh seeded order (Fisher–Yates).
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(r.next() * (i + 1))
          ;[order[i], order[j]] = [order[j], order[i]]
        }
        const pending = []
        for (const i of order) {
          if (bytes >= target) break
          const line = lines[i] + '\n'
          pending.push(line)
          bytes += Buffer.byteLength(line)
          records++
        }
        fs.writeSync(fd, pending.join(''))
      }
    }
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, p.file)
  const meta = {
    version: GENERATOR_VERSION,
    kind: `real-${kind}`,
    what: src.what,
    package: src.package,
    packageVersion: sourceVersion(src),
    licence: src.licence,
    sourceRecords,
    distinctRecords: distinct.size,
    sizeMB,
    bytes,
    records,
    seed: SEED,
  }
  fs.writeFileSync(p.meta, JSON.stringify(meta, null, 2) + '\n')
  return { ...meta, path: p.file }
}

/** Returns {path, bytes, records, ...}, building the corpus first if needed. */
function ensureRealCorpus(kind, sizeMB, log = () => {}) {
  const meta = readMeta(kind, sizeMB)
  if (meta) return meta
  const t0 = performance.now()
  log(`building real-world corpus ${kind} (${sizeMB} MB) from ${SOURCES[kind].package} ...`)
  const out = generate(kind, sizeMB)
  log(`  ${out.records} records, ${out.bytes} bytes in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  return out
}

module.exports = { KINDS, BENCH_KINDS, SOURCES, ensureRealCorpus, ensureBenchCorpus, sourceLines }

if (require.main === module) {
  const [kind, size] = process.argv.slice(2)
  if (!kind || !size) {
    console.error(`usage: node bench/real-corpus.js <${KINDS.join('|')}|all> <sizeMB>`)
    process.exit(2)
  }
  for (const k of kind === 'all' ? KINDS : [kind]) console.log(ensureRealCorpus(k, Number(size), (m) => console.error(m)))
}
