import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTarGz, readTar, TarError, tarArchive, tarGzDirectory } from '#adapters/local/tar';

const python = process.env.NBOPS_PYTHON ?? 'python3';
const LONG_DIR = `${'deep/'.repeat(25)}end`; // 129 characters: needs ustar's prefix field
const VERY_LONG = `${'x'.repeat(120)}/${'y'.repeat(130)}.txt`; // no split fits: needs a PAX header

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nbops-tar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function modelFolder(): Promise<string> {
  const model = join(dir, 'model');
  await mkdir(join(model, 'code'), { recursive: true });
  await mkdir(join(model, 'empty'), { recursive: true });
  await mkdir(join(model, LONG_DIR), { recursive: true });
  await mkdir(join(model, VERY_LONG, '..'), { recursive: true });
  await writeFile(join(model, 'inference.py'), 'def model_fn(d):\n    return None\n');
  await writeFile(join(model, 'code', 'helper.py'), 'X = 1\n');
  await writeFile(join(model, 'weights.bin'), Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251)));
  await writeFile(join(model, LONG_DIR, 'file.json'), '{"deep": true}');
  await writeFile(join(model, VERY_LONG), 'long name');
  await writeFile(join(model, 'naïve-ünïcode.txt'), 'accents');
  return model;
}

/** name -> content (files only), as Python's tarfile reads the archive. */
function pythonListing(archive: string): Record<string, string> {
  const script = [
    'import json, sys, tarfile',
    'out = {}',
    'with tarfile.open(sys.argv[1], "r:gz") as t:',
    '    for m in t.getmembers():',
    '        out[m.name + ("/" if m.isdir() else "")] = t.extractfile(m).read().hex() if m.isfile() else ""',
    'print(json.dumps(out))',
  ].join('\n');
  return JSON.parse(execFileSync(python, ['-c', script, archive], { encoding: 'utf8' }));
}

describe('model.tar.gz writer', () => {
  it('writes an archive Python tarfile reads with every name and byte intact', async () => {
    const model = await modelFolder();
    const archive = join(dir, 'model.tar.gz');
    await writeFile(archive, await tarGzDirectory(model));

    const listing = pythonListing(archive);
    expect(listing['inference.py']).toBe(Buffer.from('def model_fn(d):\n    return None\n').toString('hex'));
    expect(listing['code/helper.py']).toBe(Buffer.from('X = 1\n').toString('hex'));
    expect(listing['empty/']).toBe('');
    expect(listing[`${LONG_DIR}/file.json`]).toBe(Buffer.from('{"deep": true}').toString('hex'));
    expect(listing[VERY_LONG]).toBe(Buffer.from('long name').toString('hex'));
    expect(listing['naïve-ünïcode.txt']).toBe(Buffer.from('accents').toString('hex'));
    expect(listing['weights.bin']).toBe((await readFile(join(model, 'weights.bin'))).toString('hex'));
    // SageMaker's layout: entries relative to the folder, no "./" and no absolute paths
    expect(Object.keys(listing).every((name) => !name.startsWith('.') && !name.startsWith('/'))).toBe(true);
  });

  it('round-trips through its own reader, folders included', async () => {
    const model = await modelFolder();
    const target = join(dir, 'out');
    const written = await extractTarGz(await tarGzDirectory(model), target);
    expect(written.sort()).toEqual(
      [
        'code/helper.py',
        'inference.py',
        'naïve-ünïcode.txt',
        'weights.bin',
        `${LONG_DIR}/file.json`,
        VERY_LONG,
      ].sort(),
    );
    expect(await readFile(join(target, VERY_LONG), 'utf8')).toBe('long name');
    expect(await readFile(join(target, 'weights.bin'))).toEqual(await readFile(join(model, 'weights.bin')));
    await expect(readFile(join(target, 'empty'))).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('model.tar.gz reader', () => {
  it('extracts what Python writes in GNU and PAX formats, long names included', async () => {
    const model = await modelFolder();
    for (const format of ['GNU_FORMAT', 'PAX_FORMAT', 'USTAR_FORMAT']) {
      const archive = join(dir, `${format}.tar.gz`);
      const script = [
        'import sys, tarfile',
        `fmt = tarfile.${format}`,
        'with tarfile.open(sys.argv[1], "w:gz", format=fmt) as t:',
        '    for name in ["inference.py", "code/helper.py", "weights.bin"]:',
        '        t.add(sys.argv[2] + "/" + name, arcname="./" + name)',
        '    if fmt != tarfile.USTAR_FORMAT:',
        '        t.add(sys.argv[2] + "/" + sys.argv[3], arcname=sys.argv[3])',
      ].join('\n');
      execFileSync(python, ['-c', script, archive, model, VERY_LONG]);
      const target = join(dir, `out-${format}`);
      const written = await extractTarGz(await readFile(archive), target);
      expect(written).toEqual(expect.arrayContaining(['inference.py', 'code/helper.py', 'weights.bin']));
      expect(await readFile(join(target, 'weights.bin'))).toEqual(await readFile(join(model, 'weights.bin')));
      if (format !== 'USTAR_FORMAT')
        expect(await readFile(join(target, VERY_LONG), 'utf8')).toBe('long name');
    }
  });

  it('refuses entries that would land outside the folder, before writing anything', async () => {
    const archive = join(dir, 'evil.tar.gz');
    const script = [
      'import io, sys, tarfile',
      'with tarfile.open(sys.argv[1], "w:gz") as t:',
      '    for name in ["ok.txt", "../escaped.txt"]:',
      '        info = tarfile.TarInfo(name); info.size = 2',
      '        t.addfile(info, io.BytesIO(b"hi"))',
    ].join('\n');
    execFileSync(python, ['-c', script, archive]);
    const target = join(dir, 'inside', 'model');
    const extraction = extractTarGz(await readFile(archive), target);
    await expect(extraction).rejects.toThrow(TarError);
    await expect(extraction).rejects.toThrow('"../escaped.txt" points outside the folder');
    await expect(readFile(join(target, 'ok.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readFile(join(dir, 'inside', 'escaped.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a damaged header or a truncated archive instead of extracting garbage', async () => {
    const tar = tarArchive([
      { path: 'a.txt', type: 'file', mode: 0o644, mtime: 0, data: Buffer.alloc(1000, 0x61) },
    ]);
    const damaged = Buffer.from(tar);
    damaged[10] = 0x41; // inside the name field: the checksum no longer matches
    expect(() => readTar(damaged)).toThrow('checksum mismatch');
    expect(() => readTar(tar.subarray(0, 1024))).toThrow('truncated tar archive');
    await expect(extractTarGz(Buffer.from([0x1f, 0x8b, 1, 2, 3]), join(dir, 'x'))).rejects.toThrow(
      'not valid gzip',
    );
  });

  it('writes ustar headers with the fields other tools check', async () => {
    const model = await modelFolder();
    const tar = gunzipSync(await tarGzDirectory(model));
    const first = tar.subarray(0, 512);
    expect(first.subarray(257, 263).toString('latin1')).toBe('ustar\0');
    expect(first.subarray(263, 265).toString('latin1')).toBe('00');
    expect(tar.length % 512).toBe(0);
    expect(tar.subarray(-1024).every((b) => b === 0)).toBe(true);
  });
});
