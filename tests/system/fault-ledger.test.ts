import Redis from 'ioredis';
import { Client } from 'pg';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, untilOk } from '@dronedelivery/testing';
import { LocalStack, type StackDescription, stillRunning } from './stack';

/**
 * The fault suite (docs/reliability.md): the whole local stack with two gateways and three workflows takes a steady
 * load of creates (each with an Idempotency-Key, retried by the client on a network error, 5xx or 429 with the same
 * key and body) and follow-up cancels, reschedules and confirmations, while every service is SIGKILLed once, both
 * Redis servers are SIGKILLed (the stack restarts them on their append-only files), PostgreSQL is stalled and one
 * workflow replica is frozen for 20 s. The client keeps a ledger of every 202; once the system is quiet, the ledger
 * is checked against every store: each accepted delivery exists exactly once, in the state its last accepted
 * command asks for, with one assignment and one package where it should have them, no drone double-booked and
 * nothing left pending on the command stream.
 *
 * Every wait is on an observed condition (`eventually`); the timers are the load's arrival rate, the client's retry
 * backoff and the lengths of the faults themselves.
 */
const STREAM = 'dronedelivery:commands';
const GROUP = 'workflow';
const CREATES = 1800;
const ARRIVALS_PER_SECOND = 30;
const CREATES_IN_FLIGHT = 64;
const FOLLOW_UPS_IN_FLIGHT = 32;
const REQUEST_TIMEOUT_MS = 15_000;
/** A request still not accepted after this long fails the test: the system did not recover. */
const GIVE_UP_MS = 90_000;
/** Owners spread the load: the gateway limits each caller to RATE_LIMIT_MAX (600) requests a minute. */
const OWNERS = Array.from({ length: 12 }, (_, index) => `fault-owner-${index + 1}`);
/** Every window is an hour of March 2029; utilization and the delivery summary are per month of pickup. */
const YEAR = 2029;
const MONTH = 3;
const MONTH_START = Date.UTC(YEAR, MONTH - 1, 1);
const SLOTS = 31 * 24;
const POSTGRES_STALL_MS = 3_000;
const WORKFLOW_CUT_MS = 20_000;

type CommandType = 'cancel' | 'reschedule' | 'confirm';
type Status = 'Scheduled' | 'Cancelled' | 'Delivered' | 'Failed';
interface Window {
  pickupTime: string;
  deadline: string;
}
interface PlannedCommand {
  type: CommandType;
  window?: Window;
}
interface AcceptedCommand extends PlannedCommand {
  commandId: string;
  /** When the client got its 202. */
  acceptedAt: string;
}
interface LedgerEntry {
  index: number;
  ownerId: string;
  key: string;
  body: Record<string, unknown>;
  plan: PlannedCommand[];
  /** The deliveryId of every 202 this key got (the first answer and any replay). */
  answers: string[];
  acceptedAt?: string;
  deliveryId?: string;
  /** Accepted follow-up commands, in the order the client sent them (each only after the previous one's 202). */
  commands: AcceptedCommand[];
}
type Answer = { status: number; body: any; retryAfterMs?: number } | { status: 'network'; error: string };

let stack: LocalStack;
let redis: Redis;
let ops: string;
const tokens = new Map<string, string>();
/** Processes this test has SIGSTOPped and not yet resumed: resumed before the stack stops, whatever happens. */
const frozen = new Set<number>();

