'use strict'

// BoundedBuffer (in 'block' mode) against the shared stream contract (./contract).

const test = require('ava')
const { registerContract } = require('./contract')

for (const descriptor of require('./contract/components/buffer.js')) registerContract(test, descriptor)
