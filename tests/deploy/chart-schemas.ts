/**
 * The charts' values.schema.json files, generated here and committed (helm.test.ts fails when a committed file
 * differs; `UPDATE_CHARTS=1 npx vitest run --project deploy` rewrites them). The five service charts share one
 * shape; each one's `config` section is derived from the service's own zod config schema, so a setting the
 * service does not know (a typo, a removed setting) fails `helm install` before any pod starts, and a setting
 * added to a service shows up in its chart schema.
 */
import { secretSettingName } from '@dronedelivery/platform/config';
import { z } from 'zod';
import { RUNTIME_USER_PATTERN } from '../../services/dronescheduler/src/database/runtime-grants';
import { SERVICES, SERVICE_CONFIG, type Service, urlSetting } from './services';

export { SERVICES, type Service };
/** Charts that are not a service (no Deployment, no config schema): the load generator Job. */
export const TOOL_CHARTS = ['loadgenerator'] as const;
export type ToolChart = (typeof TOOL_CHARTS)[number];
export const CHARTS = ['dronedelivery-lib', ...SERVICES, ...TOOL_CHARTS, 'dronedelivery'] as const;
export type Chart = (typeof CHARTS)[number];

type Schema = Record<string, unknown>;

/**
 * Settings the chart sets itself, because other parts of the chart depend on them (see
 * charts/dronedelivery-lib/templates/_configmap.tpl), plus CONSUMER_NAME, which must stay the pod name.
 */
export const CHART_MANAGED_SETTINGS = [
  'HOST',
  'PORT',
  'MANAGEMENT_PORT',
  'SHUTDOWN_GRACE_MS',
  'SHUTDOWN_DRAIN_DELAY_MS',
  'KEYVAULT_URI',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'CONSUMER_NAME',
  ...SERVICES.map(urlSetting),
];

interface ZodJsonProperty {
  type?: string;
  enum?: unknown[];
  format?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

/** The service's settings a chart may set under `config`, with the service's own rules. */
export function configSettings(service: Service): { properties: Record<string, Schema>; required: string[] } {
  const { schema, secrets } = SERVICE_CONFIG[service];
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, ZodJsonProperty>;
    required?: string[];
  };
  const excluded = new Set([...CHART_MANAGED_SETTINGS, ...secrets.map(secretSettingName)]);
  const properties: Record<string, Schema> = {};
  for (const key of Object.keys(json.properties).sort()) {
    if (excluded.has(key)) continue;
    properties[key] = chartProperty(key, json.properties[key]);
  }
  const required = (json.required ?? []).filter((key) => !excluded.has(key)).sort();
  return { properties, required };
}

/** One setting as the chart accepts it: the string the service parses, or a YAML number/boolean; "" = unset. */
function chartProperty(key: string, property: ZodJsonProperty): Schema {
  const description = property.default === undefined ? undefined : `default ${JSON.stringify(property.default)}`;
  const bounds: Schema = {};
  if (property.minimum !== undefined) bounds.minimum = property.minimum;
  if (property.exclusiveMinimum !== undefined) bounds.exclusiveMinimum = property.exclusiveMinimum;
  if (property.maximum !== undefined && property.maximum < Number.MAX_SAFE_INTEGER) bounds.maximum = property.maximum;
  let result: Schema;
  if (property.enum) {
    const values = property.enum as string[];
    result = values.every((value) => value === 'true' || value === 'false')
      ? { enum: ['', 'true', 'false', true, false] }
      : { type: 'string', enum: ['', ...values] };
  } else if (property.type === 'integer') {
    result = { type: ['string', 'integer'], pattern: '^$|^-?[0-9]+$', ...bounds };
  } else if (property.type === 'number') {
    result = { type: ['string', 'number'], pattern: '^$|^-?[0-9]+(\\.[0-9]+)?$', ...bounds };
  } else if (property.format === 'uri') {
    const scheme = key === 'REDIS_URL' ? 'rediss?' : key === 'COSMOS_ENDPOINT' ? 'https' : 'https?';
    result = { type: 'string', pattern: `^$|^${scheme}://` };
  } else {
    result = { type: 'string' };
  }
  return description ? { description, ...result } : result;
}

