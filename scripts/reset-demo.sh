#!/usr/bin/env bash
# Resets the demo to nothing: drops the platform's database, removes its data dir (CAs, keys, the embedded
# ledger's blocks, demo device keys) and its Redis keys. Stop the platform first (Ctrl+C in its terminal).
# Uses the same variables and defaults as the platform: DATABASE_URL, DATA_DIR, REDIS_URL, REDIS_PREFIX.
set -euo pipefail
cd "$(dirname "$0")/.."
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/c2m}"
DATA_DIR="${DATA_DIR:-.data}"
REDIS_PREFIX="${REDIS_PREFIX:-c2m}"
db="${DATABASE_URL##*/}"
db="${db%%\?*}"
admin_url="${DATABASE_URL%/*}/postgres"
if pgrep -f "services/dist/src/server.js" >/dev/null 2>&1; then
  echo "the platform is still running (services/dist/src/server.js): stop it first" >&2
  exit 1
fi
psql "$admin_url" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
rm -rf "$DATA_DIR"
if command -v redis-cli >/dev/null 2>&1; then
  redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" --scan --pattern "${REDIS_PREFIX}:*" | xargs -r -n 500 redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379}" DEL >/dev/null
fi
echo "demo reset: database $db dropped, $DATA_DIR removed, Redis keys ${REDIS_PREFIX}:* deleted; npm run demo starts afresh"
