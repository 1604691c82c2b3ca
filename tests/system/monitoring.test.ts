import { eventually } from '@dronedelivery/testing';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStack, ROOT, api, deliveryRequest } from './stack';

/**
 * The dashboards and the alerts, live: the local stack with its Prometheus (`PROMETHEUS=1`, as `npm start` runs it:
 * Debian's binary on a free loopback port, its data in the stack's data dir, monitoring/rules loaded as they are,
 * stopped by PID with the stack), scraping every service each second. A short load, a dead letter and one fault (the
 * package service frozen with SIGSTOP, then resumed); then every panel's queries of monitoring/dashboards must
 * return data, and the DeadLetterAdded and CircuitBreakerOpen alerts must have gone pending or firing during the
 * fault and be gone after it.
 */
const DASHBOARDS = join(ROOT, 'monitoring/dashboards');
/** What Grafana substitutes for $__rate_interval, long enough to span the whole run. */
const RATE_INTERVAL = '5m';

let stack: LocalStack;
let prometheus: string;
let owner: string;
let ops: string;

beforeAll(async () => {
  stack = await LocalStack.start({
    PROMETHEUS: '1',
    PROMETHEUS_INTERVAL: '1s',
    // A breaker opens after a few failed calls; commands that failed before it opened come back quickly.
    DOWNSTREAM_VOLUME_THRESHOLD: '4',
    RETRY_MAX_DELAY_MS: '1000',
    CLAIM_MIN_IDLE_MS: '1000',
    RECLAIM_INTERVAL_MS: '200',
    MAINTENANCE_INTERVAL_MS: '1000',
    // The load runs as fast as the stack answers; the gateway's per-caller limit would turn it into 429s.
    RATE_LIMIT_MAX: '1000000',
    // It is all one owner's load: the cap on an owner's active bookings would dead-letter it.
    OWNER_MAX_ACTIVE_BOOKINGS: '1000000',
  });
  prometheus = stack.current().prometheus ?? '';
  owner = stack.token('sys-monitoring-owner');
  ops = stack.token('sys-monitoring-ops', true);
}, 180_000);

afterAll(async () => {
  if (stack) expect((await stack.stop()).code).toBe(0);
});

interface Sample {
  metric: Record<string, string>;
}

