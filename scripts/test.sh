#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs what the tests need
# (Debian packages, then npm ci), builds, type-checks, lints and runs every test,
# and ends with one plain line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

DEBS=(influxdb influxdb-client mosquitto mosquitto-clients socat mbpoll chromium iproute2 procps prometheus openssl curl)
missing=()
for p in "${DEBS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q || exit 1
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" || exit 1
fi

step() {
  echo "==> $*"
  "$@" || { echo "FAILED: $*"; echo "0 passed, 1 failed"; exit 1; }
}
step npm ci --no-audit --no-fund
step npm run build
step npm run typecheck
step npm run lint

echo "==> vitest (unit, then integration)"
mkdir -p test-results
rm -f test-results/vitest.json
rm -rf test-results/gateway-logs # each run's gateway output, read by the last test (test/logs)
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
status=$?
node scripts/summary.mjs test-results/vitest.json || status=1
exit $status
