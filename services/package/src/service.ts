/** Who the service is, for main.ts and the tests alike: its logs, metrics and OpenAPI document name it from here. */
export const SERVICE = { name: 'package', description: 'Packages (size, weight, tag, owner) on Azure Cosmos DB for NoSQL.' } as const;
