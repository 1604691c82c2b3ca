import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Supply chain: a dependency's install script runs code at install time, before any review of what it does. Every
 * installed package that has one (or a binding.gyp, which npm builds by default) must be reviewed in package.json's
 * `allowScripts`: approved (true) or denied (false). tools/ensure-node-modules.sh runs only the approved ones.
 */
const ROOT = join(__dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall'];

/** Every package under node_modules (scoped and nested ones included), by name. */
function* installedPackages(dir: string): Generator<{ name: string; dir: string }> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      for (const scoped of readdirSync(path, { withFileTypes: true })) {
        if (scoped.isDirectory()) yield* packageAt(`${entry.name}/${scoped.name}`, join(path, scoped.name));
      }
    } else {
      yield* packageAt(entry.name, path);
    }
  }
}

function* packageAt(name: string, dir: string): Generator<{ name: string; dir: string }> {
  if (existsSync(join(dir, 'package.json'))) yield { name, dir };
  yield* installedPackages(join(dir, 'node_modules'));
}

function installScripts(dir: string): string[] {
  const { scripts = {} } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const hooks = INSTALL_HOOKS.filter((hook) => scripts[hook]);
  if (hooks.length === 0 && existsSync(join(dir, 'binding.gyp'))) hooks.push('install (node-gyp rebuild)');
  return hooks;
}

it('every installed package with an install script is reviewed in allowScripts', () => {
  const withScripts = new Map<string, string[]>();
  for (const { name, dir } of installedPackages(join(ROOT, 'node_modules'))) {
    const hooks = installScripts(dir);
    if (hooks.length > 0) withScripts.set(name, hooks);
  }
  expect(withScripts.size).toBeGreaterThan(0); // the walk found what it looks for
  const reviewed = new Set(Object.keys(manifest.allowScripts ?? {}).map((entry) => entry.replace(/(?<=.)@[^@/]+$/, '')));
  const unreviewed = [...withScripts].filter(([name]) => !reviewed.has(name)).map(([name, hooks]) => `${name} (${hooks.join(', ')})`);
  expect(unreviewed).toEqual([]);
});

it('approves only the node package, whose install script puts the Node 22 binary in place', () => {
  const approved = Object.entries(manifest.allowScripts ?? {})
    .filter(([, allowed]) => allowed)
    .map(([name]) => name);
  expect(approved).toEqual(['node']);
  expect(readFileSync(join(ROOT, 'tools/ensure-node-modules.sh'), 'utf8')).toMatch(/npm ci [^\n]*--ignore-scripts/);
});
