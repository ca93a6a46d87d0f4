/**
 * The deployment configuration of infra/bin/app.ts: a YAML/JSON file named with
 * `-c config=<file>`, or the `nbops` object in cdk.json's context. The platform policy inside it is
 * checked with the same loadPolicy the handlers use, so a bad policy fails `cdk synth` with the
 * field named instead of failing every handler at start.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describeErrors, validatorFor } from '#core/manifest/schema-errors';
import { closest } from '#core/manifest/suggest';
import { loadPolicy, type Policy } from '#core/policy/policy';
import { HANDLERS, type HandlerName, routes } from '#core/wiring';
import configSchema from './config.schema.json' with { type: 'json' };

export interface FunctionSettings {
  memoryMB?: number;
  timeoutSeconds?: number;
  /** null: no reserved concurrency. */
  reservedConcurrency?: number | null;
}

export interface RetentionSettings {
  captureDays: number;
  driftReportDays: number;
  noncurrentVersionDays: number;
  versionsToInfrequentAccessDays: number;
  accessLogDays: number;
  logDays: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionSettings> = Object.freeze({
  captureDays: 30,
  driftReportDays: 365,
  noncurrentVersionDays: 90,
  versionsToInfrequentAccessDays: 30,
  accessLogDays: 90,
  logDays: 30,
});

export interface NbopsConfig {
  /** The file the configuration came from (absent for cdk.json context or defaults). */
  file?: string;
  stackName: string;
  account?: string;
  region?: string;
  /** The platform policy as written (validated); the stack adds the `aws` section it owns. */
  policy: Policy;
  notifications: { page: string[]; ticket: string[] };
  /** Schedule expression overrides by scheduled route id. */
  schedules: Record<string, string>;
  retention: RetentionSettings;
  functions: Partial<Record<HandlerName, FunctionSettings>>;
  opsApi: boolean;
  /** CloudWatch's own alarm notifications to the topics (NBOPS_ALARM_ACTIONS), besides the alarm handler's. */
  alarmActions: boolean;
}

/** The configuration is unusable: every problem is listed with the field and the fix. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${source} has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

interface RawConfig {
  stackName?: string;
  account?: string;
  region?: string;
  policy?: string | Record<string, unknown>;
  notifications?: { page?: string[]; ticket?: string[] };
  schedules?: Record<string, string>;
  retention?: Partial<RetentionSettings>;
  functions?: Record<string, FunctionSettings>;
  opsApi?: boolean;
  alarmActions?: boolean;
}

/**
 * The configuration from CDK context: `config` (a file path, from `-c config=<file>`) wins over
 * an inline `nbops` object (cdk.json); neither gives the defaults. `baseDir` resolves a relative path.
 */
export function configFromContext(
  context: { config?: unknown; nbops?: unknown },
  baseDir: string = process.cwd(),
): NbopsConfig {
  if (typeof context.config === 'string' && context.config.trim() !== '') {
    const file = isAbsolute(context.config) ? context.config : resolve(baseDir, context.config);
    return loadConfigFile(file);
  }
  if (context.nbops !== undefined) return parseConfig(context.nbops, 'cdk.json context "nbops"', baseDir);
  return parseConfig({}, 'the default configuration', baseDir);
}

/** Reads and checks a configuration file (YAML or JSON). Throws ConfigError naming each problem. */
export function loadConfigFile(file: string): NbopsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      `the file cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check the path given with -c config=<file>.`,
    ]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(file, [
      `it is not valid YAML or JSON: ${(err as Error).message.split('\n', 1)[0]}. Fix the syntax at that line.`,
    ]);
  }
  return { ...parseConfig(raw ?? {}, file, dirname(file)), file };
}

