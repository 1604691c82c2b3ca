// Placeholder until the gateway service lands; see services/delivery for the pattern.
export {};
