// Verifies host-minted user tokens with jose exactly as ../shared/SECURITY.md requires, and mints
// them (for the CLI, the demo and tests).
import {
  SignJWT,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  type CryptoKey,
  type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';
import {
  DisplayName,
  Role,
  TOKEN_ID_PATTERN,
  UserId,
  hasVisibleText,
  isWellFormedText,
  normalizeDisplayName,
  type ErrorCode,
} from '@carethread/shared';
import type { TenantConfig } from '../core/settings.js';

/** Who a verified token says the user is. Everything here comes from a signature we checked. */
export interface Identity {
  tenantId: string;
  userId: string;
  role: Role;
  displayName: string;
  relationship: string | null;
  title: string | null;
  issuedAt: Date;
  expiresAt: Date;
  /** From the `auth_time` claim when the host sends it. */
  authTime: Date | null;
  /** The token's `jti`, when the host sets one: what the host API revokes to sign a session out. */
  tokenId: string | null;
  /**
   * A provider's emergency access (the `break_glass` claim, allowed by the tenant): the reason,
   * and when it ends.
   */
  breakGlass: { reason: string; until: Date } | null;
  /**
   * Set when the host's back end acts through the host API (never from a user token): it may
   * read and manage every conversation of its tenant without being a participant.
   */
  host?: { keyId: string };
}

/** The identity the host API acts under: the tenant's own back end, named by its API key. */
export function hostIdentity(tenantId: string, keyId: string): Identity {
  const now = new Date();
  return {
    tenantId,
    userId: `host:${keyId}`,
    role: 'staff',
    displayName: 'Host system',
    relationship: null,
    title: null,
    issuedAt: now,
    expiresAt: new Date(now.getTime() + 60_000),
    authTime: null,
    breakGlass: null,
    tokenId: null,
    host: { keyId },
  };
}

/** Text a claim may carry: well-formed UTF-16 only (a lone surrogate would be stored as U+FFFD). */
const claimText = (max: number) => z.string().min(1).max(max).refine(isWellFormedText);

/**
 * CareThread's own claims beside the registered ones. `name`, `relationship` and `title` are
 * normalised after this check (see `shownLabel`); `sub` is an id, so it must already be one.
 */
const UserClaims = z.object({
  sub: UserId,
  name: claimText(200),
  role: Role,
  relationship: claimText(200).optional(),
  title: claimText(200).optional(),
  exp: z.number(),
  iat: z.number(),
  /** When the person signed in to the host (OpenID Connect); recorded with a consent signature. */
  auth_time: z.number().optional(),
  /** Break-glass: why this provider needs a conversation they are not a member of. */
  break_glass: z
    .string()
    .trim()
    .min(10)
    .max(500)
    .refine(isWellFormedText)
    .refine(hasVisibleText, 'must say why, in visible characters')
    .optional(),
  /** The token's id; the host signs a session out by revoking it (host API), so it must fit there. */
  jti: z
    .string()
    .regex(TOKEN_ID_PATTERN, 'must be 1 to 255 printable ASCII characters without spaces')
    .optional(),
  /** How the person signed in (OpenID Connect, RFC 8176 names): checked where MFA is required. */
  amr: z.array(z.string().max(64)).max(32).optional(),
  acr: z.string().max(255).optional(),
});
type UserClaims = z.infer<typeof UserClaims>;

export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface TenantVerifier {
  tenant: TenantConfig;
  verify(token: string): Promise<Identity>;
}

export interface VerifierOptions {
  /**
   * True when the host revoked this token id (signed the session out). Asked only for tokens
   * that passed every other check, so forged or malformed tokens never reach the store.
   */
  isRevoked?: (tenantId: string, tokenId: string) => Promise<boolean>;
}

/**
 * A name-like claim as the relay shows and stores it: hosts mint what their records hold (a
 * trailing newline, a tab from a pasted form), so it is normalised rather than refused, and every
 * payload the relay builds from it passes the shared `DisplayName` schema. Empty when nothing
 * visible is left.
 */
function shownLabel(raw: string): string {
  const shown = normalizeDisplayName(raw);
  return DisplayName.safeParse(shown).success ? shown : '';
}

/** Whether the claims prove the multi-factor sign-in the tenant requires of this role. */
function meetsMfa(tenant: TenantConfig, claims: UserClaims): boolean {
  const rule = tenant.requireMfa;
  if (!rule?.roles.includes(claims.role)) return true;
  if (claims.acr !== undefined && rule.acr.includes(claims.acr)) return true;
  return (claims.amr ?? []).some((method) => rule.amr.includes(method));
}

function describeJoseError(error: unknown): AuthError {
  if (error instanceof joseErrors.JWTExpired) {
    return new AuthError(
      'TOKEN_EXPIRED',
      'The sign-in token has expired. Get a fresh token from the host and reconnect.',
    );
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new AuthError(
      'UNAUTHENTICATED',
      `The sign-in token was refused: claim "${error.claim}" ${error.reason === 'missing' ? 'is missing' : 'is not accepted'}.`,
    );
  }
  if (
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWKSNoMatchingKey
  ) {
    return new AuthError(
      'UNAUTHENTICATED',
      'The sign-in token was refused: its signature does not match a key of its issuer.',
    );
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return new AuthError(
      'UNAUTHENTICATED',
      'The sign-in token was refused: its signing algorithm is not allowed.',
    );
  }
  // A key server that times out, answers non-200, returns bad JSON (jose's generic error) or
  // cannot be reached (fetch's TypeError) is our outage, not the user's fault.
  const keyFetchFailed =
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    (error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC') ||
    error instanceof TypeError;
  if (keyFetchFailed) {
    return new AuthError(
      'UNAVAILABLE',
      "The relay could not fetch the issuer's signing keys. Try again shortly.",
    );
  }
  return new AuthError('UNAUTHENTICATED', 'The sign-in token was refused: it is malformed.');
}

export function createTenantVerifier(
  tenant: TenantConfig,
  options: VerifierOptions = {},
): TenantVerifier {
  const keys: JWTVerifyGetKey = tenant.jwksUrl
    ? createRemoteJWKSet(new URL(tenant.jwksUrl), { timeoutDuration: tenant.jwksTimeoutMs })
    : createLocalJWKSet({ keys: tenant.jwks?.keys ?? [] });
  return {
    tenant,
    async verify(token) {
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: tenant.algorithms,
          issuer: tenant.issuer,
          audience: tenant.audience,
          requiredClaims: tenant.requireJti ? ['sub', 'exp', 'iat', 'jti'] : ['sub', 'exp', 'iat'],
          maxTokenAge: tenant.maxTokenAgeSeconds,
          clockTolerance: tenant.clockToleranceSeconds,
        }));
      } catch (error) {
        throw describeJoseError(error);
      }
      const claims = UserClaims.safeParse(payload);
      if (!claims.success) {
        const fields = [...new Set(claims.error.issues.map((i) => i.path.join('.')))].join(', ');
        throw new AuthError(
          'UNAUTHENTICATED',
          `The sign-in token was refused: claims ${fields} are missing or invalid.`,
        );
      }
      const c = claims.data;
      if (!meetsMfa(tenant, c))
        throw new AuthError(
          'MFA_REQUIRED',
          `The sign-in token was refused: this organisation requires a multi-factor sign-in for the ${c.role} role, and the token does not show one (amr/acr).`,
        );
      if (c.jti !== undefined && options.isRevoked) {
        let revoked: boolean;
        try {
          revoked = await options.isRevoked(tenant.id, c.jti);
        } catch {
          throw new AuthError(
            'UNAVAILABLE',
            'The relay could not check whether this sign-in was revoked. Try again shortly.',
          );
        }
        if (revoked)
          throw new AuthError(
            'UNAUTHENTICATED',
            'The sign-in token was revoked (the session was signed out). Sign in again.',
          );
      }
      if (c.break_glass !== undefined && !(tenant.breakGlass.enabled && c.role === 'provider'))
        throw new AuthError(
          'FORBIDDEN',
          tenant.breakGlass.enabled
            ? 'Break-glass access is for providers only.'
            : 'Break-glass access is not enabled for this organisation. Sign in without it, or ask your administrator.',
        );
      const displayName = shownLabel(c.name);
      if (displayName === '')
        throw new AuthError(
          'UNAUTHENTICATED',
          'The sign-in token was refused: claim "name" has no visible character. The host must put the person\'s name in it.',
        );
      // An optional label with nothing visible is as good as absent.
      const relationship = c.relationship === undefined ? '' : shownLabel(c.relationship);
      const title = c.title === undefined ? '' : shownLabel(c.title);
      const issuedAt = new Date(c.iat * 1000);
      const expiresAt = new Date(c.exp * 1000);
      const breakGlassEnds = new Date(issuedAt.getTime() + tenant.breakGlass.minutes * 60_000);
      return {
        tenantId: tenant.id,
        userId: c.sub,
        role: c.role,
        displayName,
        relationship: relationship || null,
        title: title || null,
        issuedAt,
        expiresAt,
        authTime: c.auth_time === undefined ? null : new Date(c.auth_time * 1000),
        breakGlass:
          c.break_glass === undefined
            ? null
            : {
                reason: c.break_glass,
                until: breakGlassEnds < expiresAt ? breakGlassEnds : expiresAt,
              },
        tokenId: c.jti ?? null,
      };
    },
  };
}