beforeAll(async () => {
  stack = await LocalStack.start({
    WORKFLOW_REPLICAS: '3',
    GATEWAY_REPLICAS: '2',
    DRONE_FLEET_SIZE: '40',
    // Each owner books CREATES / OWNERS deliveries, more than the default cap of active bookings per owner.
    OWNER_MAX_ACTIVE_BOOKINGS: '10000',
    CLAIM_MIN_IDLE_MS: '3000',
    RETRY_BASE_DELAY_MS: '200',
    RETRY_MAX_DELAY_MS: '2000',
    // Every fault here is transient: a command keeps being retried through it, never dead-lettered.
    MAX_ATTEMPTS: '100000',
    DOWNSTREAM_TIMEOUT_MS: '1000',
    DOWNSTREAM_RESET_TIMEOUT_MS: '1000',
  });
  redis = new Redis(stack.description.stores.commandsRedis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // the server is killed on purpose; the client reconnects
  await redis.connect();
  for (const owner of OWNERS) tokens.set(owner, stack.token(owner));
  ops = stack.token('fault-ops', true);
}, 240_000);

afterAll(async () => {
  for (const pid of frozen) signal(pid, 'SIGCONT');
  redis?.disconnect();
  if (!stack) return;
  const { services, storePids } = await current();
  const pids = [
    ...Object.values(services).flatMap(({ replicas }) => replicas.map(({ pid }) => pid)),
    storePids.commandsRedis,
    storePids.deliveryRedis,
    storePids.postgres,
  ];
  const exit = await stack.stop();
  expect(exit.code).toBe(0);
  // Every replica and store server, restarted ones included, stopped with the stack.
  expect(stillRunning(pids)).toEqual([]);
}, 90_000);

// ---------------------------------------------------------------- the plan: what the client sends

const slotWindow = (slot: number): Window => ({
  pickupTime: new Date(MONTH_START + (slot % SLOTS) * 3_600_000).toISOString(),
  deadline: new Date(MONTH_START + ((slot % SLOTS) + 1) * 3_600_000).toISOString(),
});

/** Per create, by its index: no follow-up for most, else a cancel, a reschedule or two, a confirmation. */
function planFor(index: number, slot: number): PlannedCommand[] {
  const moved = (by: number): PlannedCommand => ({ type: 'reschedule', window: slotWindow(slot + by) });
  switch (index % 20) {
    case 11:
    case 12:
      return [{ type: 'cancel' }];
    case 13:
    case 14:
      return [moved(248)];
    case 15:
    case 16:
      return [{ type: 'confirm' }];
    case 17:
      return [moved(248), moved(496)];
    case 18:
      return [moved(248), { type: 'cancel' }];
    case 19:
      return [moved(248), { type: 'confirm' }];
    default:
      return [];
  }
}

function ledgerEntries(): LedgerEntry[] {
  return Array.from({ length: CREATES }, (_, index) => {
    // 7 is coprime with the slot count: consecutive creates land in different hours, at most three per hour.
    const slot = (index * 7) % SLOTS;
    const ownerId = OWNERS[index % OWNERS.length];
    return {
      index,
      ownerId,
      key: `fault-ledger-${process.pid}-${index}`,
      body: {
        pickupLocation: '1 Main St',
        dropOffLocation: '9 Side Rd',
        ...slotWindow(slot),
        expedited: false,
        confirmationRequired: 'Picture',
        packageInfo: { packageId: `pkg-fault-${process.pid}-${index}`, size: 'Small', weight: 2.5, tag: 'fault-ledger' },
      },
      plan: planFor(index, slot),
      answers: [],
      commands: [],
    };
  });
}

// ---------------------------------------------------------------- the client

const figures = {
  createsAccepted: 0,
  /** Second sends of an accepted create with the same key (every tenth, and every one that needed a retry). */
  replaysSent: 0,
  commandsAccepted: { cancel: 0, reschedule: 0, confirm: 0 } as Record<CommandType, number>,
  clientRetries: { create: 0, cancel: 0, reschedule: 0, confirm: 0 } as Record<'create' | CommandType, number>,
  /** What the retried attempts got: status code or "network". */
  retriedAnswers: {} as Record<string, number>,
};

async function send(method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  try {
    const response = await fetch(`${stack.ingress}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (an NGINX error page): kept as text
    }
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      status: response.status,
      body: parsed,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    };
  } catch (error) {
    return { status: 'network', error: (error as Error).message };
  }
}

const retryable = (answer: Answer) => answer.status === 'network' || answer.status === 429 || answer.status >= 500;

/** Sends until the answer is 202, as a client does: the same request again after a network error, 5xx or 429. */
async function untilAccepted(kind: 'create' | CommandType, attempt: () => Promise<Answer>): Promise<{ body: any; retried: boolean }> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  for (let tries = 1; ; tries++) {
    const answer = await attempt();
    if (answer.status === 202) return { body: answer.body, retried: tries > 1 };
    if (!retryable(answer) || Date.now() > giveUpAt) {
      throw new Error(
        `${kind}: ${answer.status} after ${tries} attempts: ${JSON.stringify('body' in answer ? answer.body : answer.error)}`,
      );
    }
    figures.clientRetries[kind] += 1;
    figures.retriedAnswers[String(answer.status)] = (figures.retriedAnswers[String(answer.status)] ?? 0) + 1;
    // The client's backoff (the Retry-After asked for, capped), not a synchronisation.
    const backoffMs = Math.min(
      2_000,
      'retryAfterMs' in answer && answer.retryAfterMs ? answer.retryAfterMs : 100 * 2 ** Math.min(tries - 1, 4),
    );
    await new Promise((resolve) => setTimeout(resolve, backoffMs * (0.5 + Math.random() / 2)));
  }
}

const acceptedWaiters: { count: number; resolve: () => void }[] = [];
function onCreateAccepted(): void {
  figures.createsAccepted += 1;
  for (const waiter of acceptedWaiters.filter(({ count }) => figures.createsAccepted >= count)) {
    acceptedWaiters.splice(acceptedWaiters.indexOf(waiter), 1);
    waiter.resolve();
  }
}
function acceptedAtLeast(count: number): Promise<void> {
  if (figures.createsAccepted >= count) return Promise.resolve();
  return new Promise((resolve) => acceptedWaiters.push({ count, resolve }));
}

async function create(entry: LedgerEntry): Promise<void> {
  const token = tokens.get(entry.ownerId)!;
  const post = () => send('POST', '/api/deliveryrequests', token, entry.body, { 'idempotency-key': entry.key });
  const first = await untilAccepted('create', post);
  entry.answers.push(first.body.deliveryId);
  entry.deliveryId = first.body.deliveryId;
  entry.acceptedAt = new Date().toISOString();
  onCreateAccepted();
  // The same key again must answer the same delivery: always after a retry (the first attempt may have been stored
  // with its answer lost), and for every tenth create.
  if (first.retried || entry.index % 10 === 0) {
    figures.replaysSent += 1;
    entry.answers.push((await untilAccepted('create', post)).body.deliveryId);
  }
}

async function followUps(entry: LedgerEntry): Promise<void> {
  const token = tokens.get(entry.ownerId)!;
  const id = entry.deliveryId!;
  for (const command of entry.plan) {
    const attempt = () => {
      switch (command.type) {
        case 'cancel':
          return send('DELETE', `/api/deliveryrequests/${id}`, token);
        case 'reschedule':
          return send('PATCH', `/api/deliveryrequests/${id}`, token, command.window);
        case 'confirm':
          return send('POST', `/api/deliveries/${id}/confirmations`, token, {
            dateTime: new Date().toISOString(),
            confirmationType: 'Picture',
            confirmationBlob: `delivered-${entry.index}`,
          });
      }
    };
    const accepted = await untilAccepted(command.type, attempt);
    entry.commands.push({ ...command, commandId: accepted.body.commandId, acceptedAt: new Date().toISOString() });
    figures.commandsAccepted[command.type] += 1;
  }
}

function limiter(max: number) {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    while (active >= max) await new Promise<void>((resolve) => queue.push(resolve));
    active += 1;
    try {
      return await work();
    } finally {
      active -= 1;
      queue.shift()?.();
    }
  };
}

/** Open-model arrivals at ARRIVALS_PER_SECOND (the load's shape); each accepted create then sends its follow-ups. */
async function runLoad(ledger: LedgerEntry[]): Promise<number> {
  const creating = limiter(CREATES_IN_FLIGHT);
  const following = limiter(FOLLOW_UPS_IN_FLIGHT);
  const chains: Promise<void>[] = [];
  const start = Date.now();
  for (const entry of ledger) {
    const due = start + (entry.index * 1000) / ARRIVALS_PER_SECOND;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    chains.push(creating(() => create(entry)).then(() => following(() => followUps(entry))));
  }
  const outcomes = await Promise.allSettled(chains);
  const failed = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed.length > 0) throw new Error(`${failed.length} requests never accepted; first: ${failed[0].reason}`);
  return Date.now();
}

// ---------------------------------------------------------------- the faults

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** stack.json as the stack last wrote it (it rewrites the file when it restarts a process: read it again if torn). */
const current = (): Promise<StackDescription> => eventually(() => stack.current(), { timeoutMs: 2_000, intervalMs: 20 });

/** SIGKILL one replica; recovered once the stack has restarted it (a new PID) and it is ready again. */
async function killReplica(service: keyof StackDescription['services'], index: number): Promise<string> {
  const victim = (await current()).services[service].replicas[index];
  process.kill(victim.pid, 'SIGKILL');
  const restarted = await eventually(
    () => {
      const replica = stack.current().services[service].replicas[index];
      if (replica.pid === victim.pid) throw new Error(`${victim.name} not restarted yet`);
      return replica;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  await untilOk(`${restarted.url}/health/ready`, { timeoutMs: 60_000, intervalMs: 100 });
  return victim.name;
}

/** SIGKILL a Redis server; recovered once the stack has started it again on its append-only file. */
async function killStore(store: 'commandsRedis' | 'deliveryRedis'): Promise<void> {
  const pid = (await current()).storePids[store];
  process.kill(pid, 'SIGKILL');
  await eventually(
    () => {
      if (stack.current().storePids[store] === pid) throw new Error(`${store} not restarted yet`);
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
}

/** The processes whose parent is `parent` (PostgreSQL's backends and helpers are the postmaster's children). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so count from the last ')'.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) children.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return children;
}

/** Holds `pids` stopped for `ms` (the fault's length), then resumes them. */
async function freeze(pids: number[], ms: number): Promise<void> {
  for (const pid of pids) {
    frozen.add(pid);
    signal(pid, 'SIGSTOP');
  }
  try {
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    for (const pid of [...pids].reverse()) {
      signal(pid, 'SIGCONT');
      frozen.delete(pid);
    }
  }
}

/** Every PostgreSQL process stopped: the postmaster first (so it forks no new backend), then its children. */
async function stallPostgres(): Promise<void> {
  const postmaster = (await current()).storePids.postgres;
  frozen.add(postmaster);
  signal(postmaster, 'SIGSTOP');
  const children = childrenOf(postmaster);
  expect(children.length).toBeGreaterThan(0);
  await freeze([postmaster, ...children], POSTGRES_STALL_MS);
}

/** One workflow replica frozen (its Redis link and everything else cut): the others claim its pending commands. */
async function cutWorkflow(index: number): Promise<Record<string, number>> {
  const replica = (await current()).services.workflow.replicas[index];
  const pendingWith = async () => {
    const consumers = (await redis.xinfo('CONSUMERS', STREAM, GROUP)) as unknown[][];
    const named = consumers.map(fieldsOf).find((fields) => fields.name === replica.name);
    return Number(named?.pending ?? 0);
  };
  const before = await pendingWith();
  await freeze([replica.pid], WORKFLOW_CUT_MS);
  return { [`pendingWith${replica.name}AtCut`]: before, [`pendingWith${replica.name}AtResume`]: await pendingWith() };
}

interface FaultRecord {
  fault: string;
  atSecond: number;
  tookSeconds: number;
  detail?: Record<string, number>;
}

/** Each fault fires once that share of the creates has been accepted, the next only after the previous recovered. */
const FAULTS: { atShare: number; name: string; run: () => Promise<unknown> }[] = [
  { atShare: 0.05, name: 'SIGKILL gateway-1', run: () => killReplica('gateway', 0) },
  { atShare: 0.12, name: 'SIGKILL workflow-1', run: () => killReplica('workflow', 0) },
  { atShare: 0.19, name: 'SIGKILL package', run: () => killReplica('package', 0) },
  { atShare: 0.26, name: 'SIGKILL dronescheduler', run: () => killReplica('dronescheduler', 0) },
  { atShare: 0.33, name: 'SIGKILL delivery', run: () => killReplica('delivery', 0) },
  { atShare: 0.4, name: `workflow-3 frozen ${WORKFLOW_CUT_MS / 1000} s (SIGSTOP/SIGCONT)`, run: () => cutWorkflow(2) },
  { atShare: 0.78, name: 'SIGKILL + restart: commands Redis', run: () => killStore('commandsRedis') },
  { atShare: 0.85, name: 'SIGKILL + restart: delivery Redis', run: () => killStore('deliveryRedis') },
  { atShare: 0.92, name: `PostgreSQL stalled ${POSTGRES_STALL_MS / 1000} s (SIGSTOP/SIGCONT)`, run: stallPostgres },
];

async function runFaults(started: number): Promise<{ records: FaultRecord[]; lastEnded: number }> {
  const records: FaultRecord[] = [];
  let lastEnded = Date.now();
  for (const fault of FAULTS) {
    await acceptedAtLeast(Math.ceil(fault.atShare * CREATES));
    const began = Date.now();
    const detail = await fault.run();
    lastEnded = Date.now();
    records.push({
      fault: fault.name,
      atSecond: round((began - started) / 1000),
      tookSeconds: round((lastEnded - began) / 1000),
      ...(detail && typeof detail === 'object' ? { detail: detail as Record<string, number> } : {}),
    });
  }
  return { records, lastEnded };
}

// ---------------------------------------------------------------- reading the system back

const round = (value: number) => Math.round(value * 10) / 10;

/** ioredis answers XINFO with flat [name, value, …] lists. */
function fieldsOf(flat: unknown[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let index = 0; index < flat.length; index += 2) fields[String(flat[index])] = flat[index + 1];
  return fields;
}

/** The command stream's consumer group: entries read but not acknowledged, and entries not read yet. */
async function streamState(): Promise<{ pending: number; lag: number | null; lastDelivered: string; lastGenerated: string }> {
  const groups = ((await redis.xinfo('GROUPS', STREAM)) as unknown[][]).map(fieldsOf);
  const group = groups.find((fields) => fields.name === GROUP);
  if (!group) throw new Error(`no group ${GROUP} on ${STREAM}`);
  const stream = fieldsOf((await redis.xinfo('STREAM', STREAM)) as unknown[]);
  return {
    pending: Number(group.pending),
    lag: group.lag === null || group.lag === undefined ? null : Number(group.lag),
    lastDelivered: String(group['last-delivered-id']),
    lastGenerated: String(stream['last-generated-id']),
  };
}

/** Nothing pending, nothing unread (lag 0; when Redis cannot tell the lag, the group has read the newest entry). */
const quiet = (state: Awaited<ReturnType<typeof streamState>>) =>
  state.pending === 0 && (state.lag === 0 || (state.lag === null && state.lastDelivered === state.lastGenerated));

async function mapLimited<T, R>(items: T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]);
      }
    }),
  );
  return results;
}

/** GET JSON, retried on 429/5xx/network errors (the ingress rate-limits the reads too); other statuses are answers. */
async function read(base: string, path: string, token?: string): Promise<{ status: number; body: any }> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  for (let tries = 1; ; tries++) {
    const response = await fetch(`${base}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    }).catch((error: Error) => error);
    if (response instanceof Response && response.status !== 429 && response.status < 500) {
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    }
    if (Date.now() > giveUpAt) throw new Error(`GET ${path}: ${response instanceof Response ? response.status : response.message}`);
    const retryAfter = response instanceof Response ? Number(response.headers.get('retry-after')) * 1000 : NaN;
    await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, retryAfter > 0 ? retryAfter : 100 * tries)));
  }
}

