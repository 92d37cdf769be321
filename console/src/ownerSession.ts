/**
 * The signed-in owner: an EIP-1193 wallet (window.ethereum) used as the owner key. Every act is built and
 * checked by the CLI's own OwnerClient (cli/lib/OwnerClient.ts: seq from the owner's marks, EIP-712 typed data
 * from shared/owner, the approval digest re-computed from what is shown, the enclave's signed receipt verified),
 * only the signature comes from the browser wallet. The host never sees the owner key.
 */
import { type EIP1193Provider, type LocalAccount, createWalletClient, custom, getAddress } from 'viem'
import { OwnerClient } from '../../cli/lib/OwnerClient.js'
import { OwnerMarks } from '../../cli/lib/OwnerMarks.js'
import { AUDIT_READ_SCHEME, signAuditReadToken } from '../../shared/owner/auditReadAuth.js'
import type { WalletInfo } from '../../shared/protocol/messages.js'

declare global {
  interface Window {
    ethereum?: EIP1193Provider
  }
}

const TOKEN_LIFETIME_MS = 60 * 60 * 1000
const MARKS_KEY = 'bursar.ownerMarks.v1'

export type OwnerSession = {
  address: `0x${string}`
  client: OwnerClient
  /** `Authorization` header value for owner reads (an AuditRead signed once per hour in the wallet). */
  authorization(): Promise<string>
  /** Keeps the owner's high-water marks across reloads (localStorage). */
  saveMarks(): void
}

/** Connects the page's EIP-1193 wallet and builds an owner session for `host`. */
export async function connectOwner(host: string): Promise<OwnerSession> {
  const provider = window.ethereum
  if (!provider) throw new Error('No browser wallet found (window.ethereum): install or unlock MetaMask, Coinbase Wallet, Rabby…')
  const [first] = (await provider.request({ method: 'eth_requestAccounts' })) as string[]
  if (!first) throw new Error('The wallet shared no account')
  const address = getAddress(first)
  const wallet = createWalletClient({ account: address, transport: custom(provider) })
  // The shared signers take a viem LocalAccount; only signTypedData is used, and the wallet prompts for it.
  const account = {
    address,
    type: 'local',
    source: 'eip1193',
    publicKey: '0x',
    signTypedData: (td: Parameters<typeof wallet.signTypedData>[0]) => wallet.signTypedData({ ...td, account: address }),
    signMessage: () => Promise.reject(new Error('not used')),
    signTransaction: () => Promise.reject(new Error('not used')),
  } as unknown as LocalAccount
  const marks = new OwnerMarks(null)
  const saved = localStorage.getItem(MARKS_KEY)
  // SECURITY: marks only grow (OwnerMarks.record); a page reload keeps the owner's rollback detection.
  if (saved) Object.assign(marks as unknown as { data: unknown }, { data: JSON.parse(saved) })
  let token: { value: string; expiresAt: number } | null = null
  let signing: Promise<string> | null = null
  // SECURITY: the token names the API host's origin (AuditRead.host): a host reached through a `?host=` link gets a
  // token no other host accepts, so it cannot replay it against the owner's real host.
  const authorization = async () => {
    if (!token || token.expiresAt - Date.now() < 5 * 60_000) {
      // One wallet prompt even when several reads start at once.
      signing ??= (async () => {
        const expiresAt = Date.now() + TOKEN_LIFETIME_MS
        token = { value: await signAuditReadToken({ account, host, expiresAt }), expiresAt }
        return token.value
      })().finally(() => {
        signing = null
      })
      await signing
    }
    return `${AUDIT_READ_SCHEME} ${token!.value}`
  }
  // The client's wallet reads (seq, pending summaries) use the same token: no second prompt.
  const client = new OwnerClient(host, account, { marks, readAuthorization: authorization })
  return {
    address,
    client,
    authorization,
    saveMarks() {
      localStorage.setItem(MARKS_KEY, JSON.stringify((marks as unknown as { data: unknown }).data))
    },
  }
}

/** GET with the owner's read token; throws the host's `{code, message}` as an Error. */
export async function ownerGet<T>(s: OwnerSession, path: string): Promise<T> {
  const res = await fetch(`${s.client.host}${path}`, { headers: { authorization: await s.authorization() } })
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>
  if (!res.ok) throw new Error(`${String(body.code ?? res.status)}: ${String(body.message ?? res.statusText)}`)
  return body as T
}

export async function ownerWallets(s: OwnerSession): Promise<WalletInfo[]> {
  return (await ownerGet<{ wallets: WalletInfo[] }>(s, '/v1/owner/wallets')).wallets
}
