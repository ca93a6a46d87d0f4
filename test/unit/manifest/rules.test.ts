import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestFamily, manifestRules } from '#core/validation/manifest-rules';
import { policyFamily } from '#core/validation/policy-rules';
import { example, exampleText, type Json, notebook, rulesOf, run } from './helpers';

/** Findings of the manifest family for the example manifest after `change`. */
function check(change: (m: Json, nb: Json) => void) {
  const m = example();
  const nb = notebook(m);
  change(m, nb);
  return run([manifestFamily], nb).findings;
}

const only = (findings: ReturnType<typeof check>, rule: string) => findings.filter((f) => f.rule === rule);

describe('the example manifest', () => {
  it('has no findings, embedded or as a sidecar', () => {
    expect(check(() => {})).toEqual([]);
    expect(
      run([manifestFamily, policyFamily], notebook(), {
        sidecar: { path: 'churn.nbops.yaml', text: exampleText },
      }).findings,
    ).toEqual([]);
  });

  it.runIf(existsSync('examples/churn/churn.ipynb'))(
    'fits the example notebook (its parameters cell assigns every parameter)',
    () => {
      const nb = JSON.parse(readFileSync('examples/churn/churn.ipynb', 'utf8'));
      const { findings } = run([manifestFamily], nb, {
        sidecar: { path: 'examples/churn/manifest.yaml', text: exampleText },
      });
      expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    },
  );

  it('sets ctx.manifest.value only when the shape is valid', () => {
    expect(run([manifestFamily], notebook(example())).ctx.manifest?.value).toEqual(example());
    const broken = example();
    broken.training.instanceCount = 0;
    expect(run([manifestFamily], notebook(broken)).ctx.manifest?.value).toBeUndefined();
  });

  it('catalogues every rule it reports, with a title and rationale', () => {
    expect(manifestRules.map((r) => r.id)).toEqual(
      Array.from({ length: 16 }, (_, i) => `MAN-${String(i + 1).padStart(3, '0')}`),
    );
    for (const spec of manifestRules) {
      expect(spec.family).toBe('manifest');
      expect(spec.title.length).toBeGreaterThan(10);
      expect(spec.rationale.length).toBeGreaterThan(20);
    }
  });
});

describe('MAN-002 / MAN-011 schema problems', () => {
  it('point into the notebook metadata', () => {
    const findings = check((m) => {
      m.training.instanceCount = 'two';
      m.deployment.bakeTime = 'ten minutes';
    });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-002',
        severity: 'error',
        location: { pointer: '/metadata/nbops/training/instanceCount' },
      }),
      expect.objectContaining({
        rule: 'MAN-011',
        severity: 'error',
        location: { pointer: '/metadata/nbops/deployment/bakeTime' },
      }),
    ]);
  });

  it('point into a sidecar with its file and line', () => {
    const text = exampleText.replace('instanceType: ml.g5.xlarge', 'instanceType: 5');
    const line = text.split('\n').findIndex((l) => l.includes('instanceType: 5')) + 1;
    const { findings } = run([manifestFamily], notebook(), { sidecar: { path: 'churn.nbops.yaml', text } });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-002',
        location: { pointer: '/training/instanceType', file: 'churn.nbops.yaml', line },
      }),
    ]);
  });

  it.each([
    ['a string', 'nbops'],
    ['a list', [1]],
    ['null', null],
  ])('explain a manifest that is %s', (_, raw) => {
    const { findings } = run([manifestFamily, policyFamily], notebook(raw));
    expect(rulesOf(findings)).toEqual(['MAN-002']);
    expect(findings[0]!.location.pointer).toBe('/metadata/nbops');
  });
});

describe('MAN-003 parameters are assigned in the parameters cell', () => {
  it('reports a parameter the cell does not assign, suggesting the near name', () => {
    const findings = check((_, nb) => {
      nb.cells[1].source = 'epochs = 200\nlr = 0.1\nseed = 42\nn_rows = 5000\n';
    });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-003',
        severity: 'error',
        location: { pointer: '/cells/1/source', cell: 1 },
        message: expect.stringContaining('"learning_rate" is not assigned in the parameters cell (cell 1)'),
      }),
    ]);
  });

  it('leaves a missing parameters cell to EX-001 (one finding, not two)', () => {
    const findings = check((_, nb) => {
      nb.cells[1].metadata.tags = [];
    });
    expect(only(findings, 'MAN-003')).toEqual([]);
  });

  it('is quiet without parameters, even without a parameters cell', () => {
    expect(
      check((m, nb) => {
        m.parameters = {};
        nb.cells[1].metadata.tags = [];
      }),
    ).toEqual([]);
  });
});

