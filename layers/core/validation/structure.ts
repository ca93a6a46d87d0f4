/**
 * The structure family: nbformat 4.0-4.5 rules (NB-001..NB-007, NB-012). The parser (parse.ts)
 * reports the file-level rules NB-001 (syntax) and NB-008..NB-011 before this family runs.
 */
import type { RuleFamilyModule } from './family';
import { checkNotebook } from './structure/check';
import { structureRules } from './structure/rules';

export { structureRules };

export const structureFamily: RuleFamilyModule = {
  family: 'structure',
  rules: structureRules,
  check(ctx) {
    checkNotebook(ctx.notebook, ctx.report);
  },
};
