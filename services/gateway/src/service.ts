/** Who the service is, for main.ts and the tests alike: its logs, metrics and OpenAPI document name it from here. */
export const SERVICE = {
  name: 'gateway',
  description: 'Public API: authentication, validation, idempotency, durable ingestion onto the command stream, read aggregation.',
} as const;
