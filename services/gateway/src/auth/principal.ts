/** The authenticated caller. `ownerId` is the id deliveries and packages are owned by. */
export interface Principal {
  ownerId: string;
  ops: boolean;
  /**
   * Set only for callers with the load-test app role (AUTH_LOADTEST_ROLE): they may also act for every owner whose
   * id starts with this prefix (LOADTEST_OWNER_PREFIX), and are rate limited as one role.
   */
  loadTestOwnerPrefix?: string;
}
