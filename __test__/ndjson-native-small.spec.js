'use strict'

// The parser suites that feed small inputs (and the real-record one), run again with inline
// parsing off. A little input is
// normally parsed on the JS thread (lib/ndjson/inline.js) and only what that stage declines (an
// invalid line, a BOM, bulk input) reaches the native parser; here every input goes through the
// native parser, as bulk input does, so it stays checked on these small cases too (JSONTestSuite
// against V8, chunk-boundary equivalence against the model, the options). Together with the
// same files run as they are, both paths meet the same expectations.

require('../lib/ndjson/inline.js').inlineParsing.enabled = false

require('./ndjson-jsontestsuite.spec.js')
require('./ndjson-chunking.spec.js')
require('./ndjson-options.spec.js')
require('./ndjson.spec.js')
// Real records too: with inline parsing on, the plain-string corpora (GitHub payloads) are parsed
// on the JS thread in text mode; here they go through the native text path as well.
require('./ndjson-real.spec.js')

const test = require('ava')
const { NdjsonParser } = require('..')

test('here a small input goes through the native parser, not the inline one', async (t) => {
  const p = new NdjsonParser()
  p._jsStageData = () => { throw new Error('the inline stage ran') }
  p.end('{"a":1}\n2\n')
  const values = []
  for await (const v of p) values.push(v)
  t.deepEqual(values, [{ a: 1 }, 2])
})
