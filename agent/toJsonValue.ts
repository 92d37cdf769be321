/**
 * Deep copy with every bigint turned into its decimal string, so viem values
 * (amounts, nonces, gas) serialize exactly and the agent request stays JSON.
 */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`
  if (Array.isArray(value)) return value.map(toJsonValue)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    const keys = Object.keys(value) // own enumerable string keys, as Object.entries (no [k, v] pair per key)
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      const v = (value as Record<string, unknown>)[k]
      if (v !== undefined) out[k] = toJsonValue(v)
    }
    return out
  }
  return value
}
