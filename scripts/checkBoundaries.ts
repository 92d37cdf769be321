/**
 * Enforces the trust layout and measures the trusted closure (run by `make test`):
 * - the trusted closure = every project file esbuild pulls into enclave/main.ts (core/ and shared/ included);
 *   it never contains sim/ or a simulation-only package, and its size is budgeted;
 * - core/ is pure: no I/O module, no import of enclave/, host/, sim/, cli/, agent/;
 * - shared/ imports neither enclave/ nor host/ nor sim/; enclave/ and host/ never import each other;
 *   cli/ and agent/ never import enclave/, host/ or sim/;
 * - enclave/ and core/ import only their package allowlist;
 * - no `throw new Error(` in core/, enclave/ or shared/ (typed errors only).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const rel = (p: string) => path.relative(root, p)

/**
 * Budgets, in source lines: non-blank lines that are not comments, of project files in the closure (tests are
 * never in it). Physical lines are printed beside them. At 3d8d5af the closure was 4,700 source lines (5,915
 * physical) in 93 files, 3,736 of them in enclave/; at 28bad34 5,790 in 122 files; after the issue-12 diet 5,515;
 * 5,318 after EnclaveState, the snapshot schema and the second diet (core12). Issue 19 (owner governance: wallet-wide
 * caps, quorum, time-locked loosening, key rotation) +446 and issue 14 part 2 (batch-settlement, auth-capture) +309 → 6,073.
 * Diet12 (issue 12, third diet; docs/trustedClosure.md lists the files), step by step: typed results + one typed-data
 * hash seam 6,065; kind modules through tokenFacts, no redundant `kind` field 6,012; DecodedActionSchema from shared
 * field groups 5,945; decodeEip3009 through normalizeTypedMessage 5,931; canonicalHash, the enclave calls
 * decidePolicy (evaluatePolicy leaves) 5,924; kmsSealer promisify 5,920; signPlan 5,910; checkCaps 5,904.
 * Merged 12-01 with issue 15 (replay ids sealed with the state, +11) and issue 19 (non-custodial exit +158,
 * approve-above rules +28, time lock on unfreeze/permits/credits +66, delay floor +7, exit recipient checks +8):
 * 6,184 (the separate sums overlap: diet12 trimmed files gov19 also grew); red team rt19 (approve-above on permits,
 * credits and the exit's strictest threshold; lowering a threshold needs it) +21 → 6,205; split19 (approve-above
 * counts lone approvals over 24 h, sealed) +25 → 6,230.
 * Diet13 (issue 12, fourth diet): owner acts defined once (one field table per act; the EIP-712 types and the zod
 * message schemas both built from it, hashes pinned by shared/owner/ownerActHashes.test.ts) 6,171; core/state/stateTypes.ts
 * leaves the closure (types only: ACT_CLASSES moved to core/owner/quorum.ts) 6,096; the wallet acts listed once
 * (isWalletAct; applyOwnerAct's plan no longer repeats them as cases) 6,088; owner limits and their error codes
 * in one table 6,077; the rules' set predicates named once (SET_NAMES from the FIELDS table, also what policyWidening
 * compares: a new predicate cannot be missed there) 6,076; the KMS blob checked by one zod schema (decodeKmsBlob) 6,069;
 * OpenSSL checks the KMS answer's PKCS#7 padding (no hand-written unpad) 6,058; ACTION_KINDS read from
 * DecodedActionSchema's variants (not listed a second time) 6,042.
 * counts lone approvals over 24 h, sealed) +25 → 6,230; sign18 (libsecp256k1 engine with noble fallback, digest mod n, engine in hello) +33, then the signer pool removed (inline native signing is cheaper than a worker round trip) −103, native public keys for new wallets and a blinded context +11 → 6,171 on its branch; merged with diet13 → 5,983; wallet15 (per-wallet sealed blobs, issue 15 step 1) +102 on its branch → 6,085 (shell 2,068); format-1 snapshots (one blob, written before per-wallet blobs) still load, so an older store upgrades in place +8 → 6,093; red team rt15 (each core re-sends the wallet blobs the host has not acknowledged; a failed seal marks its wallets changed again) measured after the merge: 6,093; seal18 (staggered periodic seals: the core names where replay starts and which wallets lag behind it, replay skips what a blob holds) +24 → 6,117; red team rt18 (a failed owner-act seal leaves a full seal owed, so no staggered core defers the act's wallet; catchUp holds a staggered core back until the entries up to its seal have left) +6 → 6,123 (shell 2,106); mac22 (per-session MAC for agent requests: X25519 + HKDF open, HMAC check before parsing, bounded in-memory sessions, issue 22) +69 on its branch → 6,192 (shell 2,170); the shell back under its 2,100: pure steps moved to core (planOwnerAct with the recipient-key check and the state-growing acts, requestGate with the dry-run answer and the policy cache, describeWallet) → 6,203 (shell 2,073); ids18 (a staggered core no longer seals its deferred wallets' request ids: the log and their blobs give them back; each admitted id remembers its entry's seq) +7 on its branch → 6,210 (shell 2,080); the session key derivation and X25519 hex forms in one shared module for the SDK and the enclave (were written twice), the agent clock-ahead constant shared by the replay cache and the host's lookup skip +6 → 6,216 (shell 2,078); tail18 (a wallet's seal re-encodes only what changed in its ledger: TimeSeries caches the JSON text of 64-entry chunks, SpendLedger.toJSONText; coalescing keeps the unchanged buckets' text) +34 → 6,250 (shell unchanged); bind12 (auth_capture keeps minFeeBps and salt, a registry domain with a salt refused) +0 → 6,250; X25519 session keys made from 32 random bytes, not generateKeyPairSync (its job finalizer and a JWK export deadlock Node 20 under GC) +5 → 6,255; the same for the enclave receipt key and agent key files (one randomKeyPair for both curves) +3 → 6,258; replay18 (request ids indexed per agent and second in core/replay/RecentIds: a wallet's seal takes its agents' ids without scanning the others', each second's CBOR cached; the core's share skips buckets by seq bounds; the tuples written straight into one buffer; wallet blobs seal the ids grouped per agent, older flat lists still load) +147 → 6,405 (shell 2,081); rss18 (a TimeSeries keeps its amounts and running sums as numbers while a bound on them is a safe integer, BigInts only past it) +20 on its branch; merged with replay18 → 6,425; chain15 (per-wallet audit threads: walletSeq + walletPrev inside the entry hash, the thread head in the wallet blob, rebuilt on replay; issue 15 step 2) +16 → 6,441 (shell 2,094); rt30b (a seal over its 200,000-id cap keeps the newest ids admitted, whichever wallet: not the first wallets' fill; a capped wallet's ids read from a list, not a spent iterator) +6 → 6,447; native12 (an owner act's zero-address asset is the ledger's `native`: a CreditBudget or IssuePermit for the chain's coin was counted under a key no native spend uses; core/ledger/ledgerAsset for acts and approve-above rules) +5 → 6,452; lease15 (issue 15 step 3: loadWallet / dropWallet in a ready enclave, one wallet's tail checked by its thread, resumeFrom's hash check at a wallet blob's head; AuditChain moved to core/audit, pure, so the shell keeps room) +86 → 6,533 (shell 2,063); turn15 (each persist block's checkpoint signs its own last entry: the per-turn shared checkpoint and its setImmediate batching gone) −16, the answers of a turn still completing together (now each with its own checkpoint) +2 → 6,433 (shell 2,081; the budget figures left as they were); rss18b (the replay ids held compact: one Map from a 19-character key — agent index + the nonce's 16 bytes — to a slot with the time, seq and wallet in number arrays, instead of two Maps of 77-character keys: 180 → 132 B per id; the enclave sets --heap-growing-percent=30 at start; the admission check records an id in one lookup, a compact id's CBOR written from its bytes) +87 → 6,534.
 * Fifth diet (issue 12, helper diet12 on 12-02; docs/trustedClosure.md): the EIP-712 structs the decoders expect
 * written once as field lists (fields('address owner,…')) and one sameFields compare for checkStructTypes and the
 * domain's EIP712Domain check 6,423; the agent request schemas with zod 4's z.strictObject / z.looseObject (same
 * accepts, data and issues on 126k generated inputs) and decodeErc20Call's type without Permit2 calls, so
 * decodeTransaction's unreachable branch goes, 6,407; DecodeEip3009Parameters = DecodeTypedDataParameters + primaryType
 * (the same six parameters were declared twice), the two revocations' shared clean-up once in applyWalletChange, the
 * lone-surrogate pattern defined once in core/decode, 6,394; DecodeTransactionParameters picks the same three from
 * DecodeTypedDataParameters, 6,389; merged with native12 (an owner act's zero-address asset is the ledger's `native`,
 * core/ledger/ledgerAsset, +5) → 6,394;
 * merged with lease15 (+86 on its branch) → 6,480 (shell 2,063); with turn15 (−14 on its branch) → 6,466 (shell 2,050);
 * with rss18b (+87 on its branch) → 6,553 (shell 2,051).
 * rt31a: loadWallet keeps the owner path's walletsTotal and stateSoftBytes bounds (hostLoadsWalletsPastStateLimit) +3 → 6,556.
 * cpu18 (CPU per request: entry text from its hashed canonical JSON, block seqs kept for the in-order release,
 * canonicalJson loops, the approval key only when a wallet has pendings) +18 → 6,574 (shell 2,059).
 * chains15 (issue 15 step 4: loadState newChain starts an own chain of the lineage, chain_started naming chain + core,
 * checkpoints sign the chain, the core names it) +25 → 6,581 on its branch; merged → 6,599 (shell 2,069);
 * fix15 (no start floor for a wallet loaded with its replay ids; owner receipts name their chain) +5 → 6,604 (shell 2,073).
 * Sixth diet (issue 12, helper diet12c on 12-02; docs/trustedClosure.md): the five governance setters (owners_set,
 * proposals_set, exit_set, held_set, lone_approved_set) one WalletChange `governance_set` (same wallets on generated
 * change sequences, core/owner/governanceSet.property.test.ts) 6,588; AuditCheckpointSchema in its own file
 * (shared/audit/auditCheckpoint.ts: verifiers and the host parse checkpoints, the enclave imports only the type) and the
 * unused ChainIdSchema gone 6,580; NsmError, SealError and AuditError made by one codedError (shared/errors/base.ts;
 * same fields, name, message and wire form as the three class bodies, shared/errors/codedError.test.ts) 6,574.
 * cpu18d (frames encoded straight into one buffer, cborg's bytes: shared/protocol/encodeCborFrame +87; canonicalJson's
 * key insertion sort +12; hashEip3009's hex words +2; ~10 µs of enclave CPU per payment) +101 → 6,705 (shell 2,073); merged after diet12c: 6,675.
 * turn18 (one Ed25519 signature per enclave turn: the Merkle tree over the turn's heads, the turn message, each
 * checkpoint's path; the per-answer signing is gone) +23 → 6,627 (shell 2,075) on its branch; merged after diet12c and cpu18d → 6,698.
 * gov34 (issue 12 governance split, stage A: owner-act decisions moved to governance/ behind a MACed in-process seam —
 * the signer's view and decision schema in shared/governance, the decision applied by enclave/owner/applyOwnerAct, the
 * link key in the core blob; the stage-B projection without governance/ is printed beside this figure: 6,363) +379 → 7,077.
 * enc34 (the agent sign path's allowed audit entry appended without a second schema parse, ~4–7 µs per payment, +1; the turn
 * tree's SHA-256 by one-shot crypto.hash where Node has it, ~2 µs per answer at turns of 64, +2) +3 → 6,701 on its branch; merged after gov34 → 7,080; rt34a (a dry run stores and seals the held acts it found due) +3 → 7,083; rt34a (a refused owner act whose decision has steps answers with their sealed block) +3 → 7,086.
 * gov35 (issue 12 stage B: governance/ leaves for its own process behind a relay through the host — governance/ 710
 * out, the signer's end of the relay in enclave/owner/applyOwnerAct +45: outstanding views, the 30 s view age, the
 * sealed link key; governance's own closure is budgeted apart, GOVERNANCE_CLOSURE_BUDGET) 7,086 −667 → 6,419; gov35 (each decision step checked against its act:
 * shared/governance/stepsFitAct) +33 → 6,452;
 * mem35 (policy time zone 'UTC' validated and read without Intl: no ICU data pages, -6 MB enclave VmRSS) +2 → 6,454;
 * fix35 (catchUp re-sends paid from a byte budget: a host looping catchUp cannot keep the enclave encoding) +9 → 6,463.
 * diet36 (issue 12, seventh diet; docs/trustedClosure.md), step by step: the owner acts' field table out of the signer
 * (its receipt check reads shared/owner/ownerActNames.ts, compile-checked against ownerActTypes; ownerActHash in its own file) −105 → 6,358;
 * the sealed records' codec to core/state/snapshotCodec.ts (pure: cborg + zod; moved, shell 2,100 → 1,990) 0 → 6,358;
 * the signer applies only held acts: core/owner/heldActEvents.ts (unfreeze, credit, permit), ResolvePending and
 * ReleaseLocked (and resolvePending) stay in ledgerActEvents for governance; a sealed held act of another type is
 * audited as cancelled, not applied (core/owner/heldActEvents.test.ts) −34 → 6,324;
 * the sealed wallet blob's policy and governance records are the decision schema's (one schema each; were written
 * twice, the same constraints) −8 → 6,316;
 * the signer re-reads its stored policies by their shape (shared/schemas/policyShape.ts; PolicySchema = that shape +
 * the cross-field rules, governance's install check; shared/schemas/policyShape.test.ts) −21 → 6,295;
 * rt36a (a relayed decision is stale if an agent turn since its view applied a held act or moved the ledger under its
 * events, or a create landed since a CreateWallet's view: shared/governance/createCounts; outstanding views keep
 * hashes, not the view's bytes and the act's text) +3 on its branch → 6,466 (shell 2,096); merged after diet36 → 6,298;
 * gov36 (CreateWallet/ImportWallet name the enclave's audit chain: AuditChain.id (core id ‖ chain id) in the governance view; shell +0) +4 on its branch → 6,467; merged → 6,302.
 * diet37 (issue 12, eighth diet; docs/trustedClosure.md), step by step: checkCreateWallet to governance/createWalletChange.ts, its one caller (the signer never ran it) −11 → 6,291;
 * the KMS answer's RSAES-OAEP parameters and AES IV checked as DER bytes (the eight accepted encodings, a subset of what the
 * field-by-field reader accepted: enclave/kms/kmsOaepParams.property.test.ts) −36 → 6,255 (shell 1,950);
 * RecentIds' size / has / entryOf and ReplayCache.recent, read only by tests and benches, to core/replay/recentIdsProbe.ts −13 → 6,242 (shell 1,947);
 * a relayed decision's MAC opened once (applyOwnerActDecision hands the opened body on) −1 → 6,241 (shell 1,946);
 * issuePermit's parameters the permit_issued event's fields (a type derived from the event, not declared again) and the
 * event built from them (core/policy/issuePermit.property.test.ts: the same answers, key order included) −24 → 6,217;
 * WalletChange from the decision schema's WalletChangeJsonSchema (one definition; the two variants whose in-memory form
 * differs written out) −4, loadState's unused OWNER_RULE re-export −1 → 6,212 (shell 1,945);
 * the signer's half of the entry hash in shared/audit/hashCanonicalAuditEntry.ts (hashAuditEntry, which canonicalizes a
 * parsed entry, stays for the verifiers and re-exports it) −5 → 6,207;
 * OwnerReceiptSchema (only the host, SDK and CLI parse a receipt; the enclave makes them) to shared/protocol/messages.ts −2 → 6,205;
 * type aliases the signer never names out of its files (DenyRule, RiskControls: no user; AllowRule to policy.ts, governance's;
 * OwnerActBody to messages.ts, the host's) −4 → 6,201;
 * tail37 (a seal's bytes copied once: wallet blob as parts, sealers stream them into the envelope; core/state/encodeWithRaw.ts)
 * +15, (RecentIds counts each bucket's ids without an entry: a seal no longer re-scans buckets whose new ids all have one) −1
 * → +14 on its branch; merged after diet37 → 6,212 (shell 1,946);
 * cpu37 (the EIP-3009 digest's two Keccak-256 by hash-wasm's WebAssembly, noble as the fallback: core/decode/keccak256Bytes) +11 → 6,313; (canonicalJson quotes a string needing no escape without JSON.stringify) +2 → 6,315; the start-up log names the Keccak engine (shell +1) +1 → 6,316; decodeEip3009's three getAddress remembered (core/decode/checksummed) +11 → 6,327 on its branch; merged → 6,237 (shell 1,947).
 * create37 (a create decision re-checks its nonce, admission and the limits at apply, not the view's counts: createStillFits) +8 → 6,245; an imported wallet that landed since the view is not made again (defence in depth beside one outstanding view per wallet: ownerRacesImportsToResetWallet) +1 → 6,246; a create decision whose live window reaches a nonce a later create pruned is stale (rt37c: a held twin past the prune, a clock set back; EnclaveState.newestPruned) +5 → 6,251;
 * cpu38 (encodeCborFrame: strings before the SIMPLE Map, the ASCII loop on locals) +1 → 6,252; (the hot signTypedData request by direct checks, zod's value or zod decides: shared/schemas/typedDataRequestFast, shell +2) +63 → 6,315; (a payment's decoded action by direct checks, else DecodedActionSchema: core/decode/eip3009InBounds) +15 → 6,330;
 * tail38 (a periodic seal captured in the writer, encrypted after the turn, carried by a later block: Enclave captureSnapshot / encryptSnapshot / commitSeal / pendingSeal) +53 → 6,304 on its branch; merged after cpu38 → 6,383 (shell 2,009);
 * scope38 (a create's view carries the owner's counts and a nonce-used bit, not every owner's nonces; createCounts reads the state itself) −1 → 6,250; (a growing act's decision refused at apply once the state is past the soft limit: STATE_GROWING to shared/owner/ownerLimits.ts) +2 → 6,252 on its branch; merged → 6,384; tail39 (the receipt key's PKCS#8 exported once; periodic seals' capture/encryption and writer turns on a diagnostics channel for bench probes) +7 → 6,391;
 * writer40 (bounded writer turns: at most TURN_FRAMES of a connection's frames in flight, reading paused past it; the enclave_busy cap gone) +0; rt40 (a connection whose answers are not leaving is not read until 'drain': UNREAD_BYTES) +2 → 6,393 (shell 2,018);
 * conn40b (connections served at once bounded: MAX_CONNECTIONS, BURSAR_ENCLAVE_MAX_CONNECTIONS, enclave_connections_full past it; rt40's finding) +17 → 6,410 (shell 2,035);
 * tidy41 (the CBOR head writer written once, core/state/encodeWithRaw's head, the frame encoder's by it) −1 → 6,409 (shell 2,035);
 * limits41 (one byte budget across connections for frames received and not yet answered: serveFrames' PENDING_FRAME_BYTES
 * accounting per connection +20 (count, refuse, the data handler's check and log), BURSAR_ENCLAVE_PENDING_FRAME_BYTES and
 * governance's two bounds in enclave/config.ts +6, runEnclave/main passing it +1, enclave_frame_budget_full in the error table +1) +28 → 6,438;
 * (answers not yet read, across connections, past the same budget: the largest holder closed, serveFrames' shedUnread) +9 → 6,447 on its branch; merged with tidy41 → 6,446;
 * rt41 (past the frame budget the connection holding the largest partial frame is refused, not the one whose frame came last) +5 → 6,451;
 * floor40b (the agent start floor's distance a parameter: sim/main.sim.ts passes 0 for test stacks, enclave/main.ts never
 * passes it, so production keeps start + 2 s; the field and the ReplayCache argument) +2 → 6,453 (suite41's cherry-pick, merged onto limits41, tidy41 and rt41);
 */
