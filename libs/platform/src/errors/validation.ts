import { type ArgumentMetadata, PipeTransform, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ID_PATTERN } from '../contract/formats';
import { type FieldError, ValidationProblem } from './problem';
import { fastValidate, hasControlCharacter } from './fast-validation';

/**
 * Refuses control characters (Unicode Cc: C0, DEL, C1) in every string of a body or query, before the DTO's own
 * rules: no field of this API carries them, and stored they reach logs, terminals and other clients' screens.
 */
class PlatformValidationPipe extends ValidationPipe {
  constructor(
    options: ConstructorParameters<typeof ValidationPipe>[0],
    private readonly compiled: boolean,
  ) {
    super(options);
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // A body the compiled rules accept is the instance the full path would return; any other goes the full path,
    // which alone builds errors (fast-validation.ts).
    if (this.compiled && metadata.type === 'body') {
      const accepted = fastValidate(metadata.metatype, value);
      if (accepted) return accepted;
    }
    if ((metadata.type === 'body' || metadata.type === 'query') && !validatesItemsSeparately(metadata.metatype)) {
      const fields = controlCharacterFields(value, '');
      if (fields.length > 0) {
        throw new ValidationProblem(fields.map((field) => ({ field, message: `${field} must not contain control characters` })));
      }
    }
    return super.transform(value, metadata);
  }
}

/** A batch envelope (BatchRequestDto): each item's body gets this check on its own, so one never fails another. */
function validatesItemsSeparately(metatype: unknown): boolean {
  return (metatype as { itemsValidatedSeparately?: boolean } | undefined)?.itemsValidatedSeparately === true;
}

/** The paths (`packageInfo.tag`, `items.0`) of the strings in a parsed body that hold a control character. */
export function controlCharacterFields(value: unknown, path: string): string[] {
  if (typeof value === 'string') return hasControlCharacter(value) ? [path || '(body)'] : [];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => controlCharacterFields(child, path ? `${path}.${key}` : key));
}

/**
 * Strict body validation: unknown fields are rejected, every failing field is listed. `compiled: false` turns the
 * fast path off (tests compare the two).
 */
export function createValidationPipe({ compiled = true }: { compiled?: boolean } = {}): ValidationPipe {
  return new PlatformValidationPipe(
    {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new ValidationProblem(flatten(errors)),
    },
    compiled,
  );
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.startsWith(`${error.property} `) ? field + message.slice(error.property.length) : message,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

export class ParseIdPipe implements PipeTransform<string, string> {
  constructor(private readonly field = 'id') {}

  transform(value: string): string {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw new ValidationProblem([
        { field: this.field, message: `${this.field} must be 1-64 letters, digits, '-' or '_', starting with a letter or digit` },
      ]);
    }
    return value;
  }
}
