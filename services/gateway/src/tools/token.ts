/**
 * Prints a development token for the gateway's local auth mode. Only the token goes to stdout, so
 * `TOKEN=$(npm run --silent token -- owner-1)` captures exactly it; the note about it goes to stderr.
 *   node services/gateway/dist/tools/token.js <ownerId> [--ops] [--role <appRole>]... [--ttl <seconds>]
 * `--role LoadTest` gives the load-test app role (AUTH_LOADTEST_ROLE): the token may act for synthetic owners.
 * Uses (and on first use creates) the signing key in AUTH_LOCAL_KEY_DIR (default .local/auth, relative to the
 * working directory), the same one a gateway started from the same directory verifies with.
 */
import { ID_PATTERN } from '@dronedelivery/platform';
import { loadOrCreateLocalKeys } from '../auth/local-keys';
import { signLocalToken } from '../auth/local-token';

const USAGE = 'usage: token <ownerId> [--ops] [--role <appRole>]... [--ttl <seconds>]';
const ROLE = /^[A-Za-z0-9][\w.-]{0,63}$/;

async function main(argv: string[]): Promise<void> {
  const ops = argv.includes('--ops');
  const valueIndexes = new Set<number>();
  const valuesOf = (flag: string) =>
    argv.flatMap((arg, index) => {
      if (arg !== flag) return [];
      valueIndexes.add(index + 1);
      return [argv[index + 1] ?? ''];
    });
  const ttlValues = valuesOf('--ttl');
  const roles = valuesOf('--role');
  const ttlSeconds = ttlValues.length > 0 ? Number(ttlValues.at(-1)) : 12 * 3600;
  const positional = argv.filter((arg, index) => !arg.startsWith('--') && !valueIndexes.has(index));
  const ownerId = positional[0];
  if (!ownerId || !ID_PATTERN.test(ownerId) || !Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || roles.some((role) => !ROLE.test(role))) {
    process.stderr.write(`${USAGE}\nownerId: 1-64 letters, digits, '-' or '_'; role: an app role name, e.g. LoadTest\n`);
    process.exit(2);
  }
  const dir = process.env.AUTH_LOCAL_KEY_DIR ?? '.local/auth';
  const keys = await loadOrCreateLocalKeys(dir);
  const token = await signLocalToken(keys, { ownerId, ops, opsRole: process.env.AUTH_OPS_ROLE ?? 'Ops', roles, ttlSeconds });
  const granted = [...(ops ? ['ops'] : []), ...roles];
  process.stderr.write(
    `# ${ownerId}${granted.length > 0 ? ` (${granted.join(', ')})` : ''}, valid ${ttlSeconds}s, key in ${dir}. Use: Authorization: Bearer <token>\n`,
  );
  process.stdout.write(`${token}\n`);
}

void main(process.argv.slice(2));
