import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ESLint } from 'eslint';

/** The lint rules that keep the monorepo's layers apart actually fire (and do not fire on allowed imports). */
const root = join(__dirname, '../..');
let eslint: ESLint;

beforeAll(() => {
  // The boundary rule reads Nx's project graph; without it the rule silently skips.
  execFileSync(process.execPath, [join(root, 'node_modules/nx/dist/bin/nx.js'), 'show', 'projects'], { cwd: root, stdio: 'ignore' });
  eslint = new ESLint({ cwd: root });
}, 60_000);

async function lint(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

it('a library may not import a service', async () => {
  const messages = await lint(
    'libs/platform/src/leak.ts',
    "import { AppModule } from '@dronedelivery/delivery';\nexport const m = AppModule;\n",
  );
  expect(messages.some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
});

it('the test harness may not import a service', async () => {
  const messages = await lint(
    'libs/testing/src/leak.ts',
    "import { AppModule } from '@dronedelivery/delivery';\nexport const m = AppModule;\n",
  );
  expect(messages.some((m) => m.startsWith('@nx/enforce-module-boundaries'))).toBe(true);
});

it('service production code may not import the test harness', async () => {
  const messages = await lint(
    'services/delivery/src/leak.ts',
    "import { freePort } from '@dronedelivery/testing';\nexport const f = freePort;\n",
  );
  expect(messages.some((m) => m.startsWith('no-restricted-imports'))).toBe(true);
});

it('a service may import the platform library', async () => {
  const messages = await lint(
    'services/delivery/src/ok.ts',
    "import { ParseIdPipe } from '@dronedelivery/platform';\nexport const p = ParseIdPipe;\n",
  );
  expect(messages).toEqual([]);
});
