import { createValidationPipe } from '@dronedelivery/platform';
import type { ValidationPipe } from '@nestjs/common';
import { CreateDeliveryRequestDto, PackageInfoDto, RescheduleRequestDto } from './deliveryrequests.dto';

// The platform's pipe validates a body through compiled rules first (libs/platform/src/errors/fast-validation.ts)
// and falls back to class-transformer + class-validator for anything they do not accept. Over the gateway's own
// DTOs, both must answer alike: the same instance or the same 400.

const valid = {
  ownerId: 'owner-1',
  pickupLocation: '1 Main St',
  dropOffLocation: '9 Side Rd',
  pickupTime: '2028-01-01T10:00:00Z',
  deadline: '2028-01-01T10:30:00.000+01:00',
  expedited: false,
  confirmationRequired: 'None',
  packageInfo: { packageId: 'pkg-1', size: 'Small', weight: 2.5, tag: 'fragile' },
};

const variants: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'x',
  'x'.repeat(200),
  '-bad',
  'pkg_2',
  'a\u0007b',
  'Straße ✓',
  0,
  -1,
  1,
  2.5,
  1.1234,
  1.123456789,
  1e9,
  5000,
  true,
  false,
  {},
  [],
  ['x'],
  'Small',
  'small',
  'Picture',
  '2028-01-01',
  '2028-02-30T10:00:00Z',
  '2028-01-01 10:00:00Z',
  '2028-01-01T10:00:00Z',
];

async function outcome(pipe: ValidationPipe, metatype: unknown, body: unknown) {
  try {
    return { value: await pipe.transform(structuredClone(body), { type: 'body', metatype: metatype as never }) };
  } catch (error) {
    return { error };
  }
}

async function expectSameAnswer(metatype: unknown, body: unknown): Promise<boolean> {
  const compiled = await outcome(createValidationPipe(), metatype, body);
  const full = await outcome(createValidationPipe({ compiled: false }), metatype, body);
  expect(compiled).toStrictEqual(full);
  if (full.value instanceof CreateDeliveryRequestDto)
    expect((compiled.value as CreateDeliveryRequestDto).packageInfo).toBeInstanceOf(PackageInfoDto);
  return full.value !== undefined;
}

describe('delivery request DTOs through the compiled and the full validation path', () => {
  it('answer alike for every field set to every kind of value, removed, or joined by an unknown one', async () => {
    const bodies: unknown[] = [
      valid,
      { ...valid, extra: 1 },
      { ...valid, packageInfo: { ...valid.packageInfo, extra: 1 } },
      {},
      null,
      'x',
      [],
    ];
    for (const key of Object.keys(valid)) {
      const { [key]: _dropped, ...without } = valid as Record<string, unknown>;
      bodies.push(without, ...variants.map((variant) => ({ ...valid, [key]: variant })));
    }
    for (const key of Object.keys(valid.packageInfo)) {
      const { [key]: _dropped, ...without } = valid.packageInfo as Record<string, unknown>;
      bodies.push(
        { ...valid, packageInfo: without },
        ...variants.map((variant) => ({ ...valid, packageInfo: { ...valid.packageInfo, [key]: variant } })),
      );
    }
    let accepted = 0;
    for (const body of bodies) if (await expectSameAnswer(CreateDeliveryRequestDto, body)) accepted++;
    expect(accepted).toBeGreaterThan(10);

    const reschedule = { pickupLocation: 'a', dropOffLocation: 'b', pickupTime: '2028-01-01T10:00:00Z', deadline: '2028-01-01T11:00:00Z' };
    for (const key of Object.keys(reschedule)) {
      for (const variant of variants) await expectSameAnswer(RescheduleRequestDto, { ...reschedule, [key]: variant });
    }
    await expectSameAnswer(RescheduleRequestDto, {});
  });
});
