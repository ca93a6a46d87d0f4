/**
 * The deployment configuration: what loads, and how each mistake is reported (field, rule, fix),
 * including through `cdk synth` itself (infra/bin/app.ts), which must stop with the message and
 * no stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  configFromContext,
  DEFAULT_RETENTION,
  loadConfigFile,
  parseConfig,
  scheduleExpressionProblem,
} from '../../infra/lib/config';
import { PROJECT_ROOT } from '../../infra/lib/nbops';

const dir = mkdtempSync(join(tmpdir(), 'nbops-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('loading', () => {
  it('loads the example configuration with its policy', () => {
    const config = loadConfigFile(join(PROJECT_ROOT, 'infra', 'config', 'example.yaml'));
    expect(config.stackName).toBe('Nbops');
    expect(config.policy.data?.allowedLocations).toEqual(['s3://my-ml-data/']);
    expect(config.retention).toEqual({ ...DEFAULT_RETENTION, captureDays: 30 });
    expect(config.opsApi).toBe(true);
  });

  it('reads a policy file relative to the configuration file', () => {
    file('policy.yaml', 'training:\n  maxInstanceCount: 2\n');
    const config = loadConfigFile(file('with-policy.yaml', 'policy: ./policy.yaml\nregion: eu-west-1\n'));
    expect(config.policy).toEqual({ training: { maxInstanceCount: 2 } });
    expect(config.region).toBe('eu-west-1');
    expect(config.account).toBeUndefined();
  });

  it('takes -c config=<file> over the cdk.json object, and defaults without either', () => {
    const path = file('named.yaml', 'stackName: FromFile\n');
    expect(configFromContext({ config: path, nbops: { stackName: 'FromContext' } }).stackName).toBe(
      'FromFile',
    );
    expect(configFromContext({ nbops: { stackName: 'FromContext' } }).stackName).toBe('FromContext');
    expect(configFromContext({})).toMatchObject({
      stackName: 'Nbops',
      policy: {},
      opsApi: true,
      alarmActions: false,
    });
  });
});

describe('mistakes are reported with the field and the fix', () => {
  it('an invalid policy names the policy field', () => {
    const problems = problemsOf(() =>
      parseConfig({ policy: { training: { maxInstanceCount: 0 } } }, 'cfg', dir),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/training\.maxInstanceCount/);
  });

  it('a misspelt field gets a suggestion', () => {
    const problems = problemsOf(() => parseConfig({ notification: { page: [] } }, 'cfg', dir));
    expect(problems[0]).toMatch(/"notification".*did you mean "notifications"/);
  });

  it('a bad e-mail address, retention value or handler name is refused', () => {
    expect(problemsOf(() => parseConfig({ notifications: { page: ['oncall'] } }, 'cfg', dir))[0]).toMatch(
      /notifications\.page\[0\]/,
    );
    expect(problemsOf(() => parseConfig({ retention: { logDays: 31 } }, 'cfg', dir))[0]).toMatch(
      /retention\.logDays.*30, 60/,
    );
    expect(
      problemsOf(() => parseConfig({ functions: { sumbit: { memoryMB: 1024 } } }, 'cfg', dir))[0],
    ).toMatch(/functions\.sumbit .*did you mean "submit"/);
  });

  it('a schedule must belong to a scheduled route and be a valid expression', () => {
    expect(
      problemsOf(() => parseConfig({ schedules: { 'stuck-swep': 'rate(5 minutes)' } }, 'cfg', dir))[0],
    ).toMatch(/schedules\.stuck-swep .*did you mean "stuck-sweep"/);
    expect(
      problemsOf(() => parseConfig({ schedules: { 'stuck-sweep': 'rate(5 minute)' } }, 'cfg', dir))[0],
    ).toMatch(/schedules\.stuck-sweep .*plural.*rate\(5 minutes\)/);
    expect(scheduleExpressionProblem('rate(1 hour)')).toBeUndefined();
    expect(scheduleExpressionProblem('cron(0/15 * * * ? *)')).toBeUndefined();
    expect(scheduleExpressionProblem('rate(1 hours)')).toMatch(/singular.*rate\(1 hour\)/);
    expect(scheduleExpressionProblem('cron(0 12 * * *)')).toMatch(/6 fields/);
    expect(scheduleExpressionProblem('cron(0 12 1 * MON *)')).toMatch(/must be "\?"/);
    expect(scheduleExpressionProblem('every hour')).toMatch(/not a schedule expression/);
  });

  it('a missing policy file or configuration file names the path', () => {
    expect(problemsOf(() => parseConfig({ policy: 'nope.yaml' }, 'cfg', dir))[0]).toMatch(
      /nope\.yaml.*cannot be read/,
    );
    expect(problemsOf(() => loadConfigFile(join(dir, 'missing.yaml')))[0]).toMatch(
      /cannot be read.*-c config=/,
    );
    expect(problemsOf(() => loadConfigFile(file('broken.yaml', 'policy: [\n')))[0]).toMatch(/not valid YAML/);
  });

  it('cdk synth stops with the field named and no stack trace', () => {
    const bad = file('bad.yaml', 'policy:\n  training:\n    maxRuntime: forever\n');
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'infra', 'bin', 'app.ts')],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ config: bad }),
          CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'nbops-cdkout-')),
        },
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/nbops: .*bad\.yaml has a problem/);
    expect(result.stderr).toMatch(/training\.maxRuntime/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
