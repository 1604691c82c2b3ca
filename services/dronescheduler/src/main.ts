// Placeholder until the dronescheduler service lands; see services/delivery for the pattern.
export {};
