/**
 * Durations in manifests and policies: whole seconds, or strings such as `90s`, `30m`, `2h`, `1d`,
 * `1h30m` (schemas/common.schema.json `$defs/duration`). Everything downstream works in seconds.
 */
export type Duration = number | string;

const DURATION_TEXT = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const UNIT_SECONDS = [86_400, 3_600, 60, 1] as const;
const EXAMPLES = 'whole seconds or a string such as 90s, 30m, 2h, 1d, 1h30m';

/** Seconds in `d`. Throws an Error naming the accepted forms when `d` is not a duration. */
export function parseDuration(d: number | string): number {
  if (typeof d === 'number') {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new Error(`${describe(d)} is not a duration: use ${EXAMPLES}`);
    return d;
  }
  if (typeof d !== 'string') throw new Error(`${describe(d)} is not a duration: use ${EXAMPLES}`);
  const match = d.length <= 64 ? DURATION_TEXT.exec(d) : null;
  if (!match || d === '') throw new Error(`${describe(d)} is not a duration: use ${EXAMPLES}`);
  let seconds = 0;
  for (let i = 0; i < UNIT_SECONDS.length; i++) {
    const digits = match[i + 1];
    if (digits !== undefined) seconds += Number(digits) * UNIT_SECONDS[i]!;
  }
  if (!Number.isSafeInteger(seconds))
    throw new Error(`${describe(d)} is too long a duration to be meaningful`);
  return seconds;
}

/** The shortest duration string for `seconds`, e.g. 5400 -> `1h30m`, 0 -> `0s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0)
    throw new Error(`cannot format ${describe(seconds)} as a duration: expected whole seconds >= 0`);
  if (seconds === 0) return '0s';
  let rest = seconds;
  let text = '';
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) text += `${n}${unit}`;
    rest -= n * size;
  }
  return text;
}

function describe(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'number') return String(value);
  return value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
}
