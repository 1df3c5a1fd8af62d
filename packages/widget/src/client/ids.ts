// Message ids: random, URL-safe, made on the client so a resent message keeps its identity.

export function newMessageId(): string {
  // randomUUID exists only in secure contexts; getRandomValues exists everywhere we run.
  if (typeof globalThis.crypto.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
