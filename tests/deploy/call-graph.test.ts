import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downstreamsIn } from './call-graph';
import { Helm, copyCharts, helmBinary, minimalSet, setArgs } from './helm';
import { parseManifests } from './k8s-validate';
import { urlSetting } from './services';

/** Service names are DNS labels, so a generated service (`parcel-lockers`) can be a downstream like the five. */
const KNOWN = ['delivery', 'parcel-lockers', 'tracking-note2'];
const module = (...entries: string[]) =>
  `DownstreamClientsModule.forRoot([\n${entries.map((entry) => `      ${entry},`).join('\n')}\n    ]),`;

describe('downstreams read from downstreams.module.ts', () => {
  it('a service URL setting is the name in capitals, a dash an underscore', () => {
    expect(urlSetting('delivery')).toBe('DELIVERY_URL');
    expect(urlSetting('parcel-lockers')).toBe('PARCEL_LOCKERS_URL');
    expect(urlSetting('tracking-note2')).toBe('TRACKING_NOTE2_URL');
  });

  it('finds hyphenated downstreams beside plain ones, typed or not', () => {
    const source = module(
      "{ api: DeliveryApi, name: 'delivery', url: (c: GatewayConfig) => c.DELIVERY_URL }",
      "{ api: ParcelLockersApi, name: 'parcel-lockers', url: (c: GatewayConfig) => c.PARCEL_LOCKERS_URL }",
      "{ api: TrackingNoteApi, name: 'tracking-note2', url: (c) => c.TRACKING_NOTE2_URL }",
    );
    expect(downstreamsIn(source, 'downstreams.module.ts', KNOWN)).toEqual(['delivery', 'parcel-lockers', 'tracking-note2']);
    expect(downstreamsIn(module(), 'downstreams.module.ts', KNOWN)).toEqual([]);
  });

  it('refuses a downstream read from another setting than its own', () => {
    const source = module("{ api: ParcelLockersApi, name: 'parcel-lockers', url: (c: GatewayConfig) => c.PARCEL_URL }");
    expect(() => downstreamsIn(source, 'x/downstreams.module.ts', KNOWN)).toThrow(
      'x/downstreams.module.ts: downstream parcel-lockers reads PARCEL_URL, not PARCEL_LOCKERS_URL',
    );
  });

  it('refuses a downstream that is not a service', () => {
    const source = module("{ api: LockerApi, name: 'lockers', url: (c: GatewayConfig) => c.LOCKERS_URL }");
    expect(() => downstreamsIn(source, 'x/downstreams.module.ts', KNOWN)).toThrow('x/downstreams.module.ts: unknown downstream lockers');
  });
});

describe('the library chart names a hyphenated downstream as the service reads it', () => {
  let helm: Helm;
  let charts: string;
  let cleanup: () => void;

  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), 'dronedelivery-helm-'));
    helm = new Helm(helmBinary(), join(home, 'home'));
    const copy = copyCharts();
    charts = copy.dir;
    cleanup = () => {
      copy.cleanup();
      rmSync(home, { recursive: true, force: true });
    };
    await helm.ok(['dependency', 'build', 'delivery'], charts);
  }, 120_000);

  afterAll(() => cleanup?.());

  it('downstreams: [parcel-lockers] is PARCEL_LOCKERS_URL=http://parcel-lockers:<port> in the ConfigMap', async () => {
    // The values schema lists the services that exist; the name under test is not one of them yet.
    const args = [
      ...setArgs([
        ...minimalSet('delivery'),
        'downstreams[0]=parcel-lockers',
        'global.audiences.parcel-lockers=api://dronedelivery-parcel-lockers',
      ]),
      '--skip-schema-validation',
    ];
    const objects = parseManifests(await helm.ok(['template', 'delivery', 'delivery', '--namespace', 'dronedelivery', ...args], charts));
    const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === 'delivery') as
      { data: Record<string, string> } | undefined;
    expect(configMap?.data).toMatchObject({ PARCEL_LOCKERS_URL: 'http://parcel-lockers:8080' });
    expect(Object.keys(configMap?.data ?? {}).filter((key) => key.includes('-'))).toEqual([]);
  });
});
