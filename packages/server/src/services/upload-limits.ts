// How much one person may upload (ADR 16, issue 8): uploads started per minute, uploads in
// progress at once and bytes per hour, from the tenant's `files` settings, counted on this node.
import type { TenantFiles } from '../core/settings.js';
import { RelayError } from '../core/errors.js';
import { KeyedRateLimiter } from './rate-limit.js';

/** An admitted upload: released once its body was read or refused, with the bytes it sent. */
export interface UploadTicket {
  release(bytesSent: number): void;
}

interface TenantUploads {
  starts: KeyedRateLimiter;
  bytes: KeyedRateLimiter;
  /** RATE_LIMITED refusals that go in the audit trail: as many as uploads may start. */
  auditedRefusals: KeyedRateLimiter;
  /** Uploads in progress by user id; a user with none has no entry. */
  inProgress: Map<string, number>;
}

const whenToRetry = (seconds: number) =>
  seconds < 120
    ? `Try again in ${String(seconds)} second${seconds === 1 ? '' : 's'}.`
    : `Try again in about ${String(Math.ceil(seconds / 60))} minutes.`;

const sizeInWords = (bytes: number) =>
  bytes >= 1024 * 1024
    ? `${String(Math.round(bytes / 1024 / 1024))} MB`
    : `${String(Math.round(bytes / 1024))} KB`;

const limited = (reason: string, waitMs: number) => {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new RelayError('RATE_LIMITED', `${reason} ${whenToRetry(seconds)}`, {
    retryAfterSeconds: seconds,
  });
};

export function createUploadLimits(filesOf: (tenantId: string) => TenantFiles) {
  const tenants = new Map<string, TenantUploads>();
  const uploadsOf = (tenantId: string, files: TenantFiles): TenantUploads => {
    let uploads = tenants.get(tenantId);
    if (!uploads) {
      uploads = {
        starts: new KeyedRateLimiter(files.uploadsPerMinute / 60, files.uploadBurst),
        auditedRefusals: new KeyedRateLimiter(files.uploadsPerMinute / 60, files.uploadBurst),
        bytes: new KeyedRateLimiter(files.uploadBytesPerHour / 3600, files.uploadBytesPerHour),
        inProgress: new Map(),
      };
      tenants.set(tenantId, uploads);
    }
    return uploads;
  };

  return {
    /**
     * Lets one upload of `userId` start, reserving its declared length (the largest file when it
     * declares none) of the hourly allowance; or throws RATE_LIMITED with when to retry, having
     * taken nothing.
     * @example const ticket = limits.admit('dev', 'alice', 1234); ...; ticket.release(1234);
     */
    admit(tenantId: string, userId: string, declaredBytes: number | undefined): UploadTicket {
      const files = filesOf(tenantId);
      const { starts, bytes, inProgress } = uploadsOf(tenantId, files);
      const running = inProgress.get(userId) ?? 0;
      if (running >= files.concurrentUploads)
        throw limited(
          `You already have ${String(running)} uploads in progress, the most allowed at once. Wait until one of them has finished.`,
          1000,
        );
      const startWait = starts.waitMs(userId);
      if (startWait > 0)
        throw limited(
          `You are sharing files too quickly: at most ${String(files.uploadsPerMinute)} a minute.`,
          startWait,
        );
      const reserved = Math.min(declaredBytes ?? files.maxBytes, files.maxBytes);
      const bytesWait = bytes.waitMs(userId, reserved);
      if (bytesWait > 0)
        throw limited(
          `You have shared as much as is allowed for now: ${sizeInWords(files.uploadBytesPerHour)} an hour.`,
          bytesWait,
        );
      starts.take(userId);
      bytes.take(userId, reserved);
      inProgress.set(userId, running + 1);
      let released = false;
      return {
        release(bytesSent) {
          if (released) return;
          released = true;
          bytes.refund(userId, Math.max(0, reserved - bytesSent));
          const left = (inProgress.get(userId) ?? 1) - 1;
          if (left > 0) inProgress.set(userId, left);
          else inProgress.delete(userId);
        },
      };
    },

    /**
     * Whether a RATE_LIMITED refusal of `userId` is recorded: at most as many as uploads may
     * start, so a flood of refused uploads costs the audit trail no more than twice the limit.
     */
    recordsRefusal(tenantId: string, userId: string): boolean {
      return uploadsOf(tenantId, filesOf(tenantId)).auditedRefusals.take(userId);
    },

    /** Stops the limiters' sweep timers. */
    close(): void {
      for (const { starts, bytes, auditedRefusals } of tenants.values()) {
        starts.close();
        bytes.close();
        auditedRefusals.close();
      }
    },
  };
}
