'use strict'

// NdjsonStringifier against the shared Node stream contract (__test__/contract/).

const test = require('ava')
const { registerContract } = require('./contract')

for (const descriptor of require('./contract/components/stringifier.js')) registerContract(test, descriptor)
