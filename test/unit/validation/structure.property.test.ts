import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Finding } from '#core/validation/finding';
import { locatePointers, parseNotebook } from '#core/validation/parse';
import { structureFamily, structureRules } from '#core/validation/structure';
import { arbNotebook, arbNotebookOfMinor, type Json, type JsonObject, mutations } from './gen-notebooks';

const SEVERITY = new Map(structureRules.map((r) => [r.id, r.defaultSeverity]));

function check(notebook: unknown): Finding[] {
  const findings: Finding[] = [];
  structureFamily.check({
    notebook,
    text: JSON.stringify(notebook) ?? '',
    policy: {},
    report: (f) => findings.push({ ...f, severity: f.severity ?? SEVERITY.get(f.rule) ?? 'error' }),
  });
  return findings;
}

const errorsOf = (findings: Finding[]) => findings.filter((f) => f.severity === 'error');
const show = (findings: Finding[]) =>
  findings.map((f) => `${f.rule} ${f.location.pointer}: ${f.message}`).join('\n');

/** `pick` for mutations, driven by fast-check so failures shrink and replay. */
const arbPicks = fc.array(fc.nat(), { minLength: 16, maxLength: 16 }).map((nats) => {
  let k = 0;
  return (n: number) => (n <= 0 ? 0 : nats[k++ % nats.length]! % n);
});

describe('generated valid notebooks', () => {
  it('yield no error for any minor version 4.0-4.5, cell type, output type or multiline form', () => {
    fc.assert(
      fc.property(arbNotebook, (nb) => {
        const errors = errorsOf(check(nb));
        expect(errors, show(errors)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('parse to what JSON.parse gives, without parse findings, whatever the indentation', () => {
    fc.assert(
      fc.property(arbNotebookOfMinor(5, 3), fc.constantFrom(0, 1, 2), (nb, indent) => {
        const text = JSON.stringify(nb, null, indent);
        const outcome = parseNotebook(new TextEncoder().encode(text), { maxBytes: 1e7 });
        expect(outcome.ok && outcome.findings).toEqual([]);
        if (outcome.ok) expect(outcome.value).toEqual(JSON.parse(text)); // JSON turns -0 into 0
      }),
      { numRuns: 100 },
    );
  });
});

describe('single mutations', () => {
  for (const mutation of mutations) {
    it(`"${mutation.name}" gives the expected finding at the expected pointer`, () => {
      let applied = 0;
      fc.assert(
        fc.property(arbNotebook, arbPicks, (nb, pick) => {
          const before = JSON.stringify(nb);
          const mutated = mutation.apply(nb, pick);
          expect(JSON.stringify(nb), 'mutations work on a copy').toBe(before);
          fc.pre(mutated !== undefined);
          applied++;
          const findings = check(mutated!.notebook);
          const { expect: expected } = mutated!;
          if (expected === 'valid') {
            expect(errorsOf(findings), show(findings)).toEqual([]);
            return;
          }
          const hit = findings.find(
            (f) =>
              f.rule === expected.rule &&
              f.location.pointer === expected.pointer &&
              f.severity === expected.severity,
          );
          expect(
            hit,
            `expected ${expected.rule} at ${expected.pointer}, got:\n${show(findings)}`,
          ).toBeDefined();
          // Findings inside a cell carry its index; every finding has a fix.
          const cell = /^\/cells\/(\d+)/.exec(expected.pointer);
          if (cell) expect(hit!.location.cell).toBe(Number(cell[1]));
          for (const f of findings) expect(f.fix).toMatch(/\w/);
          if (expected.severity !== 'error') expect(errorsOf(findings), show(findings)).toEqual([]);
        }),
        { numRuns: 40 },
      );
      expect(applied).toBeGreaterThan(0);
    });
  }
});

describe('arbitrary damage', () => {
  /** Replaces the value at a random path with random JSON. */
  function damage(
    nb: JsonObject,
    pick: (n: number) => number,
    replacement: Json,
  ): { notebook: Json; pointer: string } {
    const copy = structuredClone(nb) as Json;
    let parent: Json = copy;
    const tokens: string[] = [];
    for (let depth = 0; depth < 6; depth++) {
      if (parent === null || typeof parent !== 'object') break;
      const keys = Object.keys(parent);
      if (keys.length === 0) break;
      const key = keys[pick(keys.length)]!;
      const child: Json = (parent as Record<string, Json>)[key]!;
      tokens.push(key);
      if (child === null || typeof child !== 'object' || pick(3) === 0) {
        (parent as Record<string, Json>)[key] = replacement;
        break;
      }
      parent = child;
    }
    return {
      notebook: copy,
      pointer: tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join(''),
    };
  }

  it('never throws, and every finding points at something that exists in the document', () => {
    fc.assert(
      fc.property(arbNotebook, arbPicks, fc.jsonValue({ maxDepth: 2 }), (nb, pick, replacement) => {
        const { notebook } = damage(nb, pick, replacement as Json);
        const text = JSON.stringify(notebook, null, 1);
        const findings = check(notebook);
        const located = locatePointers(
          text,
          findings.map((f) => f.location.pointer),
        );
        for (const f of findings) expect(located.has(f.location.pointer), f.location.pointer).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