async function query(expr: string): Promise<Sample[]> {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { status: string; error?: string; data?: { result: Sample[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? response.status}`);
  return body.data!.result;
}

/** Alerts Prometheus holds now (pending or firing), by name. */
async function activeAlerts(): Promise<Map<string, string[]>> {
  const body = (await (await fetch(`${prometheus}/api/v1/alerts`)).json()) as {
    data: { alerts: { labels: { alertname: string }; state: string }[] };
  };
  const active = new Map<string, string[]>();
  for (const { labels, state } of body.data.alerts) active.set(labels.alertname, [...(active.get(labels.alertname) ?? []), state]);
  return active;
}

/** Creates and reads (an owner's and an operator's) through the ingress until stopped: what every panel shows. */
function trickle(created: string[]): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      // During the fault some answers are errors (a timeout through NGINX is not JSON): the load goes on regardless.
      await (async () => {
        const body = deliveryRequest();
        const accepted = await api(stack.ingress, 'POST', '/api/deliveryrequests', { token: owner, body });
        if (accepted.status !== 202) return;
        created.push(accepted.body.deliveryId);
        await api(stack.ingress, 'GET', `/api/deliveries/${accepted.body.deliveryId}/status`, { token: owner });
        await api(stack.ingress, 'GET', `/api/deliveries/${created[Math.floor(created.length / 2)]}`, { token: owner });
        await api(stack.ingress, 'GET', `/api/packages/${body.packageInfo.packageId}`, { token: owner });
        await api(stack.ingress, 'GET', '/api/deadletters', { token: ops }); // the workflow's own API, through the gateway
      })().catch(() => undefined);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

it('a Prometheus runs beside the stack with the rules of monitoring/rules', async () => {
  expect(prometheus).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const rules = (await (await fetch(`${prometheus}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
  expect(rules.data.groups.map((group) => group.name)).toContain('dronedelivery-saga');
  expect(stack.output).toContain(`prometheus: ${prometheus}`);
});

it('under load and a fault: every dashboard panel has data; the dead-letter and breaker alerts fire and clear', async () => {
  await eventually(
    async () => {
      const up = await query('up{job="dronedelivery"} == 1');
      if (up.length < 5) throw new Error(`${up.length} of 5 services scraped`);
    },
    { timeoutMs: 20_000, intervalMs: 250 },
  );
  // First a dead letter (the same package id with other details is a permanent error): its alert clears 90 s later,
  // while the rest runs.
  const first = deliveryRequest();
  const clash = { ...first, packageInfo: { ...first.packageInfo, weight: 9.5 } };
  expect((await api(stack.ingress, 'POST', '/api/deliveryrequests', { token: owner, body: first })).status).toBe(202);
  await eventually(async () => {
    const stored = await api(stack.ingress, 'GET', `/api/packages/${first.packageInfo.packageId}`, { token: owner });
    if (stored.status !== 200) throw new Error(`package not stored yet: ${stored.status}`);
  });
  expect((await api(stack.ingress, 'POST', '/api/deliveryrequests', { token: owner, body: clash })).status).toBe(202);
  await eventually(async () => expect((await activeAlerts()).get('DeadLetterAdded')).toEqual(['firing']), {
    timeoutMs: 20_000,
    intervalMs: 250,
  });

  const created: string[] = [];
  const load = trickle(created);
  const packagePid = stack.current().services.package.pid;
  let frozen = false;
  try {
    // The fault: the package service frozen while creates keep coming, until the workflow's breaker is open.
    process.kill(packagePid, 'SIGSTOP');
    frozen = true;
    await eventually(
      async () => {
        const states = (await activeAlerts()).get('CircuitBreakerOpen') ?? [];
        if (states.length === 0) throw new Error('CircuitBreakerOpen is not pending yet');
        expect(await query('circuit_breaker_state{service="workflow", downstream="package"} > 0')).not.toEqual([]);
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    process.kill(packagePid, 'SIGCONT');
    frozen = false;
    // Traffic goes on after the fault: each breaker closes on its next successful call.
    await eventually(async () => expect(await query('circuit_breaker_state > 0')).toEqual([]), { timeoutMs: 60_000, intervalMs: 500 });
  } finally {
    if (frozen) process.kill(packagePid, 'SIGCONT');
    await load.stop();
  }
  // Everything accepted during the fault is scheduled once the package service is back. Read by the operator, whose
  // request budget the load barely used (the owner's may be spent by it), and each delivery only until it is seen
  // Scheduled, so the check costs about one read per delivery whatever the load created.
  const unscheduled = new Set(created);
  await eventually(
    async () => {
      for (const id of unscheduled) {
        const status = (await api(stack.ingress, 'GET', `/api/deliveries/${id}/status`, { token: ops })).body?.status;
        if (status !== 'Scheduled') throw new Error(`delivery ${id} is ${status}`);
        unscheduled.delete(id);
      }
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  expect(created.length).toBeGreaterThan(5);
  // The dead letter is there for the operator.
  expect((await api(stack.ingress, 'GET', '/api/deadletters', { token: ops })).body.total).toBe(1);

  // Every panel's queries, as the dashboards hold them, return data.
  const empty: string[] = [];
  let queries = 0;
  for (const file of readdirSync(DASHBOARDS).filter((name) => name.endsWith('.json'))) {
    const model = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    for (const panel of model.panels) {
      for (const { expr } of panel.targets ?? []) {
        queries += 1;
        const result = await query(expr.replaceAll('$__rate_interval', RATE_INTERVAL));
        if (result.length === 0) empty.push(`${file} "${panel.title}": ${expr}`);
      }
    }
  }
  expect(empty).toEqual([]);
  expect(queries).toBeGreaterThan(50);

  // Both alerts were recorded while active, and are gone now (no breaker open for a minute, no new dead letter for 90 s).
  for (const [alert, states] of [
    ['DeadLetterAdded', 'firing'],
    ['CircuitBreakerOpen', 'pending|firing'],
  ]) {
    expect(await query(`max_over_time(ALERTS{alertname="${alert}", alertstate=~"${states}"}[10m])`), alert).not.toEqual([]);
  }
  await eventually(
    async () => {
      const active = await activeAlerts();
      expect([...active.keys()].filter((name) => name === 'DeadLetterAdded' || name === 'CircuitBreakerOpen')).toEqual([]);
    },
    { timeoutMs: 90_000, intervalMs: 1_000 },
  );
}, 300_000);
