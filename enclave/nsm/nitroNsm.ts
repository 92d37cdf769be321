/**
 * TRUST: production attestation source — the Nitro Secure Module behind
 * /dev/nsm. Node cannot ioctl, so a tiny N-API addon (native/nsm_ioctl.c,
 * built into the enclave image, never by npm install) performs
 * ioctl(fd, NSM_IOCTL_RAW, {request iovec, response iovec}). Loaded lazily by
 * path; this file never imports the simulation NSM.
 */
import { openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { decodeNsmResponse } from './decodeNsmResponse.js'
import { encodeNsmRequest } from './encodeNsmRequest.js'
import type { AttestParameters, NsmProvider } from './NsmProvider.js'
import { NsmError } from './NsmError.js'

/** _IOWR(0x0A, 0, struct nsm_raw): struct nsm_raw { {u64 addr, u64 len} request, response }. */
export const NSM_IOCTL_RAW = 0xc0200a00
/** NSM_RESPONSE_MAX_SIZE in the Linux driver. */
export const NSM_RESPONSE_MAX_BYTES = 0x3000

/** The addon's one function: performs NSM_IOCTL_RAW, returns the response bytes (errno → thrown Error). */
export type NsmIoctlAddon = {
  nsmRaw(fd: number, request: Uint8Array, responseCapacity: number): Uint8Array
}

export type CreateNitroNsmParameters = {
  /** Absolute path of the built addon (e.g. /app/native/nsm_ioctl.node). */
  addonPath: string
  devicePath?: string | undefined
}

/** Creates the real NSM provider; the device and addon are opened on first use so the module loads anywhere. */
export function createNitroNsm(params: CreateNitroNsmParameters): NsmProvider {
  let handle: { addon: NsmIoctlAddon; fd: number } | undefined
  const open = () => {
    if (handle) return handle
    try {
      const addon = createRequire(import.meta.url)(params.addonPath) as NsmIoctlAddon
      if (typeof addon?.nsmRaw !== 'function') throw new TypeError('addon does not export nsmRaw')
      const fd = openSync(params.devicePath ?? '/dev/nsm', 'r+')
      handle = { addon, fd }
      return handle
    } catch (cause) {
      throw new NsmError('nsm_unavailable', 'Cannot open the Nitro Secure Module', { cause })
    }
  }
  return {
    kind: 'nitro',
    async attest(request: AttestParameters): Promise<Uint8Array> {
      const requestBytes = encodeNsmRequest(request)
      const { addon, fd } = open()
      let response: Uint8Array
      try {
        response = addon.nsmRaw(fd, requestBytes, NSM_RESPONSE_MAX_BYTES)
      } catch (cause) {
        throw new NsmError('nsm_unavailable', 'NSM ioctl failed', { cause })
      }
      return decodeNsmResponse(response)
    },
  }
}
