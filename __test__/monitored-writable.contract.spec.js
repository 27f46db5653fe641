'use strict'

// MonitoredWritable, both forms, against the writable side of the shared stream contract
// (./contract, `kind: 'writable'`). meter.spec.js covers what is specific to it: its counts,
// backpressure accounting, stalls and what wrap() forwards.

const test = require('ava')
const { registerContract } = require('./contract')

for (const descriptor of require('./contract/components/monitored-writable.js')) registerContract(test, descriptor)
