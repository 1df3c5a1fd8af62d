// The signed consent as a PDF for the signer and the chart: the form as signed, the signature, and
// an audit page (events with UTC times and hashes), sealed with a PDF digital signature under the
// relay's certificate so that any alteration is detected (pdfsig reports it). pdf-lib builds the
// document; @signpdf adds the CMS signature.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pdflibAddPlaceholder } from '@signpdf/placeholder-pdf-lib';
import { SignPdf } from '@signpdf/signpdf';
import { P12Signer } from '@signpdf/signer-p12';
import forge from 'node-forge';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { ConsentRecordView, TemplateVersionView } from '@carethread/shared';
import type { ConsentEventRecord } from '../store/types.js';
import { createFileOnce } from '../core/data-files.js';
import { disclosureByHash, versionIn } from './forms.js';
import { pdfLabels } from './pdf-labels.js';

interface SealKeyFile {
  p12: string;
  passphrase: string;
}

/** A self-signed certificate and its key as a PKCS#12, for sealing PDFs under `commonName`. */
export function makeSelfSignedP12(commonName: string, passphrase: string): Buffer {
  // Key generation by node:crypto (fast); forge only assembles the certificate and PKCS#12.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forgePrivate = forge.pki.privateKeyFromPem(
    privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  );
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  );
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000);
  const subject = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'CareThread' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true },
  ]);
  cert.sign(forgePrivate, forge.md.sha256.create());
  const der = forge.asn1.toDer(
    forge.pkcs12.toPkcs12Asn1(forgePrivate, [cert], passphrase, { algorithm: '3des' }),
  );
  return Buffer.from(der.getBytes(), 'binary');
}

/** The relay's own sealing certificate, self-signed and created on first use in the data folder. */
function loadOrCreateSealKey(dataDir: string): SealKeyFile {
  const file = path.join(dataDir, 'relay', 'pdf-seal.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SealKeyFile;
  } catch {
    const passphrase = randomBytes(24).toString('base64url');
    const p12 = makeSelfSignedP12('CareThread relay (self-signed)', passphrase);
    const stored: SealKeyFile = { p12: p12.toString('base64'), passphrase };
    if (createFileOnce(file, JSON.stringify(stored))) return stored;
    return JSON.parse(readFileSync(file, 'utf8')) as SealKeyFile;
  }
}

export interface ConsentPdfInput {
  record: ConsentRecordView;
  recordHash: string;
  /** The version signed, every language included: the PDF is in the record's. */
  template: TemplateVersionView;
  /** The patient's name, printed with their id. */
  patientName: string;
  events: ConsentEventRecord[];
  signatureImage: string | null;
}

const PAGE: [number, number] = [612, 792]; // US Letter
const MARGIN = 56;
const WIDTH = PAGE[0] - 2 * MARGIN;

/** Writes wrapped text down the pages, adding pages as they fill. */
class Writer {
  private page: PDFPage;
  private y = PAGE[1] - MARGIN;

  constructor(
    private readonly doc: PDFDocument,
    private readonly fonts: { regular: PDFFont; bold: PDFFont },
  ) {
    this.page = doc.addPage(PAGE);
  }

  /** Standard fonts speak WinAnsi only: anything else becomes "?", never an exception. */
  private safe(text: string, font: PDFFont): string {
    return text.replace(/./gsu, (ch) => {
      try {
        font.encodeText(ch);
        return ch;
      } catch {
        return '?';
      }
    });
  }

  newPage(): void {
    this.page = this.doc.addPage(PAGE);
    this.y = PAGE[1] - MARGIN;
  }

  text(
    text: string,
    options: { size?: number; bold?: boolean; indent?: number; gap?: number } = {},
  ) {
    const size = options.size ?? 10;
    const font = options.bold ? this.fonts.bold : this.fonts.regular;
    const indent = options.indent ?? 0;
    // Line breaks separate paragraphs; WinAnsi has no glyph for them.
    for (const paragraph of text.split('\n').map((line) => this.safe(line, font))) {
      let line = '';
      const lines: string[] = [];
      for (const word of paragraph.split(/\s+/)) {
        const next = line ? `${line} ${word}` : word;
        if (font.widthOfTextAtSize(next, size) > WIDTH - indent && line) {
          lines.push(line);
          line = word;
        } else line = next;
      }
      lines.push(line);
      for (const l of lines) {
        if (this.y < MARGIN + size) this.newPage();
        this.page.drawText(l, { x: MARGIN + indent, y: this.y - size, size, font });
        this.y -= size * 1.4;
      }
    }
    this.y -= options.gap ?? 4;
  }

  async image(dataUrl: string): Promise<boolean> {
    try {
      const png = await this.doc.embedPng(dataUrl);
      const scaled = png.scaleToFit(220, 80);
      if (this.y < MARGIN + scaled.height) this.newPage();
      this.page.drawImage(png, { x: MARGIN, y: this.y - scaled.height, ...scaled });
      this.page.drawLine({
        start: { x: MARGIN, y: this.y - scaled.height - 2 },
        end: { x: MARGIN + 240, y: this.y - scaled.height - 2 },
        color: rgb(0.4, 0.4, 0.4),
      });
      this.y -= scaled.height + 12;
      return true;
    } catch {
      return false;
    }
  }
}

/** An exact time for the audit page, the same in every language: 2026-11-22 14:03:05 UTC. */
const utc = (iso: string) =>
  iso
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
    .replace('Z', ' UTC');

/**
 * The form as signed, in the language it was shown in (records from before languages were
 * recorded were shown in the template's default), then the disclosure accepted, the signature,
 * and the audit page.
 */
