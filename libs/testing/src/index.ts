export * from './eventually';
export * from './ingestion-stub';
export * from './key-vault-stub';
export * from './ports';
export * from './redis-server';
export * from './service-process';
export * from './tls';
