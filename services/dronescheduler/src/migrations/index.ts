import { CreateFleetAndAssignments1767225600000 } from './1767225600000-create-fleet-and-assignments';

/** Every migration, oldest first. Applied ones are recorded in the schema_migrations table. */
export const MIGRATIONS = [CreateFleetAndAssignments1767225600000];
