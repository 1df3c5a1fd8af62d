// The sealed PDF's own words (labels, the kinds of signature and event, dates) in the languages
// of the relay's consent texts; a form in another language gets the English ones.
import {
  capacityName,
  relayTextLanguage,
  type ConsentState,
  type RelayTextLanguage,
  type Role,
  type SignerCapacity,
} from '@carethread/shared';

export interface PdfLabels {
  subject: (requestId: string) => string;
  patient: string;
  patientId: string;
  sharedWith: string;
  purpose: string;
  ends: string;
  yes: string;
  no: string;
  noAnswer: string;
  disclosure: string;
  disclosureAccepted: string;
  signature: string;
  /** "typed signature, as self" */
  signatureKind: (method: 'typed' | 'drawn', capacity: SignerCapacity) => string;
  imageMissing: string;
  /** "Signed <date> by <name> (<id>, <role>)" */
  signedBy: (date: string, name: string, userId: string, role: string) => string;
  auditTrail: string;
  request: (requestId: string, tenantId: string) => string;
  form: (templateId: string, version: number, hash: string) => string;
  formLanguage: string;
  disclosureHash: string;
  recordHash: string;
  imageHash: string;
  address: (ip: string, userAgent: string) => string;
  event: (type: ConsentState) => string;
  by: string;
  after: string;
  /** A time as readers of the language write it, in UTC. */
  date: (iso: string) => string;
}

const ROLES: Record<RelayTextLanguage, Record<Role, string>> = {
  en: { patient: 'patient', family: 'family', provider: 'provider', staff: 'staff' },
  es: {
    patient: 'paciente',
    family: 'familiar',
    provider: 'profesional de salud',
    staff: 'personal',
  },
};

/** A long date and time in UTC; ICU's narrow spaces become plain ones, which WinAnsi has. */
const dateIn = (locale: string) => {
  const format = new Intl.DateTimeFormat(locale, {
    dateStyle: 'long',
    timeStyle: 'long',
    timeZone: 'UTC',
  });
  return (iso: string) => format.format(new Date(iso)).replace(/[\u00A0\u202F]/g, ' ');
};

const roleIn = (language: RelayTextLanguage, role: string) =>
  (ROLES[language] as Record<string, string | undefined>)[role] ?? role;

const LABELS: Record<RelayTextLanguage, PdfLabels> = {
  en: {
    subject: (requestId) => `Consent record ${requestId}`,
    patient: 'Patient',
    patientId: 'patient ID',
    sharedWith: 'Shared with',
    purpose: 'Purpose',
    ends: 'Ends',
    yes: 'Yes',
    no: 'No',
    noAnswer: '(no answer)',
    disclosure: 'Electronic records',
    disclosureAccepted: 'The signer accepted this before signing.',
    signature: 'Signature',
    signatureKind: (method, capacity) => `${method} signature, as ${capacityName(capacity, 'en')}`,
    imageMissing: '(The drawn signature image could not be rendered; its SHA-256 is below.)',
    signedBy: (date, name, userId, role) =>
      `Signed ${date} by ${name} (${userId}, ${roleIn('en', role)})`,
    auditTrail: 'Audit trail',
    request: (requestId, tenantId) => `Consent request ${requestId}, tenant ${tenantId}`,
    form: (templateId, version, hash) => `Form ${templateId} version ${String(version)}: ${hash}`,
    formLanguage: 'Form language',
    disclosureHash: 'Electronic-records disclosure accepted',
    recordHash: 'Record (RFC 8785 canonical JSON)',
    imageHash: 'Signature image',
    address: (ip, userAgent) => `Signer's address ${ip}; browser ${userAgent || '(not given)'}`,
    event: (type) => type,
    by: 'by',
    after: 'after',
    date: dateIn('en-US'),
  },
  es: {
    subject: (requestId) => `Registro de consentimiento ${requestId}`,
    patient: 'Paciente',
    patientId: 'ID de paciente',
    sharedWith: 'Se comparte con',
    purpose: 'Propósito',
    ends: 'Vence',
    yes: 'Sí',
    no: 'No',
    noAnswer: '(sin respuesta)',
    disclosure: 'Registros electrónicos',
    disclosureAccepted: 'La persona que firma aceptó este aviso antes de firmar.',
    signature: 'Firma',
    signatureKind: (method, capacity) =>
      `firma ${method === 'typed' ? 'escrita' : 'dibujada'}, ${capacity === 'self' ? '' : 'como '}${capacityName(capacity, 'es')}`,
    imageMissing:
      '(No se pudo mostrar la imagen de la firma dibujada; su SHA-256 aparece más abajo.)',
    signedBy: (date, name, userId, role) =>
      `Firmado el ${date} por ${name} (${userId}, ${roleIn('es', role)})`,
    auditTrail: 'Registro de auditoría',
    request: (requestId, tenantId) =>
      `Solicitud de consentimiento ${requestId}, organización ${tenantId}`,
    form: (templateId, version, hash) =>
      `Formulario ${templateId}, versión ${String(version)}: ${hash}`,
    formLanguage: 'Idioma del formulario',
    disclosureHash: 'Aviso de registros electrónicos aceptado',
    recordHash: 'Registro (JSON canónico RFC 8785)',
    imageHash: 'Imagen de la firma',
    address: (ip, userAgent) =>
      `Dirección de la persona que firma: ${ip}; navegador: ${userAgent || '(no indicado)'}`,
    event: (type) =>
      ({
        requested: 'solicitado',
        viewed: 'visto',
        signed: 'firmado',
        declined: 'rechazado',
        revoked: 'revocado',
        expired: 'vencido',
        cancelled: 'cancelado',
      })[type],
    by: 'por',
    after: 'anterior',
    date: dateIn('es-US'),
  },
};

/** The PDF's words for a form in `language`. */
export function pdfLabels(language: string): PdfLabels {
  return LABELS[relayTextLanguage(language)];
}
