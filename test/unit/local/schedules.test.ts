// The local EventBridge Scheduler: a rate schedule keeps its phase when the same definition is put
// again (events are delivered at least once, so deployments re-put their drift schedule), and a
// changed definition starts over.
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsEvent } from '#adapters/local/aws-event';
import { LocalSchedules } from '#adapters/local/schedules';

const schedule = (version: number) => ({
  name: 'nbops-drift-churn',
  expression: 'rate(1 hour)',
  detailType: 'Drift Evaluation Due',
  detail: { model: 'churn', version },
});

const open: LocalSchedules[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

describe('LocalSchedules', () => {
  it('keeps the timer of an unchanged schedule, and restarts a changed one', async () => {
    const fired: AwsEvent[] = [];
    // rate(1 hour) every 400 ms.
    const schedules = new LocalSchedules({ put: (e) => fired.push(e), timeScale: 400 / 3_600_000 });
    open.push(schedules);
    await schedules.upsertSchedule(schedule(1));
    // Re-put every 50 ms, faster than the period: an unchanged definition must still fire.
    for (let i = 0; i < 14; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await schedules.upsertSchedule(schedule(1));
    }
    expect(fired.length).toBeGreaterThanOrEqual(1);
    expect(fired[0]!['detail-type']).toBe('Drift Evaluation Due');

    const before = fired.length;
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await schedules.upsertSchedule(schedule(2 + i));
    }
    // Each change restarts the period, which never elapsed.
    expect(fired.length).toBe(before);
    expect(schedules.list()).toEqual([schedule(7)]);
  });
});
