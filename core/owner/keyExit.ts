import type { KeyExit } from '../state/stateTypes.js'

/** SECURITY: once the owners' exit is due the wallet signs nothing more (until its key is re-imported). */
export const exitDue = (w: { readonly exit?: KeyExit | undefined }, now: number): boolean => w.exit !== undefined && w.exit.effectiveAt <= now
