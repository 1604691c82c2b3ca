import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Tests that spawn a service run its build output; an incremental `tsc -b` keeps that output current. */
export default function build(): void {
  const root = join(__dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
