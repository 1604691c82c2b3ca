/**
 * Offline checks of rendered Kubernetes objects, standing in for what an API server would refuse (no cluster
 * is available here; charts/README.md lists what a cluster adds):
 *  (a) the kubernetes-models validator of the object's apiVersion/kind (types, required fields, formats);
 *  (b) a strict walk that rejects unknown (e.g. misspelled) fields: built-in kinds against the
 *      @kubernetes/client-node models (release-1.36 OpenAPI), KEDA kinds against the TypeScript declarations of
 *      @kubernetes-models/keda, the Gateway API HTTPRoute against those of @kubernetes-models/gateway-api, PodMonitor
 *      and PrometheusRule against those of @kubernetes-models/prometheus-operator, and
 *      SecretProviderClass (no model exists) against a minimal shape written here;
 *  (c) no null anywhere and no empty string (a template that rendered nothing);
 *  (d) only API versions that are GA and served on Kubernetes 1.30+ (or the CRD versions KEDA, the Gateway API
 *      standard channel, the Secrets Store CSI driver, the Prometheus Operator and AKS managed Prometheus serve).
 */
import * as k8s from '@kubernetes/client-node';
import { HTTPRoute } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PodMonitor, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, LimitRange, ResourceQuota, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { join } from 'node:path';
import ts from 'typescript';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from './helm';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

type ModelClass = new (data: never) => { validate(): void };

interface KindRule {
  /** (a) the kubernetes-models class, if one exists. */
  model?: ModelClass;
  /** (b) how unknown fields are found. */
  strict: 'client-node' | 'declared' | 'secret-provider-class';
  /** (b) for 'declared': the package's declaration file whose `I<Kind>` interfaces describe the CRD. */
  declarations?: string;
  /** (d) where the apiVersion comes from, and since when it is GA (built-in) or served (CRD). */
  source: string;
  /** (a)(b) validated as this apiVersion: a CRD that copies another project's schema under its own group. */
  sameSchemaAs?: string;
}

/** A built-in kind: its kubernetes-models class, unknown fields checked against the client-node models. */
const builtIn = (model: unknown, source: string): KindRule => ({ model: model as ModelClass, strict: 'client-node', source });
/** A custom resource: unknown fields checked against the TypeScript declarations of its kubernetes-models package. */
const declared = (model: unknown, declarations: string, source: string): KindRule => ({
  model: model as ModelClass,
  strict: 'declared',
  declarations,
  source,
});
const KEDA_DECLARATIONS = '@kubernetes-models/keda/keda.sh/v1alpha1/index.d.ts';
const keda = (model: unknown): KindRule => declared(model, KEDA_DECLARATIONS, 'KEDA 2.x CRD (the only served version)');
const PROMETHEUS_OPERATOR_DECLARATIONS = '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/index.d.ts';

