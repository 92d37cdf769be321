/**
 * bursar/agent: the agent-side SDK. Agents hold only an Ed25519 request key;
 * wallet keys stay in the bursar enclave. Entry point of the package export.
 */
export { bursarAccount } from './bursarAccount.js'
export type { BursarAccountParameters } from './bursarAccount.js'
export { createPayingFetch } from './createPayingFetch.js'
export type { CreatePayingFetchParameters, PayingFetch, PayingFetchOptions, PayingScheme } from './createPayingFetch.js'
export type { BursarBatchSettlementOptions } from './batchSettlementScheme.js'
export { PaymentIdentifierStore, generatePaymentId, isValidPaymentId } from './paymentIdentifier.js'
export { generateAgentKey } from './generateAgentKey.js'
export type { GenerateAgentKeyParameters } from './generateAgentKey.js'
export { AgentKeySchema, loadAgentKey } from './loadAgentKey.js'
export type { AgentKey } from './loadAgentKey.js'
export { requestSignature } from './requestSignature.js'
export { SECP256K1_ENGINE } from './recoverSecp256k1.js'
export type { Secp256k1Engine } from './recoverSecp256k1.js'
export type { AgentOperation, AgentRequestContext, RequestSignatureParameters, SignResponse } from './requestSignature.js'
export {
  AGENT_ERROR_CODES,
  AgentFrozenError,
  AgentKeyError,
  AgentRevokedError,
  ApprovalPendingError,
  BursarRequestError,
  EnclaveUnavailableError,
  PaymentIdConflictError,
  RequestOutcomeUnknownError,
  PolicyDeniedError,
} from './errors.js'
export { readAgentPayments, readAgentStatus } from './agentRead.js'
export { ReceiptInvalidError, StateRollbackError } from './checkReceipt.js'
export type { CheckedReceipt } from './checkReceipt.js'
export { ReceiptMarks } from './ReceiptMarks.js'
export type { ReceiptMark, ReceiptMarksBefore } from './ReceiptMarks.js'
export { waitForApproval } from './waitForApproval.js'
export type { ApprovalOutcome, WaitForApprovalParameters } from './waitForApproval.js'
export type { AgentPayments, AgentReadParameters } from './agentRead.js'
export { createPayingMcpClient } from './mcp/createPayingMcpClient.js'
export type { CreatePayingMcpClientParameters, PaidToolCall, PayingMcpClient } from './mcp/createPayingMcpClient.js'
