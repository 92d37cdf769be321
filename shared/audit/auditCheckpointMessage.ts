import { canonicalJson } from '../canonical/canonicalJson.js'

/** Type tag inside every signed checkpoint message. */
export const AUDIT_CHECKPOINT_TAG = 'bursar.audit.checkpoint.v1'

export type AuditCheckpointMessageParameters = { seq: number; head: string; time: number; chain?: string | undefined }

/**
 * The exact bytes the enclave signs (Ed25519) for a checkpoint:
 * UTF-8 canonicalJson({ t: 'bursar.audit.checkpoint.v1', seq, head, time }),
 * i.e. `{"head":"0x…","seq":N,"t":"bursar.audit.checkpoint.v1","time":MS}`. Issue 15 step 4: a non-root chain's
 * checkpoint adds `chain` (its 32-hex id) to the signed object; the root chain's ('' or absent) has none, as before.
 */
export function auditCheckpointMessage(params: AuditCheckpointMessageParameters): Uint8Array {
  const { seq, head, time, chain } = params
  return Buffer.from(canonicalJson({ t: AUDIT_CHECKPOINT_TAG, seq, head, time, chain: chain || undefined }), 'utf8')
}

/**
 * turn18: the bytes the enclave signs once per turn: UTF-8 canonicalJson({ t: 'bursar.audit.turn.v1', root, time })
 * (`{"root":"0x…","t":"bursar.audit.turn.v1","time":MS}`; a non-root chain's adds `chain`), `root` the Merkle root
 * over the turn's block heads (auditTurnRoot). Each block's checkpoint carries that signature and its own path.
 */
export const auditTurnMessage = (p: { root: string; time: number; chain?: string | undefined }): Uint8Array =>
  Buffer.from(canonicalJson({ t: 'bursar.audit.turn.v1', root: p.root, time: p.time, chain: p.chain || undefined }), 'utf8')
