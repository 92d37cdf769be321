import { describe, expect, it } from 'vitest'
import { TOP_COMMANDS, buildProgram, invokedCommand } from './program.js'

/** `bursar --help` lists commands without loading them: the listed description must be the command's own. */
describe('lazy top-level commands', () => {
  it('every listed name and description matches the loaded command', async () => {
    for (const c of TOP_COMMANDS) {
      const loaded = await c.load()
      expect(loaded.name()).toBe(c.name)
      expect(loaded.description()).toBe(c.description)
    }
  })

  it('only the invoked command is built (help X names X); the others are stubs', async () => {
    expect(invokedCommand(['--help'])).toBeUndefined()
    expect(invokedCommand(['help', 'audit'])).toBe('audit')
    expect(invokedCommand(['owner', 'wallet', 'list', '--json'])).toBe('owner')
    const p = await buildProgram(['audit', 'query'])
    expect(p.commands.find((c) => c.name() === 'audit')?.commands.map((c) => c.name())).toContain('query')
    expect(p.commands.find((c) => c.name() === 'owner')?.commands).toEqual([])
  })
})
