/**
 * The alert and recording rules under monitoring/rules, read as Prometheus reads them, and the two other shapes they
 * are delivered in: Azure Monitor managed Prometheus rule groups (infra/bicep/modules/prometheus-rule-groups.json,
 * generated from the files, loaded by prometheus.bicep) and the umbrella chart's PrometheusRule (which reads the
 * files themselves). promtool is Debian's (package prometheus, tools/ensure-system-deps.sh --tests).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './helm';

export const RULES_DIR = join(repoRoot, 'monitoring/rules');
export const RULE_TESTS_DIR = join(RULES_DIR, 'tests');
export const AZURE_RULE_GROUPS = join(repoRoot, 'infra/bicep/modules/prometheus-rule-groups.json');

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** Alert severities as the labels name them, and the Azure Monitor severity each becomes (0 critical … 4 verbose). */
export const AZURE_SEVERITY: Record<string, number> = { page: 1, ticket: 3 };

/** The rule files (not their tests), sorted. */
export function ruleFiles(): string[] {
  return readdirSync(RULES_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => join(RULES_DIR, name));
}

export function ruleGroups(): RuleGroup[] {
  return ruleFiles().flatMap((path) => (parse(readFileSync(path, 'utf8')) as { groups: RuleGroup[] }).groups);
}

export function alertRules(): Rule[] {
  return ruleGroups().flatMap((group) => group.rules.filter((rule) => rule.alert));
}

/** A Prometheus duration of hours, minutes and seconds ("10m", "1h30m") as ISO 8601 ("PT10M", "PT1H30M"). */
export function isoDuration(duration: string): string {
  if (!/^(\d+h)?(\d+m)?(\d+s)?$/.test(duration) || duration === '') {
    throw new Error(`duration ${duration}: Azure rule groups take hours, minutes and seconds only`);
  }
  return `PT${duration.toUpperCase()}`;
}

/**
 * The rule groups as Microsoft.AlertsManagement/prometheusRuleGroups rules: `expression` for `expr`, ISO 8601 `for`,
 * `severity` from the severity label (kept as a label too). What is per deployment (scopes, the cluster, the
 * action group, the interval) is added by prometheus.bicep.
 */
export function azureRuleGroups(groups: RuleGroup[] = ruleGroups()): unknown[] {
  return groups.map((group) => ({
    name: group.name,
    rules: group.rules.map((rule) => {
      const known = new Set(['alert', 'record', 'expr', 'for', 'labels', 'annotations']);
      const unknown = Object.keys(rule).filter((key) => !known.has(key));
      if (unknown.length > 0) throw new Error(`${group.name}: rule fields Azure cannot take: ${unknown.join(', ')}`);
      if (rule.record) return { record: rule.record, expression: rule.expr, ...(rule.labels ? { labels: rule.labels } : {}) };
      const severity = AZURE_SEVERITY[rule.labels?.severity ?? ''];
      if (severity === undefined) throw new Error(`${rule.alert}: severity label must be one of ${Object.keys(AZURE_SEVERITY).join(', ')}`);
      return {
        alert: rule.alert,
        expression: rule.expr,
        ...(rule.for ? { for: isoDuration(rule.for) } : {}),
        severity,
        labels: rule.labels,
        annotations: rule.annotations,
      };
    }),
  }));
}

export function azureRuleGroupsText(): string {
  return `${JSON.stringify(azureRuleGroups(), null, 2)}\n`;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs Debian's promtool; resolves with the exit code and output (never rejects on a non-zero exit). */
export function promtool(args: readonly string[], cwd = repoRoot): Promise<ToolResult> {
  return new Promise((done) => {
    execFile(process.env.PROMTOOL_BIN ?? 'promtool', args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}
