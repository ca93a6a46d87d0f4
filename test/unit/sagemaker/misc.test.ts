import { describe, expect, it } from 'vitest';
import { ALARM_KINDS, alarmName, endpointAlarmNames, parseAlarmName } from '#core/alarms/names';
import { burnRateThreshold, latencyThresholdMicros } from '#core/alarms/rollback';
import { usesInstanceStorage } from '#core/sagemaker/instance-storage';
import { isRuntimeFile, runtimeHash } from '#core/sagemaker/runtime-hash';
import { ALARM_NAME_PREFIX } from '#core/wiring';

describe('usesInstanceStorage', () => {
  it('knows NVMe-only families from EBS-backed ones', () => {
    for (const t of ['ml.g5.xlarge', 'ml.g4dn.xlarge', 'ml.p4d.24xlarge', 'ml.p5.48xlarge', 'ml.m5d.large'])
      expect(usesInstanceStorage(t), t).toBe(true);
    for (const t of ['ml.m5.large', 'ml.c5.xlarge', 'ml.p3.2xlarge', 'ml.inf2.xlarge', 'ml.t2.medium'])
      expect(usesInstanceStorage(t), t).toBe(false);
    expect(usesInstanceStorage('ml.p6-b200.48xlarge')).toBe(true);
    expect(usesInstanceStorage('not-an-instance')).toBe(false);
  });
});

describe('runtimeHash', () => {
  const files = [
    { path: 'runner.py', content: 'print(1)\n' },
    { path: '__init__.py', content: '' },
  ];

  it('does not depend on file order and ignores bytecode caches', () => {
    const reversed = [...files].reverse();
    const withCache = [...files, { path: '__pycache__/runner.cpython-311.pyc', content: 'x' }];
    expect(runtimeHash(reversed)).toBe(runtimeHash(files));
    expect(runtimeHash(withCache)).toBe(runtimeHash(files));
    expect(runtimeHash(files)).toMatch(/^[0-9a-f]{64}$/);
    expect(isRuntimeFile('nbops_runtime/x.pyc')).toBe(false);
  });

  it('changes when content moves between files or a file is renamed', () => {
    const moved = [
      { path: 'runner.py', content: '' },
      { path: '__init__.py', content: 'print(1)\n' },
    ];
    const renamed = [
      { path: 'run.py', content: 'print(1)\n' },
      { path: '__init__.py', content: '' },
    ];
    expect(runtimeHash(moved)).not.toBe(runtimeHash(files));
    expect(runtimeHash(renamed)).not.toBe(runtimeHash(files));
  });
});

describe('alarm names', () => {
  it('all start with the nbops prefix and the model, and parse back', () => {
    const names = endpointAlarmNames('churn-eu');
    const all = [
      names.latency,
      names.errorRate,
      names.burnPage,
      names.burnTicket,
      names.drift,
      ...Object.values(names.errorWindows),
    ];
    for (const name of all) {
      expect(name.startsWith(`${ALARM_NAME_PREFIX}churn-eu-`)).toBe(true);
      expect(parseAlarmName(name)?.model).toBe('churn-eu');
    }
    expect(new Set(all).size).toBe(ALARM_KINDS.length);
    expect(names.errorRate).toBe(names.errorWindows['5m']);
  });

  it('parse models whose names end like an alarm kind', () => {
    expect(parseAlarmName(alarmName('fraud-latency', 'latency'))).toEqual({
      model: 'fraud-latency',
      kind: 'latency',
    });
    expect(parseAlarmName(alarmName('x', 'errors-30m'))).toEqual({ model: 'x', kind: 'errors-30m' });
    expect(parseAlarmName('nbops--latency')).toBeUndefined();
    expect(parseAlarmName('ServerCpuTooHigh')).toBeUndefined();
    expect(parseAlarmName('nbops-churn-unknown')).toBeUndefined();
  });
});

describe('alarm thresholds', () => {
  it('convert milliseconds to the microseconds ModelLatency uses', () => {
    expect(latencyThresholdMicros(200)).toBe(200_000);
    expect(latencyThresholdMicros(0.5)).toBe(500);
  });

  it('burn the error budget at 14.4x for the fast page window', () => {
    expect(burnRateThreshold(99.9)).toBe(0.0144);
    expect(burnRateThreshold(99.5)).toBe(0.072);
    expect(burnRateThreshold(99, 6)).toBe(0.06);
  });
});
