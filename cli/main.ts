/** The `bursar` command line: owner acts, attestation and audit verification, the agents' MCP server, demo, Nitro helpers. */
import { Command } from 'commander'
import { attestationCommand } from './commands/attestation.js'
import { auditCommand } from './commands/audit.js'
import { mcpCommand } from './commands/mcp.js'
import { nitroCommand } from './commands/nitro.js'
import { ownerCommand } from './commands/owner.js'
import { policyExplainCommand } from './commands/policyExplain.js'

const program = new Command('bursar').description('bursar: a signing enclave that lets AI agents pay within their owner’s limits').version('0.1.0')
const owner = ownerCommand()
owner.commands.find((c) => c.name() === 'policy')?.addCommand(policyExplainCommand())
program.addCommand(owner)
program.addCommand(attestationCommand())
program.addCommand(auditCommand())
program.addCommand(nitroCommand())
program.addCommand(mcpCommand())
program
  .command('demo')
  .description('local chain + x402 paid API + an agent paying within policy, end to end')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const { runDemo } = await import('../scripts/demo.js')
    process.exitCode = await runDemo({ json: !!o.json })
  })
program.command('sim').description('start host + simulated enclave (same as make sim)').action(async () => {
  await import('../scripts/sim.js')
})
await program.parseAsync(process.argv)
