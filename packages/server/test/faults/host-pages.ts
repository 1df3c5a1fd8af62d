// Reads every page of a host API list (`{ items, next }`), as a host's back end would to verify a
// chain: the conversation audit trail or a consent request's events.
export async function allPages<T>(baseUrl: string, apiKey: string, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const response = await fetch(`${baseUrl}${path}?limit=100${query}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    if (response.status !== 200) throw new Error(`GET ${path}: ${String(response.status)}`);
    const page = (await response.json()) as { items: T[]; next: string | null };
    items.push(...page.items);
    cursor = page.next;
  } while (cursor !== null);
  return items;
}
