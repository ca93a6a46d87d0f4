/**
 * CloudWatch alarms on a laptop: the AlarmsPort of the local host. Alarm definitions are the very
 * PutMetricAlarm / PutCompositeAlarm requests the core sends on AWS (checked against the CloudWatch
 * API model), metrics come from the local SageMaker's invocation files and from the EMF lines the
 * handlers print, and every alarm is evaluated on a tick from its definition:
 *
 * - Statistic (SampleCount, Sum, Average, Minimum, Maximum) and ExtendedStatistic `pNN[.N]`
 *   (nearest rank: the smallest value with at least NN% of the values at or below it);
 * - Period, EvaluationPeriods, DatapointsToAlarm (M of N), Threshold and ComparisonOperator;
 * - TreatMissingData (see `evaluateDatapoints`);
 * - metric math over MetricStat queries: + - * / ^, comparisons (1 or 0), unary minus, parentheses,
 *   MAX/MIN/SUM/AVG over `[..]` (per period) or one series (one value), FILL(x, value | REPEAT |
 *   LINEAR), IF(cond, a[, b]), ABS, CEIL, FLOOR. Anything else is refused when the alarm is put,
 *   naming what is unsupported, so an alarm never silently means something else locally;
 * - composite AlarmRule: ALARM(x), OK(x), INSUFFICIENT_DATA(x), TRUE, FALSE, AND, OR, NOT and
 *   parentheses (names quoted or not, or alarm ARNs).
 *
 * Periods are multiplied by `timeScale` (0.01 turns a 60 s period into 0.6 s), the same factor the
 * local SageMaker applies to deployment bake times, so a canary bakes for as many alarm periods as
 * it would on AWS. Only complete periods are evaluated: the period containing `now` is still
 * filling. A state change emits "CloudWatch Alarm State Change" in EventBridge's format (reasonData
 * a JSON string) through `emit`; `state(name)` answers LocalSageMaker's AutoRollbackConfiguration.
 *
 * Definitions and states are saved to `stateFile` (they survive a restart, like the endpoints that
 * use them); datapoints live in memory only.
 */
