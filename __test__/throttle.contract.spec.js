'use strict'

// Throttle and ThrottleGroup members against the shared stream contract (./contract).

const test = require('ava')
const { registerContract } = require('./contract')

for (const descriptor of require('./contract/components/throttle.js')) registerContract(test, descriptor)
