export declare function replicaVariable(service: string): string;
export declare function replicaCounts(services: readonly string[], env?: Record<string, string | undefined>): Record<string, number>;
export declare function replicaNames(service: string, count: number): string[];
