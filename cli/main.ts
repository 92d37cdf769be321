/** Entry of the `bursar` command line (see program.ts): builds the program for this argv and runs it. */
import { buildProgram } from './program.js'

const program = await buildProgram(process.argv.slice(2))
await program.parseAsync(process.argv)
