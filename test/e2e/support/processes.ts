// Orphan checks: the processes whose command line names a folder (training runners and inference
// servers started for a host all name its work folder: --root <dir>/jobs/..., --model-dir <dir>/endpoints/...).
import { readdirSync, readFileSync } from 'node:fs';

export function processesUsing(folder: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let command: string;
    try {
      command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      continue; // exited meanwhile
    }
    if (command.includes(folder)) found.push({ pid: Number(entry), command });
  }
  return found;
}

/** Waits (briefly) for processes to be reaped: a killed process group takes a moment to go. */
export async function noProcessesUsing(
  folder: string,
  timeoutMs = 5_000,
): Promise<{ pid: number; command: string }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = processesUsing(folder);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}