/** Checks a configuration object. `source` names it in messages; `baseDir` resolves a policy path. */
export function parseConfig(raw: unknown, source: string, baseDir: string): NbopsConfig {
  const validate = validatorFor(configSchema);
  if (!validate(raw)) {
    const problems = describeErrors(validate.errors ?? [], raw, 'configuration', configSchema).map(
      (p) => `${p.message} ${p.fix}`,
    );
    throw new ConfigError(source, problems);
  }
  const config = raw as RawConfig;
  const problems: string[] = [];

  const handlerNames: readonly string[] = HANDLERS;
  for (const name of Object.keys(config.functions ?? {})) {
    if (handlerNames.includes(name)) continue;
    const suggestion = closest(name, handlerNames);
    problems.push(
      `functions.${name} is not an nbops handler${suggestion ? `; did you mean "${suggestion}"?` : '.'} Use one of: ${HANDLERS.join(', ')}.`,
    );
  }

  const scheduled = routes({ bucketName: 'bucket' })
    .filter((r) => r.kind === 'schedule')
    .map((r) => r.id);
  for (const [id, expression] of Object.entries(config.schedules ?? {})) {
    if (!scheduled.includes(id)) {
      const suggestion = closest(id, scheduled);
      problems.push(
        `schedules.${id} is not a scheduled route${suggestion ? `; did you mean "${suggestion}"?` : '.'} Scheduled routes: ${scheduled.join(', ') || 'none'}.`,
      );
      continue;
    }
    const problem = scheduleExpressionProblem(expression);
    if (problem) problems.push(`schedules.${id} ${problem}`);
  }

  const policy = loadConfigPolicy(config.policy, source, baseDir, problems);
  if (problems.length > 0) throw new ConfigError(source, problems);

  const result: NbopsConfig = {
    stackName: config.stackName ?? 'Nbops',
    policy: policy ?? {},
    notifications: { page: config.notifications?.page ?? [], ticket: config.notifications?.ticket ?? [] },
    schedules: config.schedules ?? {},
    retention: { ...DEFAULT_RETENTION, ...config.retention },
    functions: (config.functions ?? {}) as NbopsConfig['functions'],
    opsApi: config.opsApi ?? true,
    alarmActions: config.alarmActions ?? false,
  };
  if (config.account !== undefined) result.account = config.account;
  if (config.region !== undefined) result.region = config.region;
  return result;
}

function loadConfigPolicy(
  policy: RawConfig['policy'],
  source: string,
  baseDir: string,
  problems: string[],
): Policy | undefined {
  if (policy === undefined) return {};
  let text: string;
  let name: string;
  if (typeof policy === 'string') {
    name = isAbsolute(policy) ? policy : resolve(baseDir, policy);
    try {
      text = readFileSync(name, 'utf8');
    } catch (err) {
      problems.push(
        `policy names ${name}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Give a path relative to ${source}, or write the policy inline.`,
      );
      return undefined;
    }
  } else {
    name = `policy.json`;
    text = JSON.stringify(policy);
  }
  const loaded = loadPolicy(text, name);
  for (const finding of loaded.findings) {
    if (finding.severity !== 'error') continue;
    const where = typeof policy === 'string' ? '' : 'policy: ';
    const line =
      finding.location.line !== undefined && typeof policy === 'string'
        ? ` (line ${finding.location.line})`
        : '';
    problems.push(
      `${where}${finding.message.replace('policy.json', 'the inline policy')}${line} ${finding.fix}`,
    );
  }
  return loaded.policy;
}

/** Why `expression` is not an EventBridge schedule expression nbops accepts; undefined when it is. */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) return `is "${expression}": the rate must be at least 1. Use e.g. rate(15 minutes).`;
    const singular = !unit.endsWith('s');
    if (value === 1 && !singular)
      return `is "${expression}": with 1 the unit is singular. Use rate(1 ${unit.slice(0, -1)}).`;
    if (value > 1 && singular)
      return `is "${expression}": with ${value} the unit is plural. Use rate(${value} ${unit}s).`;
    return undefined;
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6)
      return `is "${expression}": a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), this one has ${fields.length}. Use e.g. cron(0/15 * * * ? *).`;
    if (fields[2] !== '?' && fields[4] !== '?')
      return `is "${expression}": day-of-month or day-of-week must be "?". Use e.g. cron(0 6 * * ? *).`;
    return undefined;
  }
  return `is "${expression}", which is not a schedule expression. Use rate(<n> minutes|hours|days) or cron(<6 fields>), in UTC.`;
}
