import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { canonicalJson } from '../../shared/canonical/canonicalJson.js'
import type { DecodedAction } from '../../shared/schemas/decodedAction.js'

/** 0x + sha256 of canonical {agentId, action}: identifies "exactly this request" for pending approvals. */
export function actionDigest(agentId: string, action: DecodedAction): string {
  return `0x${bytesToHex(sha256(utf8ToBytes(canonicalJson({ agentId, action }))))}`
}
