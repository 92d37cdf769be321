import { hashTypedData, keccak256, toHex } from 'viem'
import { describe, expect, it } from 'vitest'
import { OWNER_ACT_TYPES, type OwnerActType } from './ownerActTypes.js'
import { ownerTypedData } from './ownerTypedData.js'

/**
 * The EIP-712 types owners sign (CLI, console, Python and TS owners) must never drift: every act's typed-data hash on
 * fixed inputs, and the types table itself, as they were before the act table was derived from one definition
 * (diet13). A change here breaks every owner tool and every stored proposal. gov36 changed CreateWallet and
 * ImportWallet on purpose (`auditChain` added: a new wallet's act is bound to one enclave's chain; no act of theirs is stored).
 */
const GOLDEN: Record<OwnerActType, string> = {
  CreateWallet: '0xaeef2066c73a1328175b67675d2bf26e7c8432a96c618ebc2322be962b0d60f9',
  RegisterAgent: '0xbd9450b47a7a9262985ebad0d88f8fcd85e99c0dbb8549937b313b7eef5ab24e',
  SetPolicy: '0x93005dc93e1223b8ffcef8b64eab151dac72b10fcef5b4c8aec436a85210664f',
  SetWalletPolicy: '0xf98830c7507f24e2affceb08050327368034922a8d8cfabbf019065921579adf',
  RevokeAgent: '0xc47e802427e9e27f6392d2ef52c38db41c6f986210d3388a7ec7d4436be8cdbd',
  RevokePolicy: '0xdbdf7f9f926b573cdc1f15d782ceec2a944b6ed67cc930fa11cfd56bf24ba82c',
  FreezeAgent: '0xec9f9afdeeb10882a5785bde74de8b84d859f820e71f31e97282d9e15168fde0',
  ResolvePending: '0xed81ddbc247506c954a50331552abedb10569d38e6dd0cae5a04db5a72845d1f',
  IssuePermit: '0x5d685f752de2f462906be0bdc96e0f379e4c437a2b2dc6e46aee648ea26bc5c9',
  CreditBudget: '0x013c5f41302430748ccc41f2f40a34dd4f3f1bdc53e09d4fa975d35d11d20eb1',
  ReleaseLocked: '0x184c64f1e666bba1274fa526e8ab30e6ecac85ac304198d7c4ad032536077e12',
  Resync: '0x20a50e886a8998a956d43ad2bfae21344a72c82fa85055ed7ef8472264e784bf',
  CancelScheduled: '0x10a4cb1aa9f946abb475bd8c4c52299335d8e46783b93154476751e1b0a86098',
  ExportKey: '0xda850658d036561634ce11a9895f65e2c6b37661d8bac6c3655c8489ec085e3c',
  ImportWallet: '0x9404cff194f5c2602176d245a712c5989b6ae92dea0a76f924d5ffbf25940011',
  SetApprovalQuorum: '0xde125e24812f5f02a835e286e689fcab5b55b980c9df4f5c6e375fab1f2e86dc',
  SetOwners: '0x6532923f3efcdbb3c9a8ae28c086328734d85a36e4cd41b745d654ec394c3f53',
}
/** keccak256 of JSON.stringify(OWNER_ACT_TYPES): every act, field name, type and order. */
const TYPES_DIGEST = '0x93a4ee4a59d3804e7bdd336f7fbe550f296d74afc1d4547faf35ccdc7496b3ec'

/** A fixed value per EIP-712 type and field position. */
const sample = (type: string, i: number): unknown =>
  type === 'address'
    ? `0x${String(i % 10).repeat(40)}`
    : type === 'address[]'
      ? [`0x${'a'.repeat(40)}`, `0x${'b'.repeat(40)}`]
      : type === 'bool'
        ? i % 2 === 0
        : type === 'bytes32'
          ? `0x${String(i % 10).repeat(64)}`
          : type === 'bytes'
            ? `0x${'cd'.repeat(i + 1)}`
            : type.startsWith('uint')
              ? String(i * 10 + 7)
              : `s${i}`

describe('owner act EIP-712 types are byte-identical to the ones owners sign', () => {
  it('has exactly the known acts, with the same fields, types and order', () => {
    expect(Object.keys(OWNER_ACT_TYPES).sort()).toEqual(Object.keys(GOLDEN).sort())
    expect(keccak256(toHex(JSON.stringify(OWNER_ACT_TYPES)))).toBe(TYPES_DIGEST)
  })
  it.each(Object.keys(GOLDEN) as OwnerActType[])('%s hashes as before on fixed inputs', (t) => {
    const m = Object.fromEntries(OWNER_ACT_TYPES[t].map((f, i) => [f.name, sample(f.type, i)]))
    // biome-ignore lint/suspicious/noExplicitAny: fixed types
    expect(hashTypedData(ownerTypedData(t, m) as any)).toBe(GOLDEN[t])
  })
})
