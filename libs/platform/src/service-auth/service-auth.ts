import type { ServiceAuthBackendConfig, ServiceAuthCallerConfig } from './service-auth-settings';
import { parseServiceMap } from './service-auth-settings';
import { loadLocalServiceSigningKey } from './local-service-keys';
import { EntraServiceTokenProvider, LocalServiceTokenProvider, type ServiceTokenProvider } from './service-token-provider';

/** A config with the backend settings spread in: the service's /api routes then need service tokens. */
export function isServiceAuthBackend(config: object): config is ServiceAuthBackendConfig {
  return typeof (config as Partial<ServiceAuthBackendConfig>).SERVICE_AUTH_CLOCK_SKEW_SECONDS === 'number';
}

/** A config with the caller settings spread in: its downstream calls then carry service tokens. */
export function isServiceAuthCaller(config: object): config is ServiceAuthCallerConfig {
  return (
    'SERVICE_AUTH_DOWNSTREAM_AUDIENCES' in config || typeof (config as Partial<ServiceAuthCallerConfig>).SERVICE_AUTH_MODE === 'string'
  );
}

/** One provider per process, shared by every downstream client: one cache, one credential. */
export async function serviceTokenProvider(serviceName: string, config: ServiceAuthCallerConfig): Promise<ServiceTokenProvider> {
  if (config.SERVICE_AUTH_MODE === 'local') {
    return new LocalServiceTokenProvider(serviceName, await loadLocalServiceSigningKey(config.SERVICE_AUTH_LOCAL_KEY_DIR));
  }
  // Loaded on first use, so local mode never loads @azure/identity here. Workload identity sets AZURE_CLIENT_ID etc.
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new EntraServiceTokenProvider(new DefaultAzureCredential());
}

/** The audience of tokens for a downstream: its name locally, its application ID URI (from settings) on Entra. */
export function downstreamAudience(config: ServiceAuthCallerConfig, downstream: string): string {
  if (config.SERVICE_AUTH_MODE === 'local') return downstream;
  const audience = parseServiceMap(config.SERVICE_AUTH_DOWNSTREAM_AUDIENCES).get(downstream);
  if (!audience) throw new Error(`SERVICE_AUTH_DOWNSTREAM_AUDIENCES names no audience for ${downstream} (SERVICE_AUTH_MODE=entra)`);
  return audience;
}
