/** gov36: the audit chain a CreateWallet/ImportWallet for the enclave behind host `url` names (GET /v1/attestation). */
export async function auditChainOf(url: string): Promise<string> {
  const r = await fetch(`${url.replace(/\/+$/, '')}/v1/attestation`)
  const body = (await r.json()) as { auditChain?: string; code?: string }
  if (!r.ok || !body.auditChain) throw new Error(`GET /v1/attestation at ${url}: ${r.status} ${body.code ?? ''}`)
  return body.auditChain
}
