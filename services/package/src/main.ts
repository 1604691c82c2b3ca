import { runService } from '@dronedelivery/platform/run';
import { PACKAGE_SECRETS, packageConfigSchema } from './config';
import { SERVICE } from './service';

void runService({
  ...SERVICE,
  configSchema: packageConfigSchema,
  secrets: PACKAGE_SECRETS,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
