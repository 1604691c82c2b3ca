import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Tests that spawn a service run its build output; an incremental `tsc -b` keeps that output current.
 * A failing build is reported but does not stop the run: the build is its own step in tools/test-all.sh, and
 * one project's compile error should not hide every other project's test results.
 */
export default function build(): void {
  const root = join(__dirname, '..');
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'pipe',
    });
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? String(error);
    console.warn(`tsc -b failed; tests that run build output may use a stale build:\n${output}`);
  }
}
