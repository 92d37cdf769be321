import { type Hex, type LocalAccount, recoverTypedDataAddress } from 'viem'
import * as z from 'zod'
import { OWNER_DOMAIN } from './ownerActTypes.js'

/**
 * The owner's pending-approval webhook for one wallet: an EIP-712 `SetWebhook { wallet, url, issuedAt }` (domain
 * OWNER_DOMAIN) signed by the wallet's owner. It is host configuration, never an enclave act (a different primary
 * type from every act): the host checks the signer against the enclave's wallet view and keeps the newest per
 * wallet. An empty url removes the webhook.
 */
export const WEBHOOK_SETTING_TYPES = {
  SetWebhook: [
    { name: 'wallet', type: 'address' },
    { name: 'url', type: 'string' },
    { name: 'issuedAt', type: 'uint64' },
  ],
} as const

/** How far issuedAt may be from the host's clock. */
export const WEBHOOK_SETTING_SKEW_MS = 10 * 60 * 1000

export const WebhookSettingSchema = z.strictObject({
  wallet: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  url: z.union([z.literal(''), z.url({ protocol: /^https?$/ }).max(2048)]),
  issuedAt: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
})
export type WebhookSetting = z.infer<typeof WebhookSettingSchema>

export type SignWebhookSettingParameters = { account: LocalAccount; wallet: string; url: string; issuedAt: number }

/** Signs a webhook setting with the owner key (the console signs it in the browser wallet). */
export async function signWebhookSetting(p: SignWebhookSettingParameters): Promise<WebhookSetting> {
  const signature = await p.account.signTypedData({
    domain: OWNER_DOMAIN,
    types: WEBHOOK_SETTING_TYPES,
    primaryType: 'SetWebhook',
    message: { wallet: p.wallet as Hex, url: p.url, issuedAt: BigInt(p.issuedAt) },
  })
  return { wallet: p.wallet, url: p.url, issuedAt: p.issuedAt, signature }
}

/** The address that signed the setting, or null when it does not recover. */
export async function webhookSettingSigner(s: WebhookSetting): Promise<Hex | null> {
  try {
    return await recoverTypedDataAddress({
      domain: OWNER_DOMAIN,
      types: WEBHOOK_SETTING_TYPES,
      primaryType: 'SetWebhook',
      message: { wallet: s.wallet as Hex, url: s.url, issuedAt: BigInt(s.issuedAt) },
      signature: s.signature as Hex,
    })
  } catch {
    return null
  }
}
