'use strict'

// The Web Streams contract (__test__/web-contract/) for the faces in web-contract/components/stringifier.js (NdjsonStringifyStream).

const test = require('ava')
const { registerWebContract } = require('./web-contract')

for (const descriptor of require('./web-contract/components/stringifier.js')) registerWebContract(test, descriptor)