import { readFile } from 'node:fs/promises';
import type {
  Metric,
  PutCompositeAlarmCommandInput,
  PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { assertValidRequest } from '#core/aws/api-model';
import type { AlarmState, AlarmsPort, Clock } from '#core/ports';
import { type AwsEvent, type AwsLocation, awsEvent, LOCAL_LOCATION } from './aws-event';
import { writeJsonAtomic } from './context';

export type AlarmValue = AlarmState['state'];

/** A CloudWatch-shaped client error (`name` is the API error code). */
export class CloudWatchError extends Error {
  readonly $fault = 'client' as const;
  readonly $metadata = { httpStatusCode: 400, requestId: 'local' };
  constructor(
    code: 'ValidationError' | 'InvalidParameterValue' | 'InvalidParameterCombination',
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** The state file cannot be read: the host says how to start clean. */
export class AlarmStateFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file} cannot be read (${detail})`);
    this.name = 'AlarmStateFileError';
  }
}

export interface Datum {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  value: number;
  /** Epoch milliseconds or a Date. */
  timestamp: number | Date;
}

/** Called before every evaluation to pull new datapoints in (e.g. invocation metric files). */
export type MetricSource = () => void | Promise<void>;

export interface LocalAlarmsOptions {
  location?: AwsLocation;
  clock?: Clock;
  /** Multiplies every alarm period (and so every window); 1 = real time. */
  timeScale?: number;
  /** Receives every "CloudWatch Alarm State Change" event (normally LocalEventBus.put). */
  emit?: (event: AwsEvent) => void;
  /** JSON file for definitions and states, e.g. `.nbops/cloudwatch/alarms.json`. */
  stateFile?: string;
  log?: (line: string) => void;
}

export interface AlarmStateChange {
  alarmName: string;
  previous: AlarmValue;
  state: AlarmValue;
  reason: string;
}

// ------------------------------------------------------------------------------------------------
// Statistics

const BASIC_STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
const PERCENTILE = /^p(\d{1,2}(?:\.\d{1,10})?|100)$/;

/** True for the statistics the local alarms compute. */
export function isSupportedStatistic(stat: string): boolean {
  return (BASIC_STATISTICS as readonly string[]).includes(stat) || PERCENTILE.test(stat);
}

/** One period's statistic; undefined when the period has no values. */
export function computeStatistic(values: readonly number[], stat: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'SampleCount':
      return values.length;
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return values.reduce((a, b) => (b < a ? b : a));
    case 'Maximum':
      return values.reduce((a, b) => (b > a ? b : a));
  }
  const match = PERCENTILE.exec(stat);
  if (!match) throw new Error(`statistic ${stat} is not supported`);
  const p = Number(match[1]);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

// ------------------------------------------------------------------------------------------------
// Metric math

type Series = (number | undefined)[];
type MathValue = { kind: 'series'; values: Series } | { kind: 'scalar'; value: number };

type MathNode =
  | { type: 'number'; value: number }
  | { type: 'id'; name: string }
  | { type: 'keyword'; name: 'REPEAT' | 'LINEAR' }
  | { type: 'array'; items: MathNode[] }
  | { type: 'unary'; op: '-'; operand: MathNode }
  | { type: 'binary'; op: string; left: MathNode; right: MathNode }
  | { type: 'call'; name: string; args: MathNode[] };

export const MATH_FUNCTIONS = ['MAX', 'MIN', 'SUM', 'AVG', 'FILL', 'IF', 'ABS', 'CEIL', 'FLOOR'] as const;
const BINARY_PRECEDENCE: Record<string, number> = {
  '==': 1,
  '!=': 1,
  '<': 2,
  '<=': 2,
  '>': 2,
  '>=': 2,
  '+': 3,
  '-': 3,
  '*': 4,
  '/': 4,
  '^': 5,
};

export class MathSyntaxError extends Error {}

/** Parses a metric math expression of the supported subset; throws MathSyntaxError saying what is not. */
export function parseMathExpression(text: string): MathNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];
  const expect = (value: string) => {
    const token = next();
    if (token?.value !== value)
      throw new MathSyntaxError(`expected "${value}" at position ${token?.at ?? text.length} of "${text}"`);
  };

  const primary = (): MathNode => {
    const token = next();
    if (!token) throw new MathSyntaxError(`"${text}" ends where a value was expected`);
    if (token.kind === 'number') return { type: 'number', value: Number(token.value) };
    if (token.value === '(') {
      const inner = binary(0);
      expect(')');
      return inner;
    }
    if (token.value === '[') {
      const items: MathNode[] = [];
      if (peek()?.value !== ']') {
        items.push(binary(0));
        while (peek()?.value === ',') {
          next();
          items.push(binary(0));
        }
      }
      expect(']');
      return { type: 'array', items };
    }
    if (token.value === '-') return { type: 'unary', op: '-', operand: primary() };
    if (token.kind === 'name') {
      if (peek()?.value === '(') {
        next();
        const name = token.value;
        if (!(MATH_FUNCTIONS as readonly string[]).includes(name))
          throw new MathSyntaxError(
            `metric math function ${name} is not supported by the local alarms (supported: ${MATH_FUNCTIONS.join(', ')})`,
          );
        const args: MathNode[] = [];
        if (peek()?.value !== ')') {
          args.push(binary(0));
          while (peek()?.value === ',') {
            next();
            args.push(binary(0));
          }
        }
        expect(')');
        return { type: 'call', name, args };
      }
      if (token.value === 'REPEAT' || token.value === 'LINEAR') return { type: 'keyword', name: token.value };
      return { type: 'id', name: token.value };
    }
    throw new MathSyntaxError(`unexpected "${token.value}" at position ${token.at} of "${text}"`);
  };

  const binary = (minPrecedence: number): MathNode => {
    let left = primary();
    for (;;) {
      const op = peek();
      const precedence = op?.kind === 'op' ? BINARY_PRECEDENCE[op.value] : undefined;
      if (precedence === undefined || precedence < minPrecedence) break;
      next();
      // ^ is right-associative; the others left-associative.
      const right = binary(op!.value === '^' ? precedence : precedence + 1);
      left = { type: 'binary', op: op!.value, left, right };
    }
    return left;
  };

  const tree = binary(0);
  if (pos < tokens.length) {
    const token = tokens[pos]!;
    throw new MathSyntaxError(`unexpected "${token.value}" at position ${token.at} of "${text}"`);
  }
  return tree;
}

interface Token {
  kind: 'number' | 'name' | 'op' | 'punct';
  value: string;
  at: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re =
    /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|[-+*/^<>])|([()[\],]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const match = re.exec(text);
    if (!match) throw new MathSyntaxError(`cannot read "${text.slice(at).trim()}" in "${text}"`);
    const start = match.index + match[0].length - (match[1] ?? match[2] ?? match[3] ?? match[4] ?? '').length;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: match[1], at: start });
    else if (match[2] !== undefined) tokens.push({ kind: 'name', value: match[2], at: start });
    else if (match[3] !== undefined) tokens.push({ kind: 'op', value: match[3], at: start });
    else tokens.push({ kind: 'punct', value: match[4]!, at: start });
    at = re.lastIndex;
  }
  return tokens;
}

/** Ids a parsed expression refers to. */
function referencedIds(node: MathNode, out = new Set<string>()): Set<string> {
  if (node.type === 'id') out.add(node.name);
  else if (node.type === 'array') for (const item of node.items) referencedIds(item, out);
  else if (node.type === 'unary') referencedIds(node.operand, out);
  else if (node.type === 'binary') {
    referencedIds(node.left, out);
    referencedIds(node.right, out);
  } else if (node.type === 'call') for (const arg of node.args) referencedIds(arg, out);
  return out;
}

function evaluateMath(node: MathNode, resolve: (id: string) => MathValue, length: number): MathValue {
  const asSeries = (v: MathValue): Series => (v.kind === 'series' ? v.values : Array(length).fill(v.value));
  const map2 = (a: MathValue, b: MathValue, f: (x: number, y: number) => number | undefined): MathValue => {
    if (a.kind === 'scalar' && b.kind === 'scalar') {
      const value = f(a.value, b.value);
      return value === undefined
        ? { kind: 'series', values: Array(length).fill(undefined) }
        : { kind: 'scalar', value };
    }
    const xs = asSeries(a);
    const ys = asSeries(b);
    return {
      kind: 'series',
      values: xs.map((x, i) => {
        const y = ys[i];
        return x === undefined || y === undefined ? undefined : f(x, y);
      }),
    };
  };
  const map1 = (a: MathValue, f: (x: number) => number): MathValue =>
    a.kind === 'scalar'
      ? { kind: 'scalar', value: f(a.value) }
      : { kind: 'series', values: a.values.map((x) => (x === undefined ? undefined : f(x))) };
  const finite = (x: number) => (Number.isFinite(x) ? x : undefined);

  switch (node.type) {
    case 'number':
      return { kind: 'scalar', value: node.value };
    case 'id':
      return resolve(node.name);
    case 'keyword':
      throw new MathSyntaxError(`${node.name} is only valid as FILL's second argument`);
    case 'array':
      throw new MathSyntaxError('an array [..] is only valid as the argument of MAX, MIN, SUM or AVG');
    case 'unary':
      return map1(evaluateMath(node.operand, resolve, length), (x) => -x);
    case 'binary': {
      const a = evaluateMath(node.left, resolve, length);
      const b = evaluateMath(node.right, resolve, length);
      switch (node.op) {
        case '+':
          return map2(a, b, (x, y) => x + y);
        case '-':
          return map2(a, b, (x, y) => x - y);
        case '*':
          return map2(a, b, (x, y) => x * y);
        // Division by zero gives no datapoint, as in CloudWatch.
        case '/':
          return map2(a, b, (x, y) => (y === 0 ? undefined : finite(x / y)));
        case '^':
          return map2(a, b, (x, y) => finite(x ** y));
        case '==':
          return map2(a, b, (x, y) => Number(x === y));
        case '!=':
          return map2(a, b, (x, y) => Number(x !== y));
        case '<':
          return map2(a, b, (x, y) => Number(x < y));
        case '<=':
          return map2(a, b, (x, y) => Number(x <= y));
        case '>':
          return map2(a, b, (x, y) => Number(x > y));
        default:
          return map2(a, b, (x, y) => Number(x >= y));
      }
    }
    case 'call':
      return evaluateCall(node, resolve, length, asSeries);
  }
}