export const TRUSTED_CLOSURE_BUDGET = Number(process.env.BURSAR_TRUSTED_BUDGET ?? 6453)
export const ENCLAVE_SHELL_BUDGET = Number(process.env.BURSAR_SHELL_BUDGET ?? 2100)
/** Issue 12 stage B (gov35): governance/main.ts's own closure (governance/ and what it shares with the signer: schemas, frame server, KMS sealer).
 * gov35 3,586; mem35 (the policy schema's UTC time zone check, shared with the signer) +1 → 3,587;
 * diet36 (ownerActHash in its own file: governance no longer loads the receipt schema) −24 → 3,563;
 * diet36 (ledgerActEvents split in two files for the signer: heldActEvents' header) +16 → 3,579; (policy.ts over policyShape.ts) +7 → 3,586;
 * gov36 (a CreateWallet/ImportWallet naming another enclave's audit chain, or none, refused: owner_act_wrong_chain) +3 on its branch; merged → 3,589.
 * diet37 (checkCreateWallet moved into createWalletChange.ts) −1 → 3,588; (the KMS answer's OAEP parameters and IV as DER bytes) −36 → 3,552;
 * diet37 (issuePermit's event from its parameters) −24, (WalletChange from the decision schema) −4 → 3,524; (type aliases out of policyShape.ts and requests.ts) −3 → 3,521;
 * tail37 (the KMS sealer writes its envelope once: enclave/seal/encryptToBlob.ts + core/state/encodeWithRaw.ts) +25 on its branch; merged → 3,543;
 * cpu37 (canonicalJson quotes a string needing no escape without JSON.stringify) +2 → 3,591 on its branch; merged → 3,545.
 * cpu38 (encodeCborFrame: strings before the SIMPLE Map, the ASCII loop on locals) +1 → 3,546.
 * scope38 (the create view's counts: createWalletChange reads them, no synthesized owners or nonce map) −9 → 3,536 on its branch; merged → 3,537.
 * conn40b (serveFrames, governance's frame server too, serves MAX_CONNECTIONS at once: enclave_connections_full past it) +15 → 3,552.
 * tidy41 (the CBOR head writer written once: the frame encoder's by core/state/encodeWithRaw's) −1 → 3,551.
 * limits41 (serveFrames' pending-frame byte budget +20 as the signer's; BURSAR_GOVERNANCE_MAX_CONNECTIONS and
 * BURSAR_GOVERNANCE_PENDING_FRAME_BYTES: config.ts +6, governance/main.ts and runGovernance passing them +4; the error code +1) +31 → 3,583;
 * (serveFrames' shedUnread, answers not yet read across connections, as the signer's) +9 → 3,592 on its branch; merged with tidy41 → 3,591.
 * rt41 (serveFrames: past the budget the largest partial frame's connection is refused, as the signer's) +5 → 3,596. */
