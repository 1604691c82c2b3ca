import { z } from 'zod';

/** A stream entry as docs/command-stream.md defines it; every value is a string. */
export type StreamFields = Record<string, string>;

const isoTime = z.iso.datetime({ offset: true });

export const createPayloadSchema = z.object({
  ownerId: z.string().min(1),
  pickupLocation: z.string().min(1),
  dropOffLocation: z.string().min(1),
  pickupTime: isoTime,
  deadline: isoTime,
  expedited: z.boolean(),
  confirmationRequired: z.string().min(1),
  packageInfo: z.object({ packageId: z.string().min(1), size: z.string().min(1), weight: z.number().positive(), tag: z.string().min(1) }),
});

export const reschedulePayloadSchema = z.object({
  pickupLocation: z.string().min(1).optional(),
  dropOffLocation: z.string().min(1).optional(),
  pickupTime: isoTime.optional(),
  deadline: isoTime.optional(),
});

export const confirmPayloadSchema = z.object({
  dateTime: isoTime,
  confirmationType: z.string().min(1),
  confirmationBlob: z.string().optional(),
});

export type CreatePayload = z.infer<typeof createPayloadSchema>;
export type ReschedulePayload = z.infer<typeof reschedulePayloadSchema>;
export type ConfirmPayload = z.infer<typeof confirmPayloadSchema>;

interface Envelope {
  commandId: string;
  deliveryId: string;
  ownerId: string;
}

export type Command =
  | (Envelope & { type: 'create'; payload: CreatePayload })
  | (Envelope & { type: 'cancel'; payload: Record<string, never> })
  | (Envelope & { type: 'reschedule'; payload: ReschedulePayload })
  | (Envelope & { type: 'confirm'; payload: ConfirmPayload });

const PAYLOADS = {
  create: createPayloadSchema,
  cancel: z.object({}),
  reschedule: reschedulePayloadSchema,
  confirm: confirmPayloadSchema,
} as const;

export type ParsedCommand = { ok: true; command: Command } | { ok: false; reason: string };

/** A malformed entry can never succeed, however often it is retried: the caller dead-letters it at once. */
export function parseCommand(fields: StreamFields): ParsedCommand {
  const { type, commandId, deliveryId, ownerId, payload } = fields;
  if (!commandId || !deliveryId || !ownerId)
    return { ok: false, reason: 'malformed command: commandId, deliveryId and ownerId are required' };
  if (!(type in PAYLOADS)) return { ok: false, reason: `malformed command: unknown type ${JSON.stringify(type ?? null)}` };
  let json: unknown;
  try {
    json = JSON.parse(payload ?? '');
  } catch {
    return { ok: false, reason: 'malformed command: payload is not JSON' };
  }
  const parsed = PAYLOADS[type as keyof typeof PAYLOADS].safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      reason: `malformed command: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'} ${i.message}`).join('; ')}`,
    };
  }
  return { ok: true, command: { type, commandId, deliveryId, ownerId, payload: parsed.data } as Command };
}

/** Stream entries arrive as a flat [field, value, ...] list. */
export function fieldsOf(flat: string[]): StreamFields {
  const fields: StreamFields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}
