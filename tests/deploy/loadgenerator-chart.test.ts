/**
 * charts/loadgenerator, rendered with the real helm binary (helm.ts) and validated like every chart
 * (k8s-validate.ts): the Job runs the generator image with the flags from values, hardened; the init container's
 * readiness poll is run for real with Node against a local HTTP server; the ServiceAccount carries the workload
 * identity; the NetworkPolicies allow exactly DNS, the gateway (and optionally the ingress controller) and Entra ID,
 * and admit the generator to the gateway; the umbrella chart installs it only when enabled. The generic checks
 * (values.schema.json and README generated, helm lint --strict with each example, helm package) are in helm.test.ts.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Helm, minimalSet, preparedCharts, quantity, repoRoot, setArgs } from './helm';
import { type K8sObject, parseManifests, validateObject } from './k8s-validate';

const NAMESPACE = 'dronedelivery';
const CLIENT_ID = '00000000-0000-0000-0000-000000000009';
const LABELS = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/managed-by',
];

interface Container {
  name: string;
  image: string;
  command: string[];
  args?: string[];
  env?: { name: string; value: string }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
}
interface Job extends K8sObject {
  spec: {
    backoffLimit: number;
    activeDeadlineSeconds: number;
    ttlSecondsAfterFinished?: number;
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: {
        serviceAccountName: string;
        automountServiceAccountToken: boolean;
        restartPolicy: string;
        securityContext: Record<string, unknown>;
        initContainers?: Container[];
        containers: Container[];
        volumes: {
          name: string;
          emptyDir?: { sizeLimit: string };
          configMap?: { name: string };
          persistentVolumeClaim?: { claimName: string };
        }[];
      };
    };
  };
}
interface Peer {
  podSelector?: { matchLabels?: Record<string, string> };
  namespaceSelector?: { matchLabels?: Record<string, string> };
  ipBlock?: { cidr: string; except?: string[] };
}
interface Policy extends K8sObject {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress?: { from: Peer[]; ports: { port: number; protocol: string }[] }[];
    egress?: { to: Peer[]; ports: { port: number; protocol: string }[] }[];
  };
}

let helm: Helm;
let charts: string;
let cleanup: () => void;

beforeAll(async () => {
  ({ helm, dir: charts, cleanup } = await preparedCharts());
}, 180_000);
afterAll(() => cleanup?.());

const sets = setArgs;
const MINIMAL = sets(minimalSet('loadgenerator'));

async function render(args: string[], chart = 'loadgenerator'): Promise<K8sObject[]> {
  const objects = parseManifests(await helm.ok(['template', chart, chart, '--namespace', NAMESPACE, ...args], charts));
  expect(objects.flatMap(validateObject), args.join(' ')).toEqual([]);
  return objects;
}

async function renderFails(args: string[]): Promise<string> {
  const result = await helm.run(['template', 'loadgenerator', 'loadgenerator', '--namespace', NAMESPACE, ...args], charts);
  expect(result.code, `helm template loadgenerator ${args.join(' ')} should fail`).not.toBe(0);
  return result.stderr;
}

function find<T extends K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found as T;
}

const job = (objects: K8sObject[]): Job => find<Job>(objects, 'Job', 'loadgenerator-1');
const generator = (objects: K8sObject[]): Container => job(objects).spec.template.spec.containers[0];

/** The value following a flag in the generator's arguments (undefined when the flag is absent). */
function flag(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index < 0 ? undefined : args[index + 1];
}

