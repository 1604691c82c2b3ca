// Placeholder until the workflow service lands; see services/delivery for the pattern.
export {};
