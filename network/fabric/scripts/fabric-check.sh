#!/usr/bin/env bash
# End-to-end check on a real Fabric network (`npm run fabric:check`): with Fabric 2.5 binaries on PATH (and
# FABRIC_CFG_PATH at the release's config/), bring a fresh network up in MODE=local, run the ledger
# conformance suite against it, run the demo with LEDGER=fabric and check that every transaction it made is
# VALID, tear everything down, and print one summary. Exit 0 only when every step passed; 3 when the Fabric
# binaries are missing (nothing was run: CI reports that as a skip).
#
# Settings: FABRIC_CHECK_BUILD_DIR (default: a new temporary folder, deleted afterwards), CRYPTO (ca),
# DEMO_EVENT_COUNT (120). Uses PostgreSQL, Redis and Mosquitto like the tests, each under names of its own.
set -uo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPTS_DIR/../../.." && pwd)"
cd "$REPO_DIR" || exit 2

missing=()
tools=(peer orderer configtxgen osnadmin discover)
if [[ "${CRYPTO:-ca}" == cryptogen ]]; then tools+=(cryptogen); else tools+=(fabric-ca-server fabric-ca-client); fi
for bin in "${tools[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if ((${#missing[@]} > 0)); then
  echo "fabric:check SKIPPED: no Fabric binaries on PATH (missing: ${missing[*]}); see network/README.md, 'Getting Fabric'"
  exit 3
fi
FABRIC_HOME="${FABRIC_HOME:-$(cd "$(dirname "$(command -v peer)")/.." && pwd)}"
export FABRIC_HOME FABRIC_CFG_PATH="${FABRIC_CFG_PATH:-$FABRIC_HOME/config}"

run_id="$(date +%s)-$$"
own_build=0
if [[ -z "${FABRIC_CHECK_BUILD_DIR:-}" ]]; then
  FABRIC_CHECK_BUILD_DIR="$(mktemp -d /tmp/c2m-fabric-check-XXXXXX)"
  own_build=1
fi
export MODE=local BUILD_DIR="$FABRIC_CHECK_BUILD_DIR" CRYPTO="${CRYPTO:-ca}"
db="c2m_fabric_check_${run_id//-/_}"
logs="$BUILD_DIR/check-logs"
mkdir -p "$logs"
results=()
failed=0
step() { # name, status, detail
  results+=("$(printf '  %-24s %-5s %s' "$1" "$2" "$3")")
  [[ "$2" == ok ]] || failed=1
}

teardown() {
  local t0=$SECONDS
  if "$SCRIPTS_DIR/network.sh" down >"$logs/down.log" 2>&1; then step "teardown" ok "nodes stopped ($((SECONDS - t0)) s)"; else
    step "teardown" FAIL "see $logs/down.log"
  fi
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db" postgres >/dev/null 2>&1 || true
  redis-cli --scan --pattern "c2m-fabric-check-$run_id*" 2>/dev/null | xargs -r redis-cli del >/dev/null 2>&1 || true
  rm -rf "/tmp/c2m-fabric-check-data-$run_id"
}

summary() {
  local version
  version="$(peer version 2>/dev/null | sed -n 's/^ Version: //p' | head -n 1)"
  echo
  echo "fabric:check on Fabric ${version:-?} ($(command -v peer)), CRYPTO=$CRYPTO, build $BUILD_DIR"
  printf '%s\n' "${results[@]}"
  if ((failed)); then echo "fabric:check FAILED (logs: $logs)"; else echo "fabric:check PASSED"; fi
}

# A network from an earlier run still listening would be mistaken for this one.
if (exec 3<>/dev/tcp/127.0.0.1/7051) 2>/dev/null; then
  echo "fabric:check: something already listens on 127.0.0.1:7051 (a network from 'network.sh up'?); stop it first" >&2
  exit 2
fi

t0=$SECONDS
if npx tsc --build shared identity chaincode network services >"$logs/build.log" 2>&1; then
  step "build" ok "tsc --build ($((SECONDS - t0)) s)"
else
  step "build" FAIL "see $logs/build.log"
  summary
  exit 1
fi

t0=$SECONDS
if "$SCRIPTS_DIR/network.sh" up >"$logs/up.log" 2>&1; then
  crypto="5 CAs"
  [[ "$CRYPTO" == cryptogen ]] && crypto="cryptogen"
  step "network up" ok "$crypto, orderer, 5 peers, channel, chaincode, discovery ($((SECONDS - t0)) s)"
else
  step "network up" FAIL "see $logs/up.log"
  teardown
  summary
  exit 1
fi

t0=$SECONDS
FABRIC_CONNECTION="$BUILD_DIR/connection.json" CORE_CHAINCODE_LOGGING_LEVEL=CRITICAL \
  node --test --test-reporter=tap network/dist/test/conformance/fabric.test.js >"$logs/conformance.tap" 2>&1
rc=$?
pass="$(sed -n 's/^# pass //p' "$logs/conformance.tap")"
fail="$(sed -n 's/^# fail //p' "$logs/conformance.tap")"
skip="$(sed -n 's/^# skipped //p' "$logs/conformance.tap")"
if ((rc == 0)) && [[ "${fail:-1}" == 0 && "${skip:-1}" == 0 && "${pass:-0}" -gt 0 ]]; then
  step "conformance (fabric)" ok "$pass passed, 0 failed ($((SECONDS - t0)) s)"
else
  step "conformance (fabric)" FAIL "pass ${pass:-?} fail ${fail:-?} skipped ${skip:-?} (see $logs/conformance.tap)"
fi

t0=$SECONDS
LEDGER=fabric FABRIC_CONNECTION="$BUILD_DIR/connection.json" \
  DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" REDIS_PREFIX="c2m-fabric-check-$run_id" \
  MQTT_TOPIC_ROOT="c2m-fabric-check-$run_id/v1" DATA_DIR="/tmp/c2m-fabric-check-data-$run_id" \
  ANCHOR_INTERVAL_MS=2000 LOG_LEVEL=warn DEMO_EVENT_COUNT="${DEMO_EVENT_COUNT:-120}" \
  node services/dist/src/demo/ledger-check.js >"$logs/demo.log" 2>&1
rc=$?
line="$(grep '^{"ok"' "$logs/demo.log" | tail -n 1)"
detail="$(node -e '
  const s = JSON.parse(process.argv[1] || "{}");
  const codes = Object.entries(s.codes ?? {}).map(([c, n]) => `${n} ${c}`).join(", ") || "none";
  const bad = (s.recorded?.bad ?? []).length;
  console.log(`blocks ${s.blocks?.from}..${(s.blocks?.to ?? 1) - 1}: ${codes}; ${s.recorded?.checked ?? 0} recorded txIds looked up, ${bad} not VALID` + (s.error ? `; ${s.error.split("\n")[0]}` : ""));
' "$line" 2>/dev/null)"
# No summary line means the check did not run to its end, whatever the exit status says.
if ((rc == 0)) && [[ -n "$line" ]]; then step "demo on fabric" ok "$detail ($((SECONDS - t0)) s)"; else
  step "demo on fabric" FAIL "${detail:-no summary} (see $logs/demo.log)"
fi

teardown
if ((own_build && !failed)); then rm -rf "$BUILD_DIR"; fi
summary
exit "$failed"
