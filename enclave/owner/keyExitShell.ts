import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { bytesToHex, hexToBytes } from 'viem'
import { publicKeyToAddress } from 'viem/accounts'
import { createWalletChange } from '../../core/owner/createWalletChange.js'
import { exitDue } from '../../core/owner/keyExit.js'
import { isOwner } from '../../core/owner/quorum.js'
import type { VerifiedOwnerAct } from '../../core/owner/verifyOwnerAct.js'
import type { KeyExit, WalletView } from '../../core/state/stateTypes.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { publicKeyOf } from '../sign/secp256k1Engine.js'
import { importKeyMessage, openFromX25519, sealToX25519, x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import type { Enclave } from '../Enclave.js'
import { OWNER_RULE } from '../state/loadState.js'

/** The wallet key sealed to the X25519 key the owners agreed on (bound to the wallet address): the host sees only this. */
export function exportSealedKey(wallet: WalletView, exit: KeyExit) {
  const sealed = sealToX25519(hexToBytes(exit.recipientKey), wallet.privateKey, wallet.address)
  return { address: wallet.address, recipientKey: exit.recipientKey, sealedKey: bytesToHex(sealed) }
}

/**
 * SECURITY: the enclave's X25519 import key, derived from its sealed receipt key (so it survives restarts) and vouched
 * for by a signature of the attested receipt key: an owner seals a key to it only after checking both.
 */
function importSecret(enclave: Enclave): Uint8Array {
  return hkdf(sha256, enclave.receiptKeyMaterial(), undefined, utf8ToBytes('bursar import key v1'), 32)
}
export function importKeyAnnouncement(enclave: Enclave) {
  const importKey = bytesToHex(x25519PublicKey(importSecret(enclave)))
  return { importKey, importKeySignature: bytesToHex(enclave.receiptSigner(importKeyMessage(importKey))) }
}

/**
 * ImportWallet: opens the sealed key with the import key and checks it is the named address's key. A new address
 * becomes a new wallet (CreateWallet's checks: freshness, nonce, admission); an exported wallet of this signer's owner
 * set signs again (the act must be signed after its exit took effect, so an older import cannot be replayed).
 */
export function importWallet(enclave: Enclave, act: Extract<VerifiedOwnerAct, { primaryType: 'ImportWallet' }>, tx: ReturnType<Enclave['beginTx']>) {
  const { owner, label, nonce, issuedAt, address: named, sealedKey } = act.message
  const now = enclave.now()
  let privateKey: Uint8Array
  let address: `0x${string}`
  try {
    privateKey = openFromX25519(importSecret(enclave), hexToBytes(sealedKey as `0x${string}`), named)
    address = publicKeyToAddress(bytesToHex(publicKeyOf(privateKey)))
  } catch (cause) {
    throw new EnclaveError('import_key_invalid', 'The sealed key does not open with this enclave’s import key', { cause })
  }
  if (address.toLowerCase() !== named.toLowerCase()) throw new EnclaveError('import_key_invalid', `The sealed key is not the key of ${named}`)
  const existing = enclave.state.wallets.get(address.toLowerCase())
  if (existing) {
    if (!isOwner(existing, act.signer)) throw new EnclaveError('owner_not_authorized', 'Signer is not an owner of this wallet')
    if (!exitDue(existing, now)) throw new EnclaveError('wallet_exists', `Wallet ${address} is in this enclave and not exported`)
    if (Number(issuedAt) <= existing.exit!.effectiveAt || Number(issuedAt) > now + 600_000) throw new EnclaveError('owner_act_stale', 'ImportWallet must be signed after the exit took effect')
    enclave.state.apply({ type: 'wallet_changed', wallet: address, change: { type: 'governance_set', set: { exit: undefined } } })
    enclave.appendInfo(tx, 'wallet_imported', { wallet: address, rule: OWNER_RULE, reason: 're-imported after the owners’ exit: it signs again' })
    return { wallet: address as string, owner: existing.owner, ownerSeq: existing.ownerSeq }
  }
  const created = { primaryType: 'CreateWallet' as const, signer: act.signer, message: { owner, label, nonce, issuedAt } }
  const { wallets, createNonces } = enclave.state
  const change = createWalletChange({ act: created, wallets, createNonces, admission: enclave.params.admission, now, newKey: () => ({ privateKey, address }) })
  enclave.state.apply(change)
  enclave.appendInfo(tx, 'wallet_imported', { wallet: address, rule: OWNER_RULE, reason: 'a new wallet from an imported key' })
  return { wallet: address as string, owner: change.wallet.owner, ownerSeq: 0 }
}