async function render(input: ConsentPdfInput): Promise<PDFDocument> {
  const { record, events } = input;
  const form = versionIn(input.template, record.language ?? input.template.language);
  const labels = pdfLabels(form.language);
  const doc = await PDFDocument.create();
  doc.setTitle(form.title);
  doc.setLanguage(form.language);
  doc.setSubject(labels.subject(record.requestId));
  doc.setProducer('CareThread relay');
  doc.setCreationDate(new Date(record.signedAt));
  const w = new Writer(doc, {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
  });

  w.text(form.title, { size: 16, bold: true, gap: 8 });
  w.text(`${labels.patient}: ${input.patientName} (${labels.patientId}: ${record.patientId})`);
  w.text(
    `${labels.sharedWith}: ${record.recipients.map((r) => `${r.displayName}${r.relationship ? ` (${r.relationship})` : ''}`).join(', ')}`,
  );
  w.text(`${labels.purpose}: ${record.purpose}`);
  w.text(`${labels.ends}: ${labels.date(record.expiresAt)}`, { gap: 12 });

  for (const block of form.blocks) {
    switch (block.type) {
      case 'heading':
        w.text(block.text, { size: 12, bold: true, gap: 6 });
        break;
      case 'paragraph':
        w.text(block.text);
        break;
      case 'list':
        for (const item of block.items) w.text(`-  ${item}`, { indent: 12, gap: 1 });
        w.text('', { gap: 2 });
        break;
      case 'acknowledgement':
        w.text(`[${record.acknowledgements.includes(block.id) ? 'X' : ' '}]  ${block.text}`, {
          indent: 6,
        });
        break;
      case 'field': {
        const answer = record.answers[block.id];
        const shown =
          typeof answer === 'boolean'
            ? answer
              ? labels.yes
              : labels.no
            : (answer ?? labels.noAnswer);
        w.text(`${block.label}: ${shown}`, { indent: 6 });
        break;
      }
    }
  }

  const disclosure = disclosureByHash(record.disclosureHash);
  if (disclosure) {
    w.text(labels.disclosure, { size: 12, bold: true, gap: 6 });
    w.text(disclosure.text, { gap: 2 });
    w.text(labels.disclosureAccepted, { gap: 8 });
  }

  w.text(labels.signature, { size: 12, bold: true, gap: 6 });
  w.text(record.meaning, { gap: 8 });
  if (input.signatureImage && !(await w.image(input.signatureImage))) w.text(labels.imageMissing);
  w.text(
    `${record.signature.name}  (${labels.signatureKind(record.signature.method, record.capacity)})`,
    { bold: true },
  );
  w.text(
    labels.signedBy(
      labels.date(record.signedAt),
      record.signer.displayName,
      record.signer.userId,
      record.signer.role,
    ),
  );

  w.newPage();
  w.text(labels.auditTrail, { size: 14, bold: true, gap: 8 });
  w.text(labels.request(record.requestId, record.signer.tenantId));
  w.text(labels.form(record.templateId, record.templateVersion, record.templateHash), {
    size: 8,
  });
  w.text(`${labels.formLanguage}: ${form.language}`, { size: 8 });
  w.text(`${labels.disclosureHash}: ${record.disclosureHash}`, { size: 8 });
  w.text(`${labels.recordHash}: ${input.recordHash}`, { size: 8 });
  if (record.signature.imageHash)
    w.text(`${labels.imageHash}: ${record.signature.imageHash}`, { size: 8 });
  w.text(labels.address(record.ip, record.userAgent), { size: 8, gap: 10 });
  for (const event of events) {
    w.text(
      `${String(event.seq)}. ${labels.event(event.type)}  ${utc(event.at)}  ${labels.by} ${event.actorId}`,
      { bold: true, gap: 1 },
    );
    w.text(`hash ${event.hash}`, { size: 7, indent: 14, gap: 1 });
    w.text(`${labels.after} ${event.prevHash}`, { size: 7, indent: 14, gap: 6 });
  }
  return doc;
}

export interface ConsentPdfSealer {
  /** The sealed PDF of a signed consent. */
  make(input: ConsentPdfInput): Promise<Buffer>;
}

/**
 * Seals with the deployment's certificate when `seal` names one, otherwise with the relay's own
 * self-signed one (made on first use: RSA key generation takes ~0.4 s, not at startup).
 */
export function createConsentPdfSealer(
  dataDir: string,
  seal?: { p12File: string; passphrase: string },
): ConsentPdfSealer {
  let key: SealKeyFile | undefined;
  if (seal) {
    try {
      key = { p12: readFileSync(seal.p12File).toString('base64'), passphrase: seal.passphrase };
    } catch (error) {
      throw new Error(
        `pdfSeal.p12File ${seal.p12File} cannot be read (${(error as Error).message}); fix the path or remove pdfSeal to use a self-signed certificate.`,
      );
    }
  }
  const signPdf = new SignPdf();
  return {
    async make(input) {
      key ??= loadOrCreateSealKey(dataDir);
      // A P12Signer reads its key once and is spent after one signature: one per document.
      const signer = new P12Signer(Buffer.from(key.p12, 'base64'), { passphrase: key.passphrase });
      const doc = await render(input);
      pdflibAddPlaceholder({
        pdfDoc: doc,
        reason: `CareThread consent record ${input.record.requestId}`,
        contactInfo: 'CareThread relay',
        name: 'CareThread relay',
        location: 'CareThread relay',
        signingTime: new Date(input.record.signedAt),
      });
      // Incremental updates and object streams would move bytes the signature covers.
      const unsigned = Buffer.from(await doc.save({ useObjectStreams: false }));
      return signPdf.sign(unsigned, signer, new Date(input.record.signedAt));
    },
  };
}
