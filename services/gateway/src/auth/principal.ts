/** The authenticated caller. `ownerId` is the id deliveries and packages are owned by. */
export interface Principal {
  ownerId: string;
  ops: boolean;
}