interface DeliveryView {
  id: string;
  ownerId: string;
  status: Status;
  droneId?: string;
  packageId: string;
  pickupTime: string;
  deadline: string;
  reason?: string;
}
interface DeadLetter {
  id: string;
  type: string;
  deliveryId: string;
  commandId: string;
  reason: string;
  fields: Record<string, string>;
}

/** Every dead letter, paged through the gateway's ops route. */
async function deadLetters(): Promise<DeadLetter[]> {
  const first = await read(stack.ingress, '/api/deadletters?limit=100', ops);
  expect(first.status).toBe(200);
  const items: DeadLetter[] = [...first.body.items];
  while (items.length < first.body.total) {
    const page = await read(stack.ingress, `/api/deadletters?limit=100&after=${items.at(-1)!.id}`, ops);
    expect(page.status).toBe(200);
    if (page.body.items.length === 0) break;
    items.push(...page.body.items);
  }
  return items;
}

/**
 * What the ledger says a delivery must look like: its create, then each accepted command in the client's order.
 * A command that was dead-lettered did not apply. The only dead letter the design allows here is a reschedule
 * overtaken by a later cancel or confirmation of the same delivery: another replica ran that one while the
 * reschedule waited for its retry, and a reschedule of a cancelled or delivered delivery is refused. Any other dead
 * letter is `unexplained` (every fault here is transient, and MAX_ATTEMPTS outlasts them).
 */
