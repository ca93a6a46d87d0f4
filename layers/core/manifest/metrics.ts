/**
 * The metric line format shared by the Python runtime and SageMaker's MetricDefinitions.
 *
 * The runtime prints one line per value: `[nbops] metric <name>=<value>`, where value is Python's
 * `repr(float(x))` (`0.8734`, `-0.001`, `1e-07`, `nan`, `inf`, `-inf`). SageMaker scans the job
 * log with one regex per metric; group 1 captures the value.
 */

export const METRIC_LINE_PREFIX = '[nbops] metric ';

/** A value formatted the way the Python runtime prints it (also accepted: JS's `1e-7`). */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  return String(value);
}

/** The log line for one metric value, e.g. `[nbops] metric validation:auc=0.8734`. */
export function metricLine(name: string, value: number): string {
  return `${METRIC_LINE_PREFIX}${name}=${formatValue(value)}`;
}

/** Value syntax: Python float repr or JS number text, plus nan / inf / -inf. */
const VALUE = '(-?inf|nan|-?[0-9]+(?:\\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)';

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The MetricDefinitions regex for one metric: matches the lines metricLine prints for that name
 * (and no other name), capturing the value in group 1. Uses only syntax common to Python, Java
 * and JavaScript regexes.
 */
export function metricRegex(name: string): string {
  return `${escapeRegex(METRIC_LINE_PREFIX)}${escapeRegex(name)}=${VALUE}`;
}

/** SageMaker AlgorithmSpecification.MetricDefinitions for the manifest's metrics. */
export function metricDefinitions(names: readonly string[]): { Name: string; Regex: string }[] {
  return names.map((name) => ({ Name: name, Regex: metricRegex(name) }));
}

const LINE = new RegExp(`^${escapeRegex(METRIC_LINE_PREFIX)}([A-Za-z0-9_.:/-]+)=${VALUE}\\s*$`);

/** Reads a metric line back (the local host does what SageMaker does); undefined for other lines. */
export function parseMetricLine(line: string): { name: string; value: number } | undefined {
  const match = LINE.exec(line);
  if (!match) return undefined;
  const text = match[2]!;
  const value =
    text === 'nan' ? Number.NaN : text === 'inf' ? Infinity : text === '-inf' ? -Infinity : Number(text);
  return { name: match[1]!, value };
}