/** (d) Every apiVersion/kind the charts may render. Built-in versions here are GA and served on 1.30 and later. */
export const KINDS: Record<string, KindRule> = {
  'v1/ConfigMap': builtIn(ConfigMap, 'Kubernetes core/v1'),
  'v1/Secret': builtIn(Secret, 'Kubernetes core/v1 (the Application Insights connection string)'),
  'v1/Service': builtIn(Service, 'Kubernetes core/v1'),
  'v1/ServiceAccount': builtIn(ServiceAccount, 'Kubernetes core/v1'),
  'v1/ResourceQuota': builtIn(ResourceQuota, 'Kubernetes core/v1'),
  'v1/LimitRange': builtIn(LimitRange, 'Kubernetes core/v1'),
  'apps/v1/Deployment': builtIn(Deployment, 'Kubernetes apps/v1, GA in 1.9'),
  'batch/v1/Job': builtIn(Job, 'Kubernetes batch/v1, GA in 1.2 (the dronescheduler hook Jobs)'),
  'autoscaling/v2/HorizontalPodAutoscaler': builtIn(HorizontalPodAutoscaler, 'Kubernetes autoscaling/v2, GA in 1.23'),
  'policy/v1/PodDisruptionBudget': builtIn(PodDisruptionBudget, 'Kubernetes policy/v1, GA in 1.21'),
  'networking.k8s.io/v1/NetworkPolicy': builtIn(NetworkPolicy, 'Kubernetes networking.k8s.io/v1, GA in 1.7'),
  'networking.k8s.io/v1/Ingress': builtIn(Ingress, 'Kubernetes networking.k8s.io/v1, GA in 1.19'),
  'keda.sh/v1alpha1/ScaledObject': keda(ScaledObject),
  'keda.sh/v1alpha1/TriggerAuthentication': keda(TriggerAuthentication),
  'gateway.networking.k8s.io/v1/HTTPRoute': declared(
    HTTPRoute,
    '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/index.d.ts',
    'Gateway API standard channel CRD, v1 since Gateway API 1.0',
  ),
  'monitoring.coreos.com/v1/PodMonitor': declared(PodMonitor, PROMETHEUS_OPERATOR_DECLARATIONS, 'Prometheus Operator CRD, v1'),
  'monitoring.coreos.com/v1/PrometheusRule': declared(PrometheusRule, PROMETHEUS_OPERATOR_DECLARATIONS, 'Prometheus Operator CRD, v1'),
  'azmonitoring.coreos.com/v1/PodMonitor': {
    ...declared(PodMonitor, PROMETHEUS_OPERATOR_DECLARATIONS, "AKS managed Prometheus CRD: the Prometheus Operator's PodMonitor"),
    sameSchemaAs: 'monitoring.coreos.com/v1',
  },
  'secrets-store.csi.x-k8s.io/v1/SecretProviderClass': { strict: 'secret-provider-class', source: 'Secrets Store CSI driver 1.x CRD' },
};

/** API versions removed from Kubernetes (named in the error, so the fix is obvious). */
const REMOVED_VERSIONS: Record<string, string> = {
  'policy/v1beta1': 'removed in 1.25, use policy/v1',
  'autoscaling/v2beta1': 'removed in 1.25, use autoscaling/v2',
  'autoscaling/v2beta2': 'removed in 1.26, use autoscaling/v2',
  'networking.k8s.io/v1beta1': 'removed in 1.22, use networking.k8s.io/v1',
  'extensions/v1beta1': 'removed in 1.16/1.22',
  'apps/v1beta1': 'removed in 1.16, use apps/v1',
  'apps/v1beta2': 'removed in 1.16, use apps/v1',
  'batch/v1beta1': 'removed in 1.25, use batch/v1',
  'secrets-store.csi.x-k8s.io/v1alpha1': 'deprecated by the driver, use secrets-store.csi.x-k8s.io/v1',
};

/**
 * (c) Paths where an empty string is meaningful to the API and therefore allowed. None of the charts' objects
 * has one today; the RBAC core API group (`apiGroups: [""]`) would be the typical entry.
 */
export const ALLOWED_EMPTY_STRINGS: RegExp[] = [];

