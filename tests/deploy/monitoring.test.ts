/**
 * monitoring/: the alert and recording rules checked and unit-tested by Debian's promtool, documented (every alert has
 * its runbook in docs/operations.md), and delivered the same three ways: the files (Prometheus, promtool), the
 * Azure Monitor rule groups of infra/bicep (a generated file, loaded by prometheus.bicep), and the umbrella chart's
 * PrometheusRule; plus the charts' scraping (PodMonitor, annotations) and the Grafana dashboards (generated, every
 * query valid PromQL; tests/system/monitoring.test.ts runs them against live data).
 *
 * UPDATE_MONITORING=1 npx vitest run --project deploy tests/deploy/monitoring.test.ts   regenerates
 * infra/bicep/modules/prometheus-rule-groups.json and monitoring/dashboards/*.json.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BICEP_DIR, BicepParser, getPath, literal } from './bicep-lint';
import { DASHBOARDS_DIR, dashboardText, dashboards, panelQueries } from './dashboards';
import { type Helm, minimalSet, preparedCharts, repoRoot, setArgs } from './helm';
import { type K8sObject, parseManifests, validateObject } from './k8s-validate';
import {
  AZURE_RULE_GROUPS,
  RULE_TESTS_DIR,
  type RuleGroup,
  alertRules,
  azureRuleGroups,
  azureRuleGroupsText,
  promtool,
  ruleFiles,
  ruleGroups,
} from './monitoring';
import { SERVICES } from './services';

const UPDATE = process.env.UPDATE_MONITORING === '1';
const OPERATIONS_DOC = join(repoRoot, 'docs/operations.md');

/** GitHub's anchor of a markdown heading. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');
}

describe('the rule files', () => {
  it('promtool check rules: every file is valid', async () => {
    const result = await promtool(['check', 'rules', ...ruleFiles()]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(alertRules().length).toBeGreaterThanOrEqual(13);
  });

  it('promtool test rules: every unit test passes', async () => {
    const tests = readdirSync(RULE_TESTS_DIR).filter((name) => name.endsWith('.test.yaml'));
    expect(tests.length).toBeGreaterThan(0);
    const result = await promtool(['test', 'rules', ...tests], RULE_TESTS_DIR);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  }, 120_000);

  it('every alert has a test where it fires and one where it stays silent', () => {
    const cases = new Map<string, { fires: boolean; silent: boolean }>();
    for (const file of readdirSync(RULE_TESTS_DIR).filter((name) => name.endsWith('.test.yaml'))) {
      const doc = parse(readFileSync(join(RULE_TESTS_DIR, file), 'utf8')) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      };
      for (const test of doc.tests) {
        for (const { alertname, exp_alerts } of test.alert_rule_test ?? []) {
          const seen = cases.get(alertname) ?? { fires: false, silent: false };
          if ((exp_alerts ?? []).length > 0) seen.fires = true;
          else seen.silent = true;
          cases.set(alertname, seen);
        }
      }
    }
    const untested = alertRules()
      .map((rule) => rule.alert!)
      .filter((name) => !cases.get(name)?.fires || !cases.get(name)?.silent);
    expect(untested).toEqual([]);
  });

  it('every alert says what, why and where to look: summary, description with a likely cause, a runbook section, a severity', () => {
    const doc = readFileSync(OPERATIONS_DOC, 'utf8');
    const anchors = new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((match) => anchor(match[1])));
    const problems: string[] = [];
    for (const rule of alertRules()) {
      const { summary, description, runbook } = rule.annotations ?? {};
      if (!summary) problems.push(`${rule.alert}: no summary`);
      if (!description?.includes('Likely cause')) problems.push(`${rule.alert}: the description names no likely cause`);
      if (runbook !== `docs/operations.md#${rule.alert!.toLowerCase()}`) problems.push(`${rule.alert}: runbook ${runbook}`);
      else if (!anchors.has(rule.alert!.toLowerCase())) problems.push(`${rule.alert}: docs/operations.md has no "${rule.alert}" section`);
      if (!['page', 'ticket'].includes(rule.labels?.severity ?? '')) problems.push(`${rule.alert}: severity ${rule.labels?.severity}`);
    }
    expect(problems).toEqual([]);
  });

  it('each SLO pages on a fast burn and opens a ticket on a slow one, over the SRE workbook windows', () => {
    const slos = ruleGroups().filter((group) => group.name.startsWith('dronedelivery-slo-'));
    expect(slos.map((group) => group.name.replace('dronedelivery-slo-', ''))).toEqual([
      'ingestion-availability',
      'ingestion-latency',
      'scheduling-latency',
      'read-availability',
    ]);
    for (const group of slos) {
      const records = group.rules.filter((rule) => rule.record).map((rule) => rule.record);
      expect(records).toEqual(['5m', '30m', '1h', '2h', '6h', '1d', '3d'].map((window) => `slo:sli_error:ratio_rate${window}`));
      const alerts = group.rules.filter((rule) => rule.alert);
      expect(alerts.map((rule) => rule.labels?.severity)).toEqual(['page', 'ticket']);
      expect(alerts[0].expr).toMatch(
        /ratio_rate1h.*> \(14\.4 \* [\d.]+\)[\s\S]*ratio_rate5m[\s\S]*ratio_rate6h.*> \(6 \* [\d.]+\)[\s\S]*ratio_rate30m/,
      );
      expect(alerts[1].expr).toMatch(
        /ratio_rate1d.*> \(3 \* [\d.]+\)[\s\S]*ratio_rate2h[\s\S]*ratio_rate3d.*> [\d.]+\n[\s\S]*ratio_rate6h/,
      );
    }
  });

  it('the local stack loads exactly these files', async () => {
    const { ruleFiles: stackRuleFiles } = await import('../../tools/local/prometheus.mjs');
    expect(stackRuleFiles()).toEqual(ruleFiles());
  });
});

describe('Azure Monitor managed Prometheus (infra/bicep/modules/prometheus.bicep)', () => {
  it('prometheus-rule-groups.json is generated from the rule files and up to date', () => {
    if (UPDATE) writeFileSync(AZURE_RULE_GROUPS, azureRuleGroupsText());
    expect(readFileSync(AZURE_RULE_GROUPS, 'utf8'), 'UPDATE_MONITORING=1 regenerates it').toBe(azureRuleGroupsText());
  });

  it('the Azure rule groups hold exactly the rules of the files', () => {
    const azure = JSON.parse(readFileSync(AZURE_RULE_GROUPS, 'utf8')) as {
      name: string;
      rules: {
        alert?: string;
        record?: string;
        expression: string;
        for?: string;
        severity?: number;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      }[];
    }[];
    // Back from the Azure shape to the Prometheus one: nothing lost, nothing added.
    const back: RuleGroup[] = azure.map((group) => ({
      name: group.name,
      rules: group.rules.map(({ expression, for: duration, severity: _severity, ...rule }) => ({
        ...rule,
        expr: expression,
        ...(duration ? { for: duration.replace(/^PT/, '').toLowerCase() } : {}),
      })),
    }));
    expect(back).toEqual(ruleGroups().map((group) => ({ name: group.name, rules: group.rules })));
    for (const group of azure) {
      // Azure's limit: 20 rules per group.
      expect(group.rules.length, group.name).toBeLessThanOrEqual(20);
      for (const rule of group.rules.filter((r) => r.alert)) {
        expect(rule.severity, rule.alert).toBe(rule.labels?.severity === 'page' ? 1 : 3);
      }
    }
    expect(() =>
      azureRuleGroups([{ name: 'x', rules: [{ alert: 'A', expr: '1', labels: { severity: 'page' }, keep_firing_for: '5m' } as never] }]),
    ).toThrow(/keep_firing_for/);
  });

  it('prometheus.bicep loads them, adds the action group to every alert, and the cluster sends its metrics there', async () => {
    const parser = await BicepParser.create();
    const module = parser.parse(join(BICEP_DIR, 'modules/prometheus.bicep'));
    expect(module.variables.get('ruleGroups')?.text).toBe("loadJsonContent('prometheus-rule-groups.json')");
    const groups = module.resources.find((r) => r.type === 'Microsoft.AlertsManagement/prometheusRuleGroups@2023-03-01');
    expect(groups?.node.text).toContain('for group in ruleGroups');
    const rules = getPath(groups!.body, 'properties.rules')!.text.replace(/\s+/g, ' ');
    expect(rules).toBe(
      "map(group.rules, rule => contains(rule, 'alert') ? union(rule, { actions: [ { actionGroupId: actionGroup.id } ] resolveConfiguration: { autoResolved: true timeToResolve: 'PT5M' } }) : rule)",
    );
    expect(getPath(groups!.body, 'properties.clusterName')?.text).toBe('clusterName');
    const association = module.resources.find((r) => r.type.startsWith('Microsoft.Insights/dataCollectionRuleAssociations@'));
    expect(getPath(association!.body, 'scope')?.text).toBe('cluster');
    const aks = parser.parse(join(BICEP_DIR, 'modules/aks.bicep'));
    const cluster = aks.resources.find((r) => r.type.startsWith('Microsoft.ContainerService/managedClusters@'));
    expect(literal(getPath(cluster!.body, 'properties.azureMonitorProfile.metrics.enabled')!)).toBe(true);
    const main = parser.parse(join(BICEP_DIR, 'main.bicep'));
    const call = main.modules.find((m) => m.name === 'prometheus');
    expect(getPath(call!.body, 'params.clusterName')?.text).toBe('aks.outputs.name');
  });
});

describe('the charts', () => {
  let helm: Helm;
  let charts: string;
  let cleanup: () => void;
  const umbrella = () => setArgs(minimalSet('dronedelivery'));

  beforeAll(async () => {
    ({ helm, dir: charts, cleanup } = await preparedCharts());
  }, 120_000);
  afterAll(() => cleanup?.());

  async function render(args: string[]): Promise<K8sObject[]> {
    const objects = parseManifests(
      await helm.ok(['template', 'dronedelivery', 'dronedelivery', '--namespace', 'dronedelivery', ...args], charts),
    );
    expect(objects.flatMap(validateObject)).toEqual([]);
    return objects;
  }

  it('by default: no PrometheusRule, no PodMonitor, no scrape annotations, no scraper in the NetworkPolicies', async () => {
    const objects = await render(umbrella());
    expect(objects.filter((o) => o.kind === 'PrometheusRule' || o.kind === 'PodMonitor')).toEqual([]);
    const text = JSON.stringify(objects);
    expect(text).not.toContain('prometheus.io/scrape');
    expect(text).not.toContain('ama-metrics');
  });

  it("the umbrella's PrometheusRule holds exactly the rule files' groups", async () => {
    const objects = await render([...umbrella(), '--set', 'prometheusRule.enabled=true', '--set', 'prometheusRule.labels.release=kps']);
    const rules = objects.filter((o) => o.kind === 'PrometheusRule');
    expect(rules).toHaveLength(1);
    expect(rules[0].metadata).toMatchObject({ name: 'dronedelivery', namespace: 'dronedelivery', labels: { release: 'kps' } });
    expect((rules[0].spec as { groups: RuleGroup[] }).groups).toEqual(ruleGroups());
  });

  it.each([
    ['azmonitoring.coreos.com/v1', []],
    ['monitoring.coreos.com/v1', ['--set', 'global.metrics.podMonitor.apiVersion=monitoring.coreos.com/v1']],
  ])(
    "global.metrics.podMonitor.enabled: a %s PodMonitor per service, on its pods' management port, and the scraper let in there",
    async (apiVersion, extra) => {
      const objects = await render([...umbrella(), '--set', 'global.metrics.podMonitor.enabled=true', ...extra]);
      const monitors = objects.filter((o) => o.kind === 'PodMonitor');
      expect(monitors.map((m) => m.metadata.name).sort()).toEqual([...SERVICES].sort());
      for (const monitor of monitors) {
        const name = monitor.metadata.name;
        expect(monitor.apiVersion).toBe(apiVersion);
        const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as K8sObject & {
          spec: {
            template: {
              metadata: { labels: Record<string, string> };
              spec: { containers: { ports: { name: string; containerPort: number }[] }[] };
            };
          };
        };
        const spec = monitor.spec as {
          selector: { matchLabels: Record<string, string> };
          podMetricsEndpoints: { port: string; path: string }[];
        };
        expect(deployment.spec.template.metadata.labels).toMatchObject(spec.selector.matchLabels);
        // /metrics is served on the management port only (MANAGEMENT_PORT), never on the API port.
        expect(spec.podMetricsEndpoints).toEqual([{ port: 'management', path: '/metrics', interval: '30s' }]);
        const management = deployment.spec.template.spec.containers[0].ports.find((p) => p.name === 'management');
        expect(management).toBeDefined();
        const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name) as K8sObject & {
          spec: { ingress: { from: { podSelector?: { matchLabels?: Record<string, string> } }[]; ports: { port: number }[] }[] };
        };
        const scraperRules = policy.spec.ingress.filter((rule) =>
          rule.from.some((peer) => peer.podSelector?.matchLabels?.rsName === 'ama-metrics'),
        );
        expect(scraperRules.flatMap((rule) => rule.ports.map((p) => p.port))).toEqual([management!.containerPort]);
      }
    },
  );

  it('global.metrics.scrapeAnnotations: prometheus.io annotations on every pod, naming its management port', async () => {
    const objects = await render([...umbrella(), '--set', 'global.metrics.scrapeAnnotations=true']);
    const deployments = objects.filter((o) => o.kind === 'Deployment') as (K8sObject & {
      spec: {
        template: {
          metadata: { annotations: Record<string, string> };
          spec: { containers: { ports: { name: string; containerPort: number }[] }[] };
        };
      };
    })[];
    expect(deployments).toHaveLength(SERVICES.length);
    for (const deployment of deployments) {
      const { annotations } = deployment.spec.template.metadata;
      expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
      const management = deployment.spec.template.spec.containers[0].ports.find((p) => p.name === 'management');
      expect(annotations['prometheus.io/port']).toBe(String(management?.containerPort));
    }
    expect(objects.filter((o) => o.kind === 'PodMonitor')).toEqual([]);
  });
});

describe('the dashboards (monitoring/dashboards)', () => {
  it('are generated from tests/deploy/dashboards.ts and up to date: an overview and one per service', async () => {
    const models = dashboards();
    expect(Object.keys(models).sort()).toEqual(['overview', ...SERVICES.map((s) => `service-${s}`)].sort());
    for (const [name, model] of Object.entries(models)) {
      const path = join(DASHBOARDS_DIR, `${name}.json`);
      const text = await dashboardText(model);
      if (UPDATE) writeFileSync(path, text);
      expect(readFileSync(path, 'utf8'), `${name}.json: UPDATE_MONITORING=1 regenerates it`).toBe(text);
    }
    expect(readdirSync(DASHBOARDS_DIR).sort()).toEqual(
      Object.keys(models)
        .map((name) => `${name}.json`)
        .sort(),
    );
  });

  it('every query is valid PromQL (promtool, with Grafana variables substituted), on the Prometheus data source variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dd-dashboards-'));
    try {
      const rules: { record: string; expr: string }[] = [];
      for (const [name, model] of Object.entries(dashboards())) {
        expect(model.templating).toEqual({
          list: [expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' })],
        });
        for (const [, expr] of panelQueries(model as never)) {
          rules.push({ record: `dashboard:${name.replace(/-/g, '_')}:query`, expr: expr.replaceAll('$__rate_interval', '5m') });
        }
      }
      expect(rules.length).toBeGreaterThan(50);
      const file = join(dir, 'queries.yaml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboards', rules }] }));
      const result = await promtool(['check', 'rules', file]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
