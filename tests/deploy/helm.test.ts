/**
 * The Helm charts under charts/, verified with the real helm binary and offline validators (no cluster here;
 * charts/README.md says what a cluster would add). For every chart: dependency build from the committed
 * Chart.lock, `helm lint --strict`, `helm template` with the defaults plus the documented minimal `--set`
 * (environment-specific values are `required`) and with each example values file, every rendered object
 * validated (k8s-validate.ts), chart-level assertions (hardening, probes, resources, shutdown timing, the
 * NetworkPolicies against the call graph in the code, the Ingress against the local NGINX), generated files
 * fresh (values.schema.json, README parameter tables), and `helm package`.
 *
 * UPDATE_CHARTS=1 npx vitest run --project deploy   regenerates values.schema.json and the README tables.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { droneSchedulerConfigSchema } from '../../services/dronescheduler/src/config';
import { migrateConfigSchema } from '../../services/dronescheduler/src/migrate-config';
import { gatewayConfigSchema } from '../../services/gateway/src/config';
import { callGraph, callersOf } from './call-graph';
import { CHARTS, type Chart, SERVICES, type Service, TOOL_CHARTS, chartSchemaText, configSettings } from './chart-schemas';
import { Helm, copyCharts, helmBinary, minimalSet, quantity, repoRoot, setArgs } from './helm';
import { SERVICE_CONFIG, urlSetting } from './services';
import { type K8sObject, kindKey, parseManifests, validateObject } from './k8s-validate';
import { ingressSettings, renderNginxConfig } from '../../tools/local/nginx-config.mjs';

const UPDATE = process.env.UPDATE_CHARTS === '1';
const NAMESPACE = 'dronedelivery';
const EXAMPLES = ['values-dev.yaml', 'values-prod.yaml'];
/** The services the umbrella installs by default; a generated one starts off (`<name>.enabled=true` turns it on). */
const INSTALLED = SERVICES.filter(
  (service) =>
    (parse(readFileSync(join(repoRoot, 'charts/dronedelivery/values.yaml'), 'utf8')) as Record<string, { enabled?: boolean }>)[service]
      ?.enabled,
);
const SERVICE_SCHEMAS: Record<Service, z.ZodType> = Object.fromEntries(
  SERVICES.map((service) => [service, SERVICE_CONFIG[service].schema]),
) as never;
const LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
];

let helm: Helm;
let charts: string;
let scratch: string;
let cleanupCharts: () => void;

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'dronedelivery-helm-'));
  helm = new Helm(helmBinary(), join(scratch, 'home'));
  ({ dir: charts, cleanup: cleanupCharts } = copyCharts());
  // The service charts vendor the library; the umbrella vendors the service charts (with their library).
  await Promise.all([...SERVICES, ...TOOL_CHARTS].map((chart) => helm.ok(['dependency', 'build', chart], charts)));
  await helm.ok(['dependency', 'build', 'dronedelivery'], charts);
}, 120_000);

afterAll(() => {
  cleanupCharts?.();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// ---- helpers ----

/** --set flags of a SecretProviderClass mounting the telemetry connection string from Key Vault. */
const TELEMETRY_SECRET_MOUNT = setArgs([
  'secretProviderClass.enabled=true',
  'secretProviderClass.objects[0].objectName=appinsights-connection-string',
  'secretProviderClass.objects[0].env=APPLICATIONINSIGHTS_CONNECTION_STRING',
  'global.azure.keyVaultUri=https://kv-dronedelivery.vault.azure.net/',
  'global.azure.tenantId=11111111-1111-1111-1111-111111111111',
]);

function valueSets(chart: Exclude<Chart, 'dronedelivery-lib'>): { name: string; args: string[] }[] {
  return [
    { name: 'defaults + the README minimal --set', args: setArgs(minimalSet(chart)) },
    ...EXAMPLES.map((file) => ({ name: file, args: ['-f', join(chart, file)] })),
  ];
}

async function render(chart: Exclude<Chart, 'dronedelivery-lib'>, args: string[], namespace = NAMESPACE): Promise<K8sObject[]> {
  const objects = parseManifests(await helm.ok(['template', chart, chart, '--namespace', namespace, ...args], charts));
  const problems = objects.flatMap(validateObject);
  expect(problems, `${chart} ${args.join(' ')}`).toEqual([]);
  return objects;
}

async function renderFails(chart: Exclude<Chart, 'dronedelivery-lib'>, args: string[], namespace = NAMESPACE): Promise<string> {
  const result = await helm.run(['template', chart, chart, '--namespace', namespace, ...args], charts);
  expect(result.code, `helm template ${chart} ${args.join(' ')} should fail`).not.toBe(0);
  return result.stderr;
}

function find<T = K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found as T;
}

function findAll(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((object) => object.kind === kind);
}

interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources: { requests: Record<string, string | number>; limits: Record<string, string | number> };
  startupProbe: Probe;
  readinessProbe: Probe;
  livenessProbe: Probe;
  lifecycle: { preStop: { sleep: { seconds: number } } };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
}
interface Probe {
  httpGet: { path: string; port: string | number };
  timeoutSeconds: number;
}
interface PodSpec {
  serviceAccountName: string;
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
  topologySpreadConstraints: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[];
  containers: Container[];
  volumes: { name: string; emptyDir?: object }[];
}
interface DeploymentObject extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    strategy: { rollingUpdate: { maxSurge: number } };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface NetworkPolicyPeer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string };
}
interface NetworkPolicyObject extends K8sObject {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: { port: number }[] }[];
    egress?: { to?: NetworkPolicyPeer[]; ports?: { port: number; endPort?: number; protocol: string }[] }[];
  };
}

interface JobContainer {
  name: string;
  image: string;
  command: string[];
  env?: { name: string; value?: string; valueFrom?: object }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources: { requests: Record<string, string | number>; limits: Record<string, string | number> };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
}
interface JobObject extends K8sObject {
  spec: {
    backoffLimit: number;
    activeDeadlineSeconds: number;
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: Omit<PodSpec, 'containers' | 'topologySpreadConstraints' | 'terminationGracePeriodSeconds'> & {
        restartPolicy: string;
        automountServiceAccountToken: boolean;
        containers: JobContainer[];
        volumes: { name: string; emptyDir?: object; csi?: object }[];
      };
    };
  };
}

