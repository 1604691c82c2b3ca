import { runService } from '@dronedelivery/platform/run';
import { DELIVERY_SECRETS, deliveryConfigSchema } from './config';

void runService({
  name: 'delivery',
  description: 'In-flight deliveries, their status and tracking events.',
  configSchema: deliveryConfigSchema,
  secrets: DELIVERY_SECRETS,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
