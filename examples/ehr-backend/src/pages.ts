// The EHR's two pages, as plain HTML strings: the sign-in form and the signed-in user's page with
// the CareThread elements. No inline script or style, so they work under the strict CSP.
import type { EhrUser } from './users.js';
import { users } from './users.js';

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(title)}</title>
    <link rel="stylesheet" href="/ehr.css" />${head}
  </head>
  <body>
    <header class="bar"><span class="brand">Riverside Behavioral Health</span> <span>EHR</span></header>
    <main>
${body}
    </main>
  </body>
</html>
`;
}

export function loginPage(failed: boolean): string {
  const options = users
    .map((u) => `<option value="${escapeHtml(u.id)}">${escapeHtml(u.name)} (${u.role})</option>`)
    .join('');
  const hints = users
    .map((u) => `<li>${escapeHtml(u.name)}: <code>${escapeHtml(u.demoPassword)}</code></li>`)
    .join('');
  return layout(
    'Sign in — Riverside EHR',
    `      <h1>Sign in</h1>
      ${failed ? '<p class="error" role="alert">That user and password do not match.</p>' : ''}
      <form method="post" action="/login">
        <label>User <select name="user">${options}</select></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
        <button>Sign in</button>
      </form>
      <aside><p><strong>Demo only:</strong> fixed passwords, shown here on purpose.</p><ul>${hints}</ul></aside>`,
  );
}

export interface HomeOptions {
  user: EhrUser;
  relayUrl: string;
  conversationId: string;
  /** Set after the therapist asked for a consent, to confirm it. */
  askedRequestId?: string | undefined;
}

export function homePage({ user, relayUrl, conversationId, askedRequestId }: HomeOptions): string {
  const server = escapeHtml(relayUrl);
  const tokenUrl = '/carethread/token';
  // The patient signs and revokes consents in <carethread-consent>; the therapist asks from the
  // EHR itself, whose back end calls the host API (POST /consent-requests below).
  const consent =
    user.role === 'patient'
      ? `<carethread-consent server="${server}" token-url="${tokenUrl}"></carethread-consent>`
      : user.role === 'provider'
        ? `<form method="post" action="/consent-requests">
        <button>Ask Alice to consent to sharing with her brother Bob</button>
      </form>${askedRequestId ? `<p role="status">Consent request ${escapeHtml(askedRequestId)} sent to Alice.</p>` : ''}`
        : '';
  return layout(
    'Messages — Riverside EHR',
    `      <div class="who">Signed in as ${escapeHtml(user.name)} (${user.role})
        <form method="post" action="/logout"><button>Sign out</button></form></div>
      <carethread-chat server="${server}" conversation="${escapeHtml(conversationId)}" token-url="${tokenUrl}"></carethread-chat>
      ${consent}`,
    // The whole CareThread embed: one script tag, served by this EHR from @carethread/widget.
    '\n    <script src="/carethread.js"></script>',
  );
}
