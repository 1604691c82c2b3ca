import type { MetadataStorage as TransformerMetadataStorage } from 'class-transformer/types/MetadataStorage';
import { getMetadataStorage, type ValidationArguments } from 'class-validator';
import { createRequire } from 'node:module';

// class-transformer's own metadata (the singleton plainToInstance reads); the package exports no typed path to it.
const { defaultMetadataStorage } = createRequire(__filename)('class-transformer/cjs/storage') as {
  defaultMetadataStorage: TransformerMetadataStorage;
};

/**
 * The fast path of the platform's validation pipe: the same class-validator rules, compiled once per DTO class into
 * a plan, run straight over a parsed JSON body, without class-transformer's and class-validator's per-request
 * machinery (metadata look-ups, ValidationError objects for every property, promises).
 *
 * It only ever *accepts*: for a body it is sure about it returns the instance `plainToInstance` would have built,
 * which every rule of the class passes exactly as `validate` runs them (the same constraint objects, called with the
 * same arguments). Anything else — a failing rule, an unknown field, a control character, a shape or a decorator it
 * does not model — returns undefined, and the pipe runs the full class-transformer + class-validator path, which
 * builds the 400 exactly as before. So an error never comes from here, and its shape cannot differ.
 *
 * Modelled: customValidation (every built-in decorator and ValidateBy/@Validate constraints that answer
 * synchronously), isDefined, conditionalValidation (@IsOptional, @ValidateIf), nestedValidation of one object built by
 * class-transformer's @Type (no discriminator); classes without @Expose/@Exclude/@Transform and no `each` rules.
 */

const CUSTOM = 'customValidation';
const NESTED = 'nestedValidation';
const CONDITIONAL = 'conditionalValidation';
const IS_DEFINED = 'isDefined';
const WHITELIST = 'whitelistValidation';
const PLAIN_TO_CLASS = 0; // class-transformer's TransformationType.PLAIN_TO_CLASS

interface Check {
  constraints: unknown[];
  validateIf?: (object: object, value: unknown) => boolean;
  validators: { validate(value: unknown, args: ValidationArguments): unknown }[];
}

interface PropertyPlan {
  name: string;
  conditions: ((object: object, value: unknown) => boolean)[];
  /** isDefined first, then the custom rules: the order class-validator runs them in. */
  checks: Check[];
  /** class-transformer's @Type function for a nested object. */
  nestedType?: (options: { newObject: object; object: object; property: string }) => unknown;
}

interface Plan {
  type: new () => object;
  properties: PropertyPlan[];
  known: Set<string>;
}

type Metadata = {
  type: string;
  propertyName: string;
  constraints: unknown[];
  constraintCls: unknown;
  each?: boolean;
  validateIf?: (object: object, value: unknown) => boolean;
};

const plans = new WeakMap<object, Plan | null>();

/** The plan for a DTO class, or null when the class uses something the fast path does not model. */
function planFor(type: unknown): Plan | null {
  if (typeof type !== 'function') return null;
  let plan = plans.get(type);
  if (plan === undefined) {
    try {
      plan = compile(type as new () => object);
    } catch {
      plan = null;
    }
    plans.set(type, plan);
  }
  return plan;
}

