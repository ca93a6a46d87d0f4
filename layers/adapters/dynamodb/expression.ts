// Builds expression placeholders so no attribute name can collide with a DynamoDB reserved word
// (status, owner, version, ... are all reserved).
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from './attribute-values';

export class Expression {
  private readonly names = new Map<string, string>();
  private readonly values: Record<string, AttributeValue> = {};
  private valueCount = 0;

  /** `#nX` for an attribute name (one placeholder per distinct name). */
  name(attribute: string): string {
    let placeholder = this.names.get(attribute);
    if (placeholder === undefined) {
      placeholder = `#n${this.names.size}`;
      this.names.set(attribute, placeholder);
    }
    return placeholder;
  }

  /** `#a.#b` for a document path. */
  path(...segments: string[]): string {
    return segments.map((segment) => this.name(segment)).join('.');
  }

  /** `:vX` for a value. */
  value(value: unknown): string {
    const placeholder = `:v${this.valueCount++}`;
    this.values[placeholder] = marshall(value, placeholder);
    return placeholder;
  }

  /** The placeholder maps, omitted when empty (DynamoDB rejects empty maps). */
  attributes(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } {
    const result: ReturnType<Expression['attributes']> = {};
    if (this.names.size > 0) {
      result.ExpressionAttributeNames = Object.fromEntries([...this.names].map(([name, p]) => [p, name]));
    }
    if (this.valueCount > 0) result.ExpressionAttributeValues = this.values;
    return result;
  }
}
