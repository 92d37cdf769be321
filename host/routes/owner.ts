import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { OwnerActBodySchema as OwnerActBody } from '../../shared/protocol/messages.js'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import { errorStatus } from '../plugins/errorStatus.js'
import type { ownerReadGuard } from '../plugins/ownerReadGuard.js'
import { WEBHOOK_SETTING_SKEW_MS, WebhookSettingSchema, webhookSettingSigner } from '../../shared/owner/webhookSetting.js'
import type { WebhookSettings } from '../webhooks/WebhookSettings.js'
import { internalTargetReason } from '../webhooks/webhookTarget.js'

/** Owner acts (EIP-712 signed; the host cannot forge them) and the owners' wallet views (owner read token). */
export function ownerRoutes(
  gateway: EnclaveGateway,
  guard: ReturnType<typeof ownerReadGuard>,
  webhooks?: WebhookSettings,
  /** Accept http:// webhook URLs from owners (simulation); otherwise https only. */
  allowHttpWebhooks = false,
): FastifyPluginAsyncZod {
  return async (app) => {
    // SECURITY: the wallet's owners are governance.owners (SetOwners replaces them); `owner` stays the key that
    // created it, which may since have been rotated out (e.g. stolen).
    const owns = (w: { governance: { owners: readonly string[] } }, who: string) => w.governance.owners.some((o) => o.toLowerCase() === who.toLowerCase())
    const walletOf = async (address: string) => {
      const res = await gateway.call({ type: 'getWallets' })
      return res.ok ? res.result.wallets.find((w) => w.address.toLowerCase() === address.toLowerCase()) : undefined
    }
    app.put(
      '/v1/owner/webhooks',
      {
        schema: {
          tags: ['owner'],
          summary: 'Set (or clear, url "") the pending-approval webhook of a wallet: an EIP-712 SetWebhook signed by its owner',
          body: WebhookSettingSchema,
        },
      },
      async (req, reply) => {
        if (!webhooks) return reply.code(404).send({ code: 'not_found', message: 'This host keeps no webhook settings' })
        const s = req.body
        const bad = (message: string) => reply.code(400).send({ code: 'webhook_setting_invalid', message })
        if (Math.abs(s.issuedAt - Date.now()) > WEBHOOK_SETTING_SKEW_MS) return bad('issuedAt is more than 10 minutes from now: sign a fresh setting')
        // SECURITY: the host POSTs wherever an owner points it; plain http only where the operator allows it.
        if (s.url && !allowHttpWebhooks && !s.url.startsWith('https://')) return bad('The webhook URL must be https:// on this host')
        // SECURITY: nor into the host's own network (loopback, private, link-local/metadata): any owner picks this URL.
        const internal = s.url && !allowHttpWebhooks ? internalTargetReason(s.url) : null
        if (internal) return bad(`The webhook URL must point outside this host's network: ${internal}`)
        const w = await walletOf(s.wallet)
        if (!w) return reply.code(404).send({ code: 'wallet_not_found', message: `No wallet ${s.wallet}` })
        // SECURITY: only the wallet's owner (per the enclave's view) chooses where its approvals are announced.
        const signer = await webhookSettingSigner(s)
        if (!signer || !owns(w, signer)) return bad("The setting is not signed by one of the wallet's owners")
        if (!webhooks.put(s)) return reply.code(409).send({ code: 'webhook_setting_stale', message: 'A newer setting for this wallet is stored' })
        return reply.send({ wallet: w.address, url: s.url, issuedAt: s.issuedAt })
      },
    )
    app.get(
      '/v1/owner/webhooks/:address',
      {
        schema: {
          tags: ['owner'],
          summary: "A wallet's webhook setting (owner read token: the URL may itself be a secret, e.g. a Slack webhook)",
          params: z.object({ address: z.string().regex(/^0x[0-9a-fA-F]{40}$/) }),
        },
      },
      async (req, reply) => {
        const scope = await guard(req)
        if ('status' in scope) return reply.code(scope.status).send({ code: scope.code, message: scope.message })
        const w = await walletOf(req.params.address)
        if (!w || (scope.kind === 'owner' && !owns(w, scope.owner)))
          return reply.code(404).send({ code: 'wallet_not_found', message: `No wallet ${req.params.address} of yours` })
        const s = webhooks?.get(w.address)
        return reply.send({ wallet: w.address, url: s?.url ?? null, issuedAt: s?.issuedAt ?? null })
      },
    )
    app.post(
      '/v1/owner/acts',
      {
        schema: {
          tags: ['owner'],
          summary: 'Apply an owner-signed act (CreateWallet, RegisterAgent, SetPolicy, SetWalletPolicy, RevokeAgent, RevokePolicy, FreezeAgent, ResolvePending, IssuePermit, CreditBudget, SetOwners, CancelScheduled, Resync); with several owners it may only add a signature (result.proposal)',
          body: OwnerActBody,
        },
      },
      async (req, reply) => {
        // Issue 12 stage B: signer → governance → signer (the gateway relays bytes); the answer is parsed with
        // OwnerActResultSchema and the owner's tools verify its receipt again.
        const res = await gateway.ownerAct(req.body)
        if (!res.ok && res.error.retryAfterMs !== undefined) void reply.header('retry-after', String(Math.ceil(res.error.retryAfterMs / 1000)))
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        return reply.code(200).send(res.result)
      },
    )
    app.get(
      '/v1/owner/wallets',
      {
        schema: {
          tags: ['owner'],
          summary: 'The wallets of the owner who signed the read token (Authorization: Bursar-Owner <token>)',
          description: 'What the owner console reads. The operator token (Bearer) reads every wallet.',
        },
      },
      async (req, reply) => {
        const scope = await guard(req)
        if ('status' in scope) return reply.code(scope.status).header('www-authenticate', 'Bursar-Owner').send({ code: scope.code, message: scope.message })
        const res = await gateway.call({ type: 'getWallets' })
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        // SECURITY: ownership comes from the enclave's wallet view and the recovered token signer, never the request.
        const wallets = scope.kind === 'owner' ? res.result.wallets.filter((w) => owns(w, scope.owner)) : res.result.wallets
        return reply.send({ owner: scope.kind === 'owner' ? scope.owner : null, wallets })
      },
    )
    // SECURITY: the wallet views carry owners, policy text (payees, caps) and pending summaries: owner read token
    // (that owner's wallets) or the operator token only (test/adversarial/strangerReadsAllWallets.test.ts).
    app.get(
      '/v1/wallets',
      {
        schema: {
          tags: ['owner'],
          summary: 'The wallets of the owner who signed the read token (Authorization: Bursar-Owner <token>); the operator token (Bearer) reads every wallet',
        },
      },
      async (req, reply) => {
        const scope = await guard(req)
        if ('status' in scope) return reply.code(scope.status).header('www-authenticate', 'Bursar-Owner').send({ code: scope.code, message: scope.message })
        const res = await gateway.call({ type: 'getWallets' })
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        const wallets = scope.kind === 'owner' ? res.result.wallets.filter((w) => owns(w, scope.owner)) : res.result.wallets
        return reply.send({ wallets })
      },
    )
    app.get(
      '/v1/wallets/:address',
      {
        schema: {
          tags: ['owner'],
          summary: 'One wallet, to one of its owners (owner read token) or the operator',
          params: z.object({ address: z.string().regex(/^0x[0-9a-fA-F]{40}$/) }),
        },
      },
      async (req, reply) => {
        const scope = await guard(req)
        if ('status' in scope) return reply.code(scope.status).header('www-authenticate', 'Bursar-Owner').send({ code: scope.code, message: scope.message })
        const res = await gateway.call({ type: 'getWallets' })
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        const w = res.result.wallets.find((x) => x.address.toLowerCase() === req.params.address.toLowerCase())
        // The same answer for "no such wallet" and "not yours": a stranger learns nothing about which wallets exist.
        if (!w || (scope.kind === 'owner' && !owns(w, scope.owner)))
          return reply.code(404).send({ code: 'wallet_not_found', message: `No wallet ${req.params.address} of yours` })
        return reply.send(w)
      },
    )
  }
}
