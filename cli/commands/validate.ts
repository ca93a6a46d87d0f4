/** `nbops validate <files...>`: the validator for people (text), scripts (json) and code scanning (sarif). */
import type { Command } from 'commander';
import { Option } from 'commander';
import { resolvePolicy } from '#core/policy/policy';
import { toJsonReport, toSarif, toText } from '#core/validation/report';
import { resultFromFindings, type ValidationResult, validateNotebook } from '#core/validation/validate';
import { EXIT, UserError } from '../exit';
import { expandNotebookPaths, fileSize, findSidecar, readBytes, readPolicy, readText } from '../files';
import { useColor } from '../tty';
import { version } from '../version';

interface ValidateOptions {
  manifest?: string;
  policy?: string;
  format: 'text' | 'json' | 'sarif';
  color?: boolean;
}

export function registerValidateCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('validate')
    .description(
      'Validate model notebooks: structure, manifest, policy, execution readiness, hygiene, reproducibility, secrets.',
    )
    .argument('<files...>', 'notebooks (.ipynb) or directories to search for them')
    .option('--manifest <file>', 'sidecar manifest (YAML or JSON) to use when the notebook metadata has none')
    .option('--policy <file>', 'platform policy file (YAML or JSON)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'),
    )
    .option('--no-color', 'disable colour in text output')
    .addHelpText(
      'after',
      '\nExit status: 0 no error findings, 1 error findings, 2 usage or I/O errors.\n' +
        'A sidecar <name>.nbops.yaml beside a notebook is picked up automatically.',
    )
    .action((files: string[], options: ValidateOptions) => {
      setExit(runValidate(files, options));
    });
}

export function runValidate(files: string[], options: ValidateOptions): number {
  let policyFile: ReturnType<typeof readPolicy>;
  try {
    policyFile = readPolicy(options.policy);
  } catch (err) {
    return reportUsage(err);
  }
  const policy = resolvePolicy(policyFile);
  const paths = expandNotebookPaths(files);
  if (paths.length === 0) return reportUsage(new UserError(`no notebooks found in ${files.join(', ')}`));
  if (options.manifest && paths.length > 1)
    return reportUsage(new UserError('--manifest applies to a single notebook; pass one notebook with it'));

  const results: ValidationResult[] = [];
  let unreadable = 0;
  for (const path of paths) {
    try {
      results.push(validateFile(path, options.manifest, policy));
    } catch (err) {
      unreadable++;
      reportUsage(err);
    }
  }

  const out =
    options.format === 'json'
      ? `${JSON.stringify(toJsonReport(results), null, 2)}\n`
      : options.format === 'sarif'
        ? `${JSON.stringify(toSarif(results, version), null, 2)}\n`
        : toText(results, { color: useColor(options.color), unreadable });
  process.stdout.write(out);
  if (unreadable > 0) return EXIT.usage;
  return results.every((r) => r.valid) ? EXIT.ok : EXIT.findings;
}

function validateFile(
  path: string,
  manifestPath: string | undefined,
  policy: ReturnType<typeof resolvePolicy>,
) {
  const maxBytes = policy.maxNotebookBytes ?? Number.POSITIVE_INFINITY;
  const size = fileSize(path);
  if (size > maxBytes) {
    // Refused before reading: a 2 GB upload must not be pulled into memory.
    return resultFromFindings(
      path,
      [
        {
          rule: 'NB-010',
          severity: 'error',
          message: `notebook is ${formatBytes(size)}; the limit is ${formatBytes(maxBytes)}.`,
          location: { pointer: '' },
          fix: 'Clear outputs (jupyter nbconvert --clear-output --inplace, or nbstripout) and move data out of the notebook, or raise maxNotebookBytes in the policy.',
        },
      ],
      policy,
    );
  }
  const sidecarPath = manifestPath ?? findSidecar(path);
  const sidecar = sidecarPath ? { path: sidecarPath, text: readText(sidecarPath) } : undefined;
  return validateNotebook({ content: readBytes(path), path, policy, ...(sidecar ? { sidecar } : {}) });
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

function reportUsage(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`nbops: ${message}\n`);
  if (!(err instanceof UserError))
    process.stderr.write('nbops: this is a bug; please report it with the input that caused it\n');
  return EXIT.usage;
}