function evaluateCall(
  node: Extract<MathNode, { type: 'call' }>,
  resolve: (id: string) => MathValue,
  length: number,
  asSeries: (v: MathValue) => Series,
): MathValue {
  const arity = (min: number, max: number) => {
    if (node.args.length < min || node.args.length > max)
      throw new MathSyntaxError(
        `${node.name} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${node.args.length}`,
      );
  };
  const reduce = (values: number[]): number | undefined => {
    if (values.length === 0) return undefined;
    switch (node.name) {
      case 'MAX':
        return values.reduce((a, b) => (b > a ? b : a));
      case 'MIN':
        return values.reduce((a, b) => (b < a ? b : a));
      case 'SUM':
        return values.reduce((a, b) => a + b, 0);
      default:
        return values.reduce((a, b) => a + b, 0) / values.length;
    }
  };
  switch (node.name) {
    case 'MAX':
    case 'MIN':
    case 'SUM':
    case 'AVG': {
      arity(1, 1);
      const arg = node.args[0]!;
      if (arg.type === 'array') {
        // Per period over the listed series (and numbers).
        const items = arg.items.map((item) => asSeries(evaluateMath(item, resolve, length)));
        return {
          kind: 'series',
          values: Array.from({ length }, (_, i) =>
            reduce(items.map((s) => s[i]).filter((v): v is number => v !== undefined)),
          ),
        };
      }
      // One series: one value over the whole window.
      const value = evaluateMath(arg, resolve, length);
      if (value.kind === 'scalar') return value;
      const reduced = reduce(value.values.filter((v): v is number => v !== undefined));
      return reduced === undefined
        ? { kind: 'series', values: Array(length).fill(undefined) }
        : { kind: 'scalar', value: reduced };
    }
    case 'FILL': {
      arity(2, 2);
      const series = asSeries(evaluateMath(node.args[0]!, resolve, length));
      const how = node.args[1]!;
      if (how.type === 'keyword' && how.name === 'REPEAT') {
        let last: number | undefined;
        return {
          kind: 'series',
          values: series.map((v) => {
            if (v !== undefined) last = v;
            return v ?? last;
          }),
        };
      }
      if (how.type === 'keyword' && how.name === 'LINEAR')
        return { kind: 'series', values: linearFill(series) };
      const filler = asSeries(evaluateMath(how, resolve, length));
      return { kind: 'series', values: series.map((v, i) => v ?? filler[i]) };
    }
    case 'IF': {
      arity(2, 3);
      const condition = asSeries(evaluateMath(node.args[0]!, resolve, length));
      const whenTrue = asSeries(evaluateMath(node.args[1]!, resolve, length));
      const whenFalse = node.args[2]
        ? asSeries(evaluateMath(node.args[2], resolve, length))
        : Array<number | undefined>(length).fill(undefined);
      return {
        kind: 'series',
        values: condition.map((c, i) => (c === undefined ? undefined : c !== 0 ? whenTrue[i] : whenFalse[i])),
      };
    }
    default: {
      arity(1, 1);
      const f = node.name === 'ABS' ? Math.abs : node.name === 'CEIL' ? Math.ceil : Math.floor;
      const value = evaluateMath(node.args[0]!, resolve, length);
      return value.kind === 'scalar'
        ? { kind: 'scalar', value: f(value.value) }
        : { kind: 'series', values: value.values.map((v) => (v === undefined ? undefined : f(v))) };
    }
  }
}

function linearFill(series: Series): Series {
  const out = [...series];
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== undefined) continue;
    let before = i - 1;
    while (before >= 0 && series[before] === undefined) before--;
    let after = i + 1;
    while (after < series.length && series[after] === undefined) after++;
    const a = before >= 0 ? series[before] : undefined;
    const b = after < series.length ? series[after] : undefined;
    if (a !== undefined && b !== undefined) out[i] = a + ((b - a) * (i - before)) / (after - before);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Composite alarm rules

export type RuleNode =
  | { type: 'state'; state: AlarmValue; alarm: string }
  | { type: 'const'; value: boolean }
  | { type: 'not'; operand: RuleNode }
  | { type: 'and' | 'or'; left: RuleNode; right: RuleNode };

