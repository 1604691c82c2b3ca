// Placeholder until the package service lands; see services/delivery for the pattern.
export {};
