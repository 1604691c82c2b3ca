/**
 * Who calls whom, read from the services' code: every `downstreams.module.ts` under services/<service>/src declares
 * the HTTP clients of its service (`{ api, name: '<service>', url: (c) => c.<NAME>_URL }`). The charts'
 * NetworkPolicies and downstream URLs are checked against this, so a new call in the code without a matching
 * chart change fails the deploy tests. Service names are DNS labels (`parcel-lockers`); a dash becomes an
 * underscore in the setting (`PARCEL_LOCKERS_URL`), as the library chart writes it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES, type Service } from './chart-schemas';
import { repoRoot } from './helm';
import { urlSetting } from './services';

function filesNamed(dir: string, name: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesNamed(path, name);
    return entry.name === name ? [path] : [];
  });
}

const DOWNSTREAM = /name:\s*'([a-z][a-z0-9-]*)',\s*url:\s*\(\w+(?::\s*\w+)?\)\s*=>\s*\w+\.([A-Z][A-Z0-9_]*_URL)\b/g;

/** The downstreams one `downstreams.module.ts` declares; each must be a known service read from its own setting. */
export function downstreamsIn(source: string, file: string, known: readonly string[]): string[] {
  return [...source.matchAll(DOWNSTREAM)].map(([, callee, setting]) => {
    if (!known.includes(callee)) throw new Error(`${file}: unknown downstream ${callee}`);
    if (setting !== urlSetting(callee)) throw new Error(`${file}: downstream ${callee} reads ${setting}, not ${urlSetting(callee)}`);
    return callee;
  });
}

/** caller → the services it calls. */
export function callGraph(): Record<Service, Service[]> {
  const graph = Object.fromEntries(SERVICES.map((service) => [service, [] as Service[]])) as Record<Service, Service[]>;
  for (const caller of SERVICES) {
    for (const file of filesNamed(join(repoRoot, 'services', caller, 'src'), 'downstreams.module.ts')) {
      graph[caller].push(...(downstreamsIn(readFileSync(file, 'utf8'), file, SERVICES) as Service[]));
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
