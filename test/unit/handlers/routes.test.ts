// Every route of the wiring table that targets one of these handlers has a function folder whose
// index.ts exports `handler` (the CDK stack and the local host both look for exactly that).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routes } from '#core/wiring';

/** The handlers built so far (drift, alarm and ops-api come later). */
const BUILT = ['submit', 'training-state', 'deploy', 'endpoint-state', 'sweeper', 'drift', 'alarm'];

describe('functions/<handler>/index.ts', () => {
  const ours = routes({ bucketName: 'nbops-artifacts' }).filter((route) => BUILT.includes(route.handler));

  it('covers every route of these handlers', () => {
    expect(new Set(ours.map((route) => route.handler))).toEqual(new Set(BUILT));
  });

  it.each(ours.map((route) => [route.id, route.handler]))(
    'route %s: functions/%s exports handler',
    async (_id, name) => {
      const file = new URL(`../../../functions/${name}/index.ts`, import.meta.url);
      expect(existsSync(file), `functions/${name}/index.ts`).toBe(true);
      // Importing must not need AWS configuration: services are built on the first invocation.
      const module = (await import(file.href)) as { handler?: unknown; makeHandler?: unknown };
      expect(typeof module.handler).toBe('function');
      expect(typeof module.makeHandler).toBe('function');
    },
  );
});
