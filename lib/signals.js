'use strict'

// The JS end of the signal hub (src/transport/hub.rs): one per environment (this module is
// loaded once per main thread or worker_threads worker), one native threadsafe function for
// every stream that waits on a signal from Rust — a throttle waiting for tokens today.
//
// Who holds what:
// * Every receiver gets an id for life (`nextId`), which the native side uses as the target of
//   its signals. `waiting` maps the id to the receiver only while it waits, so an idle receiver
//   is not kept from the garbage collector, and a signal for a receiver that stopped waiting
//   (destroyed) finds nobody and is dropped: no late callbacks. A receiver that waits for
//   something only its user can bring about (a paused throttle, resumed by a call on it) waits
//   `weakly`: held by a WeakRef, so one its user dropped is collected as a paused core stream
//   would be.
// * Keep-alive: the hub's TSFN is strong while at least one receiver that counts (`holdsProcess`)
//   waits, weak otherwise. A waiting throttle keeps the process alive, an idle one never does, and
//   one on a manual clock never does (only the test moves its time).
// * Exceptions thrown by user code while a receiver handles its signal (a 'data' listener run
//   by push()) are not ours: they escape as uncaught exceptions, as they would from core, but
//   only after every other signal of the batch was handled, so one stream's listener cannot
//   stall another stream.

const { setImmediate } = require('node:timers')
const native = require('./native.js')

const kSignal = Symbol('kSignal')
const kHolds = Symbol('kHolds')

let hub = null
let nextId = 1
const waiting = new Map()
// Receivers waiting weakly: id -> WeakRef; an entry whose receiver was collected is let go.
const weaklyWaiting = new Map()
const collected = new FinalizationRegistry((id) => {
  if (weaklyWaiting.get(id)?.deref() === undefined) weaklyWaiting.delete(id)
})
let holding = 0

function theHub () {
  if (hub === null) hub = new native.SignalHub(dispatch)
  return hub
}

function dispatch (signals) {
  let thrown = null
  for (let i = 0; i + 2 < signals.length; i += 3) {
    const receiver = waiting.get(signals[i]) ?? weaklyWaiting.get(signals[i])?.deref()
    if (receiver === undefined) continue
    try {
      receiver[kSignal](signals[i + 1], signals[i + 2])
    } catch (err) {
      if (thrown === null) thrown = [err]
      else thrown.push(err)
    }
  }
  if (thrown !== null) {
    for (const err of thrown.slice(1)) setImmediate(() => { throw err })
    throw thrown[0]
  }
}

/** An id for a new receiver, and the hub its signals come through. */
function enroll () {
  return { hub: theHub(), id: nextId++ }
}

/**
 * The receiver `id` waits for signals (it has a `[kSignal](kind, value)` method); `weakly`: only
 * as long as something else holds it (see the top of this file). A receiver waiting weakly does
 * not hold the process.
 */
function wait (id, receiver, holdsProcess, weakly = false) {
  if (waiting.has(id) || weaklyWaiting.has(id)) return
  if (weakly) {
    weaklyWaiting.set(id, new WeakRef(receiver))
    collected.register(receiver, id, receiver)
    return
  }
  waiting.set(id, receiver)
  receiver[kHolds] = holdsProcess
  if (holdsProcess && holding++ === 0) theHub().keepAlive(true)
}

/** The receiver `id` no longer waits: later signals for it are dropped. */
function stopWaiting (id) {
  const weak = weaklyWaiting.get(id)
  if (weak !== undefined) {
    weaklyWaiting.delete(id)
    const receiver = weak.deref()
    if (receiver !== undefined) collected.unregister(receiver)
    return
  }
  const receiver = waiting.get(id)
  if (receiver === undefined) return
  waiting.delete(id)
  if (receiver[kHolds] && --holding === 0) theHub().keepAlive(false)
}

/** Rounds of `dispatchQueued` at most: a chain of signals that never ends is a bug, not a wait. */
const MAX_DISPATCH_ROUNDS = 1e5

/**
 * Handles now whatever the native side has queued (a manual clock's advance, on this thread),
 * until nothing is: handling a signal can queue more that are due at the same instant (a group
 * member's next write, served at once, grants the piece of a member that waited for it), and a
 * test that advances the clock must see them before `advance` returns, as a real event loop
 * would handle them in its next turn. The first error thrown is rethrown at the end, the others
 * as uncaught exceptions (as `dispatch` does within a batch).
 */
function dispatchQueued () {
  if (hub === null) return
  let thrown = null
  for (let round = 0; round < MAX_DISPATCH_ROUNDS; round++) {
    const signals = hub.drain()
    if (signals.length === 0) break
    try {
      dispatch(signals)
    } catch (err) {
      if (thrown === null) thrown = err
      else setImmediate(() => { throw err })
    }
  }
  if (thrown !== null) throw thrown
}

module.exports = { kSignal, enroll, wait, stopWaiting, dispatchQueued }
