export { type Stack, lastListening, repoRoot, startStack, waitFor } from '../../scripts/lib/startStack.js'
