/**
 * The CloudWatch alarm rules the API model cannot express (it only knows types, lengths and
 * enums): how Period and EvaluationPeriods combine, what a metric-math alarm may contain, and the
 * grammar of a composite alarm's rule. Every alarm nbops builds passes these checks, in the
 * builders (a violation is a bug in nbops, not in the manifest) and in the contract tests.
 *
 * Sources: PutMetricAlarm / PutCompositeAlarm API reference (botocore service-2.json documentation)
 * and the CloudWatch user guide on metric math alarms and composite alarms.
 */
import type { MetricDataQuery, PutMetricAlarmInput } from './rollback';

/** Period x EvaluationPeriods may not exceed 7 days... */
export const MAX_EVALUATION_SECONDS = 7 * 86_400;
/** ...nor 1 day when the period is shorter than an hour. */
export const MAX_EVALUATION_SECONDS_SHORT_PERIOD = 86_400;
/** The longest period an alarm can evaluate. */
export const MAX_ALARM_PERIOD_SECONDS = 86_400;
/** Metric math: at most 20 queries, 10 of them MetricStat and 10 expressions. */
export const MAX_METRIC_QUERIES = 20;
export const MAX_METRIC_STATS = 10;
export const MAX_EXPRESSIONS = 10;
/** A composite rule names at most 100 alarms. */
export const MAX_RULE_ALARMS = 100;
export const MAX_ACTIONS = 5;

const METRIC_ID = /^[a-z][a-zA-Z0-9_]*$/;

function checkPeriod(period: number | undefined, where: string): string[] {
  if (period === undefined) return [`${where}: Period is missing`];
  if (!(period === 10 || period === 20 || period === 30 || (period > 0 && period % 60 === 0)))
    return [`${where}: Period ${period} must be 10, 20, 30 or a multiple of 60 seconds`];
  if (period > MAX_ALARM_PERIOD_SECONDS)
    return [
      `${where}: Period ${period} is longer than the ${MAX_ALARM_PERIOD_SECONDS} s an alarm can evaluate`,
    ];
  return [];
}

/** Problems with a PutMetricAlarm request beyond the API model; empty when none. */
export function checkMetricAlarmLimits(alarm: PutMetricAlarmInput): string[] {
  const problems: string[] = [];
  const name = alarm.AlarmName;
  const single = alarm.MetricName !== undefined;
  const math = alarm.Metrics !== undefined;
  if (single === math)
    problems.push(`${name}: give exactly one of MetricName (one metric) or Metrics (metric math)`);

  let period: number | undefined;
  if (single) {
    if (!alarm.Namespace) problems.push(`${name}: Namespace is missing`);
    if ((alarm.Statistic === undefined) === (alarm.ExtendedStatistic === undefined))
      problems.push(`${name}: give exactly one of Statistic or ExtendedStatistic`);
    problems.push(...checkPeriod(alarm.Period, name));
    period = alarm.Period;
  }
  if (math) {
    const queries = alarm.Metrics ?? [];
    problems.push(...checkQueries(name, queries));
    if (alarm.Period !== undefined || alarm.Namespace !== undefined || alarm.Statistic !== undefined)
      problems.push(`${name}: a metric-math alarm sets Period in each MetricStat, not on the alarm`);
    const periods = new Set(queries.flatMap((q) => (q.MetricStat ? [q.MetricStat.Period] : [])));
    if (periods.size > 1)
      problems.push(
        `${name}: every MetricStat of one alarm must use the same Period (got ${[...periods].join(', ')})`,
      );
    period = [...periods][0];
  }

  const n = alarm.EvaluationPeriods;
  if (!Number.isInteger(n) || n < 1) problems.push(`${name}: EvaluationPeriods must be a whole number >= 1`);
  const m = alarm.DatapointsToAlarm ?? n;
  if (!Number.isInteger(m) || m < 1 || m > n)
    problems.push(`${name}: DatapointsToAlarm ${m} must be between 1 and EvaluationPeriods (${n})`);
  if (period !== undefined) {
    const total = period * n;
    const limit = period < 3600 ? MAX_EVALUATION_SECONDS_SHORT_PERIOD : MAX_EVALUATION_SECONDS;
    if (total > limit)
      problems.push(
        `${name}: Period x EvaluationPeriods = ${total} s exceeds ${limit} s (${period < 3600 ? '1 day for periods under an hour' : '7 days'})`,
      );
  }
  for (const key of ['AlarmActions', 'OKActions', 'InsufficientDataActions'] as const)
    if ((alarm[key]?.length ?? 0) > MAX_ACTIONS) problems.push(`${name}: at most ${MAX_ACTIONS} ${key}`);
  return problems;
}

