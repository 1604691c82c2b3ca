/**
 * A fresh copy of this repository to generate into: the files git knows (committed, changed or new, not ignored),
 * the build output with its timestamps (so `tsc -b` only compiles what a test adds), and node_modules as links into
 * this checkout's, except the workspace links, which point into the copy as `npm install` would make them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const repoRoot = resolve(__dirname, '../..');

export function copyWorkspace(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dronedelivery-generated-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot })
    .toString()
    .split('\0')
    .filter((file) => file && existsSync(join(repoRoot, file)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    // A committed symlink (charts/dronedelivery/rules → monitoring/rules) stays a link, as git checks it out.
    if (lstatSync(join(repoRoot, file)).isSymbolicLink()) symlinkSync(readlinkSync(join(repoRoot, file)), join(dir, file));
    else cpSync(join(repoRoot, file), join(dir, file), { preserveTimestamps: true });
  }
  for (const parent of ['libs', 'services', 'tools']) {
    for (const project of readdirSync(join(repoRoot, parent))) {
      const dist = join(repoRoot, parent, project, 'dist');
      if (existsSync(dist)) cpSync(dist, join(dir, parent, project, 'dist'), { recursive: true, preserveTimestamps: true });
    }
  }
  const modules = join(repoRoot, 'node_modules');
  mkdirSync(join(dir, 'node_modules'));
  for (const entry of readdirSync(modules)) {
    if (entry === '@dronedelivery') continue;
    symlinkSync(join(modules, entry), join(dir, 'node_modules', entry));
  }
  mkdirSync(join(dir, 'node_modules/@dronedelivery'));
  for (const entry of readdirSync(join(modules, '@dronedelivery'))) {
    const link = join(modules, '@dronedelivery', entry);
    if (lstatSync(link).isSymbolicLink()) symlinkSync(readlinkSync(link), join(dir, 'node_modules/@dronedelivery', entry));
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
