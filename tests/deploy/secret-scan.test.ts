import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '@secretlint/node';
import { type Helm, minimalSet, preparedCharts, repoRoot, setArgs } from './helm';
import { SERVICES } from './services';

/**
 * The secret scan (secretlint, recommended rules) over what a deployment actually gets: every chart rendered with
 * its README's minimal --set and with each example values file. `npm run lint` scans the tree itself with the same
 * rules (.secretlintrc.json, .secretlintignore). A scan that finds nothing proves little, so the engine is first shown
 * to find planted secrets in a rendered manifest.
 */
const CHARTS = [...SERVICES, 'dronedelivery'];
const EXAMPLES = ['values-dev.yaml', 'values-prod.yaml'];
let helm: Helm;
let charts: string;
let cleanup: (() => void) | undefined;
let scan: (content: string, filePath: string) => Promise<{ ok: boolean; output: string }>;

beforeAll(async () => {
  ({ helm, dir: charts, cleanup } = await preparedCharts());
  const engine = await createEngine({ cwd: repoRoot, formatter: 'stylish', color: false, maskSecrets: true });
  scan = (content, filePath) => engine.executeOnContent({ content, filePath });
}, 120_000);

afterAll(() => cleanup?.());

async function rendered(chart: string, args: string[]): Promise<string> {
  return helm.ok(['template', chart, chart, '--namespace', 'dronedelivery', ...args], charts);
}

it('finds secrets planted in a rendered manifest: a private key, passwords in connection strings, an account key', async () => {
  const manifest = await rendered('delivery', setArgs(minimalSet('delivery')));
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const planted = [
    `${manifest}\n---\ndata:\n  tls.key: |\n${privateKey.replace(/^/gm, '    ')}`,
    `${manifest}\n---\nurl: ${['postgres', '//admin:S3cr3tPassw0rd@db.example.com:5432/x'].join(':')}\n`,
    `${manifest}\n---\nconnection: AccountEndpoint=https://dd.documents.azure.com:443/;AccountKey=${'Ab3+'.repeat(21)}Ab==;\n`,
    `${manifest}\n---\nconnection: Server=tcp:dd.database.windows.net;Database=d;User Id=u;${'Pass' + 'word'}=Hunter2Secret;\n`,
  ];
  for (const content of planted) {
    const result = await scan(content, 'planted.yaml');
    expect(result.ok, content.slice(-200)).toBe(false);
  }
  expect((await scan(manifest, 'delivery.yaml')).ok).toBe(true);
}, 60_000);

describe('no secret in any rendered chart', () => {
  it.each(CHARTS)(
    '%s: the minimal --set and each example values file',
    async (chart) => {
      const valueSets = [
        setArgs(minimalSet(chart)),
        ...EXAMPLES.filter((file) => existsSync(join(repoRoot, 'charts', chart, file))).map((file) => ['-f', join(chart, file)]),
      ];
      for (const args of valueSets) {
        const result = await scan(await rendered(chart, args), `${chart}.yaml`);
        expect(result.ok, `${chart} ${args.join(' ')}\n${result.output}`).toBe(true);
      }
    },
    120_000,
  );
});
