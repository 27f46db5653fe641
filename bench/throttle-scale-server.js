'use strict'

// The server side of bench/throttle-scale.js, in its own child. argv[2] is JSON:
//   {impl, mode: 'single' | 'group', rate, payloadBytes, chunk, clients}
// mode single: every response gets its own throttle at `rate` B/s; group: every response is a
// member of one group at `rate` B/s, and bodies start once all `clients` requests are in (the
// connects take a few hundred ms; without that barrier the first arrivals rightly get the whole
// group's rate while alone, and "each client gets its share" would measure the connect spread). Each response is `payloadBytes` from memory in `chunk`-sized
// pieces, piped through its throttle into the response (Content-Length set, so the client can
// tell a complete body from a cut one).
//
// Talks to the parent over IPC:
//   → {type: 'listening', port, openFiles}   once listening on 127.0.0.1 (ephemeral port)
//   ← {type: 'go'}   → {type: 'going'}       counters and CPU start here, just before the clients
//   ← {type: 'stop'} → {type: 'stats', ...}  then the server closes and the process ends on its own
// The parent counts this process's OS threads from outside (/proc/<pid>/task), so the sampling
// costs the server nothing.

const fs = require('node:fs')
const http = require('node:http')
const { pipeline } = require('node:stream')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const common = require('./common.js')
const { impl: implOf, statsOf } = require('./throttles.js')

const LOOP_RESOLUTION_MS = 10

/** "Max open files" soft and hard limits of this process (Node raises soft to hard at startup). */
function openFiles() {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
    const [soft, hard] = line.trim().split(/\s+/).slice(3, 5)
    return { soft, hard }
  } catch {
    return null
  }
}

function main() {
  const { impl: name, mode, rate, payloadBytes, chunk, clients } = JSON.parse(process.argv[2])
  const im = implOf(name)
  let make
  if (mode === 'group') {
    if (!im.group) throw new Error(`${name} has no group`)
    make = im.group({ rate })
  } else if (mode === 'single') {
    make = () => im.single({ rate })
  } else throw new Error(`unknown mode "${mode}"`)

  const payload = Buffer.alloc(payloadBytes, 0x61)
  const throttles = []
  const s = { requests: 0, responses: 0, served: 0, errors: 0, firstError: null }
  const eld = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
  let snap = null

  const held = []
  const start = (res, thr) => {
    pipeline(common.memorySource(payload, chunk), thr, res, (err) => {
      if (err) {
        s.errors++
        if (s.firstError === null) s.firstError = err.message
      } else {
        s.responses++
        s.served += payloadBytes
      }
    })
  }
  const server = http.createServer((req, res) => {
    req.resume()
    s.requests++
    const thr = make()
    throttles.push(thr)
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': payloadBytes })
    if (mode !== 'group') return start(res, thr)
    held.push([res, thr])
    if (held.length === clients) for (const [r, t] of held.splice(0)) start(r, t)
  })
  // 1,000 connects arrive at once: the default backlog (511) would drop SYNs and delay some
  // clients by a retransmit (1 s+), which would read as a throttle unfairness. The kernel caps
  // this at net.core.somaxconn.
  server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
    process.send({ type: 'listening', port: server.address().port, openFiles: openFiles() })
  })

  process.on('message', (m) => {
    if (m.type === 'go') {
      eld.enable()
      snap = common.snapshot()
      process.send({ type: 'going' })
    } else if (m.type === 'stop') {
      const d = common.since(snap)
      eld.disable()
      const stats = statsOf(throttles)
      process.send(
        {
          type: 'stats',
          ...s,
          wallS: d.wallS,
          processCpuMs: d.processCpuS * 1000,
          threadCpuMs: d.threadCpuS * 1000,
          bgCores: d.bgCores,
          loopP99Ms: eld.percentile(99) / 1e6 - LOOP_RESOLUTION_MS,
          loopMaxMs: eld.max / 1e6 - LOOP_RESOLUTION_MS,
          statsUnits: stats ? stats.units : null,
        },
        () => {
          server.close()
          server.closeAllConnections()
          process.disconnect()
        },
      )
    }
  })
}

process.on('uncaughtException', (err) => {
  const error = `server: uncaught exception: ${err && err.stack ? err.stack : err}`
  if (process.connected) process.send({ type: 'error', error }, () => process.exit(1))
  else {
    console.error(error)
    process.exit(1)
  }
})
main()
