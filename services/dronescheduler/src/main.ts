import { runService } from '@dronedelivery/platform/run';
import { DRONESCHEDULER_SECRETS, droneSchedulerConfigSchema } from './config';

void runService({
  name: 'dronescheduler',
  description: 'Drone fleet, drone assignments and utilization.',
  configSchema: droneSchedulerConfigSchema,
  secrets: DRONESCHEDULER_SECRETS,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
