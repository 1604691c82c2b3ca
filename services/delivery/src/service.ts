/** Who the service is, for main.ts and the tests alike: its logs, metrics and OpenAPI document name it from here. */
export const SERVICE = { name: 'delivery', description: 'In-flight deliveries, their status and tracking events.' } as const;
