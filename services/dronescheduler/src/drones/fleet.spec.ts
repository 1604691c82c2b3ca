import { droneId, fleetPlan } from './fleet';

describe('fleetPlan', () => {
  it('is deterministic, so seeding twice adds nothing, with payloads cycling 2.5/5/10/25 kg', () => {
    const fleet = fleetPlan(6, new Date(0));
    expect(fleet.map((drone) => drone.id)).toEqual([
      'drone-00001',
      'drone-00002',
      'drone-00003',
      'drone-00004',
      'drone-00005',
      'drone-00006',
    ]);
    expect(fleet.map((drone) => drone.maxPayloadKg)).toEqual([2.5, 5, 10, 25, 2.5, 5]);
    expect(fleet.every((drone) => drone.status === 'Available')).toBe(true);
    expect(fleetPlan(6, new Date(0))).toEqual(fleet);
    expect(droneId(9999)).toBe('drone-10000');
  });
});
