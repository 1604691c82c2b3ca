import { type ArgumentMetadata, PipeTransform, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ID_PATTERN } from '../contract/formats';
import { type FieldError, ValidationProblem } from './problem';

/**
 * Refuses control characters (Unicode Cc: C0, DEL, C1) in every string of a body or query, before the DTO's own
 * rules: no field of this API carries them, and stored they reach logs, terminals and other clients' screens.
 */
class PlatformValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
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

function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Strict body validation: unknown fields are rejected, every failing field is listed. */
export function createValidationPipe(): ValidationPipe {
  return new PlatformValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationProblem(flatten(errors)),
  });
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
