/** A reachability check of a service's own store. Never a downstream service: that would cascade outages. */
export interface StoreProbe {
  readonly name: string;
  ping(): Promise<void>;
}

export const STORE_PROBES = Symbol('STORE_PROBES');