export const GOVERNANCE_CLOSURE_BUDGET = Number(process.env.BURSAR_GOVERNANCE_BUDGET ?? 3596)

const TRUSTED_DEPS = ['viem', '@noble/curves', '@noble/hashes', 'hash-wasm', 'zod', 'cborg', '@aws-sdk/client-kms', '@peculiar/asn1-cms', '@peculiar/asn1-schema', 'asn1js', 'secp256k1']
const CORE_DEPS = ['viem', '@noble/curves', '@noble/hashes', 'hash-wasm', 'zod', 'cborg']
const SIM_ONLY_DEPS = ['@peculiar/x509']
const IO_MODULES = /^node:(fs|fs\/promises|net|child_process|http|https|http2|dgram|dns|tls|worker_threads|cluster|readline|os|process|vm|inspector|module|v8)$/

/** Which top-level folders each folder may import. */
const MAY_IMPORT: Record<string, string[]> = {
  core: ['core', 'shared'],
  shared: ['shared', 'core'],
  // Issue 12: owner governance, pure as core/ is; the signer reaches it only through GOVERNANCE_SEAM.
  governance: ['governance', 'core', 'shared'],
  enclave: ['enclave', 'core', 'shared'],
  sim: ['sim', 'enclave', 'core', 'shared', 'governance'],
  host: ['host', 'shared'],
  agent: ['agent', 'shared'],
  cli: ['cli', 'agent', 'core', 'shared', 'scripts'],
}

