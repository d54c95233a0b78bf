/**
 * ACME failures as typed errors: the problem documents an ACME server answers (RFC 8555 section 6.7) mapped
 * to {@link AcmeError} codes with advice an administrator can act on, and the reason of a network failure.
 *
 * @module node/acme/failures
 */
import https from 'node:https';
import { AcmeError, type AcmeErrorCode, MailTlsError } from '../../errors.js';

/** A problem document an ACME server answered (RFC 8555 section 6.7), as last seen by a client. */
export interface Problem {
  readonly status: number;
  readonly type: string;
  readonly detail: string;
  readonly url: string;
  readonly retryAfter: Date | undefined;
}

/** What {@link acmeFailure} reads of an account: its server and the last problem document it saw. */
export interface ProblemHolder {
  readonly directoryUrl: string;
  lastProblem: Problem | undefined;
}

/** The network error a plain request to `url` gets now (the reason of a failure acme-client hid). */
export function networkReason(
  url: string,
  agent: https.Agent | undefined,
  fallback: unknown,
): Promise<unknown> {
  return new Promise((resolve) => {
    let req: ReturnType<typeof https.get>;
    try {
      req = https.get(url, { ...(agent === undefined ? {} : { agent }), timeout: 5000 }, (res) => {
        res.resume();
        resolve(fallback);
      });
    } catch (e) {
      resolve(e);
      return;
    }
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (e) => resolve(e));
  });
}

/** The error of an ACME server that cannot be reached, or whose HTTPS certificate is not trusted. */
export function unavailable(directoryUrl: string, url: string, cause: unknown): AcmeError {
  const code = (cause as { code?: unknown })?.code;
  const certificateProblem =
    typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
  return new AcmeError(
    'ERR_ACME_UNAVAILABLE',
    certificateProblem
      ? `The ACME server at ${directoryUrl} presented an HTTPS certificate this process does not trust ` +
          `(${String(code)}). For a private ACME server, give its root with directoryCA (--directory-ca FILE).`
      : `The ACME server at ${directoryUrl} cannot be reached (${typeof code === 'string' ? code : String(cause)}). ` +
          'Check the URL and the network; the certificate in service is unchanged, try again later.',
    { cause, details: { directoryUrl, url, reason: typeof code === 'string' ? code : 'network' } },
  );
}

const PROBLEM_CODES: readonly [string, AcmeErrorCode][] = [
  ['rateLimited', 'ERR_ACME_RATE_LIMITED'],
  ['badCSR', 'ERR_ACME_CSR_REJECTED'],
  ['rejectedIdentifier', 'ERR_ACME_CSR_REJECTED'],
  ['unsupportedIdentifier', 'ERR_ACME_CSR_REJECTED'],
  ['caa', 'ERR_ACME_CHALLENGE'],
  ['dns', 'ERR_ACME_CHALLENGE'],
  ['connection', 'ERR_ACME_CHALLENGE'],
  ['tls', 'ERR_ACME_CHALLENGE'],
  ['unauthorized', 'ERR_ACME_CHALLENGE'],
  ['incorrectResponse', 'ERR_ACME_CHALLENGE'],
  ['userActionRequired', 'ERR_ACME_TERMS'],
  ['accountDoesNotExist', 'ERR_ACME_ACCOUNT'],
  ['orderNotReady', 'ERR_ACME_ORDER_INVALID'],
  ['serverInternal', 'ERR_ACME_UNAVAILABLE'],
  ['invalidProfile', 'ERR_ACME_PROFILE'],
];

/**
 * Turns a failure of acme-client into an {@link AcmeError}, from the last problem document the server sent
 * (acme-client's own errors carry only the text). Errors that already are MailTlsErrors pass through.
 * @internal
 */
export function acmeFailure(
  account: ProblemHolder,
  e: unknown,
  what: string,
  fallback: AcmeErrorCode = 'ERR_ACME_PROTOCOL',
): MailTlsError {
  if (e instanceof MailTlsError) return e;
  const problem = account.lastProblem;
  account.lastProblem = undefined;
  const short = problem?.type.replace('urn:ietf:params:acme:error:', '') ?? '';
  const code =
    PROBLEM_CODES.find(([t]) => t === short)?.[1] ??
    (problem?.status === 503 ? 'ERR_ACME_UNAVAILABLE' : fallback);
  const text = problem?.detail || (e instanceof Error ? e.message : String(e));
  const advice: Record<AcmeErrorCode, string> = {
    ERR_ACME_RATE_LIMITED: `Wait${problem?.retryAfter ? ` until ${problem.retryAfter.toISOString()}` : ''} and try again; the certificate in service is unchanged.`,
    ERR_ACME_CSR_REJECTED: 'Check the names requested: the CA will not issue for them.',
    ERR_ACME_CHALLENGE:
      'The CA could not validate the name: check that it resolves to this server and that the challenge port is reachable from the internet.',
    ERR_ACME_TERMS: 'Read and agree to the CA terms of service (agreeToTerms / --agree-tos).',
    ERR_ACME_ACCOUNT: 'Register the account again (mailtls acme register).',
    ERR_ACME_ORDER_INVALID: 'Start a new order (run the command again).',
    ERR_ACME_UNAVAILABLE: 'The CA is failing; the certificate in service is unchanged, try again later.',
    ERR_ACME_PROTOCOL:
      'The certificate in service is unchanged; try again, and report the message if it persists.',
    ERR_ACME_PREFLIGHT: '',
    ERR_ACME_DNS_HOOK: '',
    ERR_ACME_KEY_ROLLOVER: '',
    ERR_ACME_PROFILE: 'Choose one of the profiles the CA lists in its directory (meta.profiles), or none.',
    ERR_ACME_RENEWAL_INFO: '',
  };
  return new AcmeError(code, `${what} failed: ${text}. ${advice[code]}`.trim(), {
    cause: e,
    details: {
      directoryUrl: account.directoryUrl,
      problem: problem?.type ?? null,
      status: problem?.status ?? null,
      url: problem?.url ?? null,
      ...(problem?.retryAfter ? { retryAfter: problem.retryAfter.toISOString() } : {}),
    },
  });
}
