import * as z from 'zod'

/** Governance's protocol version (its hello answers it; the host logs it). */
export const GOVERNANCE_PROTOCOL_VERSION = 1
export const GOVERNANCE_ENGINE = 'bursar-governance/0.1.0'

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes')

/**
 * Issue 12 stage B: what the host sends governance's process (the enclave's frame codec over its own socket).
 * `decide`: the signer's MACed view and its link key sealed under `governance-link`, as the signer answered ownerAct.
 */
export const GovernanceRequestSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hello'), protocolVersion: z.number().int() }),
  z.strictObject({ type: z.literal('decide'), view: bytes.refine((b) => b.length <= 4 << 20, 'view too long'), link: bytes.refine((b) => b.length <= 64 * 1024, 'link too long') }),
])
export type GovernanceRequest = z.infer<typeof GovernanceRequestSchema>
export const GovernanceHelloSchema = z.strictObject({ engine: z.string(), protocolVersion: z.number().int() })
export const GovernanceDecideSchema = z.strictObject({ decision: bytes })

/** Where governance listens beside an enclave: its unix socket + `.gov`, or the next TCP port (BURSAR_GOVERNANCE_LISTEN / BURSAR_GOVERNANCE override). */
export function governanceAddressOf(enclaveSpec: string): string {
  if (enclaveSpec.startsWith('unix:')) return `${enclaveSpec}.gov`
  const m = /^(tcp:.*):(\d{1,5})$/.exec(enclaveSpec)
  return m ? `${m[1]}:${Number(m[2]) + 1}` : `${enclaveSpec}.gov`
}
