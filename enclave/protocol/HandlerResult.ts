import type { Persist, WireError } from '../../shared/protocol/messages.js'

/** What a handler returns: a result or a refusal (a value, not an exception), plus what the host must store. */
export type HandlerResult =
  | { ok: true; result: unknown; persist?: Persist | undefined }
  | { ok: false; error: WireError; persist?: Persist | undefined }
