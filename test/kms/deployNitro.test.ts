/**
 * What can be checked of deploy/nitro here without Docker, nitro-cli or vsock:
 * shell syntax, the exact relays the scripts would start (dry run, with fake
 * socat/ip/vsock-proxy on PATH that record any call), the key policy's shape,
 * and the Dockerfile's reproducibility markers. Nothing opens a vsock.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runNitroCli } from '../../cli/commands/nitro.js'
import { ENCLAVE_ENV, ENCLAVE_NODE_FLAGS } from '../../scripts/lib/enclaveLaunch.js'

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../deploy/nitro')
const fakeBin = mkdtempSync(join(tmpdir(), 'bursar-fakebin-'))
const marker = join(fakeBin, 'CALLED')
for (const tool of ['socat', 'ip', 'vsock-proxy', 'nitro-cli', 'node']) {
  writeFileSync(join(fakeBin, tool), `#!/bin/sh\necho "${tool} $*" >> "${marker}"\n`)
  chmodSync(join(fakeBin, tool), 0o755)
}

function run(script: string, env: Record<string, string>) {
  const r = spawnSync('bash', [join(dir, script)], { env: { PATH: `${fakeBin}:/usr/bin:/bin`, ...env }, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('deploy/nitro scripts', () => {
  it('parse (bash -n)', () => {
    for (const s of ['entrypoint.sh', 'host-bridge.sh']) execFileSync('bash', ['-n', join(dir, s)])
  })

  it('entrypoint dry run prints the relays and the node command, and runs nothing', () => {
    const r = run('entrypoint.sh', { BURSAR_ENTRYPOINT_DRY_RUN: '1', BURSAR_KMS_REGION: 'eu-west-1', BURSAR_KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/k' })
    expect(r.status).toBe(0)
    expect(r.stdout.trim().split('\n')).toEqual([
      'RUN ip link set dev lo up',
      'HOSTS 127.0.0.1 kms.eu-west-1.amazonaws.com >> /etc/hosts',
      'RUN socat TCP-LISTEN:8443,bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:3:8000',
      'RUN socat TCP-LISTEN:8002,bind=127.0.0.1,fork,reuseaddr VSOCK-CONNECT:3:8002',
      // limits41: relays inside the enclave bounded, the frame servers' caps (64) + 8.
      'RUN socat VSOCK-LISTEN:5005,fork,max-children=72,reuseaddr UNIX-CONNECT:/run/bursar/enclave.sock',
      'RUN socat VSOCK-LISTEN:5006,fork,max-children=72,reuseaddr UNIX-CONNECT:/run/bursar/enclave.sock.gov',
      // Issue 12 stage B: governance's own process, before the signer.
      `RUN env BURSAR_GOVERNANCE_LISTEN=unix:/run/bursar/enclave.sock.gov BURSAR_KMS_ENDPOINT=https://kms.eu-west-1.amazonaws.com:8443 node ${ENCLAVE_NODE_FLAGS.join(' ')} /app/dist/governance.mjs`,
      'ENV BURSAR_MODE=nitro',
      'ENV BURSAR_ENCLAVE_LISTEN=unix:/run/bursar/enclave.sock',
      'ENV BURSAR_KMS_ENDPOINT=https://kms.eu-west-1.amazonaws.com:8443',
      'ENV BURSAR_KMS_REGION=eu-west-1',
      'ENV BURSAR_KMS_KEY_ID=arn:aws:kms:eu-west-1:111122223333:key/k',
      'ENV AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:8002',
      // The same memory settings as every other launcher (scripts/lib/enclaveLaunch.ts).
      ...Object.entries(ENCLAVE_ENV).map(([k, v]) => `ENV ${k}=${v}`),
      `EXEC node ${ENCLAVE_NODE_FLAGS.join(' ')} /app/dist/enclave.mjs`,
    ])
    expect(existsSync(marker)).toBe(false)
  })

  it('entrypoint refuses missing or malformed settings before starting anything', () => {
    expect(run('entrypoint.sh', { BURSAR_ENTRYPOINT_DRY_RUN: '1', BURSAR_KMS_KEY_ID: 'k' }).status).not.toBe(0)
    const badRegion = run('entrypoint.sh', { BURSAR_ENTRYPOINT_DRY_RUN: '1', BURSAR_KMS_REGION: 'eu-west-1; rm -rf /', BURSAR_KMS_KEY_ID: 'k' })
    expect(badRegion.status).toBe(2)
    const badPort = run('entrypoint.sh', { BURSAR_ENTRYPOINT_DRY_RUN: '1', BURSAR_KMS_REGION: 'us-east-1', BURSAR_KMS_KEY_ID: 'k', BURSAR_VSOCK_PORT: '70000' })
    expect(badPort.status).toBe(2)
    // limits41: the relay bound follows the baked connection caps; a cap that is not a number is refused (no shell arithmetic on it).
    const base = { BURSAR_ENTRYPOINT_DRY_RUN: '1', BURSAR_KMS_REGION: 'us-east-1', BURSAR_KMS_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/k' }
    const capped = run('entrypoint.sh', { ...base, BURSAR_ENCLAVE_MAX_CONNECTIONS: '8', BURSAR_GOVERNANCE_MAX_CONNECTIONS: '4' })
    expect(capped.stdout).toContain('RUN socat VSOCK-LISTEN:5005,fork,max-children=16,reuseaddr UNIX-CONNECT:/run/bursar/enclave.sock\n')
    expect(capped.stdout).toContain('RUN socat VSOCK-LISTEN:5006,fork,max-children=12,reuseaddr UNIX-CONNECT:/run/bursar/enclave.sock.gov\n')
    // rt41: a leading zero is refused too: bash read '0064' as octal (52: relays 60, below the server's 64, which node reads as 64) and failed on '08'.
    for (const bad of ['a[$(id)]', '0', '5000', '', '0064', '08']) {
      const r = run('entrypoint.sh', { ...base, BURSAR_ENCLAVE_MAX_CONNECTIONS: bad })
      expect([bad, r.status]).toEqual([bad, bad === '' ? 0 : 2])
    }
    for (const bad of ['x', '072']) {
      const badRelays = run('host-bridge.sh', { BURSAR_BRIDGE_DRY_RUN: '1', BURSAR_KMS_REGION: 'eu-west-1', BURSAR_ENCLAVE_CID: '16', BURSAR_BRIDGE_MAX_RELAYS: bad })
      expect([bad, badRelays.status]).toEqual([bad, 2])
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('host bridge dry run prints vsock-proxy for KMS and IMDS, the Unix→vsock relay and the host command', () => {
    const r = run('host-bridge.sh', { BURSAR_BRIDGE_DRY_RUN: '1', BURSAR_KMS_REGION: 'eu-west-1', BURSAR_ENCLAVE_CID: '16', BURSAR_HOST_CMD: 'node /opt/bursar/dist/host.mjs' })
    expect(r.status).toBe(0)
    expect(r.stdout.trim().split('\n')).toEqual([
      'RUN vsock-proxy 8000 kms.eu-west-1.amazonaws.com 443 --config /etc/nitro_enclaves/vsock-proxy.yaml',
      'RUN vsock-proxy 8002 169.254.169.254 80 --config /etc/nitro_enclaves/vsock-proxy.yaml',
      'RUN socat UNIX-LISTEN:/run/bursar/enclave.sock,fork,max-children=72,unlink-early,mode=660 VSOCK-CONNECT:16:5005',
      'RUN socat UNIX-LISTEN:/run/bursar/enclave.sock.gov,fork,max-children=72,unlink-early,mode=660 VSOCK-CONNECT:16:5006',
      'ENV BURSAR_ENCLAVE=unix:/run/bursar/enclave.sock',
      'EXEC node /opt/bursar/dist/host.mjs',
    ])
    expect(existsSync(marker)).toBe(false)
  })
})

describe('deploy/nitro/kms-key-policy.template.json', () => {
  const policy = JSON.parse(readFileSync(join(dir, 'kms-key-policy.template.json'), 'utf8'))
  const sid = (s: string) => policy.Statement.find((x: { Sid: string }) => x.Sid === s)

  it('allows Decrypt/GenerateDataKey only under the attestation conditions nitro pcrs prints', async () => {
    const allow = sid('EnclaveUseOnlyWithAttestation')
    expect(allow.Effect).toBe('Allow')
    expect(allow.Action.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey'])
    const r = await runNitroCli(['pcrs', '--eif-measurements', join(dir, 'sample-describe-eif.SAMPLE.json'), '--json'])
    const printed = JSON.parse(r.stdout).keyPolicyCondition
    expect(Object.keys(allow.Condition)).toEqual(Object.keys(printed))
    expect(Object.keys(allow.Condition.StringEqualsIgnoreCase).sort()).toEqual(Object.keys(printed.StringEqualsIgnoreCase).sort())
  })

  it('explicitly denies every cryptographic use when the attestation condition is absent', () => {
    const deny = sid('DenyEveryUseWithoutAttestation')
    expect(deny.Effect).toBe('Deny')
    expect(deny.Principal).toEqual({ AWS: '*' })
    expect(deny.Condition).toEqual({ Null: { 'kms:RecipientAttestation:ImageSha384': 'true' } })
    for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncrypt*']) expect(deny.Action).toContain(action)
    const admin = sid('KeyAdministrationNoCryptoUse')
    for (const a of admin.Action as string[]) expect(a).not.toMatch(/Decrypt|Encrypt|GenerateDataKey/)
  })
})

describe('deploy/nitro/Dockerfile', () => {
  const text = readFileSync(join(dir, 'Dockerfile'), 'utf8')
  it('pins the base image by digest, installs from the lockfile and fixes timestamps', () => {
    expect(text).toMatch(/ARG NODE_IMAGE=node:[^\s@]+@sha256:[0-9a-f]{64}/)
    expect(text).toContain('RUN npm ci --ignore-scripts')
    expect(text).toContain('COPY package.json package-lock.json ./')
    expect(text).toMatch(/SOURCE_DATE_EPOCH/)
    expect(text).toContain('snapshot.debian.org')
    expect(text).toContain('ENTRYPOINT ["/app/entrypoint.sh"]')
    expect(text).not.toMatch(/apt-get install(?![^\n]*--no-install-recommends)/)
  })

  // The image builds from the COPYed sources only: a folder a bundle imports but the Dockerfile does not copy breaks
  // `docker build` (core/, sim/ and scripts/lib were missing until stop 34; nothing here runs docker).
  it('copies every source file the build script and its bundles import', async () => {
    const { build } = await import('esbuild')
    const root = resolve(dir, '../..')
    const copied = [...text.matchAll(/^COPY (?!--)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '))
    const entries = ['scripts/buildEnclave.ts', 'sim/main.sim.ts', 'enclave/main.ts', 'sim/governance.sim.ts', 'governance/main.ts', 'host/server.ts']
    for (const entry of entries) {
      const r = await build({ entryPoints: [join(root, entry)], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, packages: 'external', logLevel: 'silent', absWorkingDir: root })
      const missing = Object.keys(r.metafile.inputs).filter((f) => !copied.some((c) => f === c || f.startsWith(`${c}/`)))
      expect(missing, `${entry} imports files the Dockerfile does not copy`).toEqual([])
    }
    expect(copied).toContain('package-lock.json')
  })
})
