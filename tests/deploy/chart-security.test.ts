import { parseAllDocuments } from 'yaml';
import { type Helm, minimalSet, preparedCharts, setArgs } from './helm';

/**
 * What the charts refuse or wire for security (docs/security.md), rendered with the real helm: settings that would
 * weaken authentication fail at render time, naming the value to fix.
 */
let helm: Helm;
let charts: string;
let cleanup: (() => void) | undefined;

beforeAll(async () => {
  ({ helm, dir: charts, cleanup } = await preparedCharts());
}, 120_000);

afterAll(() => cleanup?.());

type K8sObject = { kind: string; metadata: { name: string }; [key: string]: any };

async function render(chart: string, args: string[]): Promise<K8sObject[]> {
  const stdout = await helm.ok(['template', chart, chart, '--namespace', 'dronedelivery', ...args], charts);
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

async function renderFails(chart: string, args: string[]): Promise<string> {
  const result = await helm.run(['template', chart, chart, '--namespace', 'dronedelivery', ...args], charts);
  expect(result.code, `helm template ${chart} should fail`).not.toBe(0);
  return result.stderr;
}

/** The minimal --set of a chart with some values replaced (or added). */
function minimalWith(chart: string, overrides: Record<string, string>): string[] {
  const sets = minimalSet(chart).filter((set) => !(set.slice(0, set.indexOf('=')) in overrides));
  return setArgs([...sets, ...Object.entries(overrides).map(([key, value]) => `${key}=${value}`)]);
}

describe('gateway user tokens (AUTH_MODE=entra)', () => {
  it('refuses a JWKS URI that is not https://', async () => {
    const jwks = 'http://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/discovery/v2.0/keys';
    const stderr = await renderFails('gateway', minimalWith('gateway', { 'config.AUTH_JWKS_URI': jwks }));
    expect(stderr).toMatch(/AUTH_JWKS_URI/);
    await render('gateway', minimalWith('gateway', {}));
  });
});
