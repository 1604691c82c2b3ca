import { runService } from '@dronedelivery/platform/run';
import { DRONESCHEDULER_SECRETS, droneSchedulerConfigSchema } from './config';
import { SERVICE } from './service';

void runService({
  ...SERVICE,
  configSchema: droneSchedulerConfigSchema,
  secrets: DRONESCHEDULER_SECRETS,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
