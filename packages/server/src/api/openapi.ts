// The OpenAPI 3.1 document of the host API, written from the route table and the shared zod
// schemas (zod's JSON Schema output is draft 2020-12, which OpenAPI 3.1 uses as is).
import { z } from 'zod/mini';
import {
  ApiErrorResponse,
  WEBHOOK_SIGNATURE_HEADER,
  WebhookEvent,
  ERROR_CODES,
  IDEMPOTENCY_HEADER,
  errorSentences,
  type ErrorCode,
} from '@carethread/shared';
import { statusOfCode, type RouteSpec } from './route.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodMiniType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** Path or query parameters, one per property of an object schema. */
function parameters(schema: z.ZodMiniType | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const object = jsonSchema(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}

const STANDARD_ERRORS: readonly ErrorCode[] = [
  'UNAUTHENTICATED',
  'VALIDATION',
  'INTERNAL',
  'UNAVAILABLE',
];

export function openApiDocument(routes: readonly RouteSpec[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const responses: Record<string, unknown> = {};
    const { success } = spec;
    responses[String(success.status)] = {
      description: success.description,
      ...(success.schema
        ? { content: { 'application/json': { schema: jsonSchema(success.schema, 'output') } } }
        : success.contentType
          ? { content: { [success.contentType]: { schema: { type: 'string' } } } }
          : {}),
    };
    const codes = [
      ...new Set([
        ...STANDARD_ERRORS,
        ...spec.errors,
        ...(spec.method === 'GET' ? [] : (['CONFLICT'] as const)),
      ]),
    ];
    for (const code of codes) {
      const status = String(statusOfCode[code]);
      const existing = responses[status] as { description: string } | undefined;
      responses[status] = {
        description: existing ? `${existing.description} ${code}` : code,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const writes = spec.method !== 'GET';
    paths[spec.path] = {
      ...paths[spec.path],
      [spec.method.toLowerCase()]: {
        operationId: spec.operationId,
        summary: spec.summary,
        tags: [spec.tag],
        parameters: [
          ...parameters(spec.params, 'path'),
          ...parameters(spec.query, 'query'),
          ...(writes ? [{ $ref: '#/components/parameters/IdempotencyKey' }] : []),
        ],
        ...(spec.body
          ? {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } },
              },
            }
          : {}),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'CareThread host API',
      version: '1',
      description:
        "For the host EHR's back end, never a browser. Authenticate with a tenant API key " +
        '(`Authorization: Bearer ctk_...`). Errors are `{ "error": { "code", "message" } }` with a ' +
        'stable code; lists are paged with `cursor` and `limit`; every write accepts an ' +
        '`Idempotency-Key` and answers a retry with the same key and body as it answered the first time.',
    },
    security: [{ apiKey: [] }],
    webhooks: {
      carethreadEvent: {
        post: {
          summary: 'What the relay posts to each configured webhook endpoint',
          description:
            'One event per request, in commit order per endpoint, at least once: deduplicate by ' +
            '`id`. Verify `CareThread-Signature` (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`) ' +
            'with `verifyWebhook` from `@carethread/server`. Answer 2xx within the timeout, or the ' +
            'event is retried with backoff for a day and then kept as a dead letter.',
          parameters: [
            {
              name: WEBHOOK_SIGNATURE_HEADER,
              in: 'header',
              required: true,
              schema: { type: 'string' },
            },
            {
              name: 'carethread-event-id',
              in: 'header',
              required: true,
              schema: { type: 'string' },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: jsonSchema(WebhookEvent, 'output') } },
          },
          responses: { '204': { description: 'Taken; any 2xx will do.' } },
        },
      },
    },
    tags: [
      { name: 'Conversations' },
      { name: 'Consent' },
      { name: 'Audit' },
      { name: 'Sessions' },
      { name: 'Webhooks' },
      { name: 'FHIR' },
    ],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key.' },
      },
      parameters: {
        IdempotencyKey: {
          name: IDEMPOTENCY_HEADER,
          in: 'header',
          required: false,
          description:
            'Any unique string (a UUID): a retry with the same key and body gets the first answer.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
      },
      schemas: {
        Error: {
          ...jsonSchema(ApiErrorResponse, 'output'),
          description: `Codes: ${ERROR_CODES.map((code) => `${code} (${errorSentences[code]})`).join('; ')}`,
        },
      },
    },
  };
}
