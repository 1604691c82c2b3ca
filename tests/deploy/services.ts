/**
 * The services the deploy checks know, each with its config schema and secrets: the charts' values schemas,
 * ConfigMap checks, Bicep identities and compose services are all checked for every entry. `npm run new-service`
 * adds its import and its entry (above the marker) here; the rest of tests/deploy derives from this list.
 */
import type { SecretSetting } from '@dronedelivery/platform/config';
import type { z } from 'zod';
import { DELIVERY_SECRETS, deliveryConfigSchema } from '../../services/delivery/src/config';
import { DRONESCHEDULER_SECRETS, droneSchedulerConfigSchema } from '../../services/dronescheduler/src/config';
import { GATEWAY_SECRETS, gatewayConfigSchema } from '../../services/gateway/src/config';
import { PACKAGE_SECRETS, packageConfigSchema } from '../../services/package/src/config';
import { WORKFLOW_SECRETS, workflowConfigSchema } from '../../services/workflow/src/config';

export interface ServiceConfig {
  schema: z.ZodObject;
  secrets: readonly SecretSetting[];
}

export const SERVICE_CONFIG = {
  gateway: { schema: gatewayConfigSchema, secrets: GATEWAY_SECRETS },
  workflow: { schema: workflowConfigSchema, secrets: WORKFLOW_SECRETS },
  package: { schema: packageConfigSchema, secrets: PACKAGE_SECRETS },
  dronescheduler: { schema: droneSchedulerConfigSchema, secrets: DRONESCHEDULER_SECRETS },
  delivery: { schema: deliveryConfigSchema, secrets: DELIVERY_SECRETS },
  // new-service: entries
} satisfies Record<string, ServiceConfig>;

export type Service = keyof typeof SERVICE_CONFIG;
export const SERVICES = Object.keys(SERVICE_CONFIG) as Service[];

/** The setting that holds a service's URL in its callers' config: `parcel-lockers` → `PARCEL_LOCKERS_URL`. */
export function urlSetting(service: string): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_URL`;
}
