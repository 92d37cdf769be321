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
  .option('--scheme <scheme>', 'what the paid API asks for: exact (EIP-3009), permit2 (exact via Permit2), upto or batch (batch-settlement)', 'exact')
  .action(async (o: { json?: boolean; scheme: string }) => {
    const { DEMO_SCHEMES, runDemo } = await import('../scripts/demo.js')
    if (!(DEMO_SCHEMES as readonly string[]).includes(o.scheme)) {
      process.stderr.write(`error: --scheme ${o.scheme}: one of ${DEMO_SCHEMES.join(', ')} (auth-capture: not yet)\n`)
      process.exitCode = 2
      return
    }
    process.exitCode = await runDemo({ json: !!o.json, scheme: o.scheme as (typeof DEMO_SCHEMES)[number] })
  })
program.command('sim').description('start host + simulated enclave (same as make sim)').action(async () => {
  await import('../scripts/sim.js')
})
await program.parseAsync(process.argv)
