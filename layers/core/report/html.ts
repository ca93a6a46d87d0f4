/**
 * Small HTML building blocks for self-contained report pages: escaping, tables, a stylesheet.
 * Nothing is fetched: styles are inline, charts are inline SVG, there is no script.
 */

export function escapeHtml(text: unknown): string {
  return String(text ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Markup that is already safe (built by these helpers). */
export interface Html {
  readonly html: string;
}

export const raw = (html: string): Html => ({ html });

/** Text is escaped; Html values are inserted as they are. */
export function cell(value: CellValue): string {
  if (value === undefined || value === null || value === '') return '<span class="muted">-</span>';
  return typeof value === 'object' ? value.html : escapeHtml(value);
}

export type CellValue = string | number | Html | undefined | null;

export function table(
  id: string,
  headers: readonly string[],
  rows: readonly (readonly CellValue[])[],
  options: { rowClass?: (index: number, row: readonly CellValue[]) => string | undefined } = {},
): string {
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map((row, i) => {
      const cls = options.rowClass?.(i, row);
      return `<tr${cls ? ` class="${escapeHtml(cls)}"` : ''}>${row.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table id="${escapeHtml(id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A pass/fail mark people read without colour too: a symbol and a word. */
export function mark(passed: boolean): Html {
  return raw(
    passed
      ? '<span class="mark pass" title="passed">&#10003; pass</span>'
      : '<span class="mark fail" title="failed">&#10007; fail</span>',
  );
}

export function code(text: string | undefined): Html | undefined {
  return text ? raw(`<code>${escapeHtml(text)}</code>`) : undefined;
}

export const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #6b7385; --line: #d9dde6; --pass: #1a7f37; --fail: #c62828;
  --warn: #9a6700; --bg-soft: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
p { margin: 6px 0; }
.muted { color: var(--muted); }
.status { display: inline-block; padding: 2px 8px; border-radius: 10px; font-weight: 600; font-size: 13px;
  background: var(--bg-soft); border: 1px solid var(--line); }
.status.good { color: var(--pass); border-color: var(--pass); }
.status.bad { color: var(--fail); border-color: var(--fail); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 150px; background: var(--bg-soft); }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 16px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--bg-soft); font-weight: 600; }
td code, p code { font-size: 12px; word-break: break-all; }
.mark { font-weight: 700; white-space: nowrap; }
.mark.pass { color: var(--pass); }
.mark.fail { color: var(--fail); }
.sev-error { color: var(--fail); font-weight: 600; }
.sev-warning { color: var(--warn); font-weight: 600; }
.sev-info { color: var(--muted); }
.chart { overflow-x: auto; margin: 8px 0; }
.chart svg { display: block; }
.chart-grid { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.chart-grid svg { border: 1px solid var(--line); border-radius: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav a { color: inherit; margin: 0 2px; }
tr.gate-fail td, tr.drifted td { background: #fdf1f1; }
/* Times, rule ids and places read badly when broken across lines. */
#timeline-table td:first-child, #drift-table td:first-child, #drift-statistics-table td:first-child,
#incidents-table td:first-child, #findings-table td:nth-child(-n+3) { white-space: nowrap; }
.tone-good { color: var(--pass); }
.tone-bad { color: var(--fail); font-weight: 600; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
`;

/**
 * The page may run no script and fetch nothing: a second line of defence should notebook text ever
 * reach the markup unescaped. Inline styles are the only thing it allows.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
