/**
 * JSON Schema validation with messages for people. One Ajv instance (JSON Schema 2020-12) holds
 * the shared definitions and compiles the manifest and policy schemas lazily, on first use, so
 * module load stays cheap for Lambda cold starts. Ajv's raw errors are turned into one problem per
 * mistake, with a dotted field path, what is wrong, and how to fix it.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import { isRecord, pointerToken } from '#core/notebook/notebook';
import commonSchema from '../../../schemas/common.schema.json' with { type: 'json' };
import { closest } from './suggest';

export interface SchemaProblem {
  /** Dotted field path, e.g. `training.instanceType` or `data[2].uri`; `` for the document itself. */
  path: string;
  /** JSON pointer (RFC 6901) relative to the document root. */
  pointer: string;
  message: string;
  fix: string;
  /** True when the problem is about a duration field (the manifest reports those as MAN-011). */
  duration?: boolean;
}

/** More problems than this in one document are summarised in a last entry. */
export const MAX_SCHEMA_PROBLEMS = 100;

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

/** The compiled validator for `schema` (compiled once per process). */
export function validatorFor(schema: { $id: string }): ValidateFunction {
  let validate = validators.get(schema.$id);
  if (!validate) {
    if (!ajv) {
      ajv = new Ajv2020({
        allErrors: true,
        verbose: true,
        strict: true,
        strictRequired: false,
        allowUnionTypes: true,
      });
      ajv.addSchema(commonSchema);
    }
    validate = ajv.compile(schema);
    validators.set(schema.$id, validate);
  }
  return validate;
}

const DURATION_REF = '$defs/duration';

