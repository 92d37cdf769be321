#!/usr/bin/env bash
# Runs on the PARENT EC2 instance (untrusted side). It only relays bytes:
#   host API ──▶ Unix socket ──socat──▶ vsock <enclave-cid>:5005 (the enclave's framed protocol)
#   host API ──▶ Unix socket .gov ──socat──▶ vsock <enclave-cid>:5006 (governance's process, issue 12 stage B)
#   enclave  ──vsock 3:8000──▶ vsock-proxy ──▶ kms.<region>.amazonaws.com:443 (TLS end to end)
#   enclave  ──vsock 3:8002──▶ vsock-proxy ──▶ 169.254.169.254:80 (IMDS: the instance role's credentials)
# The vsock-proxy allowlist (/etc/nitro_enclaves/vsock-proxy.yaml) must list
# both destinations. Then, if BURSAR_HOST_CMD is set, it execs the host API;
# otherwise it waits and exits when any helper dies (systemd restarts it).
# BURSAR_BRIDGE_DRY_RUN=1 prints what would run and touches nothing.
set -euo pipefail

: "${BURSAR_KMS_REGION:?BURSAR_KMS_REGION must be set (e.g. in /etc/bursar/host.env)}"
if [[ ! "$BURSAR_KMS_REGION" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]]; then
  echo "host-bridge: BURSAR_KMS_REGION '$BURSAR_KMS_REGION' is not an AWS region" >&2
  exit 2
fi
DRY_RUN="${BURSAR_BRIDGE_DRY_RUN:-0}"
VSOCK_PORT="${BURSAR_VSOCK_PORT:-5005}"
GOV_VSOCK_PORT="${BURSAR_GOVERNANCE_VSOCK_PORT:-5006}"
KMS_PROXY_PORT="${BURSAR_KMS_PROXY_PORT:-8000}"
IMDS_PROXY_PORT="${BURSAR_IMDS_PROXY_PORT:-8002}"
HOST_SOCKET="${BURSAR_HOST_SOCKET:-/run/bursar/enclave.sock}"
PROXY_CONFIG="${BURSAR_VSOCK_PROXY_CONFIG:-/etc/nitro_enclaves/vsock-proxy.yaml}"
# limits41: relays forked at once per Unix socket (socat max-children; past it a local client waits in the listen
# queue). The enclave bounds itself (entrypoint.sh, serveFrames); this keeps a runaway local client from forking the
# parent's relays without bound. Default: the enclave's default connection cap (64) + 8.
RELAYS="${BURSAR_BRIDGE_MAX_RELAYS:-72}"
if [[ ! "$RELAYS" =~ ^[1-9][0-9]{0,3}$ ]] || (( RELAYS < 1 )); then
  echo "host-bridge: BURSAR_BRIDGE_MAX_RELAYS '$RELAYS' is not a number from 1 to 9999" >&2
  exit 2
fi

# The enclave's CID: given, or read from nitro-cli (the enclave must be running).
CID="${BURSAR_ENCLAVE_CID:-}"
if [[ -z "$CID" ]]; then
  if [[ "$DRY_RUN" == "1" ]]; then
    CID="<cid from nitro-cli describe-enclaves>"
  else
    CID="$(nitro-cli describe-enclaves | jq -r '.[0].EnclaveCID // empty')"
    if [[ -z "$CID" ]]; then
      echo "host-bridge: no running enclave (start it: nitro-cli run-enclave --eif-path ... ; see docs/nitro.md)" >&2
      exit 1
    fi
  fi
fi
if [[ "$DRY_RUN" != "1" && ! "$CID" =~ ^[0-9]+$ ]]; then
  echo "host-bridge: enclave CID '$CID' is not a number" >&2
  exit 2
fi

start() {
  if [[ "$DRY_RUN" == "1" ]]; then
    printf 'RUN %s\n' "$*"
  else
    "$@" &
  fi
}

start vsock-proxy "$KMS_PROXY_PORT" "kms.${BURSAR_KMS_REGION}.amazonaws.com" 443 --config "$PROXY_CONFIG"
if [[ "${BURSAR_IMDS_PROXY:-1}" == "1" ]]; then
  start vsock-proxy "$IMDS_PROXY_PORT" 169.254.169.254 80 --config "$PROXY_CONFIG"
fi
if [[ "$DRY_RUN" != "1" ]]; then mkdir -p "$(dirname "$HOST_SOCKET")"; fi
start socat "UNIX-LISTEN:${HOST_SOCKET},fork,max-children=${RELAYS},unlink-early,mode=660" "VSOCK-CONNECT:${CID}:${VSOCK_PORT}"
start socat "UNIX-LISTEN:${HOST_SOCKET}.gov,fork,max-children=${RELAYS},unlink-early,mode=660" "VSOCK-CONNECT:${CID}:${GOV_VSOCK_PORT}"

if [[ -n "${BURSAR_HOST_CMD:-}" ]]; then
  if [[ "$DRY_RUN" == "1" ]]; then
    printf 'ENV BURSAR_ENCLAVE=unix:%s\n' "$HOST_SOCKET"
    printf 'EXEC %s\n' "$BURSAR_HOST_CMD"
    exit 0
  fi
  export BURSAR_ENCLAVE="unix:${HOST_SOCKET}"
  # shellcheck disable=SC2086 # the command line is operator configuration
  exec $BURSAR_HOST_CMD
fi
if [[ "$DRY_RUN" == "1" ]]; then
  printf 'WAIT\n'
  exit 0
fi
wait -n
echo "host-bridge: a relay exited; stopping so systemd restarts the bridge" >&2
exit 1
