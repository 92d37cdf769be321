#!/usr/bin/env bash
# Runs INSIDE the Nitro enclave as the image's entrypoint (PID 1). The enclave
# has no network: its only channel is vsock to the parent instance (CID 3).
#   host  ──vsock:5005──▶ socat VSOCK-LISTEN ──▶ Unix socket ──▶ node dist/enclave.mjs
#   host  ──vsock:5006──▶ socat VSOCK-LISTEN ──▶ Unix socket ──▶ node dist/governance.mjs (issue 12 stage B: owner
#         acts are decided there; the host relays the signer's view to it and its decision back)
#   node ──https://kms.<region>.amazonaws.com:8443──▶ 127.0.0.1:8443 (via /etc/hosts)
#        ──socat──▶ vsock 3:8000 ──▶ host vsock-proxy ──▶ kms.<region>.amazonaws.com:443
#   node (AWS SDK credentials) ──▶ 127.0.0.1:8002 ──socat──▶ vsock 3:8002 ──▶ host vsock-proxy ──▶ IMDS
# TLS to KMS is end to end (the enclave checks KMS's certificate); the host
# only relays bytes. Set BURSAR_ENTRYPOINT_DRY_RUN=1 to print what would run.
set -euo pipefail

: "${BURSAR_KMS_REGION:?BURSAR_KMS_REGION must be set (baked into the image: see deploy/nitro/Dockerfile)}"
: "${BURSAR_KMS_KEY_ID:?BURSAR_KMS_KEY_ID must be set (baked into the image: see deploy/nitro/Dockerfile)}"
if [[ ! "$BURSAR_KMS_KEY_ID" =~ ^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/ ]]; then
  echo "entrypoint: BURSAR_KMS_KEY_ID must be a full KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), not an alias" >&2
  exit 2
fi
if [[ ! "$BURSAR_KMS_REGION" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]]; then
  echo "entrypoint: BURSAR_KMS_REGION '$BURSAR_KMS_REGION' is not an AWS region" >&2
  exit 2
fi

PARENT_CID=3
VSOCK_PORT="${BURSAR_VSOCK_PORT:-5005}"
SOCKET="${BURSAR_ENCLAVE_SOCKET:-/run/bursar/enclave.sock}"
GOV_VSOCK_PORT="${BURSAR_GOVERNANCE_VSOCK_PORT:-5006}"
GOV_SOCKET="${SOCKET}.gov"
KMS_LOCAL_PORT="${BURSAR_KMS_LOCAL_PORT:-8443}"
KMS_PROXY_PORT="${BURSAR_KMS_PROXY_PORT:-8000}"
IMDS_LOCAL_PORT="${BURSAR_IMDS_LOCAL_PORT:-8002}"
IMDS_PROXY_PORT="${BURSAR_IMDS_PROXY_PORT:-8002}"
APP_DIR="${BURSAR_APP_DIR:-/app}"
HOSTS_FILE="${BURSAR_HOSTS_FILE:-/etc/hosts}"
DRY_RUN="${BURSAR_ENTRYPOINT_DRY_RUN:-0}"
KMS_HOST="kms.${BURSAR_KMS_REGION}.amazonaws.com"

for port in "$VSOCK_PORT" "$GOV_VSOCK_PORT" "$KMS_LOCAL_PORT" "$KMS_PROXY_PORT" "$IMDS_LOCAL_PORT" "$IMDS_PROXY_PORT"; do
  if [[ ! "$port" =~ ^[0-9]{1,5}$ ]] || (( port < 1 || port > 65535 )); then
    echo "entrypoint: invalid port '$port'" >&2
    exit 2
  fi
done

# limits41: every vsock connection forks one socat relay INSIDE the enclave (its memory, its process table), and the
# host opens them: unbounded, a connection flood forked relays until the enclave ran out of memory. socat's
# max-children holds at most this many relays at once; past it the host's connections wait in the vsock listen queue
# (socat accepts again when a relay ends). A few (8) above the frame server's own cap, so a connection past that cap
# still reaches it and gets the typed enclave_connections_full refusal (its relay then ends at once).
for cap in "${BURSAR_ENCLAVE_MAX_CONNECTIONS:-64}" "${BURSAR_GOVERNANCE_MAX_CONNECTIONS:-64}"; do
  if [[ ! "$cap" =~ ^[1-9][0-9]{0,3}$ ]] || (( cap < 1 || cap > 4096 )); then
    echo "entrypoint: invalid connection cap '$cap' (1-4096)" >&2
    exit 2
  fi
