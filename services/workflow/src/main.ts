import { runService } from '@dronedelivery/platform/run';
import { WORKFLOW_SECRETS, workflowConfigSchema } from './config';
import { SERVICE } from './service';

void runService({
  ...SERVICE,
  configSchema: workflowConfigSchema,
  secrets: WORKFLOW_SECRETS,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
