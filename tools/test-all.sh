#!/usr/bin/env bash
# The full test suite on a fresh machine: system packages, npm ci, build, lint, then every test layer
# (unit, integration against real servers, architecture). Ends with one line: "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/ensure-system-deps.sh --tests || { echo "0 passed, 1 failed"; exit 1; }
bash tools/ensure-node-modules.sh || { echo "0 passed, 1 failed"; exit 1; }
export PATH="$PWD/node_modules/.bin:$PATH"
echo "node $(node -v), $(redis-server --version | cut -d' ' -f3)"

failed_steps=0
step() {
  echo "::: $*"
  "$@" || { echo "::: FAILED: $*"; failed_steps=$((failed_steps + 1)); }
}
step npm run --silent build
step npm run --silent lint

report="$(mktemp -t vitest-report.XXXXXX.json)"
step env OTEL_TRACES_SAMPLER=always_on vitest run --reporter=default --reporter=json --outputFile="$report"

node -e '
  const fs = require("fs");
  const [file, failedSteps] = [process.argv[1], Number(process.argv[2])];
  let r = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };
  try { r = JSON.parse(fs.readFileSync(file, "utf8")); } catch { console.error("no test report was written"); }
  const passed = r.numPassedTests, failed = r.numFailedTests + failedSteps, skipped = r.numPendingTests + r.numTodoTests;
  if (failedSteps) console.error(failedSteps + " non-test step(s) failed (build, lint or the runner), counted as failures");
  console.log(passed + " passed, " + failed + " failed" + (skipped ? ", " + skipped + " skipped" : ""));
  process.exit(failed > 0 ? 1 : 0);
' "$report" "$failed_steps"