/** Fields of type string that also take a number, because they are resource quantities. */
const QUANTITY_FIELDS = new Set([
  'V1ResourceRequirements.limits',
  'V1ResourceRequirements.requests',
  'V1LimitRangeItem.default',
  'V1LimitRangeItem.defaultRequest',
  'V1LimitRangeItem.max',
  'V1LimitRangeItem.min',
  'V1LimitRangeItem.maxLimitRequestRatio',
  'V1ResourceQuotaSpec.hard',
  'V1EmptyDirVolumeSource.sizeLimit',
]);

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors.map((e) => e.message).join('; ')}`);
    const value = document.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

export function kindKey(object: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  return `${object.apiVersion}/${object.kind}`;
}

/** Every problem found in one object; empty when it passes (a) to (d). */
export function validateObject(object: K8sObject): string[] {
  const where = `${object?.kind ?? '?'} ${object?.metadata?.name ?? '?'}`;
  const problems: string[] = [];
  const add = (problem: string) => problems.push(`${where}: ${problem}`);
  if (!object || typeof object !== 'object' || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    return [`${where}: not a Kubernetes object (apiVersion and kind required)`];
  }
  // (c) first: a null or empty string says more about the template than any schema message.
  for (const problem of nullsAndEmptyStrings(object)) add(problem);
  // (d)
  const removed = REMOVED_VERSIONS[object.apiVersion];
  if (removed) {
    add(`apiVersion ${object.apiVersion} is not served on Kubernetes 1.30+ (${removed})`);
    return problems;
  }
  const rule = KINDS[kindKey(object)];
  if (!rule) {
    add(`${kindKey(object)} is not a known GA kind for Kubernetes 1.30+ (allowed: ${Object.keys(KINDS).join(', ')})`);
    return problems;
  }
  if (rule.sameSchemaAs) object = { ...object, apiVersion: rule.sameSchemaAs };
  if (rule.strict === 'client-node') {
    if (/v\d+(alpha|beta)\d+$/.test(object.apiVersion)) add(`apiVersion ${object.apiVersion} is not GA`);
    const rootType = clientNodeRootType(object);
    if (!rootType) add(`@kubernetes/client-node (Kubernetes 1.36 API) has no ${kindKey(object)}: not served any more`);
    else walkClientNode(object, rootType, '', add);
  } else if (rule.strict === 'declared') {
    walkDeclaredType(object, declaredType(rule.declarations!, object.kind), '', add);
  } else {
    for (const problem of secretProviderClassProblems(object)) add(problem);
  }
  // (a)
  if (rule.model) {
    try {
      new rule.model(structuredClone(object) as never).validate();
    } catch (error) {
      add(`kubernetes-models: ${(error as Error).message}`);
    }
  }
  return problems;
}

function nullsAndEmptyStrings(value: unknown, path = ''): string[] {
  if (value === null || value === undefined) return [`${path || '/'}: null (a template rendered nothing here)`];
  if (value === '') return ALLOWED_EMPTY_STRINGS.some((allowed) => allowed.test(path)) ? [] : [`${path}: empty string`];
  if (Array.isArray(value)) return value.flatMap((item, index) => nullsAndEmptyStrings(item, `${path}/${index}`));
  if (typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => nullsAndEmptyStrings(item, `${path}/${key}`));
  return [];
}

// ---- (b) built-in kinds: @kubernetes/client-node attribute type maps ----

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}
type ModelType = { getAttributeTypeMap(): Attribute[] };
const models = k8s as unknown as Record<string, ModelType | undefined>;

function clientNodeRootType(object: K8sObject): string | undefined {
  const version = object.apiVersion.split('/').pop() ?? '';
  const name = `${version.charAt(0).toUpperCase()}${version.slice(1)}${object.kind}`;
  return typeof models[name]?.getAttributeTypeMap === 'function' ? name : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function walkClientNode(value: unknown, type: string, path: string, add: (problem: string) => void, quantity = false): void {
  if (value === null || value === undefined) return; // reported by (c)
  const arrayOf = /^Array<(.+)>$/.exec(type);
  if (arrayOf) {
    if (!Array.isArray(value)) return add(`${path}: expected a list (${type})`);
    value.forEach((item, index) => walkClientNode(item, arrayOf[1], `${path}/${index}`, add, quantity));
    return;
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (mapOf) {
    if (!isPlainObject(value)) return add(`${path}: expected a map (${type})`);
    for (const [key, item] of Object.entries(value)) walkClientNode(item, mapOf[1], `${path}/${key}`, add, quantity);
    return;
  }
  switch (type) {
    case 'any':
      return;
    case 'string':
    case 'Date':
      if (typeof value === 'string' || (quantity && typeof value === 'number')) return;
      return add(`${path}: expected a string, got ${JSON.stringify(value)}`);
    case 'number':
      if (typeof value === 'number') return;
      return add(`${path}: expected a number, got ${JSON.stringify(value)}`);
    case 'boolean':
      if (typeof value === 'boolean') return;
      return add(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
    case 'IntOrString':
      if (typeof value === 'string' || typeof value === 'number') return;
      return add(`${path}: expected an int or string, got ${JSON.stringify(value)}`);
  }
  const model = models[type];
  if (typeof model?.getAttributeTypeMap !== 'function') return add(`${path}: no @kubernetes/client-node model ${type}`);
  if (!isPlainObject(value)) return add(`${path}: expected an object (${type})`);
  const attributes = new Map(model.getAttributeTypeMap().map((attribute) => [attribute.baseName, attribute]));
  for (const [key, item] of Object.entries(value)) {
    const attribute = attributes.get(key);
    if (!attribute) {
      add(`${path}/${key}: unknown field (not in ${type})`);
      continue;
    }
    walkClientNode(item, attribute.type, `${path}/${key}`, add, QUANTITY_FIELDS.has(`${type}.${key}`));
  }
}

// ---- (b) custom resources: the TypeScript declarations of their kubernetes-models package ----

const declaredPrograms = new Map<string, { checker: ts.TypeChecker; types: Map<string, ts.Type> }>();

function declaredType(declarations: string, kind: string): { checker: ts.TypeChecker; type: ts.Type } {
  let program = declaredPrograms.get(declarations);
  if (!program) {
    const entry = join(repoRoot, 'node_modules', declarations);
    const compiled = ts.createProgram([entry], {
      noEmit: true,
      skipLibCheck: true,
      types: [],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    });
    const checker = compiled.getTypeChecker();
    const source = compiled.getSourceFile(entry);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`cannot read ${entry}`);
    const types = new Map<string, ts.Type>();
    for (let symbol of checker.getExportsOfModule(moduleSymbol)) {
      const name = symbol.getName();
      if (!/^I[A-Z]/.test(name)) continue;
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      types.set(name, checker.getDeclaredTypeOfSymbol(symbol));
    }
    program = { checker, types };
    declaredPrograms.set(declarations, program);
  }
  const type = program.types.get(`I${kind}`);
  if (!type) throw new Error(`${declarations} declares no I${kind}`);
  return { checker: program.checker, type };
}

function walkDeclaredType(
  value: unknown,
  { checker, type }: { checker: ts.TypeChecker; type: ts.Type },
  path: string,
  add: (problem: string) => void,
): void {
  if (value === null || value === undefined) return; // reported by (c)
  const flags = type.getFlags();
  if (flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
  if (type.isUnion()) {
    const members = type.types.filter((member) => !(member.getFlags() & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
    const attempts = members.map((member) => {
      const problems: string[] = [];
      walkDeclaredType(value, { checker, type: member }, path, (problem) => problems.push(problem));
      return problems;
    });
    if (attempts.some((problems) => problems.length === 0)) return;
    if (attempts.length === 1) return attempts[0].forEach(add);
    return add(`${path}: ${JSON.stringify(value)} is not ${checker.typeToString(type)}`);
  }
  if (type.isStringLiteral()) {
    if (value !== type.value) add(`${path}: expected ${JSON.stringify(type.value)}, got ${JSON.stringify(value)}`);
    return;
  }
  if (flags & ts.TypeFlags.String) {
    if (typeof value !== 'string') add(`${path}: expected a string, got ${JSON.stringify(value)}`);
    return;
  }
  if (flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) {
    if (typeof value !== 'number') add(`${path}: expected a number, got ${JSON.stringify(value)}`);
    return;
  }
  if (flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) {
    if (typeof value !== 'boolean') add(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
    return;
  }
  if (checker.isArrayType(type)) {
    if (!Array.isArray(value)) return add(`${path}: expected a list`);
    const [element] = checker.getTypeArguments(type as ts.TypeReference);
    value.forEach((item, index) => walkDeclaredType(item, { checker, type: element }, `${path}/${index}`, add));
    return;
  }
  if (!isPlainObject(value)) return add(`${path}: expected an object (${checker.typeToString(type)})`);
  const index = checker.getIndexInfosOfType(type).find((info) => info.keyType.getFlags() & ts.TypeFlags.String);
  for (const [key, item] of Object.entries(value)) {
    const property = checker.getPropertyOfType(type, key);
    if (property) walkDeclaredType(item, { checker, type: checker.getTypeOfSymbol(property) }, `${path}/${key}`, add);
    else if (index) walkDeclaredType(item, { checker, type: index.type }, `${path}/${key}`, add);
    else add(`${path}/${key}: unknown field (not in ${checker.typeToString(type)})`);
  }
}

// ---- (b) SecretProviderClass: no published model; the fields the Azure provider documents ----

function unknownKeys(value: Record<string, unknown>, allowed: string[], path: string): string[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${path}/${key}: unknown field`);
}

