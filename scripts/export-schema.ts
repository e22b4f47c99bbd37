/**
 * Writes `schema/catalog.schema.json`: the JSON Schema every catalog YAML file validates
 * against, for editor completion (a file opts in with the comment
 * `# yaml-language-server: $schema=<path to the schema>`). It is generated from the zod
 * schema in `src/config/catalog-schema.ts`, describing the YAML as written (input side,
 * snake_case keys, defaults shown); a test keeps the committed file in step.
 *
 * Usage: node --import tsx scripts/export-schema.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as z from 'zod';
import { catalogFileSchema } from '../src/config/catalog-schema.ts';

/** Where the schema is committed. */
export const CATALOG_SCHEMA_FILE = fileURLToPath(
  new URL('../schema/catalog.schema.json', import.meta.url),
);

/** The exact text the script writes: the schema as 2-space JSON with a final newline. */
export function renderCatalogJsonSchema(): string {
  const schema = z.toJSONSchema(catalogFileSchema, { io: 'input', target: 'draft-2020-12' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  writeFileSync(CATALOG_SCHEMA_FILE, renderCatalogJsonSchema());
  console.log(`wrote ${CATALOG_SCHEMA_FILE}`);
}
