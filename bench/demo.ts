/**
 * The local main job's target: submit to a serving endpoint in under 60 s on this machine. Runs
 * `nbops demo` (fresh local host in bench/out/demo) and reports the time of every stage, from the
 * registry's audit trail: validation, training, gates, approval, deployment, then the second
 * version's canary rollout, the traffic burst and the drift evaluation.
 */
import { rm } from 'node:fs/promises';
import { type DemoSummary, runDemo } from '../cli/commands/demo';

export const SUBMIT_TO_SERVING_TARGET_MS = 60_000;

export interface DemoBench {
  timings: Record<string, number>;
  invocations: number;
  captureRecords: number;
  targets: { target: string; ok: boolean; value: string }[];
}

/** Runs the demo in `dir` (wiped first and afterwards); throws with the demo's output when it fails. */
export async function benchDemo(dir: string): Promise<DemoBench> {
  let output = '';
  const io = { stdout: (t: string) => (output += t), stderr: (t: string) => (output += t) };
  let summary: DemoSummary | undefined;
  try {
    const result = await runDemo({ dir }, io);
    summary = result.summary;
    if (result.code !== 0 || !summary) throw new Error(`nbops demo failed (exit ${result.code}):\n${output}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const serving = summary.timings.submitToServing ?? Number.POSITIVE_INFINITY;
  return {
    timings: summary.timings,
    invocations: summary.invocations,
    captureRecords: summary.captureRecords,
    targets: [
      {
        target: 'submit to a serving endpoint in < 60 s',
        ok: serving < SUBMIT_TO_SERVING_TARGET_MS,
        value: `${(serving / 1000).toFixed(1)} s`,
      },
    ],
  };
}

const STAGES: [string, string][] = [
  ['hostStart', 'host start (emulators, tables, runtime publish)'],
  ['validation', 'v1 upload -> VALIDATED'],
  ['training', 'v1 TRAINING -> TRAINED (the notebook runs)'],
  ['gates', 'v1 quality gates'],
  ['approval', 'v1 approval (auto)'],
  ['deployment', 'v1 APPROVED -> DEPLOYED (endpoint created)'],
  ['submitToServing', 'v1 upload -> serving endpoint'],
  ['predictions', 'three predictions'],
  ['v2SubmitToServing', 'v2 upload -> serving (canary, bakes x0.01)'],
  ['v2Deployment', 'v2 APPROVED -> DEPLOYED (blue/green canary)'],
  ['traffic', 'burst of 300 requests'],
  ['drift', 'capture flush + drift evaluation (drift route)'],
  ['total', 'whole demo'],
];

/** Prints the stage table and the target; returns the number of missed targets. */
export function printDemoBench(bench: DemoBench): number {
  for (const [key, label] of STAGES) {
    const ms = bench.timings[key];
    if (ms !== undefined) console.log(`  ${label.padEnd(50)} ${(ms / 1000).toFixed(2).padStart(7)} s`);
  }
  console.log(`  ${bench.invocations} requests, ${bench.captureRecords} capture records`);
  for (const t of bench.targets) console.log(`  target ${t.ok ? 'MET ' : 'MISSED'}  ${t.target}: ${t.value}`);
  return bench.targets.filter((t) => !t.ok).length;
}
