import type { Tree } from '@nx/devkit';

export const STORES = ['redis', 'cosmos', 'sql', 'none'] as const;
export type Store = (typeof STORES)[number];

/** A Kubernetes DNS label (RFC 1123) that also starts with a letter, so it is a valid identifier once camel-cased. */
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Room for the longest derived name: `id-<name>-<base>-<token>` (Azure identity), `<name>-keyvault` and Helm's 53. */
export const MAX_NAME_LENGTH = 30;

/**
 * Names a service may not take: the workspace's own projects and charts, the stores and one-shot containers of
 * docker-compose.yml, the workloads of infra/bicep, and words the platform's routes and Kubernetes reserve.
 */
export const RESERVED_NAMES = [
  'platform',
  'testing',
  'generators',
  'loadgen',
  'loadgenerator',
  'architecture',
  'system',
  'deploy',
  'dronedelivery',
  'dronedelivery-lib',
  'dronescheduler-migrate',
  'dronescheduler-seed',
  'keda',
  'redis',
  'commands-redis',
  'cosmos',
  'mssql',
  'mssql-init',
  'postgres',
  'ingress',
  'nginx',
  'api',
  'health',
  'metrics',
  'docs',
  'openapi',
  'default',
  'kube-system',
  'kubernetes',
  'node',
  'service',
  'services',
  'lib',
  'libs',
  'tools',
] as const;

export interface ServiceNames {
  /** The service name as given: folder, Nx project, chart, image, ServiceAccount, compose service. */
  name: string;
  /** ParcelLockers: class names. */
  className: string;
  /** parcelLockers: variables. */
  propertyName: string;
  /** PARCEL_LOCKERS: constants. */
  constantName: string;
  /** The sample resource's route segment and feature folder: `/api/<plural>/{id}`. */
  plural: string;
  /** Singular class name of the sample resource's record. */
  recordClass: string;
}

export function serviceNames(name: string): ServiceNames {
  const words = name.split('-').filter(Boolean);
  const className = words.map((word) => word[0].toUpperCase() + word.slice(1)).join('');
  return {
    name,
    className,
    propertyName: className[0].toLowerCase() + className.slice(1),
    constantName: words.map((word) => word.toUpperCase()).join('_'),
    plural: name.endsWith('s') ? name : `${name}s`,
    recordClass: `${className}Record`,
  };
}

/** Why `name` cannot be a new service in this tree; empty when it can. */
export function nameProblems(tree: Tree, name: unknown): string[] {
  if (typeof name !== 'string' || name.length === 0) return ['a service name is required (e.g. parcel-lockers)'];
  const problems: string[] = [];
  if (!DNS_LABEL.test(name)) {
    problems.push(`"${name}" is not a DNS label: use lowercase letters, digits and -, starting with a letter and not ending with -`);
  } else if (name.includes('--')) {
    problems.push(`"${name}" has "--": use single dashes between words`);
  }
  if (name.length > MAX_NAME_LENGTH) problems.push(`"${name}" is longer than ${MAX_NAME_LENGTH} characters`);
  if ((RESERVED_NAMES as readonly string[]).includes(name)) problems.push(`"${name}" is reserved (the workspace or the platform uses it)`);
  if (name.endsWith('-redis') || name.endsWith('-migrate') || name.endsWith('-seed')) {
    problems.push(`"${name}" ends like a store or job container of another service (-redis, -migrate, -seed)`);
  }
  for (const taken of [`services/${name}`, `charts/${name}`, `docs/openapi/${name}.json`, `docs/services/${name}.md`]) {
    if (tree.exists(taken)) problems.push(`"${name}" is taken: ${taken} exists`);
  }
  return problems;
}

export function isStore(store: unknown): store is Store {
  return typeof store === 'string' && (STORES as readonly string[]).includes(store);
}
