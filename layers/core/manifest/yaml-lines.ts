/** JSON pointer -> line mapping for YAML and JSON files (sidecar manifests, policy files). */
import { isMap, isScalar, isSeq, type LineCounter, type Node, type parseDocument } from 'yaml';
import { pointerToken } from '#core/notebook/notebook';

/** Lazily built map from JSON pointers to 1-based lines of a YAML (or JSON) document. */
export function lineIndex(doc: ReturnType<typeof parseDocument>, lineCounter: LineCounter) {
  let lines: Map<string, number> | undefined;
  const build = () => {
    const map = new Map<string, number>();
    const lineAt = (offset: number | undefined) =>
      offset === undefined ? 1 : lineCounter.linePos(offset).line;
    const walk = (node: Node | null | undefined, pointer: string, line: number, depth: number) => {
      map.set(pointer, line);
      if (!node || depth > 64) return;
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
          const keyNode = pair.key as Node | null;
          walk(
            pair.value as Node | null,
            `${pointer}/${pointerToken(key)}`,
            lineAt(keyNode?.range?.[0]),
            depth + 1,
          );
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => {
          const itemNode = item as Node | null;
          walk(itemNode, `${pointer}/${i}`, lineAt(itemNode?.range?.[0]), depth + 1);
        });
      }
    };
    const contents = doc.contents as Node | null;
    walk(contents, '', lineAt(contents?.range?.[0]), 0);
    return map;
  };
  return {
    /** Line of `pointer`, or of its nearest ancestor present in the file (a missing field's parent). */
    lineOf(pointer: string): number | undefined {
      lines ??= build();
      let at = pointer;
      for (;;) {
        const line = lines.get(at);
        if (line !== undefined) return line;
        if (at === '') return undefined;
        at = at.slice(0, at.lastIndexOf('/'));
      }
    },
  };
}

/** Deeper than any real manifest or policy; far below where the YAML parser's recursion overflows. */
export const MAX_YAML_DEPTH = 200;

/**
 * A cheap over-estimate of how deeply `text` nests (open flow brackets, block indentation and
 * `- ` markers). The yaml package recurses per level, and near a stack overflow V8 can abort the
 * whole process, so hostile input is refused before parsing.
 */
export function nestingTooDeep(text: string): boolean {
  let flow = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++flow > MAX_YAML_DEPTH) return true;
    } else if ((c === 93 || c === 125) && flow > 0) flow--;
  }
  const blockPrefix = /^[ \t]*(?:[-?:][ \t]+)*/gm;
  for (let match = blockPrefix.exec(text); match; match = blockPrefix.exec(text)) {
    if (match[0].length / 2 > MAX_YAML_DEPTH) return true;
    if (match[0].length === 0) blockPrefix.lastIndex++;
  }
  return false;
}
