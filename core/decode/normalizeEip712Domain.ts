import { type Hex, type TypedDataDomain, getTypesForEIP712Domain } from 'viem'
import type { TypedDataJson } from '../../shared/schemas/agentRequest.js'
import { sameFields } from './checkStructTypes.js'
import { parseEip712Integer } from './parseEip712Integer.js'

export type NormalizeEip712DomainReturnType =
  | { ok: true; domain: TypedDataDomain & { chainId?: number }; chainId: number | null }
  | { ok: false; message: string }

const SALT = /^0x[0-9a-fA-F]{64}$/

/**
 * Turns a JSON EIP-712 domain into viem's form and checks it: chainId a
 * positive safe integer, salt exactly bytes32, and an `EIP712Domain` type, if
 * the agent sent one, exactly the fields the domain uses in canonical order
 * (so what is hashed is what policy sees).
 */
export function normalizeEip712Domain(typedData: TypedDataJson): NormalizeEip712DomainReturnType {
  const d = typedData.domain
  const domain: TypedDataDomain & { chainId?: number } = {}
  if (d.name !== undefined) domain.name = d.name
  if (d.version !== undefined) domain.version = d.version
  let chainId: number | null = null
  if (d.chainId !== undefined) {
    const n = parseEip712Integer(d.chainId, { signed: false, bits: 256 })
    if (n === undefined || n === 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) {
      return { ok: false, message: 'domain.chainId is not a positive safe integer' }
    }
    chainId = Number(n)
    domain.chainId = chainId
  }
  if (d.verifyingContract !== undefined) domain.verifyingContract = d.verifyingContract as Hex
  if (d.salt !== undefined) {
    if (!SALT.test(d.salt)) return { ok: false, message: 'domain.salt is not bytes32' }
    domain.salt = d.salt as Hex
  }
  const declared = Object.hasOwn(typedData.types, 'EIP712Domain') ? typedData.types.EIP712Domain : undefined
  if (declared !== undefined && !sameFields(declared, getTypesForEIP712Domain({ domain }))) {
    return { ok: false, message: 'types.EIP712Domain does not match the domain fields' }
  }
  return { ok: true, domain, chainId }
}
