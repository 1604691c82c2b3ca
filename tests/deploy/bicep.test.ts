/**
 * What can be verified about infra/bicep without the Bicep compiler and without Azure (both unreachable here):
 * every file parses with the real Bicep grammar, module paths and module parameters line up, secrets stay out of
 * parameters and outputs, API versions are pinned, the parameter files fit main.bicep, and the templates keep the
 * contracts the services, the charts and docs/deploy-aks.md rely on. `az bicep build` and `what-if` run in the
 * user's pipeline (docs/deploy-aks.md, "What was verified where").
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import {
  apiVersionFindings,
  BICEP_DIR,
  bicepConfigExtensions,
  type BicepFile,
  BicepParser,
  extensionFindings,
  type Finding,
  formatFindings,
  getPath,
  literal,
  looksSecret,
  moduleParamFindings,
  modulePathFindings,
  objectProperties,
  outputFindings,
  parameterFileFindings,
  passedParams,
  ROOT,
  secureParamFindings,
  separatorFindings,
  stringValue,
  syntaxFindings,
} from './bicep-lint';
import { callGraph } from './call-graph';
import { SERVICE_CONFIG, SERVICES } from './services';

const MAIN = join(BICEP_DIR, 'main.bicep');
const MODULES = join(BICEP_DIR, 'modules');
const PARAMETER_FILES = ['main.dev.parameters.json', 'main.prod.parameters.json'].map((f) => join(BICEP_DIR, f));
const BICEP_CONFIG = join(BICEP_DIR, 'bicepconfig.json');
const REGISTRATIONS = join(MODULES, 'app-registrations.bicep');
const DEPLOY_DOC = join(ROOT, 'docs/deploy-aks.md');
/** The Azure CLI's well-known application id: a pre-authorised client of the API, not a role. */
const AZURE_CLI_APP_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const NAMESPACE = 'dronedelivery';
const bicepKey = (service: string) => service.replace(/-([a-z0-9])/g, (_, next: string) => next.toUpperCase());

let parser: BicepParser;
const parsed = new Map<string, BicepFile>();

function load(path: string): BicepFile {
  let file = parsed.get(path);
  if (!file) {
    file = parser.parse(path);
    parsed.set(path, file);
  }
  return file;
}

function bicepFiles(dir: string = BICEP_DIR): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return bicepFiles(path);
    return entry.endsWith('.bicep') ? [path] : [];
  });
}

function allFindings(check: (file: BicepFile) => Finding[]): string {
  return formatFindings(bicepFiles().flatMap((path) => check(load(path))));
}

function moduleCall(name: string) {
  const module = load(MAIN).modules.find((m) => m.name === name);
  if (!module) throw new Error(`main.bicep has no module ${name}`);
  return module;
}

function passed(moduleName: string, param: string) {
  const value = passedParams(moduleCall(moduleName))?.find((p) => p.key === param)?.value;
  if (!value) throw new Error(`module ${moduleName} does not pass ${param}`);
  return value;
}

function resourceOfType(file: BicepFile, typePrefix: string) {
  const resource = file.resources.find((r) => r.type.startsWith(`${typePrefix}@`));
  if (!resource) throw new Error(`${relative(ROOT, file.path)} declares no ${typePrefix}`);
  return resource;
}

function literalAt(file: string, typePrefix: string, path: string): unknown {
  const node = getPath(resourceOfType(load(join(MODULES, file)), typePrefix).body, path);
  if (!node) throw new Error(`${file}: ${typePrefix} has no ${path}`);
  return literal(node);
}

beforeAll(async () => {
  parser = await BicepParser.create();
});

describe('the Bicep grammar', () => {
  it('is tree-sitter-bicep from its published wasm, running in web-tree-sitter', async () => {
    // web-tree-sitter 0.27 runs grammars of language ABI 13-15; this one must load and really parse Bicep.
    expect(await BicepParser.abiVersion()).toBeGreaterThanOrEqual(13);
    const file = parser.parse(
      join(BICEP_DIR, 'probe.bicep'),
      "@secure()\nparam p string\nresource r 'A.B/c@2024-01-01' = {\n  name: 'x'\n}\noutput o string = r.id\n",
    );
    expect(syntaxFindings(file)).toEqual([]);
    expect(file.root.namedChildren.map((n) => n.type)).toEqual([
      'decorators',
      'parameter_declaration',
      'resource_declaration',
      'output_declaration',
    ]);
    expect(file.params[0]).toMatchObject({ name: 'p', type: 'string', hasDefault: false, decorators: [{ name: 'secure' }] });
  });

  it('predates the extension keyword: the one-line statement is recognised from its ERROR node, nothing else is', () => {
    for (const [statement, name] of [
      ['extension microsoftGraphV1', 'microsoftGraphV1'],
      [
        "extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0' as graph",
        'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0',
      ],
    ]) {
      const file = parser.parse(join(BICEP_DIR, 'probe.bicep'), `${statement}\nparam p string\n`);
      expect(file.root.namedChildren.map((n) => n.type)).toEqual(['ERROR', 'parameter_declaration']);
      expect(file.extensions.map((e) => e.name)).toEqual([name]);
      expect(syntaxFindings(file)).toEqual([]);
      expect(file.params.map((p) => p.name)).toEqual(['p']);
    }
    // Not recognised, so still syntax findings: the retired forms, a configured extension, a bare keyword, and two
    // statements in a row (error recovery makes them one ERROR node: one extension per file is what the lint knows).
    for (const source of [
      'provider microsoftGraph\n',
      "extension kubernetes with {\n  namespace: 'x'\n}\n",
      'extension\n',
      'extension a\nextension b\n',
    ]) {
      const other = parser.parse(join(BICEP_DIR, 'probe.bicep'), source);
      expect(other.extensions, source).toEqual([]);
      expect(syntaxFindings(other).length, source).toBeGreaterThan(0);
    }
  });
});