done
SIGNER_RELAYS=$(( ${BURSAR_ENCLAVE_MAX_CONNECTIONS:-64} + 8 ))
GOV_RELAYS=$(( ${BURSAR_GOVERNANCE_MAX_CONNECTIONS:-64} + 8 ))

# Prints (dry run) or starts a long-running helper in the background.
start() {
  if [[ "$DRY_RUN" == "1" ]]; then
    printf 'RUN %s\n' "$*"
  else
    "$@" &
  fi
}

# The enclave's loopback interface starts down.
if [[ "$DRY_RUN" == "1" ]]; then printf 'RUN ip link set dev lo up\n'; else ip link set dev lo up; fi

# Resolve the KMS host name to the local forwarder; TLS still verifies kms.<region>.amazonaws.com.
if [[ "$DRY_RUN" == "1" ]]; then
  printf 'HOSTS 127.0.0.1 %s >> %s\n' "$KMS_HOST" "$HOSTS_FILE"
else
  printf '127.0.0.1 %s\n' "$KMS_HOST" >> "$HOSTS_FILE"
fi

start socat "TCP-LISTEN:${KMS_LOCAL_PORT},bind=127.0.0.1,fork,reuseaddr" "VSOCK-CONNECT:${PARENT_CID}:${KMS_PROXY_PORT}"
start socat "TCP-LISTEN:${IMDS_LOCAL_PORT},bind=127.0.0.1,fork,reuseaddr" "VSOCK-CONNECT:${PARENT_CID}:${IMDS_PROXY_PORT}"

if [[ "$DRY_RUN" != "1" ]]; then mkdir -p "$(dirname "$SOCKET")"; fi
start socat "VSOCK-LISTEN:${VSOCK_PORT},fork,max-children=${SIGNER_RELAYS},reuseaddr" "UNIX-CONNECT:${SOCKET}"
start socat "VSOCK-LISTEN:${GOV_VSOCK_PORT},fork,max-children=${GOV_RELAYS},reuseaddr" "UNIX-CONNECT:${GOV_SOCKET}"

export BURSAR_MODE=nitro
export BURSAR_ENCLAVE_LISTEN="unix:${SOCKET}"
export BURSAR_KMS_ENDPOINT="https://${KMS_HOST}:${KMS_LOCAL_PORT}"
export AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:${IMDS_LOCAL_PORT}"
export AWS_REGION="$BURSAR_KMS_REGION"
# Enclave RSS (issue 18; the same as scripts/lib/enclaveLaunch.ts, which every other launcher uses): glibc keeps at
# most 2 malloc arenas and gives blocks of 128 KiB and more back to the system when freed, and V8's young generation is
# 2 x 8 MB instead of 2 x 16 MB (docs/bench.md).
export MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
ENCLAVE_NODE_FLAGS=(--max-semi-space-size=8)

# Governance (issue 12 stage B): its own process and bundle in this image (same PCRs, so the KMS key policy that admits
# the signer admits it: it unseals the signer's link key, purpose governance-link). Stateless; started before the signer.
start env BURSAR_GOVERNANCE_LISTEN="unix:${GOV_SOCKET}" BURSAR_KMS_ENDPOINT="https://${KMS_HOST}:${KMS_LOCAL_PORT}" node "${ENCLAVE_NODE_FLAGS[@]}" "${APP_DIR}/dist/governance.mjs"

if [[ "$DRY_RUN" == "1" ]]; then
  for name in BURSAR_MODE BURSAR_ENCLAVE_LISTEN BURSAR_KMS_ENDPOINT BURSAR_KMS_REGION BURSAR_KMS_KEY_ID AWS_EC2_METADATA_SERVICE_ENDPOINT MALLOC_ARENA_MAX MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_; do
    printf 'ENV %s=%s\n' "$name" "${!name}"
  done
  printf 'EXEC node %s %s/dist/enclave.mjs\n' "${ENCLAVE_NODE_FLAGS[*]}" "$APP_DIR"
  exit 0
fi
exec node "${ENCLAVE_NODE_FLAGS[@]}" "${APP_DIR}/dist/enclave.mjs"
