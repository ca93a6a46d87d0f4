/**
 * CSV as SageMaker payloads and reference files use it (RFC 4180): comma-separated fields, double
 * quotes around fields that hold commas, quotes or line breaks, "" for a quote inside quotes.
 */

/** Streaming CSV: push text in pieces, take complete records (a quoted field may span lines). */
export class CsvRecordReader {
  private field = '';
  private record: string[] = [];
  private inQuotes = false;
  /** The previous character closed a quoted section (a following quote is an escaped quote). */
  private quoteClosed = false;
  private pendingCarriageReturn = false;
  private sawAnything = false;

  push(text: string, out: string[][] = []): string[][] {
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.inQuotes) {
        if (c === '"') {
          this.inQuotes = false;
          this.quoteClosed = true;
        } else this.field += c;
        continue;
      }
      if (this.pendingCarriageReturn) {
        this.pendingCarriageReturn = false;
        if (c === '\n') continue; // \r\n already ended the record
      }
      if (c === '"') {
        if (this.quoteClosed) this.field += '"'; // "" inside a quoted field
        this.inQuotes = true;
        this.quoteClosed = false;
        this.sawAnything = true;
        continue;
      }
      this.quoteClosed = false;
      if (c === ',') {
        this.record.push(this.field);
        this.field = '';
        this.sawAnything = true;
      } else if (c === '\n' || c === '\r') {
        this.endRecord(out);
        if (c === '\r') this.pendingCarriageReturn = true;
      } else {
        this.field += c;
        this.sawAnything = true;
      }
    }
    return out;
  }

  end(out: string[][] = []): string[][] {
    if (this.inQuotes) this.inQuotes = false; // unterminated quote: keep what was read
    this.endRecord(out);
    return out;
  }

  private endRecord(out: string[][]): void {
    if (this.sawAnything || this.field !== '' || this.record.length > 0) {
      this.record.push(this.field);
      out.push(this.record);
    }
    this.record = [];
    this.field = '';
    this.quoteClosed = false;
    this.sawAnything = false;
  }
}

/** Every record of a CSV text; blank lines are skipped. */
export function parseCsv(text: string): string[][] {
  if (!text.includes('"')) {
    const out: string[][] = [];
    for (const line of text.split('\n')) {
      const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (trimmed !== '') out.push(trimmed.split(','));
    }
    return out;
  }
  const reader = new CsvRecordReader();
  return reader.end(reader.push(text));
}
