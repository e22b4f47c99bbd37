/**
 * YAML with positions: parses one catalog file keeping a line counter, and maps a path
 * of keys and indexes (a zod issue path, a cross-check path) to the 1-based line and
 * column of that node — or of its nearest existing parent when the node is missing.
 */
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';

/** Aliases expanded at most this many times per document: refuses "billion laughs". */
export const MAX_ALIAS_COUNT = 100;

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface YamlFile {
  /** Relative to the catalog folder, `/`-separated. */
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The file as plain data; `undefined` when it could not be read as YAML. */
  value: unknown;
}

export interface YamlProblem extends Position {
  message: string;
}

/** Parses the text; syntax errors and warnings become problems and leave `value` unset. */
export function parseYaml(file: string, text: string): { yaml: YamlFile; problems: YamlProblem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, version: '1.2' });
  const problems = [...doc.errors, ...doc.warnings].map((e) => ({
    ...position(lines, e.pos[0]),
    message: `YAML: ${safeText(e.message)}`,
  }));
  const yaml: YamlFile = { file, doc, lines, value: undefined };
  if (problems.length > 0) return { yaml, problems };
  try {
    yaml.value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const message = `YAML: aliases expand too far (${safeText(String((err as Error).message))})`;
    problems.push({ ...firstAlias(doc, lines), message });
  }
  return { yaml, problems };
}

/**
 * The position of the node at `path`. With `atKey`, the last segment's key rather than
 * its value (for an unknown key). A missing node yields its nearest existing parent.
 */
export function locate(f: YamlFile, path: readonly (string | number)[], atKey: boolean): Position {
  let node: unknown = f.doc.contents;
  let offset = rangeStart(node) ?? 0;
  for (const [i, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(f.doc);
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (pair === undefined) break;
      const last = i === path.length - 1;
      next = (atKey && last) || rangeStart(pair.value) === undefined ? pair.key : pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    const start = rangeStart(next);
    if (start === undefined) break;
    [node, offset] = [next, start];
  }
  return position(f.lines, offset);
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}

function position(lines: LineCounter, offset: number): Position {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function firstAlias(doc: Document, lines: LineCounter): Position {
  let found: number | undefined;
  const visit = (node: unknown): void => {
    if (found !== undefined) return;
    if (isAlias(node)) found = rangeStart(node);
    else if (isMap(node)) for (const p of node.items) [p.key, p.value].forEach(visit);
    else if (isSeq(node)) node.items.forEach(visit);
  };
  visit(doc.contents);
  return position(lines, found ?? 0);
}

/** Escapes control characters and bounds the length, so a message is one safe line. */
export function safeText(s: string, max = 300): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c === '\n' ? ' ' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