function expectedOf(entry: LedgerEntry, dead: DeadLetter[]): { status: Status; window: Window; unexplained: DeadLetter[] } {
  const sentAt = (letter: DeadLetter) => {
    const pickupTime = (JSON.parse(letter.fields.payload ?? '{}') as Partial<Window>).pickupTime ?? '';
    return entry.commands.findIndex((command) => command.type === 'reschedule' && sameInstant(command.window!.pickupTime, pickupTime));
  };
  const unexplained = dead.filter((letter) => {
    const at = letter.type === 'reschedule' ? sentAt(letter) : -1;
    return at === -1 || !entry.commands.slice(at + 1).some((later) => later.type !== 'reschedule');
  });
  const deadCommands = new Set(dead.filter((letter) => letter.type === 'reschedule').map(sentAt));
  let status: Status = dead.some((letter) => letter.type === 'create') ? 'Failed' : 'Scheduled';
  let window: Window = { pickupTime: entry.body.pickupTime as string, deadline: entry.body.deadline as string };
  entry.commands.forEach((command, at) => {
    if (status !== 'Scheduled' || deadCommands.has(at)) return;
    if (command.type === 'cancel') status = 'Cancelled';
    else if (command.type === 'confirm') status = 'Delivered';
    else window = command.window!;
  });
  return { status, window, unexplained };
}

