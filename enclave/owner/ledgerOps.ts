/** The signer's held-act and ledger-event application (core/owner/applyDueHeld.ts) with the Enclave as the shell. */
export { applyDueHeld, applyEvents } from '../../core/owner/applyDueHeld.js'
