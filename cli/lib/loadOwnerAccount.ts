import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import path from 'node:path'
import type { LocalAccount } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { BaseError } from '../../shared/errors/base.js'

export const DEFAULT_OWNER_KEY_FILE = path.join(homedir(), '.bursar', 'owner.key')

/** The owner key: --key-file, else BURSAR_OWNER_KEY (0x hex), else ~/.bursar/owner.key. */
export function loadOwnerAccount(keyFile?: string): LocalAccount {
  const env = process.env.BURSAR_OWNER_KEY
  if (!keyFile && env) return privateKeyToAccount(checkKey(env.trim(), 'BURSAR_OWNER_KEY'))
  const file = keyFile ?? DEFAULT_OWNER_KEY_FILE
  if (!existsSync(file)) {
    throw new BaseError('owner_key_missing', `No owner key at ${file}`, {
      metaMessages: ['Create one with `bursar owner key generate`, or set BURSAR_OWNER_KEY=0x…, or pass --key-file.'],
    })
  }
  return privateKeyToAccount(checkKey(readFileSync(file, 'utf8').trim(), file))
}

/** Writes a fresh owner key (0600) and returns its account. */
export function generateOwnerKeyFile(file = DEFAULT_OWNER_KEY_FILE, force = false): LocalAccount {
  if (existsSync(file) && !force) throw new BaseError('owner_key_exists', `${file} exists; pass --force to replace it`)
  mkdirSync(path.dirname(file), { recursive: true })
  const key = generatePrivateKey()
  writeFileSync(file, `${key}\n`, { mode: 0o600 })
  return privateKeyToAccount(key)
}

function checkKey(v: string, where: string): `0x${string}` {
  if (!/^0x[0-9a-fA-F]{64}$/.test(v)) throw new BaseError('owner_key_invalid', `${where} is not a 0x-prefixed 32-byte hex private key`)
  return v as `0x${string}`
}
