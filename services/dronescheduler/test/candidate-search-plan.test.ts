import { PostgresServer } from '@dronedelivery/testing';
import type { DataSource } from 'typeorm';
import { openDataSource } from '../src/store/data-source';
import { AssignmentQueries } from '../src/dronedeliveries/assignment.queries';
import { planOf } from '../src/dronedeliveries/assignment.model';
import { seedFleet } from '../src/drones/fleet';
import { sql, testConfig } from './dronescheduler-app';

/**
 * The candidate search is the scheduler's hottest statement. Read in an index that lacks its full order, it checks
 * and sorts every available drone before taking the first few: that once made PostgreSQL the largest CPU cost of
 * the whole end-to-end path (docs/performance.md). This pins the plan on a fleet of realistic size.
 */
const FLEET = 2000;
let postgres: PostgresServer;
let dataSource: DataSource;

beforeAll(async () => {
  postgres = await PostgresServer.start();
  dataSource = await openDataSource(testConfig(postgres), { migrate: true });
  await seedFleet(dataSource, FLEET);
  // Some history: every tenth drone busy on the morning in question.
  await sql(
    postgres,
    `INSERT INTO assignments (delivery_id, drone_id, owner_id, pickup_time, deadline, window_seconds, package_weight_kg, package_size, expedited, status, created_at, updated_at)
     SELECT 'history-' || id, id, 'owner-1', '2027-03-01T09:00:00Z', '2027-03-01T11:00:00Z', 7200, 1, 'Small', false, 'Assigned', now(), now()
       FROM drones WHERE right(id, 1) = '0'`,
  );
  await sql(postgres, 'ANALYZE');
});

afterAll(async () => {
  await dataSource?.destroy();
  await postgres?.dispose();
});

type PlanNode = { 'Node Type': string; 'Index Name'?: string; 'Actual Rows'?: number; Plans?: PlanNode[] };
const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

it('walks the drones in candidate order and stops early: no sort, and far fewer drones read than the fleet', async () => {
  const plan = planOf({
    ownerId: 'owner-1',
    pickupTime: '2027-03-01T10:00:00Z',
    deadline: '2027-03-01T10:30:00Z',
    packageWeight: 1,
    packageSize: 'Small',
    expedited: false,
  });
  const [query, parameters] = new AssignmentQueries(dataSource).candidateDrones('delivery-1', plan, 32).getQueryAndParameters();
  const [
    {
      'QUERY PLAN': [explained],
    },
  ] = await sql(postgres, `EXPLAIN (ANALYZE, FORMAT JSON) ${query}`, parameters);
  const all = nodes(explained.Plan as PlanNode);
  expect(all.map((node) => node['Node Type'])).not.toContain('Sort');
  const droneScan = all.find((node) => node['Index Name'] === 'IX_drones_status_payload_id');
  expect(droneScan, JSON.stringify(explained.Plan)).toBeDefined();
  expect(droneScan!['Actual Rows']).toBeLessThan(100);
  // And it answers what it should: the 32 smallest free drones, none of the busy ones.
  const candidates = await new AssignmentQueries(dataSource).candidateDrones('delivery-1', plan, 32).getMany();
  expect(candidates).toHaveLength(32);
  expect(candidates.every((drone) => drone.maxPayloadKg === 2.5 && !drone.id.endsWith('0'))).toBe(true);
});

it('the search for many deliveries at once walks the same index per item and answers what each search alone answers', async () => {
  const requests = [
    { pickupTime: '2027-03-01T10:00:00Z', deadline: '2027-03-01T10:30:00Z', packageWeight: 1 },
    { pickupTime: '2027-03-01T12:00:00Z', deadline: '2027-03-01T12:30:00Z', packageWeight: 1 },
    { pickupTime: '2027-03-01T10:15:00Z', deadline: '2027-03-01T11:15:00Z', packageWeight: 4 },
  ];
  const limits = [32, 10, 20];
  const items = requests.map((request, i) => ({
    deliveryId: `many-${i}`,
    plan: planOf({ ownerId: 'owner-1', packageSize: 'Small', expedited: false, ...request }),
    limit: limits[i],
  }));
  const queries = new AssignmentQueries(dataSource);
  const statement = queries.candidateDroneRowsOfMany(items);
  const [query, parameters] = statement.getQueryAndParameters();
  const [
    {
      'QUERY PLAN': [explained],
    },
  ] = await sql(postgres, `EXPLAIN (ANALYZE, FORMAT JSON) ${query}`, parameters);
  const all = nodes(explained.Plan as PlanNode);
  const droneScan = all.find((node) => node['Index Name'] === 'IX_drones_status_payload_id');
  expect(droneScan, JSON.stringify(explained.Plan)).toBeDefined();
  // Per item (loop), the scan stops after about the rows it returns (at most 32): no item reads the whole fleet.
  expect(droneScan!['Actual Rows']).toBeLessThan(100);
  // The only sort is of the result rows, above the lateral join, not of the fleet per item.
  const lateral = all.find((node) => node['Node Type'] === 'Nested Loop')!;
  expect(nodes(lateral).map((node) => node['Node Type'])).not.toContain('Sort');

  const rows = await statement.getRawMany();
  const alone = await Promise.all(items.map((item) => queries.candidateDrones(item.deliveryId, item.plan, item.limit).getMany()));
  expect(alone.map((list) => list.length)).toEqual(limits);
  items.forEach((_, i) => {
    const mine = rows.filter((row) => Number(row.item) === i).map((row) => [row.id, Number(row.maxPayloadKg)]);
    expect(mine).toEqual(alone[i].map((drone) => [drone.id, drone.maxPayloadKg]));
  });
  // The busy drones were left out of the first and third, whose windows overlap the history.
  expect(rows.filter((row) => Number(row.item) !== 1).every((row) => !row.id.endsWith('0'))).toBe(true);
  expect(rows.filter((row) => Number(row.item) === 2).every((row) => Number(row.maxPayloadKg) >= 4)).toBe(true);
});
