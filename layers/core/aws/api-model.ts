/**
 * Checks a request against the official AWS API model (the compact extract in api-models.json):
 * required members, unknown members, string lengths, unanchored patterns, enums, numeric ranges,
 * list and map sizes. Used in tests on every request nbops builds, and at run time before calling
 * AWS so a bad manifest fails with a message naming the field instead of a ValidationException.
 */
import models from './api-models.json' with { type: 'json' };

export type AwsService = keyof typeof models.services;

interface Shape {
  type: string;
  required?: string[];
  members?: Record<string, string>;
  member?: string;
  key?: string;
  value?: string;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
}

interface ServiceModel {
  apiVersion: string;
  protocol: string;
  operations: Record<string, { input?: string; output?: string }>;
  shapes: Record<string, Shape>;
}

export interface RequestViolation {
  /** Field path in the request, e.g. `ResourceConfig.InstanceType` or `Tags[3].Key`. */
  path: string;
  /** What the model requires, e.g. `length 1-63`, `pattern ^(?:...)$`, `one of ...`. */
  rule: string;
  message: string;
}

export class RequestCheckError extends Error {
  constructor(
    readonly service: string,
    readonly operation: string,
    readonly violations: RequestViolation[],
  ) {
    super(
      `${service}:${operation} request does not satisfy the AWS API model:\n` +
        violations.map((v) => `  - ${v.path || '(request)'}: ${v.message}`).join('\n'),
    );
    this.name = 'RequestCheckError';
  }
}

function serviceModel(service: AwsService): ServiceModel {
  return models.services[service] as unknown as ServiceModel;
}

const patternCache = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'u');
    patternCache.set(pattern, re);
  }
  return re;
}

/** The enum values of a named shape, e.g. `enumValues('sagemaker', 'TrainingInstanceType')`. */
export function enumValues(service: AwsService, shapeName: string): readonly string[] {
  const shape = serviceModel(service).shapes[shapeName];
  if (!shape?.enum) throw new Error(`${service} model has no enum shape ${shapeName}`);
  return shape.enum;
}

/** A named shape's constraints, for code that derives limits from the model (e.g. name lengths). */
export function shapeConstraints(service: AwsService, shapeName: string): Readonly<Shape> {
  const shape = serviceModel(service).shapes[shapeName];
  if (!shape) throw new Error(`${service} model has no shape ${shapeName}`);
  return shape;
}

/** Does `value` satisfy the named string shape (length and pattern)? */
export function matchesShape(service: AwsService, shapeName: string, value: string): boolean {
  const violations: RequestViolation[] = [];
  checkValue(serviceModel(service), shapeName, value, '', violations);
  return violations.length === 0;
}

export function checkRequest(service: AwsService, operation: string, input: unknown): RequestViolation[] {
  return checkShape(service, operation, 'input', input);
}

export function checkResponse(service: AwsService, operation: string, output: unknown): RequestViolation[] {
  return checkShape(service, operation, 'output', output);
}

/** Throws a RequestCheckError listing every violation; returns the input for chaining. */
export function assertValidRequest<T>(service: AwsService, operation: string, input: T): T {
  const violations = checkRequest(service, operation, input);
  if (violations.length > 0) throw new RequestCheckError(service, operation, violations);
  return input;
}

