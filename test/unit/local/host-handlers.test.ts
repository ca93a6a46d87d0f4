// The local host builds every handler from its function's makeHandler: every route of the wiring
// table must find its handler, every function folder must be registered, and each built handler
// must run its function's middy stack (Powertools logs and EMF metrics land in the host's sink).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_LOCATION } from '#adapters/local/aws-event';
import { HANDLER_FACTORIES, registeredHandlers } from '#adapters/local/host/handlers';
import { lambdaContext } from '#adapters/local/host/lambda';
import { localObservability } from '#adapters/local/host/observability';
import { type HandlerName, routes } from '#core/wiring';

const FUNCTIONS = join(import.meta.dirname, '../../../functions');

describe('the local host handler registry', () => {
  it('has a handler for every route of the wiring table', () => {
    const routed = new Set(routes({ bucketName: 'nbops-local' }).map((r) => r.handler));
    for (const handler of routed) expect(registeredHandlers(), `route handler ${handler}`).toContain(handler);
  });

  it('registers exactly the function folders that exist', () => {
    const folders = readdirSync(FUNCTIONS, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'commons')
      .map((e) => e.name)
      .sort();
    expect([...registeredHandlers()].sort()).toEqual(folders);
  });

  it('builds each handler with its middy stack: a poison event is ignored, logged and counted', async () => {
    for (const name of registeredHandlers() as HandlerName[]) {
      const lines: string[] = [];
      const handler = HANDLER_FACTORIES[name]!({
        services: () => {
          throw new Error('an unreadable event must not reach the use case');
        },
        observability: localObservability(name, (line) => lines.push(line)),
        idempotency: { kind: 'disabled' },
      });
      const outcome = (await handler('not an event', lambdaContext(name, LOCAL_LOCATION))) as {
        kind: string;
      };
      expect(outcome.kind, name).toBe('ignored');
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(
        parsed.some((l) => l.level === 'WARN' && l.function_name === `nbops-${name}`),
        name,
      ).toBe(true);
      const emf = parsed.find((l) => '_aws' in l);
      expect(emf, name).toMatchObject({ PoisonEvent: 1, service: name });
    }
  });
});
