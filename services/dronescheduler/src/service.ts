/** Who the service is, for main.ts and the tests alike: its logs, metrics and OpenAPI document name it from here. */
export const SERVICE = { name: 'dronescheduler', description: 'Drone fleet, drone assignments and utilization.' } as const;
