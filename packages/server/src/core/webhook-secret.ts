// The one number the relay's configuration and a host's webhook check must agree on; a module of
// its own so that the host-side signature check needs nothing but node:crypto.

/** The shortest webhook secret the relay's config accepts, and so the shortest `verifyWebhook` takes. */
export const WEBHOOK_SECRET_MIN_LENGTH = 32;
