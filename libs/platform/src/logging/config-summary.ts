/**
 * The startup log's one-line view of a service's config (the full config is logged at debug level): the settings
 * the environment sets, sorted, then how many were left to their defaults. A set secret always shows, as the
 * redacted config holds it, whether it came from the environment or from Key Vault, so an operator sees it is there.
 * `redacted` must already be redacted (redactConfig): this only selects and formats.
 */
export function configSummary(redacted: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): string {
  const entries = Object.entries(redacted).filter(([, value]) => value !== undefined);
  const shown = entries.filter(([key, value]) => env[key] !== undefined || value === REDACTED).sort(([a], [b]) => a.localeCompare(b));
  const defaults = entries.length - shown.length;
  const parts = shown.map(([key, value]) => `${key}=${formatValue(value)}`);
  if (defaults > 0 || parts.length === 0) parts.push(`(${defaults} more at their defaults)`);
  return parts.join(' ');
}

const REDACTED = '[redacted]';

function formatValue(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // Quoted only when needed, so KEY=value pairs stay unambiguous on one line.
  return typeof value === 'string' && (value === '' || /[\s"=]/.test(value)) ? JSON.stringify(value) : text;
}
