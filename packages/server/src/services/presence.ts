// Who has a conversation open right now, counted per user across their tabs and devices on this
// relay node. A user is "online" in a conversation while at least one of their sockets has it open.

export class PresenceTracker {
  private readonly open = new Map<string, Map<string, number>>();

  private static key(tenantId: string, conversationId: string): string {
    return `${tenantId}\u0000${conversationId}`;
  }

  /** Counts one more open view; true when the user just came online in the conversation. */
  enter(tenantId: string, conversationId: string, userId: string): boolean {
    const key = PresenceTracker.key(tenantId, conversationId);
    const users = this.open.get(key) ?? new Map<string, number>();
    this.open.set(key, users);
    const count = (users.get(userId) ?? 0) + 1;
    users.set(userId, count);
    return count === 1;
  }

  /** Counts one view fewer; true when the user just went offline in the conversation. */
  leave(tenantId: string, conversationId: string, userId: string): boolean {
    const key = PresenceTracker.key(tenantId, conversationId);
    const users = this.open.get(key);
    const count = users?.get(userId);
    if (!users || count === undefined) return false;
    if (count > 1) {
      users.set(userId, count - 1);
      return false;
    }
    users.delete(userId);
    if (users.size === 0) this.open.delete(key);
    return true;
  }

  isOnline(tenantId: string, conversationId: string, userId: string): boolean {
    return this.open.get(PresenceTracker.key(tenantId, conversationId))?.has(userId) ?? false;
  }
}