/** Issue 12 stage B: governance's process shell, the only governance/ files that may import enclave/ (its frame server, sealer, NSM). */
const GOVERNANCE_SHELL = new Set(['governance/main.ts', 'governance/runGovernance.ts'])
/** Folders held to core/'s purity: no I/O module, only the core package allowlist, typed errors. */
const PURE = ['core', 'governance']

function walk(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n)
    if (statSync(p).isDirectory()) return n === 'native' || n === 'node_modules' ? [] : walk(p)
    return /\.ts$/.test(n) && !/\.test\.ts$/.test(n) ? [p] : []
  })
}
// Also run-time requires of a native binding (createRequire(import.meta.url)('pkg/…'): esbuild does not see them).
const importRe = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]|createRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/gm
/** Files that load a native addon by a file path baked into the image (not a package): the NSM ioctl addon. */
const PATH_REQUIRE = new Set(['enclave/nsm/nitroNsm.ts'])
const DIRECT_REQUIRE = /createRequire\([^)]*\)\(\s*['"][^'"]+['"]\s*\)/g
const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(importRe)].map((m) => (m[1] ?? m[2] ?? m[3] ?? m[4])!)
const physicalLines = (f: string) => readFileSync(f, 'utf8').split('\n').length
/** Source lines: not blank, not a comment line (//, /*, * continuation). */
const lineCount = (f: string) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => {
      const t = l.trim()
      return t !== '' && !t.startsWith('//') && !t.startsWith('/*') && !t.startsWith('*')
    }).length
const pkgOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)

const problems: string[] = []
for (const [side, allowed] of Object.entries(MAY_IMPORT)) {
  for (const file of walk(path.join(root, side))) {
    const src = readFileSync(file, 'utf8')
    if (['core', 'enclave', 'shared', 'governance'].includes(side) && /throw new Error\(/.test(src)) problems.push(`${rel(file)}: throw new Error( — use a typed BaseError`)
    // SECURITY: a run-time require is held to the allowlist only in the one form importRe reads; any other use of
    // createRequire (bound to a name, aliased) could load a package nothing here sees (red team rt18).
    const requireCalls = (src.match(/createRequire\s*\(/g) ?? []).length
    if (['core', 'enclave', 'shared', 'governance'].includes(side) && !PATH_REQUIRE.has(rel(file)) && (requireCalls !== (src.match(DIRECT_REQUIRE) ?? []).length || /createRequire\s+as\b/.test(src))) {
      problems.push(`${rel(file)}: createRequire other than createRequire(import.meta.url)('package/…') (the allowlist could not see what it loads)`)
    }
    for (const spec of imports(file)) {
      if (spec.startsWith('.')) {
        const target = rel(path.resolve(path.dirname(file), spec)).split(path.sep)[0]!
        const shell = side === 'governance' && target === 'enclave' && GOVERNANCE_SHELL.has(rel(file))
        if (!allowed.includes(target) && !shell) problems.push(`${rel(file)} imports ${spec} (${side}/ may import ${allowed.join(', ')})`)
      } else if (spec.startsWith('node:')) {
        if (PURE.includes(side) && IO_MODULES.test(spec)) problems.push(`${rel(file)} imports ${spec}: ${side}/ does no I/O`)
      } else if (PURE.includes(side) && !CORE_DEPS.includes(pkgOf(spec)) && !GOVERNANCE_SHELL.has(rel(file))) {
        problems.push(`${rel(file)} imports ${pkgOf(spec)}, not on the core allowlist`)
      } else if (side === 'enclave' && !TRUSTED_DEPS.includes(pkgOf(spec))) {
        problems.push(`${rel(file)} imports ${pkgOf(spec)}, not on the enclave allowlist`)
      }
    }
  }
}

// The trusted closure: what esbuild bundles for the production entrypoint (packages left external).
const result = await build({
  entryPoints: [path.join(root, 'enclave/main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  write: false,
  metafile: true,
  logLevel: 'silent',
})
// Issue 12 stage B: governance's own process and its own closure (governance/main.ts, the Nitro entry), budgeted apart.
const governanceBuild = await build({
  entryPoints: [path.join(root, 'governance/main.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', write: false, metafile: true, logLevel: 'silent',
})
const governanceClosure = Object.keys(governanceBuild.metafile.inputs).filter((f) => !f.includes('node_modules')).sort()
const closure = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules')).sort()
const external = new Set<string>()
for (const input of Object.values(result.metafile.inputs)) for (const i of input.imports) if (i.external) external.add(pkgOf(i.path))
for (const f of closure) if (f.startsWith('sim/')) problems.push(`enclave/main.ts reaches ${f}`)
// floor40b: the simulation's settings (BURSAR_SIM_*, e.g. the agent start floor) are read by sim/ only, never by the production entry.
for (const f of closure) if (readFileSync(path.join(root, f), 'utf8').includes('BURSAR_SIM_')) problems.push(`${f} (in the trusted closure) names a BURSAR_SIM_ setting`)
// rt41: nor may the production entry pass the floor's distance itself (a literal `agentStartFloorMs: 0` names no BURSAR_SIM_ setting).
if (readFileSync(path.join(root, 'enclave/main.ts'), 'utf8').includes('agentStartFloorMs')) problems.push('enclave/main.ts passes agentStartFloorMs (the agent start floor is start + 2 s in production)')
// SECURITY (issue 12 stage B): the signer decides no owner act itself; governance/ runs in its own process.
for (const f of closure) if (f.startsWith('governance/')) problems.push(`enclave/main.ts reaches ${f} (governance runs in its own process)`)
for (const f of governanceClosure) if (f.startsWith('sim/')) problems.push(`governance/main.ts reaches ${f}`)
// Memory (issue 18): `import { z } from 'zod'` hands esbuild zod's whole namespace object, so every bundle that reaches
// the file carries all of zod (its ~40 locales too: +540 KB of source held by V8 for the process's life);
// `import * as z from 'zod'` lets esbuild keep only what is used.
for (const f of [...closure, ...walk(path.join(root, 'sim')).map(rel)]) {
  if (/import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*['"]zod['"]/.test(readFileSync(path.join(root, f), 'utf8'))) problems.push(`${f}: import { z } from 'zod' bundles all of zod; write import * as z from 'zod'`)
}
for (const d of SIM_ONLY_DEPS) if (external.has(d)) problems.push(`enclave/main.ts reaches the simulation-only package ${d}`)
// What esbuild sees in the closure, however it is loaded (import, literal dynamic import, require('pkg')), on the allowlist too.
for (const d of external) if (!d.startsWith('node:') && !TRUSTED_DEPS.includes(d)) problems.push(`the trusted closure loads ${d}, not on the enclave allowlist`)
const byDir = new Map<string, number>()
for (const f of closure) byDir.set(f.split('/')[0]!, (byDir.get(f.split('/')[0]!) ?? 0) + lineCount(path.join(root, f)))
const total = [...byDir.values()].reduce((a, b) => a + b, 0)
const physical = closure.reduce((n, f) => n + physicalLines(path.join(root, f)), 0)
const shell = byDir.get('enclave') ?? 0
if (total > TRUSTED_CLOSURE_BUDGET) problems.push(`trusted closure has ${total} lines (budget ${TRUSTED_CLOSURE_BUDGET})`)
if (shell > ENCLAVE_SHELL_BUDGET) problems.push(`enclave/ shell in the closure has ${shell} lines (budget ${ENCLAVE_SHELL_BUDGET})`)

if (process.argv.includes('--list')) for (const f of closure) console.log(`${String(lineCount(path.join(root, f))).padStart(5)}  ${f}`)
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ sourceLines: total, physicalLines: physical, files: closure, byDir: Object.fromEntries(byDir) }))
  process.exit(problems.length ? 1 : 0)
}
const parts = [...byDir].map(([d, n]) => `${d}/ ${n}`).join(', ')
console.log(
  `trusted closure: ${total} source lines (${physical} physical) in ${closure.length} files (${parts}); budget ${TRUSTED_CLOSURE_BUDGET}; enclave/ shell ${shell}/${ENCLAVE_SHELL_BUDGET}; packages: ${[...external].filter((p) => !p.startsWith('node:')).sort().join(', ')}`,
)

const governanceLines = governanceClosure.reduce((n, f) => n + lineCount(path.join(root, f)), 0)
const governanceOwn = governanceClosure.filter((f) => f.startsWith('governance/')).reduce((n, f) => n + lineCount(path.join(root, f)), 0)
if (governanceLines > GOVERNANCE_CLOSURE_BUDGET) problems.push(`governance closure has ${governanceLines} lines (budget ${GOVERNANCE_CLOSURE_BUDGET})`)
console.log(`governance closure (issue 12 stage B, its own process): ${governanceLines} source lines in ${governanceClosure.length} files (governance/ ${governanceOwn}); budget ${GOVERNANCE_CLOSURE_BUDGET}`)

if (problems.length) {
  console.error(`checkBoundaries: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('checkBoundaries: ok')
