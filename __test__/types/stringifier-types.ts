// Type-checked by __test__/typings.spec.js (not run). An unused `@ts-expect-error` is an error, so
// each one proves the type it guards.

import { NULL, NdjsonStringifier, NdjsonStringifierStats, SluiceError, UnserializableError, UnserializableValue } from '../..'

const s = new NdjsonStringifier({ newline: '\r\n', onUnserializable: 'skip', replacer: ['id', 1], readableHighWaterMark: 65536 })
new NdjsonStringifier({ replacer: (key, value) => (typeof value === 'bigint' ? String(value) : value) })
new NdjsonStringifier({ replacer: null })
// Boxed names, as JSON.stringify takes them.
new NdjsonStringifier({ replacer: [new String('id'), new Number(1)] })
// @ts-expect-error only '\n' and '\r\n'
new NdjsonStringifier({ newline: '\r' })
// @ts-expect-error 'error' or 'skip'
new NdjsonStringifier({ onUnserializable: 'drop' })

s.write(NULL)
s.write({ any: 'value' })
s.on('skip', (info) => {
  // @ts-expect-error index is a number
  const text: string = info.index
  void text
})
s.once('skip', (info: UnserializableValue) => { console.log(info.code, info.reason, info.value) })
s.on('data', (chunk: Buffer) => { console.log(chunk.length) })

const stats: NdjsonStringifierStats = s.stats()
// @ts-expect-error bytes is a number
const b: string = stats.bytes
void b

// The error an onUnserializable: 'error' stream fails with: its documented fields, typed.
s.on('error', (err: Error) => {
  if (err instanceof UnserializableError) {
    const index: number = err.index
    const reason: string = err.reason
    const value: unknown = err.value
    const code: string = err.code
    const base: SluiceError = err
    const info: UnserializableValue = err
    void index; void reason; void value; void code; void base; void info
    // @ts-expect-error the reason is a string
    const wrong: number = err.reason
    void wrong
  }
})

// The details some codes carry (ERR_SLUICE_BUFFER_OVERFLOW, the throttle's enforce mode).
function overflowDetails (err: SluiceError): number | undefined {
  return err.code === 'ERR_SLUICE_BUFFER_OVERFLOW' ? (err.capacity ?? 0) + (err.bufferedBytes ?? 0) + (err.size ?? 0) : err.tokens
}
void overflowDetails

// ERR_SLUICE_SHARED_GROUP_MISMATCH's details: the group's name (not err.name) and its settings.
function mismatchDetails (err: SluiceError): string {
  const group: string | undefined = err.group
  const initial: number | undefined = err.initialBurst
  // @ts-expect-error the group is named by a string
  const wrong: number | undefined = err.group
  void wrong
  return `${group} ${initial} ${err.rate} ${err.burst}`
}
void mismatchDetails

// The error classes' constructors, as they take their arguments.
const made = new SluiceError('ERR_SLUICE_EXAMPLE', 'a message', { cause: new Error('why') })
const unserializable = new UnserializableError({ index: 3, reason: 'a BigInt', value: 10n })
// @ts-expect-error the code comes first, then the message
new SluiceError()
// @ts-expect-error the value's index, reason and value
new UnserializableError('a message')
void made; void unserializable

// ERR_SLUICE_REVIVER: a SluiceError with the line and offset the reviver threw on.
function reviverPlace (err: SluiceError): string {
  return err.code === 'ERR_SLUICE_REVIVER' ? `${err.line ?? 0}:${err.offset ?? 0}` : ''
}
void reviverPlace
