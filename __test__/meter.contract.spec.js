'use strict'

// Meter against the shared stream contract (./contract). MonitoredWritable, a Writable, registers
// in the contract's writable side: monitored-writable.contract.spec.js.

const test = require('ava')
const { registerContract } = require('./contract')

for (const descriptor of require('./contract/components/meter.js')) registerContract(test, descriptor)