describe('MAN-004 gates refer to declared metrics', () => {
  it('reports an undeclared gate metric with a suggestion', () => {
    const findings = check((m) => {
      m.gates[0].metric = 'validation:acu';
    });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-004',
        location: { pointer: '/metadata/nbops/gates/0/metric' },
        message: expect.stringContaining('did you mean "validation:auc"?'),
      }),
    ]);
  });

  it('accepts gates on declared metrics', () => {
    expect(check((m) => m.gates.push({ metric: 'train:loss', max: 0.7 }))).toEqual([]);
  });
});

describe('MAN-005 / MAN-006 spot training', () => {
  it('requires checkpoints with spot', () => {
    const findings = check((m) => {
      m.training.checkpoints.enabled = false;
    });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-005',
        location: { pointer: '/metadata/nbops/training/spot/enabled' },
      }),
    ]);
    expect(
      check((m) => {
        m.training.spot.enabled = false;
        m.training.checkpoints.enabled = false;
        delete m.training.spot.maxWait;
      }),
    ).toEqual([]);
  });

  it('requires maxWait >= maxRuntime, citing the API rule', () => {
    const findings = check((m) => {
      m.training.spot.maxWait = '30m';
    });
    expect(findings).toEqual([expect.objectContaining({ rule: 'MAN-006', severity: 'error' })]);
    expect(findings[0]!.message).toContain('MaxWaitTimeInSeconds >= MaxRuntimeInSeconds');
    expect(check((m) => (m.training.spot.maxWait = 3600))).toEqual([]);
    expect(check((m) => delete m.training.spot.maxWait)).toEqual([]); // defaults to twice maxRuntime
  });

  it('notes a maxWait that has no effect', () => {
    const findings = check((m) => {
      m.training.spot.enabled = false;
    });
    expect(findings).toEqual([expect.objectContaining({ rule: 'MAN-006', severity: 'info' })]);
  });
});

describe('MAN-007 instance types', () => {
  it('reports an unknown training type with a did-you-mean', () => {
    const findings = check((m) => {
      m.training.instanceType = 'ml.g5.large';
    });
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'MAN-007', severity: 'error', fix: 'Use "ml.g5.xlarge".' }),
    ]);
    expect(
      only(
        check((m) => (m.training.instanceType = 'g5.xlarge')),
        'MAN-007',
      )[0]!.fix,
    ).toBe('Use "ml.g5.xlarge".');
  });

  it('reports an endpoint-only type used for training and an unknown serving type', () => {
    expect(
      only(
        check((m) => (m.training.instanceType = 'ml.inf2.xlarge')),
        'MAN-007',
      )[0]!.message,
    ).toContain('is an endpoint instance type');
    expect(check((m) => (m.serving.instanceType = 'ml.m5.larg'))).toEqual([
      expect.objectContaining({
        rule: 'MAN-007',
        location: { pointer: '/metadata/nbops/serving/instanceType' },
        fix: 'Use "ml.m5.large".',
      }),
    ]);
  });

  it('warns about training without a GPU', () => {
    expect(check((m) => (m.training.instanceType = 'ml.m5.xlarge'))).toEqual([
      expect.objectContaining({
        rule: 'MAN-007',
        severity: 'warning',
        message: expect.stringContaining('has no GPU'),
      }),
    ]);
    for (const gpu of ['ml.g6.xlarge', 'ml.p4d.24xlarge', 'ml.trn1.2xlarge'])
      expect(check((m) => (m.training.instanceType = gpu))).toEqual([]);
  });
});

describe('MAN-008 / MAN-009 come from reading', () => {
  it('are reported once through the validator flow', () => {
    const nb = notebook(example());
    nb.metadata.nbops_manifest = example();
    const { findings } = run([manifestFamily], nb, {
      sidecar: { path: 'churn.nbops.yaml', text: exampleText },
    });
    expect(rulesOf(findings).sort()).toEqual(['MAN-008', 'MAN-009']);
  });
});

describe('MAN-010 HyperParameter limits', () => {
  it('reports a value over 256 characters once JSON-encoded', () => {
    const findings = check((m) => {
      m.parameters.seed = 'x'.repeat(255); // 257 with quotes
    });
    expect(only(findings, 'MAN-010')).toEqual([
      expect.objectContaining({
        location: { pointer: '/metadata/nbops/parameters/seed' },
        message: expect.stringContaining('257 characters once JSON-encoded'),
      }),
    ]);
    expect(
      only(
        check((m) => (m.parameters.seed = 'x'.repeat(254))),
        'MAN-010',
      ),
    ).toEqual([]);
  });

  it('reports more than 90 parameters and reserved prefixes', () => {
    const many = check((m, nb) => {
      for (let i = 0; i < 91; i++) m.parameters[`p${i}`] = i;
      nb.cells[1].source += Object.keys(m.parameters)
        .map((k) => `${k} = 0`)
        .join('\n');
    });
    expect(only(many, 'MAN-010')).toEqual([
      expect.objectContaining({ message: expect.stringContaining('95 parameters') }),
    ]);
    const reserved = check((m, nb) => {
      m.parameters.sagemaker_program = 'x';
      nb.cells[1].source += '\nsagemaker_program = "x"\n';
    });
    expect(only(reserved, 'MAN-010')[0]!.message).toContain('reserved');
  });
});

