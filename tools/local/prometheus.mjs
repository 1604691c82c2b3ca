// A Prometheus beside the local stack (`PROMETHEUS=1 npm start`): Debian's binary on a free loopback port, its data
// in the stack's data folder, scraping every replica's /metrics and evaluating the rules of monitoring/rules, so the
// dashboards' queries (monitoring/dashboards) and the alerts can be tried locally. stack.mjs runs the process (and
// stops it by PID with the rest); this module only writes its configuration.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const RULES_DIR = join(root, 'monitoring/rules');

/** The rule files Prometheus loads: monitoring/rules/*.yaml, their unit tests left out. */
export function ruleFiles(dir = RULES_DIR) {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => join(dir, name));
}

/**
 * prometheus.yml for `targets` ({name, url} per replica: the replica's name becomes the `replica` label), scraped
 * and evaluated every `interval` (a Prometheus duration).
 */
export function renderPrometheusConfig({ targets, rules = ruleFiles(), interval = '5s' }) {
  const lines = [
    '# Written by tools/local/prometheus.mjs for the local stack.',
    'global:',
    `  scrape_interval: ${interval}`,
    `  scrape_timeout: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'rule_files:',
    ...rules.map((path) => `  - ${JSON.stringify(path)}`),
    'scrape_configs:',
    '  - job_name: dronedelivery',
    '    metrics_path: /metrics',
    '    static_configs:',
  ];
  for (const { name, url } of targets) {
    lines.push(`      - targets: [${JSON.stringify(new URL(url).host)}]`, `        labels: { replica: ${JSON.stringify(name)} }`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Writes the configuration under `dir` and returns the command line of a Prometheus listening on 127.0.0.1:`port`,
 * with its TSDB in `dir`/data, and its URL.
 */
export function prometheusCommand({ dir, port, targets, rules, interval }) {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, renderPrometheusConfig({ targets, rules, interval }));
  return {
    command: process.env.PROMETHEUS_BIN ?? 'prometheus',
    args: [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    url: `http://127.0.0.1:${port}`,
  };
}

/** Every replica of every service in stack.json's `services`, as scrape targets. */
export function stackTargets(services) {
  return Object.values(services).flatMap(({ replicas }) => replicas.map(({ name, url }) => ({ name, url })));
}
