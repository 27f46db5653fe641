'use strict'

// The native addon, loaded once through lib/loader.js (which explains any failure). Every lib
// module requires this file, never ../binding.js.

module.exports = require('./loader.js').load()
