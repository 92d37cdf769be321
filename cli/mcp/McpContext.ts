import type { Address } from 'viem'
import type { AgentKey } from '../../agent/loadAgentKey.js'

/** What every bursar MCP tool needs: where the host is and who the agent is (its key file). */
export type McpContext = {
  host: string
  agentKey: AgentKey
  wallet: Address
  /** fetch for resources (default globalThis.fetch); tests pass a spy. */
  fetch?: typeof globalThis.fetch | undefined
  /** Bodies longer than this many characters are cut, with a note (default 16 000). */
  maxBodyChars?: number | undefined
}
