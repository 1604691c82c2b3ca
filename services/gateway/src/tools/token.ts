/**
 * Prints a development token for the gateway's local auth mode; the token is the last line of the output.
 *   node services/gateway/dist/tools/token.js <ownerId> [--ops] [--ttl <seconds>]
 * Uses (and on first use creates) the signing key in AUTH_LOCAL_KEY_DIR (default .local/auth, relative to the
 * working directory), the same one a gateway started from the same directory verifies with.
 */
import { ID_PATTERN } from '@dronedelivery/platform';
import { loadOrCreateLocalKeys } from '../auth/local-keys';
import { signLocalToken } from '../auth/local-token';

const USAGE = 'usage: token <ownerId> [--ops] [--ttl <seconds>]';

async function main(argv: string[]): Promise<void> {
  const ops = argv.includes('--ops');
  const ttlIndex = argv.indexOf('--ttl');
  const ttlSeconds = ttlIndex >= 0 ? Number(argv[ttlIndex + 1]) : 12 * 3600;
  const positional = argv.filter((arg, index) => !arg.startsWith('--') && (ttlIndex < 0 || index !== ttlIndex + 1));
  const ownerId = positional[0];
  if (!ownerId || !ID_PATTERN.test(ownerId) || !Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    process.stderr.write(`${USAGE}\nownerId: 1-64 letters, digits, '-' or '_'\n`);
    process.exit(2);
  }
  const dir = process.env.AUTH_LOCAL_KEY_DIR ?? '.local/auth';
  const keys = await loadOrCreateLocalKeys(dir);
  const token = await signLocalToken(keys, { ownerId, ops, opsRole: process.env.AUTH_OPS_ROLE ?? 'Ops', ttlSeconds });
  process.stdout.write(`# ${ownerId}${ops ? ' (ops)' : ''}, valid ${ttlSeconds}s, key in ${dir}. Use: Authorization: Bearer <token>\n${token}\n`);
}

void main(process.argv.slice(2));
