import type { StreamFields } from '../saga/command';

/** Fields the workflow adds when it dead-letters a command; everything else is the original entry. */
export const DEAD_LETTER_FIELDS = ['reason', 'attempts', 'failedAt', 'originalId'] as const;

export interface StoredDeadLetter {
  id: string;
  fields: StreamFields;
}

/** Storage port of the dead letters; the Redis adapter is one implementation. */
export interface DeadLettersRepository {
  /** Oldest first, after the given id (exclusive) when one is given. */
  list(limit: number, after?: string): Promise<StoredDeadLetter[]>;
  count(): Promise<number>;
  get(id: string): Promise<StoredDeadLetter | undefined>;
  /**
   * Puts the original command (same fields, so the same commandId and trace context) back on the command stream and
   * removes the dead letter, atomically. Returns the new stream id, or undefined when the dead letter does not exist
   * (any more).
   */
  replay(id: string): Promise<string | undefined>;
}

export const DEAD_LETTERS_REPOSITORY = Symbol('DEAD_LETTERS_REPOSITORY');
