'use strict'

// The `where`/`select` benchmark scenarios (bench/filter.js): a corpus, the sluice options, the
// same filter or projection written the way a user would in a JS Transform after a peer parser,
// and the jq program doing the same.

const SCENARIOS = {
  where: {
    title: '`where` keeping one event type (~9 % of lines)',
    corpus: 'events',
    target: 5,
    sluice: () => ({ where: '.type == "PullRequestEvent"' }),
    js: (v) => (v.type === 'PullRequestEvent' ? v : undefined),
    jq: 'select(.type == "PullRequestEvent")',
  },
  select: {
    title: '`select` of 3 fields from large records (webhook payloads, ~10 KB)',
    corpus: 'webhooks',
    target: 4,
    sluice: () => ({ select: ['action', 'sender.login', 'repository.full_name'] }),
    js: (v) => {
      const out = {}
      if (v.action !== undefined) out.action = v.action
      if (v.sender?.login !== undefined) out.sender = { login: v.sender.login }
      if (v.repository?.full_name !== undefined) out.repository = { full_name: v.repository.full_name }
      return out
    },
    // jq writes null where a field is missing; close enough for a reference row.
    jq: '{action, sender: {login: .sender.login}, repository: {full_name: .repository.full_name}}',
  },
  lines: {
    title: "`where` with `output: 'lines'` into a counting sink (raw lines out)",
    corpus: 'events',
    target: null,
    targetMBs: 500,
    sluice: () => ({ where: '.type == "PullRequestEvent"', output: 'lines' }),
    js: (v) => (v.type === 'PullRequestEvent' ? v : undefined),
    jq: 'select(.type == "PullRequestEvent")',
  },
}

module.exports = { SCENARIOS }
