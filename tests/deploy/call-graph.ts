/**
 * Who calls whom, read from the services' code: every `downstreams.module.ts` under services/<service>/src declares
 * the HTTP clients of its service (`{ api, name: '<service>', url: (c) => c.<NAME>_URL }`). The charts'
 * NetworkPolicies and downstream URLs are checked against this, so a new call in the code without a matching
 * chart change fails the deploy tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES, type Service } from './chart-schemas';
import { repoRoot } from './helm';

function filesNamed(dir: string, name: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesNamed(path, name);
    return entry.name === name ? [path] : [];
  });
}

/** caller → the services it calls. */
export function callGraph(): Record<Service, Service[]> {
  const graph = Object.fromEntries(SERVICES.map((service) => [service, [] as Service[]])) as Record<Service, Service[]>;
  for (const caller of SERVICES) {
    for (const file of filesNamed(join(repoRoot, 'services', caller, 'src'), 'downstreams.module.ts')) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/name:\s*'([a-z]+)',\s*url:\s*\(\w+(?::\s*\w+)?\)\s*=>\s*\w+\.([A-Z]+)_URL/g)) {
        const [, callee, setting] = match;
        if (!(SERVICES as readonly string[]).includes(callee)) throw new Error(`${file}: unknown downstream ${callee}`);
        if (setting !== callee.toUpperCase()) throw new Error(`${file}: downstream ${callee} reads ${setting}_URL`);
        graph[caller].push(callee as Service);
      }
    }
  }
  return graph;
}

/** callee → the services that call it. */
export function callersOf(graph: Record<Service, Service[]>): Record<Service, Service[]> {
  const callers = Object.fromEntries(SERVICES.map((service) => [service, [] as Service[]])) as Record<Service, Service[]>;
  for (const caller of SERVICES) for (const callee of graph[caller]) callers[callee].push(caller);
  return callers;
}
