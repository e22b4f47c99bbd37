/**
 * Loads a catalog folder: every `*.yaml` / `*.yml` file below it (recursively, sorted,
 * dot-files and dot-folders skipped), validated against `catalog-schema.ts` item by item
 * (a single section such as `incidents` as one item) and then cross-checked by
 * `check-catalog.ts`. Every problem is reported with its file
 * (relative to the folder) and the 1-based line and column of the offending YAML node;
 * a catalog is returned only when there are none.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type * as z from 'zod';
import { canonicalJson } from '../domain/audit-chain.ts';
import type { Catalog, Command } from '../domain/catalog.ts';
import { DEFAULT_INCIDENT_SETTINGS } from '../domain/runbook-model.ts';
import {
  SECTION_KEYS,
  SECTIONS,
  type SectionKey,
  SINGLE_SECTIONS,
  unknownKeyMessage,
} from './catalog-schema.ts';
import {
  checkCatalog,
  type PathIssue,
  type PathSegment,
  type Sourced,
  type SourcedCatalog,
} from './check-catalog.ts';
import { locate, parseYaml, safeText, type YamlFile } from './yaml-source.ts';

export interface CatalogError {
  /** The file, relative to the catalog folder, `/`-separated; `.` for the folder itself. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
}

/** Largest catalog file accepted, in bytes. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Most catalog files accepted in one folder. */
export const MAX_FILES = 1000;
/** Deepest folder nesting searched below the catalog folder. */
const MAX_DEPTH = 8;

/** Loads and checks the folder; `catalog` is set only when `errors` is empty. */
export async function loadCatalog(
  folder: string,
): Promise<{ catalog?: Catalog; errors: CatalogError[] }> {
  const root = resolve(folder);
  const listing = await listCatalogFiles(root);
  if (listing.errors.length > 0) return { errors: listing.errors };
  const { files, errors } = await readAndParse(root, listing.files);
  const sourced = emptySourced();
  const invalidIds = new Set<string>();
  const issues = files.flatMap((f) => validateFile(f, sourced, invalidIds));
  const toError = issueLocator(files);
  // Cross-checks need every file: one that could not be read may define what others use.
  if (errors.length === 0) {
    const checks = checkCatalog(sourced, {
      fileExists: setHas(await existingHandlerFiles(root, sourced.commands)),
      where: (item) =>
        `${item.file}:${toError({ file: item.file, path: item.path, message: '' }).line}`,
      invalidIds,
      peopleComplete: !issues.some((i) => i.path[0] === 'people' || i.path[0] === 'roles'),
    });
    issues.push(...checks.map((i) => ({ ...i, message: `${pathText(i.path)}: ${i.message}` })));
  }
  errors.push(...issues.map(toError));
  if (errors.length > 0) return { errors: sortErrors(errors) };
  return { catalog: buildCatalog(sourced, root), errors: [] };
}

/** Like `loadCatalog`, but throws an Error whose message is every error, one a line. */
export async function loadCatalogOrThrow(folder: string): Promise<Catalog> {
  const { catalog, errors } = await loadCatalog(folder);
  if (!catalog) throw new Error(formatCatalogErrors(errors));
  return catalog;
}

