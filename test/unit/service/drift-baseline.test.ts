// Reading nbops-baseline.json out of model.tar.gz while it streams: the archive in any chunking,
// the formats tar writes (ustar prefix, PAX and GNU long names), and damaged archives.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { findTarEntry, type TarEntry, TarError, tarArchive } from '#core/archive/tar';

const file = (path: string, text: string | Uint8Array): TarEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  mtime: 1_700_000_000,
  data: typeof text === 'string' ? new TextEncoder().encode(text) : text,
});

const BASELINE = JSON.stringify({ format: 'nbops-baseline/v1', count: 3, features: [] });
const big = new Uint8Array(1_000_003).map((_, i) => (i * 7) % 256);

/** The bytes in chunks of `size`, counting how many were pulled and whether the source was closed. */
function chunked(bytes: Uint8Array, size: number) {
  const state = { pulled: 0, closed: false };
  const iterable: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      let offset = 0;
      return {
        async next() {
          if (offset >= bytes.length) return { done: true, value: undefined };
          const chunk = bytes.subarray(offset, offset + size);
          offset += size;
          state.pulled += chunk.length;
          return { done: false, value: chunk };
        },
        async return() {
          state.closed = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { iterable, state };
}

const wanted = (path: string) => path === 'nbops-baseline.json';
const decode = (e: TarEntry | undefined) => (e ? new TextDecoder().decode(e.data) : undefined);

describe('findTarEntry', () => {
  const archive = tarArchive([
    file('inference.py', 'print(1)\n'),
    file('model.bin', big),
    file('nbops-baseline.json', BASELINE),
    file('zzz.txt', 'after'),
  ]);

  it.each([1, 7, 511, 512, 4096, 65_536])(
    'finds the baseline in a gzipped archive read in %i-byte chunks',
    async (size) => {
      const { iterable } = chunked(gzipSync(archive), size);
      expect(decode(await findTarEntry(iterable, wanted, { maxBytes: 1e6 }))).toBe(BASELINE);
    },
  );

  it('reads plain tar too, stops at the entry and closes the source', async () => {
    const { iterable, state } = chunked(archive, 512);
    const entry = await findTarEntry(iterable, wanted, { maxBytes: 1e6 });
    expect(entry).toMatchObject({ path: 'nbops-baseline.json', type: 'file' });
    expect(state.pulled).toBeLessThan(archive.length);
    expect(state.closed).toBe(true);
  });

  it('finds entries behind PAX and ustar-prefix long names, and returns undefined when absent', async () => {
    const long = `${'deep/'.repeat(30)}nbops-baseline.json`;
    const pax = tarArchive([file(`${'x'.repeat(150)}/y.bin`, big.subarray(0, 1000)), file(long, BASELINE)]);
    expect(decode(await findTarEntry(chunked(pax, 333).iterable, (p) => p === long, { maxBytes: 1e6 }))).toBe(
      BASELINE,
    );
    expect(
      await findTarEntry(chunked(gzipSync(pax), 333).iterable, wanted, { maxBytes: 1e6 }),
    ).toBeUndefined();
  });

  it('reads what GNU tar writes (long names as L records, ./ prefixes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nbops-tar-'));
    try {
      const long = `${'sub'.repeat(40)}/nbops-baseline.json`;
      await mkdir(join(dir, 'model', 'sub'.repeat(40)), { recursive: true });
      await writeFile(join(dir, 'model', 'nbops-baseline.json'), BASELINE);
      await writeFile(join(dir, 'model', long), 'other');
      execFileSync('tar', ['--format=gnu', '-czf', join(dir, 'm.tar.gz'), '-C', join(dir, 'model'), '.']);
      const bytes = new Uint8Array(execFileSync('cat', [join(dir, 'm.tar.gz')]));
      expect(decode(await findTarEntry(chunked(bytes, 100).iterable, wanted, { maxBytes: 1e6 }))).toBe(
        BASELINE,
      );
      expect(
        decode(await findTarEntry(chunked(bytes, 100).iterable, (p) => p === long, { maxBytes: 1e6 })),
      ).toBe('other');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses oversized entries, truncated archives, corrupt headers and broken gzip', async () => {
    await expect(
      findTarEntry(chunked(archive, 4096).iterable, (p) => p === 'model.bin', { maxBytes: 1000 }),
    ).rejects.toThrow('model.bin is 1000003 bytes in the archive; at most 1000 are read');
    const truncated = archive.subarray(0, 600_000);
    await expect(findTarEntry(chunked(truncated, 4096).iterable, wanted, { maxBytes: 1e6 })).rejects.toThrow(
      /truncated tar archive/,
    );
    const corrupt = Uint8Array.from(archive);
    corrupt[10] = 0x41;
    await expect(findTarEntry(chunked(corrupt, 4096).iterable, wanted, { maxBytes: 1e6 })).rejects.toThrow(
      'corrupt tar header at byte 0',
    );
    const gz = gzipSync(archive);
    const broken = Uint8Array.from(gz.subarray(0, 2000));
    broken[1500] = broken[1500]! ^ 0xff;
    await expect(findTarEntry(chunked(broken, 512).iterable, wanted, { maxBytes: 1e6 })).rejects.toThrow(
      TarError,
    );
    expect(
      await findTarEntry(chunked(new Uint8Array(), 10).iterable, wanted, { maxBytes: 1 }),
    ).toBeUndefined();
  });
});
