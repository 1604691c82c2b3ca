import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { renderBalancerConfig, renderNginxConfig } from '../../tools/local/nginx-config.mjs';
import { replicaCounts, replicaNames, replicaVariable } from '../../tools/local/replicas.mjs';
import { ROOT } from './stack';

/** `<SERVICE>_REPLICAS` in the local stack (tools/local/replicas.mjs) and the NGINX configs it renders; no stack started. */
const execFileAsync = promisify(execFile);
const SERVICES = ['gateway', 'workflow', 'package', 'parcel-lockers'];

describe('replica counts', () => {
  it('are named after the service, dashes as underscores', () => {
    expect(replicaVariable('workflow')).toBe('WORKFLOW_REPLICAS');
    expect(replicaVariable('parcel-lockers')).toBe('PARCEL_LOCKERS_REPLICAS');
  });

  it('default to 1 and take any positive integer', () => {
    expect(replicaCounts(SERVICES, {})).toEqual({ gateway: 1, workflow: 1, package: 1, 'parcel-lockers': 1 });
    expect(
      replicaCounts(SERVICES, { WORKFLOW_REPLICAS: '3', GATEWAY_REPLICAS: '2', PARCEL_LOCKERS_REPLICAS: ' 12 ', PACKAGE_REPLICAS: '' }),
    ).toEqual({ gateway: 2, workflow: 3, package: 1, 'parcel-lockers': 12 });
  });

  it.each(['0', '-1', '1.5', 'two', '3x', '1e2', '+2', '0x2'])('refuse %j, naming the variable and the value', (value) => {
    expect(() => replicaCounts(SERVICES, { WORKFLOW_REPLICAS: value })).toThrow(
      `WORKFLOW_REPLICAS must be a positive integer (the number of workflow processes to run), not "${value}"`,
    );
  });

  it('give a single replica the service name, several a number each', () => {
    expect(replicaNames('workflow', 1)).toEqual(['workflow']);
    expect(replicaNames('workflow', 3)).toEqual(['workflow-1', 'workflow-2', 'workflow-3']);
  });

  it('are checked before the stack starts anything: a bad count stops it at once, exit 1', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dd-stack-replicas-'));
    try {
      const failed = await execFileAsync(process.execPath, [join(ROOT, 'tools/local/stack.mjs')], {
        cwd: ROOT,
        env: { ...process.env, STACK_DATA_DIR: dataDir, GATEWAY_REPLICAS: '0' },
        timeout: 20_000,
      }).then(
        () => ({ code: 0, stdout: '' }),
        (error: { code: number; stdout: string }) => error,
      );
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain('failed to start: GATEWAY_REPLICAS must be a positive integer');
      expect(failed.stdout).not.toContain('starting stores');
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/** The upstream block named `name` of an NGINX config, its server lines in order. */
function upstreamServers(config: string, name: string): string[] {
  const block = new RegExp(`upstream ${name} \\{([^}]*)\\}`).exec(config);
  if (!block) throw new Error(`no upstream ${name} in:\n${config}`);
  return [...block[1].matchAll(/^\s*server (\S+);$/gm)].map((match) => match[1]);
}

async function nginxAccepts(config: string, prefix: string): Promise<void> {
  writeFileSync(join(prefix, 'nginx.conf'), config);
  const nginx = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
  await execFileAsync(nginx, ['-t', '-q', '-p', prefix, '-c', join(prefix, 'nginx.conf')]);
}

describe('the NGINX configs for several replicas', () => {
  const base = { PREFIX: '/tmp/p', ERROR_LOG: 'stderr', LISTEN: '127.0.0.1:8080' };

  it('ingress: one upstream server per gateway replica; a single address renders as before', () => {
    const two = renderNginxConfig({ ...base, GATEWAY_ADDRESS: ['127.0.0.1:4001', '127.0.0.1:4002'] });
    expect(upstreamServers(two, 'gateway')).toEqual(['127.0.0.1:4001', '127.0.0.1:4002']);
    const one = renderNginxConfig({ ...base, GATEWAY_ADDRESS: '127.0.0.1:4001' });
    expect(upstreamServers(one, 'gateway')).toEqual(['127.0.0.1:4001']);
    expect(renderNginxConfig({ ...base, GATEWAY_ADDRESS: ['127.0.0.1:4001'] })).toBe(one);
    // Only the gateway's upstream line repeats: the rest of the config is the single-gateway one.
    expect(two.replace('    server 127.0.0.1:4002;\n', '')).toBe(one);
    expect(() => renderNginxConfig({ ...base, GATEWAY_ADDRESS: [] })).toThrow('GATEWAY_ADDRESS is an empty list');
  });

  it('internal balancers: an upstream of the replicas and a loopback listener per service', () => {
    const config = renderBalancerConfig({
      PREFIX: '/tmp/p',
      ERROR_LOG: 'stderr',
      balancers: [
        { name: 'workflow', listen: '127.0.0.1:5000', servers: ['127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003'] },
        { name: 'package', listen: '127.0.0.1:6000', servers: ['127.0.0.1:6001', '127.0.0.1:6002'] },
      ],
    });
    expect(upstreamServers(config, 'workflow')).toEqual(['127.0.0.1:5001', '127.0.0.1:5002', '127.0.0.1:5003']);
    expect(upstreamServers(config, 'package')).toEqual(['127.0.0.1:6001', '127.0.0.1:6002']);
    const servers = [...config.matchAll(/listen (\S+);\s*location \/ \{\s*proxy_pass http:\/\/(\S+);/g)].map(([, listen, to]) => [
      listen,
      to,
    ]);
    expect(servers).toEqual([
      ['127.0.0.1:5000', 'workflow'],
      ['127.0.0.1:6000', 'package'],
    ]);
    // Only a failed connection moves a request to the next replica: never one a replica may have acted on.
    expect(config.match(/proxy_next_upstream (.*);/g)).toEqual(['proxy_next_upstream error;', 'proxy_next_upstream error;']);
    expect(() => renderBalancerConfig({ PREFIX: '/tmp/p', ERROR_LOG: 'stderr', balancers: [] })).toThrow('none to render');
    expect(() =>
      renderBalancerConfig({ PREFIX: '/tmp/p', ERROR_LOG: 'stderr', balancers: [{ name: 'package', listen: '127.0.0.1:1', servers: [] }] }),
    ).toThrow('package has no servers');
  });

  it('real NGINX accepts both', async () => {
    const prefix = mkdtempSync(join(tmpdir(), 'replicas-nginx-'));
    try {
      await nginxAccepts(renderNginxConfig({ ...base, PREFIX: prefix, GATEWAY_ADDRESS: ['127.0.0.1:1', '127.0.0.1:2'] }), prefix);
      await nginxAccepts(
        renderBalancerConfig({
          PREFIX: prefix,
          ERROR_LOG: 'stderr',
          balancers: [
            { name: 'workflow', listen: '127.0.0.1:3', servers: ['127.0.0.1:4', '127.0.0.1:5'] },
            { name: 'parcel-lockers', listen: '127.0.0.1:6', servers: ['127.0.0.1:7', '127.0.0.1:8'] },
          ],
        }),
        prefix,
      );
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