/** Routes a token to its tenant by issuer, then verifies it with that tenant's rules only. */
export function createTokenVerifier(
  tenants: readonly TenantConfig[],
  options: VerifierOptions = {},
) {
  const byIssuer = new Map(tenants.map((t) => [t.issuer, createTenantVerifier(t, options)]));
  return {
    tenants: [...byIssuer.values()],
    async verify(token: string): Promise<{ identity: Identity; tenant: TenantConfig }> {
      let issuer: unknown;
      try {
        issuer = decodeJwt(token).iss;
      } catch {
        throw new AuthError('UNAUTHENTICATED', 'The sign-in token was refused: it is not a JWT.');
      }
      const verifier = typeof issuer === 'string' ? byIssuer.get(issuer) : undefined;
      if (!verifier) {
        throw new AuthError(
          'UNAUTHENTICATED',
          'The sign-in token was refused: its issuer is not a tenant of this relay.',
        );
      }
      return { identity: await verifier.verify(token), tenant: verifier.tenant };
    },
  };
}
export type TokenVerifier = ReturnType<typeof createTokenVerifier>;

export interface MintOptions {
  issuer: string;
  audience: string;
  key: CryptoKey;
  kid: string;
  alg?: string;
  sub: string;
  name: string;
  role: Role;
  relationship?: string;
  title?: string;
  /** Lifetime in seconds (default one hour). */
  ttlSeconds?: number;
  /**
   * When the person signed in to the host (OpenID Connect `auth_time`); the relay records it with
   * every consent signature, so pass it when you know it.
   */
  authTime?: Date;
  /**
   * Break-glass: the reason a provider needs a conversation they are not a member of (10 to 500
   * characters). The tenant must allow it; access lasts its `breakGlass.minutes` from now.
   */
  breakGlass?: string;
  /** The token id (`jti`): revoke it through the host API to sign the session out. */
  jti?: string;
  /** Sign-in methods (RFC 8176), e.g. `['pwd', 'otp']`, where the tenant requires MFA. */
  amr?: string[];
  acr?: string;
}

/**
 * Mints a CareThread user token. Host back ends use the same shape with their own key.
 *
 * @example
 * const token = await mintToken({
 *   issuer: 'https://ehr.example', audience: 'carethread', key: privateKey, kid: 'ehr-2026',
 *   sub: user.id, name: user.name, role: 'patient', authTime: session.signedInAt, ttlSeconds: 600,
 * });
 */
export function mintToken(options: MintOptions): Promise<string> {
  const claims: Record<string, string | number | string[]> = {
    name: options.name,
    role: options.role,
  };
  if (options.relationship) claims.relationship = options.relationship;
  if (options.title) claims.title = options.title;
  if (options.authTime) claims.auth_time = Math.floor(options.authTime.getTime() / 1000);
  if (options.breakGlass !== undefined) claims.break_glass = options.breakGlass;
  if (options.amr) claims.amr = options.amr;
  if (options.acr) claims.acr = options.acr;
  const jwt = new SignJWT(claims);
  if (options.jti) jwt.setJti(options.jti);
  return jwt
    .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(`${String(options.ttlSeconds ?? 3600)}s`)
    .sign(options.key);
}
