// Filled in by the service that needs it.
export {};
