// Paging of the host API's lists: opaque cursors, pages read from the store one row past the
// limit, and pages of lists the store returns whole.
import type { PageQuery } from '@carethread/shared';
import { RelayError } from '../core/errors.js';

export const DEFAULT_PAGE = 50;
/** Cursors are opaque to callers: base64url of the position the next page starts after. */
export function encodeCursor(position: string | number): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}
export function decodeCursor<T extends string | number>(
  cursor: string | undefined,
  kind: T,
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value === typeof kind) return value as T;
  } catch {
    // fall through to the refusal
  }
  throw new RelayError(
    'VALIDATION',
    'The cursor is not one this API gave out. Start from the first page.',
  );
}

/**
 * A page from a store read that was asked for `limit + 1` rows: the extra row only says that more
 * follow, and the cursor is the key of the page's last row.
 */
export function pageAfter<T>(
  rows: readonly T[],
  limit: number,
  keyOf: (row: T) => string | number,
) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}

/** Pages a list the store returns whole (bounded lists: versions, events, a tenant's requests). */
export function pageInMemory<T>(items: readonly T[], query: PageQuery) {
  const offset = decodeCursor(query.cursor, 0) ?? 0;
  const limit = query.limit ?? DEFAULT_PAGE;
  const page = items.slice(offset, offset + limit);
  return { items: page, next: offset + limit < items.length ? encodeCursor(offset + limit) : null };
}
