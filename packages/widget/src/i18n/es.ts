// Spanish translations of every CareThread string, keyed by message id (@lit/localize runtime
// format), the chat's and the common ones here and <carethread-consent>'s in es-consent.ts.
import { str } from '@lit/localize';
import { consentTemplates } from './es-consent.js';
import { vocabularyTemplates } from './es-vocabulary.js';

export const templates = {
  'config-title': 'Este chat no puede iniciarse.',
  'role-patient': 'Paciente',
  'role-family': 'Familia',
  'role-family-relationship': str`Familia · ${0}`,
  'role-care-team': 'Equipo de atención',
  'role-care-team-title': str`Equipo de atención · ${0}`,
  'composer-connecting': 'Conectando con la conversación…',
  'title-default': 'Conversación',
  participants: 'Participantes',
  'participant-you': str`${0} (usted)`,
  'presence-online': 'en línea',
  'presence-offline': 'desconectado',
  'closed-session-heading': 'Su sesión de chat terminó',
  'closed-consent-ended-heading': 'Ya no se comparte con usted',
  'closed-consent-ended':
    'El consentimiento del paciente que compartía esta conversación con usted terminó, por eso sus mensajes ya no se muestran aquí. Si el paciente firma un nuevo consentimiento, la conversación volverá a abrirse aquí por sí sola.',
  'closed-waiting-heading': 'Esperando el consentimiento del paciente',
  'closed-waiting':
    'El paciente todavía no ha compartido esta conversación con usted. Cuando firme un consentimiento que lo nombre, se abrirá aquí por sí sola: no necesita recargar la página.',
  'closed-heading': 'Esta conversación no está disponible aquí',
  'banner-offline':
    'No tiene conexión. Los mensajes que escriba se enviarán cuando vuelva la conexión.',
  'banner-reconnecting': 'Reconectando…',
  'sender-you': 'Usted',
  edited: 'editado',
  'message-deleted': 'Este mensaje fue eliminado.',
  delete: 'Eliminar',
  'delete-confirm': '¿Eliminar para todos?',
  'delete-failed': 'No se pudo eliminar el mensaje.',
  'read-by-count': str`Leído por ${0}`,
  'read-by-names': str`Leído por ${0}`,
  'state-sent': 'Enviado',
  'state-failed': 'No enviado.',
  retry: 'Reintentar',
  discard: 'Descartar',
  cancel: 'Cancelar',
  attach: 'Adjuntar',
  'files-label': 'Archivos',
  'files-to-send': 'Archivos para enviar',
  'file-attached': '1 archivo adjunto.',
  'files-attached': str`${0} archivos adjuntos.`,
  'files-too-many': str`Como máximo ${0} archivos por mensaje.`,
  'file-too-large': str`${0} supera ${1}.`,
  'file-removed': str`${0} quitado.`,
  'file-remove': str`Quitar ${0}`,
  'file-open': str`Abrir ${0}`,
  'file-download': str`Descargar ${0}`,
  'file-open-failed': str`No se pudo abrir ${0}.`,
  'file-uploading': str`Subiendo ${0}`,
  'file-uploaded': 'Subido',
  'file-not-uploaded': 'No subido',
  'state-uploading': 'Subiendo…',
  'error-file-too-large':
    'Ese archivo supera lo que acepta este chat. Envíe un archivo más pequeño.',
  'state-queued': 'Esperando conexión…',
  'state-sending': 'Enviando…',
  'loading-older': 'Cargando mensajes anteriores…',
  'history-start': 'Este es el comienzo de la conversación.',
  loading: 'Cargando la conversación…',
  empty: 'Todavía no hay mensajes. Salude.',
  'new-messages': 'Mensajes nuevos',
  'outbox-label': 'Mensajes aún no enviados',
  'log-label': 'Mensajes',
  'typing-one': str`${0} está escribiendo…`,
  'typing-many': str`${0} están escribiendo…`,
  'composer-label': 'Mensaje',
  'composer-placeholder': 'Escriba un mensaje…',
  'composer-hint': 'Intro envía · Mayús+Intro añade una línea',
  'counter-over': str`${0} caracteres por encima del límite`,
  'counter-left': str`Quedan ${0} caracteres`,
  send: 'Enviar',
  'notice-default':
    'Este chat no es para emergencias. En una emergencia, llame a su número local de emergencias.',
  jump: 'Ir a lo más reciente',
  'error-unauthenticated':
    'No ha iniciado sesión en el chat. Recargue la página o vuelva a iniciar sesión.',
  'error-token-expired': 'Su sesión de chat terminó. Inicie sesión de nuevo para continuar.',
  'error-session-idle':
    'El chat se cerró tras un periodo sin actividad, para proteger la privacidad de la conversación. Recargue la página para continuar.',
  'error-mfa-required':
    'Su organización exige un inicio de sesión con varios factores para este chat. Vuelva a iniciar sesión con su segundo factor y recargue la página.',
  'error-forbidden':
    'No tiene acceso a esta conversación. Pregunte a su equipo de atención si cree que debería tenerlo.',
  'error-consent-not-found':
    'Esta solicitud de consentimiento no existe, o no está dirigida a usted. Revise el enlace o pregunte a su equipo de atención.',
  'error-not-found':
    'Esta conversación no existe, o usted no participa en ella. Revise el enlace o pregunte a su equipo de atención.',
  'error-rate-limited': 'Está enviando demasiado rápido. Espere un momento e inténtelo de nuevo.',
  'error-too-large': 'Ese mensaje es demasiado largo. Acórtelo o divídalo en varios mensajes.',
  'error-unsupported-file-type':
    'Este tipo de archivo no se puede compartir aquí. Envíe un PDF, una imagen (PNG, JPEG, HEIC) o un archivo de texto sin formato.',
  'error-unavailable': 'El chat no está disponible en este momento. Inténtelo de nuevo en breve.',
  'error-unsupported-version':
    'Esta página tiene una versión antigua del chat. Recargue la página para actualizarla.',
  'error-forbidden-origin':
    'Este sitio web no está configurado para conectarse al chat. Avise al equipo de soporte del sitio.',
  'error-consent-required':
    'El paciente no ha compartido esta conversación con usted. Se abrirá aquí cuando firme un consentimiento que lo nombre.',
  'error-validation':
    'El chat no entendió esa solicitud. Recargue la página; si vuelve a ocurrir, contacte con soporte.',
  'error-signer-name-mismatch': 'Escriba su nombre completo tal como aparece en su cuenta.',
  'error-conflict': 'Eso cambió mientras tanto. Recargue la página e inténtelo de nuevo.',
  'error-archived':
    'Su equipo de atención cerró esta conversación. Todavía puede leerla, pero no escribir en ella.',
  'error-internal':
    'Algo salió mal en el chat. Inténtelo de nuevo; si vuelve a ocurrir, contacte con soporte.',
  ...consentTemplates,
  ...vocabularyTemplates,
  // The conversation's system entries (issue 17), worded in chat/system-entry.ts.
  'event-joined': str`${0} se unió a la conversación`,
  'event-left': str`${0} dejó la conversación`,
  'event-role-patient': str`${0} ahora es paciente`,
  'event-role-family': str`${0} ahora es familiar`,
  'event-role-care-team': str`${0} ahora forma parte del equipo de atención`,
  'event-care-team': 'El equipo de atención',
  'event-consent-requested': str`${0} pidió a ${1} que compartiera esta conversación con ${2}`,
  'event-consent-signed': str`${0} compartió esta conversación con ${1} hasta el ${2}`,
  'event-consent-declined': str`${0} no aceptó compartir esta conversación con ${1}`,
  'event-consent-revoked': str`${0} dejó de compartir esta conversación con ${1}`,
  'event-consent-expired': str`Esta conversación dejó de compartirse con ${0} el ${1}`,
  'event-consent-request-expired': str`Venció la solicitud de compartir esta conversación con ${0}`,
  'event-consent-cancelled': str`${0} retiró la solicitud de compartir esta conversación con ${1}`,
};
