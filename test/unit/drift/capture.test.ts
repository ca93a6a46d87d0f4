import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAccumulators, type NumericAccumulator } from '#core/drift/accumulate';
import { baselineFromRows } from '#core/drift/baseline';
import {
  CaptureDecoder,
  captureHourPrefixes,
  fastCaptureFields,
  readCapture,
  readCaptureStream,
} from '#core/drift/capture';
import { evaluateDrift } from '#core/drift/evaluate';
import type { FeatureSpec } from '#core/drift/values';
import { captureKeyPrefix } from '#core/layout';
import { captureLine, MemoryStore } from './memory-store';

const FEATURES: FeatureSpec[] = [
  { name: 'age', type: 'numeric' },
  { name: 'plan', type: 'categorical' },
];
const BASELINE = baselineFromRows(
  Array.from({ length: 200 }, (_, i) => [20 + (i % 50), i % 3 === 0 ? 'basic' : 'pro']),
  FEATURES,
);
const PREFIX = captureKeyPrefix('churn-prod', 'AllTraffic');

function decoderFor(options: { contentType?: string; from?: Date; to?: Date } = {}) {
  const accumulators = createAccumulators(BASELINE, FEATURES);
  return new CaptureDecoder(accumulators, { features: FEATURES, ...options });
}