function hardened(container: Container): void {
  expect(container.securityContext, container.name).toEqual({
    runAsNonRoot: true,
    runAsUser: 1000,
    runAsGroup: 1000,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  for (const kind of ['requests', 'limits'] as const)
    for (const resource of ['cpu', 'memory'])
      expect(container.resources[kind][resource], `${container.name} ${kind}.${resource}`).toBeTruthy();
}

describe('loadgenerator chart', () => {
  it.each([
    ['defaults + the README minimal --set', MINIMAL],
    ['values-dev.yaml', [...MINIMAL, '-f', 'loadgenerator/values-dev.yaml']],
    ['values-prod.yaml', [...MINIMAL, '-f', 'loadgenerator/values-prod.yaml']],
  ])('renders a hardened Job, its ConfigMap, ServiceAccount and NetworkPolicies (%s)', async (_name, args) => {
    const objects = await render(args);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/loadgenerator',
        'Job/loadgenerator-1',
        'NetworkPolicy/loadgenerator',
        'NetworkPolicy/loadgenerator-to-gateway',
        'ServiceAccount/loadgenerator',
      ].sort(),
    );
    for (const object of objects) {
      expect(object.metadata.namespace).toBe(NAMESPACE);
      for (const label of LABELS) expect(object.metadata.labels?.[label], `${object.kind} ${object.metadata.name} ${label}`).toBeTruthy();
    }
    const spec = job(objects).spec;
    expect(spec.backoffLimit).toBe(0);
    expect(spec.activeDeadlineSeconds).toBeGreaterThan(0);
    const pod = spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('loadgenerator');
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.initContainers?.map((c) => c.name)).toEqual(['wait-for-gateway']);
    for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
      hardened(container);
      expect(container.image).toBe('myregistry.azurecr.io/dronedelivery/loadgen:1.0.0');
    }
    const main = pod.containers[0];
    expect(main.command).toEqual(['node', 'dist/cli.js']);
    // Every writable path is a volume (read-only root filesystem).
    expect(main.volumeMounts?.find((m) => m.name === 'tmp')?.mountPath).toBe('/tmp');
    expect(main.volumeMounts?.find((m) => m.name === 'mix')).toMatchObject({ mountPath: '/etc/loadgen', readOnly: true });
    expect(main.volumeMounts?.find((m) => m.name === 'report')?.mountPath).toBe(flag(main.args ?? [], '--report-dir'));
  });

  it('builds the generator flags from values: target = the gateway Service, rate, duration, ramp, mix, Entra auth', async () => {
    const args = generator(await render(MINIMAL)).args ?? [];
    expect(args).toEqual([
      '--target',
      'http://gateway:8080',
      '--rate',
      '20',
      '--duration',
      '60s',
      '--ramp',
      '10s',
      '--mix',
      '/etc/loadgen/mix.json',
      '--report-dir',
      '/reports',
      '--auth',
      'entra',
      '--owner-prefix',
      'loadtest-',
      '--owners',
      '200',
      '--entra-scope',
      'api://dronedelivery/.default',
    ]);
    const custom =
      generator(
        await render([
          ...MINIMAL,
          ...sets([
            'target=https://dronedelivery.example.com',
            'rate=50',
            'duration=300',
            'ramp=30s',
            'poll=250ms',
            'think=0-2s',
            'thresholds.maxP99Ms=500',
            'thresholds.maxErrorRate=0.01',
            'thresholds.minE2eRate=0.99',
            'auth.ownerPrefix=lt-',
            'auth.owners=1000',
            'fleet=500',
            'windowStart=2027-03-01T10:00:00Z',
          ]),
          '--set-json',
          'extraArgs=["--phases","/etc/phases.json"]',
        ]),
      ).args ?? [];
    expect(flag(custom, '--target')).toBe('https://dronedelivery.example.com');
    expect(flag(custom, '--rate')).toBe('50');
    expect(flag(custom, '--duration')).toBe('300s');
    expect(flag(custom, '--poll')).toBe('250ms');
    expect(flag(custom, '--think')).toBe('0-2s');
    expect(flag(custom, '--max-p99-ms')).toBe('500');
    expect(flag(custom, '--max-error-rate')).toBe('0.01');
    expect(flag(custom, '--min-e2e-rate')).toBe('0.99');
    expect(flag(custom, '--owner-prefix')).toBe('lt-');
    expect(flag(custom, '--owners')).toBe('1000');
    expect(flag(custom, '--fleet')).toBe('500');
    expect(flag(custom, '--window-start')).toBe('2027-03-01T10:00:00Z');
    expect(custom.slice(-2)).toEqual(['--phases', '/etc/phases.json']);
    // Thresholds are left out unless set; the closed model replaces the rate.
    const defaults = generator(await render(MINIMAL)).args ?? [];
    for (const name of ['--max-p99-ms', '--max-error-rate', '--min-e2e-rate', '--users', '--think', '--poll', '--fleet', '--window-start'])
      expect(defaults).not.toContain(name);
    const closed = generator(await render([...MINIMAL, '--set', 'users=25'])).args ?? [];
    expect(flag(closed, '--users')).toBe('25');
    expect(closed).not.toContain('--rate');
  });

  it('mounts the mix as JSON; the default is tools/loadgen/mix.default.json', async () => {
    const objects = await render(MINIMAL);
    const data = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'loadgenerator').data;
    expect(JSON.parse(data['mix.json'])).toEqual(JSON.parse(readFileSync(join(repoRoot, 'tools/loadgen/mix.default.json'), 'utf8')));
    expect(job(objects).spec.template.spec.volumes.find((v) => v.name === 'mix')?.configMap?.name).toBe('loadgenerator');
    const custom = find<K8sObject & { data: Record<string, string> }>(
      await render([...MINIMAL, '--set-json', 'mix={"browse":1}']),
      'ConfigMap',
      'loadgenerator',
    ).data;
    // Helm merges maps: the other weights stay unless set to 0 or removed with null.
    expect(JSON.parse(custom['mix.json']).browse).toBe(1);
    expect(await renderFails([...MINIMAL, '--set', 'mix.checkout=5'])).toContain('checkout');
  });

  it('the report goes to an emptyDir by default, or to an existing PersistentVolumeClaim', async () => {
    const volumes = job(await render(MINIMAL)).spec.template.spec.volumes;
    expect(volumes.find((v) => v.name === 'report')).toEqual({ name: 'report', emptyDir: { sizeLimit: '256Mi' } });
    const objects = await render([...MINIMAL, ...sets(['report.existingClaim=loadtest-reports', 'report.subPath=run-1'])]);
    expect(job(objects).spec.template.spec.volumes.find((v) => v.name === 'report')).toEqual({
      name: 'report',
      persistentVolumeClaim: { claimName: 'loadtest-reports' },
    });
    expect(generator(objects).volumeMounts?.find((m) => m.name === 'report')).toEqual({
      name: 'report',
      mountPath: '/reports',
      subPath: 'run-1',
    });
  });

  it('workload identity: its own ServiceAccount with the client id; the client id is required with Entra auth only', async () => {
    const objects = await render([...MINIMAL, '--set', 'global.azure.tenantId=11111111-1111-1111-1111-111111111111']);
    const account = find<K8sObject & { automountServiceAccountToken: boolean }>(objects, 'ServiceAccount', 'loadgenerator');
    expect(account.metadata.annotations).toEqual({
      'azure.workload.identity/client-id': CLIENT_ID,
      'azure.workload.identity/tenant-id': '11111111-1111-1111-1111-111111111111',
    });
    expect(account.automountServiceAccountToken).toBe(false);
    expect(job(objects).spec.template.metadata.labels['azure.workload.identity/use']).toBe('true');
    const withoutIdentity = sets(minimalSet('loadgenerator').filter((set) => !set.startsWith('identity.clientId=')));
    expect(await renderFails(withoutIdentity)).toContain('identity.clientId is required');
    const none = await render([...withoutIdentity, '--set', 'auth.mode=none']);
    expect(find(none, 'ServiceAccount', 'loadgenerator').metadata.annotations).toBeUndefined();
    expect(job(none).spec.template.metadata.labels['azure.workload.identity/use']).toBeUndefined();
    expect(flag(generator(none).args ?? [], '--auth')).toBe('none');
    expect(generator(none).args).not.toContain('--entra-scope');
    // Local tokens need the developer machine's key: refused in the cluster (schema and template).
    expect(await renderFails([...MINIMAL, '--set', 'auth.mode=local'])).toContain('auth');
    // The federated credential names the namespace.
    const other = await helm.run(['template', 'loadgenerator', 'loadgenerator', '--namespace', 'elsewhere', ...MINIMAL], charts);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('system:serviceaccount:dronedelivery:loadgenerator');
  });

  it('the defaults alone do not render, and each documented minimal --set is required', async () => {
    await renderFails([]);
    for (const set of minimalSet('loadgenerator')) {
      const stderr = await renderFails(sets(minimalSet('loadgenerator').filter((other) => other !== set)));
      expect(stderr, `without ${set}`).toMatch(/required/);
    }
    expect(await renderFails([...MINIMAL, '--set', 'resources.limits=null'])).toMatch(/limits/);
  });

  it('NetworkPolicy: no ingress; egress only to DNS, the gateway on 8080 and Entra ID (443, public addresses)', async () => {
    const objects = await render(MINIMAL);
    const podLabels = job(objects).spec.template.metadata.labels;
    const own = find<Policy>(objects, 'NetworkPolicy', 'loadgenerator');
    for (const [key, value] of Object.entries(own.spec.podSelector.matchLabels)) expect(podLabels[key]).toBe(value);
    expect(own.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(own.spec.ingress).toEqual([]);
    expect(own.spec.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [
          { port: 53, protocol: 'UDP' },
          { port: 53, protocol: 'TCP' },
        ],
      },
      {
        to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway', 'app.kubernetes.io/part-of': 'dronedelivery' } } }],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
      {
        to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }],
        ports: [{ port: 443, protocol: 'TCP' }],
      },
    ]);
    // The readiness poll and the default target are the gateway Service, which the egress rule covers.
    const wait = job(objects).spec.template.spec.initContainers?.[0];
    expect(wait?.env?.find((e) => e.name === 'WAIT_URL')?.value).toBe('http://gateway:8080/health/ready');

    // The ingress controller as a target; no Entra egress without Entra auth.
    const through = find<Policy>(
      await render([...MINIMAL, ...sets(['networkPolicy.ingressController.enabled=true', 'auth.mode=none'])]),
      'NetworkPolicy',
      'loadgenerator',
    );
    expect(through.spec.egress?.map((rule) => rule.ports.map((p) => p.port))).toEqual([[53, 53], [8080], [80, 443]]);
    expect(through.spec.egress?.[2].to).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'app-routing-system' } }, podSelector: {} },
    ]);
    const off = await render([...MINIMAL, '--set', 'networkPolicy.enabled=false']);
    expect(off.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
  });

  it('admits the generator to the gateway: an additive policy on the gateway pods, from the generator pods on 8080', async () => {
    const objects = await render(MINIMAL);
    const admit = find<Policy>(objects, 'NetworkPolicy', 'loadgenerator-to-gateway');
    expect(admit.spec.podSelector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'gateway',
      'app.kubernetes.io/part-of': 'dronedelivery',
    });
    expect(admit.spec.policyTypes).toEqual(['Ingress']);
    expect(admit.spec.egress).toBeUndefined();
    expect(admit.spec.ingress).toEqual([
      {
        from: [
          { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'loadgenerator', 'app.kubernetes.io/part-of': 'dronedelivery' } } },
        ],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
    ]);
    const podLabels = job(objects).spec.template.metadata.labels;
    for (const [key, value] of Object.entries(admit.spec.ingress?.[0].from[0].podSelector?.matchLabels ?? {}))
      expect(podLabels[key]).toBe(value);
    const without = await render([...MINIMAL, '--set', 'networkPolicy.admitToGateway=false']);
    expect(without.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name)).toEqual(['loadgenerator']);
  });

  it('umbrella: off by default; enabled, the generator is admitted to the gateway pods and nothing else', async () => {
    const umbrella = sets(minimalSet('dronedelivery'));
    const off = await render(umbrella, 'dronedelivery');
    expect(off.filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'loadgenerator')).toEqual([]);
    const on = await render(
      [...umbrella, ...sets(['loadgenerator.enabled=true', `loadgenerator.identity.clientId=${CLIENT_ID}`])],
      'dronedelivery',
    );
    const loadgen = job(on);
    expect(loadgen.spec.template.spec.containers[0].image).toBe('myregistry.azurecr.io/dronedelivery/loadgen:1.0.0');
    expect(flag(loadgen.spec.template.spec.containers[0].args ?? [], '--target')).toBe('http://gateway:8080');
    // The gateway's pods carry the labels the admission policy selects; its Service has the port the generator uses.
    const gateway = find<K8sObject & { spec: { template: { metadata: { labels: Record<string, string> } } } }>(on, 'Deployment', 'gateway');
    const admit = find<Policy>(on, 'NetworkPolicy', 'loadgenerator-to-gateway');
    for (const [key, value] of Object.entries(admit.spec.podSelector.matchLabels))
      expect(gateway.spec.template.metadata.labels[key]).toBe(value);
    expect(find<K8sObject & { spec: { ports: { port: number }[] } }>(on, 'Service', 'gateway').spec.ports[0].port).toBe(8080);
    // No other service's pods admit it.
    const admitting = on
      .filter((o): o is Policy => o.kind === 'NetworkPolicy')
      .filter((policy) =>
        (policy.spec.ingress ?? []).some((rule) =>
          rule.from.some((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'loadgenerator'),
        ),
      );
    expect(admitting.map((p) => p.metadata.name)).toEqual(['loadgenerator-to-gateway']);
    // Its containers fit under the LimitRange ceiling, and the quota still holds every service at its autoscaling
    // maximum plus a surge pod, the hook Jobs and the generator (init container and generator counted alike).
    const max = find<K8sObject & { spec: { limits: { max: Record<string, string> }[] } }>(on, 'LimitRange', 'dronedelivery').spec.limits[0]
      .max;
    const hard = find<K8sObject & { spec: { hard: Record<string, string> } }>(on, 'ResourceQuota', 'dronedelivery').spec.hard;
    const total: Record<string, number> = { pods: 0, 'requests.cpu': 0, 'requests.memory': 0, 'limits.cpu': 0, 'limits.memory': 0 };
    const add = (pods: number, containers: Container[]) => {
      total.pods += pods;
      for (const container of containers)
        for (const kind of ['requests', 'limits'] as const)
          for (const resource of ['cpu', 'memory']) total[`${kind}.${resource}`] += pods * quantity(container.resources[kind][resource]);
    };
    for (const container of [...(loadgen.spec.template.spec.initContainers ?? []), ...loadgen.spec.template.spec.containers])
      for (const resource of ['cpu', 'memory'])
        expect(quantity(container.resources.limits[resource]), `${container.name} ${resource}`).toBeLessThanOrEqual(
          quantity(max[resource]),
        );
    for (const deployment of on.filter((o) => o.kind === 'Deployment') as (K8sObject & {
      spec: { replicas?: number; strategy: { rollingUpdate: { maxSurge: number } }; template: { spec: { containers: Container[] } } };
    })[]) {
      const hpa = on.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === deployment.metadata.name)?.spec as
        { maxReplicas: number } | undefined;
      add(
        (hpa?.maxReplicas ?? deployment.spec.replicas ?? 1) + deployment.spec.strategy.rollingUpdate.maxSurge,
        deployment.spec.template.spec.containers,
      );
    }
    // A pod's init containers run before its containers: the larger of the two counts (here: the generator).
    for (const hookJob of on.filter((o) => o.kind === 'Job') as Job[]) add(1, hookJob.spec.template.spec.containers);
    for (const [key, needed] of Object.entries(total))
      expect(needed, `${key} at full scale with the generator vs quota ${hard[key]}`).toBeLessThanOrEqual(quantity(hard[key]));
  });
});

