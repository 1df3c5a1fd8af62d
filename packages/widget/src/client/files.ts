// Files travel over HTTP beside the socket (the relay's ADR 16): a PUT per upload, a signed link
// per download. Browsers use XMLHttpRequest, the one API that reports upload progress; Node (bots,
// tests) uses fetch.
import type { ErrorCode } from '@carethread/shared';
import { CareThreadError } from './errors.js';

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  /** The session's token, sent as `Authorization: Bearer`; signed links need none. */
  token?: string;
  body?: Blob;
  /** Bytes of `body` sent so far (browsers only). */
  onProgress?: (sent: number) => void;
  signal?: AbortSignal | undefined;
}

const unreachable = () =>
  new CareThreadError('UNAVAILABLE', 'The chat relay cannot be reached. Try again shortly.');

/** The relay's error body as a CareThreadError, or a sentence of our own when there is none. */
async function errorOf(status: number, body: Blob): Promise<CareThreadError> {
  try {
    const { error } = JSON.parse(await body.text()) as {
      error: { code: ErrorCode; message: string };
    };
    return new CareThreadError(error.code, error.message);
  } catch {
    return status >= 500
      ? unreachable()
      : new CareThreadError('INTERNAL', `HTTP ${String(status)}`);
  }
}

/** Makes one call and resolves with the answer's body; rejects with a CareThreadError. */
export async function relayHttp(call: HttpCall): Promise<Blob> {
  call.signal?.throwIfAborted();
  const headers: Record<string, string> = call.token
    ? { authorization: `Bearer ${call.token}` }
    : {};
  if (typeof XMLHttpRequest === 'undefined') {
    const response = await fetch(call.url, {
      method: call.method,
      headers,
      ...(call.body ? { body: call.body } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
    }).catch((error: unknown) => {
      throw call.signal?.aborted ? error : unreachable();
    });
    const body = await response.blob();
    if (!response.ok) throw await errorOf(response.status, body);
    return body;
  }
  const xhr = new XMLHttpRequest();
  const answered = new Promise<Blob>((resolve, reject) => {
    xhr.onload = () => {
      const body = xhr.response as Blob;
      if (xhr.status < 300) resolve(body);
      else void errorOf(xhr.status, body).then(reject);
    };
    xhr.onerror = () => {
      reject(unreachable());
    };
    xhr.onabort = () => {
      const reason: unknown = call.signal?.reason;
      reject(reason instanceof Error ? reason : new Error('The request was cancelled.'));
    };
  });
  xhr.open(call.method, call.url);
  xhr.responseType = 'blob';
  for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
  xhr.upload.onprogress = (event) => call.onProgress?.(event.loaded);
  call.signal?.addEventListener('abort', () => {
    xhr.abort();
  });
  xhr.send(call.body ?? null);
  return answered;
}

export async function relayJson<T>(call: HttpCall): Promise<T> {
  return JSON.parse(await (await relayHttp(call)).text()) as T;
}
