// Writes the TypeScript SDK's request bytes for a fixed key to clients/python/tests/vectors/ts_requests.json,
// which the Python SDK's tests must reproduce byte for byte (agent/pythonVectors.test.ts keeps the file current).
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { repoRoot } from './lib/startStack.js'
import { tsRequestVectors, vectorKey } from './lib/tsRequestVectors.js'

const file = path.join(repoRoot, 'clients/python/tests/vectors/ts_requests.json')
writeFileSync(file, `${JSON.stringify({ agentKey: vectorKey(), vectors: await tsRequestVectors() }, null, 2)}\n`)
console.log(`wrote ${path.relative(repoRoot, file)}`)
