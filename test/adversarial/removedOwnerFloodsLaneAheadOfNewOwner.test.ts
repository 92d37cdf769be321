import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LANE_WAITING } from '../../host/enclave/relayOwnerAct.js'
import { OWNERS_MAX_AGE_MS } from '../../host/enclave/KnownOwners.js'
import { spawnReaped } from '../../scripts/lib/spawnReaped.js'
import { agentIdFromPublicKey } from '../../shared/identity/agentIdFromPublicKey.js'
import { signOwnerAct } from '../../shared/owner/signOwnerAct.js'
import { auditChainOf } from '../helpers/auditChainOf.js'
import { governancePid } from '../helpers/governancePid.js'
import { postOwnerAct } from '../helpers/postOwnerAct.js'
import { repoRoot, type Stack, startStack, waitFor } from '../helpers/startStack.js'

/** X's acts sent at once on the wallet: one holds its lane, LANE_WAITING wait, the rest are refused by the host (429). */
const FLOOD = 1 + LANE_WAITING + 2

/**
 * Attack (an owner removed through another path, e.g. a key the other owners rotated out, left by scope38/lanes39):
 * the relay hands a wallet's lane to its owners' acts first, as this host knows them. Two caches answered that:
 * scope38's signedByOwner (getWallets, at most a second old) and KnownOwners (read once per enclave connection, then
 * what applied through this host). An owner removed by a SetOwners relayed by ANOTHER host on the same enclave stayed
 * an owner in this host's KnownOwners until its next enclave connection, and the relay took either cache's yes: the
 * removed key's flood filled the wallet's owners' queue, and the new owner's act was owner_act_queue_full (or waited
 * behind up to 16 of them). owners40: one cache (KnownOwners), read again by the first act that finds its view older
 * than OWNERS_MAX_AGE_MS, asked once per act: the removed key's acts wait with the others, the new owner's runs first.
 *
 * Real processes: one simulated enclave (with governance beside it), host A (the stack's) and host B (a second host
 * process on the same enclave socket, its own data dir). Asserted on order, not time: with governance's process
 * stopped the lane cannot move, so the flood's overflow (429s) says every act of it was placed; a second copy of the
 * new owner's act (a copy waits with the others, rt39, whose queue the flood filled: 429) says the first is placed.
 * Checked to fail with the two caches put back (the new owner's act and its copy both owner_act_queue_full).
 */
