/**
 * EventBridge schedule expressions (`rate(...)`, `cron(...)`), checked the way EventBridge does, so
 * a bad drift schedule fails validation instead of the deployment's PutRule call.
 */

export type ScheduleCheck = { ok: true; rateSeconds?: number } | { ok: false; problem: string; fix: string };

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3_600, day: 86_400 };
const EXAMPLES = 'e.g. rate(1 hour), rate(15 minutes) or cron(0 6 * * ? *)';

export function checkScheduleExpression(expression: string): ScheduleCheck {
  if (expression.length > 256)
    return {
      ok: false,
      problem: 'is longer than the 256 characters EventBridge allows',
      fix: `Use a short expression, ${EXAMPLES}.`,
    };
  if (expression.startsWith('rate(')) return checkRate(expression);
  if (expression.startsWith('cron(')) return checkCron(expression);
  return {
    ok: false,
    problem: 'is neither a rate(...) nor a cron(...) expression',
    fix: `Write an EventBridge schedule expression, ${EXAMPLES}.`,
  };
}

function checkRate(expression: string): ScheduleCheck {
  const match = RATE.exec(expression);
  if (!match)
    return {
      ok: false,
      problem:
        'is not a valid rate expression: it must be rate(<whole number> <minute|minutes|hour|hours|day|days>)',
      fix: 'Write e.g. rate(1 hour) or rate(30 minutes) (one space, no abbreviations).',
    };
  const value = Number(match[1]);
  const unit = match[2]!;
  const singular = unit.replace(/s$/, '');
  if (value < 1)
    return {
      ok: false,
      problem: 'has a rate of 0',
      fix: `Use a value of at least 1, e.g. rate(1 ${singular}).`,
    };
  if (value === 1 && unit.endsWith('s'))
    return {
      ok: false,
      problem: `uses the plural "${unit}" with the value 1; EventBridge requires the singular`,
      fix: `Write rate(1 ${singular}).`,
    };
  if (value > 1 && !unit.endsWith('s'))
    return {
      ok: false,
      problem: `uses the singular "${unit}" with the value ${value}; EventBridge requires the plural`,
      fix: `Write rate(${value} ${unit}s).`,
    };
  return { ok: true, rateSeconds: value * UNIT_SECONDS[singular]! };
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface CronField {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Extra single-token forms: `L`, `LW`, `5W` (day-of-month), `6L`, `2#3` (day-of-week). */
  special?: RegExp;
}

const FIELDS: CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, special: /^(L|LW|L-\d{1,2}|\d{1,2}W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  {
    name: 'day-of-week',
    min: 1,
    max: 7,
    names: DAYS,
    special: /^(L|[1-7]L|[A-Z]{3}L|[1-7]#[1-5]|[A-Z]{3}#[1-5])$/,
  },
  { name: 'year', min: 1970, max: 2199 },
];

function checkCron(expression: string): ScheduleCheck {
  if (!expression.endsWith(')'))
    return {
      ok: false,
      problem: 'is missing the closing parenthesis',
      fix: 'Write cron(min hour day-of-month month day-of-week year).',
    };
  const fields = expression.slice(5, -1).trim().split(/\s+/);
  if (fields.length !== 6)
    return {
      ok: false,
      problem: `has ${fields.length} cron fields; EventBridge cron expressions have 6 (minutes hours day-of-month month day-of-week year)`,
      fix: 'Add the missing fields, e.g. cron(0 6 * * ? *) for 06:00 UTC daily (note the year field and the ?).',
    };
  const dom = fields[2]!;
  const dow = fields[4]!;
  if ((dom === '?') === (dow === '?'))
    return {
      ok: false,
      problem:
        dom === '?'
          ? 'has ? in both day-of-month and day-of-week'
          : 'sets both day-of-month and day-of-week; EventBridge requires ? in exactly one of them',
      fix:
        dom === '?'
          ? 'Put * in one of them, e.g. cron(0 6 * * ? *).'
          : `Put ? in the one you do not use, e.g. cron(${fields[0]} ${fields[1]} ${dom} ${fields[3]} ? ${fields[5]}).`,
    };
  for (const [i, field] of FIELDS.entries()) {
    const text = fields[i]!;
    if (text === '?' && (i === 2 || i === 4)) continue;
    const problem = checkCronField(text.toUpperCase(), field);
    if (problem)
      return {
        ok: false,
        problem: `has an invalid ${field.name} field "${text}": ${problem}`,
        fix: `Use values ${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : ''} with , - * /.`,
      };
  }
  return { ok: true };
}

function checkCronField(text: string, field: CronField): string | undefined {
  for (const part of text.split(',')) {
    if (part === '') return 'empty list entry';
    if (field.special?.test(part)) continue;
    const [range, step, ...extra] = part.split('/');
    if (extra.length > 0) return 'more than one /';
    if (step !== undefined && !/^\d+$/.test(step)) return `step "${step}" is not a whole number`;
    if (range === '*') continue;
    const [from, to, ...more] = range!.split('-');
    if (more.length > 0) return `"${range}" is not a range`;
    for (const value of to === undefined ? [from!] : [from!, to]) {
      const n = /^\d+$/.test(value)
        ? Number(value)
        : field.names
          ? field.names.indexOf(value) + 1
          : Number.NaN;
      if (!(n >= field.min && n <= field.max)) return `"${value}" is outside ${field.min}-${field.max}`;
    }
  }
  return undefined;
}