/** Parses a composite AlarmRule; throws MathSyntaxError naming the problem. */
export function parseAlarmRule(text: string): RuleNode {
  const tokens: { value: string; at: number; quoted?: boolean }[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|([()])|([^\s()"]+))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const match = re.exec(text);
    if (!match) throw new MathSyntaxError(`cannot read "${text.slice(at).trim()}" in the alarm rule`);
    if (match[1] !== undefined)
      tokens.push({ value: match[1].replace(/\\(.)/g, '$1'), at: match.index, quoted: true });
    else tokens.push({ value: (match[2] ?? match[3])!, at: match.index });
    at = re.lastIndex;
  }
  let pos = 0;
  const peek = () => tokens[pos];
  const word = (value: string) => {
    const t = peek();
    return t !== undefined && !t.quoted && t.value === value;
  };
  const expect = (value: string) => {
    const t = tokens[pos++];
    if (!t || t.quoted || t.value !== value)
      throw new MathSyntaxError(
        `expected "${value}" at position ${t?.at ?? text.length} of the alarm rule "${text}"`,
      );
  };
  const factor = (): RuleNode => {
    const t = tokens[pos++];
    if (!t) throw new MathSyntaxError(`the alarm rule "${text}" ends where a condition was expected`);
    if (!t.quoted && t.value === 'NOT') return { type: 'not', operand: factor() };
    if (!t.quoted && t.value === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (!t.quoted && (t.value === 'TRUE' || t.value === 'FALSE'))
      return { type: 'const', value: t.value === 'TRUE' };
    if (!t.quoted && (t.value === 'ALARM' || t.value === 'OK' || t.value === 'INSUFFICIENT_DATA')) {
      expect('(');
      const name = tokens[pos++];
      if (!name || (!name.quoted && (name.value === '(' || name.value === ')')))
        throw new MathSyntaxError(`${t.value}( needs an alarm name or ARN in the alarm rule "${text}"`);
      expect(')');
      return { type: 'state', state: t.value, alarm: alarmNameOf(name.value) };
    }
    throw new MathSyntaxError(
      `unexpected "${t.value}" at position ${t.at} of the alarm rule "${text}" (use ALARM(name), OK(name), INSUFFICIENT_DATA(name), TRUE, FALSE, AND, OR, NOT and parentheses)`,
    );
  };
  const and = (): RuleNode => {
    let left = factor();
    while (word('AND')) {
      pos++;
      left = { type: 'and', left, right: factor() };
    }
    return left;
  };
  const or = (): RuleNode => {
    let left = and();
    while (word('OR')) {
      pos++;
      left = { type: 'or', left, right: and() };
    }
    return left;
  };
  const rule = or();
  if (pos < tokens.length)
    throw new MathSyntaxError(
      `unexpected "${tokens[pos]!.value}" at position ${tokens[pos]!.at} of the alarm rule "${text}"`,
    );
  return rule;
}

/** `arn:aws:cloudwatch:<region>:<account>:alarm:<name>` -> name; names pass through. */
function alarmNameOf(reference: string): string {
  const match = /^arn:[^:]+:cloudwatch:[^:]*:[^:]*:alarm:(.+)$/.exec(reference);
  return match ? match[1]! : reference;
}

function ruleAlarms(node: RuleNode, out = new Set<string>()): Set<string> {
  if (node.type === 'state') out.add(node.alarm);
  else if (node.type === 'not') ruleAlarms(node.operand, out);
  else if (node.type === 'and' || node.type === 'or') {
    ruleAlarms(node.left, out);
    ruleAlarms(node.right, out);
  }
  return out;
}

function evaluateRule(node: RuleNode, state: (alarm: string) => AlarmValue): boolean {
  switch (node.type) {
    case 'state':
      return state(node.alarm) === node.state;
    case 'const':
      return node.value;
    case 'not':
      return !evaluateRule(node.operand, state);
    case 'and':
      return evaluateRule(node.left, state) && evaluateRule(node.right, state);
    case 'or':
      return evaluateRule(node.left, state) || evaluateRule(node.right, state);
  }
}

// ------------------------------------------------------------------------------------------------
// Alarm state from datapoints

export type ComparisonOperator =
  | 'GreaterThanThreshold'
  | 'GreaterThanOrEqualToThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';
const COMPARISONS: Record<ComparisonOperator, { test: (v: number, t: number) => boolean; words: string }> = {
  GreaterThanThreshold: { test: (v, t) => v > t, words: 'greater than' },
  GreaterThanOrEqualToThreshold: { test: (v, t) => v >= t, words: 'greater than or equal to' },
  LessThanThreshold: { test: (v, t) => v < t, words: 'less than' },
  LessThanOrEqualToThreshold: { test: (v, t) => v <= t, words: 'less than or equal to' },
};

export type TreatMissingData = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

/**
 * The state M-of-N datapoints (oldest first, undefined = missing) put an alarm in:
 * - `breaching` / `notBreaching`: a missing datapoint counts as breaching / not breaching;
 * - `missing` (the default): only present datapoints count; none at all is INSUFFICIENT_DATA;
 * - `ignore`: only present datapoints count; none at all keeps the current state.
 * ALARM when at least M count as breaching, else OK.
 */
export function evaluateDatapoints(input: {
  datapoints: readonly (number | undefined)[];
  threshold: number;
  comparison: ComparisonOperator;
  datapointsToAlarm: number;
  treatMissingData: TreatMissingData;
  current: AlarmValue;
}): { state: AlarmValue; breaching: number; evaluated: number } {
  const { test } = COMPARISONS[input.comparison];
  let breaching = 0;
  let evaluated = 0;
  for (const value of input.datapoints) {
    if (value === undefined) {
      if (input.treatMissingData === 'breaching') {
        breaching++;
        evaluated++;
      } else if (input.treatMissingData === 'notBreaching') evaluated++;
      continue;
    }
    evaluated++;
    if (test(value, input.threshold)) breaching++;
  }
  if (evaluated === 0)
    return {
      state: input.treatMissingData === 'ignore' ? input.current : 'INSUFFICIENT_DATA',
      breaching,
      evaluated,
    };
  return { state: breaching >= input.datapointsToAlarm ? 'ALARM' : 'OK', breaching, evaluated };
}

// ------------------------------------------------------------------------------------------------
// The alarms

interface MetricQuery {
  id: string;
  returnData: boolean;
  label?: string;
  stat?: { key: string; stat: string; period: number; metric: Metric };
  expression?: { text: string; tree: MathNode };
}

interface StoredAlarm {
  kind: 'metric' | 'composite';
  input: PutMetricAlarmCommandInput | PutCompositeAlarmCommandInput;
  state: AlarmValue;
  reason: string;
  reasonData: string;
  /** ISO time of the last state change. */
  updatedAt: string;
}

interface Compiled {
  queries: MetricQuery[];
  /** Seconds (unscaled). */
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: ComparisonOperator;
  treatMissingData: TreatMissingData;
  statName?: string;
}

interface StateFileContent {
  format: 'nbops-local-alarms/v1';
  alarms: StoredAlarm[];
}

function metricKey(namespace: string, metricName: string, dimensions: Record<string, string>): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((k) => `${k}=${dimensions[k]}`)
    .join('\u0001');
  return `${namespace}\u0000${metricName}\u0000${dims}`;
}

function dimensionsOf(
  list: readonly { Name?: string; Value?: string }[] | undefined,
): Record<string, string> {
  return Object.fromEntries((list ?? []).map((d) => [d.Name ?? '', d.Value ?? '']));
}

/** CloudWatch's timestamp format in alarm events: `2019-10-02T17:04:40.989+0000`. */
export function cloudWatchTime(at: Date): string {
  return at.toISOString().replace(/Z$/, '+0000');
}

const invalid = (message: string) => new CloudWatchError('ValidationError', message);

/** Turns a PutMetricAlarm request into what the evaluator runs; refuses what it cannot run. */
function compile(input: PutMetricAlarmCommandInput): Compiled {
  const name = input.AlarmName!;
  const where = `alarm ${name}`;
  const comparison = input.ComparisonOperator as ComparisonOperator;
  if (!(comparison in COMPARISONS))
    throw invalid(
      `${where}: ComparisonOperator ${input.ComparisonOperator} is not supported by the local alarms (anomaly detection bands need CloudWatch); use ${Object.keys(COMPARISONS).join(', ')}.`,
    );
  if (input.ThresholdMetricId)
    throw invalid(
      `${where}: ThresholdMetricId (anomaly detection) is not supported by the local alarms; use a static Threshold.`,
    );
  if (input.Threshold === undefined) throw invalid(`${where}: Threshold is required.`);
  const evaluationPeriods = input.EvaluationPeriods ?? 0;
  const datapointsToAlarm = input.DatapointsToAlarm ?? evaluationPeriods;
  if (datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods)
    throw invalid(
      `${where}: DatapointsToAlarm (${datapointsToAlarm}) must be between 1 and EvaluationPeriods (${evaluationPeriods}).`,
    );
  const treatMissingData = (input.TreatMissingData ?? 'missing') as TreatMissingData;
  if (!['breaching', 'notBreaching', 'ignore', 'missing'].includes(treatMissingData))
    throw invalid(
      `${where}: TreatMissingData must be breaching, notBreaching, ignore or missing, not ${input.TreatMissingData}.`,
    );

  const base = {
    evaluationPeriods,
    datapointsToAlarm,
    threshold: input.Threshold,
    comparison,
    treatMissingData,
  };
  if (input.Metrics && input.Metrics.length > 0) {
    if (input.MetricName || input.Namespace || input.Statistic || input.ExtendedStatistic || input.Period)
      throw new CloudWatchError(
        'InvalidParameterCombination',
        `${where}: Metrics cannot be combined with MetricName, Namespace, Statistic, ExtendedStatistic or Period.`,
      );
    const queries: MetricQuery[] = [];
    const periods = new Set<number>();
    for (const q of input.Metrics) {
      const id = q.Id ?? '';
      if (queries.some((other) => other.id === id))
        throw invalid(`${where}: metric query id "${id}" is used twice.`);
      const query: MetricQuery = { id, returnData: q.ReturnData ?? true };
      if (q.Label) query.label = q.Label;
      if (q.MetricStat && q.Expression)
        throw invalid(`${where}: metric query ${id} has both MetricStat and Expression; give one.`);
      if (q.MetricStat) {
        const stat = q.MetricStat.Stat ?? '';
        if (!isSupportedStatistic(stat))
          throw invalid(
            `${where}: metric query ${id} uses statistic ${stat}, which the local alarms do not compute (supported: ${BASIC_STATISTICS.join(', ')}, pNN).`,
          );
        const metric = q.MetricStat.Metric ?? {};
        const period = q.MetricStat.Period ?? 0;
        periods.add(period);
        query.stat = {
          key: metricKey(metric.Namespace ?? '', metric.MetricName ?? '', dimensionsOf(metric.Dimensions)),
          stat,
          period,
          metric,
        };
      } else if (q.Expression) {
        try {
          query.expression = { text: q.Expression, tree: parseMathExpression(q.Expression) };
        } catch (err) {
          throw invalid(`${where}: metric query ${id}: ${(err as Error).message}.`);
        }
      } else throw invalid(`${where}: metric query ${id} needs MetricStat or Expression.`);
      queries.push(query);
    }
    const returned = queries.filter((q) => q.returnData);
    if (returned.length !== 1)
      throw invalid(
        `${where}: exactly one metric query must have ReturnData true (the alarm's metric), found ${returned.length}.`,
      );
    const ids = new Set(queries.map((q) => q.id));
    for (const q of queries)
      for (const ref of q.expression ? referencedIds(q.expression.tree) : [])
        if (!ids.has(ref) || ref === q.id)
          throw invalid(
            `${where}: expression of ${q.id} refers to "${ref}", which is not another query id of this alarm.`,
          );
    if (periods.size !== 1)
      throw invalid(
        `${where}: the local alarms need every MetricStat of an alarm to use one Period (found ${[...periods].join(', ') || 'none'}).`,
      );
    // A dry run over empty periods catches what only evaluation notices (FILL's keywords misplaced, arity).
    const byId = new Map(queries.map((q) => [q.id, q]));
    const dryRun = (id: string): MathValue => {
      const query = byId.get(id)!;
      return query.expression
        ? evaluateMath(query.expression.tree, dryRun, evaluationPeriods)
        : { kind: 'series', values: Array(evaluationPeriods).fill(undefined) };
    };
    for (const q of queries)
      if (q.expression)
        try {
          dryRun(q.id);
        } catch (err) {
          throw invalid(`${where}: metric query ${q.id}: ${(err as Error).message}.`);
        }
    return { ...base, queries, period: [...periods][0]! };
  }

  if (!input.MetricName || !input.Namespace)
    throw invalid(`${where}: give MetricName and Namespace, or Metrics.`);
  if (Boolean(input.Statistic) === Boolean(input.ExtendedStatistic))
    throw new CloudWatchError(
      'InvalidParameterCombination',
      `${where}: give exactly one of Statistic and ExtendedStatistic.`,
    );
  const stat = (input.Statistic ?? input.ExtendedStatistic)!;
  if (!isSupportedStatistic(stat))
    throw invalid(
      `${where}: statistic ${stat} is not computed by the local alarms (supported: ${BASIC_STATISTICS.join(', ')}, pNN).`,
    );
  if (!input.Period) throw invalid(`${where}: Period is required with MetricName.`);
  return {
    ...base,
    period: input.Period,
    statName: stat,
    queries: [
      {
        id: 'm1',
        returnData: true,
        stat: {
          key: metricKey(input.Namespace, input.MetricName, dimensionsOf(input.Dimensions)),
          stat,
          period: input.Period,
          metric: {
            Namespace: input.Namespace,
            MetricName: input.MetricName,
            Dimensions: input.Dimensions ?? [],
          },
        },
      },
    ],
  };
}

export class LocalAlarms implements AlarmsPort {
  private readonly alarms = new Map<string, StoredAlarm>();
  private readonly compiled = new Map<string, Compiled>();
  private readonly rules = new Map<string, RuleNode>();
  /** metric key -> datapoints (epoch ms, value), in arrival order. */
  private readonly data = new Map<string, { t: number; v: number }[]>();
  private readonly sources: MetricSource[] = [];
  private readonly location: AwsLocation;
  private readonly timeScale: number;
  private readonly log: (line: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private evaluating: Promise<AlarmStateChange[]> | undefined;
  private writes: Promise<void> = Promise.resolve();
  emit: ((event: AwsEvent) => void) | undefined;

  constructor(private readonly options: LocalAlarmsOptions = {}) {
    this.location = options.location ?? LOCAL_LOCATION;
    this.timeScale = options.timeScale ?? 1;
    this.log = options.log ?? ((line) => console.error(line));
    this.emit = options.emit;
  }

  /** Loads the saved alarms (a missing file is a fresh start; an unreadable one an AlarmStateFileError). */
  static async open(options: LocalAlarmsOptions = {}): Promise<LocalAlarms> {
    const alarms = new LocalAlarms(options);
    const file = options.stateFile;
    if (!file) return alarms;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return alarms;
      throw new AlarmStateFileError(file, (err as Error).message);
    }
    let content: StateFileContent;
    try {
      content = JSON.parse(text) as StateFileContent;
      if (content.format !== 'nbops-local-alarms/v1' || !Array.isArray(content.alarms))
        throw new Error('not an nbops local alarms file');
      for (const stored of content.alarms) {
        const name = stored.input.AlarmName!;
        if (stored.kind === 'metric')
          alarms.compiled.set(name, compile(stored.input as PutMetricAlarmCommandInput));
        else
          alarms.rules.set(name, parseAlarmRule((stored.input as PutCompositeAlarmCommandInput).AlarmRule!));
        alarms.alarms.set(name, stored);
      }
    } catch (err) {
      throw new AlarmStateFileError(file, (err as Error).message);
    }
    return alarms;
  }

  // --- AlarmsPort ---------------------------------------------------------------------------------

  async putMetricAlarm(input: PutMetricAlarmCommandInput): Promise<void> {
    assertValidRequest('cloudwatch', 'PutMetricAlarm', input);
    const name = input.AlarmName!;
    if (this.rules.has(name))
      throw invalid(`alarm ${name} exists as a composite alarm; choose another name.`);
    const compiled = compile(input);
    const kept = this.keptState(name);
    this.compiled.set(name, compiled);
    this.alarms.set(name, { kind: 'metric', input: structuredClone(input), ...kept });
    this.save();
  }

  async putCompositeAlarm(input: PutCompositeAlarmCommandInput): Promise<void> {
    assertValidRequest('cloudwatch', 'PutCompositeAlarm', input);
    const name = input.AlarmName!;
    if (this.compiled.has(name))
      throw invalid(`alarm ${name} exists as a metric alarm; choose another name.`);
    let rule: RuleNode;
    try {
      rule = parseAlarmRule(input.AlarmRule ?? '');
    } catch (err) {
      throw invalid(`composite alarm ${name}: ${(err as Error).message}.`);
    }
    const missing = [...ruleAlarms(rule)].filter((alarm) => !this.alarms.has(alarm));
    if (missing.length > 0)
      throw invalid(
        `Could not save the composite alarm as alarms [${missing.join(', ')}] in the alarm rule do not exist`,
      );
    if (ruleAlarms(rule).has(name)) throw invalid(`composite alarm ${name} cannot refer to itself.`);
    const kept = this.keptState(name);
    this.rules.set(name, rule);
    this.alarms.set(name, { kind: 'composite', input: structuredClone(input), ...kept });
    this.save();
  }

  /** An update keeps the alarm's state, as CloudWatch does; a new alarm starts INSUFFICIENT_DATA. */
  private keptState(name: string) {
    const existing = this.alarms.get(name);
    return {
      state: existing?.state ?? 'INSUFFICIENT_DATA',
      reason: existing?.reason ?? 'Unchecked: Initial alarm creation',
      reasonData: existing?.reasonData ?? '{}',
      updatedAt: existing?.updatedAt ?? this.now().toISOString(),
    } as const;
  }

  async deleteAlarms(names: string[]): Promise<void> {
    for (const name of names) {
      this.alarms.delete(name);
      this.compiled.delete(name);
      this.rules.delete(name);
    }
    this.save();
  }

  async describeAlarms(names: string[]): Promise<AlarmState[]> {
    return [...new Set(names)].flatMap((name) => {
      const alarm = this.alarms.get(name);
      return alarm ? [{ name, state: alarm.state }] : [];
    });
  }

  // --- local API ----------------------------------------------------------------------------------

  /** The alarm's state now; undefined when there is no such alarm. */
  state(name: string): AlarmValue | undefined {
    return this.alarms.get(name)?.state;
  }

  /** Every alarm with its state and last reason. */
  list(): {
    name: string;
    kind: 'metric' | 'composite';
    state: AlarmValue;
    reason: string;
    updatedAt: string;
  }[] {
    return [...this.alarms.entries()].map(([name, a]) => ({
      name,
      kind: a.kind,
      state: a.state,
      reason: a.reason,
      updatedAt: a.updatedAt,
    }));
  }

  /** The request an alarm was put with. */
  definition(name: string): PutMetricAlarmCommandInput | PutCompositeAlarmCommandInput | undefined {
    return this.alarms.get(name)?.input;
  }

  addSource(source: MetricSource): void {
    this.sources.push(source);
  }

  putMetricData(datum: Datum): void {
    if (!Number.isFinite(datum.value)) return;
    const key = metricKey(datum.namespace, datum.metricName, datum.dimensions);
    let points = this.data.get(key);
    if (!points) {
      points = [];
      this.data.set(key, points);
    }
    const t = typeof datum.timestamp === 'number' ? datum.timestamp : datum.timestamp.getTime();
    points.push({ t, v: datum.value });
  }

  /**
   * One CloudWatch embedded-metric-format document (a log line or its parsed object): every metric
   * under every dimension set of every directive. Returns the datapoints stored (0 for other lines).
   */
  ingestEmf(document: string | Record<string, unknown>): number {
    let doc: Record<string, unknown>;
    if (typeof document === 'string') {
      if (!document.includes('"_aws"')) return 0;
      try {
        doc = JSON.parse(document) as Record<string, unknown>;
      } catch {
        return 0;
      }
    } else doc = document;
    const aws = doc._aws as { Timestamp?: number; CloudWatchMetrics?: unknown } | undefined;
    if (!aws || !Array.isArray(aws.CloudWatchMetrics)) return 0;
    const timestamp = typeof aws.Timestamp === 'number' ? aws.Timestamp : this.now().getTime();
    let stored = 0;
    for (const directive of aws.CloudWatchMetrics as Record<string, unknown>[]) {
      const namespace = typeof directive.Namespace === 'string' ? directive.Namespace : undefined;
      const metrics = Array.isArray(directive.Metrics) ? (directive.Metrics as { Name?: unknown }[]) : [];
      const sets = Array.isArray(directive.Dimensions) ? (directive.Dimensions as unknown[]) : [[]];
      if (!namespace) continue;
      for (const set of sets) {
        if (!Array.isArray(set)) continue;
        const dimensions: Record<string, string> = {};
        let complete = true;
        for (const dim of set) {
          const value = doc[String(dim)];
          if (typeof value !== 'string') complete = false;
          else dimensions[String(dim)] = value;
        }
        if (!complete) continue;
        for (const metric of metrics) {
          if (typeof metric.Name !== 'string') continue;
          const raw = doc[metric.Name];
          const values = Array.isArray(raw) ? raw : [raw];
          for (const value of values)
            if (typeof value === 'number' && Number.isFinite(value)) {
              this.putMetricData({ namespace, metricName: metric.Name, dimensions, value, timestamp });
              stored++;
            }
        }
      }
    }
    return stored;
  }

  /** Evaluates every alarm now (after pulling from the sources); returns the state changes. */
  evaluate(): Promise<AlarmStateChange[]> {
    // One evaluation at a time: a tick that comes while one runs waits for it and reuses it.
    this.evaluating ??= this.evaluateOnce().finally(() => {
      this.evaluating = undefined;
    });
    return this.evaluating;
  }

  /** Evaluates every `intervalMs` until stop(). */
  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(
      () => {
        this.evaluate().catch((err) =>
          this.log(`[nbops] alarm evaluation failed: ${(err as Error).message}`),
        );
      },
      Math.max(10, intervalMs),
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops the tick and waits for the state file to be written. */
  async close(): Promise<void> {
    this.stop();
    await this.evaluating?.catch(() => {});
    await this.writes;
  }

  // --- evaluation ----------------------------------------------------------------------------------

  private now(): Date {
    return this.options.clock?.now() ?? new Date();
  }

  private async evaluateOnce(): Promise<AlarmStateChange[]> {
    for (const source of this.sources) {
      try {
        await source();
      } catch (err) {
        this.log(`[nbops] metric source failed: ${(err as Error).message}`);
      }
    }
    const now = this.now();
    const changes: AlarmStateChange[] = [];
    for (const [name, compiled] of this.compiled) {
      const alarm = this.alarms.get(name)!;
      const change = this.evaluateMetricAlarm(name, alarm, compiled, now);
      if (change) changes.push(change);
    }
    // Composite alarms may refer to each other: repeat until nothing changes (bounded).
    for (let pass = 0; pass < 10; pass++) {
      let changed = false;
      for (const [name, rule] of this.rules) {
        const change = this.evaluateComposite(name, rule, now);
        if (change) {
          changes.push(change);
          changed = true;
        }
      }
      if (!changed) break;
    }
    this.prune(now.getTime());
    if (changes.length > 0) this.save();
    return changes;
  }

  /** The alarm's datapoints for its last EvaluationPeriods complete periods, oldest first. */
  datapoints(name: string, at: Date = this.now()): { start: number; value: number | undefined }[] {
    const compiled = this.compiled.get(name);
    if (!compiled) return [];
    return this.series(compiled, at.getTime());
  }

  private periodMs(compiled: Compiled): number {
    return Math.max(1, compiled.period * 1000 * this.timeScale);
  }

  private series(compiled: Compiled, now: number): { start: number; value: number | undefined }[] {
    const periodMs = this.periodMs(compiled);
    const n = compiled.evaluationPeriods;
    const last = Math.floor(now / periodMs) - 1;
    const starts = Array.from({ length: n }, (_, i) => (last - (n - 1) + i) * periodMs);
    const from = starts[0]!;
    const to = from + n * periodMs;
    const cache = new Map<string, MathValue>();
    const byId = new Map(compiled.queries.map((q) => [q.id, q]));
    const resolve = (id: string): MathValue => {
      const known = cache.get(id);
      if (known) return known;
      const query = byId.get(id)!;
      let value: MathValue;
      if (query.stat) {
        const buckets: number[][] = starts.map(() => []);
        for (const point of this.data.get(query.stat.key) ?? []) {
          if (point.t < from || point.t >= to) continue;
          buckets[Math.floor((point.t - from) / periodMs)]!.push(point.v);
        }
        const stat = query.stat.stat;
        value = { kind: 'series', values: buckets.map((values) => computeStatistic(values, stat)) };
      } else {
        value = evaluateMath(query.expression!.tree, resolve, n);
      }
      cache.set(id, value);
      return value;
    };
    const result = resolve(compiled.queries.find((q) => q.returnData)!.id);
    const values = result.kind === 'series' ? result.values : Array(n).fill(result.value);
    return starts.map((start, i) => ({ start, value: values[i] }));
  }

  private evaluateMetricAlarm(
    name: string,
    alarm: StoredAlarm,
    compiled: Compiled,
    now: Date,
  ): AlarmStateChange | undefined {
    let points: { start: number; value: number | undefined }[];
    try {
      points = this.series(compiled, now.getTime());
    } catch (err) {
      this.log(`[nbops] alarm ${name} cannot be evaluated: ${(err as Error).message}`);
      return undefined;
    }
    const outcome = evaluateDatapoints({
      datapoints: points.map((p) => p.value),
      threshold: compiled.threshold,
      comparison: compiled.comparison,
      datapointsToAlarm: compiled.datapointsToAlarm,
      treatMissingData: compiled.treatMissingData,
      current: alarm.state,
    });
    if (outcome.state === alarm.state) return undefined;
    const recent = [...points].reverse();
    const present = recent.filter((p) => p.value !== undefined);
    const words = COMPARISONS[compiled.comparison].words;
    const shown = present
      .map((p) => `${formatNumber(p.value!)} (${shortTime(new Date(p.start))})`)
      .join(', ');
    const missing = points.length - present.length;
    const reason =
      outcome.state === 'INSUFFICIENT_DATA'
        ? `Insufficient Data: ${points.length} datapoint${points.length === 1 ? ' was' : 's were'} unknown.`
        : present.length === 0
          ? `Threshold Crossed: no datapoints were received for ${missing} period${missing === 1 ? '' : 's'} and ${missing} missing datapoint${missing === 1 ? ' was' : 's were'} treated as [${compiled.treatMissingData === 'breaching' ? 'Breaching' : 'NonBreaching'}].`
          : `Threshold Crossed: ${outcome.state === 'ALARM' ? outcome.breaching : outcome.evaluated - outcome.breaching} out of the last ${points.length} datapoints [${shown}] ${outcome.state === 'ALARM' ? 'were' : 'were not'} ${words} the threshold (${formatNumber(compiled.threshold)}) (minimum ${compiled.datapointsToAlarm} datapoint${compiled.datapointsToAlarm === 1 ? '' : 's'} for OK -> ALARM transition).`;
    const reasonData: Record<string, unknown> = {
      version: '1.0',
      queryDate: cloudWatchTime(now),
      startDate: cloudWatchTime(new Date(points[0]?.start ?? now.getTime())),
      ...(compiled.statName ? { statistic: compiled.statName } : {}),
      period: compiled.period,
      recentDatapoints: present.map((p) => p.value),
      threshold: compiled.threshold,
      evaluatedDatapoints: present.map((p) => ({
        timestamp: cloudWatchTime(new Date(p.start)),
        value: p.value,
      })),
    };
    return this.changeState(name, alarm, outcome.state, reason, JSON.stringify(reasonData), now);
  }

  private evaluateComposite(name: string, rule: RuleNode, now: Date): AlarmStateChange | undefined {
    const alarm = this.alarms.get(name)!;
    const fired = evaluateRule(rule, (child) => this.alarms.get(child)?.state ?? 'INSUFFICIENT_DATA');
    const state: AlarmValue = fired ? 'ALARM' : 'OK';
    if (state === alarm.state) return undefined;
    const children = [...ruleAlarms(rule)].map((child) => ({
      arn: this.alarmArn(child),
      state: {
        value: this.alarms.get(child)?.state ?? 'INSUFFICIENT_DATA',
        timestamp: cloudWatchTime(new Date(this.alarms.get(child)?.updatedAt ?? now.toISOString())),
      },
    }));
    const triggering = children.filter((c) => (fired ? c.state.value === 'ALARM' : true));
    const reason = `${(alarm.input as PutCompositeAlarmCommandInput).AlarmRule} evaluated to ${fired ? 'TRUE' : 'FALSE'}: ${children
      .map((c) => `${c.arn.split(':alarm:')[1]} is ${c.state.value}`)
      .join(', ')}`;
    return this.changeState(
      name,
      alarm,
      state,
      reason,
      JSON.stringify({ triggeringAlarms: triggering }),
      now,
    );
  }

  private changeState(
    name: string,
    alarm: StoredAlarm,
    state: AlarmValue,
    reason: string,
    reasonData: string,
    now: Date,
  ): AlarmStateChange {
    const previous = {
      value: alarm.state,
      reason: alarm.reason,
      reasonData: alarm.reasonData,
      timestamp: cloudWatchTime(new Date(alarm.updatedAt)),
    };
    alarm.state = state;
    alarm.reason = reason;
    alarm.reasonData = reasonData;
    alarm.updatedAt = now.toISOString();
    this.emitChange(name, alarm, previous, now);
    return { alarmName: name, previous: previous.value, state, reason };
  }

  private alarmArn(name: string): string {
    return `arn:aws:cloudwatch:${this.location.region}:${this.location.account}:alarm:${name}`;
  }

  /** "CloudWatch Alarm State Change" as EventBridge delivers it (reasonData is a JSON string). */
  private emitChange(
    name: string,
    alarm: StoredAlarm,
    previous: { value: AlarmValue; reason: string; reasonData: string; timestamp: string },
    now: Date,
  ): void {
    if (!this.emit) return;
    const configuration: Record<string, unknown> = {};
    if (alarm.kind === 'metric') {
      const input = alarm.input as PutMetricAlarmCommandInput;
      if (input.AlarmDescription) configuration.description = input.AlarmDescription;
      configuration.metrics = this.compiled.get(name)!.queries.map((q) => ({
        id: q.id,
        ...(q.stat
          ? {
              metricStat: {
                metric: {
                  namespace: q.stat.metric.Namespace,
                  name: q.stat.metric.MetricName,
                  dimensions: dimensionsOf(q.stat.metric.Dimensions),
                },
                period: q.stat.period,
                stat: q.stat.stat,
              },
            }
          : { expression: q.expression!.text }),
        ...(q.label ? { label: q.label } : {}),
        returnData: q.returnData,
      }));
    } else {
      const input = alarm.input as PutCompositeAlarmCommandInput;
      configuration.alarmRule = input.AlarmRule;
      if (input.AlarmDescription) configuration.description = input.AlarmDescription;
      if (input.ActionsSuppressor) configuration.actionsSuppressor = input.ActionsSuppressor;
    }
    const event = awsEvent({
      source: 'aws.cloudwatch',
      detailType: 'CloudWatch Alarm State Change',
      resources: [this.alarmArn(name)],
      at: now,
      location: this.location,
      detail: {
        alarmName: name,
        state: {
          value: alarm.state,
          reason: alarm.reason,
          reasonData: alarm.reasonData,
          timestamp: cloudWatchTime(now),
        },
        previousState: previous,
        configuration,
      },
    });
    try {
      this.emit(event);
    } catch (err) {
      this.log(`[nbops] alarm event sink failed for ${name}: ${(err as Error).message}`);
    }
  }

  /** Drops datapoints no alarm can look at any more (older than twice the longest window). */
  private prune(now: number): void {
    let longest = 3_600_000 * this.timeScale;
    for (const c of this.compiled.values())
      longest = Math.max(longest, this.periodMs(c) * (c.evaluationPeriods + 1));
    const oldest = now - 2 * longest;
    for (const [key, points] of this.data) {
      const keep = points.filter((p) => p.t >= oldest);
      if (keep.length === 0) this.data.delete(key);
      else if (keep.length !== points.length) this.data.set(key, keep);
    }
  }

  private save(): void {
    const file = this.options.stateFile;
    if (!file) return;
    const content: StateFileContent = { format: 'nbops-local-alarms/v1', alarms: [...this.alarms.values()] };
    const snapshot = structuredClone(content);
    this.writes = this.writes
      .then(() => writeJsonAtomic(file, snapshot))
      .catch((err) => this.log(`[nbops] could not save alarms to ${file}: ${(err as Error).message}`));
  }
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(Number(n.toPrecision(6)));
}

/** `23/11/25 10:00:00`, the short form CloudWatch uses in reasons. */
function shortTime(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(2, 4)} ${iso.slice(11, 19)}`;
}
