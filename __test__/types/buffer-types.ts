// Compiled by typings.spec.js: the BoundedBuffer declarations in use.
import { BoundedBuffer } from '../..'

// Arrays the caller keeps are taken read-only (`as const`, frozen ones).
const levels = [0.3, 0.5, 0.8] as const
const b = new BoundedBuffer({ objectMode: true, capacity: 10, overflow: 'drop-oldest', pressureLevels: levels })
const frozen = new BoundedBuffer({ capacityBytes: 1024, pressureLevels: Object.freeze([0.5]) })
b.on('drop', (d) => { const n: number = d.items.length; void n })
const discarded: number = b.stats().discarded + frozen.stats().discarded
void discarded
