/** File access for CLI commands: size checked before reading, errors turned into UserErrors. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadPolicy } from '#core/policy/policy';
import type { Policy } from '#core/policy/policy.generated';
import { UserError } from './exit';

function describeIoError(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `cannot read ${path}: no such file`;
  if (code === 'EACCES') return `cannot read ${path}: permission denied`;
  if (code === 'EISDIR') return `cannot read ${path}: it is a directory`;
  return `cannot read ${path}: ${(err as Error).message}`;
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (err) {
    throw new UserError(describeIoError(path, err));
  }
}

export function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UserError(describeIoError(path, err));
  }
}

export function readText(path: string): string {
  return Buffer.from(readBytes(path)).toString('utf8');
}

/** Expands directories to the notebooks inside them (skipping checkpoints and node_modules). */
export function expandNotebookPaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      out.push(path); // reported as unreadable when validated
      continue;
    }
    if (!isDir) {
      out.push(path);
      continue;
    }
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
        a.name.localeCompare(b.name),
      )) {
        if (
          entry.name === 'node_modules' ||
          entry.name === '.ipynb_checkpoints' ||
          entry.name.startsWith('.')
        )
          continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ipynb')) out.push(full);
      }
    };
    walk(path);
  }
  return out;
}

/** The sidecar manifest beside a notebook (`<name>.nbops.yaml|yml|json`), if any. */
export function findSidecar(notebookPath: string): string | undefined {
  const stem = basename(notebookPath).replace(/\.ipynb$/, '');
  for (const ext of ['yaml', 'yml', 'json']) {
    const candidate = join(dirname(notebookPath), `${stem}.nbops.${ext}`);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return undefined;
}

/** Loads a policy file; an invalid policy is a usage error listing every problem. */
export function readPolicy(path: string | undefined): Policy | undefined {
  if (!path) return undefined;
  const { policy, findings } = loadPolicy(readText(path), path);
  const errors = findings.filter((f) => f.severity === 'error');
  if (!policy || errors.length > 0) {
    const lines = errors.map((f) => `  - ${f.message} (fix: ${f.fix})`);
    throw new UserError(`invalid policy ${path}:\n${lines.join('\n')}`);
  }
  return policy;
}
