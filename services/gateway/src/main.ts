import { runService } from '@dronedelivery/platform/run';
import { GATEWAY_SECRETS, gatewayConfigSchema } from './config';

void runService({
  name: 'gateway',
  description: 'Public API: authentication, validation, idempotency, durable ingestion onto the command stream, read aggregation.',
  configSchema: gatewayConfigSchema,
  secrets: GATEWAY_SECRETS,
  bearerAuth: true,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