function compile(type: new () => object): Plan | null {
  const storage = getMetadataStorage();
  // The arguments ValidationExecutor passes with the pipe's options (no groups, not strict, not always).
  const metadatas = storage.getTargetValidationMetadatas(type, '', false, false, undefined as unknown as string[]) as unknown as Metadata[];
  if (metadatas.length === 0) return null;
  if (defaultMetadataStorage.getStrategy(type) !== 'none') return null;
  if (defaultMetadataStorage.getExposedMetadatas(type).length > 0 || defaultMetadataStorage.getExcludedMetadatas(type).length > 0)
    return null;
  const byName = new Map<string, Metadata[]>();
  for (const metadata of metadatas) {
    if (typeof metadata.propertyName !== 'string') return null;
    const list = byName.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byName.set(metadata.propertyName, list);
  }
  const properties: PropertyPlan[] = [];
  for (const [name, list] of byName) {
    if (hasAccessor(type, name)) return null;
    if (defaultMetadataStorage.findTransformMetadatas(type, name, PLAIN_TO_CLASS).length > 0) return null;
    const property: PropertyPlan = { name, conditions: [], checks: [] };
    const defined: Check[] = [];
    const custom: Check[] = [];
    let nested = false;
    for (const metadata of list) {
      if (metadata.each) return null;
      if (metadata.type === CONDITIONAL) property.conditions.push(metadata.constraints[0] as PropertyPlan['conditions'][number]);
      else if (metadata.type === NESTED) nested = true;
      else if (metadata.type === IS_DEFINED || metadata.type === CUSTOM) {
        const validators = storage.getTargetValidatorConstraints(metadata.constraintCls as new () => object);
        if (validators.length === 0 || validators.some((validator) => validator.async)) return null;
        (metadata.type === IS_DEFINED ? defined : custom).push({
          constraints: metadata.constraints,
          validateIf: metadata.validateIf,
          validators: validators.map((validator) => validator.instance as Check['validators'][number]),
        });
      } else if (metadata.type !== WHITELIST) return null;
    }
    property.checks = [...defined, ...custom];
    const typeMetadata = defaultMetadataStorage.findTypeMetadata(type, name);
    if (nested) {
      if (!typeMetadata || typeMetadata.options?.discriminator) return null;
      property.nestedType = typeMetadata.typeFunction as PropertyPlan['nestedType'];
    } else if (typeMetadata) {
      return null; // @Type on a value: class-transformer would convert it
    }
    properties.push(property);
  }
  const known = new Set(byName.keys());
  // class-validator's whitelist reads the instance's own keys, class field initialisers included.
  if (Object.keys(new type()).some((key) => !known.has(key))) return null;
  return { type, properties, known };
}

function hasAccessor(type: new () => object, name: string): boolean {
  for (
    let proto = type.prototype as object | null;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    if (Object.getOwnPropertyDescriptor(proto, name)) return true;
  }
  return false;
}

/**
 * The validated instance of `type` for a parsed JSON body, or undefined: then the full path decides (and explains).
 * Strings holding a control character are left to the full path too (the pipe's own rule, see validation.ts).
 */
export function fastValidate(type: unknown, value: unknown): object | undefined {
  const plan = planFor(type);
  return plan ? build(plan, value) : undefined;
}

function build(plan: Plan, value: unknown): object | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const source = value as Record<string, unknown>;
  const instance = new plan.type() as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!plan.known.has(key)) return undefined;
    const field = source[key];
    if (typeof field === 'string') {
      if (hasControlCharacter(field)) return undefined;
    } else if (typeof field === 'object' && field !== null) {
      const property = plan.properties.find((candidate) => candidate.name === key)!;
      if (!property.nestedType) return undefined;
      const nestedPlan = planFor(property.nestedType({ newObject: instance, object: source, property: key }));
      const nested = nestedPlan && build(nestedPlan, field);
      if (!nested) return undefined;
      instance[key] = nested;
      continue;
    }
    instance[key] = field;
  }
  const args = { targetName: plan.type.name, property: '', object: instance, value: undefined as unknown, constraints: [] as unknown[] };
  for (const property of plan.properties) {
    const field = instance[property.name];
    let applies = true;
    for (const condition of property.conditions) applies = condition(instance, field) && applies;
    if (!applies) continue;
    for (const check of property.checks) {
      if (check.validateIf && !check.validateIf(instance, field)) continue;
      for (const validator of check.validators) {
        args.property = property.name;
        args.value = field;
        args.constraints = check.constraints;
        const valid = validator.validate(field, args);
        if (!valid || (typeof valid === 'object' && typeof (valid as { then?: unknown }).then === 'function')) return undefined;
      }
    }
    // A nested property was built (and validated) above only from an object; anything else it holds is for the full path.
    if (property.nestedType && field !== undefined && !(typeof field === 'object' && field !== null)) return undefined;
  }
  return instance;
}

export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
