'use strict'

// "minimal-js": the best NDJSON parser a user could write in ~40 lines of plain JS, used as a
// peer so the benchmark shows what the addon buys over hand-written code, not just over npm.
// Same design as the minimal-js of research/peers-baseline.md, minus its BOM/null handling
// (the corpora contain neither): one decode per chunk, split on '\n' with String#indexOf, one
// JSON.parse per line, empty lines skipped, nothing else wrapped or skipped.

const { Transform } = require('node:stream')

class MinimalNdjson extends Transform {
  constructor() {
    super({ readableObjectMode: true })
    // Bytes after the last '\n' seen so far. A list, concatenated once per completed line, so a
    // line spread over many chunks costs O(length), not O(length²) as with string +=.
    this._tail = []
  }

  _transform(chunk, _encoding, callback) {
    const nl = chunk.lastIndexOf(10)
    if (nl === -1) {
      this._tail.push(chunk)
      return callback()
    }
    let text
    if (this._tail.length === 0) {
      text = chunk.toString('utf8', 0, nl)
    } else {
      // Decoding only whole lines means a multibyte character can never be split by a chunk edge.
      this._tail.push(chunk.subarray(0, nl))
      text = Buffer.concat(this._tail).toString('utf8')
      this._tail = []
    }
    if (nl + 1 < chunk.length) this._tail.push(chunk.subarray(nl + 1))
    callback(this._parseLines(text))
  }

  _flush(callback) {
    const rest = this._tail.length ? Buffer.concat(this._tail).toString('utf8') : ''
    this._tail = []
    callback(this._parseLines(rest))
  }

  // Returns an error instead of throwing, so it always reaches the stream through the callback.
  _parseLines(text) {
    try {
      let start = 0
      let end
      while ((end = text.indexOf('\n', start)) !== -1) {
        if (end > start) this.push(JSON.parse(text.slice(start, end)))
        start = end + 1
      }
      if (start < text.length) this.push(JSON.parse(text.slice(start)))
      return null
    } catch (err) {
      return err
    }
  }
}

module.exports = { MinimalNdjson }
