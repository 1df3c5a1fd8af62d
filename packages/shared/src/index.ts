// Public entry of @carethread/shared: the wire protocol, error codes and validation helpers.
export * from './api.js';
export * from './codes.js';
export * from './consent.js';
export * from './consent-templates.js';
export * from './consent-texts.js';
export * from './constants.js';
export * from './errors.js';
export * from './protocol.js';
export * from './signature-name.js';
export * from './system-entries.js';
export * from './text.js';
export * from './issues.js';
export * from './webhooks.js';
export * from './measures/index.js';
