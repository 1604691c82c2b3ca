import { runService } from '@dronedelivery/platform/run';
import { GATEWAY_SECRETS, gatewayConfigSchema } from './config';
import { SERVICE } from './service';

void runService({
  ...SERVICE,
  configSchema: gatewayConfigSchema,
  secrets: GATEWAY_SECRETS,
  bearerAuth: true,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
