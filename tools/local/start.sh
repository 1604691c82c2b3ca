#!/usr/bin/env bash
# `npm start`: install what is missing, build, then run the local stack in the foreground.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/ensure-system-deps.sh
bash tools/ensure-node-modules.sh
export PATH="$PWD/node_modules/.bin:$PATH"
npm run --silent build
exec node tools/local/stack.mjs
