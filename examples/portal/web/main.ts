// The example portal's only script: the demo's language, theme and single-person options. The
// chat elements need no code: their attributes say everything.
const params = new URLSearchParams(location.search);
const lang = params.get('lang') ?? 'en';
const theme = params.get('theme');
const only = params.get('persona');

document.documentElement.lang = lang;
if (theme === 'dark') document.documentElement.classList.add('dark');

// The portal's own words in Spanish, as a host's page would be (the elements translate
// themselves): `data-es` replaces an element's text, `data-es-<attribute>` an attribute.
if (lang === 'es') {
  document.title = 'Sunrise Recovery — Mensajes';
  for (const element of document.querySelectorAll<HTMLElement>('*')) {
    for (const { name, value } of [...element.attributes]) {
      if (name === 'data-es') element.textContent = value;
      else if (name.startsWith('data-es-'))
        element.setAttribute(name.slice('data-es-'.length), value);
    }
  }
}

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
  else if (theme === 'dark')
    for (const element of pane.querySelectorAll('carethread-chat, carethread-consent'))
      element.setAttribute('theme', 'dark');
}

// When the therapist asks, Alice's consent element opens the request (a real portal would notify
// the patient instead).
document.addEventListener('carethread-requested', (event) => {
  const { requestId } = (event as CustomEvent<{ requestId: string }>).detail;
  document.querySelector('.alice-consents')?.setAttribute('request', requestId);
});
