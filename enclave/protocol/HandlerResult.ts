import type { EnclaveRequestType, TypedResponse } from '../../shared/protocol/messages.js'

/**
 * What a handler of request type T returns: its result in the shape of RESULT_SCHEMAS[T] (the schema the host
 * parses it with) or a refusal (a value, not an exception), plus what the host must store.
 */
export type HandlerResult<T extends EnclaveRequestType = EnclaveRequestType> = TypedResponse<T>
