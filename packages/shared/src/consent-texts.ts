// The relay's own consent texts, which no template carries: the electronic-records disclosure and
// the meaning of a signature, in English and in Spanish (the "usted" form a US clinic uses).
import type { SignerCapacity } from './consent.js';

/** The languages the relay's own consent texts are written in. */
export const RELAY_TEXT_LANGUAGES = ['en', 'es'] as const;
export type RelayTextLanguage = (typeof RELAY_TEXT_LANGUAGES)[number];

/**
 * The language of the relay's texts to show beside a form in `language`: Spanish for any Spanish
 * tag ("es", "es-US", "es-MX"), English otherwise.
 *
 * @example relayTextLanguage('es-US'); // 'es'
 */
export function relayTextLanguage(language: string): RelayTextLanguage {
  return language.toLowerCase().split('-')[0] === 'es' ? 'es' : 'en';
}

/**
 * The electronic-records disclosure (ESIGN §101(c), UETA) the signer accepts before signing, in
 * each language; its hash (one per language) goes into the record, so the record says which text
 * was accepted.
 */
export const ELECTRONIC_RECORDS_DISCLOSURES: Record<RelayTextLanguage, string> = {
  en: [
    'You agree to receive and sign this form electronically. An electronic signature has the same effect as signing on paper.',
    'You may ask your care team for a paper copy of this form, and sign on paper instead, at no cost.',
    'You may withdraw this agreement to use electronic records at any time by telling your care team; it does not affect forms already signed.',
    'To read and keep this record you need a current web browser and a way to open or print a PDF file.',
  ].join('\n'),
  es: [
    'Usted acepta recibir y firmar este formulario de forma electrónica. Una firma electrónica tiene el mismo efecto que una firma en papel.',
    'Puede pedirle a su equipo de atención médica una copia en papel de este formulario y firmarlo en papel, sin ningún costo.',
    'Puede retirar en cualquier momento su acuerdo de usar documentos electrónicos; solo tiene que avisarle a su equipo de atención médica. Esto no afecta los formularios que ya haya firmado.',
    'Para leer y guardar este documento, necesita un navegador web actualizado y un programa para abrir o imprimir archivos PDF.',
  ].join('\n'),
};

/** The English electronic-records disclosure. */
export const ELECTRONIC_RECORDS_DISCLOSURE = ELECTRONIC_RECORDS_DISCLOSURES.en;

/** The electronic-records disclosure to show beside a form in `language`. */
export function electronicRecordsDisclosure(language: string): string {
  return ELECTRONIC_RECORDS_DISCLOSURES[relayTextLanguage(language)];
}

const CAPACITY_NAMES: Record<RelayTextLanguage, Record<SignerCapacity, string>> = {
  en: {
    self: 'self',
    guardian: 'guardian',
    'health-care-agent': 'health care agent',
    'personal-representative': 'personal representative',
  },
  es: {
    self: 'en nombre propio',
    guardian: 'tutor legal',
    'health-care-agent': 'agente de atención médica',
    'personal-representative': 'representante personal',
  },
};

/** How a capacity reads in the relay's texts in `language`: "health care agent". */
export function capacityName(capacity: SignerCapacity, language: string): string {
  return CAPACITY_NAMES[relayTextLanguage(language)][capacity];
}

/**
 * The meaning of a signature, as shown to the signer and stored in the record, in the language of
 * the form (`relayTextLanguage`).
 *
 * @example
 * signatureMeaning('guardian', 'Alice Moreno', 'es');
 * // 'Autorizo la divulgación descrita en este formulario y firmo como tutor legal de Alice Moreno.'
 */
export function signatureMeaning(
  capacity: SignerCapacity,
  patientName: string,
  language = 'en',
): string {
  const name = capacityName(capacity, language);
  if (relayTextLanguage(language) === 'es')
    return capacity === 'self'
      ? 'Autorizo la divulgación descrita en este formulario.'
      : `Autorizo la divulgación descrita en este formulario y firmo como ${name} de ${patientName}.`;
  return capacity === 'self'
    ? 'I authorize the disclosure described in this form.'
    : `I authorize the disclosure described in this form, signing as ${name} of ${patientName}.`;
}