async function* chunks(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const ageValues = (decoder: CaptureDecoder) =>
  Array.from((decoder.accumulators.accumulators[0] as NumericAccumulator).exactValues()!);
const planCounts = (decoder: CaptureDecoder) =>
  Object.fromEntries((decoder.accumulators.accumulators[1] as { counts: Map<string, number> }).counts);

describe('capture hour prefixes', () => {
  it('lists the UTC hour folders overlapping [from, to), to exclusive', () => {
    expect(
      captureHourPrefixes(PREFIX, new Date('2025-01-01T22:30:00Z'), new Date('2025-01-02T01:00:00Z')),
    ).toEqual([`${PREFIX}2025/01/01/22/`, `${PREFIX}2025/01/01/23/`, `${PREFIX}2025/01/02/00/`]);
    expect(
      captureHourPrefixes('capture/e/v', new Date('2025-03-09T05:00:00Z'), new Date('2025-03-09T05:00:01Z')),
    ).toEqual(['capture/e/v/2025/03/09/05/']);
  });
});

describe('readCapture', () => {
  it('reads only the window: hour folders listed, records filtered by inferenceTime', async () => {
    const store = new MemoryStore(64);
    store.putText(
      `${PREFIX}2025/01/01/10/05-00-000-a.jsonl`,
      [captureLine('30,basic', '2025-01-01T10:15:00Z'), captureLine('31,pro', '2025-01-01T10:45:00Z')].join(
        '\n',
      ),
    );
    store.putText(
      `${PREFIX}2025/01/01/11/00-00-000-b.jsonl`,
      `${captureLine('32,pro', '2025-01-01T11:59:59Z')}\n`,
    );
    store.putText(
      `${PREFIX}2025/01/01/12/00-00-000-c.jsonl`,
      `${captureLine('99,pro', '2025-01-01T12:00:00Z')}\n`,
    );
    store.putText(`${PREFIX}2025/01/01/11/readme.txt`, 'not capture');
    const { accumulators, stats } = await readCapture(store, {
      bucket: 'artifacts',
      prefix: PREFIX,
      from: new Date('2025-01-01T10:30:00Z'),
      to: new Date('2025-01-01T12:00:00Z'),
      features: FEATURES,
      baseline: BASELINE,
    });
    expect(store.listCalls).toEqual([`${PREFIX}2025/01/01/10/`, `${PREFIX}2025/01/01/11/`]);
    expect(stats).toMatchObject({
      files: 2,
      ignoredKeys: 1,
      records: 2,
      rows: 2,
      outsideWindow: 1,
      skipped: {},
    });
    expect(Array.from((accumulators.accumulators[0] as NumericAccumulator).exactValues()!)).toEqual([31, 32]);
  });

  it('counts and skips malformed lines with reasons, and keeps going', async () => {
    const store = new MemoryStore(5);
    const lines = [
      captureLine('40,basic', '2025-01-01T10:00:01Z'),
      '{"captureData": {"endpointInput": ', // truncated
      JSON.stringify({ captureData: { endpointInput: { data: '41,pro', encoding: 'CSV' } } }),
      captureLine('42,pro,extra', '2025-01-01T10:00:02Z'),
      captureLine('43,pro', 'yesterday'),
      captureLine('44,pro', '2025-01-01T10:00:03Z', { encoding: 'GZIP' }),
      captureLine(Buffer.from('45,pro').toString('base64'), '2025-01-01T10:00:04Z', {
        encoding: 'BASE64',
        contentType: 'application/octet-stream',
      }),
      '',
      captureLine('46,pro', '2025-01-01T10:00:05Z'),
    ];
    store.putText(`${PREFIX}2025/01/01/10/a.jsonl`, lines.join('\r\n'));
    store.putText(`${PREFIX}2025/01/01/10/b.jsonl`, captureLine('47,basic', '2025-01-01T10:59:00Z'));
    store.vanishing.add(`${PREFIX}2025/01/01/10/b.jsonl`);
    const { stats, accumulators } = await readCapture(store, {
      bucket: 'artifacts',
      prefix: PREFIX,
      from: new Date('2025-01-01T10:00:00Z'),
      to: new Date('2025-01-01T11:00:00Z'),
      features: FEATURES,
      baseline: BASELINE,
    });
    expect(stats.rows).toBe(2);
    expect(stats.skipped).toEqual({
      'line is not valid JSON': 1,
      'no eventMetadata.inferenceTime': 1,
      'CSV row has 3 columns, the feature list 2 (list every payload column in serving.features)': 1,
      'eventMetadata.inferenceTime is not an ISO-8601 time': 1,
      'unsupported encoding "GZIP"': 1,
      'BASE64 payload of content type "application/octet-stream" is neither CSV nor JSON (set serving.contentType)': 1,
      'capture file disappeared before it was read': 1,
    });
    expect(stats.examples[0]).toEqual({
      file: `${PREFIX}2025/01/01/10/a.jsonl`,
      line: 2,
      reason: 'line is not valid JSON',
    });
    expect(Array.from((accumulators.accumulators[0] as NumericAccumulator).exactValues()!)).toEqual([40, 46]);
  });

  it('needs a baseline or accumulators', async () => {
    await expect(
      readCapture(new MemoryStore(), {
        bucket: 'b',
        prefix: PREFIX,
        from: new Date(0),
        to: new Date(1),
        features: FEATURES,
      }),
    ).rejects.toThrow(/baseline or accumulators/);
  });

  it('feeds evaluateDrift: a drifted window is reported as drifted', async () => {
    const store = new MemoryStore(1000);
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      const t = new Date(Date.UTC(2025, 0, 1, 10, 0, i)).toISOString().replace('.000Z', 'Z');
      lines.push(captureLine(`${60 + (i % 30)},${i % 3 === 0 ? 'basic' : 'pro'}`, t));
    }
    store.putText(`${PREFIX}2025/01/01/10/x.jsonl`, lines.join('\n'));
    const { accumulators } = await readCapture(store, {
      bucket: 'b',
      prefix: PREFIX,
      from: new Date('2025-01-01T10:00:00Z'),
      to: new Date('2025-01-01T11:00:00Z'),
      features: FEATURES,
      baseline: BASELINE,
    });
    const report = evaluateDrift({ baseline: BASELINE, current: accumulators });
    expect(report.records).toBe(300);
    expect(report.features.map((f) => [f.name, f.method, f.drifted])).toEqual([
      ['age', 'ks', true],
      ['plan', 'z', false],
    ]);
  });
});

/**
 * A store that logs when each GET is sent and when its body is first read, and whose bodies can be
 * destroyed (as the SDK's Node streams can), to see the prefetch pipeline at work.
 */
class LoggingStore extends MemoryStore {
  readonly log: string[] = [];
  readonly destroyed: string[] = [];
  failing = new Map<string, string>();

