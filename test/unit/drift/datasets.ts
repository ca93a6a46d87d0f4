/**
 * The deterministic datasets of scripts/drift_reference.py, regenerated bit for bit: every value
 * is built from integers / 2^32 with the same IEEE operations in both languages.
 */
import { seededRandom } from '#core/drift/baseline';

export interface DatasetSpec {
  kind: 'normal' | 'integer-normal' | 'uniform-int' | 'constant' | 'category';
  seed: number;
  n: number;
  mean?: number;
  sd?: number;
  k?: number;
  value?: number;
  skew?: number;
  prefix?: string;
  offset?: number;
}

export function generate(spec: DatasetSpec): (number | string)[] {
  const draw = seededRandom(spec.seed);
  const out: (number | string)[] = [];
  for (let i = 0; i < spec.n; i++) {
    switch (spec.kind) {
      case 'normal':
      case 'integer-normal': {
        let z = 0;
        for (let j = 0; j < 12; j++) z += draw();
        const value = spec.mean! + spec.sd! * (z - 6);
        out.push(spec.kind === 'integer-normal' ? Math.floor(value) : value);
        break;
      }
      case 'uniform-int':
        out.push(Math.floor(draw() * spec.k!));
        break;
      case 'constant':
        out.push(spec.value!);
        break;
      case 'category': {
        const u = draw();
        const index = Math.floor(u ** (spec.skew ?? 1) * spec.k!);
        out.push(`${spec.prefix ?? 'c'}${index + (spec.offset ?? 0)}`);
        break;
      }
    }
  }
  return out;
}

export const numbers = (spec: DatasetSpec): number[] => generate(spec) as number[];
export const labels = (spec: DatasetSpec): string[] => generate(spec) as string[];