describe('infra/bicep', () => {
  it('has main.bicep, one module per concern and a parameter file per environment', () => {
    expect(
      bicepFiles()
        .map((p) => relative(BICEP_DIR, p))
        .sort(),
    ).toEqual(
      [
        'main.bicep',
        'modules/acr.bicep',
        'modules/app-registrations.bicep',
        'modules/aks.bicep',
        'modules/cosmos.bicep',
        'modules/identities.bicep',
        'modules/keyvault-secrets.bicep',
        'modules/keyvault.bicep',
        'modules/monitoring.bicep',
        'modules/network.bicep',
        'modules/private-endpoints.bicep',
        'modules/prometheus.bicep',
        'modules/redis.bicep',
        'modules/sql.bicep',
        'modules/workload-federation.bicep',
      ].sort(),
    );
    // main.bicep declares no resource of its own: every resource lives in a module.
    expect(load(MAIN).resources).toEqual([]);
    // Each module is used; redis.bicep twice (the commands cache and the delivery service's cache).
    expect([...new Set(load(MAIN).modules.map((m) => m.source))].sort()).toEqual(
      bicepFiles(MODULES)
        .map((p) => `./${relative(BICEP_DIR, p)}`)
        .sort(),
    );
    expect(load(MAIN).modules.filter((m) => m.source === './modules/redis.bicep')).toHaveLength(2);
    // app-registrations.bicep twice: the scopes first, then the clients pre-authorised for them.
    expect(load(MAIN).modules.filter((m) => m.source === './modules/app-registrations.bicep')).toHaveLength(2);
  });

  it('every file parses with the Bicep grammar: no ERROR or MISSING node', () => {
    expect(allFindings(syntaxFindings)).toBe('');
  });

  it('items on one line are separated by commas (the grammar accepts what Bicep rejects)', () => {
    expect(allFindings(separatorFindings)).toBe('');
  });

  it('every module path exists', () => {
    expect(allFindings(modulePathFindings)).toBe('');
  });

  it('every module call passes each required parameter of its module and no unknown one', () => {
    expect(allFindings((file) => moduleParamFindings(file, load))).toBe('');
    // The check really saw the calls: main calls 16 modules (redis.bicep twice: the commands and the delivery cache;
    // app-registrations.bicep twice: scopes, then pre-authorisations).
    expect(load(MAIN).modules).toHaveLength(16);
  });

  it('every parameter whose name suggests a secret is @secure() (passwordless design: there are none)', () => {
    expect(allFindings(secureParamFindings)).toBe('');
    const secretLooking = bicepFiles().flatMap((p) =>
      load(p)
        .params.filter((param) => looksSecret(param.name))
        .map((param) => param.name),
    );
    expect(secretLooking).toEqual([]);
  });

  it('no output exposes a key, a connection string, a whole properties object or a @secure() parameter', () => {
    expect(allFindings(outputFindings)).toBe('');
  });

  it('every resource, nested and existing ones included, pins a dated API version (Microsoft Graph: @v1.0)', () => {
    expect(allFindings(apiVersionFindings)).toBe('');
    const resources = bicepFiles().flatMap((p) => load(p).resources);
    expect(resources.length).toBeGreaterThan(30);
    expect(resources.filter((r) => r.type.startsWith('Microsoft.Graph/')).map((r) => r.type)).toEqual([
      'Microsoft.Graph/applications@v1.0',
      'Microsoft.Graph/servicePrincipals@v1.0',
      'Microsoft.Graph/applications@v1.0',
      'Microsoft.Graph/servicePrincipals@v1.0',
    ]);
  });

  it('Microsoft Graph resources come from the released v1.0 extension that bicepconfig.json declares', () => {
    const config = bicepConfigExtensions(readFileSync(BICEP_CONFIG, 'utf8'));
    expect(config).toEqual({ microsoftGraphV1: 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0' });
    expect(allFindings((file) => extensionFindings(file, config))).toBe('');
    // Only the module that declares Graph resources declares the extension.
    expect(bicepFiles().filter((p) => load(p).extensions.length > 0)).toEqual([REGISTRATIONS]);
  });

  it.each(PARAMETER_FILES.map((p) => [relative(ROOT, p), p]))(
    '%s declares only known parameters, supplies the required ones, with valid values',
    (_name, path) => {
      expect(formatFindings(parameterFileFindings(path, load(MAIN)))).toBe('');
    },
  );

  it('dev and prod differ where they should: zones, redundancy, persistence, SLA tier', () => {
    const [dev, prod] = PARAMETER_FILES.map(
      (p) => (JSON.parse(readFileSync(p, 'utf8')) as { parameters: Record<string, { value: unknown }> }).parameters,
    );
    expect(dev.environmentName.value).toBe('dev');
    expect(dev.redisPersistence.value).toBe(false);
    expect(prod.environmentName.value).toBe('prod');
    expect(prod.availabilityZones.value).toEqual(['1', '2', '3']);
    expect(prod).toMatchObject({
      aksSkuTier: { value: 'Standard' },
      acrSku: { value: 'Premium' },
      cosmosZoneRedundant: { value: true },
      redisPersistence: { value: true },
      sqlZoneRedundant: { value: true },
      keyVaultSoftDeleteRetentionDays: { value: 90 },
    });
  });
});

describe('contracts with the services, the charts and the walkthrough', () => {
  it("the packages container is exactly the package service's definition (partition key /id, indexing policy)", () => {
    const code = containerDefinitionFromCode();
    const partitionKey = literalAt(
      'cosmos.bicep',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
      'properties.resource.partitionKey',
    );
    expect(partitionKey).toEqual({ ...code.partitionKey, kind: 'Hash', version: 2 });
    expect(
      literalAt('cosmos.bicep', 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers', 'properties.resource.indexingPolicy'),
    ).toEqual(code.indexingPolicy);
    // Names default to the service's COSMOS_DATABASE / COSMOS_CONTAINER defaults.
    const main = load(MAIN);
    expect(literal(main.params.find((p) => p.name === 'cosmosDatabaseName')!.defaultValue!)).toBe('dronedelivery');
    expect(literal(main.params.find((p) => p.name === 'cosmosContainerName')!.defaultValue!)).toBe('packages');
  });

  it("one identity per service, federated with system:serviceaccount:dronedelivery:<service> on the cluster's OIDC issuer", () => {
    const main = load(MAIN);
    expect(literal(main.variables.get('services')!)).toEqual(SERVICES);
    expect(literal(main.params.find((p) => p.name === 'kubernetesNamespace')!.defaultValue!)).toBe(NAMESPACE);
    for (const path of PARAMETER_FILES) {
      expect(JSON.parse(readFileSync(path, 'utf8')).parameters.kubernetesNamespace.value).toBe(NAMESPACE);
    }
    // The five services, the migration Job and KEDA's operator (kube-system/keda-operator, the AKS add-on's account).
    expect(main.variables.get('workloadNames')!.text).toMatch(/^concat\(services, \[\s*'dronescheduler-migrate'\s*'keda'\s*\]\)$/);
    expect(main.variables.get('workloads')!.text).toContain("namespace: workload == 'keda' ? 'kube-system' : kubernetesNamespace");
    expect(main.variables.get('workloads')!.text).toContain("serviceAccount: workload == 'keda' ? 'keda-operator' : workload");
    expect(passed('identities', 'services').text).toBe('workloadNames');
    expect(passed('workloadFederation', 'workloads').text).toBe('workloads');
    expect(passed('workloadFederation', 'oidcIssuerUrl').text).toBe('aks.outputs.oidcIssuerUrl');
    const credential = resourceOfType(
      load(join(MODULES, 'workload-federation.bicep')),
      'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    );
    expect(getPath(credential.body, 'properties.subject')?.text).toBe(
      "'system:serviceaccount:${workload.namespace}:${workload.serviceAccount}'",
    );
    expect(getPath(credential.body, 'properties.issuer')?.text).toBe('oidcIssuerUrl');
    expect(literal(getPath(credential.body, 'properties.audiences')!)).toEqual(['api://AzureADTokenExchange']);
  });

  it('least privilege: each identity gets only the data-plane access its service uses', () => {
    // Principal ids are read off main.bicep's principalIds.<service> references.
    const principals = (node: ReturnType<typeof passed>) => [...node.text.matchAll(/principalIds\.(\w+)/g)].map((m) => m[1]).sort();
    // Cosmos DB Built-in Data Contributor: the package service only, on its database.
    expect(principals(passed('cosmos', 'dataContributorPrincipalIds'))).toEqual(['package']);
    const roleScope = getPath(
      resourceOfType(load(join(MODULES, 'cosmos.bicep')), 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments').body,
      'properties.scope',
    );
    expect(roleScope?.text).toBe("'${account.id}/dbs/${databaseName}'");
    // Redis (Entra data access): gateway and workflow on the commands cache, delivery on its own; the commands cache's
    // key goes to KEDA's operator only, and the delivery cache has no key at all.
    expect(principals(passed('redis', 'dataContributors'))).toEqual(['gateway', 'workflow']);
    expect(principals(passed('deliveryRedis', 'dataContributors'))).toEqual(['delivery']);
    expect(principals(passed('secrets', 'redisPasswordReaderPrincipalIds'))).toEqual(['keda']);
    expect(passed('redis', 'accessKeysEnabled').text).toBe('true');
    expect(passed('deliveryRedis', 'accessKeysEnabled').text).toBe('false');
    // Every service reads the Application Insights connection string (telemetry), and nothing else through Key Vault.
    // Keyed by the service name in camelCase (a Bicep identifier): parcel-lockers → parcelLockers.
    expect(principals(passed('secrets', 'appInsightsSecretReaderPrincipalIds'))).toEqual(SERVICES.map(bicepKey).sort());
    expect(
      literal(
        load(join(MODULES, 'keyvault-secrets.bicep'))
          .params.find((p) => p.name === 'accessScope')!
          .decorators.find((d) => d.name === 'allowed')!.args[0],
      ),
    ).toEqual(['secret', 'vault']);
    for (const path of PARAMETER_FILES) {
      expect(JSON.parse(readFileSync(path, 'utf8')).parameters.keyVaultSecretAccessScope.value).toBe('secret');
    }
    // The dronescheduler identity reads only the telemetry secret: its data access is the contained SQL user (docs/deploy-aks.md).
    expect(load(MAIN).source.match(/principalIds\.dronescheduler/g)).toHaveLength(1);
    expect(
      literalAt('redis.bicep', 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments', 'properties.accessPolicyName'),
    ).toBe('default');
    // Kubelet identity → AcrPull on the registry; nothing else may pull.
    expect(passed('acr', 'kubeletPrincipalId').text).toBe('aks.outputs.kubeletObjectId');
    // Only narrow built-in roles anywhere: no Owner, Contributor, User Access Administrator, Key Vault Administrator/Officer.
    const guids = bicepFiles().flatMap((p) =>
      [...readFileSync(p, 'utf8').matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/g)].map((m) => m[1]),
    );
    // The one GUID that is not a role: the Azure CLI's application id, as the default pre-authorised client of the API.
    expect(literal(load(MAIN).params.find((p) => p.name === 'apiPreAuthorizedClientIds')!.defaultValue!)).toEqual([AZURE_CLI_APP_ID]);
    expect(guids.filter((id) => id === AZURE_CLI_APP_ID)).toHaveLength(1);
    const roleIds = new Set(guids.filter((id) => id !== AZURE_CLI_APP_ID));
    expect([...roleIds].sort()).toEqual(
      [
        '00000000-0000-0000-0000-000000000002', // Cosmos DB Built-in Data Contributor (data plane)
        '4633458b-17de-408a-b874-0445c86b69e6', // Key Vault Secrets User
        '4abbcc35-e782-43d8-92c5-2d3f1bd2253f', // Azure Kubernetes Service Cluster User Role
        '4d97b98b-1d4f-4787-a291-c67834d212e7', // Network Contributor (control plane identity: egress IP and the VNet)
        '7f951dda-4ed3-4680-a7ca-43fe172d538d', // AcrPull
        'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b', // Azure Kubernetes Service RBAC Cluster Admin (the named admin)
        'b0d8363b-8ddd-447d-831f-62ca05bff136', // Monitoring Data Reader (Grafana on the Azure Monitor workspace)
        '22926164-76b3-42b3-bc55-97df8dab3e41', // Grafana Admin (the named admin imports the dashboards)
      ].sort(),
    );
  });

  it('security posture: RBAC vault with purge protection, keyless Cosmos DB, TLS-only Redis with Entra auth, Entra-only SQL', () => {
    for (const setting of ['enableRbacAuthorization', 'enablePurgeProtection', 'enableSoftDelete']) {
      expect(literalAt('keyvault.bicep', 'Microsoft.KeyVault/vaults', `properties.${setting}`), setting).toBe(true);
    }
    expect(literalAt('cosmos.bicep', 'Microsoft.DocumentDB/databaseAccounts', 'properties.disableLocalAuth')).toBe(true);
    expect(literalAt('cosmos.bicep', 'Microsoft.DocumentDB/databaseAccounts', 'properties.disableKeyBasedMetadataWriteAccess')).toBe(true);
    // Azure Managed Redis (Redis 7.4): TLS only, non-clustered (the scripts combine hash slots), a store of record.
    expect(literalAt('redis.bicep', 'Microsoft.Cache/redisEnterprise', 'properties.minimumTlsVersion')).toBe('1.2');
    expect(literalAt('redis.bicep', 'Microsoft.Cache/redisEnterprise', 'properties.highAvailability')).toBe('Enabled');
    expect(literalAt('redis.bicep', 'Microsoft.Cache/redisEnterprise/databases', 'properties.clientProtocol')).toBe('Encrypted');
    expect(literalAt('redis.bicep', 'Microsoft.Cache/redisEnterprise/databases', 'properties.clusteringPolicy')).toBe('NoCluster');
    expect(literalAt('redis.bicep', 'Microsoft.Cache/redisEnterprise/databases', 'properties.evictionPolicy')).toBe('NoEviction');
    expect(
      getPath(
        resourceOfType(load(join(MODULES, 'redis.bicep')), 'Microsoft.Cache/redisEnterprise/databases').body,
        'properties.persistence',
      )?.text,
    ).toMatch(/^persistence\s*\?\s*\{\s*aofEnabled: true\s*aofFrequency: '1s'/);
    // Every store is private: public network access off, reached through its private endpoint.
    for (const [file, type] of [
      ['redis.bicep', 'Microsoft.Cache/redisEnterprise'],
      ['sql.bicep', 'Microsoft.Sql/servers'],
      ['cosmos.bicep', 'Microsoft.DocumentDB/databaseAccounts'],
      ['keyvault.bicep', 'Microsoft.KeyVault/vaults'],
    ]) {
      expect(literalAt(file, type, 'properties.publicNetworkAccess'), file).toBe('Disabled');
    }
    expect(literalAt('sql.bicep', 'Microsoft.Sql/servers', 'properties.administrators.azureADOnlyAuthentication')).toBe(true);
    expect(literalAt('sql.bicep', 'Microsoft.Sql/servers', 'properties.administrators.administratorType')).toBe('ActiveDirectory');
    expect(bicepFiles().filter((p) => /administratorLoginPassword/.test(readFileSync(p, 'utf8')))).toEqual([]);
    expect(literalAt('acr.bicep', 'Microsoft.ContainerRegistry/registries', 'properties.adminUserEnabled')).toBe(false);
  });

  it('AKS: OIDC issuer, workload identity, Key Vault CSI with rotation, CNI overlay + network policy, autoscaled zonal pools, app routing', () => {
    const cluster = 'Microsoft.ContainerService/managedClusters';
    expect(literalAt('aks.bicep', cluster, 'properties.oidcIssuerProfile.enabled')).toBe(true);
    expect(literalAt('aks.bicep', cluster, 'properties.securityProfile.workloadIdentity.enabled')).toBe(true);
    expect(literalAt('aks.bicep', cluster, 'properties.addonProfiles.azureKeyvaultSecretsProvider')).toEqual({
      enabled: true,
      config: { enableSecretRotation: 'true', rotationPollInterval: '2m' },
    });
    expect(literalAt('aks.bicep', cluster, 'properties.networkProfile.networkPlugin')).toBe('azure');
    expect(literalAt('aks.bicep', cluster, 'properties.networkProfile.networkPluginMode')).toBe('overlay');
    expect(literalAt('aks.bicep', cluster, 'properties.networkProfile.networkPolicy')).toBe('cilium');
    expect(literalAt('aks.bicep', cluster, 'properties.ingressProfile.webAppRouting.enabled')).toBe(true);
    // The prod values scale the workflow with KEDA: the add-on is on.
    expect(literalAt('aks.bicep', cluster, 'properties.workloadAutoScalerProfile.keda.enabled')).toBe(true);
    // A pipeline deploying as a service principal gets a role assignment of the right principal type.
    const main = load(MAIN);
    expect(literal(main.params.find((p) => p.name === 'clusterAdminPrincipalType')!.defaultValue!)).toBe('');
    expect(main.variables.get('deployerType')!.text).toBe("empty(deployer().userPrincipalName) ? 'ServicePrincipal' : 'User'");
    expect(passed('aks', 'clusterAdminPrincipalType').text).toBe('clusterAdminType');
    expect(literalAt('aks.bicep', cluster, 'properties.disableLocalAccounts')).toBe(true);
    expect(literalAt('aks.bicep', cluster, 'properties.aadProfile.enableAzureRBAC')).toBe(true);
    const pools = getPath(resourceOfType(load(join(MODULES, 'aks.bicep')), cluster).body, 'properties.agentPoolProfiles')!.namedChildren;
    expect(pools.map((pool) => literal(getPath(pool, 'mode')!))).toEqual(['System', 'User']);
    for (const pool of pools) {
      expect(literal(getPath(pool, 'enableAutoScaling')!)).toBe(true);
      expect(getPath(pool, 'availabilityZones')?.text).toBe('empty(availabilityZones) ? null : availabilityZones');
      expect(getPath(pool, 'vnetSubnetID')?.text).toBe('nodeSubnetId');
    }
  });

  it('every backend the services call has an app registration with an application ID URI and a service principal', () => {
    const graph = callGraph();
    const callees = SERVICES.filter((service) => Object.values(graph).some((downstreams) => downstreams.includes(service)));
    expect(callees.length).toBeGreaterThan(0);
    const main = load(MAIN);
    expect(literal(main.variables.get('backends')!)).toEqual(callees);
    // Both calls create the same registrations (same names, same backends, same roles); only the second pre-authorises.
    for (const call of ['entraApps', 'entraAppsPreAuthorized']) {
      expect(passed(call, 'backends').text).toBe('backends');
      expect(passed(call, 'uniqueNamePrefix').text).toBe("'${baseName}-${shortToken}'");
    }
    expect(literal(passed('entraApps', 'preAuthorizedClientIds'))).toEqual([]);
    expect(passed('entraAppsPreAuthorized', 'preAuthorizedClientIds').text).toBe('apiPreAuthorizedClientIds');
    expect(moduleCall('entraAppsPreAuthorized').body!.text).toMatch(/dependsOn: \[\s*entraApps\s*\]/);

    const file = load(REGISTRATIONS);
    const resource = (name: string) => {
      const found = file.resources.find((r) => r.name === name);
      if (!found) throw new Error(`app-registrations.bicep has no resource ${name}`);
      return found;
    };
    // One application and one service principal per backend, in a loop over exactly the backends passed in.
    const apps = resource('backendApps');
    const principals = resource('backendServicePrincipals');
    expect(apps.type).toBe('Microsoft.Graph/applications@v1.0');
    expect(principals.type).toBe('Microsoft.Graph/servicePrincipals@v1.0');
    for (const loop of [apps, principals]) expect(loop.node.lastNamedChild!.text).toMatch(/^\[\s*for \(backend, i\) in backends:/);
    expect(getPath(principals.body, 'appId')?.text).toBe('backendApps[i].appId');
    expect(getPath(apps.body, 'uniqueName')?.text).toBe('backendUniqueNames[i]');
    expect(literal(getPath(apps.body, 'signInAudience')!)).toBe('AzureADMyOrg');
    // The URI each application declares is the one serviceAudiences publishes for it.
    // (An item like `uris[i]` would parse as two items in this grammar, hence the string template in both places.)
    const uris = getPath(apps.body, 'identifierUris')!.namedChildren.filter((n) => n.type !== 'comment');
    expect(uris.map((n) => n.text)).toEqual(["'api://${tenantId}/${backendUniqueNames[i]}'"]);
    // v1.0 tokens carry the application ID URI as aud, which is what SERVICE_AUTH_AUDIENCE holds.
    expect(literal(getPath(apps.body, 'api.requestedAccessTokenVersion')!)).toBe(1);
    // api://<tenant id>/<string>: a format Entra accepts for a single-tenant app without a verified domain.
    expect(file.variables.get('tenantId')!.text).toBe('tenant().tenantId');
    expect(file.variables.get('backendUniqueNames')!.text).toBe("[for backend in backends: '${uniqueNamePrefix}-${backend}']");
    expect(file.variables.get('backendIdentifierUris')!.text).toBe("[for name in backendUniqueNames: 'api://${tenantId}/${name}']");
    expect(file.variables.get('apiIdentifierUri')!.text).toBe("'api://${tenantId}/${apiUniqueName}'");
    const sample = 'api://11111111-2222-3333-4444-555555555555/dronedel-dev-abc123-workflow';
    expect(sample).toMatch(/^api:\/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\/[A-Za-z0-9-]+$/);
  });

  it("the registrations' outputs feed global.audiences and the gateway's AUTH_AUDIENCE", () => {
    const file = load(REGISTRATIONS);
    const output = (f: BicepFile, name: string) => {
      const found = f.outputs.find((o) => o.name === name);
      if (!found) throw new Error(`${relative(ROOT, f.path)} has no output ${name}`);
      return found.value.text;
    };
    // The audiences are the very URIs the applications declare, keyed by service name.
    expect(output(file, 'serviceAudiences')).toBe('toObject(range(0, length(backends)), i => backends[i], i => backendIdentifierUris[i])');
    expect(output(file, 'apiClientId')).toBe('api.appId');
    expect(output(file, 'apiIdentifierUri')).toBe('apiIdentifierUri');
    expect(output(file, 'apiScope')).toBe("'${apiIdentifierUri}/${scopeValue}'");
    expect(output(file, 'apiServicePrincipalId')).toBe('apiServicePrincipal.id');
    // main.bicep publishes them from the second (complete) call.
    const main = load(MAIN);
    for (const name of [
      'serviceAudiences',
      'apiClientId',
      'apiIdentifierUri',
      'apiScope',
      'apiServicePrincipalId',
      'apiRoleIds',
      'backendApplications',
    ]) {
      expect(output(main, name), name).toBe(`entraAppsPreAuthorized.outputs.${name}`);
      expect(output(file, name), name).toBeTruthy();
    }
    // The walkthrough's values file takes them from there, not from hand-made registrations.
    const doc = readFileSync(DEPLOY_DOC, 'utf8');
    expect(doc).toContain('audiences: .serviceAudiences.value');
    expect(doc).toContain('AUTH_AUDIENCE: .apiClientId.value');
    expect(doc).toContain(`AUTH_ALLOWED_CLIENT_IDS: "${AZURE_CLI_APP_ID}"`);
    for (const manual of ['az ad app create', 'az ad sp create', '--identifier-uris', 'uuidgen)', '$SERVICE_AUDIENCES', '$API_APP_ID']) {
      expect(doc, manual).not.toContain(manual);
    }
  });

  it('the API app has the scope and the app roles the gateway checks, and pre-authorises the Azure CLI', () => {
    const gateway = SERVICE_CONFIG.gateway.schema.shape;
    const opsRole = gateway.AUTH_OPS_ROLE.parse(undefined);
    const loadTestRole = gateway.AUTH_LOADTEST_ROLE.parse(undefined);
    expect([opsRole, loadTestRole]).toEqual(['Ops', 'LoadTest']);
    for (const call of ['entraApps', 'entraAppsPreAuthorized']) {
      expect(literal(passed(call, 'opsRole'))).toBe(opsRole);
      expect(literal(passed(call, 'loadTestRole'))).toBe(loadTestRole);
    }
    const file = load(REGISTRATIONS);
    const api = file.resources.find((r) => r.name === 'api')!;
    expect(api.type).toBe('Microsoft.Graph/applications@v1.0');
    expect(literal(getPath(api.body, 'signInAudience')!)).toBe('AzureADMyOrg');
    expect(getPath(api.body, 'identifierUris')?.text).toMatch(/^\[\s*apiIdentifierUri\s*\]$/);
    const roles = getPath(api.body, 'appRoles')!.namedChildren.filter((n) => n.type === 'object');
    expect(roles.map((role) => getPath(role, 'value')?.text)).toEqual(['opsRole', 'loadTestRole']);
    expect(roles.map((role) => getPath(role, 'id')?.text)).toEqual(['roleIds.ops', 'roleIds.loadTest']);
    expect(roles.map((role) => literal(getPath(role, 'isEnabled')!))).toEqual([true, true]);
    // Operators are people (or tools); the load-test role is for applications only (the generator's identity).
    expect(roles.map((role) => literal(getPath(role, 'allowedMemberTypes')!))).toEqual([['User', 'Application'], ['Application']]);
    // Stable, distinct ids: derived from the tenant, the registration and the role value.
    expect(file.variables.get('roleIds')!.text).toMatch(
      /ops: guid\(tenantId, apiUniqueName, 'role', opsRole\)\s+loadTest: guid\(tenantId, apiUniqueName, 'role', loadTestRole\)/,
    );
    // v2.0 tokens (aud = the client id, the gateway's AUTH_AUDIENCE), one user scope, pre-authorised clients for it.
    expect(getPath(api.body, 'api')?.text).toBe('apiSettings');
    const settings = file.variables.get('apiSettings')!;
    expect(literal(getPath(settings, 'requestedAccessTokenVersion')!)).toBe(2);
    const scopes = getPath(settings, 'oauth2PermissionScopes')!.namedChildren.filter((n) => n.type === 'object');
    expect(scopes).toHaveLength(1);
    expect(getPath(scopes[0], 'value')?.text).toBe('scopeValue');
    expect(literal(file.variables.get('scopeValue')!)).toBe('access_as_user');
    expect(getPath(scopes[0], 'id')?.text).toBe('scopeId');
    expect(literal(getPath(scopes[0], 'type')!)).toBe('User');
    expect(getPath(settings, 'preAuthorizedApplications')?.text).toMatch(
      /^\[\s*for clientId in preAuthorizedClientIds: \{\s*appId: clientId\s*delegatedPermissionIds: \[\s*scopeId\s*\]\s*\}\s*\]$/,
    );
    expect(file.resources.find((r) => r.name === 'apiServicePrincipal')?.body?.text).toMatch(/^\{\s*appId: api\.appId\s*\}$/);
    // The walkthrough asks for that scope with the pre-authorised Azure CLI.
    const doc = readFileSync(DEPLOY_DOC, 'utf8');
    expect(doc).toContain("API_SCOPE=$(jq -r '.apiScope.value' outputs.json)");
    expect(doc).toContain('az account get-access-token --scope "$API_SCOPE"');
  });

  it('outputs give the values file everything it needs, and the walkthrough reads only outputs that exist', () => {
    const outputs = new Set(load(MAIN).outputs.map((o) => o.name));
    const needed = [
      'tenantId',
      'acrLoginServer',
      'aksName',
      'aksOidcIssuerUrl',
      'keyVaultUri',
      'appInsightsConnectionStringSecretName',
      'redisPasswordSecretName',
      'cosmosEndpoint',
      'cosmosDatabaseName',
      'cosmosContainerName',
      'redisHostName',
      'redisUrl',
      'sqlServerFqdn',
      'sqlDatabaseName',
      'workloadIdentities',
      'authIssuer',
      'authJwksUri',
      'apiClientId',
      'apiScope',
      'apiServicePrincipalId',
      'apiRoleIds',
      'serviceAudiences',
      'backendApplications',
    ];
    expect(needed.filter((name) => !outputs.has(name))).toEqual([]);
    const doc = readFileSync(DEPLOY_DOC, 'utf8');
    const read = [...new Set([...doc.matchAll(/\.([A-Za-z][A-Za-z0-9]*)\.value\b/g)].map((m) => m[1]))];
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((name) => !outputs.has(name))).toEqual([]);
    for (const command of [
      'az bicep build --file infra/bicep/main.bicep',
      'az deployment group what-if',
      'az deployment group create',
      '--parameters infra/bicep/main.dev.parameters.json',
      'az acr build',
      '--build-arg SERVICE=',
      'FROM EXTERNAL PROVIDER',
      'az aks get-credentials',
      'helm upgrade --install',
      'charts/dronedelivery',
      'helm rollback',
      'POST',
      '/api/deliveryrequests',
    ]) {
      expect(doc, command).toContain(command);
    }
  });
});

describe('each check bites', () => {
  const snippet = (source: string, name = 'negative.bicep') => parser.parse(join(BICEP_DIR, name), source);

  it('a syntax error is reported with its line and column', () => {
    const findings = syntaxFindings(
      snippet("param location string\nresource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n  location: location\n"),
    );
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ file: 'infra/bicep/negative.bicep', rule: 'syntax' });
    const unterminated = syntaxFindings(snippet("param a string\nparam b = 'x'\noutput o string = a\n"));
    expect(formatFindings(unterminated)).toMatch(/^infra\/bicep\/negative\.bicep:2:\d+ \[syntax\]/);
  });

  it('array items or object properties on one line without a comma are reported', () => {
    const file = snippet('var a = [\n  x.y [0]\n]\nvar b = { k: 1 j: 2 }\nvar c = [1, 2]\nvar d = {\n  k: 1\n  j: 2\n}\n');
    expect(syntaxFindings(file)).toEqual([]);
    expect(separatorFindings(file).map((f) => f.line)).toEqual([2, 4]);
  });

  it('a secret-looking parameter without @secure() is reported; metadata names are not', () => {
    const file = snippet(
      [
        'param adminPassword string',
        '@secure()',
        'param sqlPassword string',
        'param storageConnectionString string',
        'param apiKey string',
        'param clientSecret string',
        'param keyVaultName string',
        'param redisPasswordSecretName string',
        'param partitionKey string',
        'param keyVaultSecretAccessScope string',
      ].join('\n'),
    );
    expect(secureParamFindings(file).map((f) => f.message.split(' ')[1])).toEqual([
      'adminPassword',
      'storageConnectionString',
      'apiKey',
      'clientSecret',
    ]);
  });

  it('outputs that expose keys, connection strings, whole properties or secure parameters are reported', () => {
    const file = snippet(
      [
        '@secure()',
        'param adminPassword string',
        "resource st 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {",
        "  name: 'x'",
        '}',
        "resource ai 'Microsoft.Insights/components@2020-02-02' existing = {",
        "  name: 'y'",
        '}',
        'var keyHolder = st.listKeys().keys[0].value',
        'output a string = st.listKeys().keys[0].value',
        "output b string = 'AccountKey=${st.listKeys().keys[0].value}'",
        'output c string = ai.properties.ConnectionString',
        'output d object = ai.properties',
        'output e string = adminPassword',
        'output f string = keyHolder',
        'output g string = st.properties.primaryEndpoints.blob',
        'output h string = st.id',
      ].join('\n'),
    );
    const byOutput = new Map<string, string[]>();
    for (const f of outputFindings(file)) {
      const name = f.message.split(' ')[1];
      byOutput.set(name, [...(byOutput.get(name) ?? []), f.message]);
    }
    expect([...byOutput.keys()].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(byOutput.get('a')!.join()).toContain('calls listKeys()');
    expect(byOutput.get('c')!.join()).toContain('reads .ConnectionString');
    expect(byOutput.get('d')!.join()).toContain("whole '.properties'");
    expect(byOutput.get('e')!.join()).toContain('@secure() parameter adminPassword');
    expect(byOutput.get('f')!.join()).toContain('through variable keyHolder');
  });

  it('a resource without a dated API version is reported', () => {
    const file = snippet(
      [
        "resource a 'Microsoft.Storage/storageAccounts' = {",
        "  name: 'a'",
        '}',
        "resource b 'Microsoft.KeyVault/vaults@latest' = {",
        "  name: 'b'",
        "  resource s 'secrets' = {",
        "    name: 's'",
        '  }',
        '}',
        "resource c 'Microsoft.Cache/redis@2024-11-01' = {",
        "  name: 'c'",
        '}',
        "resource d 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {",
        "  name: 'd'",
        '}',
      ].join('\n'),
    );
    expect(apiVersionFindings(file).map((f) => `${f.line}:${f.message.split(' ')[1]}`)).toEqual(['1:a', '4:b', '6:s']);
  });

  it('a Microsoft Graph resource must pin @v1.0 (not beta, not unversioned), and only Graph may use @v1.0', () => {
    const file = snippet(
      [
        "resource a 'Microsoft.Graph/applications@v1.0' = {",
        "  uniqueName: 'a'",
        '}',
        "resource b 'Microsoft.Graph/applications@beta' = {",
        "  uniqueName: 'b'",
        '}',
        "resource c 'Microsoft.Graph/servicePrincipals' = {",
        "  appId: 'c'",
        '}',
        "resource d 'Microsoft.Storage/storageAccounts@v1.0' = {",
        "  name: 'd'",
        '}',
        "resource e 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {",
        "  name: 'a/e'",
        '}',
      ].join('\n'),
    );
    expect(apiVersionFindings(file).map((f) => `${f.line}:${f.message.split(' ')[1]}`)).toEqual(['4:b', '7:c', '10:d']);
  });

  it('a Graph resource without the extension, an unknown alias or a preview/beta Graph extension is reported', () => {
    const config = {
      microsoftGraphV1: 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0',
      graphPreview: 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:0.2.0-preview',
      graphBeta: 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/beta:1.0.0',
    };
    const app = "resource app 'Microsoft.Graph/applications@v1.0' = {\n  uniqueName: 'x'\n  displayName: 'x'\n}\n";
    const messages = (source: string) => extensionFindings(snippet(source), config).map((f) => `${f.line}:${f.message}`);
    expect(messages(`extension microsoftGraphV1\n${app}`)).toEqual([]);
    expect(messages(app)).toEqual(['1:resource app is a Microsoft Graph resource, but the file declares no Microsoft Graph extension']);
    expect(messages(`extension graph\n${app}`)).toEqual([
      '1:extension graph is not an alias in infra/bicep/bicepconfig.json',
      '2:resource app is a Microsoft Graph resource, but the file declares no Microsoft Graph extension',
    ]);
    expect(messages(`extension graphPreview\n${app}`)[0]).toMatch(/^1:extension graphPreview is '.*0\.2\.0-preview', not the released/);
    expect(messages(`extension graphBeta\n${app}`)[0]).toMatch(/^1:extension graphBeta is '.*beta:1\.0\.0', not the released/);
    expect(messages("extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0'\n" + app)[0]).toMatch(
      /is not an alias in infra\/bicep\/bicepconfig\.json/,
    );
    // No Graph resource, no Graph extension needed.
    expect(messages('param p string\n')).toEqual([]);
  });

  it('a module path that does not exist is reported, as is a registry module', () => {
    const file = snippet(
      [
        "module missing './modules/does-not-exist.bicep' = {",
        "  name: 'missing'",
        '}',
        "module registry 'br/public:avm/res/cache/redis:0.9.0' = {",
        "  name: 'registry'",
        '}',
        "module fine './modules/network.bicep' = {",
        "  name: 'fine'",
        '}',
      ].join('\n'),
    );
    expect(modulePathFindings(file).map((f) => `${f.line}:${f.message.split(':')[0]}`)).toEqual(['1:module missing', '4:module registry']);
  });

  it('a module call that misses a required parameter or passes an unknown one is reported', () => {
    const file = snippet(
      [
        "module kv './modules/keyvault.bicep' = if (true) {",
        "  name: 'kv'",
        '  params: {',
        "    name: 'kv1'",
        "    location: 'westeurope'",
        '    tags: {}',
        '    bogus: 1',
        '  }',
        '}',
        "module ids './modules/identities.bicep' = [for i in range(0, 2): {",
        "  name: 'ids${i}'",
        '}]',
      ].join('\n'),
    );
    expect(moduleParamFindings(file, load).map((f) => f.message)).toEqual([
      'module kv: required parameter softDeleteRetentionInDays of ./modules/keyvault.bicep is not passed',
      'module kv: ./modules/keyvault.bicep has no parameter bogus',
      'module ids: required parameter services of ./modules/identities.bicep is not passed',
      'module ids: required parameter names of ./modules/identities.bicep is not passed',
      'module ids: required parameter location of ./modules/identities.bicep is not passed',
      'module ids: required parameter tags of ./modules/identities.bicep is not passed',
    ]);
  });

  it('a parameter file with an unknown, missing, mistyped or disallowed value is reported', () => {
    const text = JSON.stringify(
      {
        $schema: 'https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#',
        contentVersion: '1.0.0.0',
        parameters: {
          appName: { value: 'x' },
          aksSkuTier: { value: 'Gold' },
          logRetentionDays: { value: '30' },
          redisPersistance: { value: true },
        },
      },
      null,
      2,
    );
    const messages = parameterFileFindings(join(BICEP_DIR, 'negative.parameters.json'), load(MAIN), text).map((f) => f.message);
    expect(messages).toEqual([
      'parameter appName: length 1 < @minLength(3)',
      'parameter aksSkuTier: "Gold" is not one of @allowed ["Free","Standard","Premium"]',
      'parameter logRetentionDays: expected int, got "30"',
      'parameter redisPersistance is not declared in infra/bicep/main.bicep',
      'required parameter environmentName (no default) is not supplied',
    ]);
  });

  it('the literal reader and string reader refuse what they cannot evaluate', () => {
    const file = snippet("var a = 'plain'\nvar b = 'x${a}'\nvar c = { k: [1, -2, true, null] }\nvar d = concat('a', 'b')\n");
    expect(stringValue(file.variables.get('a'))).toBe('plain');
    expect(stringValue(file.variables.get('b'))).toBeUndefined();
    expect(literal(file.variables.get('c')!)).toEqual({ k: [1, -2, true, null] });
    expect(() => literal(file.variables.get('d')!)).toThrow(/not a literal/);
    expect(objectProperties(file.variables.get('c')!).map((p) => p.key)).toEqual(['k']);
  });
});

/** PACKAGES_CONTAINER_DEFINITION from the package service's source, read with the TypeScript parser. */
function containerDefinitionFromCode(): { partitionKey: Record<string, unknown>; indexingPolicy: unknown } {
  const path = join(ROOT, 'services/package/src/packages/packages.container.ts');
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  let found: unknown;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.name.getText(source) === 'PACKAGES_CONTAINER_DEFINITION' && node.initializer) {
      let value: ts.Expression = node.initializer;
      while (ts.isSatisfiesExpression(value) || ts.isAsExpression(value) || ts.isParenthesizedExpression(value)) value = value.expression;
      found = tsLiteral(value, source);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (!found) throw new Error(`PACKAGES_CONTAINER_DEFINITION not found in ${path}`);
  return found as { partitionKey: Record<string, unknown>; indexingPolicy: unknown };
}

function tsLiteral(node: ts.Expression, source: ts.SourceFile): unknown {
  if (ts.isObjectLiteralExpression(node)) {
    return Object.fromEntries(
      node.properties.map((property) => {
        if (!ts.isPropertyAssignment(property)) throw new Error(`unsupported property ${property.getText(source)}`);
        const key =
          ts.isStringLiteral(property.name) || ts.isIdentifier(property.name) ? property.name.text : property.name.getText(source);
        return [key, tsLiteral(property.initializer, source)];
      }),
    );
  }
  if (ts.isArrayLiteralExpression(node)) return node.elements.map((element) => tsLiteral(element, source));
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  throw new Error(`not a literal: ${node.getText(source)}`);
}
