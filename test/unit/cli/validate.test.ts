import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { nbops, repoRoot } from './run-cli';

const tmp = () => mkdtempSync(join(tmpdir(), 'nbops-cli-'));
type JsonReport = {
  files: {
    path: string;
    valid: boolean;
    summary: { errors: number; warnings: number; infos: number };
    findings: {
      rule: string;
      severity: string;
      message: string;
      location: { pointer: string };
      fix: string;
    }[];
  }[];
};
const json = (stdout: string) => JSON.parse(stdout) as JsonReport;
const rulesOf = (report: JsonReport, i = 0) =>
  [...new Set(report.files[i]!.findings.map((f) => f.rule))].sort();

// Each test spawns the real CLI (~0.5 s idle, several seconds on a busy 2-core machine).
describe('nbops validate', { timeout: 60_000 }, () => {
  it('passes the complete example with no findings and exit 0', () => {
    const run = nbops(['validate', 'examples/churn/churn.ipynb', '--format', 'json']);
    expect(run.code).toBe(0);
    expect(json(run.stdout).files).toEqual([
      {
        path: 'examples/churn/churn.ipynb',
        valid: true,
        summary: { errors: 0, warnings: 0, infos: 0 },
        findings: [],
      },
    ]);
  });

  it.each([
    ['structure', ['NB-002', 'NB-003', 'NB-004']],
    ['secrets', ['SEC-001', 'SEC-002', 'SEC-003', 'SEC-004']],
    ['manifest', ['MAN-003', 'MAN-004', 'MAN-005', 'MAN-007']],
    ['execution', ['EX-001', 'EX-003', 'EX-004', 'EX-007']],
    ['hygiene', ['HY-001', 'HY-002', 'HY-003', 'REP-002', 'REP-003', 'REP-004']],
    ['truncated', ['NB-001']],
  ])('reports the %s example’s findings', (name, expected) => {
    const run = nbops(['validate', `examples/broken/${name}.ipynb`, '--format', 'json']);
    const report = json(run.stdout);
    expect(rulesOf(report)).toEqual(expect.arrayContaining(expected));
    const hasErrors = report.files[0]!.summary.errors > 0;
    expect(run.code).toBe(hasErrors ? 1 : 0);
    for (const f of report.files[0]!.findings) {
      expect(f.message.length).toBeGreaterThan(10);
      expect(f.fix.length).toBeGreaterThan(10);
    }
  });

  it('validates every notebook under a directory and exits 1 when any has errors', () => {
    const run = nbops(['validate', 'examples/', '--format', 'json']);
    const paths = json(run.stdout).files.map((f) => f.path);
    expect(paths).toContain('examples/churn/churn.ipynb');
    expect(paths).toContain('examples/broken/secrets.ipynb');
    expect(run.code).toBe(1);
  });

  it('never prints a secret, in text, json or sarif', () => {
    const source = readFileSync(join(repoRoot, 'examples/broken/secrets.ipynb'), 'utf8');
    const keyId = /AKIA[A-Z0-9]{16}/.exec(source)![0];
    const token = /ghp_[A-Za-z0-9]{36}/.exec(source)![0];
    for (const format of ['text', 'json', 'sarif']) {
      const run = nbops(['validate', 'examples/broken/secrets.ipynb', '--format', format]);
      expect(run.stdout).toContain('AKIA…(20 chars)');
      expect(run.stdout).not.toContain(keyId);
      expect(run.stdout).not.toContain(token.slice(4, 16));
    }
  });

  it('shows findings grouped by cell with the offending line in text', () => {
    const run = nbops(['validate', 'examples/broken/execution.ipynb']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/cell 3 \(code\)\n\s+1 │ for i in range\(epochs\)\n\s+error\s+EX-003/);
    expect(run.stdout).toMatch(/✖ \d+ errors?, \d+ warnings?, \d+ info in 1 file/);
    expect(run.stdout).not.toContain('\u001b['); // NO_COLOR honoured
  });

  it('prints SARIF 2.1.0 that code scanning accepts (rules, levels, physical locations)', () => {
    const run = nbops(['validate', 'examples/broken/execution.ipynb', '--format', 'sarif']);
    const sarif = JSON.parse(run.stdout);
    expect(sarif.version).toBe('2.1.0');
    const [runEntry] = sarif.runs;
    const ruleIds = runEntry.tool.driver.rules.map((r: { id: string }) => r.id);
    expect(ruleIds).toContain('EX-003');
    const syntax = runEntry.results.find((r: { ruleId: string }) => r.ruleId === 'EX-003');
    expect(syntax.level).toBe('error');
    expect(ruleIds[syntax.ruleIndex]).toBe('EX-003');
    const location = syntax.locations[0].physicalLocation;
    expect(location.artifactLocation.uri).toBe('examples/broken/execution.ipynb');
    // The line in the .ipynb file where cell 3's first source line is.
    const fileLines = readFileSync(join(repoRoot, 'examples/broken/execution.ipynb'), 'utf8').split('\n');
    expect(fileLines[location.region.startLine - 1]).toContain('for i in range(epochs)');
  });

  it('applies a policy: rules off, re-graded, and limits', () => {
    const dir = tmp();
    const policy = join(dir, 'policy.yaml');
    writeFileSync(
      policy,
      'rules:\n  HY-001: off\n  REP-003: error\ntraining:\n  allowedInstanceTypes: ["ml.p4d.*"]\n',
    );
    const run = nbops(['validate', 'examples/broken/hygiene.ipynb', '--policy', policy, '--format', 'json']);
    const findings = json(run.stdout).files[0]!.findings;
    expect(findings.some((f) => f.rule === 'HY-001')).toBe(false);
    expect(findings.find((f) => f.rule === 'REP-003')?.severity).toBe('error');
    expect(findings.find((f) => f.rule === 'POL-001')?.message).toContain('ml.g5.xlarge');
    expect(run.code).toBe(1);
  });

  it('uses a sidecar manifest beside the notebook, or the one given with --manifest', () => {
    const dir = tmp();
    const nb = JSON.parse(readFileSync(join(repoRoot, 'examples/churn/churn.ipynb'), 'utf8'));
    delete nb.metadata.nbops;
    writeFileSync(join(dir, 'model.ipynb'), JSON.stringify(nb));
    const withoutManifest = nbops(['validate', join(dir, 'model.ipynb'), '--format', 'json']);
    expect(rulesOf(json(withoutManifest.stdout))).toEqual(['MAN-001']);
    expect(withoutManifest.code).toBe(1);

    const manifest = readFileSync(join(repoRoot, 'examples/churn/manifest.yaml'), 'utf8');
    writeFileSync(join(dir, 'elsewhere.yaml'), manifest);
    expect(
      nbops(['validate', join(dir, 'model.ipynb'), '--manifest', join(dir, 'elsewhere.yaml')]).code,
    ).toBe(0);
    writeFileSync(join(dir, 'model.nbops.yaml'), manifest.replace('ml.g5.xlarge', 'ml.g5.large'));
    const sidecar = nbops(['validate', join(dir, 'model.ipynb'), '--format', 'json']);
    const finding = json(sidecar.stdout).files[0]!.findings.find((f) => f.rule === 'MAN-007');
    expect(finding?.message).toContain('ml.g5.large');
  });

  it('refuses a 2 GB file without reading it', () => {
    const dir = tmp();
    const huge = join(dir, 'huge.ipynb');
    writeFileSync(huge, '');
    truncateSync(huge, 2 * 1024 ** 3); // sparse: costs no disk
    const started = Date.now();
    const run = nbops(['validate', huge, '--format', 'json']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run.code).toBe(1);
    const [finding] = json(run.stdout).files[0]!.findings;
    expect(finding).toMatchObject({ rule: 'NB-010', severity: 'error' });
    expect(finding!.message).toContain('2048.0 MB');
  });

  it.each([
    ['a missing file', ['validate', 'no/such.ipynb'], /cannot read no\/such.ipynb: no such file/],
    ['an unknown format', ['validate', 'examples/churn/churn.ipynb', '--format', 'xml'], /xml/],
    ['no files', ['validate'], /missing required argument/],
    [
      '--manifest with two notebooks',
      ['validate', 'examples/broken/', '--manifest', 'x.yaml'],
      /single notebook/,
    ],
  ])('exits 2 with a clear message for %s', (_, args, message) => {
    const run = nbops(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at .*\.ts:\d+/); // no stack trace
  });

  it('does not call a run a pass when a file could not be read', () => {
    const run = nbops(['validate', 'no/such.ipynb', 'examples/churn/churn.ipynb', '--no-color']);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('examples/churn/churn.ipynb  valid');
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(
      '✖ 0 errors, 0 warnings, 0 info in 1 file; 1 file could not be read',
    );
  });

  it('exits 2 naming the problem for an invalid policy file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'policy.yaml'), 'training:\n  maxInstanceCount: many\n');
    const run = nbops(['validate', 'examples/churn/churn.ipynb', '--policy', join(dir, 'policy.yaml')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('maxInstanceCount');
  });
});

describe('nbops manifest', { timeout: 60_000 }, () => {
  it('embeds a valid manifest and shows it back, with defaults on request', () => {
    const dir = tmp();
    const nb = JSON.parse(readFileSync(join(repoRoot, 'examples/churn/churn.ipynb'), 'utf8'));
    delete nb.metadata.nbops;
    writeFileSync(join(dir, 'model.ipynb'), JSON.stringify(nb));
    const embed = nbops(['manifest', 'embed', join(dir, 'model.ipynb'), 'examples/churn/manifest.yaml']);
    expect(embed.code).toBe(0);
    const show = nbops(['manifest', 'show', join(dir, 'model.ipynb'), '--json']);
    expect(JSON.parse(show.stdout)).toEqual(
      parseYaml(readFileSync(join(repoRoot, 'examples/churn/manifest.yaml'), 'utf8')),
    );
    const resolved = JSON.parse(
      nbops(['manifest', 'show', join(dir, 'model.ipynb'), '--json', '--resolved']).stdout,
    );
    expect(resolved.training.volumeSizeGB).toBe(30);
    expect(nbops(['validate', join(dir, 'model.ipynb')]).code).toBe(0);
  });

  it('refuses to embed a manifest with schema errors unless forced', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: nbops/v1\nmodel: {name: Churn_Model}\n');
    writeFileSync(join(dir, 'model.ipynb'), readFileSync(join(repoRoot, 'examples/churn/churn.ipynb')));
    const run = nbops(['manifest', 'embed', join(dir, 'model.ipynb'), join(dir, 'bad.yaml')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('model.name');
    expect(readFileSync(join(dir, 'model.ipynb'), 'utf8')).toBe(
      readFileSync(join(repoRoot, 'examples/churn/churn.ipynb'), 'utf8'),
    );
  });
});

describe('examples', () => {
  it('the churn notebook carries exactly examples/churn/manifest.yaml', () => {
    const nb = JSON.parse(readFileSync(join(repoRoot, 'examples/churn/churn.ipynb'), 'utf8'));
    expect(nb.metadata.nbops).toEqual(
      parseYaml(readFileSync(join(repoRoot, 'examples/churn/manifest.yaml'), 'utf8')),
    );
  });
});