describe('MAN-011 durations', () => {
  it.each([
    [
      'maxRuntime over 28 days',
      (m: Json) => (m.training.maxRuntime = '29d'),
      '/training/maxRuntime',
      '28-day',
    ],
    ['maxRuntime of 0', (m: Json) => (m.training.maxRuntime = 0), '/training/maxRuntime', 'at least 1s'],
    ['bakeTime over 3600 s', (m: Json) => (m.deployment.bakeTime = '2h'), '/deployment/bakeTime', '3600 s'],
    [
      'an overflowing duration',
      (m: Json) => (m.drift.window = `${'9'.repeat(20)}d`),
      '/drift/window',
      'too long',
    ],
  ])('reports %s', (_, change, pointer, text) => {
    const findings = only(check(change), 'MAN-011');
    expect(findings).toEqual([
      expect.objectContaining({
        location: { pointer: `/metadata/nbops${pointer}` },
        message: expect.stringContaining(text),
      }),
    ]);
  });

  it('accepts bakeTime 3600 s and warns when cellTimeout exceeds maxRuntime', () => {
    expect(check((m) => (m.deployment.bakeTime = 3600))).toEqual([]);
    expect(check((m) => (m.training.cellTimeout = '2h'))).toEqual([
      expect.objectContaining({ rule: 'MAN-011', severity: 'warning' }),
    ]);
  });
});

describe('MAN-012 deployment', () => {
  it('explains a canary on a single instance', () => {
    const findings = check((m) => {
      m.serving.instanceCount = 1;
    });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-012',
        severity: 'warning',
        message: expect.stringContaining('CAPACITY_PERCENT'),
      }),
    ]);
  });

  it('rejects linear deployments longer than SageMaker allows', () => {
    const findings = check((m) => {
      m.deployment = { strategy: 'linear', linearStepPercent: 10, bakeTime: '1h' };
      m.serving.instanceCount = 10;
    });
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-012',
        severity: 'error',
        message: expect.stringContaining('10 linear steps'),
      }),
    ]);
    expect(
      check((m) => {
        m.deployment = { strategy: 'linear', linearStepPercent: 25, bakeTime: '30m' };
        m.serving.instanceCount = 4;
      }),
    ).toEqual([]);
  });

  it('notes settings the strategy ignores, and auto approval without gates', () => {
    const findings = check((m) => {
      m.deployment = { strategy: 'all-at-once', canaryPercent: 20, bakeTime: '5m', approval: 'auto' };
      m.gates = [];
    });
    expect(findings.map((f) => [f.rule, f.severity])).toEqual([
      ['MAN-012', 'info'],
      ['MAN-012', 'info'],
      ['MAN-012', 'warning'],
    ]);
  });
});

describe('MAN-013 drift needs', () => {
  it('needs serving.features and data capture', () => {
    expect(check((m) => delete m.serving.features)).toEqual([
      expect.objectContaining({
        rule: 'MAN-013',
        severity: 'error',
        message: expect.stringContaining('serving.features is missing'),
      }),
    ]);
    expect(check((m) => (m.serving.dataCapture.enabled = false))).toEqual([
      expect.objectContaining({
        rule: 'MAN-013',
        location: { pointer: '/metadata/nbops/serving/dataCapture/enabled' },
      }),
    ]);
    expect(rulesOf(check((m) => delete m.serving))).toContain('MAN-013');
    expect(check((m) => m.serving.features.push({ name: 'contract', type: 'numeric' }))).toEqual([
      expect.objectContaining({
        rule: 'MAN-013',
        message: expect.stringContaining('repeats the feature name "contract"'),
      }),
    ]);
  });

  it('is quiet without drift', () => {
    expect(
      check((m) => {
        delete m.drift;
        delete m.serving.features;
        m.serving.dataCapture.enabled = false;
      }),
    ).toEqual([]);
  });
});

describe('MAN-014 data channels', () => {
  it('reports reserved and duplicate channel names', () => {
    const findings = check((m) => {
      m.data = [
        { name: 'train', uri: 's3://ml-data/churn/train.csv', sha256: 'a'.repeat(64) },
        { name: 'model', uri: 's3://ml-data/churn/model/' },
        { name: 'train', uri: 's3://ml-data/churn/other.csv' },
      ];
    });
    expect(findings.map((f) => [f.rule, f.location.pointer])).toEqual([
      ['MAN-014', '/metadata/nbops/data/1/name'],
      ['MAN-014', '/metadata/nbops/data/2/name'],
    ]);
  });

  it('accepts distinct names and caps the count', () => {
    expect(
      check(
        (m) =>
          (m.data = [
            { name: 'train', uri: 's3://ml-data/x' },
            { name: 'validation', uri: 's3://ml-data/y' },
          ]),
      ),
    ).toEqual([]);
    const many = check(
      (m) => (m.data = Array.from({ length: 17 }, (_, i) => ({ name: `c${i}`, uri: 's3://ml-data/x' }))),
    );
    expect(many).toEqual([
      expect.objectContaining({ rule: 'MAN-014', message: expect.stringContaining('at most 16') }),
    ]);
  });
});

