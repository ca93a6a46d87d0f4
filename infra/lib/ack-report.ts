/**
 * The cdk-nag acknowledgements as a Markdown table for docs/deploy.md, collected from the
 * configurations the docs describe: the defaults and infra/config/all-features.yaml (every optional
 * part on). `npx tsx infra/bin/acknowledgements.ts --write` refreshes the docs; a test checks them.
 */
import { join } from 'node:path';
import { createApp } from './app';
import { configFromContext, loadConfigFile, type NbopsConfig } from './config';
import { acknowledgementsIn } from './nag';
import { PROJECT_ROOT } from './nbops';

export const ACK_START =
  '<!-- acknowledgements:start (generated: npx tsx infra/bin/acknowledgements.ts --write) -->';
export const ACK_END = '<!-- acknowledgements:end -->';

export function documentedConfigs(): NbopsConfig[] {
  return [configFromContext({}), loadConfigFile(join(PROJECT_ROOT, 'infra', 'config', 'all-features.yaml'))];
}

export function acknowledgementTable(configs: readonly NbopsConfig[] = documentedConfigs()): string {
  const rows = new Map<string, { id: string; reason: string; paths: Set<string> }>();
  for (const config of configs) {
    const { stack } = createApp(config, { nag: false, context: { 'aws:cdk:bundling-stacks': [] } });
    for (const ack of acknowledgementsIn(stack)) {
      const key = `${ack.id}\n${ack.reason}`;
      const path = ack.path.replace(`${stack.node.path}/`, '');
      const row = rows.get(key) ?? { id: ack.id, reason: ack.reason, paths: new Set<string>() };
      row.paths.add(path);
      rows.set(key, row);
    }
  }
  const escapePipes = (text: string) => text.replace(/\|/g, '\\|');
  const lines = ['| finding | where | reason |', '|---|---|---|'];
  for (const row of [...rows.values()].sort(
    (a, b) => a.id.localeCompare(b.id) || a.reason.localeCompare(b.reason),
  ))
    lines.push(
      `| \`${escapePipes(row.id)}\` | ${[...row.paths]
        .sort()
        .map((p) => `\`${escapePipes(p)}\``)
        .join(', ')} | ${escapePipes(row.reason)} |`,
    );
  return `${ACK_START}\n${lines.join('\n')}\n${ACK_END}`;
}

/** Replaces the generated section of `markdown` (between the markers) with `table`. */
export function replaceAcknowledgementSection(markdown: string, table: string): string {
  const start = markdown.indexOf(ACK_START);
  const end = markdown.indexOf(ACK_END);
  if (start < 0 || end < start) throw new Error(`the document has no ${ACK_START} ... ${ACK_END} section`);
  return markdown.slice(0, start) + table + markdown.slice(end + ACK_END.length);
}