const sameInstant = (a: string | Date, b: string) => new Date(a).getTime() === Date.parse(b);

// ---------------------------------------------------------------- the test

it(`${CREATES} creates and their follow-ups through every fault: each accepted delivery ends exactly once, as asked`, async () => {
  const ledger = ledgerEntries();
  const started = Date.now();
  const [loadEnded, faults] = await Promise.all([runLoad(ledger), runFaults(started)]);

  // ---- quiet: every command acknowledged, none unread
  const quietAt = await eventually(
    async () => {
      const state = await streamState();
      if (!quiet(state)) throw new Error(`command stream not quiet: ${JSON.stringify(state)}`);
      return Date.now();
    },
    { timeoutMs: 180_000, intervalMs: 250 },
  );

  const problems: string[] = [];
  const { services, stores } = await current();

  // ---- the ledger itself: one delivery per key, whichever answer (first or replay) the client got
  const byId = new Map<string, LedgerEntry>();
  for (const entry of ledger) {
    if (new Set(entry.answers).size !== 1) problems.push(`key ${entry.key}: 202s named ${[...new Set(entry.answers)].join(', ')}`);
    const other = byId.get(entry.deliveryId!);
    if (other) problems.push(`${entry.deliveryId}: answered for keys ${other.key} and ${entry.key}`);
    byId.set(entry.deliveryId!, entry);
  }

  // ---- dead letters
  const letters = await deadLetters();
  const lettersOf = new Map<string, DeadLetter[]>();
  for (const letter of letters) {
    if (!letter.reason) problems.push(`dead letter ${letter.id} (${letter.type} ${letter.deliveryId}) has no reason`);
    if (!byId.has(letter.deliveryId)) problems.push(`dead letter ${letter.id}: ${letter.type} of unknown delivery ${letter.deliveryId}`);
    lettersOf.set(letter.deliveryId, [...(lettersOf.get(letter.deliveryId) ?? []), letter]);
  }

  // ---- every delivery, from the delivery service (the owner of the state): status, drone, window, one creation
  const deliveryUrl = services.delivery.url;
  const deliveryToken = await stack.serviceToken('delivery');
  const ids = ledger.map((entry) => entry.deliveryId!);
  const views = await mapLimited(ids, 16, (id) => read(deliveryUrl, `/api/deliveries/${id}`, deliveryToken));
  const events = await mapLimited(ids, 16, (id) => read(deliveryUrl, `/api/deliveries/${id}/events`, deliveryToken));
  const expected = new Map<string, { status: Status; window: Window }>();
  const finalStates: Record<string, number> = {};
  ledger.forEach((entry, index) => {
    const id = entry.deliveryId!;
    const dead = lettersOf.get(id) ?? [];
    const want = expectedOf(entry, dead);
    expected.set(id, want);
    for (const letter of want.unexplained) {
      problems.push(
        `${id}: ${letter.type} dead-lettered (${letter.reason}); commands sent: ${entry.commands.map((c) => c.type).join(', ')}`,
      );
    }
    const view = views[index];
    if (view.status !== 200) return void problems.push(`${id} (${entry.key}): lost, the delivery service answers ${view.status}`);
    const delivery = view.body as DeliveryView;
    finalStates[delivery.status] = (finalStates[delivery.status] ?? 0) + 1;
    const sent = ['create', ...entry.commands.map((command) => command.type)].join(' → ');
    if (delivery.status !== want.status) problems.push(`${id}: ${delivery.status}, expected ${want.status} after ${sent}`);
    if (delivery.status === 'Failed' && !delivery.reason) problems.push(`${id}: Failed without a reason`);
    if (want.status === 'Scheduled') {
      if (!delivery.droneId) problems.push(`${id}: Scheduled without a drone`);
      if (!sameInstant(delivery.pickupTime, want.window.pickupTime) || !sameInstant(delivery.deadline, want.window.deadline)) {
        problems.push(
          `${id}: window ${delivery.pickupTime}–${delivery.deadline}, expected ${want.window.pickupTime}–${want.window.deadline} after ${sent}`,
        );
      }
    }
    const history = (events[index].body ?? []) as { type: string; details?: { scheduled?: boolean } }[];
    const created = history.filter((event) => event.type === 'Created').length;
    const createdUnscheduled = history.filter((event) => event.details?.scheduled === false).length;
    if (created + createdUnscheduled !== 1) {
      problems.push(
        `${id}: ${created} Created and ${createdUnscheduled} unscheduled creation events (${history.map((e) => e.type).join(', ')})`,
      );
    }
    if ((want.status === 'Scheduled' || want.status === 'Delivered') && created !== 1)
      problems.push(`${id}: ${want.status} but never Created`);
  });

  // ---- per owner: the delivery service's monthly summary and the scheduler's utilization match the ledger
  for (const owner of OWNERS) {
    const mine = ledger.filter((entry) => entry.ownerId === owner).map((entry) => expected.get(entry.deliveryId!)!.status);
    const byStatus: Record<string, number> = {};
    for (const status of mine) byStatus[status] = (byStatus[status] ?? 0) + 1;
    const summary = await read(deliveryUrl, `/api/deliveries/summary?ownerId=${owner}&year=${YEAR}&month=${MONTH}`, deliveryToken);
    const counted = Object.fromEntries(Object.entries(summary.body.byStatus as Record<string, number>).filter(([, count]) => count > 0));
    if (summary.body.count !== mine.length)
      problems.push(`${owner}: the delivery service counts ${summary.body.count} deliveries, the ledger ${mine.length}`);
    if (JSON.stringify(Object.entries(counted).sort()) !== JSON.stringify(Object.entries(byStatus).sort())) {
      problems.push(`${owner}: delivery summary ${JSON.stringify(counted)}, ledger ${JSON.stringify(byStatus)}`);
    }
    const occupying = mine.filter((status) => status === 'Scheduled' || status === 'Delivered').length;
    const utilization = await read(stack.ingress, `/api/dronedeliveries/utilization?ownerId=${owner}&year=${YEAR}&month=${MONTH}`, ops);
    expect(utilization.status).toBe(200);
    if (utilization.body.deliveries !== occupying) {
      problems.push(
        `${owner}: utilization counts ${utilization.body.deliveries} assignments, the ledger ${occupying} scheduled or delivered`,
      );
    }
  }

  // ---- the scheduler's table, read only: one assignment per delivery as its state says, no drone double-booked
  const sql = new Client({ connectionString: stores.postgres, options: '-c default_transaction_read_only=on' });
  await sql.connect();
  let overlaps: { first: string; second: string; drone_id: string }[];
  let assignmentRows = new Map<string, unknown>();
  try {
    const { rows } = await sql.query<{ delivery_id: string; drone_id: string; status: string; pickup_time: Date; deadline: Date }>(
      'SELECT delivery_id, drone_id, status, pickup_time, deadline, updated_at, released_at, completed_at FROM assignments WHERE owner_id = ANY($1)',
      [OWNERS],
    );
    const assignments = new Map(rows.map((row) => [row.delivery_id, row]));
    assignmentRows = assignments;
    for (const row of rows)
      if (!byId.has(row.delivery_id)) problems.push(`assignment ${row.delivery_id} (${row.status}) belongs to no accepted delivery`);
    ledger.forEach((entry, index) => {
      const id = entry.deliveryId!;
      const want = expected.get(id)!;
      const row = assignments.get(id);
      const delivery = views[index].body as DeliveryView;
      if (want.status === 'Scheduled') {
        if (row?.status !== 'Assigned') return void problems.push(`${id}: Scheduled, its assignment is ${row?.status ?? 'missing'}`);
        if (row.drone_id !== delivery.droneId)
          problems.push(`${id}: the delivery names ${delivery.droneId}, the assignment ${row.drone_id}`);
        if (!sameInstant(row.pickup_time, want.window.pickupTime) || !sameInstant(row.deadline, want.window.deadline)) {
          problems.push(
            `${id}: assignment window ${row.pickup_time.toISOString()}–${row.deadline.toISOString()}, expected ${want.window.pickupTime}`,
          );
        }
      } else if (want.status === 'Delivered') {
        if (row?.status !== 'Completed') problems.push(`${id}: Delivered, its assignment is ${row?.status ?? 'missing'}`);
      } else if (row && row.status !== 'Released') {
        problems.push(`${id}: ${want.status}, its assignment is still ${row.status}`);
      }
    });
    overlaps = (
      await sql.query<{ first: string; second: string; drone_id: string }>(
        `SELECT a.delivery_id AS first, b.delivery_id AS second, a.drone_id FROM assignments a
           JOIN assignments b ON a.drone_id = b.drone_id AND a.delivery_id < b.delivery_id
          WHERE a.status = 'Assigned' AND b.status = 'Assigned' AND a.pickup_time < b.deadline AND b.pickup_time < a.deadline`,
      )
    ).rows;
  } finally {
    await sql.end();
  }
  for (const overlap of overlaps) problems.push(`${overlap.drone_id} double-booked: ${overlap.first} and ${overlap.second}`);

  // ---- every scheduled or delivered delivery has its package, through the public API
  const withPackages = ledger.filter((entry) => ['Scheduled', 'Delivered'].includes(expected.get(entry.deliveryId!)!.status));
  const packages = await mapLimited(withPackages, 4, (entry) =>
    read(stack.ingress, `/api/packages/${(entry.body.packageInfo as { packageId: string }).packageId}`, tokens.get(entry.ownerId)),
  );
  packages.forEach((answer, index) => {
    if (answer.status !== 200) problems.push(`${withPackages[index].deliveryId}: its package answers ${answer.status}`);
  });

  // ---- still quiet, and nothing changed while the checks ran (no late write from a replica that was frozen)
  const [pendingSummary] = (await redis.xpending(STREAM, GROUP)) as [number, ...unknown[]];
  const finalStream = await streamState();
  if (Number(pendingSummary) !== 0 || !quiet(finalStream)) problems.push(`command stream after the checks: ${JSON.stringify(finalStream)}`);
  const again = await mapLimited(ids, 16, (id) => read(deliveryUrl, `/api/deliveries/${id}`, deliveryToken));
  again.forEach((answer, index) => {
    const before = views[index].body as DeliveryView | undefined;
    const after = answer.body as DeliveryView | undefined;
    if (before?.status !== after?.status || before?.droneId !== after?.droneId) {
      problems.push(
        `${ids[index]}: changed after the system was quiet: ${before?.status}/${before?.droneId} → ${after?.status}/${after?.droneId}`,
      );
    }
  });

  // ---- the figures, as one JSON line
  console.log(
    JSON.stringify({
      faultLedger: {
        createsAccepted: figures.createsAccepted,
        accepted202s:
          ledger.reduce((sum, entry) => sum + entry.answers.length, 0) + Object.values(figures.commandsAccepted).reduce((a, b) => a + b, 0),
        replaysSent: figures.replaysSent,
        commandsAccepted: figures.commandsAccepted,
        clientRetries: figures.clientRetries,
        retriedAnswers: figures.retriedAnswers,
        finalStates,
        deadLetters: letters.length,
        deadLettersByType: letters.reduce<Record<string, number>>(
          (counts, letter) => ({ ...counts, [letter.type]: (counts[letter.type] ?? 0) + 1 }),
          {},
        ),
        faults: faults.records,
        loadSeconds: round((loadEnded - started) / 1000),
        recoveredSecondsAfterLastFault: round((quietAt - faults.lastEnded) / 1000),
        quietSecondsAfterLastAccept: round((quietAt - loadEnded) / 1000),
        problems: problems.length,
      },
    }),
  );
  if (problems.length > 0) {
    // For the investigation: each delivery a problem names, as the client sent it and as the stores tell it, then
    // the stack's log (every process's warnings and errors, the restarts).
    const named = new Set(
      problems.flatMap((problem) => problem.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g) ?? []),
    );
    const evidence = ledger
      .map((entry, index) => ({ entry, index }))
      .filter(({ entry }) => named.has(entry.deliveryId!))
      .map(({ entry, index }) => ({
        deliveryId: entry.deliveryId,
        key: entry.key,
        createAcceptedAt: entry.acceptedAt,
        commands: entry.commands,
        deadLetters: lettersOf.get(entry.deliveryId!) ?? [],
        delivery: views[index].body,
        events: events[index].body,
        assignment: assignmentRows.get(entry.deliveryId!),
      }));
    const logFile = join(tmpdir(), `fault-ledger-${process.pid}.log`);
    writeFileSync(logFile, `${problems.join('\n')}\n\n${JSON.stringify(evidence, null, 2)}\n\n${stack.output}`);
    console.log(`problems, the deliveries they name and the stack's output: ${logFile}`);
  }
  expect(problems.slice(0, 50), `${problems.length} problems`).toEqual([]);
  expect(figures.createsAccepted).toBe(CREATES);
}, 480_000);
