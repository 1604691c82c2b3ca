import { type DynamicModule, Global, Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../app/tokens';
import { StoreUnavailableError } from '../errors/problem';
import { STORE_PROBES, type StoreProbe } from '../health/store-probe';

/** How a service opens, checks and closes its own store; `storeModule` does the Nest wiring around it. */
export interface StoreDefinition<Client, Config = unknown> {
  /** The injection token the service's repositories bind to. */
  token: symbol;
  /** Names the store in the boot log ('Cosmos DB is unreachable; …'). */
  name: string;
  /** Opens the client from the service's validated config; a rejection fails the boot. */
  create(config: Config): Client | Promise<Client>;
  /** Readiness: the service is ready only while this answers. */
  probe(client: Client, config: Config): StoreProbe;
  close(client: Client): void | Promise<void>;
  /**
   * Boot-time work on the store (e.g. provisioning). A StoreUnavailableError does not stop the boot, so a store that
   * starts after the service does not crash-loop it: readiness stays down until the probe answers. Anything else is
   * permanent (wrong key, missing role) and fails the boot with its message.
   */
  onBoot?(client: Client, config: Config): Promise<void>;
}

/**
 * A service's store module: provides the client under `token` to every module (global), registers its readiness
 * probe, runs the boot hook, and closes the client in onApplicationShutdown, which Nest runs after the HTTP server
 * has closed, so requests still in flight keep their store until they finish.
 */
export function storeModule<Client, Config = unknown>(definition: StoreDefinition<Client, Config>): DynamicModule {
  const { token } = definition;

  // A class per store: Nest tells modules apart by class, and the hooks below need this store's client.
  @Global()
  @Module({})
  class StoreModule implements OnModuleInit, OnApplicationShutdown {
    private readonly logger = new Logger('store');

    constructor(
      @Inject(token) private readonly client: Client,
      @Inject(APP_CONFIG) private readonly config: Config,
    ) {}

    async onModuleInit(): Promise<void> {
      if (!definition.onBoot) return;
      try {
        await definition.onBoot(this.client, this.config);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        this.logger.warn(`${definition.name} is unreachable; readiness stays down until it answers`);
      }
    }

    async onApplicationShutdown(): Promise<void> {
      await definition.close(this.client);
    }
  }

  return {
    module: StoreModule,
    providers: [
      { provide: token, inject: [APP_CONFIG], useFactory: (config: Config) => definition.create(config) },
      {
        provide: STORE_PROBES,
        inject: [token, APP_CONFIG],
        useFactory: (client: Client, config: Config) => [definition.probe(client, config)],
      },
    ],
    exports: [token],
  };
}
