// Plain JSON-like values <-> DynamoDB AttributeValues. Small on purpose: the registry stores only
// strings, finite numbers, booleans, null, lists, maps and string sets.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

export function marshall(value: unknown, path = 'value'): AttributeValue {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new TypeError(`${path} is ${value}; DynamoDB stores only finite numbers`);
    const magnitude = Math.abs(value);
    if (magnitude !== 0 && (magnitude < 1e-130 || magnitude >= 1e126)) {
      throw new TypeError(
        `${path} is ${value}, outside DynamoDB's number range (1e-130 to 1e126 in magnitude)`,
      );
    }
    return { N: String(value) };
  }
  if (typeof value === 'boolean') return { BOOL: value };
  if (value === null || value === undefined) return { NULL: true };
  if (value instanceof Set) {
    const members = [...value];
    if (members.length === 0 || !members.every((member) => typeof member === 'string')) {
      throw new TypeError(`${path} must be a non-empty set of strings to be stored as a string set`);
    }
    return { SS: members as string[] };
  }
  if (Array.isArray(value)) return { L: value.map((member, i) => marshall(member, `${path}[${i}]`)) };
  if (typeof value === 'object') return { M: marshallItem(value as Record<string, unknown>, path) };
  throw new TypeError(`${path} has type ${typeof value}, which the registry does not store`);
}

/** Undefined members are dropped (absent attribute), as JSON.stringify does. */
export function marshallItem(record: Record<string, unknown>, path = 'item'): Item {
  // fromEntries defines own properties, so even a "__proto__" key stays an ordinary attribute.
  return Object.fromEntries(
    Object.entries(record)
      .filter(([, member]) => member !== undefined)
      .map(([key, member]) => [key, marshall(member, `${path}.${key}`)]),
  );
}

export function unmarshall(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.L !== undefined) return value.L.map(unmarshall);
  if (value.M !== undefined) return unmarshallItem(value.M);
  if (value.SS !== undefined) return [...value.SS];
  if (value.NS !== undefined) return value.NS.map(Number);
  if (value.B !== undefined) return value.B;
  if (value.BS !== undefined) return [...value.BS];
  throw new TypeError(`unsupported attribute value ${JSON.stringify(value)}`);
}

export function unmarshallItem(item: Item): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([key, member]) => [key, unmarshall(member)]));
}

/**
 * Approximate stored size in bytes, following DynamoDB's published rules (names + values; numbers
 * about one byte per two digits; 3 bytes of overhead per list/map plus one per element).
 */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8Length(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Length(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\./g, '').length / 2) + 1;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, member) => sum + 1 + valueSize(member), 0);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemSize(value.M);
  if (value.SS !== undefined) return value.SS.reduce((sum, member) => sum + utf8Length(member), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, member) => sum + member.length, 0);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BS !== undefined) return value.BS.reduce((sum, member) => sum + member.byteLength, 0);
  return 0;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
