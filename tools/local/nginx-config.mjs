// Renders tools/local/nginx.conf.template: the one NGINX ingress configuration, used by the local stack
// (tools/local/stack.mjs) and by docker compose (tools/compose/nginx.conf, generated from it and checked for drift).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Rate limit, body limit and timeouts, keyed by template placeholder; charts/gateway's Ingress mirrors them. */
export const ingressSettings = JSON.parse(readFileSync(join(here, 'ingress-settings.json'), 'utf8'));

/**
 * @param {{PREFIX: string, ERROR_LOG: string, LISTEN: string, GATEWAY_ADDRESS: string} & Record<string, string | number>} values
 *   where NGINX keeps its pid and temp files, where it logs errors, what it listens on, the gateway's host:port;
 *   anything else overrides ingress-settings.json.
 */
export function renderNginxConfig(values) {
  const all = { ...ingressSettings, ...values };
  const template = readFileSync(join(here, 'nginx.conf.template'), 'utf8');
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name) => {
    if (!(name in all)) throw new Error(`nginx template: no value for ${name}`);
    return String(all[name]);
  });
}
