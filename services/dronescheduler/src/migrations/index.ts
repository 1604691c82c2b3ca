import { CreateFleetAndAssignments1767225600000 } from './1767225600000-create-fleet-and-assignments';
import { CandidateOrderIndex1767312000000 } from './1767312000000-candidate-order-index';

/** Every migration, oldest first. Applied ones are recorded in the schema_migrations table. */
export const MIGRATIONS = [CreateFleetAndAssignments1767225600000, CandidateOrderIndex1767312000000];
