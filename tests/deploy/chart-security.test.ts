import { parseAllDocuments } from 'yaml';
import { type Helm, minimalSet, preparedCharts, setArgs } from './helm';

/**
 * What the charts refuse or wire for security (docs/security.md), rendered with the real helm: settings that would
 * weaken authentication fail at render time, naming the value to fix.
 */
let helm: Helm;
let charts: string;
let cleanup: (() => void) | undefined;

beforeAll(async () => {
  ({ helm, dir: charts, cleanup } = await preparedCharts());
}, 120_000);

afterAll(() => cleanup?.());

type K8sObject = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; [key: string]: any };

async function render(chart: string, args: string[]): Promise<K8sObject[]> {
  const stdout = await helm.ok(['template', chart, chart, '--namespace', 'dronedelivery', ...args], charts);
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

async function renderFails(chart: string, args: string[]): Promise<string> {
  const result = await helm.run(['template', chart, chart, '--namespace', 'dronedelivery', ...args], charts);
  expect(result.code, `helm template ${chart} should fail`).not.toBe(0);
  return result.stderr;
}

/** The minimal --set of a chart with some values replaced (or added). */
function minimalWith(chart: string, overrides: Record<string, string>): string[] {
  const sets = minimalSet(chart).filter((set) => !(set.slice(0, set.indexOf('=')) in overrides));
  return setArgs([...sets, ...Object.entries(overrides).map(([key, value]) => `${key}=${value}`)]);
}

describe('gateway user tokens (AUTH_MODE=entra)', () => {
  it('refuses a JWKS URI that is not https://', async () => {
    const jwks = 'http://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/discovery/v2.0/keys';
    const stderr = await renderFails('gateway', minimalWith('gateway', { 'config.AUTH_JWKS_URI': jwks }));
    expect(stderr).toMatch(/AUTH_JWKS_URI/);
    await render('gateway', minimalWith('gateway', {}));
  });
});

describe('gateway AUTH_MODE=local', () => {
  const local = { 'config.AUTH_MODE': 'local', replicaCount: '1', 'autoscaling.enabled': 'false' };

  it('is refused behind an Ingress without TLS, and renders with TLS or without an Ingress', async () => {
    const stderr = await renderFails('gateway', minimalWith('gateway', { ...local, 'ingress.tls.enabled': 'false' }));
    expect(stderr).toContain('gateway: config.AUTH_MODE=local with an Ingress without TLS');
    await render('gateway', minimalWith('gateway', local));
    await render('gateway', minimalWith('gateway', { ...local, 'ingress.tls.enabled': 'false', 'ingress.enabled': 'false' }));
    // Entra tokens are not the chart's business here: the same Ingress without TLS renders in entra mode.
    await render('gateway', minimalWith('gateway', { 'ingress.tls.enabled': 'false' }));
  });
});

describe('the Application Insights connection string', () => {
  const CONNECTION =
    'InstrumentationKey=44444444-4444-4444-4444-444444444444;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/';
  const SERVICES = ['gateway', 'workflow', 'package', 'dronescheduler', 'delivery'];
  const envOf = (objects: K8sObject[], service: string) =>
    objects.find((o) => o.kind === 'Deployment' && o.metadata.name === service)!.spec.template.spec.containers[0].env;
  const configOf = (objects: K8sObject[], service: string) =>
    objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === service)!.data;

  it('reaches every service from a Secret it renders (secretKeyRef), never through the ConfigMap', async () => {
    const objects = await render(
      'dronedelivery',
      minimalWith('dronedelivery', { 'global.applicationInsights.connectionString': CONNECTION }),
    );
    for (const service of SERVICES) {
      expect(configOf(objects, service), service).not.toHaveProperty('APPLICATIONINSIGHTS_CONNECTION_STRING');
      expect(envOf(objects, service), service).toEqual([
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
          valueFrom: { secretKeyRef: { name: `${service}-appinsights`, key: 'connection-string' } },
        },
      ]);
      const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === `${service}-appinsights`);
      expect(secret, service).toMatchObject({ type: 'Opaque', stringData: { 'connection-string': CONNECTION } });
    }
  });

  it('or from an existing Secret, which the chart then does not render', async () => {
    const objects = await render(
      'delivery',
      minimalWith('delivery', {
        'global.applicationInsights.connectionString': CONNECTION,
        'global.applicationInsights.existingSecret': 'telemetry',
        'global.applicationInsights.existingSecretKey': 'appinsights',
      }),
    );
    expect(envOf(objects, 'delivery')).toEqual([
      { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', valueFrom: { secretKeyRef: { name: 'telemetry', key: 'appinsights' } } },
    ]);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('without either, no variable and no Secret', async () => {
    const objects = await render('delivery', minimalWith('delivery', {}));
    expect(envOf(objects, 'delivery')).toBeUndefined();
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });
});

describe('service tokens (SERVICE_AUTH_MODE=entra on Kubernetes)', () => {
  const configOf = (objects: K8sObject[], service: string) =>
    objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === service)!.data;

  it('the umbrella fills in every service-token setting from the identities and audiences it knows', async () => {
    const objects = await render('dronedelivery', minimalWith('dronedelivery', {}));
    const tenant = '11111111-1111-1111-1111-111111111111';
    const id = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;
    expect(configOf(objects, 'delivery')).toMatchObject({
      SERVICE_AUTH_TENANT_ID: tenant,
      SERVICE_AUTH_AUDIENCE: 'api://dronedelivery-delivery',
      SERVICE_AUTH_CALLERS: `gateway=${id(1)},workflow=${id(2)}`,
    });
    expect(configOf(objects, 'workflow')).toMatchObject({
      SERVICE_AUTH_AUDIENCE: 'api://dronedelivery-workflow',
      SERVICE_AUTH_CALLERS: `gateway=${id(1)}`,
      SERVICE_AUTH_DOWNSTREAM_AUDIENCES:
        'package=api://dronedelivery-package,dronescheduler=api://dronedelivery-dronescheduler,delivery=api://dronedelivery-delivery',
    });
    expect(configOf(objects, 'gateway')).toMatchObject({
      SERVICE_AUTH_TENANT_ID: tenant,
      SERVICE_AUTH_DOWNSTREAM_AUDIENCES:
        'delivery=api://dronedelivery-delivery,package=api://dronedelivery-package,dronescheduler=api://dronedelivery-dronescheduler,workflow=api://dronedelivery-workflow',
    });
    expect(configOf(objects, 'gateway')).not.toHaveProperty('SERVICE_AUTH_CALLERS');
    // The same identities name each service's own workload identity.
    const account = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'package')!;
    expect(account.metadata.annotations?.['azure.workload.identity/client-id']).toBe(id(3));
  });

  it.each([
    ['delivery', 'global.identities.workflow', 'config.SERVICE_AUTH_CALLERS (or global.identities.workflow'],
    ['delivery', 'global.audiences.delivery', 'config.SERVICE_AUTH_AUDIENCE (or global.audiences.delivery)'],
    ['gateway', 'global.audiences.workflow', 'config.SERVICE_AUTH_DOWNSTREAM_AUDIENCES (or global.audiences.workflow'],
    ['workflow', 'global.azure.tenantId', 'config.SERVICE_AUTH_TENANT_ID (or global.azure.tenantId)'],
  ])('%s without %s fails the render, naming both ways to give it', async (chart, missing, message) => {
    const stderr = await renderFails(chart, setArgs(minimalSet(chart).filter((set) => !set.startsWith(`${missing}=`))));
    expect(stderr).toContain(`${chart}: ${message}`);
  });

  it('config wins over the global values, and a list that leaves out a caller or a downstream fails', async () => {
    const callers = 'gateway=aaaaaaaa-0000-0000-0000-000000000001\\,workflow=aaaaaaaa-0000-0000-0000-000000000002';
    const objects = await render('delivery', minimalWith('delivery', { 'config.SERVICE_AUTH_CALLERS': callers }));
    expect(configOf(objects, 'delivery').SERVICE_AUTH_CALLERS).toBe(callers.replace('\\,', ','));
    const noWorkflow = await renderFails(
      'delivery',
      minimalWith('delivery', { 'config.SERVICE_AUTH_CALLERS': 'gateway=aaaaaaaa-0000-0000-0000-000000000001' }),
    );
    expect(noWorkflow).toContain('delivery: config.SERVICE_AUTH_CALLERS names no entry for workflow, but networkPolicy.callers admits it');
    const noPackage = await renderFails(
      'workflow',
      minimalWith('workflow', { 'config.SERVICE_AUTH_DOWNSTREAM_AUDIENCES': 'delivery=api://d\\,dronescheduler=api://s' }),
    );
    expect(noPackage).toContain('workflow: config.SERVICE_AUTH_DOWNSTREAM_AUDIENCES names no entry for package, but the service calls it');
  });
});
