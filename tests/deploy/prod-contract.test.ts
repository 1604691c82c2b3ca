/**
 * The production values and Bicep describe one system. The umbrella chart is rendered with values-prod.yaml by the
 * real helm binary and every store connection, auth mode, secret, port, CIDR, service account and add-on it relies
 * on is checked against what infra/bicep creates, so the two cannot drift apart again.
 */
import { secretSettingName } from '@dronedelivery/platform/config';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DELIVERY_SECRETS } from '../../services/delivery/src/config';
import { DRONESCHEDULER_SECRETS } from '../../services/dronescheduler/src/config';
import { GATEWAY_SECRETS } from '../../services/gateway/src/config';
import { PACKAGE_SECRETS } from '../../services/package/src/config';
import { WORKFLOW_SECRETS } from '../../services/workflow/src/config';
import { BICEP_DIR, type BicepFile, BicepParser, getPath, literal, passedParams } from './bicep-lint';
import { preparedCharts } from './helm';
import { type K8sObject, parseManifests } from './k8s-validate';

const NAMESPACE = 'dronedelivery';
const SECRETS = {
  gateway: GATEWAY_SECRETS,
  workflow: WORKFLOW_SECRETS,
  package: PACKAGE_SECRETS,
  dronescheduler: DRONESCHEDULER_SECRETS,
  delivery: DELIVERY_SECRETS,
};
type Service = keyof typeof SECRETS;
const SERVICES = Object.keys(SECRETS) as Service[];

let objects: K8sObject[];
let main: BicepFile;
let modules: Record<string, BicepFile>;
let cleanupCharts: () => void;

beforeAll(async () => {
  const { helm, dir: charts, cleanup } = await preparedCharts();
  cleanupCharts = cleanup;
  const values = join(charts, 'dronedelivery', 'values-prod.yaml');
  objects = parseManifests(await helm.ok(['template', 'dronedelivery', 'dronedelivery', '--namespace', NAMESPACE, '-f', values], charts));
  const parser = await BicepParser.create();
  main = parser.parse(join(BICEP_DIR, 'main.bicep'));
  modules = Object.fromEntries(
    ['network', 'redis', 'aks', 'keyvault-secrets'].map((name) => [name, parser.parse(join(BICEP_DIR, 'modules', `${name}.bicep`))]),
  );
}, 180_000);

afterAll(() => cleanupCharts?.());