function checkQueries(name: string, queries: MetricDataQuery[]): string[] {
  const problems: string[] = [];
  if (queries.length === 0) problems.push(`${name}: Metrics is empty`);
  if (queries.length > MAX_METRIC_QUERIES)
    problems.push(`${name}: ${queries.length} metric queries; at most ${MAX_METRIC_QUERIES}`);
  const stats = queries.filter((q) => q.MetricStat);
  const expressions = queries.filter((q) => q.Expression !== undefined);
  if (stats.length > MAX_METRIC_STATS)
    problems.push(`${name}: ${stats.length} MetricStat queries; at most ${MAX_METRIC_STATS}`);
  if (expressions.length > MAX_EXPRESSIONS)
    problems.push(`${name}: ${expressions.length} expressions; at most ${MAX_EXPRESSIONS}`);
  const returned = queries.filter((q) => q.ReturnData !== false);
  if (returned.length !== 1)
    problems.push(
      `${name}: exactly one query must return data (ReturnData true); ${returned.length} do (set ReturnData false on the others)`,
    );
  const ids = new Set<string>();
  for (const q of queries) {
    if (!METRIC_ID.test(q.Id))
      problems.push(
        `${name}: query id "${q.Id}" must start with a lowercase letter and hold only letters, digits and _`,
      );
    if (ids.has(q.Id)) problems.push(`${name}: query id "${q.Id}" is used twice`);
    ids.add(q.Id);
    if ((q.MetricStat === undefined) === (q.Expression === undefined))
      problems.push(`${name}: query "${q.Id}" needs exactly one of MetricStat or Expression`);
  }
  for (const q of expressions) {
    // Every identifier an expression names must be a query of this alarm (functions are upper case).
    for (const ref of q.Expression!.match(/\b[a-z][a-zA-Z0-9_]*\b/g) ?? [])
      if (!ids.has(ref))
        problems.push(`${name}: expression "${q.Id}" names "${ref}", which is not a query id`);
  }
  return problems;
}

/** One token of a composite alarm rule. */
type RuleToken =
  | { kind: 'state'; state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA'; alarm: string }
  | { kind: 'const'; value: 'TRUE' | 'FALSE' }
  | { kind: 'op'; op: 'AND' | 'OR' | 'NOT' }
  | { kind: 'paren'; open: boolean };

function tokenize(rule: string): RuleToken[] | string {
  const tokens: RuleToken[] = [];
  let i = 0;
  while (i < rule.length) {
    const rest = rule.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const state = /^(ALARM|OK|INSUFFICIENT_DATA)\(\s*(?:"([^"]+)"|([^()\s"]+))\s*\)/.exec(rest);
    if (state) {
      tokens.push({ kind: 'state', state: state[1] as 'ALARM', alarm: (state[2] ?? state[3])! });
      i += state[0].length;
      continue;
    }
    const word = /^(AND|OR|NOT|TRUE|FALSE)\b/.exec(rest);
    if (word) {
      const w = word[1]!;
      tokens.push(
        w === 'TRUE' || w === 'FALSE' ? { kind: 'const', value: w } : { kind: 'op', op: w as 'AND' },
      );
      i += w.length;
      continue;
    }
    if (rest[0] === '(' || rest[0] === ')') {
      tokens.push({ kind: 'paren', open: rest[0] === '(' });
      i += 1;
      continue;
    }
    return `unexpected "${rest.slice(0, 20)}" at character ${i + 1}`;
  }
  return tokens;
}

/**
 * Checks a composite AlarmRule against CloudWatch's grammar:
 *   rule := term (("AND" | "OR") term)* ; term := "NOT" term | "(" rule ")" | STATE(name) | TRUE | FALSE
 * and returns the problems plus the alarms it names (so callers can check they exist).
 */
export function checkAlarmRule(rule: string): { problems: string[]; alarms: string[] } {
  const tokens = tokenize(rule);
  if (typeof tokens === 'string') return { problems: [`AlarmRule: ${tokens}`], alarms: [] };
  const alarms: string[] = [];
  let at = 0;
  const problems: string[] = [];
  const term = (): boolean => {
    const t = tokens[at];
    if (!t) return fail('ends where a condition was expected');
    if (t.kind === 'op' && t.op === 'NOT') {
      at++;
      return term();
    }
    if (t.kind === 'paren' && t.open) {
      at++;
      if (!expression()) return false;
      const close = tokens[at];
      if (!(close?.kind === 'paren' && !close.open)) return fail('has an unclosed parenthesis');
      at++;
      return true;
    }
    if (t.kind === 'state') {
      alarms.push(t.alarm);
      at++;
      return true;
    }
    if (t.kind === 'const') {
      at++;
      return true;
    }
    return fail(`has ${t.kind === 'op' ? t.op : ')'} where a condition was expected`);
  };
  const expression = (): boolean => {
    if (!term()) return false;
    for (;;) {
      const t = tokens[at];
      if (!(t?.kind === 'op' && t.op !== 'NOT')) return true;
      at++;
      if (!term()) return false;
    }
  };
  const fail = (what: string): false => {
    problems.push(`AlarmRule ${what} (token ${at + 1})`);
    return false;
  };
  if (expression() && at < tokens.length) fail('has more after a complete rule');
  if (rule.length > 10_240) problems.push(`AlarmRule is ${rule.length} characters; at most 10240`);
  if (new Set(alarms).size > MAX_RULE_ALARMS)
    problems.push(`AlarmRule names ${new Set(alarms).size} alarms; at most ${MAX_RULE_ALARMS}`);
  return { problems, alarms };
}
