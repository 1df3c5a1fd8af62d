// Who has a conversation open right now, counted per user across their tabs and devices. A user
// is "online" in a conversation while at least one of their sockets has it open, on this relay
// node or on another: nodes share what their own sockets have open (deltas as they happen, the
// whole set as a heartbeat), and a node that stops sending heartbeats is forgotten.

/** One user in one conversation of one tenant, as nodes name it to each other. */
export type PresenceMember = string;

export interface PresenceChange {
  tenantId: string;
  conversationId: string;
  userId: string;
  online: boolean;
}

const SEPARATOR = '\u0000';
export const memberOf = (
  tenantId: string,
  conversationId: string,
  userId: string,
): PresenceMember => [tenantId, conversationId, userId].join(SEPARATOR);

function changeOf(member: PresenceMember, online: boolean): PresenceChange {
  const [tenantId = '', conversationId = '', userId = ''] = member.split(SEPARATOR);
  return { tenantId, conversationId, userId, online };
}

export class PresenceTracker {
  /** Open views of this node's sockets, per member. */
  private readonly local = new Map<PresenceMember, number>();
  /** What each other node last said its sockets have open, and when it last said anything. */
  private readonly remote = new Map<string, { members: Set<PresenceMember>; seenAt: number }>();

  /** Whether anyone but `exceptNode` (this node included) has the member open. */
  private onlineElsewhere(member: PresenceMember, exceptNode?: string): boolean {
    if (this.local.has(member)) return true;
    for (const [node, state] of this.remote)
      if (node !== exceptNode && state.members.has(member)) return true;
    return false;
  }

  private onlineAnywhere(member: PresenceMember): boolean {
    return this.onlineElsewhere(member);
  }

  /**
   * Counts one more open view. `shared`: this node's set changed (tell the other nodes);
   * `change`: the user just came online in the conversation (tell the followers).
   */
  enter(
    tenantId: string,
    conversationId: string,
    userId: string,
  ): { shared: boolean; change: PresenceChange | undefined } {
    const member = memberOf(tenantId, conversationId, userId);
    const wasOnline = this.onlineAnywhere(member);
    const count = (this.local.get(member) ?? 0) + 1;
    this.local.set(member, count);
    return {
      shared: count === 1,
      change: wasOnline ? undefined : changeOf(member, true),
    };
  }

  /** Counts one view fewer; the counterpart of `enter`. */
  leave(
    tenantId: string,
    conversationId: string,
    userId: string,
  ): { shared: boolean; change: PresenceChange | undefined } {
    const member = memberOf(tenantId, conversationId, userId);
    const count = this.local.get(member);
    if (count === undefined) return { shared: false, change: undefined };
    if (count > 1) {
      this.local.set(member, count - 1);
      return { shared: false, change: undefined };
    }
    this.local.delete(member);
    return {
      shared: true,
      change: this.onlineAnywhere(member) ? undefined : changeOf(member, false),
    };
  }

  isOnline(tenantId: string, conversationId: string, userId: string): boolean {
    return this.onlineAnywhere(memberOf(tenantId, conversationId, userId));
  }

  /** This node's members, for the heartbeat. */
  localMembers(): PresenceMember[] {
    return [...this.local.keys()];
  }

  /** Whether `node` has been heard from (and not forgotten since). */
  knowsNode(node: string): boolean {
    return this.remote.has(node);
  }

  /** Another node's whole set (its heartbeat); the changes it makes to who is online. */
  replaceRemote(node: string, members: readonly PresenceMember[], now: number): PresenceChange[] {
    const state = this.nodeState(node, now);
    const next = new Set(members);
    const changes: PresenceChange[] = [];
    for (const member of state.members)
      if (!next.has(member) && !this.onlineElsewhere(member, node))
        changes.push(changeOf(member, false));
    for (const member of next)
      if (!state.members.has(member) && !this.onlineElsewhere(member, node))
        changes.push(changeOf(member, true));
    state.members = next;
    return changes;
  }

  /** One member of another node came or went. */
  applyRemote(
    node: string,
    member: PresenceMember,
    online: boolean,
    now: number,
  ): PresenceChange[] {
    const state = this.nodeState(node, now);
    if (state.members.has(member) === online) return [];
    if (online) state.members.add(member);
    else state.members.delete(member);
    return this.onlineElsewhere(member, node) ? [] : [changeOf(member, online)];
  }

  /** Forgets nodes silent since before `olderThan` (stopped or cut off): their users go offline. */
  expireRemote(olderThan: number): PresenceChange[] {
    const changes: PresenceChange[] = [];
    for (const [node, state] of this.remote) {
      if (state.seenAt >= olderThan) continue;
      this.remote.delete(node);
      for (const member of state.members)
        if (!this.onlineAnywhere(member)) changes.push(changeOf(member, false));
    }
    return changes;
  }

  /** A node's state, marked as heard from at `now`. */
  private nodeState(node: string, now: number): { members: Set<PresenceMember>; seenAt: number } {
    const state = this.remote.get(node) ?? { members: new Set<PresenceMember>(), seenAt: now };
    state.seenAt = now;
    this.remote.set(node, state);
    return state;
  }
}
