// The npm way: import the element's define module (registers <carethread-chat>) and configure it
// from code, with a tokenProvider instead of a token-url attribute.
import '@carethread/widget/chat';

const chat = document.querySelector('carethread-chat');
if (chat) {
  chat.server = import.meta.env.VITE_CARETHREAD_RELAY ?? 'http://localhost:8080';
  // Your back end mints the token for the signed-in user; this app's dev server stands in for it.
  chat.tokenProvider = async () => {
    const response = await fetch('/api/carethread-token', { credentials: 'same-origin' });
    if (!response.ok) throw new Error(`token endpoint answered ${String(response.status)}`);
    return response.text();
  };
}
