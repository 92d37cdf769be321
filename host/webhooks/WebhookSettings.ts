import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { z } from 'zod'
import { type WebhookSetting, WebhookSettingSchema } from '../../shared/owner/webhookSetting.js'

/**
 * UNTRUSTED host: the owners' signed webhook settings, newest per wallet, in one JSON file under the data
 * directory (small, rarely written; kept out of the Store interface). Each setting keeps its owner signature, so
 * whoever reads the file can check who chose the URL.
 */
export class WebhookSettings {
  private readonly byWallet = new Map<string, WebhookSetting>()

  constructor(private readonly file: string | null) {
    if (!file || !existsSync(file)) return
    const parsed = z.array(WebhookSettingSchema).safeParse(JSON.parse(readFileSync(file, 'utf8')))
    if (parsed.success) for (const s of parsed.data) this.byWallet.set(s.wallet.toLowerCase(), s)
  }

  get(wallet: string): WebhookSetting | undefined {
    return this.byWallet.get(wallet.toLowerCase())
  }

  /** Stores `s` unless a setting at least as new is stored (a replayed older setting cannot undo a change). */
  put(s: WebhookSetting): boolean {
    const prev = this.get(s.wallet)
    if (prev && prev.issuedAt >= s.issuedAt) return false
    this.byWallet.set(s.wallet.toLowerCase(), s)
    if (this.file) {
      const tmp = `${this.file}.${process.pid}.tmp`
      writeFileSync(tmp, `${JSON.stringify([...this.byWallet.values()], null, 2)}\n`, { mode: 0o600 })
      renameSync(tmp, this.file)
    }
    return true
  }
}
