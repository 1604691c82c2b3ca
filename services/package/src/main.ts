import { runService } from '@dronedelivery/platform/run';
import { PACKAGE_SECRETS, packageConfigSchema } from './config';

void runService({
  name: 'package',
  description: 'Packages (size, weight, tag, owner) on Azure Cosmos DB for NoSQL.',
  configSchema: packageConfigSchema,
  secrets: PACKAGE_SECRETS,
  rootModule: async (config) => (await import('./app.module.js')).AppModule.forRoot(config),
});
