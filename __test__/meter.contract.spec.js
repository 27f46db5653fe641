'use strict'

// Meter against the shared stream contract (./contract). MonitoredWritable is a Writable, not a
// Transform, so the contract's table does not apply to it; meter.spec.js covers its forwarding,
// errors, close and end.

const test = require('ava')
const { registerContract } = require('./contract')

for (const descriptor of require('./contract/components/meter.js')) registerContract(test, descriptor)