/** One `file:line:column: message` per line, the way compilers print them. */
export function formatCatalogErrors(errors: readonly CatalogError[]): string {
  return errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.message}`).join('\n');
}

// ── files ────────────────────────────────────────────────────────────────────────────

const folderError = (message: string): CatalogError => ({ file: '.', line: 1, column: 1, message });
const fileError = (file: string, message: string): CatalogError => ({
  file,
  line: 1,
  column: 1,
  message,
});

/** The YAML files below `root`, as sorted `/`-separated relative paths. */
async function listCatalogFiles(
  root: string,
): Promise<{ files: string[]; errors: CatalogError[] }> {
  try {
    if (!(await stat(root)).isDirectory()) {
      return { files: [], errors: [folderError(`${root} is not a folder`)] };
    }
  } catch {
    return { files: [], errors: [folderError(`catalog folder ${root} does not exist`)] };
  }
  const files: string[] = [];
  await walk(root, '', 0, files);
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (files.length === 0) {
    return { files, errors: [folderError('no *.yaml or *.yml files in the catalog folder')] };
  }
  if (files.length > MAX_FILES) {
    return { files, errors: [folderError(`more than ${MAX_FILES} catalog files`)] };
  }
  return { files, errors: [] };
}

async function walk(dir: string, rel: string, depth: number, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.') || out.length > MAX_FILES) continue;
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory() && depth < MAX_DEPTH) {
      await walk(join(dir, entry.name), path, depth + 1, out);
    } else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) {
      out.push(path);
    }
  }
}

/** Reads and parses each file; `errors` holds what could not be read or parsed. */
async function readAndParse(
  root: string,
  names: string[],
): Promise<{ files: YamlFile[]; errors: CatalogError[] }> {
  const errors: CatalogError[] = [];
  const files: YamlFile[] = [];
  for (const file of names) {
    const read = await readCatalogFile(root, file);
    if ('error' in read) {
      errors.push(read.error);
      continue;
    }
    const { yaml, problems } = parseYaml(file, read.text);
    files.push(yaml);
    errors.push(...problems.map((p) => ({ file, ...p })));
  }
  return { files, errors };
}

/** The file's text, refused when it is too large or not UTF-8. */
async function readCatalogFile(
  root: string,
  file: string,
): Promise<{ text: string } | { error: CatalogError }> {
  const path = join(root, file);
  const size = (await stat(path)).size;
  if (size > MAX_FILE_BYTES) {
    const message = `file is ${size} bytes; a catalog file may hold at most ${MAX_FILE_BYTES}`;
    return { error: fileError(file, message) };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path));
    return { text: text.replace(/^\uFEFF/, '') };
  } catch {
    return { error: fileError(file, 'file is not valid UTF-8') };
  }
}

/**
 * The handler and preview files that exist as regular files inside the folder; a link
 * that leads out of it does not count: a handler lives in the catalog it belongs to.
 */
async function existingHandlerFiles(root: string, commands: Sourced<Command>[]) {
  const realRoot = await realpath(root);
  const found = new Set<string>();
  for (const rel of new Set(commands.flatMap((c) => handlerFiles(c.value)))) {
    try {
      const real = await realpath(join(root, rel));
      if (real.startsWith(realRoot + sep) && (await stat(real)).isFile()) found.add(rel);
    } catch {
      // Missing: the cross-check reports it at the reference.
    }
  }
  return found;
}

function handlerFiles(c: Command): string[] {
  return [c.handler, c.preview].flatMap((h) => {
    if (h === undefined) return [];
    if (h.kind === 'lambda-module') return [h.module];
    return h.handlers === undefined ? [h.definition] : [h.definition, h.handlers];
  });
}

const setHas = (set: ReadonlySet<string>) => (value: string) => set.has(value);

// ── validation ───────────────────────────────────────────────────────────────────────

function emptySourced(): SourcedCatalog {
  return Object.fromEntries(SECTION_KEYS.map((k) => [k, []])) as unknown as SourcedCatalog;
}

/**
 * Validates each item of each section on its own, so one bad item does not hide the
 * others; valid items go into `into`, and the ids of invalid ones into `invalidIds`.
 */
function validateFile(f: YamlFile, into: SourcedCatalog, invalidIds: Set<string>): PathIssue[] {
  const { value, file } = f;
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) {
    const message = `a catalog file is a mapping of sections: ${SECTION_KEYS.join(', ')}`;
    return [{ file, path: [], message }];
  }
  const issues: PathIssue[] = [];
  for (const [key, items] of Object.entries(value)) {
    if (!(SECTION_KEYS as string[]).includes(key)) {
      issues.push({ file, path: [key], message: unknownKeyMessage(key), atKey: true });
    } else if (SINGLE_SECTIONS.includes(key as SectionKey)) {
      issues.push(...validateItem(file, [key], key as SectionKey, items, into, invalidIds));
    } else if (!Array.isArray(items)) {
      const message = `\`${key}\` must be a list (write \`${key}: []\` for none)`;
      issues.push({ file, path: [key], message });
    } else {
      issues.push(...validateSection(file, key as SectionKey, items, into, invalidIds));
    }
  }
  return issues;
}

