'use strict'

// The clients of bench/throttle-scale.js, in their own child (so their work does not share an
// event loop with the server's). argv[2] is JSON: {port, clients, payloadBytes, share, timeoutMs}.
//
// Starts `clients` http.get requests at once through one Agent with room for all of them, and
// times each with performance.now(): request start (just before http.get), first body byte,
// last body byte, 'end'. Per client it derives achieved/share two ways:
//   firstLast  : the bytes after the first 'data' event / (last byte − first byte)
//                (the rate the body flowed at once it started; the first event's bytes are
//                excluded because they arrived at the start of the interval, not during it)
//   requestEnd : all bytes / (request start → 'end'): what the client experienced, connection
//                setup and any initial burst included
// Replies with those arrays (complete responses only) and counts; the parent summarises.

const fs = require('node:fs')
const http = require('node:http')
const common = require('./common.js')

function openFiles() {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
    const [soft, hard] = line.trim().split(/\s+/).slice(3, 5)
    return { soft, hard }
  } catch {
    return null
  }
}

common.runChildMain(async ({ port, clients, payloadBytes, share, timeoutMs }) => {
  // keepAlive off: one connection per client, closed after its response, like separate users.
  const agent = new http.Agent({ keepAlive: false, maxSockets: clients, maxTotalSockets: clients })
  const rec = Array.from({ length: clients }, () => ({ start: NaN, first: NaN, firstBytes: 0, last: NaN, end: NaN, bytes: 0, status: 0, error: null }))
  const snap = common.snapshot()
  await new Promise((resolve) => {
    let settled = 0
    const done = () => {
      if (++settled === clients) resolve()
    }
    const timer = setTimeout(() => {
      agent.destroy()
      resolve()
    }, timeoutMs)
    timer.unref()
    for (let i = 0; i < clients; i++) {
      const c = rec[i]
      c.start = performance.now()
      const req = http.get({ host: '127.0.0.1', port, path: `/c${i}`, agent }, (res) => {
        c.status = res.statusCode
        res.on('data', (buf) => {
          const t = performance.now()
          if (c.bytes === 0) {
            c.first = t
            c.firstBytes = buf.length
          }
          c.bytes += buf.length
          c.last = t
        })
        res.on('end', () => {
          c.end = performance.now()
          done()
        })
        res.on('error', (err) => {
          c.error = err.message
          done()
        })
      })
      req.on('error', (err) => {
        c.error = err.message
        done()
      })
    }
  })
  const d = common.since(snap)
  agent.destroy()

  const complete = rec.filter((c) => c.status === 200 && c.bytes === payloadBytes && Number.isFinite(c.end) && !c.error)
  const firstError = rec.find((c) => c.error)
  const ends = complete.map((c) => c.end)
  const ttfb = complete.map((c) => c.first - c.start).sort((a, b) => a - b)
  return {
    clients,
    complete: complete.length,
    errors: rec.filter((c) => c.error).length,
    firstError: firstError ? firstError.error : null,
    short: rec.filter((c) => !c.error && c.bytes !== payloadBytes).length,
    firstLast: complete.map((c) => (c.bytes - c.firstBytes) / ((c.last - c.first) / 1000) / share),
    requestEnd: complete.map((c) => c.bytes / ((c.end - c.start) / 1000) / share),
    firstBytesMax: Math.max(0, ...complete.map((c) => c.firstBytes)),
    ttfbMedianMs: ttfb.length ? ttfb[ttfb.length >> 1] : NaN,
    ttfbMaxMs: ttfb.length ? ttfb[ttfb.length - 1] : NaN,
    endSpreadS: ends.length ? (Math.max(...ends) - Math.min(...ends)) / 1000 : NaN,
    wallS: d.wallS,
    processCpuMs: d.processCpuS * 1000,
    threadCpuMs: d.threadCpuS * 1000,
    bgCores: d.bgCores,
    openFiles: openFiles(),
  }
})