/** The chart-level contract of one service's rendered objects. */
function checkService(objects: K8sObject[], service: Service): void {
  for (const object of objects) {
    expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(NAMESPACE);
    for (const label of LABELS) expect(object.metadata.labels?.[label], `${object.kind} ${object.metadata.name} ${label}`).toBeTruthy();
    expect(object.metadata.labels?.['app.kubernetes.io/part-of']).toBe('dronedelivery');
  }
  const deployment = find<DeploymentObject>(objects, 'Deployment', service);
  const pod = deployment.spec.template.spec;
  const podLabels = deployment.spec.template.metadata.labels;
  const selector = deployment.spec.selector.matchLabels;
  expect(selector).toEqual({ 'app.kubernetes.io/name': service, 'app.kubernetes.io/instance': expect.any(String) });
  for (const [key, value] of Object.entries(selector)) expect(podLabels[key]).toBe(value);
  for (const label of LABELS) expect(podLabels[label]).toBeTruthy();

  // Identity: ServiceAccount named like the service (the federated credential's subject).
  expect(pod.serviceAccountName).toBe(service);
  const account = find(objects, 'ServiceAccount', service);
  if (podLabels['azure.workload.identity/use'] === 'true') {
    expect(account.metadata.annotations?.['azure.workload.identity/client-id']).toMatch(/^[0-9a-f-]{36}$/);
  } else {
    expect(podLabels.aadpodidbinding).toBeTruthy();
    expect(account.metadata.annotations?.['azure.workload.identity/client-id']).toBeUndefined();
  }

  // Hardening.
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } });
  expect(pod.containers).toHaveLength(1);
  const [container] = pod.containers;
  expect(container.securityContext).toMatchObject({
    runAsNonRoot: true,
    runAsUser: 1000,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  expect(container.securityContext.capabilities).toEqual({ drop: ['ALL'] });
  const tmp = container.volumeMounts.find((mount) => mount.mountPath === '/tmp');
  expect(tmp, '/tmp mounted').toBeDefined();
  expect(pod.volumes.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
  expect(container.image).toMatch(new RegExp(`^[a-z0-9.-]+(:[0-9]+)?/dronedelivery/${service}(:[\\w.-]+)?(@sha256:[0-9a-f]{64})?$`));

  // Resources: requests and limits for CPU and memory, limits not below requests.
  for (const resource of ['cpu', 'memory']) {
    expect(container.resources.requests[resource], `requests.${resource}`).toBeDefined();
    expect(container.resources.limits[resource], `limits.${resource}`).toBeDefined();
    expect(quantity(container.resources.limits[resource])).toBeGreaterThanOrEqual(quantity(container.resources.requests[resource]));
  }

  // The environment: one ConfigMap the service's own config schema accepts, PORT = the probed port.
  const configMap = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', service);
  expect(container.envFrom[0]).toEqual({ configMapRef: { name: service } });
  const env = configMap.data;
  const settings = new Set(Object.keys((SERVICE_SCHEMAS[service] as z.ZodObject).shape));
  const unknown = Object.keys(env).filter((key) => !settings.has(key) && key !== 'AZURE_CLIENT_ID');
  expect(unknown, `settings ${service} does not read`).toEqual([]);
  const parsed = SERVICE_SCHEMAS[service].safeParse(env);
  expect(
    parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    `${service} would refuse this config`,
  ).toEqual([]);
  const port = container.ports.find((p) => p.name === 'http')?.containerPort;
  expect(port).toBe(8080);
  expect(env.PORT).toBe(String(port));

  // Probes on the platform's endpoints, on the management port (MANAGEMENT_PORT: health and metrics answer there
  // only); the readiness timeout leaves room for the store check.
  const management = container.ports.find((p) => p.name === 'management')?.containerPort;
  expect(management).toBeDefined();
  expect(management).not.toBe(port);
  expect(env.MANAGEMENT_PORT).toBe(String(management));
  expect(container.startupProbe.httpGet).toEqual({ path: '/health/startup', port: 'management' });
  expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 'management' });
  expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'management' });
  expect(container.readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(Number(env.HEALTH_CHECK_TIMEOUT_MS ?? 1000));

  // Shutdown: preStop sleep, then SHUTDOWN_GRACE_MS (which contains the drain delay), then a margin.
  const sleep = container.lifecycle.preStop.sleep.seconds;
  const graceMs = Number(env.SHUTDOWN_GRACE_MS);
  const drainMs = Number(env.SHUTDOWN_DRAIN_DELAY_MS);
  expect(sleep).toBeGreaterThanOrEqual(1);
  expect(drainMs).toBeLessThan(graceMs);
  expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(sleep + graceMs / 1000);
  expect(pod.terminationGracePeriodSeconds).toBeLessThanOrEqual(sleep + Math.ceil(graceMs / 1000) + 30);

  // Spread over zones and nodes.
  expect(pod.topologySpreadConstraints.map((c) => c.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  for (const constraint of pod.topologySpreadConstraints) expect(constraint.labelSelector.matchLabels).toEqual(selector);

  // Service, PDB, NetworkPolicy select exactly these pods; an autoscaler owns the replica count.
  const serviceObject = find<K8sObject & { spec: { type: string; selector: object; ports: { port: number; targetPort: string }[] } }>(
    objects,
    'Service',
    service,
  );
  expect(serviceObject.spec).toMatchObject({ type: 'ClusterIP', selector, ports: [{ port: 8080, targetPort: 'http' }] });
  const pdb = objects.find((object) => object.kind === 'PodDisruptionBudget') as
    (K8sObject & { spec: { selector: { matchLabels: object } } }) | undefined;
  if (pdb) expect(pdb.spec.selector.matchLabels).toEqual(selector);
  const policy = find<NetworkPolicyObject>(objects, 'NetworkPolicy', service);
  expect(policy.spec.podSelector.matchLabels).toEqual(selector);
  expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
  const autoscalers = objects.filter((object) => object.kind === 'HorizontalPodAutoscaler' || object.kind === 'ScaledObject');
  expect(autoscalers.length).toBeLessThanOrEqual(1);
  for (const autoscaler of autoscalers) {
    expect((autoscaler.spec as { scaleTargetRef: object }).scaleTargetRef).toMatchObject({ kind: 'Deployment', name: service });
  }
  expect(deployment.spec.replicas === undefined).toBe(autoscalers.length === 1);
}

function podNames(peers: NetworkPolicyPeer[] = []): string[] {
  return peers
    .flatMap((peer) =>
      peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] && !peer.namespaceSelector
        ? [peer.podSelector.matchLabels['app.kubernetes.io/name']]
        : [],
    )
    .sort();
}

// ---- generated files ----

describe('generated chart files', () => {
  it('values.schema.json of every chart is generated from the services’ config schemas', () => {
    const stale: string[] = [];
    for (const chart of CHARTS) {
      const path = join(repoRoot, 'charts', chart, 'values.schema.json');
      const expected = chartSchemaText(chart);
      if (UPDATE) writeFileSync(path, expected);
      else if (!existsSync(path) || readFileSync(path, 'utf8') !== expected) stale.push(path);
    }
    expect(stale, 'stale values.schema.json (UPDATE_CHARTS=1 regenerates)').toEqual([]);
  });

  it('each service chart requires exactly the settings its service cannot start without', () => {
    for (const service of SERVICES) {
      const chart = parse(readFileSync(join(repoRoot, 'charts', service, 'Chart.yaml'), 'utf8')) as { annotations: Record<string, string> };
      expect(chart.annotations['dronedelivery.dev/required-config'].split(',').filter(Boolean).sort(), service).toEqual(
        configSettings(service).required,
      );
    }
  });

  it.each(CHARTS)('%s: the README Parameters table is current (readme-generator)', async (chart) => {
    const dir = mkdtempSync(join(scratch, `readme-${chart}-`));
    const source = join(repoRoot, 'charts', chart);
    cpSync(join(source, 'values.yaml'), join(dir, 'values.yaml'));
    cpSync(join(source, 'README.md'), join(dir, 'README.md'));
    const generator = join(repoRoot, 'node_modules/@bitnami/readme-generator-for-helm/bin/index.js');
    await new Promise<void>((done, fail) =>
      execFile(
        process.execPath,
        [generator, '--values', join(dir, 'values.yaml'), '--readme', join(dir, 'README.md')],
        (error, stdout, stderr) => (error ? fail(new Error(`readme-generator failed for ${chart}:\n${stdout}${stderr}`)) : done()),
      ),
    );
    // The generator writes CRLF after its section headings; the committed READMEs use LF throughout.
    const generated = readFileSync(join(dir, 'README.md'), 'utf8').replace(/\r\n/g, '\n');
    if (UPDATE) writeFileSync(join(source, 'README.md'), generated);
    else
      expect(
        readFileSync(join(source, 'README.md'), 'utf8').replace(/\r\n/g, '\n'),
        `charts/${chart}/README.md is stale (UPDATE_CHARTS=1 regenerates)`,
      ).toBe(generated);
  });
});

// ---- lint, render, validate ----

describe('helm lint --strict', () => {
  it.each(CHARTS)('%s', async (chart) => {
    const runs = chart === 'dronedelivery-lib' ? [[]] : [[], ...EXAMPLES.map((file) => ['-f', join(chart, file)])];
    for (const args of runs) {
      const result = await helm.run(['lint', '--strict', chart, '--namespace', NAMESPACE, ...args], charts);
      expect(result.code, `helm lint --strict ${chart} ${args.join(' ')}\n${result.stdout}${result.stderr}`).toBe(0);
    }
  });
});

describe('service charts render valid, hardened objects', () => {
  it.each(SERVICES)('%s: defaults + minimal --set, values-dev.yaml, values-prod.yaml', async (service) => {
    for (const { name, args } of valueSets(service)) {
      const objects = await render(service, args);
      try {
        checkService(objects, service);
      } catch (error) {
        throw new Error(`${service} with ${name}: ${(error as Error).message}`, { cause: error });
      }
      const kinds = new Set(objects.map(kindKey));
      const expected = ['apps/v1/Deployment', 'v1/Service', 'v1/ServiceAccount', 'v1/ConfigMap', 'networking.k8s.io/v1/NetworkPolicy'];
      // values-dev.yaml turns the PodDisruptionBudget off (one replica); everywhere else it is on.
      if (name !== 'values-dev.yaml') expected.push('policy/v1/PodDisruptionBudget');
      for (const kind of expected) expect(kinds.has(kind), `${service} (${name}) renders ${kind}`).toBe(true);
    }
  });

  it.each(SERVICES)('%s: the defaults alone do not render, and each documented minimal --set is required', async (service) => {
    await renderFails(service, []);
    const sets = minimalSet(service);
    for (const set of sets) {
      const key = set.slice(0, set.indexOf('='));
      const stderr = await renderFails(service, setArgs(sets.filter((other) => other !== set)));
      expect(stderr, `without --set ${key}`).toContain(key.replace(/^global\./, ''));
    }
  });

  it('a required value emptied with --set fails with the required message', async () => {
    const stderr = await renderFails('gateway', [...setArgs(minimalSet('gateway')), '--set', 'image.repository=']);
    expect(stderr).toContain('gateway: image.repository is required');
  });

  it('resources are required (schema and template)', async () => {
    const stderr = await renderFails('delivery', [...setArgs(minimalSet('delivery')), '--set', 'resources.limits=null']);
    expect(stderr).toMatch(/limits/);
  });

  it('the workload identity namespace of the federated credentials is enforced', async () => {
    const stderr = await renderFails('package', setArgs(minimalSet('package')), 'default');
    expect(stderr).toContain('system:serviceaccount:dronedelivery:package');
  });

  it('identity.mode=pod: aadpodidbinding label, no workload identity annotation, IMDS egress', async () => {
    const objects = await render('delivery', [
      ...setArgs(minimalSet('delivery')),
      '--set',
      'identity.mode=pod',
      '--set',
      'identity.podIdentityBinding=delivery-identity',
    ]);
    checkService(objects, 'delivery');
    const pod = find<DeploymentObject>(objects, 'Deployment', 'delivery').spec.template;
    expect(pod.metadata.labels.aadpodidbinding).toBe('delivery-identity');
    expect(pod.metadata.labels['azure.workload.identity/use']).toBeUndefined();
    const policy = find<NetworkPolicyObject>(objects, 'NetworkPolicy', 'delivery');
    expect(policy.spec.egress?.some((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === '169.254.169.254/32'))).toBe(true);
  });

  it('the optional SecretProviderClass mounts Key Vault secrets and syncs the ones named as env', async () => {
    const objects = await render('package', [...setArgs(minimalSet('package')), ...TELEMETRY_SECRET_MOUNT]);
    checkService(objects, 'package');
    const spc = find<K8sObject & { spec: { parameters: Record<string, string>; secretObjects: { secretName: string }[] } }>(
      objects,
      'SecretProviderClass',
      'package',
    );
    expect(spc.spec.parameters).toMatchObject({
      keyvaultName: 'kv-dronedelivery',
      usePodIdentity: 'false',
      clientID: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const pod = find<DeploymentObject>(objects, 'Deployment', 'package').spec.template.spec;
    expect(pod.containers[0].envFrom).toContainEqual({ secretRef: { name: spc.spec.secretObjects[0].secretName } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'secrets-store', mountPath: '/mnt/secrets-store', readOnly: true });
    // The service tokens' tenant given on its own, so only the SecretProviderClass lacks one.
    const withoutTenant = await renderFails('package', [
      ...setArgs(minimalSet('package').filter((set) => !set.startsWith('global.azure.tenantId='))),
      '--set',
      'config.SERVICE_AUTH_TENANT_ID=11111111-1111-1111-1111-111111111111',
      '--set',
      'secretProviderClass.enabled=true',
      '--set',
      'secretProviderClass.objects[0].objectName=x',
      '--set',
      'global.azure.keyVaultUri=https://kv-x.vault.azure.net/',
    ]);
    expect(withoutTenant).toContain('global.azure.tenantId is required');
  });

  it('workflow: the KEDA ScaledObject replaces the HPA; TriggerAuthentication per authentication mode', async () => {
    const base = [
      ...setArgs(minimalSet('workflow')),
      '--set',
      'keda.enabled=true',
      '--set',
      'global.azure.keyVaultUri=https://kv-dronedelivery.vault.azure.net/',
    ];
    const objects = await render('workflow', base);
    checkService(objects, 'workflow');
    expect(findAll(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    const scaled = find<
      K8sObject & { spec: { triggers: { type: string; metadata: Record<string, string>; authenticationRef: { name: string } }[] } }
    >(objects, 'ScaledObject', 'workflow');
    const [trigger] = scaled.spec.triggers;
    const config = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'workflow').data;
    const redis = new URL(config.REDIS_URL);
    expect(trigger).toMatchObject({
      type: 'redis-streams',
      metadata: {
        address: `${redis.hostname}:${redis.port || '10000'}`,
        enableTLS: String(redis.protocol === 'rediss:'),
        stream: config.COMMAND_STREAM_KEY ?? 'dronedelivery:commands',
        consumerGroup: config.CONSUMER_GROUP ?? 'workflow',
        pendingEntriesCount: expect.stringMatching(/^[1-9][0-9]*$/),
      },
    });
    const auth = find<
      K8sObject & { spec: { azureKeyVault: { podIdentity: { provider: string }; secrets: { parameter: string; name: string }[] } } }
    >(objects, 'TriggerAuthentication', trigger.authenticationRef.name);
    expect(auth.spec.azureKeyVault.podIdentity.provider).toBe('azure-workload');
    expect(auth.spec.azureKeyVault.secrets).toEqual([{ parameter: 'password', name: 'redis-password' }]);

    const secretMode = await render('workflow', [...base, '--set', 'keda.authentication.mode=secret']);
    expect(find<K8sObject & { spec: object }>(secretMode, 'TriggerAuthentication', 'workflow-redis').spec).toEqual({
      secretTargetRef: [{ parameter: 'password', name: 'workflow-keyvault', key: 'REDIS_PASSWORD' }],
    });
    const noAuth = await render('workflow', [...base, '--set', 'keda.authentication.mode=none']);
    expect(findAll(noAuth, 'TriggerAuthentication')).toEqual([]);
    expect(find<K8sObject & { spec: { triggers: object[] } }>(noAuth, 'ScaledObject', 'workflow').spec.triggers[0]).not.toHaveProperty(
      'authenticationRef',
    );
  });
});

// ---- the dronescheduler's schema migration and seed Jobs (Helm hooks) ----

describe('dronescheduler: migration and seed hook Jobs', () => {
  const MIGRATE = 'dronescheduler-migrate';
  const SEED = 'dronescheduler-seed';
  const minimal = () => setArgs(minimalSet('dronescheduler'));
  const hook = (object: K8sObject) => ({
    events: object.metadata.annotations?.['helm.sh/hook'],
    weight: Number(object.metadata.annotations?.['helm.sh/hook-weight']),
    deletePolicy: object.metadata.annotations?.['helm.sh/hook-delete-policy'],
  });
  /** A Kubernetes equality selector: every label it names has that value. */
  const selects = (selector: Record<string, string> | undefined, labels: Record<string, string>) =>
    Object.keys(selector ?? {}).length > 0 && Object.entries(selector ?? {}).every(([key, value]) => labels[key] === value);
  const configMap = (objects: K8sObject[]) =>
    find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'dronescheduler').data;
  const envOf = (container: JobContainer) => Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.value]));

  /** What every migration Job must be, whatever the values: checked for the minimal install, both example files, the umbrella. */
  function checkMigration(objects: K8sObject[], name: string): void {
    const job = find<JobObject>(objects, 'Job', MIGRATE);
    const account = find(objects, 'ServiceAccount', MIGRATE);
    const policy = find<NetworkPolicyObject>(objects, 'NetworkPolicy', MIGRATE);
    const deployment = find<DeploymentObject>(objects, 'Deployment', 'dronescheduler');
    const runtimeAccount = find(objects, 'ServiceAccount', 'dronescheduler');

    // Hooks: before install and upgrade; ServiceAccount and NetworkPolicy exist before the Job; cleaned up after success.
    for (const object of [job, account, policy]) {
      expect(hook(object), `${object.kind} ${name}`).toMatchObject({
        events: 'pre-install,pre-upgrade',
        deletePolicy: 'before-hook-creation,hook-succeeded',
      });
    }
    expect(hook(account).weight).toBeLessThan(hook(job).weight);
    expect(hook(policy).weight).toBeLessThan(hook(job).weight);
    expect(job.spec.backoffLimit).toBeGreaterThanOrEqual(0);
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.spec.activeDeadlineSeconds, "within helm's default --timeout").toBeLessThanOrEqual(300);

    // Its own identity: the ServiceAccount the migration identity's federated credential names, not the runtime one.
    const pod = job.spec.template.spec;
    const podLabels = job.spec.template.metadata.labels;
    expect(pod.serviceAccountName).toBe(MIGRATE);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(podLabels['azure.workload.identity/use']).toBe('true');
    const clientId = account.metadata.annotations?.['azure.workload.identity/client-id'];
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(clientId).not.toBe(runtimeAccount.metadata.annotations?.['azure.workload.identity/client-id']);
    expect(account.metadata.annotations?.['azure.workload.identity/tenant-id']).toBe(
      runtimeAccount.metadata.annotations?.['azure.workload.identity/tenant-id'],
    );

    // Hardened like the Deployment, same image.
    const service = deployment.spec.template.spec;
    expect(pod.securityContext).toEqual(service.securityContext);
    expect(pod.containers).toHaveLength(1);
    const [container] = pod.containers;
    expect(container.securityContext).toEqual(service.containers[0].securityContext);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.image).toBe(service.containers[0].image);
    expect(container.command).toEqual(['node', 'dist/migrate.js']);
    expect(
      pod.volumes.find((volume) => volume.name === container.volumeMounts.find((mount) => mount.mountPath === '/tmp')?.name)?.emptyDir,
    ).toBeDefined();
    for (const kind of ['requests', 'limits'] as const)
      for (const resource of ['cpu', 'memory']) expect(container.resources[kind][resource], `${kind}.${resource}`).toBeDefined();

    // The environment is inline (on install the ConfigMap does not exist before the hook): the ConfigMap's settings
    // without DB_MIGRATIONS_RUN and the runtime identity's client id, and the command accepts it.
    expect(container.envFrom, 'no ConfigMap or Secret reference').toBeUndefined();
    expect((container.env ?? []).filter((variable) => variable.valueFrom)).toEqual([]);
    const env = envOf(container);
    const expected = { ...configMap(objects) };
    for (const key of ['DB_MIGRATIONS_RUN', 'DB_ENTRA_CLIENT_ID', 'AZURE_CLIENT_ID']) delete expected[key];
    const { DB_RUNTIME_USER, DB_RUNTIME_USER_OBJECT_ID, ...rest } = env;
    expect(rest).toEqual(expected);
    const config = droneSchedulerConfigSchema.safeParse(env);
    expect(config.success ? [] : config.error.issues, 'the migrate command would refuse this config').toEqual([]);
    const migrate = migrateConfigSchema.safeParse(env);
    expect(migrate.success ? [] : migrate.error.issues, 'the migrate settings would be refused').toEqual([]);
    if (DB_RUNTIME_USER_OBJECT_ID) expect(DB_RUNTIME_USER).toBeDefined();

    // The pods migrate no more; the Service, PDB and the service's NetworkPolicy never select the Job's pods.
    expect(configMap(objects).DB_MIGRATIONS_RUN).toBe('false');
    expect(
      selects(
        find<K8sObject & { spec: { selector: Record<string, string> } }>(objects, 'Service', 'dronescheduler').spec.selector,
        podLabels,
      ),
    ).toBe(false);
    const servicePolicy = find<NetworkPolicyObject>(objects, 'NetworkPolicy', 'dronescheduler');
    expect(selects(servicePolicy.spec.podSelector.matchLabels, podLabels)).toBe(false);
    // Its own NetworkPolicy does, with no ingress and exactly the service's egress (DNS, SQL, Entra ID, Key Vault).
    expect(selects(policy.spec.podSelector.matchLabels, podLabels)).toBe(true);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([]);
    expect(policy.spec.egress).toEqual(servicePolicy.spec.egress);
    expect(policy.spec.egress?.flatMap((rule) => rule.ports ?? []).map((port) => port.port)).toEqual(
      expect.arrayContaining([53, 1433, 443]),
    );
  }

  it.each(['defaults + the README minimal --set', ...EXAMPLES])(
    'the migration Job runs before install and upgrade, as its own identity (%s)',
    async (name) => {
      const { args } = valueSets('dronescheduler').find((set) => set.name === name) ?? { args: [] };
      const objects = await render('dronescheduler', args);
      checkMigration(objects, name);
      expect(findAll(objects, 'Job').map((job) => job.metadata.name)).toEqual(name === 'values-dev.yaml' ? [MIGRATE, SEED] : [MIGRATE]);
    },
  );

  it.each(['defaults + the README minimal --set', ...EXAMPLES])('the umbrella renders the same migration Job (%s)', async (name) => {
    const { args } = valueSets('dronedelivery').find((set) => set.name === name) ?? { args: [] };
    const objects = await render('dronedelivery', args);
    checkMigration(objects, name);
  });

  it('the example files name the migration identity and the runtime user Bicep creates', async () => {
    const prod = await render('dronedelivery', ['-f', join('dronedelivery', 'values-prod.yaml')]);
    expect(find(prod, 'ServiceAccount', MIGRATE).metadata.annotations?.['azure.workload.identity/client-id']).toBe(
      '22222223-0000-0000-0000-000000000006',
    );
    const env = envOf(find<JobObject>(prod, 'Job', MIGRATE).spec.template.spec.containers[0]);
    expect(env.DB_RUNTIME_USER).toMatch(/^id-dronescheduler-dronedelivery-prod-/);
    expect(env.DB_RUNTIME_USER_OBJECT_ID).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('migration.runtimeUser sets DB_RUNTIME_USER / DB_RUNTIME_USER_OBJECT_ID on the Job only', async () => {
    const objects = await render('dronescheduler', [
      ...minimal(),
      '--set',
      'migration.runtimeUser.name=id-dronescheduler-x',
      '--set',
      'migration.runtimeUser.objectId=33333333-0000-0000-0000-000000000004',
    ]);
    checkMigration(objects, 'runtime user');
    expect(envOf(find<JobObject>(objects, 'Job', MIGRATE).spec.template.spec.containers[0])).toMatchObject({
      DB_RUNTIME_USER: 'id-dronescheduler-x',
      DB_RUNTIME_USER_OBJECT_ID: '33333333-0000-0000-0000-000000000004',
    });
    expect(Object.keys(configMap(objects)).filter((key) => key.startsWith('DB_RUNTIME_USER'))).toEqual([]);
    // Without a runtime user the Job grants nothing.
    expect(
      Object.keys(envOf(find<JobObject>(await render('dronescheduler', minimal()), 'Job', MIGRATE).spec.template.spec.containers[0])),
    ).not.toContain('DB_RUNTIME_USER');
  });

  it('refuses runtime user values the migrate command would refuse', async () => {
    expect(await renderFails('dronescheduler', [...minimal(), '--set', 'migration.runtimeUser.name=x"; DROP TABLE drones; --'])).toMatch(
      /migration\.runtimeUser\.name: Does not match pattern/,
    );
    expect(
      await renderFails('dronescheduler', [...minimal(), '--set', 'migration.runtimeUser.objectId=33333333-0000-0000-0000-000000000004']),
    ).toContain('migration.runtimeUser.objectId needs migration.runtimeUser.name');
    expect(
      await renderFails('dronescheduler', [
        ...minimal(),
        '--set',
        'config.DB_ENGINE=postgres',
        '--set',
        'config.DB_AUTH=password',
        '--set',
        'config.DB_USER=app',
        '--set',
        'migration.runtimeUser.name=app',
        '--set',
        'migration.runtimeUser.objectId=33333333-0000-0000-0000-000000000004',
      ]),
    ).toContain('migration.runtimeUser.objectId is for DB_ENGINE=mssql');
  });

  it('migration.enabled=false: no hook objects, and the pods migrate at startup (DB_MIGRATIONS_RUN=true)', async () => {
    const objects = await render('dronescheduler', [...minimal(), '--set', 'migration.enabled=false']);
    checkService(objects, 'dronescheduler');
    expect(objects.filter((object) => object.metadata.annotations?.['helm.sh/hook'])).toEqual([]);
    expect(configMap(objects).DB_MIGRATIONS_RUN).toBe('true');
    // A pipeline that migrates on its own may still turn startup migrations off.
    expect(
      configMap(
        await render('dronescheduler', [...minimal(), '--set', 'migration.enabled=false', '--set', 'config.DB_MIGRATIONS_RUN=false']),
      ).DB_MIGRATIONS_RUN,
    ).toBe('false');
    // With the Job on, the pods must not migrate as well.
    expect(await renderFails('dronescheduler', [...minimal(), '--set', 'config.DB_MIGRATIONS_RUN=true'])).toContain(
      'contradicts migration.enabled=true',
    );
  });

  it('the Deployment rolls when the migration switch flips (DB_MIGRATIONS_RUN is in the config checksum)', async () => {
    const checksum = async (args: string[]) =>
      find<DeploymentObject & { spec: { template: { metadata: { annotations: Record<string, string> } } } }>(
        await render('dronescheduler', args),
        'Deployment',
        'dronescheduler',
      ).spec.template.metadata.annotations['checksum/config'];
    expect(await checksum([...minimal(), '--set', 'migration.enabled=false'])).not.toBe(await checksum(minimal()));
  });

  it('identity.mode=pod: the migration pods bind their own identity and reach the instance metadata endpoint', async () => {
    const objects = await render('dronescheduler', [
      ...minimal(),
      '--set',
      'identity.mode=pod',
      '--set',
      'migration.identity.podIdentityBinding=ds-migrate',
    ]);
    const job = find<JobObject>(objects, 'Job', MIGRATE);
    expect(job.spec.template.metadata.labels.aadpodidbinding).toBe('ds-migrate');
    expect(job.spec.template.metadata.labels['azure.workload.identity/use']).toBeUndefined();
    expect(envOf(job.spec.template.spec.containers[0]).AZURE_CLIENT_ID).toBe('00000000-0000-0000-0000-000000000006');
    expect(find(objects, 'ServiceAccount', MIGRATE).metadata.annotations?.['azure.workload.identity/client-id']).toBeUndefined();
    const policy = find<NetworkPolicyObject>(objects, 'NetworkPolicy', MIGRATE);
    expect(policy.spec.egress?.some((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === '169.254.169.254/32'))).toBe(true);
  });

  it('the seed Job is off by default; on, it runs after install and upgrade as the service, without migrating', async () => {
    expect(findAll(await render('dronescheduler', minimal()), 'Job').map((job) => job.metadata.name)).toEqual([MIGRATE]);
    const objects = await render('dronescheduler', [...minimal(), '--set', 'seed.enabled=true', '--set', 'seed.drones=120']);
    checkService(objects, 'dronescheduler');
    const job = find<JobObject>(objects, 'Job', SEED);
    const policy = find<NetworkPolicyObject>(objects, 'NetworkPolicy', SEED);
    for (const object of [job, policy])
      expect(hook(object)).toMatchObject({ events: 'post-install,post-upgrade', deletePolicy: 'before-hook-creation,hook-succeeded' });
    expect(hook(policy).weight).toBeLessThan(hook(job).weight);
    const pod = job.spec.template.spec;
    const [container] = pod.containers;
    expect(container.command).toEqual(['node', 'dist/seed.js', '--drones', '120']);
    // The runtime identity and the service's own ConfigMap (which exists after install): DB_MIGRATIONS_RUN=false, DML only.
    expect(pod.serviceAccountName).toBe('dronescheduler');
    expect(job.spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'dronescheduler' } }]);
    expect(configMap(objects).DB_MIGRATIONS_RUN).toBe('false');
    const deployment = find<DeploymentObject>(objects, 'Deployment', 'dronescheduler').spec.template.spec;
    expect(pod.securityContext).toEqual(deployment.securityContext);
    expect(container.securityContext).toEqual(deployment.containers[0].securityContext);
    expect(container.image).toBe(deployment.containers[0].image);
    expect(selects(policy.spec.podSelector.matchLabels, job.spec.template.metadata.labels)).toBe(true);
    expect(
      selects(
        find<NetworkPolicyObject>(objects, 'NetworkPolicy', 'dronescheduler').spec.podSelector.matchLabels,
        job.spec.template.metadata.labels,
      ),
    ).toBe(false);
    expect(policy.spec.egress).toEqual(find<NetworkPolicyObject>(objects, 'NetworkPolicy', 'dronescheduler').spec.egress);
  });

  it('the seed Job mounts the SecretProviderClass like the pods, when there is one', async () => {
    const objects = await render('dronescheduler', [...minimal(), '--set', 'seed.enabled=true', ...TELEMETRY_SECRET_MOUNT]);
    const seed = find<JobObject>(objects, 'Job', SEED).spec.template.spec;
    const service = find<DeploymentObject>(objects, 'Deployment', 'dronescheduler').spec.template.spec;
    expect(seed.containers[0].envFrom).toEqual(service.containers[0].envFrom);
    expect(seed.volumes).toEqual(service.volumes);
    // The migration Job runs before the SecretProviderClass exists on install: it mounts nothing of it.
    expect(find<JobObject>(objects, 'Job', MIGRATE).spec.template.spec.volumes.map((volume) => volume.name)).toEqual(['tmp']);
  });
});

