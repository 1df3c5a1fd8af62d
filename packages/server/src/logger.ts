// Structured logs with pino. Logs carry ids and codes only: message text and tokens are redacted
// wherever they might appear, as a second line of defence behind not logging payloads at all.
import { pino, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'token',
  '*.token',
  'text',
  '*.text',
  'auth',
  '*.auth',
  'req.headers.authorization',
  'req.headers.cookie',
  'payload',
  '*.payload',
];

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'carethread-relay' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  });
}
