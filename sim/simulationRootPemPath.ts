import { join } from 'node:path'

/** File name of the simulation root certificate: never trust it outside simulation. */
export const SIMULATION_ROOT_FILE = 'SIMULATION-ROOT-NOT-SECURE.pem'

/** Path of the simulation root PEM in `pkiDir`, to hand auditors as `--root` for simulated enclaves. */
export function simulationRootPemPath(pkiDir: string): string {
  return join(pkiDir, SIMULATION_ROOT_FILE)
}
