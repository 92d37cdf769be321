import type { DecodedAction } from '../../shared/schemas/decodedAction.js'

const KEYS = ['kind', 'primaryType', 'chainId', 'asset', 'amount', 'payTo', 'from', 'validAfter', 'validBefore', 'nonce']
const addr = (x: unknown): boolean => typeof x === 'string' && /^0x[0-9a-fA-F]{40}$/.test(x)
const secs = (x: number): boolean => Number.isSafeInteger(x) && x >= 0

/**
 * Issue 18 (cpu38): true only where DecodedActionSchema accepts an EIP-3009 action (the payments' kind, in
 * decodeEip3009's key order), by direct checks; false sends the action to the schema. Every string it accepts is
 * ASCII, so none has a lone surrogate either (eip3009InBounds.test.ts holds both against the schema).
 */
export function eip3009InBounds(a: DecodedAction): boolean {
  if (a.kind !== 'eip3009') return false
  let i = 0
  for (const k in a) if (k !== KEYS[i++]) return false
  const { primaryType: p, chainId, amount, nonce } = a
  return i === KEYS.length && (p === 'TransferWithAuthorization' || p === 'ReceiveWithAuthorization') && Number.isSafeInteger(chainId) && chainId > 0 &&
    addr(a.asset) && addr(a.payTo) && addr(a.from) && typeof amount === 'string' && /^(0|[1-9][0-9]{0,77})$/.test(amount) &&
    secs(a.validAfter) && secs(a.validBefore) && typeof nonce === 'string' && /^0x[0-9a-fA-F]{64}$/.test(nonce)
}
