'use strict'

// The Web Streams contract (__test__/web-contract/) for the faces in web-contract/components/ndjson.js (NdjsonParseStream).

const test = require('ava')
const { registerWebContract } = require('./web-contract')

for (const descriptor of require('./web-contract/components/ndjson.js')) registerWebContract(test, descriptor)
