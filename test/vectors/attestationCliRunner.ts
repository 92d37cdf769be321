// Test-only runner: a minimal `bursar` program with just the attestation command, so tests can spawn the real CLI.
import { Command } from 'commander'
import { attestationCommand } from '../../cli/commands/attestation.js'

const program = new Command('bursar').exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
program.addCommand(attestationCommand())
await program.parseAsync(process.argv)
