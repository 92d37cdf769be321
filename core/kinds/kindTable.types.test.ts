import { describe, expect, it } from 'vitest'
import type { KindSpec } from './KindSpec.js'
import { KINDS, type KindTable } from './kindTable.js'

/**
 * Type-level checks (run by `tsc --noEmit` in `make test`): each
 * `@ts-expect-error` below must be an error, or the build fails. A kind
 * without a spend declaration, or a table missing a kind, does not compile.
 */
describe('the kind table is exhaustive by type', () => {
  it('a kind module without facts (its spends) does not compile', () => {
    // @ts-expect-error — `facts` (spends, validity) is required
    const noSpends: KindSpec<'raw_message'> = { describe: () => 'x', approvalFree: [] }
    expect(noSpends.approvalFree).toEqual([])
  })

  it('a table missing a kind does not compile', () => {
    const { raw_message: _dropped, ...rest } = KINDS
    // @ts-expect-error — raw_message has no entry
    const partial: KindTable = rest
    expect(Object.keys(partial)).not.toContain('raw_message')
  })

  it('an approval-free field must be a field of the kind', () => {
    // @ts-expect-error — 'nonce' is not a field of raw_message
    const wrong: KindSpec<'raw_message'> = { ...KINDS.raw_message, approvalFree: ['nonce'] }
    expect(wrong.approvalFree).toEqual(['nonce'])
  })
})
