/** Who the service is, for main.ts and the tests alike: its logs, metrics and OpenAPI document name it from here. */
export const SERVICE = {
  name: 'workflow',
  description: 'The delivery saga: consumes the command stream, calls package, dronescheduler and delivery, compensates, dead-letters.',
} as const;
