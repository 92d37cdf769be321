import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import { errorStatus } from '../plugins/errorStatus.js'

/** Fresh attestation document for a verifier's nonce, plus the inputs of the user_data commitment. */
export function attestationRoutes(gateway: EnclaveGateway): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/attestation',
      {
        schema: {
          tags: ['attestation'],
          summary: 'Attestation document (base64) bound to the receipt key, policy set, audit head and nonce',
          querystring: z.object({ nonce: z.string().regex(/^(0x)?([0-9a-fA-F]{2}){1,512}$/).optional() }),
        },
      },
      async (req, reply) => {
        const nonce = req.query.nonce ? new Uint8Array(Buffer.from(req.query.nonce.replace(/^0x/, ''), 'hex')) : null
        const res = await gateway.call({ type: 'attest', nonce })
        if (!res.ok) return reply.code(errorStatus(res.error.code)).send(res.error)
        const r = res.result
        return reply.send({
          document: Buffer.from(r.document).toString('base64'),
          userDataInputs: r.userDataInputs,
          signerPublicKey: r.receiptPublicKey,
          // gov36: what a CreateWallet/ImportWallet for this enclave names (core id ‖ chain id); any other enclave refuses it.
          auditChain: r.auditChain,
          // X25519 key to seal imported wallet keys to, signed by the attested receipt key (docs/policy.md, "Exit").
          importKey: r.importKey,
          importKeySignature: r.importKeySignature,
        })
      },
    )
  }
}
