import { runService } from '@dronedelivery/platform/run';
import { DELIVERY_SECRETS, deliveryConfigSchema } from './config';
import { SERVICE } from './service';

void runService({
  ...SERVICE,
  configSchema: deliveryConfigSchema,
  secrets: DELIVERY_SECRETS,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
