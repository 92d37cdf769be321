import { buildEnclave } from '../scripts/buildEnclave.js'

/** Vitest global setup: builds the enclave and host bundles that integration tests spawn. */
export default async function setup(): Promise<void> {
  await buildEnclave({ quiet: true })
}
