import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  isWithinLocations,
  loadPolicy,
  matchesAllowed,
  resolvePolicy,
} from '#core/policy/policy';

const EXAMPLE = 'examples/policy.example.yaml';

describe('loadPolicy', () => {
  it('loads the example policy without findings', () => {
    const { policy, findings } = loadPolicy(readFileSync(EXAMPLE, 'utf8'), EXAMPLE);
    expect(findings).toEqual([]);
    expect(policy?.training?.maxRuntime).toBe('12h');
    expect(policy?.data?.allowedLocations).toContain('s3://ml-data');
  });

  it('reads JSON too, and treats an empty file as an empty policy', () => {
    expect(loadPolicy('{"training": {"maxInstanceCount": 2}}', 'p.json')).toEqual({
      policy: { training: { maxInstanceCount: 2 } },
      findings: [],
    });
    expect(loadPolicy('', 'p.yaml')).toEqual({ policy: {}, findings: [] });
  });

  it('reports schema problems with field paths and lines, and returns no policy', () => {
    const text =
      'training:\n  maxInstanceCount: 0\n  allowedInstanceTyps: ["ml.g5.*"]\napproval:\n  forceManual: "yes"\n';
    const { policy, findings } = loadPolicy(text, 'policy.yaml');
    expect(policy).toBeUndefined();
    expect(
      findings.map((f) => [f.rule, f.severity, f.location.pointer, f.location.line, f.location.file]),
    ).toEqual([
      ['POL-011', 'error', '/training/allowedInstanceTyps', 3, 'policy.yaml'],
      ['POL-011', 'error', '/training/maxInstanceCount', 2, 'policy.yaml'],
      ['POL-011', 'error', '/approval/forceManual', 5, 'policy.yaml'],
    ]);
    expect(findings[0]!.message).toContain('did you mean "allowedInstanceTypes"?');
    expect(findings[1]!.message).toBe('training.maxInstanceCount is 0; it must be at least 1.');
  });

  it('reports invalid allowlist regexes, unknown required fields and bad durations', () => {
    const text = [
      'requiredFields: [runbook, slo.latncy]',
      'training:',
      '  maxRuntime: 1 hour',
      'secrets:',
      '  allowlist:',
      '    - pattern: "key-(["',
      '      reason: test keys',
    ].join('\n');
    const schema = loadPolicy(text, 'p.yaml');
    expect(schema.findings.map((f) => f.location.pointer)).toEqual(['/training/maxRuntime']);
    const semantic = loadPolicy(text.replace('1 hour', '100d'), 'p.yaml');
    expect(semantic.policy).toBeUndefined();
    expect(semantic.findings.map((f) => [f.location.pointer, f.location.line, f.severity])).toEqual([
      ['/secrets/allowlist/0/pattern', 6, 'error'],
      ['/requiredFields/1', 1, 'error'],
      ['/training/maxRuntime', 3, 'warning'],
    ]);
    expect(semantic.findings[0]!.message).toContain('is not a valid regular expression');
    expect(semantic.findings[1]!.message).toContain('did you mean "slo.latency"?');
  });

  it('keeps the policy when there are only warnings', () => {
    const { policy, findings } = loadPolicy('training:\n  maxRuntime: 60d\n', 'p.yaml');
    expect(findings).toEqual([expect.objectContaining({ severity: 'warning' })]);
    expect(policy).toEqual({ training: { maxRuntime: '60d' } });
  });

  it.each([
    ['YAML syntax', 'training:\n  maxRuntime: [\n', 'not valid YAML'],
    ['JSON syntax', '{"training": }', 'not valid JSON'],
    ['a list', '- a\n- b\n', 'must be a mapping of fields'],
    ['deep nesting', '['.repeat(10_000), 'nests more than 200'],
    [
      'an alias bomb',
      `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]`,
      'could not be read',
    ],
  ])('reports %s as a finding instead of throwing', (_, text, message) => {
    const file = message === 'not valid JSON' ? 'p.json' : 'p.yaml';
    const { policy, findings } = loadPolicy(text, file);
    expect(policy).toBeUndefined();
    expect(findings.length).toBeGreaterThan(0);
    expect(findings[0]).toMatchObject({ rule: 'POL-011', severity: 'error', location: { file } });
    expect(findings[0]!.message).toContain(message);
  });
});

describe('resolvePolicy', () => {
  it('applies defaults, merging objects and replacing lists', () => {
    const resolved = resolvePolicy({
      training: { maxInstanceCount: 2 },
      approval: { forceManual: true },
      requiredFields: ['runbook'],
    });
    expect(resolved.maxNotebookBytes).toBe(50 * 1024 * 1024);
    expect(resolved.training).toEqual({ allowSpot: true, maxInstanceCount: 2 });
    expect(resolved.approval).toEqual({ allowSelfApproval: false, forceManual: true });
    expect(resolved.requiredFields).toEqual(['runbook']);
    expect(resolvePolicy()).toEqual(DEFAULT_POLICY);
  });

  it('never shares state with DEFAULT_POLICY or its input', () => {
    const input = { training: { allowedInstanceTypes: ['ml.g5.*'] as [string, ...string[]] } };
    const resolved = resolvePolicy(input);
    resolved.training!.allowedInstanceTypes!.push('ml.p4d.24xlarge');
    resolved.rules!['HY-001'] = 'off';
    expect(input.training.allowedInstanceTypes).toEqual(['ml.g5.*']);
    expect(DEFAULT_POLICY.rules).toEqual({});
    expect(Object.isFrozen(DEFAULT_POLICY.training)).toBe(true);
  });
});

describe('matchesAllowed and isWithinLocations', () => {
  it('matches exact values and * globs', () => {
    expect(matchesAllowed('ml.g5.xlarge', ['ml.g5.xlarge'])).toBe(true);
    expect(matchesAllowed('ml.g5.2xlarge', ['ml.g5.*'])).toBe(true);
    expect(matchesAllowed('ml.g5x.large', ['ml.g5.*'])).toBe(false); // the dot is literal
    expect(matchesAllowed('ml.g6.xlarge', ['ml.g5.*', 'ml.p4d.24xlarge'])).toBe(false);
    expect(
      matchesAllowed('763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.5', [
        '763104351884.dkr.ecr.*.amazonaws.com/pytorch-training:*',
      ]),
    ).toBe(true);
    expect(matchesAllowed('anything', [])).toBe(false);
  });

  it('treats locations as path prefixes, never as string prefixes', () => {
    expect(isWithinLocations('s3://ml-data/churn/train.csv', ['s3://ml-data'])).toBe(true);
    expect(isWithinLocations('s3://ml-data', ['s3://ml-data'])).toBe(true);
    expect(isWithinLocations('s3://ml-data-public/x.csv', ['s3://ml-data'])).toBe(false);
    expect(isWithinLocations('s3://ml-features/curated/a/b', ['s3://ml-features/curated/'])).toBe(true);
    expect(isWithinLocations('s3://ml-features/raw/a', ['s3://ml-features/curated/'])).toBe(false);
    expect(isWithinLocations('s3://team-a-data/x', ['s3://team-*-data'])).toBe(true);
    expect(isWithinLocations('s3://team-a-data-evil/x', ['s3://team-*-data/'])).toBe(false);
    expect(isWithinLocations('s3://team-a/b-data/x', ['s3://team-*-data'])).toBe(false); // * stays within the bucket name
  });
});
