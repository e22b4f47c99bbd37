/** Ids as links to their page: `REQ-…` requests, `INC-…` incidents, `RBR-…` runbook runs. */
import { Link } from './router.tsx';

/** The console path of a record id, or undefined for ids without a page. */
export function pathOf(id: string): string | undefined {
  if (/^REQ-[0-9A-Za-z]+$/.test(id)) return `/requests/${id}`;
  if (/^INC-[0-9A-Za-z]+$/.test(id)) return `/incidents/${id}`;
  if (/^RBR-[0-9A-Za-z]+$/.test(id)) return `/runs/${id}`;
  return undefined;
}

/** The id as a link when it has a page, as code otherwise. */
export function RecordLink({ id }: { id: string }) {
  const to = pathOf(id);
  return to ? (
    <Link to={to}>
      <code>{id}</code>
    </Link>
  ) : (
    <code>{id}</code>
  );
}
