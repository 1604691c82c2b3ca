import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DOCKERFILE = join(__dirname, '../../../Dockerfile');

/**
 * The runtime environment every service image sets for Node itself (heap sizing, malloc arenas): the `ENV`
 * instruction of the Dockerfile's service stage that sets NODE_OPTIONS. The local stack and the memory tests run
 * the built services with the same settings, read from the one place they are written.
 */
export function serviceRuntimeEnv(dockerfile = readFileSync(DOCKERFILE, 'utf8')): Record<string, string> {
  const stage = dockerfile.slice(dockerfile.indexOf(' AS service-runtime'));
  const instruction = /^ENV NODE_OPTIONS=(?:[^\n]*\\\n)*[^\n]*$/m.exec(stage)?.[0];
  if (!instruction) throw new Error('the Dockerfile service stage has no ENV NODE_OPTIONS=... instruction');
  const body = instruction.slice('ENV '.length).replace(/\\\n/g, ' ');
  const env: Record<string, string> = {};
  for (const [, name, quoted, bare] of body.matchAll(/([A-Z_][A-Z0-9_]*)=(?:"([^"]*)"|(\S*))/g)) env[name] = quoted ?? bare;
  return env;
}

/** `serviceRuntimeEnv()` merged into `env`; NODE_OPTIONS already in `env` (e.g. --cpu-prof) comes after, so it wins. */
export function withServiceRuntimeEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const runtime = serviceRuntimeEnv();
  return {
    ...runtime,
    ...env,
    NODE_OPTIONS: [runtime.NODE_OPTIONS, env.NODE_OPTIONS].filter(Boolean).join(' '),
  };
}
