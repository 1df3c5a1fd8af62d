// The host API's session route: signing a session out by its token id, on every node.
import { ApiTokenRevocation, ApiTokenRevoke } from '@carethread/shared';
import type { HostApiDeps } from './host-api-deps.js';
import { route, type RouteSpec } from './route.js';

export function sessionRoutes({
  revocations,
  transport,
}: Pick<HostApiDeps, 'revocations' | 'transport'>): RouteSpec[] {
  return [
    route({
      method: 'POST',
      path: '/api/v1/sessions/revoke',
      operationId: 'revokeToken',
      summary:
        'Sign a session out: its token id (jti) is refused from now on and live sessions carrying it end',
      tag: 'Sessions',
      body: ApiTokenRevoke,
      success: {
        status: 200,
        description: 'Revoked (again, for a token id already revoked).',
        schema: ApiTokenRevocation,
      },
      errors: [],
      handler: async ({ identity, body }) => {
        const stored = await revocations.revoke(identity.tenantId, body.jti, body.expiresAt);
        return {
          jti: body.jti,
          ...stored,
          sessionsEnded: transport.endSessions(identity.tenantId, body.jti),
        };
      },
    }),
  ];
}
