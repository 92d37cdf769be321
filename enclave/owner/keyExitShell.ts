import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { bytesToHex, hexToBytes } from 'viem'
import { publicKeyToAddress } from 'viem/accounts'
import type { KeyExit, WalletView } from '../../core/state/stateTypes.js'
import { EnclaveError } from '../../shared/errors/EnclaveError.js'
import { publicKeyOf } from '../sign/secp256k1Engine.js'
import { importKeyMessage, openFromX25519, sealToX25519, x25519PublicKey } from '../../shared/owner/keyExitCipher.js'
import type { Enclave } from '../Enclave.js'

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
 * ImportWallet's signer half: opens the sealed key with the import key and checks it is the named address's key. What
 * the act then does (a new wallet, or an exported one signing again) governance decides (governance/governOwnerAct.ts).
 */
export function openImportKey(enclave: Enclave, sealedKey: string, named: string): { privateKey: Uint8Array; address: `0x${string}` } {
  let privateKey: Uint8Array
  let address: `0x${string}`
  try {
    privateKey = openFromX25519(importSecret(enclave), hexToBytes(sealedKey as `0x${string}`), named)
    address = publicKeyToAddress(bytesToHex(publicKeyOf(privateKey)))
  } catch (cause) {
    throw new EnclaveError('import_key_invalid', 'The sealed key does not open with this enclave’s import key', { cause })
  }
  if (address.toLowerCase() !== named.toLowerCase()) throw new EnclaveError('import_key_invalid', `The sealed key is not the key of ${named}`)
  return { privateKey, address }
}
