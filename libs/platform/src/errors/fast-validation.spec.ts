import type { ValidationPipe } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsNumber,
  IsObject,
  IsOptional,
  IsPositive,
  IsString,
  Length,
  Matches,
  Max,
  ValidateNested,
} from 'class-validator';
import { ConfirmationDto } from '../contract/confirmation.dto';
import { fastValidate } from './fast-validation';
import { createValidationPipe } from './validation';

class InnerDto {
  @Matches(/^[a-z]+$/) code: string;
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 }) @IsPositive() @Max(10) weight: number;
}

class OuterDto {
  @IsOptional() @IsString() @Length(1, 5) note?: string;
  @IsBoolean() flag: boolean;
  @IsIn(['a', 'b']) choice: string;
  @IsDefined() @IsObject() @ValidateNested() @Type(() => InnerDto) inner: InnerDto;
}

class TransformedDto {
  @Transform(({ value }) => String(value).trim()) @IsString() name: string;
}

class UntypedNestedDto {
  @IsDefined() @ValidateNested() inner: InnerDto;
}

const valid = { note: 'hi', flag: true, choice: 'a', inner: { code: 'abc', weight: 2.5 } };

async function outcome(pipe: ValidationPipe, metatype: unknown, body: unknown) {
  try {
    return { value: await pipe.transform(structuredClone(body), { type: 'body', metatype: metatype as never }) };
  } catch (error) {
    return { error };
  }
}

/** The compiled path answers exactly what the full path answers: the same instance (classes included) or error. */
async function expectSameAnswer(metatype: unknown, body: unknown) {
  const compiled = await outcome(createValidationPipe(), metatype, body);
  const full = await outcome(createValidationPipe({ compiled: false }), metatype, body);
  expect(compiled).toStrictEqual(full);
  if (full.value) {
    expect(Object.getPrototypeOf(compiled.value)).toBe(Object.getPrototypeOf(full.value));
    for (const [key, field] of Object.entries(full.value)) {
      if (field && typeof field === 'object')
        expect(Object.getPrototypeOf((compiled.value as Record<string, unknown>)[key])).toBe(Object.getPrototypeOf(field));
    }
  }
  return full;
}

const variants: unknown[] = [
  undefined,
  null,
  '',
  'a',
  'b',
  'abc',
  'ABC',
  'toolong',
  ' ',
  '\u0000',
  0,
  -1,
  1,
  2.5,
  2.555,
  11,
  true,
  false,
  {},
  [],
  [1],
  { code: 'x' },
];

describe('compiled validation (fast path)', () => {
  it('accepts a valid body as the instance plainToInstance builds, nested classes included', () => {
    const instance = fastValidate(OuterDto, structuredClone(valid)) as OuterDto;
    expect(instance).toBeInstanceOf(OuterDto);
    expect(instance.inner).toBeInstanceOf(InnerDto);
    expect(fastValidate(ConfirmationDto, { dateTime: '2028-01-01T10:00:00Z', confirmationType: 'Picture' })).toBeInstanceOf(
      ConfirmationDto,
    );
  });

  it('leaves whatever it does not model to the full path', () => {
    expect(fastValidate(TransformedDto, { name: ' x ' })).toBeUndefined();
    expect(fastValidate(UntypedNestedDto, { inner: { code: 'abc', weight: 1 } })).toBeUndefined();
    expect(fastValidate(String, 'x')).toBeUndefined();
    expect(fastValidate(OuterDto, [valid])).toBeUndefined();
  });

  it('answers like the full path for every field set to every kind of value, removed, or joined by an unknown one', async () => {
    let accepted = 0;
    const bodies: unknown[] = [valid, { ...valid, extra: 1 }, { ...valid, inner: { ...valid.inner, extra: 1 } }, null, 'text', 7, []];
    for (const key of Object.keys(valid)) {
      const { [key]: _dropped, ...without } = valid as Record<string, unknown>;
      bodies.push(without, ...variants.map((variant) => ({ ...valid, [key]: variant })));
    }
    for (const key of Object.keys(valid.inner)) {
      bodies.push(...variants.map((variant) => ({ ...valid, inner: { ...valid.inner, [key]: variant } })));
    }
    for (const body of bodies) {
      if ((await expectSameAnswer(OuterDto, body)).value) accepted++;
    }
    expect(accepted).toBeGreaterThan(5);
    for (const body of [{ name: ' x ' }, { name: 1 }]) await expectSameAnswer(TransformedDto, body);
    for (const body of [{ inner: { code: 'abc', weight: 1 } }, { inner: null }]) await expectSameAnswer(UntypedNestedDto, body);
  });
});
