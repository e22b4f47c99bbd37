/**
 * Deploy and config changes of service environments, recorded once per id (by the request
 * that made them or the event that reported them) and read back as "the last deploy and
 * the last config change before the incident".
 */
import type { Kysely } from 'kysely';
import type { ChangeRecord } from '../../domain/incident-model.ts';
import type { Database } from './schema.ts';

type Db = Kysely<Database>;

/** Inserts `c`; a change whose id is already recorded is left as it was. */
export async function recordChange(db: Db, c: ChangeRecord): Promise<void> {
  await db
    .insertInto('changes')
    .values({
      id: c.id,
      service: c.service,
      environment: c.environment,
      kind: c.kind,
      at: c.at,
      doc: JSON.stringify(c),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/** The newest change of `kind` at or before `at` (ties: the larger id). */
async function lastChange(
  db: Db,
  service: string,
  environment: string,
  kind: ChangeRecord['kind'],
  at: number,
): Promise<ChangeRecord | undefined> {
  const row = await db
    .selectFrom('changes')
    .select('doc')
    .where('service', '=', service)
    .where('environment', '=', environment)
    .where('kind', '=', kind)
    .where('at', '<=', at)
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? (JSON.parse(row.doc) as ChangeRecord) : undefined;
}

/** The newest deploy and the newest config change of a service environment at or before `at`. */
export async function lastChanges(
  db: Db,
  service: string,
  environment: string,
  at: number,
): Promise<{ deploy?: ChangeRecord; config?: ChangeRecord }> {
  const deploy = await lastChange(db, service, environment, 'deploy', at);
  const config = await lastChange(db, service, environment, 'config', at);
  const out: { deploy?: ChangeRecord; config?: ChangeRecord } = {};
  if (deploy) out.deploy = deploy;
  if (config) out.config = config;
  return out;
}