/** Turns Ajv errors for `data` into human problems (at most MAX_SCHEMA_PROBLEMS + 1). */
export function describeErrors(
  errors: readonly ErrorObject[],
  data: unknown,
  documentName: string,
  rootSchema?: unknown,
): SchemaProblem[] {
  // oneOf/anyOf failures report every branch's errors too; keep only the composite's.
  const composites = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const relevant = errors.filter((e) => {
    if ('propertyName' in e) return false; // reported by its `propertyNames` error
    return !composites.some(
      (c) =>
        c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`) && e.instancePath.startsWith(c.instancePath),
    );
  });
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of relevant) {
    const problem = describeError(error, data, documentName, rootSchema);
    const key = `${problem.pointer}\n${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  if (problems.length > MAX_SCHEMA_PROBLEMS) {
    const rest = problems.length - MAX_SCHEMA_PROBLEMS;
    problems.length = MAX_SCHEMA_PROBLEMS;
    problems.push({
      path: '',
      pointer: '',
      message: `${rest} more problems in the ${documentName} are not listed.`,
      fix: 'Fix the problems above and validate again to see the rest.',
    });
  }
  return problems;
}

type SchemaNode = Record<string, unknown>;

function describeError(
  error: ErrorObject,
  data: unknown,
  documentName: string,
  rootSchema: unknown,
): SchemaProblem {
  const pointer = error.instancePath;
  const path = dottedPath(pointer, data);
  const field = path || `the ${documentName}`;
  const value: unknown = error.data;
  const parent = (isRecord(error.parentSchema) ? error.parentSchema : {}) as SchemaNode;
  const description = typeof parent.description === 'string' ? parent.description : undefined;
  const about = description ? ` ${description}` : '';
  const isDuration = error.schemaPath.includes(DURATION_REF);
  const problem = (message: string, fix: string, at = pointer, atPath = path): SchemaProblem =>
    isDuration
      ? { path: atPath, pointer: at, message, fix, duration: true }
      : { path: atPath, pointer: at, message, fix };

  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String((error.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys(isRecord(parent.properties) ? parent.properties : {});
      const at = `${pointer}/${pointerToken(name)}`;
      const atPath = joinPath(path, name);
      const where = path ? `in ${path}` : `at the top level of the ${documentName}`;
      const suggestion = closest(name, allowed);
      const elsewhere = suggestion ? [] : (propertyIndex(rootSchema).get(name) ?? []);
      if (elsewhere.length > 0)
        return problem(
          `Property "${name}" is not allowed ${where}; it belongs in ${elsewhere.join(' or ')}.`,
          `Move "${name}" to ${elsewhere.join(' or ')}.`,
          at,
          atPath,
        );
      if (suggestion)
        return problem(
          `Unknown property "${short(name)}" ${where}; did you mean "${suggestion}"?`,
          `Rename "${short(name)}" to "${suggestion}".`,
          at,
          atPath,
        );
      return problem(
        `Unknown property "${short(name)}" ${where}.`,
        `Remove "${short(name)}"; ${path || 'the top level'} allows: ${allowed.join(', ')}.`,
        at,
        atPath,
      );
    }
    case 'required': {
      const name = String((error.params as { missingProperty: string }).missingProperty);
      const properties = isRecord(parent.properties) ? parent.properties : {};
      const sub = isRecord(properties[name]) ? (properties[name] as SchemaNode) : {};
      const example = exampleOf(sub);
      const what = typeof sub.description === 'string' ? ` (${firstSentence(sub.description)})` : '';
      const atPath = joinPath(path, name);
      return problem(
        `${atPath} is missing; it is required.`,
        `Add ${atPath}${what}${example === undefined ? '' : `, e.g. ${name}: ${example}`}.`,
        `${pointer}/${pointerToken(name)}`,
        atPath,
      );
    }
    case 'propertyNames': {
      const name = String((error.params as { propertyName: string }).propertyName);
      const rule =
        isRecord(error.schema) && typeof error.schema.description === 'string'
          ? error.schema.description
          : '';
      return problem(
        `${field} has an invalid name "${short(name)}".${rule ? ` ${rule}` : ''}`,
        `Rename "${short(name)}" in ${field}.`,
        `${pointer}/${pointerToken(name)}`,
        joinPath(path, name),
      );
    }
    case 'type': {
      const wanted = [(error.params as { type: string | string[] }).type].flat();
      const wantedText = orList(wanted.map(typeName));
      if (pointer === '')
        return problem(
          `The ${documentName} must be ${wantedText}, got ${typeOf(value)}.`,
          typeof value === 'string'
            ? `Write the ${documentName} as a mapping of fields (YAML) or a JSON object, not as a string holding one.`
            : `Write the ${documentName} as a mapping of fields, starting with apiVersion.`,
        );
      const unquoted = typeof value === 'string' ? unquote(value, wanted) : undefined;
      return problem(
        `${field} must be ${wantedText}, got ${typeOf(value)}.`,
        unquoted !== undefined
          ? `Write ${short(value as string)} without quotes.`
          : `Set ${field} to ${wantedText}.${about}`,
      );
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      const suggestion =
        typeof value === 'string'
          ? closest(
              value,
              allowed.filter((a): a is string => typeof a === 'string'),
            )
          : undefined;
      return problem(
        `${field} is ${describeValue(value)}; allowed values: ${allowed.map(String).join(', ')}.${suggestion ? ` Did you mean "${suggestion}"?` : ''}`,
        suggestion ? `Use "${suggestion}".` : `Use one of: ${allowed.map(String).join(', ')}.`,
      );
    }
    case 'const': {
      const wanted = (error.params as { allowedValue: unknown }).allowedValue;
      return problem(
        `${field} must be ${JSON.stringify(wanted)}, got ${describeValue(value)}.`,
        `Set ${field} to ${JSON.stringify(wanted)}.`,
      );
    }
    case 'pattern':
    case 'format': {
      const example = exampleOf(parent);
      return problem(
        `${field} ${describeValue(value)} is not valid.`,
        (description ? `Change ${field}.${about}` : `Change ${field} to match ${String(error.schema)}.`) +
          (example === undefined ? '' : ` Example: ${example}`),
      );
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const { comparison, limit } = error.params as { comparison: string; limit: number };
      const bound =
        { '>=': 'at least', '<=': 'at most', '>': 'more than', '<': 'less than' }[comparison] ?? comparison;
      return problem(
        `${field} is ${describeValue(value)}; it must be ${bound} ${limit}.`,
        `Set ${field} to ${bound} ${limit}.${about}`,
      );
    }
    case 'minLength':
    case 'maxLength': {
      const limit = (error.params as { limit: number }).limit;
      const length = typeof value === 'string' ? value.length : 0;
      if (error.keyword === 'minLength' && length === 0)
        return problem(`${field} is empty.`, `Give ${field} a value.${about}`);
      return problem(
        `${field} is ${length} characters long; it must be ${error.keyword === 'minLength' ? 'at least' : 'at most'} ${limit}.`,
        `${error.keyword === 'minLength' ? 'Lengthen' : 'Shorten'} ${field}.${about}`,
      );
    }
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'maxProperties': {
      const limit = (error.params as { limit: number }).limit;
      const count = Array.isArray(value) ? value.length : isRecord(value) ? Object.keys(value).length : 0;
      const noun = error.keyword.endsWith('Items') ? 'entries' : 'fields';
      if (error.keyword === 'minProperties' && description)
        return problem(
          `${field} is incomplete: ${description}`,
          `Add the missing field to ${field}. ${description}`,
        );
      const bound = error.keyword.startsWith('min') ? 'at least' : 'at most';
      return problem(
        `${field} has ${count} ${noun}; it must have ${bound} ${limit}.`,
        `${bound === 'at most' ? 'Remove' : 'Add'} entries so ${field} has ${bound} ${limit}.${about}`,
      );
    }
    case 'uniqueItems':
      return problem(`${field} lists the same entry twice.`, `Remove the duplicate entries from ${field}.`);
    case 'oneOf':
    case 'anyOf':
      if (isDuration) {
        const meant = typeof value === 'string' ? spelledDuration(value) : undefined;
        return problem(
          `${field} ${describeValue(value)} is not a duration${meant ? `; did you mean "${meant}"?` : '.'}`,
          meant
            ? `Write ${meant}.`
            : 'Use whole seconds (e.g. 3600) or a string such as 90s, 30m, 2h, 1d or 1h30m (units in the order d, h, m, s).',
        );
      }
      return problem(`${field} ${describeValue(value)} is not valid.${about}`, `Change ${field}.${about}`);
    default:
      return problem(`${field} ${error.message ?? 'is not valid'}.`, `Change ${field}.${about}`);
  }
}

const indexes = new WeakMap<object, Map<string, string[]>>();

/** Property name -> dotted paths where the schema allows it, for "it belongs in model.tags". */
function propertyIndex(rootSchema: unknown): Map<string, string[]> {
  if (!isRecord(rootSchema)) return new Map();
  let index = indexes.get(rootSchema);
  if (!index) {
    const found = new Map<string, string[]>();
    const walk = (schema: unknown, path: string) => {
      if (!isRecord(schema)) return;
      if (isRecord(schema.properties))
        for (const [name, sub] of Object.entries(schema.properties)) {
          const at = path ? `${path}.${name}` : name;
          found.set(name, [...(found.get(name) ?? []), at]);
          walk(sub, at);
        }
      if (isRecord(schema.items)) walk(schema.items, `${path}[]`);
    };
    walk(rootSchema, '');
    index = found;
    indexes.set(rootSchema, index);
  }
  return index;
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** `2 hours` -> `2h`, `90 sec` -> `90s`: durations people spell out. */
function spelledDuration(value: string): string | undefined {
  const match = /^\s*(\d{1,9})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\s*$/i.exec(value);
  return match ? `${match[1]}${match[2]![0]!.toLowerCase()}` : undefined;
}

/** `/data/2/uri` -> `data[2].uri`; keys that are not identifiers are quoted: `tags["team name"]`. */
export function dottedPath(pointer: string, data: unknown): string {
  if (pointer === '') return '';
  let path = '';
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path += `[${token}]`;
      node = node[Number(token)];
    } else {
      path = joinPath(path, token);
      node = isRecord(node) ? node[token] : undefined;
    }
  }
  return path;
}

function joinPath(path: string, key: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(short(key))}]`;
}

function typeName(t: string): string {
  return (
    {
      integer: 'a whole number',
      number: 'a number',
      string: 'a string',
      boolean: 'true or false',
      null: 'null',
      object: 'a mapping of fields (object)',
      array: 'a list',
    }[t] ?? t
  );
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `a list (${value.length} items)`;
  if (typeof value === 'string') return `the string ${describeValue(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return String(value);
  if (isRecord(value)) return 'a mapping of fields';
  return typeof value;
}

/** A short, safe rendering of any value: never the whole of a 10 MB string or a deep object. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(short(value));
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return `a list of ${value.length} items`;
  if (isRecord(value)) return 'a mapping of fields';
  return typeof value;
}

function short(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** When a quoted string holds the wanted scalar (`"2"` for an integer), the unquoted text. */
function unquote(value: string, wanted: string[]): string | undefined {
  const trimmed = value.trim();
  if (
    (wanted.includes('integer') && /^-?\d+$/.test(trimmed)) ||
    (wanted.includes('number') && trimmed !== '' && Number.isFinite(Number(trimmed)))
  )
    return trimmed;
  if (wanted.includes('boolean') && (trimmed === 'true' || trimmed === 'false')) return trimmed;
  return undefined;
}

function exampleOf(schema: SchemaNode): string | undefined {
  if (Array.isArray(schema.examples) && schema.examples.length > 0) {
    const example = schema.examples[0];
    return typeof example === 'string' ? example : JSON.stringify(example);
  }
  if (schema.const !== undefined) return String(schema.const);
  return undefined;
}

function firstSentence(text: string): string {
  const end = text.search(/[.:](\s|$)/);
  return lowerFirst(end === -1 ? text : text.slice(0, end));
}

function lowerFirst(text: string): string {
  // `Team or e-mail` -> `team or e-mail`, but `SageMaker ...` and `ECR ...` keep their capitals.
  return /^[A-Z][a-z]*(?![A-Za-z])/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}
