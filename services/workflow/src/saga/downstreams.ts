import { downstreamClientProviders } from '@dronedelivery/platform';
import type { WorkflowConfig } from '../config';

export const PACKAGE_CLIENT = Symbol('PACKAGE_CLIENT');
export const DRONESCHEDULER_CLIENT = Symbol('DRONESCHEDULER_CLIENT');
export const DELIVERY_CLIENT = Symbol('DELIVERY_CLIENT');

const DOWNSTREAMS = [
  { token: PACKAGE_CLIENT, name: 'package', url: (c: WorkflowConfig) => c.PACKAGE_URL },
  { token: DRONESCHEDULER_CLIENT, name: 'dronescheduler', url: (c: WorkflowConfig) => c.DRONESCHEDULER_URL },
  { token: DELIVERY_CLIENT, name: 'delivery', url: (c: WorkflowConfig) => c.DELIVERY_URL },
] as const;

export const DOWNSTREAM_TOKENS = DOWNSTREAMS.map((d) => d.token);

export const downstreamProviders = downstreamClientProviders(DOWNSTREAMS);
