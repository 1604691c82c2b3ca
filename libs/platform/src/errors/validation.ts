import { PipeTransform, ValidationPipe, type ValidationError } from '@nestjs/common';
import { ID_PATTERN } from '../contract/formats';
import { type FieldError, ValidationProblem } from './problem';

/** Strict body validation: unknown fields are rejected, every failing field is listed. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
