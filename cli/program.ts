/**
 * The `bursar` command line: owner acts, attestation and audit verification, the agents' MCP server, demo, devchain,
 * Nitro helpers. Only the invoked top-level command's module is loaded (viem alone takes ~250 ms to import), so
 * `bursar --help` and every first line of output come quickly; the other commands are listed by name and description.
 */
import { Command } from 'commander'

type TopCommand = { name: string; description: string; load: () => Promise<Command> }

/** Every top-level command: its name and description (shown without loading it) and how to build it. */
export const TOP_COMMANDS: readonly TopCommand[] = [
  {
    name: 'owner',
    description: 'owner acts: wallets, agents, policies, approvals (signed with your owner key)',
    load: async () => {
      const [{ ownerCommand }, { policyExplainCommand }] = await Promise.all([import('./commands/owner.js'), import('./commands/policyExplain.js')])
      const owner = ownerCommand()
      owner.commands.find((c) => c.name() === 'policy')?.addCommand(policyExplainCommand())
      return owner
    },
  },
  {
    name: 'attestation',
    description: 'verify Nitro attestation documents (offline or from a live host)',
    load: async () => (await import('./commands/attestation.js')).attestationCommand(),
  },
  { name: 'audit', description: 'verify, export and follow the enclave audit log', load: async () => (await import('./commands/audit.js')).auditCommand() },
  { name: 'nitro', description: 'AWS Nitro Enclaves deployment helpers (see docs/nitro.md)', load: async () => (await import('./commands/nitro.js')).nitroCommand() },
  {
    name: 'mcp',
    description: 'serve MCP tools (fetch_paid, quote, budget, request_approval, approval_status, payments) for an agent key',
    load: async () => (await import('./commands/mcp.js')).mcpCommand(),
  },
  {
    name: 'demo',
    description: 'local chain + x402 paid API + an agent paying within policy, end to end',
    load: async () => (await import('./commands/demo.js')).demoCommand(),
  },
  {
    name: 'devchain',
    description: 'keep a local chain with USDC, a paid x402 API, bursar and a funded wallet running; write a policy and an agent key',
    load: async () => (await import('./commands/devchain.js')).devchainCommand(),
  },
  {
    name: 'sim',
    description: 'start host + simulated enclave (same as make sim)',
    load: async () =>
      new Command('sim').description('start host + simulated enclave (same as make sim)').action(async () => {
        await import('../scripts/sim.js')
      }),
  },
]

/** The top-level command named on the command line (`bursar help X` names X), if any. */
export function invokedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'))
  return words[0] === 'help' ? words[1] : words[0]
}

export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('bursar').description('bursar: a signing enclave that lets AI agents pay within their owner’s limits').version('0.1.0')
  const wanted = invokedCommand(argv)
  for (const c of TOP_COMMANDS) {
    if (c.name === wanted) program.addCommand(await c.load())
    else program.command(c.name).description(c.description).allowUnknownOption().helpOption(false)
  }
  return program
}
