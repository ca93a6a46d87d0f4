/**
 * cdk-nag: the AwsSolutions and Serverless packs find nothing unacknowledged, every
 * acknowledgement answers a finding that really occurs and carries its own reason, and
 * docs/deploy.md lists them all.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsSolutionsChecks, NagPack, ServerlessChecks } from 'cdk-nag';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACK_END, ACK_START, acknowledgementTable } from '../../infra/lib/ack-report';
import { acknowledgementsIn } from '../../infra/lib/nag';
import { PROJECT_ROOT } from '../../infra/lib/nbops';
import { allFeaturesConfig, defaultConfig, type Synthesized, synth } from './synth';

let variants: { name: string; s: Synthesized }[];

beforeAll(() => {
  variants = [
    { name: 'all features', s: synth(allFeaturesConfig()) },
    { name: 'defaults', s: synth(defaultConfig()) },
  ];
}, 120_000);

const packs = () => [new AwsSolutionsChecks(), new ServerlessChecks()];

type Patched = { isAcknowledged: (...args: unknown[]) => boolean };
const original = (NagPack.prototype as unknown as Patched).isAcknowledged;
afterEach(() => {
  (NagPack.prototype as unknown as Patched).isAcknowledged = original;
});

describe('cdk-nag', () => {
  it('the AwsSolutions and Serverless packs report no unacknowledged finding', () => {
    for (const { name, s } of variants)
      for (const pack of packs()) {
        const report = pack.validateScope(s.app);
        const findings = report.violations.map(
          (v) =>
            `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}: ${v.description}`,
        );
        expect(findings, `${name}, ${pack.readPackName}`).toEqual([]);
      }
  });

  it('every acknowledgement has a specific reason and answers a finding the packs really report', () => {
    // Run the packs as if nothing were acknowledged, to see every finding there is.
    (NagPack.prototype as unknown as Patched).isAcknowledged = () => false;
    for (const { name, s } of variants) {
      const raw = packs().flatMap((pack) => pack.validateScope(s.app).violations);
      const acks = acknowledgementsIn(s.app);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(40);
        const answered = raw.some(
          (v) =>
            v.ruleName === ack.id &&
            v.violatingResources.some(
              (r) => r.constructPath === ack.path || r.constructPath?.startsWith(`${ack.path}/`),
            ),
        );
        expect(answered, `${name}: ${ack.id} at ${ack.path} acknowledges nothing`).toBe(true);
      }
    }
  });

  it('docs/deploy.md lists every acknowledgement with its reason', () => {
    const docs = readFileSync(join(PROJECT_ROOT, 'docs', 'deploy.md'), 'utf8');
    const section = docs.slice(docs.indexOf(ACK_START), docs.indexOf(ACK_END) + ACK_END.length);
    expect(section, 'run `npx tsx infra/bin/acknowledgements.ts --write` to refresh docs/deploy.md').toBe(
      acknowledgementTable(),
    );
  }, 120_000);
});