// ---- the init container's readiness poll, run for real ----

function readinessServer(statuses: number[]): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((request, response) => {
    const status = request.url === '/health/ready' ? (statuses[Math.min(hits, statuses.length - 1)] ?? 200) : 404;
    hits++;
    response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () =>
      done({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health/ready`, hits: () => hits }),
    ),
  );
}

function runWait(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['-e', script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('wait-for-gateway init container (the rendered node -e script)', () => {
  async function script(): Promise<string> {
    const wait = job(await render(MINIMAL)).spec.template.spec.initContainers?.[0];
    expect(wait?.command.slice(0, 2)).toEqual(['node', '-e']);
    return wait?.command[2] ?? '';
  }

  it('polls until /health/ready answers 2xx, then exits 0', async () => {
    const { server, url, hits } = await readinessServer([503, 503, 200]);
    try {
      const result = await runWait(await script(), { WAIT_URL: url, WAIT_TIMEOUT_MS: '15000', WAIT_INTERVAL_MS: '100' });
      expect(result.code, result.output).toBe(0);
      expect(hits()).toBe(3);
      expect(result.output).toContain('answered 503');
      expect(result.output).toContain('gateway ready');
    } finally {
      server.close();
    }
  });

  it('gives up with exit 1 after the timeout when the gateway never gets ready (or is not there)', async () => {
    const { server, url } = await readinessServer([503]);
    try {
      const never = await runWait(await script(), { WAIT_URL: url, WAIT_TIMEOUT_MS: '500', WAIT_INTERVAL_MS: '100' });
      expect(never.code, never.output).toBe(1);
      expect(never.output).toContain('gave up');
    } finally {
      server.close();
    }
    const closed = await runWait(await script(), { WAIT_URL: url, WAIT_TIMEOUT_MS: '300', WAIT_INTERVAL_MS: '100' });
    expect(closed.code, closed.output).toBe(1);
    expect(closed.output).toContain('ECONNREFUSED');
  });
});
