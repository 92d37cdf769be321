import { canonicalJson } from '../canonical/canonicalJson.js'

/** Type tag inside every signed checkpoint message. */
export const AUDIT_CHECKPOINT_TAG = 'bursar.audit.checkpoint.v1'

export type AuditCheckpointMessageParameters = { seq: number; head: string; time: number }

/**
 * The exact bytes the enclave signs (Ed25519) for a checkpoint:
 * UTF-8 canonicalJson({ t: 'bursar.audit.checkpoint.v1', seq, head, time }),
 * i.e. `{"head":"0x…","seq":N,"t":"bursar.audit.checkpoint.v1","time":MS}`.
 */
export function auditCheckpointMessage(params: AuditCheckpointMessageParameters): Uint8Array {
  const { seq, head, time } = params
  return Buffer.from(canonicalJson({ t: AUDIT_CHECKPOINT_TAG, seq, head, time }), 'utf8')
}