type Egress = { to?: { ipBlock?: { cidr: string } }[]; ports?: { port: number }[] }[];
// Rendered objects are read field by field; the offline validator (helm.test.ts) has checked their shape.
const find = (kind: string, name: string): Record<string, any> => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} rendered`);
  return found;
};
const config = (service: Service): Record<string, string> => find('ConfigMap', service).data;
const paramDefault = (file: BicepFile, name: string) => literal(file.params.find((p) => p.name === name)!.defaultValue!);
const resourceBody = (file: BicepFile, type: string) => file.resources.find((r) => r.type.startsWith(`${type}@`))!.body;
const moduleParam = (name: string, param: string) =>
  passedParams(main.modules.find((m) => m.name === name)!)!.find((p) => p.key === param)!.value.text;

/** Egress rules of a service's NetworkPolicy that go to the private endpoint subnet, as port lists. */
function privateEgressPorts(service: Service, cidr: string): number[] {
  const egress: Egress = find('NetworkPolicy', service).spec.egress;
  return egress
    .filter((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === cidr))
    .flatMap((rule) => (rule.ports ?? []).map((p) => p.port));
}

it('store traffic goes to the private endpoint subnet Bicep creates, and no store port is open to public addresses', () => {
  const cidr = paramDefault(modules.network, 'privateEndpointSubnetPrefix') as string;
  expect(cidr).toBe('10.240.4.0/24');
  const redisPort = literal(
    getPath(resourceBody(modules.redis, 'Microsoft.Cache/redisEnterprise/databases'), 'properties.port')!,
  ) as number;
  expect(redisPort).toBe(10000);
  const expected: Record<Service, number[]> = {
    gateway: [443, redisPort],
    workflow: [443, redisPort],
    delivery: [443, redisPort],
    package: [443],
    dronescheduler: [443, 1433, 11000],
  };
  for (const service of SERVICES) {
    expect(privateEgressPorts(service, cidr).sort(), service).toEqual(expected[service].sort());
    const egress: Egress = find('NetworkPolicy', service).spec.egress;
    const publicPorts = egress
      .filter((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === '0.0.0.0/0'))
      .flatMap((r) => (r.ports ?? []).map((p) => p.port));
    expect(publicPorts, `${service} public egress`).toEqual([443]);
  }
});

it('every Redis client uses Entra auth on an Azure Managed Redis endpoint; gateway and workflow share the commands cache, delivery has its own', () => {
  const url = (service: Service) => new URL(config(service).REDIS_URL);
  for (const service of ['gateway', 'workflow', 'delivery'] as const) {
    expect(config(service).REDIS_AUTH, service).toBe('entra');
    expect(url(service).protocol, service).toBe('rediss:');
    expect(url(service).hostname, service).toMatch(/\.redis\.azure\.net$/);
    expect(url(service).port, service).toBe('10000');
  }
  expect(url('gateway').host).toBe(url('workflow').host);
  expect(url('delivery').host).not.toBe(url('gateway').host);
  // Bicep: two redis.bicep instances, named …-commands and …-delivery.
  const names = main.modules.filter((m) => m.source === './modules/redis.bicep').map((m) => moduleParam(m.name, 'name'));
  expect(names).toEqual(["'redis-${baseName}-${shortToken}-commands'", "'redis-${baseName}-${shortToken}-delivery'"]);
  expect(url('gateway').hostname).toMatch(/-commands\./);
  expect(url('delivery').hostname).toMatch(/-delivery\./);
});

it('each service reads from Key Vault only secrets its rendered auth mode needs, and Bicep grants exactly those', () => {
  const granted = new Set([literal(main.variables.get('appInsightsSecretName')!)]);
  for (const service of SERVICES) {
    const env = config(service) as NodeJS.ProcessEnv;
    const needed = SECRETS[service].filter((secret) => typeof secret === 'string' || secret.neededWhen(env)).map(secretSettingName);
    // Passwordless everywhere: no store secret is read by any service in production.
    expect(needed, service).toEqual([]);
  }
  // The SecretProviderClasses mount only secrets that Bicep writes.
  for (const spc of objects.filter((o) => o.kind === 'SecretProviderClass') as Record<string, any>[]) {
    const mounted = (parseManifests(spc.spec.parameters.objects)[0] as unknown as { array: string[] }).array.map(
      (entry) => /objectName: (\S+)/.exec(entry)![1],
    );
    for (const name of mounted) expect(granted.has(name), `${spc.metadata.name} mounts ${name}`).toBe(true);
  }
});

it('KEDA: the add-on is on, its operator identity is federated and reads only the secret the trigger names', () => {
  const aks = resourceBody(modules.aks, 'Microsoft.ContainerService/managedClusters');
  expect(literal(getPath(aks, 'properties.workloadAutoScalerProfile.keda.enabled')!)).toBe(true);
  const auth = find('TriggerAuthentication', 'workflow-redis');
  expect(auth.spec.azureKeyVault.podIdentity.provider).toBe('azure-workload');
  expect(auth.spec.azureKeyVault.podIdentity.identityId).not.toBe(config('workflow').AZURE_CLIENT_ID ?? '');
  expect(auth.spec.azureKeyVault.secrets.map((secret: { name: string }) => secret.name)).toEqual([
    literal(main.variables.get('redisPasswordSecretName')!),
  ]);
  expect(moduleParam('secrets', 'redisPasswordReaderPrincipalIds')).toMatch(/^\[\s*principalIds\.keda\s*\]$/);
  expect(main.variables.get('workloads')!.text).toContain("serviceAccount: workload == 'keda' ? 'keda-operator' : workload");
  expect(find('ScaledObject', 'workflow').spec.triggers[0].metadata.address).toMatch(/-commands\..*:10000$/);
});

it('the migration Job runs as the migration identity and grants the database user Bicep names for the scheduler', () => {
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.name.includes('migrate')) as Record<string, any> | undefined;
  expect(job, 'a migration Job').toBeDefined();
  const pod = job!.spec.template.spec;
  expect(pod.serviceAccountName).toBe('dronescheduler-migrate');
  const env = Object.fromEntries((pod.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
  // Bicep: identity names are id-<workload>-<app>-<env>-<token>, and the migration identity is the SQL administrator.
  expect(main.variables.get('identityNames')!.text).toContain("'id-${workload}-${baseName}-${shortToken}'");
  expect(env.DB_RUNTIME_USER).toMatch(/^id-dronescheduler-[a-z0-9]+-prod-[a-z0-9]+$/);
  expect(env.DB_RUNTIME_USER_OBJECT_ID).toMatch(/^[0-9a-f-]{36}$/);
  expect(main.variables.get('sqlAdminId')!.text).toBe('empty(sqlAdminObjectId) ? migrationIdentity.clientId : sqlAdminObjectId');
  expect(config('dronescheduler').DB_MIGRATIONS_RUN).toBe('false');
});

it('every service account the release creates is federated by Bicep, in the namespace Bicep names', () => {
  const accounts = objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name);
  const workloads = [...(literal(main.variables.get('services')!) as string[]), 'dronescheduler-migrate'];
  expect(accounts.length).toBeGreaterThanOrEqual(SERVICES.length);
  expect(accounts.filter((name) => !workloads.includes(name))).toEqual([]);
  expect(literal(main.params.find((p) => p.name === 'kubernetesNamespace')!.defaultValue!)).toBe(NAMESPACE);
  expect(readFileSync(join(BICEP_DIR, 'main.bicep'), 'utf8')).toMatch(/concat\(services, \[\s*'dronescheduler-migrate'\s*'keda'\s*\]\)/);
});
