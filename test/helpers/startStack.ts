export { type Stack, repoRoot, startStack, waitFor } from '../../scripts/lib/startStack.js'
