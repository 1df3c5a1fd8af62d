// The host API's routes, one module per domain, in the order the OpenAPI document lists them.
// Handlers are thin: the chat and consent services hold the rules, and live sockets hear of every
// change through the transport's announcements.
import { auditRoutes } from './audit-routes.js';
import { consentRoutes } from './consent-routes.js';
import { conversationRoutes } from './conversation-routes.js';
import { fileRoutes } from './file-routes.js';
import type { HostApiDeps } from './host-api-deps.js';
import type { RouteSpec } from './route.js';
import { sessionRoutes } from './session-routes.js';
import { webhookRoutes } from './webhook-routes.js';

export function hostApiRoutes(deps: HostApiDeps): RouteSpec[] {
  return [
    ...conversationRoutes(deps),
    ...fileRoutes(deps),
    ...auditRoutes(deps),
    ...consentRoutes(deps),
    ...sessionRoutes(deps),
    ...webhookRoutes(deps),
  ];
}
