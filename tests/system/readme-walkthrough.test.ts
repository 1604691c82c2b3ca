import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalStack, ROOT } from './stack';

/**
 * The README's first-run walkthrough, run as written: bash executes the marked block against a stack of its own,
 * with BASE and AUTH_LOCAL_KEY_DIR (both read by the block or the tools it calls) pointing at that stack. Each curl
 * command's expected status is the number its trailing comment starts with (`# 202`); a wrapper makes curl report
 * the status it got on stderr, so the block's own output stays as a reader sees it.
 */
const MARKER = '<!-- walkthrough: tests/system/readme-walkthrough.test.ts runs this block -->';

export function walkthroughBlock(readme: string): string {
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no block marked ${MARKER}`);
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(readme.slice(at + MARKER.length));
  if (!block) throw new Error('no ```sh block after the walkthrough marker');
  return block[1];
}

/** The status each curl command should answer, in order: `# NNN` comments, one per curl command. */
export function expectedStatuses(block: string): number[] {
  return [...block.matchAll(/#\s*(\d{3})\b/g)].map((match) => Number(match[1]));
}

// `%{stderr}` switches curl's --write-out to stderr (curl ≥ 7.63).
const CURL_STATUS = `curl() { command curl --write-out '%{stderr}HTTP %{http_code}\\n' "$@"; }`;
const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

let stack: LocalStack;

beforeAll(async () => {
  stack = await LocalStack.start();
}, 180_000);

afterAll(async () => {
  if (stack) expect((await stack.stop()).code).toBe(0);
});

it('the README walkthrough runs as written: token, create (202), status (200)', async () => {
  const block = walkthroughBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const expected = expectedStatuses(block);
  expect(expected).toEqual([202, 200]);
  expect(block).toContain('BASE=${BASE:-'); // the stack's address comes in through the block's own variable

  const script = ['set -eo pipefail', CURL_STATUS, block, `printf 'TOKEN=%s\\n' "$TOKEN" >&2`].join('\n');
  const { stdout, stderr } = await promisify(execFile)('bash', ['-c', script], {
    cwd: ROOT,
    env: { ...process.env, BASE: stack.ingress, AUTH_LOCAL_KEY_DIR: stack.authKeyDir },
    timeout: 60_000,
  });

  // The whole of the captured token: a note or a prompt captured with it would make the calls answer 401.
  expect(/^TOKEN=(.*)$/m.exec(stderr)?.[1]).toMatch(JWT);
  const statuses = [...stderr.matchAll(/^HTTP (\d{3})$/gm)].map((match) => Number(match[1]));
  expect(statuses).toEqual(expected);

  const [accepted, status] = stdout.trim().split('\n');
  const created = JSON.parse(accepted) as { deliveryId: string; status: string; ownerId: string };
  expect(created).toMatchObject({ status: 'Requested', ownerId: 'owner-1', packageInfo: { packageId: 'pkg-1' } });
  expect(JSON.parse(status)).toMatchObject({ deliveryId: created.deliveryId, status: expect.stringMatching(/^(Requested|Scheduled)$/) });
});
