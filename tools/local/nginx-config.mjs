// Renders tools/local/nginx.conf.template: the one NGINX ingress configuration, used by the local stack
// (tools/local/stack.mjs) and by docker compose (tools/compose/nginx.conf, generated from it and checked for drift).
// Also the local stack's internal balancers: a loopback listener per service that runs several replicas.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Rate limit, body limit and timeouts, keyed by template placeholder; charts/gateway's Ingress mirrors them. */
export const ingressSettings = JSON.parse(readFileSync(join(here, 'ingress-settings.json'), 'utf8'));

/**
 * @param {{PREFIX: string, ERROR_LOG: string, LISTEN: string, GATEWAY_ADDRESS: string | string[]} & Record<string, string | number | string[]>} values
 *   where NGINX keeps its pid and temp files, where it logs errors, what it listens on, the gateway's host:port
 *   (a list for several gateway replicas: the upstream gets one `server` line each); anything else overrides
 *   ingress-settings.json. A list value repeats the template line it is on, once per item.
 */
export function renderNginxConfig(values) {
  const all = { ...ingressSettings, ...values };
  const template = readFileSync(join(here, 'nginx.conf.template'), 'utf8');
  const placeholder = /\{\{([A-Z_]+)\}\}/g;
  const valueOf = (name) => {
    if (!(name in all)) throw new Error(`nginx template: no value for ${name}`);
    return all[name];
  };
  return template
    .split('\n')
    .flatMap((line) => {
      const lists = [...line.matchAll(placeholder)].map(([, name]) => name).filter((name) => Array.isArray(valueOf(name)));
      if (lists.length > 1) throw new Error(`nginx template: more than one list on one line (${lists.join(', ')})`);
      if (lists.length === 0) return [line.replace(placeholder, (_, name) => String(valueOf(name)))];
      const items = valueOf(lists[0]);
      if (items.length === 0) throw new Error(`nginx template: ${lists[0]} is an empty list`);
      return items.map((item) => line.replace(placeholder, (_, name) => String(name === lists[0] ? item : valueOf(name))));
    })
    .join('\n');
}

/**
 * The internal balancers' configuration: for each service with several replicas, an upstream of them and a
 * loopback listener that callers reach through one URL, as a Kubernetes Service would give them. Plain proxying:
 * no rate limit or body limit (the callers are our services), and NGINX retries the next replica only when it
 * could not connect (never a request a replica may have acted on).
 * @param {{PREFIX: string, ERROR_LOG: string, balancers: {name: string, listen: string, servers: string[]}[]}} values
 */
export function renderBalancerConfig({ PREFIX, ERROR_LOG, balancers }) {
  if (balancers.length === 0) throw new Error('nginx balancers: none to render');
  const blocks = balancers.map(({ name, listen, servers }) => {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`nginx balancers: "${name}" is not a service name`);
    if (servers.length === 0) throw new Error(`nginx balancers: ${name} has no servers`);
    return [
      `  upstream ${name} {`,
      ...servers.map((server) => `    server ${server};`),
      '    keepalive 32;',
      '  }',
      '',
      '  server {',
      `    listen ${listen};`,
      '    location / {',
      `      proxy_pass http://${name};`,
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_set_header Host $host;',
      '      proxy_next_upstream error;',
      '    }',
      '  }',
    ].join('\n');
  });
  return [
    "# The local stack's internal balancers (tools/local/nginx-config.mjs): one per service with several replicas.",
    'worker_processes 1;',
    `pid ${PREFIX}/nginx.pid;`,
    `error_log ${ERROR_LOG} warn;`,
    '',
    'events {',
    '  worker_connections 4096;',
    '}',
    '',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${PREFIX}/body_temp;`,
    `  proxy_temp_path ${PREFIX}/proxy_temp;`,
    `  fastcgi_temp_path ${PREFIX}/fastcgi_temp;`,
    `  uwsgi_temp_path ${PREFIX}/uwsgi_temp;`,
    `  scgi_temp_path ${PREFIX}/scgi_temp;`,
    '  server_tokens off;',
    '  client_max_body_size 1m;',
    '',
    blocks.join('\n\n'),
    '}',
    '',
  ].join('\n');
}