  override async getStream(ref: { bucket: string; key: string }): Promise<AsyncIterable<Uint8Array>> {
    const name = ref.key.slice(ref.key.lastIndexOf('/') + 1, -'.jsonl'.length);
    this.log.push(`get ${name}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
    const failure = this.failing.get(name);
    if (failure) throw Object.assign(new Error(`${failure} on ${name}`), { name: failure });
    const inner = await super.getStream(ref);
    const log = this.log;
    const destroyed = this.destroyed;
    return {
      async *[Symbol.asyncIterator]() {
        log.push(`read ${name}`);
        yield* inner;
      },
      destroy: () => destroyed.push(name),
    } as AsyncIterable<Uint8Array>;
  }
}

describe('readCapture prefetch', () => {
  const files = ['a', 'b', 'c', 'd', 'e', 'f'];
  const store = () => {
    const s = new LoggingStore(16);
    for (const [i, name] of files.entries())
      s.putText(
        `${PREFIX}2025/01/01/10/${name}.jsonl`,
        captureLine(`${30 + i},pro`, `2025-01-01T10:0${i}:00Z`),
      );
    return s;
  };
  const read = (s: MemoryStore, prefetch?: number) =>
    readCapture(s, {
      bucket: 'b',
      prefix: PREFIX,
      from: new Date('2025-01-01T10:00:00Z'),
      to: new Date('2025-01-01T11:00:00Z'),
      features: FEATURES,
      baseline: BASELINE,
      ...(prefetch !== undefined ? { prefetch } : {}),
    });

  it('keeps the next GETs in flight while a file is read, and reads files in order', async () => {
    const ahead = store();
    const { accumulators } = await read(ahead, 3);
    expect(ahead.log).toEqual([
      'get a',
      'get b',
      'get c',
      'get d',
      'read a',
      'get e',
      'read b',
      'get f',
      'read c',
      'read d',
      'read e',
      'read f',
    ]);
    const one = store();
    const sequential = await read(one, 0);
    expect(one.log).toEqual(files.flatMap((f) => [`get ${f}`, `read ${f}`]));
    // The same values in the same order either way.
    const values = (w: typeof accumulators) =>
      Array.from((w.accumulators[0] as NumericAccumulator).exactValues()!);
    expect(values(accumulators)).toEqual([30, 31, 32, 33, 34, 35]);
    expect(values(sequential.accumulators)).toEqual(values(accumulators));
  });

  it('skips a file that vanished, fails on any other error, and closes the GETs opened ahead', async () => {
    const vanished = store();
    vanished.vanishing.add(`${PREFIX}2025/01/01/10/b.jsonl`);
    expect((await read(vanished)).stats).toMatchObject({
      files: 5,
      skipped: { 'capture file disappeared before it was read': 1 },
    });

    const denied = store();
    denied.failing.set('b', 'AccessDenied');
    await expect(read(denied, 3)).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'AccessDenied on b',
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // a was read; c and d were opened ahead and are closed unread; e and f were never asked for.
    expect(denied.log).toEqual(['get a', 'get b', 'get c', 'get d', 'read a']);
    expect(denied.destroyed.sort()).toEqual(['c', 'd']);
  });
});

describe('payload decoding', () => {
  const at = '2025-01-01T10:00:00Z';

  async function decode(lines: string[], options: { contentType?: string } = {}) {
    const decoder = decoderFor(options);
    await readCaptureStream(chunks(lines.join('\n'), 3), 'f.jsonl', decoder);
    return decoder;
  }

  it('CSV: several rows per request, quoted fields, CRLF', async () => {
    const d = await decode([captureLine('1,basic\r\n2,"pro"\n"3","a ""quoted"", plan"\n', at)]);
    expect(ageValues(d)).toEqual([1, 2, 3]);
    expect(planCounts(d)).toEqual({ basic: 1, pro: 1, 'a "quoted", plan': 1 });
  });

  it('JSON: object by name, array by position, list of rows, instances, features', async () => {
    const json = (v: unknown) =>
      captureLine(JSON.stringify(v), at, { encoding: 'JSON', contentType: 'application/json' });
    const d = await decode([
      json({ plan: 'pro', age: 10, ignored: true }),
      json([11, 'basic']),
      json([
        [12, 'pro'],
        [13, 'pro'],
      ]),
      json({ instances: [{ age: 14, plan: 'basic' }, { features: [15, 'pro'] }] }),
      json({ features: [16, 'basic'] }),
      json([17]),
      json('just text'),
    ]);
    expect(ageValues(d)).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(d.stats.skipped).toEqual({
      'JSON row has 1 values, the feature list 2 (list every payload value in serving.features)': 1,
      'JSON payload is neither an object nor an array': 1,
    });
  });

  it('BASE64: decoded by observedContentType, or by serving.contentType when that is unknown', async () => {
    const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    const d = await decode(
      [
        captureLine(b64('20,prö'), at, { encoding: 'BASE64', contentType: 'text/csv; charset=utf-8' }),
        captureLine(b64('{"age": 21, "plan": "pro"}'), at, {
          encoding: 'BASE64',
          contentType: 'application/json',
        }),
        captureLine(b64('{"age":22,"plan":"pro"}\n{"age":23,"plan":"basic"}'), at, {
          encoding: 'BASE64',
          contentType: 'application/jsonlines',
        }),
        captureLine(b64('24,basic'), at, { encoding: 'BASE64', contentType: 'application/x-custom' }),
      ],
      { contentType: 'text/csv' },
    );
    expect(ageValues(d)).toEqual([20, 21, 22, 23, 24]);
    expect(planCounts(d)).toEqual({ prö: 1, pro: 2, basic: 2 });
  });

  it('missing, non-finite and non-numeric values are counted, not used', async () => {
    const d = await decode([captureLine('NaN,pro\n,pro\ninf,\nabc,pro\n 25 ,basic\n1e400,pro', at)]);
    const age = d.accumulators.accumulators[0] as NumericAccumulator;
    expect(ageValues(d)).toEqual([25]);
    expect({ missing: age.missing, invalid: age.invalid }).toEqual({ missing: 4, invalid: 1 });
    expect(d.accumulators.accumulators[1]!.missing).toBe(1);
  });

  it('a line longer than the limit is skipped whole; the next line is read', async () => {
    const decoder = decoderFor();
    const text = [
      captureLine('1,pro', at),
      captureLine(`2,${'x'.repeat(500)}`, at),
      captureLine('3,pro', at),
    ].join('\n');
    await readCaptureStream(chunks(text, 7), 'f.jsonl', decoder, 400);
    expect(ageValues(decoder)).toEqual([1, 3]);
    expect(decoder.stats.skipped).toEqual({ 'line longer than 400 characters': 1 });
    expect(decoder.stats.lines).toBe(3);
  });

  it('splits lines and UTF-8 characters across any chunk boundary identically', async () => {
    const text = [
      captureLine('1,日本', at),
      captureLine('2,"é,""x"""', at),
      captureLine('3,😀', at, { inferenceId: 'id-1' }),
    ].join('\n');
    const reference = decoderFor();
    await readCaptureStream(chunks(text, 1 << 20), 'f', reference);
    for (const size of [1, 2, 3, 5, 13, 64]) {
      const decoder = decoderFor();
      await readCaptureStream(chunks(text, size), 'f', decoder);
      expect(planCounts(decoder)).toEqual(planCounts(reference));
      expect(ageValues(decoder)).toEqual([1, 2, 3]);
    }
    expect(planCounts(reference)).toEqual({ 日本: 1, 'é,"x"': 1, '😀': 1 });
  });

  it('the fast reader of canonical lines agrees with JSON.parse on any payload and layout', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.constantFrom('CSV', 'JSON', 'BASE64'),
        fc.constantFrom('2025-01-01T10:00:00Z', '2025-01-01T10:00:00.123Z'),
        fc.boolean(),
        (data, encoding, time, withId) => {
          const line = captureLine(data, time, { encoding, ...(withId ? { inferenceId: 'a"b\\c' } : {}) });
          expect(fastCaptureFields(line)).toEqual({ data, encoding, contentType: 'text/csv', time });
          // Any other layout is left to JSON.parse (undefined), never misread.
          const pretty = JSON.stringify(JSON.parse(line), null, 1);
          expect(fastCaptureFields(pretty)).toBeUndefined();
          expect(fastCaptureFields(line.slice(0, -1))).toBeUndefined();
          expect(fastCaptureFields(`${line} `)).toBeUndefined();
        },
      ),
    );
  });

  it('pretty-printed or reordered records are read through JSON.parse', async () => {
    const record = JSON.parse(captureLine('50,pro', at));
    const reordered = {
      eventVersion: '0',
      eventMetadata: record.eventMetadata,
      captureData: {
        endpointOutput: record.captureData.endpointOutput,
        endpointInput: record.captureData.endpointInput,
      },
    };
    const d = await decode([JSON.stringify(record, null, 2).replace(/\n/g, ' '), JSON.stringify(reordered)]);
    expect(ageValues(d)).toEqual([50, 50]);
  });
});

describe('bounded memory', () => {
  it('past exactLimit only the fixed-size summaries remain, whatever the window size', () => {
    const accumulators = createAccumulators(BASELINE, FEATURES, { exactLimit: 1000 });
    const age = accumulators.accumulators[0] as NumericAccumulator;
    const sizes = () => [age.at.length, age.between.length, age.offsetSum.length, age.binCounts.length];
    const before = sizes();
    for (let i = 0; i < 50_000; i++) accumulators.addRow([String(i % 97), i % 2 ? 'pro' : 'basic']);
    expect(age.exactValues()).toBeUndefined();
    expect(sizes()).toEqual(before);
    expect(age.count).toBe(50_000);
    expect((accumulators.accumulators[1] as { counts: Map<string, number> }).counts.size).toBe(2);
  });
});