function validateSection(
  file: string,
  key: SectionKey,
  items: unknown[],
  into: SourcedCatalog,
  invalidIds: Set<string>,
): PathIssue[] {
  return items.flatMap((raw, index) =>
    validateItem(file, [key, index], key, raw, into, invalidIds),
  );
}

/** Validates one item (or a single section) found at `path`. */
function validateItem(
  file: string,
  path: PathSegment[],
  key: SectionKey,
  raw: unknown,
  into: SourcedCatalog,
  invalidIds: Set<string>,
): PathIssue[] {
  const parsed = SECTIONS[key].safeParse(raw, { reportInput: true });
  if (parsed.success) {
    (into[key] as Sourced<unknown>[]).push({ value: parsed.data, file, path });
    return [];
  }
  const id = (raw as { id?: unknown } | null)?.id;
  if (typeof id === 'string') invalidIds.add(id);
  return parsed.error.issues.flatMap((i) => fromZodIssue(file, path, i));
}

/** One path issue per zod issue, or one per key for unrecognised keys. */
function fromZodIssue(file: string, base: PathSegment[], issue: z.core.$ZodIssue): PathIssue[] {
  const path = [...base, ...(issue.path as PathSegment[])];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      file,
      path: [...path, key],
      message: `${pathText(path)}: ${unknownKeyMessage(key)}`,
      atKey: true,
    }));
  }
  const last = path[path.length - 1];
  const missing =
    issue.code === 'invalid_type' &&
    issue.input === undefined &&
    issue.message.startsWith('Invalid input') &&
    typeof last === 'string';
  const message = missing ? `\`${last}\` is required` : issue.message;
  return [{ file, path, message: `${pathText(path)}: ${message}` }];
}

/** `commands[2].params[0].type` */
function pathText(path: readonly PathSegment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Turns a path issue into an error at the line and column of its YAML node. */
function issueLocator(files: YamlFile[]): (issue: PathIssue) => CatalogError {
  const byName = new Map(files.map((f) => [f.file, f]));
  return (issue) => {
    const f = byName.get(issue.file);
    const at = f ? locate(f, issue.path, issue.atKey ?? false) : { line: 1, column: 1 };
    return { file: issue.file, ...at, message: safeText(issue.message, 500) };
  };
}

function sortErrors(errors: CatalogError[]): CatalogError[] {
  return errors
    .map((e, i) => ({ e, i }))
    .sort(
      (a, b) =>
        (a.e.file < b.e.file ? -1 : a.e.file > b.e.file ? 1 : 0) ||
        a.e.line - b.e.line ||
        a.e.column - b.e.column ||
        a.i - b.i,
    )
    .map(({ e }) => e);
}

// ── the result ───────────────────────────────────────────────────────────────────────

/** The catalog with its digest: hex SHA-256 of the canonical JSON of all but `root`. */
function buildCatalog(s: SourcedCatalog, root: string): Catalog {
  const values = <K extends SectionKey>(k: K) => s[k].map((x) => x.value);
  const body: Omit<Catalog, 'digest' | 'root'> = {
    teams: values('teams'),
    people: values('people'),
    roles: values('roles'),
    services: values('services'),
    commands: values('commands'),
    policies: values('policies'),
    changeWindows: values('change_windows'),
    channelRules: values('channel_rules'),
    routes: values('routes'),
    snsTopics: values('sns_topics'),
    alertChannels: values('alert_channels'),
    maintenanceWindows: values('maintenance_windows'),
    runbooks: values('runbooks'),
    mitigations: values('mitigations'),
    incidents: s.incidents[0]?.value ?? DEFAULT_INCIDENT_SETTINGS,
  };
  const digest = createHash('sha256').update(canonicalJson(body)).digest('hex');
  return { digest, ...body, root };
}
