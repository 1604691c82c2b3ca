import { platformConfigSchema, secretSettingName } from '@dronedelivery/platform/config';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { SERVICE_CONFIG } from '../deploy/services';

/**
 * The service READMEs share one shape (the sections a generated service gets too), and each one's settings table
 * lists exactly the settings its config schema declares beyond the shared ones, with the schema's defaults. The
 * shared settings are the root README's table. So neither can drift from the code.
 */
const ROOT = join(__dirname, '../..');
const SECTIONS = ['Purpose', 'API', 'Store design', 'Settings', 'Run alone'];

/** Every service, generated ones included (tests/deploy/services.ts lists them with their config schemas). */
const services = SERVICE_CONFIG;

const shared = Object.keys(platformConfigSchema.shape);

function readme(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

function headings(text: string): string[] {
  return [...text.matchAll(/^## (.+)$/gm)].map((match) => match[1].trim());
}

/** The body of one `## ` section (up to the next one). */
function section(text: string, title: string): string {
  const start = text.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`no section "## ${title}"`);
  const rest = text.slice(start + title.length + 5);
  const next = rest.search(/^## /m);
  return next < 0 ? rest : rest.slice(0, next);
}

interface Row {
  names: string[];
  default: string;
  meaning: string;
}

/** Rows of the `| setting | default | meaning |` table(s) in a piece of markdown. */
function settingRows(markdown: string): Row[] {
  return markdown
    .split('\n')
    .filter((line) => /^\| `[A-Z]/.test(line))
    .map((line) => {
      const [name, fallback, ...meaning] = line.slice(1, -1).split(' | ');
      return { names: [...name.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]), default: fallback.trim(), meaning: meaning.join(' | ') };
    });
}

/** What the schema does with the setting unset: its default, undefined (optional), or "required". */
function schemaDefault(schema: z.ZodObject, key: string): { required: true } | { required: false; value: unknown } {
  const parsed = (schema.shape[key] as z.ZodType).safeParse(undefined);
  return parsed.success ? { required: false, value: parsed.data } : { required: true };
}

describe.each(Object.entries(services))('services/%s/README.md', (name, { schema, secrets }) => {
  const text = readme(`services/${name}/README.md`);

  it('has the sections every service README has, in the same order', () => {
    expect(headings(text)).toEqual(SECTIONS);
    expect(text.startsWith(`# ${name} service\n`)).toBe(true);
  });

  it('links its OpenAPI document and has the exact commands to run it alone', () => {
    expect(section(text, 'API')).toContain(`(../../docs/openapi/${name}.json)`);
    const run = section(text, 'Run alone');
    expect(run).toContain('```bash\n');
    expect(run).toContain(`services/${name}/dist/main.js`);
    expect(run).toContain(`npx vitest run --project ${name}`);
  });

  it("lists exactly the settings its config schema declares beyond the shared ones, secrets marked, with the schema's defaults", () => {
    const rows = settingRows(section(text, 'Settings'));
    const own = Object.keys(schema.shape).filter((key) => key === 'PORT' || !shared.includes(key));
    expect(rows.flatMap((row) => row.names).sort()).toEqual([...own].sort());
    expect(rows.every((row) => row.names.length === 1)).toBe(true); // one setting per row, so each has its default

    const secretNames = secrets.map(secretSettingName);
    for (const row of rows) {
      const [key] = row.names;
      expect(row.meaning.includes('*secret*'), `${key}: *secret* marks exactly the secrets`).toBe(secretNames.includes(key));
      const expected = schemaDefault(schema, key);
      const literal = /^`(.*)`$/.exec(row.default)?.[1];
      if (row.default === 'required') expect(expected.required, `${key} is required`).toBe(true);
      else if (row.default === '—') expect(expected, `${key} has no default`).toEqual({ required: false, value: undefined });
      else if (literal !== undefined)
        expect(expected, `${key} defaults to ${literal}`).toEqual({ required: false, value: expect.anything() });
      else expect(expected.required, `${key}: a default described in words`).toBe(false);
      if (literal !== undefined && !expected.required) expect(String(expected.value), `${key}'s default`).toBe(literal);
    }
  });
});

it("the root README's shared settings table lists exactly the platform's settings", () => {
  const text = readme('README.md');
  const table = section(text, 'Configuration').split('Shared by every service')[1].split('\n\n')[1];
  expect(
    settingRows(table)
      .flatMap((row) => row.names)
      .sort(),
  ).toEqual([...shared].sort());
});
