// sluice/web as an ES module: the CommonJS module's names, re-exported.
// Loaded with createRequire for the reason given in ./index.mjs.
import { createRequire } from 'node:module'

const web = createRequire(import.meta.url)('./web.js')

export const { NdjsonParseStream, NdjsonStringifyStream, NULL, ThrottleStream, MeterStream, BoundedBufferStream, MonitoredWritableStream } = web

export default web
