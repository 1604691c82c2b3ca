import { NotFoundProblem } from '@dronedelivery/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { StreamFields } from '../saga/command';
import { DEAD_LETTER_FIELDS, DEAD_LETTERS_REPOSITORY, type DeadLettersRepository, type StoredDeadLetter } from './deadletters.repository';

export interface DeadLetterView {
  id: string;
  type: string;
  deliveryId: string;
  commandId: string;
  reason: string;
  attempts: number;
  failedAt: string;
  originalId: string;
  fields: StreamFields;
}

@Injectable()
export class DeadLettersService {
  constructor(@Inject(DEAD_LETTERS_REPOSITORY) private readonly repository: DeadLettersRepository) {}

  async list(limit: number, after?: string): Promise<{ items: DeadLetterView[]; total: number }> {
    const [letters, total] = await Promise.all([this.repository.list(limit, after), this.repository.count()]);
    return { items: letters.map(view), total };
  }

  async replay(id: string): Promise<{ deadLetterId: string; commandId: string; streamId: string }> {
    const letter = await this.repository.get(id);
    if (!letter) throw new NotFoundProblem(`Dead letter ${id} does not exist.`);
    const streamId = await this.repository.replay(id);
    // Replayed (and removed) by a concurrent request between the read and the script.
    if (!streamId) throw new NotFoundProblem(`Dead letter ${id} does not exist.`);
    return { deadLetterId: id, commandId: letter.fields.commandId ?? '', streamId };
  }
}

function view({ id, fields }: StoredDeadLetter): DeadLetterView {
  const original = Object.fromEntries(Object.entries(fields).filter(([name]) => !(DEAD_LETTER_FIELDS as readonly string[]).includes(name)));
  return {
    id,
    type: fields.type ?? '',
    deliveryId: fields.deliveryId ?? '',
    commandId: fields.commandId ?? '',
    reason: fields.reason ?? '',
    attempts: Number(fields.attempts ?? 0),
    failedAt: fields.failedAt ?? '',
    originalId: fields.originalId ?? '',
    fields: original,
  };
}
