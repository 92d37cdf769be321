#!/usr/bin/env node
// bursar CLI launcher: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../cli/main.ts')
