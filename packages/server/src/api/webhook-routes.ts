// The host API's webhook routes: the dead letters an endpoint did not take, and delivering one again.
import {
  type ApiDeadLetter,
  ApiDeadLetterPage,
  ApiRedeliverResult,
  DeadLetterPath,
  PageQuery,
} from '@carethread/shared';
import { RelayError } from '../core/errors.js';
import type { DeadLetter } from '../store/types.js';
import { webhookBody } from '../webhooks/dispatcher.js';
import type { HostApiDeps } from './host-api-deps.js';
import { DEFAULT_PAGE, decodeCursor, pageAfter } from './paging.js';
import { route, type RouteSpec } from './route.js';

export function webhookRoutes({
  store,
  tenants,
  webhooks,
}: Pick<HostApiDeps, 'store' | 'tenants' | 'webhooks'>): RouteSpec[] {
  /** A dead letter as the API shows it: the event in the form its endpoint receives. */
  function deadLetterView(tenantId: string, letter: DeadLetter): ApiDeadLetter {
    const endpoint = tenants
      .find((t) => t.id === tenantId)
      ?.webhooks.find((e) => e.id === letter.endpointId);
    return {
      endpointId: letter.endpointId,
      event: webhookBody(letter.event, endpoint?.payload ?? 'ids'),
      attempts: letter.attempts,
      lastError: letter.lastError,
      deadAt: letter.deadAt,
      redeliveredAt: letter.redeliveredAt,
    };
  }

  return [
    route({
      method: 'GET',
      path: '/api/v1/webhooks/dead-letters',
      operationId: 'listWebhookDeadLetters',
      summary: 'Events an endpoint did not take within the retry window, by endpoint and order',
      tag: 'Webhooks',
      query: PageQuery,
      success: { status: 200, description: 'A page of dead letters.', schema: ApiDeadLetterPage },
      errors: [],
      handler: async ({ identity, query }) => {
        const limit = query.limit ?? DEFAULT_PAGE;
        const after = decodeCursor(query.cursor, '');
        const [endpointId, seq] = after === undefined ? [] : after.split(' ');
        const letters = await store.listDeadLetters(
          identity.tenantId,
          endpointId === undefined ? undefined : { endpointId, seq: Number(seq) },
          limit + 1,
        );
        const { items, next } = pageAfter(
          letters,
          limit,
          (letter) => `${letter.endpointId} ${String(letter.event.seq)}`,
        );
        return { items: items.map((letter) => deadLetterView(identity.tenantId, letter)), next };
      },
    }),
    route({
      method: 'POST',
      path: '/api/v1/webhooks/dead-letters/{endpointId}/{eventId}/redeliver',
      operationId: 'redeliverWebhookDeadLetter',
      summary: 'Deliver a dead-lettered event to its endpoint again, now',
      tag: 'Webhooks',
      params: DeadLetterPath,
      success: {
        status: 200,
        description: 'The endpoint took the event.',
        schema: ApiRedeliverResult,
      },
      errors: ['NOT_FOUND'],
      handler: async ({ identity, params }) => {
        const letter = await store.getDeadLetter(
          identity.tenantId,
          params.endpointId,
          params.eventId,
        );
        if (!letter)
          throw new RelayError('NOT_FOUND', 'No dead letter has this endpoint and event id.');
        const result = await webhooks.deliverNow(
          identity.tenantId,
          params.endpointId,
          letter.event,
        );
        if (!result.ok)
          throw new RelayError(
            'UNAVAILABLE',
            `The endpoint did not take the event (${result.error}). Fix the receiver and try again.`,
          );
        const redeliveredAt = new Date().toISOString();
        await store.markDeadLetterRedelivered(
          identity.tenantId,
          params.endpointId,
          letter.event.seq,
          redeliveredAt,
        );
        return { status: result.status, redeliveredAt };
      },
    }),
  ];
}
