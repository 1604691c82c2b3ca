#!/usr/bin/env bash
# npm ci when node_modules is missing or older than the lockfile. The `node` devDependency brings Node 22,
# which npm scripts then run on, even where the machine's own Node is older.
# Dependencies' install scripts are off: only the packages that package.json's `allowScripts` approves run theirs
# (npm 11 enforces that list itself; --ignore-scripts plus the rebuild does the same with an older npm).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --ignore-scripts
  approved=$(node -e 'const a = require("./package.json").allowScripts ?? {}; console.log(Object.keys(a).filter((k) => a[k] === true).join(" "))')
  # shellcheck disable=SC2086 # one argument per approved package
  [ -z "$approved" ] || npm rebuild --ignore-scripts=false $approved
fi
