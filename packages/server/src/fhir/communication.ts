// Conversation entries as FHIR R4 Communication resources, and the searchset Bundle of
// `GET [base]/Communication?conversation=ID`, paged by sequence number. Pure mapping.
import type { EditView, MessageView } from '@carethread/shared';
import type {
  Bundle,
  BundleLink,
  Communication,
  CommunicationPayload,
  Extension,
} from 'fhir/r4.js';
import { CARETHREAD_EXTENSION, fhirId, identifierSystem, reference, trimBase } from './ids.js';
import { patientReference, senderReference } from './people.js';

/** One entry of a conversation's log: a message, or a correction of an earlier one. */
export type ConversationEntry = MessageView | EditView;

/** The stable id of the Communication of entry `seq` of a conversation. */
export function communicationId(tenantId: string, conversationId: string, seq: number): string {
  return fhirId(tenantId, 'Communication', conversationId, String(seq));
}

/**
 * A conversation entry as a completed Communication: sender by role (Patient, RelatedPerson or
 * Practitioner), the patient as subject when `patientId` is given, the text as payload, and each
 * file the message carries as an Attachment payload whose `url` is the host API's download.
 *
 * An edit becomes a Communication of its own (it has its own sequence number and time) that points
 * at the message it corrects with the CareThread extension `communication-corrects`. R4's
 * `inResponseTo` would say the edit is a reply, which a reader of the chart would take for a new
 * message in the thread.
 *
 * @example communicationFromEntry({ tenantId, entry, patientId: 'alice' })
 */
export function communicationFromEntry(input: {
  tenantId: string;
  entry: ConversationEntry;
  /** The conversation's patient (a CareThread user id), when known. */
  patientId?: string;
  /** Where the relay is reached (not the FHIR base): files link to `/api/v1/files/{id}` there. */
  relayBaseUrl?: string;
}): Communication {
  const { tenantId, entry, patientId } = input;
  const files = entry.kind === 'message' ? (entry.attachments ?? []) : [];
  const extension: Extension[] = [
    {
      url: CARETHREAD_EXTENSION.conversation,
      valueIdentifier: {
        system: identifierSystem(tenantId, 'conversation'),
        value: entry.conversationId,
      },
    },
  ];
  if (entry.kind === 'edit') {
    extension.push({
      // A deletion is a correction too: its own Communication, pointing at what it deleted.
      url: CARETHREAD_EXTENSION.corrects,
      valueReference: reference(
        'Communication',
        communicationId(tenantId, entry.conversationId, entry.targetSeq),
      ),
    });
  }
  const payload: CommunicationPayload[] = [
    // FHIR strings may not be empty: a message that only shares files has no text part.
    ...(entry.text ? [{ contentString: entry.text }] : []),
    ...files.map((file) => ({
      contentAttachment: {
        contentType: file.contentType,
        size: file.size,
        title: file.name,
        ...(input.relayBaseUrl === undefined
          ? {}
          : {
              url: `${trimBase(input.relayBaseUrl)}/api/v1/files/${encodeURIComponent(file.fileId)}`,
            }),
      },
    })),
  ];
  return {
    resourceType: 'Communication',
    id: communicationId(tenantId, entry.conversationId, entry.seq),
    extension,
    identifier: [
      {
        system: identifierSystem(tenantId, 'conversation-entry'),
        value: `${entry.conversationId}/${entry.seq}`,
      },
    ],
    // R4 Communication.status has no "deleted"; 'entered-in-error' is its word for an entry that
    // should not have been made and is kept for the record. The payload stays (the record keeps
    // the message and its files); `sent` is still when it was sent.
    ...(entry.kind === 'message' && entry.deletedAt
      ? { status: 'entered-in-error', statusReason: { text: 'Deleted by its sender' } }
      : { status: 'completed' }),
    ...(patientId === undefined ? {} : { subject: patientReference(tenantId, patientId) }),
    sent: entry.kind === 'edit' ? entry.editedAt : entry.sentAt,
    sender: senderReference(tenantId, patientId, entry.sender),
    // FHIR arrays may not be empty: a deletion has no payload.
    ...(payload.length > 0 ? { payload } : {}),
  };
}

/** What {@link communicationSearchset} pages. */
export interface CommunicationPage {
  tenantId: string;
  /** The FHIR base, e.g. `https://relay.example/fhir`. */
  baseUrl: string;
  /** Where the relay is reached, for the files' download links. */
  relayBaseUrl?: string;
  conversationId: string;
  patientId?: string;
  /** Entries with sequence above `afterSeq`, ascending, as the store's `entriesAfter` gives them. */
  entries: readonly ConversationEntry[];
  /** The page starts after this sequence number; 0 for the first page. */
  afterSeq: number;
  /** The page size asked for (`_count`). */
  count: number;
  /** The newest sequence number the search reaches: entries remain after this page below it. */
  lastSeq: number;
  /**
   * How many entries the search matches; `lastSeq - afterSeq` when omitted, which holds for a log
   * of messages and corrections alone (system entries take numbers too).
   */
  total?: number;
}

function searchUrl(page: CommunicationPage, afterSeq: number): string {
  const query = new URLSearchParams({ conversation: page.conversationId });
  // `seq` is a number search parameter: `seq=gtN` is every entry after N, so each page link is
  // an ordinary search and its total is what that search matches.
  if (afterSeq > 0) query.set('seq', `gt${afterSeq}`);
  query.set('_count', String(page.count));
  return `${trimBase(page.baseUrl)}/Communication?${query.toString()}`;
}

/**
 * The searchset Bundle of one page of a conversation. `total` is what the search `seq > afterSeq`
 * matches: given, or `lastSeq - afterSeq` (numbers are gap-free from 1). Links: `self`,
 * `first`, `previous` when not on the first page, `next` while entries remain after this page.
 *
 * @example
 * const { entries } = await store.entriesAfter(tenantId, conversationId, 0, 50);
 * communicationSearchset({ tenantId, baseUrl, conversationId, entries, afterSeq: 0, count: 50, lastSeq });
 */
export function communicationSearchset(page: CommunicationPage): Bundle<Communication> {
  const base = trimBase(page.baseUrl);
  const lastOnPage = page.entries.at(-1)?.seq;
  const link: BundleLink[] = [
    { relation: 'self', url: searchUrl(page, page.afterSeq) },
    { relation: 'first', url: searchUrl(page, 0) },
  ];
  if (page.afterSeq > 0)
    link.push({
      relation: 'previous',
      url: searchUrl(page, Math.max(0, page.afterSeq - page.count)),
    });
  if (lastOnPage !== undefined && lastOnPage < page.lastSeq)
    link.push({ relation: 'next', url: searchUrl(page, lastOnPage) });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: page.total ?? Math.max(0, page.lastSeq - page.afterSeq),
    link,
    entry: page.entries.map((entry) => {
      const resource = communicationFromEntry({
        tenantId: page.tenantId,
        entry,
        ...(page.patientId === undefined ? {} : { patientId: page.patientId }),
        ...(page.relayBaseUrl === undefined ? {} : { relayBaseUrl: page.relayBaseUrl }),
      });
      const id = communicationId(page.tenantId, entry.conversationId, entry.seq);
      return {
        fullUrl: `${base}/Communication/${id}`,
        resource,
        search: { mode: 'match' },
      };
    }),
  };
}
