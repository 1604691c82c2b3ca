/**
 * The gateway chart's entrances, rendered with the real helm binary and validated offline: the Ingress defaults to
 * the AKS application routing add-on, and the optional Gateway API HTTPRoute carries the Ingress's path and timeouts.
 */
import { minimalSet, preparedCharts, setArgs, type Helm } from './helm';
import { type K8sObject, parseManifests, validateObject } from './k8s-validate';

const NAMESPACE = 'dronedelivery';
const MINIMAL = minimalSet('gateway');
const ROUTE = [
  'gatewayApi.enabled=true',
  'gatewayApi.parentRefs[0].name=public',
  'gatewayApi.parentRefs[0].namespace=gateways',
  'gatewayApi.parentRefs[0].sectionName=https',
];

let helm: Helm;
let charts: string;
let cleanup: () => void;

beforeAll(async () => {
  ({ helm, dir: charts, cleanup } = await preparedCharts());
}, 180_000);

afterAll(() => cleanup?.());

const template = (sets: string[]) =>
  helm.run(['template', 'gateway', 'gateway', '--namespace', NAMESPACE, ...setArgs([...MINIMAL, ...sets])], charts);

async function render(sets: string[] = []): Promise<K8sObject[]> {
  const result = await template(sets);
  if (result.code !== 0) throw new Error(result.stderr);
  const objects = parseManifests(result.stdout);
  expect(objects.flatMap(validateObject)).toEqual([]);
  return objects;
}

const find = (objects: K8sObject[], kind: string) => objects.find((o) => o.kind === kind) as (K8sObject & Record<string, any>) | undefined;

it('by default: an Ingress of the application routing add-on class, admitted from app-routing-system, and no HTTPRoute', async () => {
  const objects = await render();
  expect(find(objects, 'Ingress')!.spec.ingressClassName).toBe('webapprouting.kubernetes.azure.com');
  expect(find(objects, 'HTTPRoute')).toBeUndefined();
  const from = find(objects, 'NetworkPolicy')!.spec.ingress[0].from as Record<string, unknown>[];
  expect(from).toContainEqual({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'app-routing-system' } },
    podSelector: {},
  });
});

it('gatewayApi.enabled: an HTTPRoute to the gateway Service with the Ingress path, host and timeouts', async () => {
  const objects = await render([...ROUTE, 'ingress.enabled=false', 'ingress.timeouts.connectSeconds=3', 'ingress.timeouts.readSeconds=12']);
  expect(find(objects, 'Ingress')).toBeUndefined();
  const route = find(objects, 'HTTPRoute')!;
  expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
  expect(route.spec).toEqual({
    parentRefs: [{ name: 'public', namespace: 'gateways', sectionName: 'https' }],
    hostnames: ['dronedelivery.example.com'],
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
        backendRefs: [{ name: 'gateway', port: 8080 }],
        timeouts: { request: '15s', backendRequest: '12s' },
      },
    ],
  });
  expect(route.metadata.labels?.['app.kubernetes.io/part-of']).toBe('dronedelivery');
});

it('gatewayApi.hostnames replaces the Ingress host', async () => {
  const route = find(await render([...ROUTE, 'gatewayApi.hostnames[0]=drones.example.org']), 'HTTPRoute')!;
  expect(route.spec.hostnames).toEqual(['drones.example.org']);
});

it('refuses a route without a Gateway to attach to, or a parentRef the schema does not know', async () => {
  const missing = await template(['gatewayApi.enabled=true']);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain('gatewayApi.parentRefs is required with gatewayApi.enabled');
  const unknown = await template([...ROUTE, 'gatewayApi.parentRefs[0].gateway=oops']);
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toMatch(/additional properties 'gateway' not allowed|gateway/);
});

it('the offline validator knows the HTTPRoute: a misspelled field is reported', async () => {
  const route = find(await render(ROUTE), 'HTTPRoute')!;
  const broken = structuredClone(route);
  broken.spec.rules[0].timeout = broken.spec.rules[0].timeouts;
  delete broken.spec.rules[0].timeouts;
  expect(validateObject(broken).join('\n')).toMatch(/timeout/);
});
