// The example portal's only script: the demo's language, theme and single-person options. The
// chat elements need no code: their attributes say everything.
const params = new URLSearchParams(location.search);
const lang = params.get('lang') ?? 'en';
const theme = params.get('theme');
const only = params.get('persona');

document.documentElement.lang = lang;
if (theme === 'dark') document.documentElement.classList.add('dark');

function optionLink(id: string, key: string, value: string | null, label: string): void {
  const link = document.getElementById(id) as HTMLAnchorElement;
  const next = new URLSearchParams(params);
  if (value === null) next.delete(key);
  else next.set(key, value);
  link.href = `?${next.toString()}`;
  link.textContent = label;
}
optionLink(
  'lang-switch',
  'lang',
  lang === 'es' ? null : 'es',
  lang === 'es' ? 'English' : 'Español',
);
optionLink(
  'theme-switch',
  'theme',
  theme === 'dark' ? null : 'dark',
  theme === 'dark' ? 'Light' : 'Dark',
);

for (const pane of document.querySelectorAll<HTMLElement>('.pane')) {
  if (only && pane.dataset.persona !== only) pane.remove();
  else if (theme === 'dark') pane.querySelector('carethread-chat')?.setAttribute('theme', 'dark');
}

// The therapist's button: the portal's back end creates the request, and Alice's consent element
// opens it (a real portal would notify the patient instead).
document.getElementById('ask-consent')?.addEventListener('click', () => {
  void fetch('/demo/ask-consent', { method: 'POST' })
    .then((response) => response.json() as Promise<{ requestId: string }>)
    .then(({ requestId }) => {
      document.querySelector('.alice-consents')?.setAttribute('request', requestId);
    });
});
