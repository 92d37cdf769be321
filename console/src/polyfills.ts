// Imported first by main.ts: the shared verifiers use Node's Buffer for bytes ↔ hex/utf8.
import { Buffer } from 'buffer'

;(globalThis as { Buffer?: unknown }).Buffer ??= Buffer