describe('adversarial: an owner removed through another host floods the wallet lane ahead of the new owner (real hosts, signer, governance)', () => {
  let stack: Stack
  let hostB: ChildProcess | null = null
  let urlB = ''
  beforeAll(async () => {
    stack = await startStack()
    // Host B: a second host process on the same enclave (its own store and port).
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bursar-hostB-'))
    hostB = spawnReaped(process.execPath, [path.join(repoRoot, 'dist/host.mjs')], {
      env: { ...process.env, BURSAR_DATA_DIR: dataDir, BURSAR_ENCLAVE: `unix:${stack.socketPath}`, BURSAR_PORT: '0', BURSAR_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    hostB.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    hostB.stderr!.on('data', (d: Buffer) => stack.logs.push(`[hostB] ${d.toString()}`))
    await waitFor(() => /"port":(\d+)/.test(out), 20_000, 'host B listening', stack.logs)
    urlB = `http://127.0.0.1:${/"port":(\d+)/.exec(out)![1]}`
    await waitFor(async () => (await fetch(`${urlB}/readyz`).catch(() => null))?.ok === true, 20_000, 'host B ready', stack.logs)
  })
  afterAll(async () => {
    const b = hostB
    if (b && b.exitCode === null && b.signalCode === null) await new Promise<void>((resolve) => (b.once('exit', () => resolve()), b.kill('SIGTERM')))
    await stack?.stop()
  })

  it("the removed owner's acts wait with the others: the new owner's act runs right after the one holding the lane", async () => {
    const removed = privateKeyToAccount(generatePrivateKey())
    const added = privateKeyToAccount(generatePrivateKey())
    const auditChain = (await auditChainOf(stack.url)) as `0x${string}`
    // Host A relays the wallet's creation: it knows `removed` as its owner (read, and learnt from the applied act).
    const created = await postOwnerAct(stack.url, await signOwnerAct({ account: removed, primaryType: 'CreateWallet', message: { owner: removed.address, label: 'rotated', nonce: `0x${randomBytes(32).toString('hex')}`, issuedAt: String(Date.now()), auditChain } }))
    expect(created.status, JSON.stringify(created.json)).toBe(200)
    const createdAt = Date.now() // host A's view of the owners was read before this
    const wallet = created.json.wallet as `0x${string}`
    // Through host B: the owner set becomes [added] (the key `removed` rotated out). Host A relays nothing of it.
    const one = { stopQuorum: '1', approveQuorum: '1', loosenQuorum: '1', agentsQuorum: '1', ownersQuorum: '1', delaySeconds: '0' }
    const rotated = await postOwnerAct(urlB, await signOwnerAct({ account: removed, primaryType: 'SetOwners', message: { wallet, owners: [added.address], ...one, seq: '1' } }))
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200)
    // The refresh rule itself: host A's view is read again by the first act that finds it older than OWNERS_MAX_AGE_MS.
    await waitFor(() => Date.now() > createdAt + OWNERS_MAX_AGE_MS, 10_000, "host A's view to age")
    // Any act now reads it again: a stranger's junk act on a made-up wallet (refused by governance). The flood below may
    // read once more (a second later); a read slower than 2 s on a loaded machine would leave this one's view in place.
    const junk = await postOwnerAct(stack.url, { primaryType: 'FreezeAgent', message: JSON.stringify({ wallet: `0x${randomBytes(20).toString('hex')}`, agentId: `agt_${'ab'.repeat(20)}`, frozen: true, seq: '1' }), signature: `0x${'11'.repeat(65)}` })
    expect(junk.status).not.toBe(200)

    // The removed key's flood: distinct, validly signed acts with the next seq (not replays: rt39's rule is not what stops them).
    const flood = await Promise.all(
      Array.from({ length: FLOOD }, (_, i) => signOwnerAct({ account: removed, primaryType: 'FreezeAgent', message: { wallet, agentId: `agt_${i.toString(16).padStart(40, '0')}`, frozen: true, seq: '2' } })),
    )
    const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const mine = await signOwnerAct({ account: added, primaryType: 'RegisterAgent', message: { wallet, agentId: agentIdFromPublicKey(raw), agentPublicKey: `0x${raw.toString('hex')}`, label: 'a', seq: '2' } })

    const gov = governancePid(stack)
    const log: string[] = []
    process.kill(gov, 'SIGSTOP')
    let answers: Awaited<ReturnType<typeof postOwnerAct>>[]
    let answer: Awaited<ReturnType<typeof postOwnerAct>>
    let copy: Awaited<ReturnType<typeof postOwnerAct>>
    try {
      const sent = flood.map((b) => postOwnerAct(stack.url, b).then((r) => (log.push(r.status === 429 ? 'full' : 'relayed'), r)))
      await waitFor(() => log.length >= FLOOD - 1 - LANE_WAITING, 30_000, 'the lane to refuse the flood past its bound', stack.logs)
      expect(log.join(' ')).toBe(Array(FLOOD - 1 - LANE_WAITING).fill('full').join(' ')) // every act of it placed
      // The new owner's act and a copy of it: one waits in the owners' queue, the copy with the others (full: 429).
      log.push('owner sent')
      const first = postOwnerAct(stack.url, mine).then((r) => (log.push(r.status === 429 ? 'owner full' : 'owner answered'), r))
      const second = postOwnerAct(stack.url, { ...mine }).then((r) => (log.push(r.status === 429 ? 'owner full' : 'owner answered'), r))
      await waitFor(() => log.includes('owner full'), 30_000, "a copy of the new owner's act to be placed", stack.logs)
      process.kill(gov, 'SIGCONT')
      ;[answer, copy] = (await Promise.all([first, second])).sort((a, b) => a.status - b.status) as [typeof answer, typeof copy]
      answers = await Promise.all(sent)
    } finally {
      process.kill(gov, 'SIGCONT')
    }

    // Before (two caches): host A still knew `removed` as an owner, its flood filled the owners' queue, and both copies
    // of the new owner's act were owner_act_queue_full.
    expect(answer.status, `${JSON.stringify(answer.json)} ${log.join(' ')}`).toBe(200)
    expect([copy.status, copy.json.code]).toEqual([429, 'owner_act_queue_full'])
    // It ran right after the act holding the lane, ahead of the LANE_WAITING acts of the removed key that waited before it.
    const relayed = (from: string, to?: string) => log.slice(log.indexOf(from), to ? log.indexOf(to) : undefined).filter((e) => e === 'relayed').length
    expect(relayed('owner sent', 'owner answered'), log.join(' ')).toBeLessThanOrEqual(3) // the holder, and replies crossing on a loaded machine
    expect(relayed('owner answered'), log.join(' ')).toBeGreaterThanOrEqual(LANE_WAITING - 2)
    // Governance refused every act of the removed key it was handed; the host refused the rest.
    expect(answers.filter((r) => r.status !== 429).every((r) => r.status !== 200)).toBe(true)
    expect(answers.filter((r) => r.status === 429)).toHaveLength(FLOOD - 1 - LANE_WAITING)
  })
})
