// The people of a conversation as the chat shows them: the header with its participant list,
// the role badge's label, and who is typing.
import { html, nothing, type TemplateResult } from 'lit';
import { msg, str } from '@lit/localize';
import type { ParticipantView, Role } from '@carethread/shared';
import type { ChatController } from './chat-controller.js';
import { careTitleLabel, relationshipLabel } from '../i18n/vocabulary.js';

export function roleLabel(
  person: Pick<ParticipantView, 'role'> & Partial<Pick<ParticipantView, 'relationship' | 'title'>>,
): string {
  const role: Role = person.role;
  switch (role) {
    case 'patient':
      return msg('Patient', { id: 'role-patient' });
    case 'family':
      return person.relationship
        ? msg(str`Family · ${relationshipLabel(person.relationship)}`, {
            id: 'role-family-relationship',
          })
        : msg('Family', { id: 'role-family' });
    case 'provider':
    case 'staff':
      return person.title
        ? msg(str`Care team · ${careTitleLabel(person.title)}`, { id: 'role-care-team-title' })
        : msg('Care team', { id: 'role-care-team' });
  }
}

export function renderHeader(chat: ChatController): TemplateResult {
  const snapshot = chat.snapshot;
  const me = chat.me;
  return html`<header part="header" class="header">
    <h2 class="title">${snapshot?.title ?? msg('Conversation', { id: 'title-default' })}</h2>
    ${
      snapshot
        ? html`<ul
            part="participants"
            class="participants"
            aria-label=${msg('Participants', { id: 'participants' })}
          >
            ${snapshot.participants.map(
              (p) =>
                html`<li class="participant">
                  <span class="presence ${p.online ? 'online' : ''}" aria-hidden="true"></span>
                  <span class="name"
                    >${p.userId === me ? msg(str`${p.displayName} (you)`, { id: 'participant-you' }) : p.displayName}</span
                  >
                  <span part="badge" class="badge role-${p.role}">${roleLabel(p)}</span>
                  <span class="visually-hidden"
                    >${p.online ? msg('online', { id: 'presence-online' }) : msg('offline', { id: 'presence-offline' })}</span
                  >
                </li>`,
            )}
          </ul>`
        : nothing
    }
  </header>`;
}

export function renderTyping(chat: ChatController): TemplateResult {
  const names = chat.typing.map((p) => p.displayName);
  const text =
    names.length === 0
      ? ''
      : names.length === 1
        ? msg(str`${names[0]} is typing…`, { id: 'typing-one' })
        : msg(str`${names.join(', ')} are typing…`, { id: 'typing-many' });
  return html`<div class="typing" aria-live="polite">${text}</div>`;
}
