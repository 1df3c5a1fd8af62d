// Protocol constants as plain values, so the browser bundle can use them without zod.

/** Version of this protocol; the client sends it in the handshake and the relay refuses others. */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];

/** Hard ceiling on message text, whatever a tenant configures; tenants usually allow less. */
export const MAX_TEXT_LENGTH = 16_000;

/** Most files one message may carry. */
export const MAX_ATTACHMENTS = 10;

/** Most messages one history page returns. */
export const HISTORY_PAGE_MAX = 100;

/** Most entries one catch-up (sync) page returns. */
export const SYNC_PAGE_MAX = 500;