// ---- building blocks ----

const string = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const boolean = (): Schema => ({ type: 'boolean' });
const integer = (minimum?: number, maximum?: number): Schema => ({
  type: 'integer',
  ...(minimum === undefined ? {} : { minimum }),
  ...(maximum === undefined ? {} : { maximum }),
});
const strictObject = (properties: Record<string, Schema>, required?: string[]): Schema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required?.length ? { required } : {}),
});
const freeObject = (description?: string): Schema => ({ type: 'object', ...(description ? { description } : {}) });
const array = (items: Schema = {}): Schema => ({ type: 'array', items });

/** Pod metadata and scheduling settings every workload chart takes. */
const podPlacementSettings = (): Record<string, Schema> => ({
  priorityClassName: string(),
  podLabels: { type: 'object', additionalProperties: { type: 'string' } },
  podAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
  nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
  tolerations: array(freeObject('a toleration')),
  affinity: freeObject('a pod affinity'),
});

/** The image and pull secrets every workload chart takes. */
const imageSettings = (): Record<string, Schema> => ({
  image: strictObject(
    {
      registry: string(),
      repository: string(),
      tag: string(),
      digest: string({ pattern: '^$|^sha256:[0-9a-f]{64}$' }),
      pullPolicy: string({ enum: ['Always', 'IfNotPresent', 'Never'] }),
    },
    ['repository', 'pullPolicy'],
  ),
  imagePullSecrets: array(strictObject({ name: string({ minLength: 1 }) }, ['name'])),
});
const GUID = '^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const quantity = (): Schema => ({ type: ['string', 'number'], pattern: '^[0-9]+(\\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$' });
const serviceName = (): Schema => ({ type: 'string', enum: [...SERVICES] });
const selector = (): Schema => freeObject('a Kubernetes label selector');

function globalSchema(): Schema {
  return {
    type: 'object',
    description: 'Values shared by every drone delivery chart (set once in the umbrella chart)',
    properties: {
      image: strictObject({ registry: string(), tag: string() }),
      azure: strictObject({
        tenantId: string({ pattern: GUID }),
        keyVaultUri: string({ pattern: '^$|^https://[A-Za-z0-9-]+\\.vault\\.' }),
        workloadIdentityNamespace: string(),
      }),
      applicationInsights: strictObject({
        connectionString: string(),
        existingSecret: string({ pattern: '^$|^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' }),
        existingSecretKey: string({ pattern: '^[-._a-zA-Z0-9]+$' }),
      }),
      identities: { type: 'object', propertyNames: { pattern: '^[a-z][a-z0-9-]*$' }, additionalProperties: string({ pattern: GUID }) },
      audiences: { type: 'object', propertyNames: { pattern: '^[a-z][a-z0-9-]*$' }, additionalProperties: string({ pattern: '^\\S+$' }) },
      metrics: metricsSchema(),
    },
  };
}

/** Scraping of /metrics (charts/dronedelivery-lib/templates/_metrics.tpl), per chart and in global. */
function metricsSchema(): Schema {
  return strictObject({
    podMonitor: strictObject({
      enabled: boolean(),
      apiVersion: string({ enum: ['', 'azmonitoring.coreos.com/v1', 'monitoring.coreos.com/v1'] }),
      interval: string({ pattern: '^$|^[0-9]+(ms|s|m|h)$' }),
      labels: { type: 'object', additionalProperties: { type: 'string' } },
    }),
    scrapeAnnotations: boolean(),
    scraper: strictObject({ namespaceSelector: selector(), podSelector: selector() }),
  });
}

function probe(): Schema {
  return strictObject({ periodSeconds: integer(1), timeoutSeconds: integer(1), failureThreshold: integer(1) }, [
    'periodSeconds',
    'timeoutSeconds',
    'failureThreshold',
  ]);
}

function spread(): Schema {
  return strictObject({ maxSkew: integer(1), whenUnsatisfiable: string({ enum: ['ScheduleAnyway', 'DoNotSchedule'] }) }, [
    'maxSkew',
    'whenUnsatisfiable',
  ]);
}

function serviceChartSchema(service: Service): Schema {
  const config = configSettings(service);
  const networkPolicy: Record<string, Schema> = {
    enabled: boolean(),
    callers: array(serviceName()),
    extraIngressFrom: array(freeObject('a NetworkPolicy peer')),
    managementFrom: array(freeObject('a NetworkPolicy peer')),
    dns: strictObject({ namespaceSelector: selector(), podSelector: selector() }, ['namespaceSelector', 'podSelector']),
    externalEgress: array(
      strictObject({ to: array(freeObject('a NetworkPolicy peer')), ports: array(freeObject('a NetworkPolicy port')) }, ['to', 'ports']),
    ),
  };
  if (service === 'gateway') {
    networkPolicy.ingressController = strictObject({ enabled: boolean(), namespaceSelector: selector(), podSelector: selector() }, [
      'enabled',
      'namespaceSelector',
      'podSelector',
    ]);
  }
  const configSchema: Schema = { type: 'object', additionalProperties: false, properties: config.properties };
  if (service === 'gateway') {
    configSchema.if = { properties: { AUTH_MODE: { const: 'entra' } }, required: ['AUTH_MODE'] };
    configSchema.then = {
      properties: {
        ...Object.fromEntries(['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_ALLOWED_CLIENT_IDS'].map((key) => [key, { minLength: 1 }])),
        AUTH_JWKS_URI: { pattern: '^https://' },
      },
      required: ['AUTH_ISSUER', 'AUTH_AUDIENCE', 'AUTH_JWKS_URI', 'AUTH_ALLOWED_CLIENT_IDS'],
    };
  }
  const properties: Record<string, Schema> = {
    enabled: { type: 'boolean', description: 'Read by the umbrella chart (dependency condition)' },
    global: globalSchema(),
    'dronedelivery-lib': freeObject('values Helm keeps for the library chart dependency (none are read)'),
    ...imageSettings(),
    replicaCount: integer(1),
    containerPort: integer(1, 65535),
    managementPort: integer(1, 65535),
    service: strictObject({ port: integer(1, 65535) }, ['port']),
    rollingUpdate: strictObject({ maxSurge: integer(0), maxUnavailable: integer(0) }, ['maxSurge', 'maxUnavailable']),
    resources: strictObject(
      {
        requests: strictObject({ cpu: quantity(), memory: quantity() }, ['cpu', 'memory']),
        limits: strictObject({ cpu: quantity(), memory: quantity() }, ['cpu', 'memory']),
      },
      ['requests', 'limits'],
    ),
    tmpSizeLimit: quantity(),
    probes: strictObject({ startup: probe(), readiness: probe(), liveness: probe() }, ['startup', 'readiness', 'liveness']),
    shutdown: strictObject({ preStopSleepSeconds: integer(1), drainDelayMs: integer(0), graceMs: integer(1), marginSeconds: integer(0) }, [
      'preStopSleepSeconds',
      'drainDelayMs',
      'graceMs',
      'marginSeconds',
    ]),
    ...podPlacementSettings(),
    topologySpread: strictObject({ zone: spread(), hostname: spread() }, ['zone', 'hostname']),
    identity: strictObject(
      { mode: string({ enum: ['workload', 'pod'] }), clientId: string({ pattern: GUID }), podIdentityBinding: string() },
      ['mode'],
    ),
    keyVault: strictObject({ enabled: boolean(), uri: string({ pattern: '^$|^https://[A-Za-z0-9-]+\\.vault\\.' }) }, ['enabled']),
    secretProviderClass: strictObject(
      {
        enabled: boolean(),
        objects: array(
          strictObject({ objectName: string({ pattern: '^[0-9a-zA-Z-]+$' }), env: string({ pattern: '^$|^[A-Z][A-Z0-9_]*$' }) }, [
            'objectName',
          ]),
        ),
      },
      ['enabled', 'objects'],
    ),
    config: configSchema,
    downstreams: array(serviceName()),
    downstreamPort: integer(1, 65535),
    networkPolicy: strictObject(networkPolicy, ['enabled', 'callers', 'extraIngressFrom', 'managementFrom', 'dns', 'externalEgress']),
    metrics: metricsSchema(),
    autoscaling: strictObject(
      {
        enabled: boolean(),
        minReplicas: integer(1),
        maxReplicas: integer(1),
        targetCPUUtilizationPercentage: integer(1, 100),
        targetMemoryUtilizationPercentage: integer(0, 100),
        scaleDownStabilizationSeconds: integer(0, 3600),
      },
      ['enabled', 'minReplicas', 'maxReplicas', 'targetCPUUtilizationPercentage'],
    ),
    pdb: strictObject({ enabled: boolean(), maxUnavailable: integer(1) }, ['enabled', 'maxUnavailable']),
  };
  if (service === 'gateway') {
    properties.ingress = strictObject(
      {
        enabled: boolean(),
        className: string({
          minLength: 1,
          description: 'webapprouting.kubernetes.azure.com (AKS application routing add-on) or the class of another ingress-nginx',
        }),
        host: string({ pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' }),
        path: string({ pattern: '^/' }),
        tls: strictObject({ enabled: boolean(), secretName: string() }, ['enabled']),
        rateLimit: strictObject({ rps: integer(1), burst: integer(1) }, ['rps', 'burst']),
        bodySize: string({ pattern: '^[0-9]+[kKmMgG]?$' }),
        timeouts: strictObject({ connectSeconds: integer(1), sendSeconds: integer(1), readSeconds: integer(1) }, [
          'connectSeconds',
          'sendSeconds',
          'readSeconds',
        ]),
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
      ['enabled', 'className', 'path', 'tls', 'rateLimit', 'bodySize', 'timeouts'],
    );
    const dnsName = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
    properties.gatewayApi = strictObject(
      {
        enabled: boolean(),
        // Gateway API ParentReference.
        parentRefs: array(
          strictObject(
            {
              name: string({ minLength: 1 }),
              namespace: string({ minLength: 1 }),
              sectionName: string({ minLength: 1 }),
              group: string(),
              kind: string({ minLength: 1 }),
              port: integer(1, 65535),
            },
            ['name'],
          ),
        ),
        hostnames: array(string({ pattern: `^(\\*\\.)?${dnsName}$` })),
      },
      ['enabled', 'parentRefs', 'hostnames'],
    );
  }
  if (service === 'dronescheduler') {
    const resources = () =>
      strictObject(
        {
          requests: strictObject({ cpu: quantity(), memory: quantity() }, ['cpu', 'memory']),
          limits: strictObject({ cpu: quantity(), memory: quantity() }, ['cpu', 'memory']),
        },
        ['requests', 'limits'],
      );
    // The hook Jobs (templates/migration.yaml, seed.yaml); the runtime user's name follows the migrate command's rule.
    properties.migration = strictObject(
      {
        enabled: boolean(),
        identity: strictObject({ clientId: string({ pattern: GUID }), podIdentityBinding: string() }),
        runtimeUser: strictObject({ name: string({ pattern: `^$|${RUNTIME_USER_PATTERN.source}` }), objectId: string({ pattern: GUID }) }),
        backoffLimit: integer(0, 10),
        activeDeadlineSeconds: integer(30),
        resources: resources(),
      },
      ['enabled', 'identity', 'runtimeUser', 'backoffLimit', 'activeDeadlineSeconds', 'resources'],
    );
    properties.seed = strictObject(
      {
        enabled: boolean(),
        drones: integer(0, 1_000_000),
        backoffLimit: integer(0, 10),
        activeDeadlineSeconds: integer(30),
        resources: resources(),
      },
      ['enabled', 'drones', 'backoffLimit', 'activeDeadlineSeconds', 'resources'],
    );
  }
  if (service === 'workflow') {
    properties.keda = strictObject(
      {
        enabled: boolean(),
        minReplicaCount: integer(1),
        maxReplicaCount: integer(1),
        pollingInterval: integer(1),
        cooldownPeriod: integer(0),
        pendingEntriesCount: integer(1),
        authentication: strictObject(
          {
            mode: string({ enum: ['keyVault', 'secret', 'none'] }),
            keyVaultSecretName: string({ pattern: '^[0-9a-zA-Z-]+$' }),
            identityId: string({ pattern: GUID }),
            secretName: string(),
            secretKey: string({ minLength: 1 }),
          },
          ['mode'],
        ),
      },
      ['enabled', 'minReplicaCount', 'maxReplicaCount', 'pendingEntriesCount', 'authentication'],
    );
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `${service} chart values`,
    type: 'object',
    additionalProperties: false,
    properties,
    required: [
      'image',
      'resources',
      'probes',
      'shutdown',
      'identity',
      'config',
      'networkPolicy',
      'autoscaling',
      'pdb',
      ...(service === 'dronescheduler' ? ['migration', 'seed'] : []),
    ],
  };
}

function umbrellaSchema(): Schema {
  const service = (name: Service): Schema => ({
    type: 'object',
    description: `values of charts/${name} (validated by that chart's schema)`,
    properties: { enabled: boolean() },
  });
  const resourceMap = (): Schema => ({ type: 'object', additionalProperties: quantity() });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'dronedelivery umbrella chart values',
    type: 'object',
    additionalProperties: false,
    properties: {
      global: globalSchema(),
      'dronedelivery-lib': freeObject('the library chart (no values)'),
      ...Object.fromEntries(SERVICES.map((name) => [name, service(name)])),
      loadgenerator: {
        type: 'object',
        description: 'values of charts/loadgenerator (validated by that chart\u2019s schema)',
        properties: { enabled: boolean() },
      },
      prometheusRule: strictObject({ enabled: boolean(), labels: { type: 'object', additionalProperties: { type: 'string' } } }, [
        'enabled',
      ]),
      resourceQuota: strictObject({ enabled: boolean(), hard: resourceMap() }, ['enabled', 'hard']),
      limitRange: strictObject({ enabled: boolean(), default: resourceMap(), defaultRequest: resourceMap(), max: resourceMap() }, [
        'enabled',
        'default',
        'defaultRequest',
        'max',
      ]),
      networkPolicy: strictObject(
        {
          defaultDeny: boolean(),
          allowDns: boolean(),
          dns: strictObject({ namespaceSelector: selector(), podSelector: selector() }, ['namespaceSelector', 'podSelector']),
        },
        ['defaultDeny', 'allowDns', 'dns'],
      ),
    },
  };
}

function librarySchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'dronedelivery-lib values (a library chart reads its parent chart values)',
    type: 'object',
    additionalProperties: false,
    properties: { global: freeObject('globals of a parent chart') },
  };
}

/** charts/loadgenerator: the generator's flags as values (tools/loadgen/README.md), the Job, identity, network policy. */
function loadgeneratorSchema(): Schema {
  const duration = (): Schema => ({ type: ['string', 'integer'], pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)?$' });
  const fraction = (): Schema => ({ type: ['string', 'number'], pattern: '^$|^(0(\\.[0-9]+)?|1(\\.0+)?)$', minimum: 0, maximum: 1 });
  const dnsLabel = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'loadgenerator chart values',
    type: 'object',
    additionalProperties: false,
    properties: {
      enabled: { type: 'boolean', description: 'Read by the umbrella chart (dependency condition)' },
      global: globalSchema(),
      'dronedelivery-lib': freeObject('values Helm keeps for the library chart dependency (none are read)'),
      ...imageSettings(),
      target: string({ pattern: '^$|^https?://' }),
      gateway: strictObject({ serviceName: string({ pattern: dnsLabel }), port: integer(1, 65535) }, ['serviceName', 'port']),
      rate: { type: ['number', 'string'], pattern: '^[0-9]+(\\.[0-9]+)?$', exclusiveMinimum: 0 },
      duration: duration(),
      ramp: duration(),
      users: integer(0),
      think: string({ pattern: '^$|^[0-9]+(\\.[0-9]+)?(ms|s)?(-[0-9]+(\\.[0-9]+)?(ms|s)?)?$' }),
      poll: { ...duration(), pattern: '^$|^[0-9]+(\\.[0-9]+)?(ms|s|m|h)?$' },
      fleet: integer(0),
      windowStart: string({ pattern: '^$|^[0-9]{4}-[0-9]{2}-[0-9]{2}T' }),
      mix: {
        type: 'object',
        description: 'scenario → weight (the generator\u2019s scenarios)',
        additionalProperties: false,
        minProperties: 1,
        properties: Object.fromEntries(
          ['create-and-track', 'cancel', 'reschedule', 'confirm', 'browse'].map((name) => [name, { type: 'number', minimum: 0 }]),
        ),
      },
      thresholds: strictObject({ maxP99Ms: integer(0), maxErrorRate: fraction(), minE2eRate: fraction() }, [
        'maxP99Ms',
        'maxErrorRate',
        'minE2eRate',
      ]),
      auth: strictObject(
        {
          mode: string({ enum: ['entra', 'none'] }),
          entraScope: string({ minLength: 1 }),
          ownerPrefix: string({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' }),
          owners: integer(1),
        },
        ['mode', 'entraScope', 'ownerPrefix', 'owners'],
      ),
      extraArgs: array(string()),
      report: strictObject(
        {
          mountPath: string({ pattern: '^/' }),
          existingClaim: string(),
          subPath: string({ pattern: '^$|^[^/].*' }),
          sizeLimit: quantity(),
        },
        ['mountPath', 'existingClaim', 'sizeLimit'],
      ),
      job: strictObject({ backoffLimit: integer(0, 10), activeDeadlineSeconds: integer(30), ttlSecondsAfterFinished: integer(0) }, [
        'backoffLimit',
        'activeDeadlineSeconds',
        'ttlSecondsAfterFinished',
      ]),
      waitForGateway: strictObject(
        { enabled: boolean(), path: string({ pattern: '^/' }), timeoutSeconds: integer(1), intervalSeconds: integer(1) },
        ['enabled', 'path', 'timeoutSeconds', 'intervalSeconds'],
      ),
      resources: strictObject(
        {
          requests: strictObject({ cpu: quantity(), memory: quantity() }, ['cpu', 'memory']),
          limits: strictObject({ cpu: quantity(), memory: quantity() }, ['cpu', 'memory']),
        },
        ['requests', 'limits'],
      ),
      tmpSizeLimit: quantity(),
      ...podPlacementSettings(),
      identity: strictObject({ clientId: string({ pattern: GUID }) }, ['clientId']),
      networkPolicy: strictObject(
        {
          enabled: boolean(),
          admitToGateway: boolean(),
          ingressController: strictObject(
            { enabled: boolean(), namespaceSelector: selector(), podSelector: selector(), ports: array(integer(1, 65535)) },
            ['enabled', 'namespaceSelector', 'podSelector', 'ports'],
          ),
          dns: strictObject({ namespaceSelector: selector(), podSelector: selector() }, ['namespaceSelector', 'podSelector']),
          entraEgress: array(
            strictObject({ to: array(freeObject('a NetworkPolicy peer')), ports: array(freeObject('a NetworkPolicy port')) }, [
              'to',
              'ports',
            ]),
          ),
          extraEgress: array(freeObject('a NetworkPolicy egress rule')),
        },
        ['enabled', 'admitToGateway', 'ingressController', 'dns', 'entraEgress', 'extraEgress'],
      ),
    },
    required: [
      'image',
      'target',
      'gateway',
      'rate',
      'duration',
      'ramp',
      'windowStart',
      'fleet',
      'mix',
      'thresholds',
      'auth',
      'report',
      'job',
      'waitForGateway',
      'resources',
      'identity',
      'networkPolicy',
    ],
  };
}

export function chartSchema(chart: Chart): Schema {
  if (chart === 'dronedelivery') return umbrellaSchema();
  if (chart === 'loadgenerator') return loadgeneratorSchema();
  if (chart === 'dronedelivery-lib') return librarySchema();
  return serviceChartSchema(chart);
}

export function chartSchemaText(chart: Chart): string {
  return `${JSON.stringify(chartSchema(chart), null, 2)}\n`;
}
