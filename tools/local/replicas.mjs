// How many processes the local stack runs per service: <SERVICE>_REPLICAS (WORKFLOW_REPLICAS=3, GATEWAY_REPLICAS=2,
// PARCEL_LOCKERS_REPLICAS for a generated parcel-lockers), 1 unless set. NGINX balances several replicas: the
// ingress the gateways, an internal loopback listener every other service callers reach through one URL.

/** The variable that sets a service's replica count: its name upper-cased, dashes as underscores, then _REPLICAS. */
export function replicaVariable(service) {
  return `${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_REPLICAS`;
}

/** Each service's replica count from the environment; anything but a positive integer is refused, naming the variable. */
export function replicaCounts(services, env = process.env) {
  return Object.fromEntries(
    services.map((service) => {
      const variable = replicaVariable(service);
      const value = env[variable];
      if (value === undefined || value.trim() === '') return [service, 1];
      if (!/^[1-9][0-9]*$/.test(value.trim())) {
        throw new Error(`${variable} must be a positive integer (the number of ${service} processes to run), not "${value}"`);
      }
      return [service, Number(value.trim())];
    }),
  );
}

/**
 * The process names of a service's replicas, which prefix their log lines: the service's own name when it runs
 * once, `workflow-1`, `workflow-2`… otherwise. Stable across restarts, so a workflow replica's consumer name is too.
 */
export function replicaNames(service, count) {
  return count === 1 ? [service] : Array.from({ length: count }, (_, index) => `${service}-${index + 1}`);
}