describe('MAN-015 drift schedule', () => {
  it.each([
    ['rate(1 hours)', 'singular'],
    ['rate(5 hour)', 'plural'],
    ['rate(0 minutes)', 'rate of 0'],
    ['rate(1h)', 'not a valid rate'],
    ['cron(0 6 * * *)', 'has 5 cron fields'],
    ['cron(0 6 * * MON *)', 'exactly one of them'],
    ['cron(0 6 ? * ? *)', 'both day-of-month and day-of-week'],
    ['cron(61 6 * * ? *)', 'invalid minutes field'],
    ['cron(0 6 ? FOO MON *)', 'invalid month field'],
    ['every hour', 'neither a rate'],
  ])('rejects %s', (schedule, text) => {
    const findings = check((m) => (m.drift.schedule = schedule));
    expect(findings).toEqual([
      expect.objectContaining({
        rule: 'MAN-015',
        location: { pointer: '/metadata/nbops/drift/schedule' },
        message: expect.stringContaining(text),
      }),
    ]);
  });

  it.each([
    'rate(1 hour)',
    'rate(1 minute)',
    'rate(2 days)',
    'cron(0 6 * * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0 8 ? * MON-FRI *)',
    'cron(0 0 L * ? 2030)',
    'cron(0 12 ? JAN,JUL 2#1 *)',
  ])('accepts %s', (schedule) => {
    const findings = check((m) => {
      m.drift.schedule = schedule;
      m.drift.window = '7d';
    });
    expect(findings).toEqual([]);
  });

  it('notes a window shorter than the schedule interval', () => {
    expect(check((m) => (m.drift.schedule = 'rate(1 day)'))).toEqual([
      expect.objectContaining({ rule: 'MAN-015', severity: 'info' }),
    ]);
  });
});

describe('MAN-016 metrics and gates', () => {
  it('reports duplicate metrics and impossible gates', () => {
    const findings = check((m) => {
      m.metrics.push({ name: 'train:loss', goal: 'minimize' });
      m.gates.push({ metric: 'train:loss', min: 1, max: 0.5 });
    });
    expect(findings.map((f) => [f.rule, f.location.pointer])).toEqual([
      ['MAN-016', '/metadata/nbops/metrics/3/name'],
      ['MAN-016', '/metadata/nbops/gates/1'],
    ]);
    expect(check((m) => m.gates.push({ metric: 'train:loss', min: 0, max: 0.5 }))).toEqual([]);
  });
});

describe('hostile manifests', () => {
  it('a 10 MB value gives bounded findings, never the value itself', () => {
    const findings = check((m, nb) => {
      m.parameters.seed = 'x'.repeat(10_000_000);
      nb.cells[1].source = 'epochs = 1\nlearning_rate = 1\nseed = 1\nn_rows = 1\n';
    });
    expect(rulesOf(findings)).toEqual(['MAN-010']);
    expect(findings[0]!.message.length).toBeLessThan(300);
    const long = check((m) => {
      m.model.description = 'y'.repeat(10_000_000);
      m.training.instanceType = 'z'.repeat(10_000_000);
    });
    expect(rulesOf(long)).toEqual(['MAN-002']);
    expect(long[0]!.message.length).toBeLessThan(300);
    expect(rulesOf(check((m) => (m.serving.instanceType = 'q'.repeat(10_000_000))))).toEqual(['MAN-007']);
  });

  it('deeply nested junk and odd keys are schema findings', () => {
    let junk: Json = 1;
    for (let i = 0; i < 10_000; i++) junk = { a: [junk] };
    const findings = check((m) => {
      m.parameters.deep = junk;
      m.serving.features = junk;
      m.drift = JSON.parse('{"__proto__": {"polluted": true}}');
      m.constructor = 'x';
    });
    expect(new Set(rulesOf(findings))).toEqual(new Set(['MAN-002']));
    expect(({} as Json).polluted).toBeUndefined();
  });

  it('a parameter named __proto__ survives default resolution', () => {
    const findings = check((m, nb) => {
      m.parameters = JSON.parse('{"__proto__": 1}');
      nb.cells[1].source = '__proto__ = 1\n';
    });
    expect(findings).toEqual([]);
  });
});
