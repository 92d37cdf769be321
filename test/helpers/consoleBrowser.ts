/**
 * Browser-test harness for the owner console: Debian's Chromium (installed by scripts/ensureChromium.ts when
 * missing) driven by playwright-core, one launch per test file, with a test EIP-1193 provider injected into the
 * page. The provider answers eth_requestAccounts with the owner's address and eth_signTypedData_v4 by signing
 * in Node with a viem local account, recording every request the wallet was asked to sign.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { type Browser, type Page, chromium } from 'playwright-core'
import type { Hex, LocalAccount } from 'viem'
import { buildConsole } from '../../scripts/buildConsole.js'
import { ensureChromium } from '../../scripts/ensureChromium.js'
import { repoRoot } from './startStack.js'

export type SignedByWallet = { primaryType: string; domain: Record<string, unknown>; message: Record<string, unknown> }
export type ConsoleBrowser = { browser: Browser; page: Page; signed: SignedByWallet[]; shot(name: string): Promise<void>; close(): Promise<void> }

type TypedJson = { types: Record<string, { name: string; type: string }[]>; primaryType: string; domain: Record<string, unknown>; message: Record<string, unknown> }

/** JSON-RPC typed data (uints as decimal strings) → what viem's signTypedData takes (uints as bigint). */
function toViem(td: TypedJson) {
  const fields = td.types[td.primaryType] ?? []
  const message: Record<string, unknown> = {}
  for (const f of fields) {
    const v = td.message[f.name]
    message[f.name] = /^u?int\d*$/.test(f.type) ? BigInt(v as string) : v
  }
  const { EIP712Domain: _d, ...types } = td.types
  return { domain: td.domain, types, primaryType: td.primaryType, message }
}

export async function openConsoleBrowser(params: { owner: LocalAccount }): Promise<ConsoleBrowser> {
  const executablePath = ensureChromium()
  await buildConsole({ quiet: true })
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] })
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  const signed: SignedByWallet[] = []
  await page.exposeFunction('__bursarTestSignTypedData', async (json: string) => {
    const td = JSON.parse(json) as TypedJson
    signed.push({ primaryType: td.primaryType, domain: td.domain, message: td.message })
    // biome-ignore lint/suspicious/noExplicitAny: viem's generic typed-data parameters
    return params.owner.signTypedData(toViem(td) as any) as Promise<Hex>
  })
  await page.addInitScript((address: string) => {
    const w = (globalThis as unknown as { window: unknown }).window as unknown as { ethereum: unknown; __bursarTestSignTypedData: (json: string) => Promise<string> }
    w.ethereum = {
      isBursarTestWallet: true,
      async request({ method, params }: { method: string; params?: unknown[] }) {
        if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [address]
        if (method === 'eth_chainId') return '0x1'
        if (method === 'eth_signTypedData_v4') {
          if (String(params?.[0]).toLowerCase() !== address.toLowerCase()) throw Object.assign(new Error('unknown account'), { code: 4100 })
          return w.__bursarTestSignTypedData(String(params?.[1]))
        }
        throw Object.assign(new Error(`test wallet: ${method} unsupported`), { code: 4200 })
      },
      on() {},
      removeListener() {},
    }
  }, params.owner.address)
  // Test artifacts under test-results/console; BURSAR_UPDATE_SCREENSHOTS=1 refreshes the README's docs/console/*.png.
  const dir = process.env.BURSAR_UPDATE_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs', 'console') : path.join(repoRoot, 'test-results', 'console')
  mkdirSync(dir, { recursive: true })
  return {
    browser,
    page,
    signed,
    shot: async (name) => {
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true })
    },
    close: () => browser.close(),
  }
}
