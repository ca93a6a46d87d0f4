/**
 * Prints the cdk-nag acknowledgement table of docs/deploy.md; with --write, updates the file.
 *   npx tsx infra/bin/acknowledgements.ts [--write]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acknowledgementTable, replaceAcknowledgementSection } from '../lib/ack-report';
import { PROJECT_ROOT } from '../lib/nbops';

const table = acknowledgementTable();
if (process.argv.includes('--write')) {
  const file = join(PROJECT_ROOT, 'docs', 'deploy.md');
  writeFileSync(file, replaceAcknowledgementSection(readFileSync(file, 'utf8'), table));
  console.log(`updated ${file}`);
} else {
  console.log(table);
}
