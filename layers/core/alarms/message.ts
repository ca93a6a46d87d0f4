/**
 * What an on-call engineer reads when an nbops alarm fires: which model, version and endpoint,
 * what breached with the numbers, the recent deployment, what nbops does about it, and the
 * runbook. Pure text from facts the alarm use case gathered.
 */
import type { Notification } from '#core/ports';
import type { AlarmStateChange, PolicyAction } from '#core/service/contracts';
import type { AlarmKind } from './names';
import type { AlarmRole } from './slo';

export interface AlarmDefinitionSummary {
  threshold?: number;
  description?: string;
}

export interface AlarmMessageFacts {
  model: string;
  endpoint: string;
  kind: AlarmKind;
  role: Exclude<AlarmRole, 'component'>;
  change: AlarmStateChange;
  champion?: {
    version: number;
    deployedAt?: string;
    deployedBy?: string;
    approvedBy?: string;
    /** The version it replaced (the rollback target), if any. */
    previous?: number;
  };
  /** This model's alarm definitions by name (from the champion's manifest). */
  definitions: Map<string, AlarmDefinitionSummary>;
  /** For the drift alarm: the latest evaluation. */
  drift?: {
    at: string;
    share?: number;
    features: { name: string; statistic: number; threshold: number }[];
    reportUri?: string;
  };
  runbook?: string;
  policy: PolicyAction;
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString());

/** ModelLatency is in microseconds; people think in milliseconds. */
function latencyMs(micros: number): string {
  return `${num(micros / 1000)} ms`;
}

function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : [];
}

/** The breach in words, with the numbers CloudWatch reported. */
export function breachLines(f: AlarmMessageFacts): string[] {
  const data = f.change.reasonData ?? {};
  const recent = numbers(data.recentDatapoints);
  const threshold =
    typeof data.threshold === 'number' ? data.threshold : f.definitions.get(f.change.alarmName)?.threshold;
  const lines: string[] = [];
  switch (f.kind) {
    case 'latency':
      lines.push(
        `Model latency${typeof data.statistic === 'string' ? ` (${data.statistic})` : ''} was ${recent.length ? recent.map(latencyMs).join(', ') : 'above the objective'}` +
          `${threshold !== undefined ? `; the objective is ${latencyMs(threshold)}` : ''}.`,
      );
      break;
    case 'drift': {
      const d = f.drift;
      if (d) {
        lines.push(
          `The drift evaluation of the window ending ${d.at} found dataset drift${d.share !== undefined ? ` (${num(d.share * 100)}% of features drifted)` : ''}.`,
        );
        for (const feature of d.features.slice(0, 10))
          lines.push(
            `  - ${feature.name}: statistic ${num(feature.statistic)} (threshold ${num(feature.threshold)})`,
          );
        if (d.features.length > 10) lines.push(`  - ... and ${d.features.length - 10} more`);
        if (d.reportUri) lines.push(`Report: ${d.reportUri}`);
      } else lines.push('The latest drift evaluation found dataset drift.');
      break;
    }
    default: {
      // Composite burn-rate alarms: name the windows that fired, with their thresholds.
      const triggering = Array.isArray(data.triggeringAlarms) ? data.triggeringAlarms : [];
      const names = triggering
        .map((t) => (typeof t === 'object' && t && 'arn' in t ? String((t as { arn: unknown }).arn) : ''))
        .map((arn) => arn.slice(arn.lastIndexOf(':alarm:') >= 0 ? arn.lastIndexOf(':alarm:') + 7 : 0))
        .filter(Boolean);
      lines.push(
        `The error budget is burning too fast: the error ratio (5xx + model errors) / invocations is above the burn-rate threshold in both windows of a pair.`,
      );
      for (const name of names.length
        ? names
        : [...f.definitions.keys()].filter((n) => n.includes('-errors-'))) {
        const def = f.definitions.get(name);
        if (!def) continue;
        lines.push(
          `  - ${name}: threshold ${def.threshold !== undefined ? `${num(def.threshold * 100)}%` : 'unknown'}`,
        );
      }
    }
  }
  if (f.change.reason) lines.push(`CloudWatch: ${f.change.reason}`);
  return lines;
}

function policyLine(policy: PolicyAction): string {
  switch (policy.action) {
    case 'rollback':
      return `nbops is rolling back: v${policy.fromVersion} -> v${policy.toVersion} (${policy.reason}).`;
    case 'retrain':
      return `nbops asked for a retrain of v${policy.version} (${policy.reason}).`;
    default:
      return `No automatic action: ${policy.reason}.`;
  }
}

export function alarmNotification(f: AlarmMessageFacts): Notification {
  const c = f.champion;
  const what =
    f.kind === 'latency'
      ? 'latency above its objective'
      : f.kind === 'drift'
        ? 'data drift'
        : f.kind === 'burn-page'
          ? 'error budget burning fast'
          : 'error budget burning';
  const lines = [
    `Alarm ${f.change.alarmName} is ALARM since ${f.change.stateAt}.`,
    `Model ${f.model}, endpoint ${f.endpoint}, version in production: ${c ? `v${c.version}` : 'none'}.`,
    ...breachLines(f),
    '',
    c
      ? `Recent deployment: v${c.version}${c.deployedAt ? ` deployed ${c.deployedAt}` : ''}${c.deployedBy ? ` by ${c.deployedBy}` : ''}${c.approvedBy ? `, approved by ${c.approvedBy}` : ''}${c.previous !== undefined ? `; it replaced v${c.previous}` : ''}.`
      : 'Nothing is deployed for this model yet.',
    policyLine(f.policy),
    `Runbook: ${f.runbook ?? 'none given (add runbook to the manifest)'}`,
  ];
  return {
    severity: f.role,
    subject: `nbops ${f.role.toUpperCase()}: ${f.model}${c ? ` v${c.version}` : ''} ${what}`,
    message: lines.join('\n'),
    model: f.model,
    ...(c ? { version: c.version } : {}),
  };
}
