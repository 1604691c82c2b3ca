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

export const reschedulePayloadSchema = z
  .object({
    pickupLocation: z.string().min(1).optional(),
    dropOffLocation: z.string().min(1).optional(),
    pickupTime: isoTime.optional(),
    deadline: isoTime.optional(),
  })
  .refine((changes) => Object.values(changes).some((value) => value !== undefined), 'must change at least one field');

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
  /** The stream id the command was first accepted with (a replayed dead letter keeps it): orders reschedules. */
  acceptedId: string;
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

type CommandType = keyof typeof PAYLOADS;

/** Own keys only: `in` would also accept what every object inherits (`constructor`, `toString`, `__proto__`). */
function isCommandType(type: string | undefined): type is CommandType {
  return type !== undefined && Object.hasOwn(PAYLOADS, type);
}

/**
 * The W3C baggage header grammar (list-member *( "," list-member ), key = token, value = baggage-octets) and its
 * limits (180 members, 8192 bytes). The saga puts the baggage into its context and propagates it to every call, so
 * an entry whose baggage no header could carry is as malformed as its payload.
 */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const VALUE = '[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x5B\\x5D-\\x7E]*';
const PROPERTY = `${TOKEN}(?:[ \\t]*=[ \\t]*${VALUE})?`;
const BAGGAGE_MEMBER = new RegExp(`^[ \\t]*${TOKEN}[ \\t]*=[ \\t]*${VALUE}(?:[ \\t]*;[ \\t]*${PROPERTY})*[ \\t]*$`);

function baggageProblem(baggage: string): string | undefined {
  if (Buffer.byteLength(baggage) > 8192) return 'baggage is longer than 8192 bytes';
  const members = baggage.split(',');
  if (members.length > 180) return 'baggage has more than 180 members';
  if (!members.every((member) => BAGGAGE_MEMBER.test(member))) return 'baggage is not a W3C baggage header';
  return undefined;
}

export type ParsedCommand = { ok: true; command: Command } | { ok: false; reason: string };

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/**
 * A malformed entry can never succeed, however often it is retried: the caller dead-letters it at once.
 * `messageId`: the entry's id on the command stream.
 */
export function parseCommand(fields: StreamFields, messageId: string): ParsedCommand {
  const { type, commandId, deliveryId, ownerId, payload, baggage, acceptedId = messageId } = fields;
  if (!commandId || !deliveryId || !ownerId)
    return { ok: false, reason: 'malformed command: commandId, deliveryId and ownerId are required' };
  if (!isCommandType(type)) return { ok: false, reason: `malformed command: unknown type ${JSON.stringify(type ?? null)}` };
  const baggageIssue = baggage === undefined ? undefined : baggageProblem(baggage);
  if (baggageIssue) return { ok: false, reason: `malformed command: ${baggageIssue}` };
  if (!STREAM_ID.test(acceptedId)) return { ok: false, reason: 'malformed command: acceptedId is not a stream id' };
  let json: unknown;
  try {
    json = JSON.parse(payload ?? '');
  } catch {
    return { ok: false, reason: 'malformed command: payload is not JSON' };
  }
  const parsed = PAYLOADS[type].safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      reason: `malformed command: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'} ${i.message}`).join('; ')}`,
    };
  }
  return { ok: true, command: { type, commandId, deliveryId, ownerId, acceptedId, payload: parsed.data } as Command };
}

/**
 * Stream entries arrive as a flat [field, value, ...] list. No prototype: a field named `__proto__` or
 * `constructor` is data like any other (kept in a dead letter), and a missing field is never an inherited one.
 */
export function fieldsOf(flat: string[]): StreamFields {
  const fields = Object.create(null) as StreamFields;
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
  return fields;
}
