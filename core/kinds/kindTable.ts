import type { ActionKind, ActionOf, DecodedAction } from '../../shared/schemas/decodedAction.js'
import type { LedgerView } from '../state/stateTypes.js'
import type { ActionFacts, KindSpec } from './KindSpec.js'
import { authCaptureKind } from './authCaptureKind.js'
import { batchDepositKind } from './batchDepositKind.js'
import { batchVoucherKind } from './batchVoucherKind.js'
import { contractCallKind } from './contractCallKind.js'
import { eip3009Kind } from './eip3009Kind.js'
import { erc20ApproveKind } from './erc20ApproveKind.js'
import { erc20TransferKind } from './erc20TransferKind.js'
import { erc2612PermitKind } from './erc2612PermitKind.js'
import { nativeTransferKind } from './nativeTransferKind.js'
import { permit2AllowanceKind } from './permit2AllowanceKind.js'
import { permit2ApproveKind } from './permit2ApproveKind.js'
import { permit2TransferKind } from './permit2TransferKind.js'
import { rawMessageKind } from './rawMessageKind.js'
import { typedDataKind } from './typedDataKind.js'
import { uptoKind } from './uptoKind.js'

/** THE table of action kinds: every kind in ACTION_KINDS must be here, with every answer (a missing one is a compile error). */
export type KindTable = { readonly [K in ActionKind]: KindSpec<K> }

export const KINDS: KindTable = {
  eip3009: eip3009Kind,
  erc2612_permit: erc2612PermitKind,
  permit2_transfer: permit2TransferKind,
  upto: uptoKind,
  batch_deposit: batchDepositKind,
  batch_voucher: batchVoucherKind,
  auth_capture: authCaptureKind,
  permit2_allowance: permit2AllowanceKind,
  erc20_transfer: erc20TransferKind,
  erc20_approve: erc20ApproveKind,
  permit2_approve: permit2ApproveKind,
  native_transfer: nativeTransferKind,
  contract_call: contractCallKind,
  typed_data: typedDataKind,
  raw_message: rawMessageKind,
}

function spec<K extends ActionKind>(a: ActionOf<K>): KindSpec<K> {
  return KINDS[a.kind as K] as KindSpec<K>
}

/** The facts policy reads about an action, from its kind's module. */
export function factsOf(a: DecodedAction): ActionFacts {
  return spec(a).facts(a)
}

/** The action with its ledger-dependent fields filled (a batch voucher's signedBefore); in the writer, before policy. */
export function bindAction(a: DecodedAction, ledger: LedgerView): DecodedAction {
  const b = spec(a).bind
  return b ? b(a, ledger) : a
}

/** The audit/owner line of an action. */
export function describeAction(a: DecodedAction): string {
  return spec(a).describe(a)
}

/** The fields an approval of this action does not bind. */
export function approvalFreeFields(a: DecodedAction): readonly string[] {
  return spec(a).approvalFree as readonly string[]
}