// ---- the gateway Ingress and the local NGINX ----

describe('gateway Ingress', () => {
  /** The local NGINX config as tools/local/nginx-config.mjs renders it (for the local stack and compose) from ingress-settings.json. */
  function localNginx(): { config: string; settings: Record<string, string | number> } {
    const template = readFileSync(join(repoRoot, 'tools/local/nginx.conf.template'), 'utf8');
    const stack = readFileSync(join(repoRoot, 'tools/local/stack.mjs'), 'utf8');
    // The stack renders through the shared renderer, which takes every behaviour value from ingress-settings.json.
    expect(stack).toContain("from './nginx-config.mjs'");
    expect(stack).toMatch(/renderNginxConfig\(\{/);
    const settings = ingressSettings;
    const placeholders = new Set([...template.matchAll(/\{\{([A-Z_]+)\}\}/g)].map((match) => match[1]));
    const perRun = ['PREFIX', 'ERROR_LOG', 'LISTEN', 'GATEWAY_ADDRESS'];
    expect(
      [...placeholders].filter((name) => !perRun.includes(name)).sort(),
      'every ingress behaviour placeholder comes from ingress-settings.json',
    ).toEqual(
      Object.keys(settings)
        .filter((key) => !key.startsWith('$'))
        .sort(),
    );
    const config = renderNginxConfig({
      PREFIX: '<PREFIX>',
      ERROR_LOG: '<ERROR_LOG>',
      LISTEN: '<LISTEN>',
      GATEWAY_ADDRESS: '<GATEWAY_ADDRESS>',
    });
    return { config, settings };
  }

  function directive(config: string, pattern: RegExp, what: string): RegExpExecArray {
    const match = pattern.exec(config);
    if (!match) throw new Error(`tools/local/nginx.conf.template: no ${what}`);
    return match;
  }

  /** nginx sizes (64k, 1m) and times (2s, 1m) in bytes and seconds. */
  const nginxSize = (value: string) =>
    Number(/^(\d+)/.exec(value)?.[1]) * ({ k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[value.slice(-1).toLowerCase()] ?? 1);
  const nginxSeconds = (value: string) => Number(/^(\d+)/.exec(value)?.[1]) * ({ s: 1, m: 60, h: 3600 }[value.slice(-1)] ?? 1);

  it('mirrors the local NGINX: per-client rate limit and burst, body limit, timeouts, X-Request-ID, only /api', async () => {
    const { config } = localNginx();
    const zone = directive(config, /limit_req_zone \$binary_remote_addr zone=(\w+):\S+ rate=(\d+)r\/s;/, 'per-client limit_req_zone');
    const burst = directive(config, new RegExp(`limit_req zone=${zone[1]} burst=(\\d+) nodelay;`), 'limit_req with nodelay');
    const body = directive(config, /client_max_body_size (\S+);/, 'client_max_body_size');
    const timeouts = Object.fromEntries(
      ['connect', 'send', 'read'].map((kind) => [
        kind,
        nginxSeconds(directive(config, new RegExp(`proxy_${kind}_timeout (\\S+);`), `proxy_${kind}_timeout`)[1]),
      ]),
    );
    const location = directive(config, /location (\/\S*) \{\s*limit_req[^}]*proxy_pass http:\/\/gateway;/, 'proxied location');
    // X-Request-ID: the caller's, else a generated one.
    directive(
      config,
      /map \$http_x_request_id \$request_id_out \{\s*default \$http_x_request_id;\s*"" \$request_id;\s*\}/,
      'X-Request-ID map',
    );
    directive(config, /proxy_set_header X-Request-ID \$request_id_out;/, 'X-Request-ID header');

    for (const { name, args } of valueSets('gateway')) {
      if (name !== 'defaults + the README minimal --set') continue; // the chart's defaults are what must not drift
      const objects = await render('gateway', args);
      const ingresses = findAll(objects, 'Ingress') as (K8sObject & {
        spec: { ingressClassName: string; rules: { http: { paths: { path: string; pathType: string; backend: object }[] } }[] };
      })[];
      expect(ingresses).toHaveLength(1);
      const [ingress] = ingresses;
      const annotations = ingress.metadata.annotations ?? {};
      const rps = Number(annotations['nginx.ingress.kubernetes.io/limit-rps']);
      expect(rps, 'limit-rps = local rate').toBe(Number(zone[2]));
      expect(
        rps * Number(annotations['nginx.ingress.kubernetes.io/limit-burst-multiplier']),
        'limit-rps × limit-burst-multiplier = local burst',
      ).toBe(Number(burst[1]));
      expect(nginxSize(annotations['nginx.ingress.kubernetes.io/proxy-body-size']), 'proxy-body-size = local client_max_body_size').toBe(
        nginxSize(body[1]),
      );
      expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-connect-timeout'])).toBe(timeouts.connect);
      expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBe(timeouts.send);
      expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBe(timeouts.read);
      // ingress-nginx passes or generates X-Request-ID by default (generate-request-id); no snippet may change that.
      expect(Object.keys(annotations).filter((key) => key.endsWith('-snippet'))).toEqual([]);
      // Only the gateway, only under the proxied prefix.
      const paths = ingress.spec.rules.flatMap((rule) => rule.http.paths);
      expect(paths).toEqual([
        { path: location[1].replace(/\/$/, ''), pathType: 'Prefix', backend: { service: { name: 'gateway', port: { name: 'http' } } } },
      ]);
      // The body limit is also the gateway's own (BODY_LIMIT_BYTES), so both answer 413 alike.
      const env = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'gateway').data;
      expect(nginxSize(body[1])).toBe(
        Number(env.BODY_LIMIT_BYTES ?? (gatewayConfigSchema.shape.BODY_LIMIT_BYTES.parse(undefined) as number)),
      );
    }
  });

  it('the drift check fails when the chart and the local defaults differ', async () => {
    const objects = await render('gateway', [
      ...setArgs(minimalSet('gateway')),
      '--set',
      'ingress.rateLimit.rps=100',
      '--set',
      'ingress.rateLimit.burst=400',
    ]);
    const ingress = find(objects, 'Ingress', 'gateway');
    expect(Number(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/limit-rps'])).not.toBe(
      Number(localNginx().settings.RATE_LIMIT_RPS),
    );
    const stderr = await renderFails('gateway', [...setArgs(minimalSet('gateway')), '--set', 'ingress.rateLimit.burst=300']);
    expect(stderr).toContain('must be a multiple of ingress.rateLimit.rps');
  });

  it('ingressClassName is configurable (community nginx or the AKS application routing add-on)', async () => {
    for (const className of ['nginx', 'webapprouting.kubernetes.azure.com']) {
      const objects = await render('gateway', [...setArgs(minimalSet('gateway')), '--set', `ingress.className=${className}`]);
      expect((find(objects, 'Ingress', 'gateway').spec as { ingressClassName: string }).ingressClassName).toBe(className);
    }
  });
});

// ---- the umbrella chart ----

describe('umbrella chart', () => {
  it.each(['defaults + the README minimal --set', ...EXAMPLES])(
    'renders every service it installs by default and the namespace policies (%s)',
    async (name) => {
      const { args } = valueSets('dronedelivery').find((set) => set.name === name) ?? { args: [] };
      const objects = await render('dronedelivery', args);
      for (const service of INSTALLED) {
        checkService(
          objects.filter((object) => object.metadata.labels?.['app.kubernetes.io/name'] === service),
          service,
        );
      }
      expect(
        findAll(objects, 'Deployment')
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual([...INSTALLED].sort());
      // Plus the migration Job's own (a pre-install/pre-upgrade hook).
      expect(
        findAll(objects, 'ServiceAccount')
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual([...INSTALLED, 'dronescheduler-migrate'].sort());
      find(objects, 'ResourceQuota', 'dronedelivery');
      find(objects, 'LimitRange', 'dronedelivery');
      const deny = find<NetworkPolicyObject>(objects, 'NetworkPolicy', 'default-deny');
      expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
      const dns = find<NetworkPolicyObject>(objects, 'NetworkPolicy', 'allow-dns');
      expect(dns.spec.podSelector).toEqual({});
      expect(dns.spec.egress?.[0].ports).toEqual([
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ]);
      // Only the gateway is exposed.
      expect(findAll(objects, 'Ingress').map((ingress) => ingress.metadata.name)).toEqual(['gateway']);
      expect(objects.filter((object) => object.kind === 'Service' && (object.spec as { type: string }).type !== 'ClusterIP')).toEqual([]);

      // NetworkPolicies against the call graph read from the code.
      const graph = callGraph();
      const callers = callersOf(graph);
      for (const service of INSTALLED) {
        const policy = find<NetworkPolicyObject>(objects, 'NetworkPolicy', service);
        const from = policy.spec.ingress?.flatMap((rule) => rule.from ?? []) ?? [];
        expect(podNames(from), `who may call ${service}`).toEqual([...callers[service]].sort());
        const controllers = from.filter((peer) =>
          ['ingress-nginx', 'app-routing-system'].includes(peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? ''),
        );
        expect(controllers.length > 0, `${service} admits the ingress controller`).toBe(service === 'gateway');
        // The API port for the callers; the management port (health, metrics) for the scraper only, never a service.
        for (const rule of policy.spec.ingress ?? []) {
          const management = rule.ports?.[0]?.port === 9090;
          expect(rule.ports).toEqual([{ port: management ? 9090 : 8080, protocol: 'TCP' }]);
          if (management) expect(podNames(rule.from ?? []), `${service}'s management port`).toEqual([]);
        }
        const to = policy.spec.egress?.flatMap((rule) => rule.to ?? []) ?? [];
        expect(podNames(to), `whom ${service} may call`).toEqual([...graph[service]].sort());
        const env = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', service).data;
        const urls = Object.keys(env).filter((key) => SERVICES.some((other) => key === urlSetting(other)));
        expect(urls.sort()).toEqual(graph[service].map(urlSetting).sort());
        for (const callee of graph[service]) {
          expect(env[urlSetting(callee)]).toBe(`http://${callee}:8080`);
          expect((find(objects, 'Service', callee).spec as { ports: { port: number }[] }).ports[0].port).toBe(8080);
        }
      }
    },
  );

  it('the call graph in the code matches the services’ *_URL settings', () => {
    const graph = callGraph();
    expect(graph.gateway.length + graph.workflow.length).toBeGreaterThan(0);
    for (const service of SERVICES) {
      const urls = Object.keys((SERVICE_SCHEMAS[service] as z.ZodObject).shape).filter((key) =>
        SERVICES.some((other) => key === urlSetting(other)),
      );
      expect(urls.sort(), service).toEqual(graph[service].map(urlSetting).sort());
    }
  });

  it.each(['defaults + the README minimal --set', ...EXAMPLES])(
    'the quota holds every service at its autoscaling maximum plus a surge pod (%s)',
    async (name) => {
      const { args } = valueSets('dronedelivery').find((set) => set.name === name) ?? { args: [] };
      const objects = await render('dronedelivery', args);
      const hard = (find(objects, 'ResourceQuota', 'dronedelivery').spec as { hard: Record<string, string> }).hard;
      const limitMax = (find(objects, 'LimitRange', 'dronedelivery').spec as { limits: { max: Record<string, string> }[] }).limits[0].max;
      const total = { pods: 0, 'requests.cpu': 0, 'requests.memory': 0, 'limits.cpu': 0, 'limits.memory': 0 };
      for (const deployment of findAll(objects, 'Deployment') as DeploymentObject[]) {
        const name = deployment.metadata.name;
        const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === name)?.spec as
          { maxReplicas: number } | undefined;
        const scaled = objects.find((o) => o.kind === 'ScaledObject' && o.metadata.name === name)?.spec as
          { maxReplicaCount: number } | undefined;
        const pods =
          (hpa?.maxReplicas ?? scaled?.maxReplicaCount ?? deployment.spec.replicas ?? 1) + deployment.spec.strategy.rollingUpdate.maxSurge;
        total.pods += pods;
        for (const container of deployment.spec.template.spec.containers) {
          for (const kind of ['requests', 'limits'] as const) {
            for (const resource of ['cpu', 'memory'] as const) {
              total[`${kind}.${resource}`] += pods * quantity(container.resources[kind][resource]);
              if (kind === 'limits')
                expect(quantity(container.resources.limits[resource]), `${name} limit within LimitRange max`).toBeLessThanOrEqual(
                  quantity(limitMax[resource]),
                );
            }
          }
        }
      }
      // The hook Jobs' pods (one at a time each; the seed runs while a rollout may still surge).
      for (const job of findAll(objects, 'Job') as JobObject[]) {
        total.pods += 1;
        for (const container of job.spec.template.spec.containers) {
          for (const kind of ['requests', 'limits'] as const) {
            for (const resource of ['cpu', 'memory'] as const) {
              total[`${kind}.${resource}`] += quantity(container.resources[kind][resource]);
              if (kind === 'limits')
                expect(
                  quantity(container.resources.limits[resource]),
                  `${job.metadata.name} limit within LimitRange max`,
                ).toBeLessThanOrEqual(quantity(limitMax[resource]));
            }
          }
        }
      }
      for (const [key, needed] of Object.entries(total))
        expect(needed, `${key} needed at full scale vs quota ${hard[key]}`).toBeLessThanOrEqual(quantity(hard[key]));
    },
  );

  it('refuses a gateway and workflow on different command-stream Redis instances', async () => {
    const stderr = await renderFails('dronedelivery', [
      ...setArgs(minimalSet('dronedelivery')),
      '--set',
      'workflow.config.REDIS_URL=rediss://other.redis.cache.windows.net:6380',
    ]);
    expect(stderr).toContain('must be the same Redis');
  });

  it('refuses a delivery service reading redis-password from the command stream’s Key Vault', async () => {
    const stderr = await renderFails('dronedelivery', [
      ...setArgs(minimalSet('dronedelivery')),
      '--set',
      'global.azure.keyVaultUri=https://kv-dronedelivery.vault.azure.net/',
    ]);
    expect(stderr).toContain('give delivery its own vault (delivery.keyVault.uri)');
    await render('dronedelivery', [
      ...setArgs(minimalSet('dronedelivery')),
      '--set',
      'global.azure.keyVaultUri=https://kv-dronedelivery.vault.azure.net/',
      '--set',
      'delivery.keyVault.uri=https://kv-dronedelivery-dlv.vault.azure.net/',
    ]);
  });

  it('installs a subset with <service>.enabled=false', async () => {
    const objects = await render('dronedelivery', [...setArgs(minimalSet('dronedelivery')), '--set', 'dronescheduler.enabled=false']);
    expect(
      findAll(objects, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual(INSTALLED.filter((s) => s !== 'dronescheduler').sort());
  });
});

describe('helm package', () => {
  it('packages every chart', async () => {
    const out = join(scratch, 'packages');
    for (const chart of CHARTS) await helm.ok(['package', chart, '--destination', out], charts);
    const versions = Object.fromEntries(
      CHARTS.map((chart) => [
        chart,
        (parse(readFileSync(join(repoRoot, 'charts', chart, 'Chart.yaml'), 'utf8')) as { version: string }).version,
      ]),
    );
    expect(readdirSync(out).sort()).toEqual(CHARTS.map((chart) => `${chart}-${versions[chart]}.tgz`).sort());
  });
});

// ---- the validators bite ----

describe('validators reject broken objects', () => {
  let gateway: K8sObject[];
  const copyOf = (kind: string) => structuredClone(find(gateway, kind, 'gateway'));

  beforeAll(async () => {
    gateway = await render('gateway', setArgs(minimalSet('gateway')));
  });

  it('a misspelled container field (imagePullPolicyy)', () => {
    const deployment = copyOf('Deployment') as DeploymentObject;
    const container = deployment.spec.template.spec.containers[0] as unknown as Record<string, unknown>;
    container.imagePullPolicyy = container.imagePullPolicy;
    delete container.imagePullPolicy;
    expect(validateObject(deployment).join('\n')).toMatch(/containers\/0\/imagePullPolicyy: unknown field/);
  });

  it('a null left by a template', () => {
    const deployment = copyOf('Deployment') as DeploymentObject;
    (deployment.spec.template.spec as unknown as Record<string, unknown>).nodeSelector = null;
    expect(validateObject(deployment).join('\n')).toMatch(/nodeSelector: null/);
  });

  it('an empty string left by a template', () => {
    const config = copyOf('ConfigMap') as K8sObject & { data: Record<string, string> };
    config.data.REDIS_URL = '';
    expect(validateObject(config).join('\n')).toMatch(/data\/REDIS_URL: empty string/);
  });

  it('a missing required field (kubernetes-models)', () => {
    const deployment = copyOf('Deployment') as DeploymentObject;
    delete (deployment.spec.template.spec.containers[0] as unknown as Record<string, unknown>).name;
    expect(validateObject(deployment).join('\n')).toMatch(/kubernetes-models: .*name/);
  });

  it('a wrong type (kubernetes-models) and a removed or beta API version', () => {
    const deployment = copyOf('Deployment') as DeploymentObject;
    (deployment.spec as unknown as Record<string, unknown>).replicas = 'two';
    expect(validateObject(deployment).join('\n')).toMatch(/replicas/);
    expect(validateObject({ ...copyOf('PodDisruptionBudget'), apiVersion: 'policy/v1beta1' }).join('\n')).toMatch(
      /not served on Kubernetes 1.30\+/,
    );
    expect(validateObject({ ...copyOf('HorizontalPodAutoscaler'), apiVersion: 'autoscaling/v2beta2' }).join('\n')).toMatch(
      /removed in 1.26/,
    );
    expect(validateObject({ ...copyOf('Ingress'), apiVersion: 'networking.k8s.io/v1beta1' }).join('\n')).toMatch(/not served/);
  });

  it('unknown fields in KEDA objects and a SecretProviderClass', () => {
    const scaled = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'workflow', labelz: { a: 'b' } },
      spec: { scaleTargetRef: { name: 'workflow' }, triggers: [{ type: 'redis-streams', metdata: { stream: 's' } }] },
    } as unknown as K8sObject;
    const problems = validateObject(scaled).join('\n');
    expect(problems).toMatch(/metadata\/labelz: unknown field/);
    expect(problems).toMatch(/triggers\/0\/metdata: unknown field/);
    const spc = {
      apiVersion: 'secrets-store.csi.x-k8s.io/v1',
      kind: 'SecretProviderClass',
      metadata: { name: 'x' },
      spec: {
        provider: 'azure',
        parameters: {
          keyvaultname: 'kv',
          tenantId: 't',
          usePodIdentity: 'false',
          clientID: 'c',
          objects: 'array:\n  - |\n    objectName: a\n    objectType: secret\n',
        },
      },
    } as unknown as K8sObject;
    expect(validateObject(spc).join('\n')).toMatch(/parameters\/keyvaultname: unknown field[\s\S]*keyvaultName: required/);
  });

  it('an unknown kind', () => {
    expect(validateObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } }).join('\n')).toMatch(/not a known GA kind/);
  });
});
