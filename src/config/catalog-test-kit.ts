/**
 * Test helpers for catalog loading: copies of the demo catalog with edits, in temporary
 * folders removed after the test file, and assertions on where an error is reported.
 * Imported only by tests.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after } from 'node:test';
import { type CatalogError, formatCatalogErrors, loadCatalog } from './load-catalog.ts';

export const DEMO = resolve(import.meta.dirname, '../../examples/demo');
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const folders: string[] = [];
after(() => Promise.all(folders.map((f) => rm(f, { recursive: true, force: true }))));

export async function tempFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'countersign-catalog-'));
  folders.push(dir);
  return dir;
}

export type Edit = (text: string) => string;

/** A copy of the demo with some files edited (each edit must change its file) or added. */
export async function demoWith(edits: Record<string, Edit | string>): Promise<string> {
  const dir = await tempFolder();
  await cp(DEMO, dir, { recursive: true });
  for (const [file, edit] of Object.entries(edits)) {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true });
    if (typeof edit === 'string') {
      await writeFile(path, edit);
      continue;
    }
    const before = await readFile(path, 'utf8');
    const text = edit(before);
    assert.notEqual(text, before, `the edit of ${file} changed nothing`);
    await writeFile(path, text);
  }
  return dir;
}

/** Replaces exactly one occurrence, so a test cannot silently edit the wrong place. */
export const replace =
  (from: string, to: string): Edit =>
  (text) => {
    assert.equal(text.split(from).length, 2, `"${from}" must occur exactly once`);
    return text.replace(from, to);
  };

/** The 1-based line of the `nth` line containing `needle` in a file of `dir`. */
export async function lineOf(dir: string, file: string, needle: string, nth = 1): Promise<number> {
  const lines = (await readFile(join(dir, file), 'utf8')).split('\n');
  const found = lines.flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  assert.ok(found.length >= nth, `"${needle}" is not ${nth} times in ${file}`);
  return found[nth - 1]!;
}

/**
 * Loads `dir` and checks it fails with exactly one error, in `file` at the line of the
 * `nth` line containing `needle`.
 */
export async function expectOnly(
  dir: string,
  file: string,
  needle: string,
  message: RegExp,
  nth = 1,
): Promise<CatalogError> {
  const { catalog, errors } = await loadCatalog(dir);
  assert.equal(catalog, undefined);
  assert.equal(errors.length, 1, `expected one error, got:\n${formatCatalogErrors(errors)}`);
  const [error] = errors as [CatalogError];
  assert.equal(error.file, file);
  assert.equal(error.line, await lineOf(dir, file, needle, nth), formatCatalogErrors(errors));
  assert.match(error.message, message);
  return error;
}
