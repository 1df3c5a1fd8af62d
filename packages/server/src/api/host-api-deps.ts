// What the host API's routes are given: the store, the services and the transport's announcements.
import type { ConsentService } from '../consent/requests.js';
import type { TemplateService } from '../consent/templates.js';
import type { TenantConfig } from '../core/settings.js';
import type { ChatService } from '../services/chat.js';
import type { FileService } from '../services/files.js';
import type { RevocationService } from '../services/revocations.js';
import type { Store } from '../store/types.js';
import type { SocketTransport } from '../transport/socket.js';
import type { WebhookDispatcher } from '../webhooks/dispatcher.js';

export interface HostApiDeps {
  store: Store;
  tenants: readonly TenantConfig[];
  webhooks: Pick<WebhookDispatcher, 'deliverNow'>;
  chat: ChatService;
  files: Pick<FileService, 'openForHost'>;
  consents: ConsentService;
  templates: TemplateService;
  revocations: Pick<RevocationService, 'revoke'>;
  transport: Pick<
    SocketTransport,
    | 'endSessions'
    | 'announceConsent'
    | 'announceMessage'
    | 'announceParticipantAdded'
    | 'announceParticipantRemoved'
  >;
}
