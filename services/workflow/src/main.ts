import { runService } from '@dronedelivery/platform/run';
import { WORKFLOW_SECRETS, workflowConfigSchema } from './config';

void runService({
  name: 'workflow',
  description: 'The delivery saga: consumes the command stream, calls package, dronescheduler and delivery, compensates, dead-letters.',
  configSchema: workflowConfigSchema,
  secrets: WORKFLOW_SECRETS,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