export function secretProviderClassProblems(object: K8sObject): string[] {
  const problems = unknownKeys(object, ['apiVersion', 'kind', 'metadata', 'spec'], '');
  if (!isPlainObject(object.metadata) || typeof object.metadata.name !== 'string') problems.push('/metadata/name: required');
  else problems.push(...unknownKeys(object.metadata, ['name', 'namespace', 'labels', 'annotations'], '/metadata'));
  const spec = object.spec;
  if (!isPlainObject(spec)) return [...problems, '/spec: required'];
  problems.push(...unknownKeys(spec, ['provider', 'parameters', 'secretObjects'], '/spec'));
  if (spec.provider !== 'azure') problems.push(`/spec/provider: expected azure, got ${JSON.stringify(spec.provider)}`);
  const parameters = spec.parameters;
  if (!isPlainObject(parameters)) return [...problems, '/spec/parameters: required'];
  const known = [
    'keyvaultName',
    'tenantId',
    'objects',
    'usePodIdentity',
    'useVMManagedIdentity',
    'userAssignedIdentityID',
    'clientID',
    'cloudName',
  ];
  problems.push(...unknownKeys(parameters, known, '/spec/parameters'));
  for (const [key, value] of Object.entries(parameters)) {
    if (typeof value !== 'string') problems.push(`/spec/parameters/${key}: parameters are strings, got ${JSON.stringify(value)}`);
  }
  for (const key of ['keyvaultName', 'tenantId', 'objects']) {
    if (!parameters[key]) problems.push(`/spec/parameters/${key}: required`);
  }
  if (parameters.usePodIdentity !== 'true' && !parameters.clientID)
    problems.push('/spec/parameters/clientID: required for workload identity (usePodIdentity "false")');
  const objectNames = new Set<string>();
  if (typeof parameters.objects === 'string') {
    const parsed = parse(parameters.objects) as { array?: unknown };
    if (!isPlainObject(parsed) || !Array.isArray(parsed.array) || parsed.array.length === 0) {
      problems.push('/spec/parameters/objects: expected "array:" with at least one object');
    } else {
      parsed.array.forEach((entry, index) => {
        const item = typeof entry === 'string' ? (parse(entry) as unknown) : undefined;
        if (!isPlainObject(item)) return problems.push(`/spec/parameters/objects/${index}: expected a YAML string`);
        problems.push(
          ...unknownKeys(
            item,
            ['objectName', 'objectType', 'objectVersion', 'objectAlias', 'objectEncoding', 'objectFormat'],
            `/spec/parameters/objects/${index}`,
          ),
        );
        if (typeof item.objectName !== 'string' || !item.objectName)
          problems.push(`/spec/parameters/objects/${index}/objectName: required`);
        else objectNames.add(item.objectName);
        if (!['secret', 'key', 'cert'].includes(String(item.objectType)))
          problems.push(`/spec/parameters/objects/${index}/objectType: secret, key or cert`);
      });
    }
  }
  if (spec.secretObjects !== undefined) {
    if (!Array.isArray(spec.secretObjects)) return [...problems, '/spec/secretObjects: expected a list'];
    spec.secretObjects.forEach((secret: unknown, index: number) => {
      const path = `/spec/secretObjects/${index}`;
      if (!isPlainObject(secret)) return problems.push(`${path}: expected an object`);
      problems.push(...unknownKeys(secret, ['secretName', 'type', 'data', 'labels', 'annotations'], path));
      if (typeof secret.secretName !== 'string' || !secret.secretName) problems.push(`${path}/secretName: required`);
      if (typeof secret.type !== 'string' || !secret.type) problems.push(`${path}/type: required`);
      if (!Array.isArray(secret.data) || secret.data.length === 0) return problems.push(`${path}/data: required`);
      secret.data.forEach((item: unknown, position: number) => {
        if (!isPlainObject(item)) return problems.push(`${path}/data/${position}: expected an object`);
        problems.push(...unknownKeys(item, ['objectName', 'key'], `${path}/data/${position}`));
        if (!objectNames.has(String(item.objectName)))
          problems.push(`${path}/data/${position}/objectName: ${String(item.objectName)} is not among parameters.objects`);
        if (typeof item.key !== 'string' || !item.key) problems.push(`${path}/data/${position}/key: required`);
      });
    });
  }
  return problems;
}
