#!/usr/bin/env bash
# npm ci when node_modules is missing or older than the lockfile. The `node` devDependency brings Node 22,
# which npm scripts then run on, even where the machine's own Node is older.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