function checkShape(
  service: AwsService,
  operation: string,
  direction: 'input' | 'output',
  value: unknown,
): RequestViolation[] {
  const model = serviceModel(service);
  const shapeName = model.operations[operation]?.[direction];
  if (!shapeName) throw new Error(`${service}:${operation} ${direction} is not in the compact API model`);
  const violations: RequestViolation[] = [];
  checkValue(model, shapeName, value, '', violations);
  return violations;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function checkValue(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  path: string,
  out: RequestViolation[],
) {
  const shape = model.shapes[shapeName];
  if (!shape) throw new Error(`shape ${shapeName} missing from the compact model`);
  const push = (rule: string, message: string) => out.push({ path, rule, message });
  const range = (what: string) =>
    shape.min !== undefined && shape.max !== undefined
      ? `${what} ${shape.min}-${shape.max}`
      : shape.min !== undefined
        ? `${what} >= ${shape.min}`
        : `${what} <= ${shape.max}`;

  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        push('type structure', `must be an object (${shapeName}), got ${describe(value)}`);
        return;
      }
      const record = value as Record<string, unknown>;
      for (const name of shape.required ?? []) {
        if (record[name] === undefined)
          out.push({ path: join(path, name), rule: 'required', message: 'is required' });
      }
      for (const [name, member] of Object.entries(record)) {
        if (member === undefined) continue;
        const memberShape = shape.members?.[name];
        if (!memberShape) {
          out.push({
            path: join(path, name),
            rule: 'known member',
            message: `is not a member of ${shapeName}`,
          });
          continue;
        }
        checkValue(model, memberShape, member, join(path, name), out);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        push('type list', `must be a list, got ${describe(value)}`);
        return;
      }
      if (
        (shape.min !== undefined && value.length < shape.min) ||
        (shape.max !== undefined && value.length > shape.max)
      )
        push(
          range('items'),
          `has ${value.length} items; the API allows ${range('items').replace('items ', '')}`,
        );
      for (const [i, item] of value.entries()) checkValue(model, shape.member!, item, `${path}[${i}]`, out);
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        push('type map', `must be a map of strings, got ${describe(value)}`);
        return;
      }
      const entries = Object.entries(value as Record<string, unknown>);
      if (
        (shape.min !== undefined && entries.length < shape.min) ||
        (shape.max !== undefined && entries.length > shape.max)
      )
        push(
          range('entries'),
          `has ${entries.length} entries; the API allows ${range('entries').replace('entries ', '')}`,
        );
      for (const [k, v] of entries) {
        checkValue(model, shape.key!, k, `${join(path, k)} (key)`, out);
        checkValue(model, shape.value!, v, join(path, k), out);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') {
        push('type string', `must be a string, got ${describe(value)}`);
        return;
      }
      if (shape.enum && !shape.enum.includes(value)) {
        const shown =
          shape.enum.length > 12 ? `${shape.enum.slice(0, 12).join(', ')}, ...` : shape.enum.join(', ');
        push('enum', `${describe(value)} is not one of ${shapeName}: ${shown}`);
        return;
      }
      if (
        (shape.min !== undefined && value.length < shape.min) ||
        (shape.max !== undefined && value.length > shape.max)
      )
        push(
          range('length'),
          `${describe(value)} has length ${value.length}; the API allows ${range('length')}`,
        );
      if (shape.pattern && !compiled(shape.pattern).test(value))
        push(
          `pattern ^(?:${shape.pattern})$`,
          `${describe(value)} does not match ${shapeName} pattern ^(?:${shape.pattern})$`,
        );
      return;
    }
    case 'integer':
    case 'long':
    case 'float':
    case 'double': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        push(`type ${shape.type}`, `must be a finite number, got ${describe(value)}`);
        return;
      }
      if ((shape.type === 'integer' || shape.type === 'long') && !Number.isInteger(value))
        push(`type ${shape.type}`, `must be a whole number, got ${value}`);
      if ((shape.min !== undefined && value < shape.min) || (shape.max !== undefined && value > shape.max))
        push(range('value'), `${value} is out of range; the API allows ${range('value')}`);
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') push('type boolean', `must be true or false, got ${describe(value)}`);
      return;
    case 'timestamp':
      if (!(value instanceof Date) && typeof value !== 'number' && typeof value !== 'string')
        push('type timestamp', `must be a Date, epoch seconds or ISO string, got ${describe(value)}`);
      return;
    case 'blob':
      if (!(value instanceof Uint8Array) && typeof value !== 'string')
        push('type blob', `must be bytes or a string, got ${describe(value)}`);
      return;
    default:
      return;
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}
