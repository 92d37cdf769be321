import type { FastifyReply } from 'fastify'
import type { EnclaveRequest } from '../../shared/protocol/messages.js'
import type { EnclaveGateway } from '../enclave/EnclaveGateway.js'
import { errorStatus } from '../plugins/errorStatus.js'

/** Forwards a request to the enclave and relays its answer (result or typed refusal) unchanged. */
export async function forward(gateway: EnclaveGateway, msg: EnclaveRequest, reply: FastifyReply) {
  const res = await gateway.call(msg)
  if (res.ok) return reply.code(200).send(res.result)
  return reply.code(errorStatus(res.error.code)).send(res.error)
}
