// The EHR's log: one JSON line per event on stdout, with ids and codes only. Message text, form
// answers, tokens and keys never go into a log line.
export function log(msg: string, fields: Record<string, string | number | boolean | null> = {}) {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), source: 'ehr', msg, ...fields })}\n`,
  );
}
