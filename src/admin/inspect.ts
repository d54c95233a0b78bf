/**
 * What the administrator shows about a domain and an upload, computed with the public API only: the
 * certificate in service, the install preview (chain order, missing intermediates, key match, names, dates),
 * the addresses of each name with the private-address warning, and the probe of each enabled port.
 *
 * @module admin/inspect
 */
import {
  assembleChain,
  type Certificate,
  isMailTlsError,
  parseCertificateBundle,
  parseCSR,
  parsePKCS12,
  renewalWindow,
} from '../index.js';
import { type CertificateStore, probe } from '../node/index.js';
import { readStoreCSR } from '../node/settings/index.js';
import {
  MAIL_SERVICES,
  type MailService,
  resolveDomainTLSSettings,
  type TLSSettings,
} from '../settings/index.js';

/** An upload waiting for its confirmation (kept on the server: a `.pfx` holds a key, so it is never echoed). */
export interface StagedUpload {
  readonly id: string;
  readonly user: string;
  readonly expires: number;
  readonly domain: string | undefined;
  readonly cert?: string | undefined;
  readonly caBundle?: string | undefined;
  readonly pkcs12?: Uint8Array | undefined;
  readonly password?: string | undefined;
}

/** The install preview. */
export interface InstallPreview {
  readonly domain: string;
  readonly leaf: Certificate;
  /** The chain as it will be served, leaf first. */
  readonly chain: readonly Certificate[];
  readonly complete: boolean;
  readonly trusted: boolean | undefined;
  /** The order the upload had (subjects), to show that it was reordered. */
  readonly givenOrder: readonly string[];
  readonly problems: readonly { code: string; message: string }[];
  /** `pending CSR`, `key in service`, `in the .pfx`, or undefined when no key matches. */
  readonly keyMatch: string | undefined;
}

function sameKey(a: Certificate, spki: Uint8Array): boolean {
  const b = a.spki;
  return b.length === spki.length && b.every((x, i) => x === spki[i]);
}

/**
 * Builds the preview of an upload.
 * @throws the parse errors of the inputs (MailTlsError with its code and message).
 */
export async function previewInstall(
  store: CertificateStore,
  upload: StagedUpload,
  trust: readonly (string | Uint8Array | Certificate)[],
  at: Date,
): Promise<InstallPreview> {
  let pool: Certificate[];
  let pfxKey = false;
  if (upload.pkcs12 !== undefined) {
    const p = await parsePKCS12(upload.pkcs12, { password: upload.password ?? '' });
    pool = [...(p.leaf === undefined ? [] : [p.leaf]), ...p.chain];
    pfxKey = p.key !== undefined && p.leaf !== undefined;
  } else {
    pool = [
      ...parseCertificateBundle(upload.cert ?? '').certificates,
      ...(upload.caBundle === undefined || upload.caBundle.trim() === ''
        ? []
        : parseCertificateBundle(upload.caBundle).certificates),
    ];
  }
  const leaf = pool.find((c) => c.basicConstraints?.ca !== true) ?? pool[0];
  if (leaf === undefined) throw new TypeError('the upload holds no certificate');
  const others = pool.filter((c) => c.fingerprint('sha256') !== leaf.fingerprint('sha256'));
  const assembled = await assembleChain(leaf, others, {
    at,
    ...(trust.length === 0 ? {} : { roots: trust as (string | Uint8Array | Certificate)[] }),
  });
  const domain = upload.domain ?? leaf.subject.commonName ?? leaf.dnsNames[0] ?? '';
  let keyMatch: string | undefined;
  if (pfxKey) keyMatch = 'the key in the .pfx file';
  else {
    const csr = await readStoreCSR(store.root, domain).catch(() => undefined);
    if (csr !== undefined && sameKey(leaf, parseCSR(csr).spki)) keyMatch = 'the key of the pending CSR';
    else {
      try {
        const current = await store.load(domain);
        if (sameKey(leaf, current.leaf.spki)) keyMatch = 'the key in service (a renewal with the same key)';
      } catch (e) {
        if (!isMailTlsError(e)) throw e;
      }
    }
  }
  return {
    domain,
    leaf,
    chain: assembled.certificates,
    complete: assembled.complete,
    trusted: assembled.trusted,
    givenOrder: pool.map((c) => c.subject.toString()),
    problems: assembled.problems.map((p) => ({ code: p.code, message: p.message })),
    keyMatch,
  };
}

/** What the domain page shows about the certificate in service. */
export interface ServedSummary {
  readonly leaf: Certificate;
  readonly chain: readonly Certificate[];
  readonly version: string;
  readonly renewAt: Date;
  readonly due: boolean;
}

/** The certificate in service for a domain, or undefined when it has none. */
export async function servedSummary(
  store: CertificateStore,
  domain: string,
  at: Date,
): Promise<ServedSummary | undefined> {
  try {
    const c = await store.load(domain);
    const w = renewalWindow(c.leaf, { at });
    return { leaf: c.leaf, chain: c.chain, version: c.version, renewAt: w.renewAt, due: w.due };
  } catch (e) {
    if (isMailTlsError(e, 'ERR_STORE_NOT_FOUND')) return undefined;
    throw e;
  }
}

/** Whether an address is private, loopback or link-local (not reachable from the Internet). */
export function isPrivateAddress(ip: string): boolean {
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(ip);
  if (v4 !== null) {
    const a = Number(v4[1]);
    const b = Number(v4[2]);
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  const l = ip.toLowerCase();
  if (l.startsWith('::ffff:')) return isPrivateAddress(l.slice(7));
  return l === '::1' || /^f[cd]/.test(l) || /^fe[89ab]/.test(l);
}

/** The result of probing one port. */
export interface PortProbe {
  readonly service: MailService;
  readonly url: string;
  readonly ok: boolean;
  readonly summary: string;
}

/** Where "test now" connects. */
export interface ProbePlan {
  /** The address to connect to instead of the names (e.g. `127.0.0.1`). */
  readonly connect?: string | undefined;
  /** The port of each service; default the standard port. */
  readonly ports?: ((service: MailService) => number | undefined) | undefined;
  /** Trust anchors for the probe (PEM); default Node's roots. */
  readonly trust?: readonly (string | Uint8Array | Certificate)[] | undefined;
  /** Per-port time limit, milliseconds; default 10,000. */
  readonly timeoutMs?: number | undefined;
}

/** Probes every enabled port of a domain with the STARTTLS-aware probe, in parallel. */
export async function probeDomain(
  domain: string,
  settings: TLSSettings,
  plan: ProbePlan,
  expected: Certificate | undefined,
): Promise<PortProbe[]> {
  const d = resolveDomainTLSSettings(settings, domain);
  const host = domain.startsWith('*.') ? `mail.${domain.slice(2)}` : domain;
  const rows = MAIL_SERVICES.filter((s) => d.services[s.service].enabled);
  return Promise.all(
    rows.map(async (s): Promise<PortProbe> => {
      const port = plan.ports?.(s.service) ?? s.port;
      const scheme = s.service === 'submission' ? 'submission' : s.service;
      const url = `${scheme}://${host}:${port}`;
      try {
        const r = await probe(url, {
          ...(plan.connect === undefined ? {} : { connect: plan.connect }),
          ...(plan.trust === undefined ? {} : { trust: plan.trust as (string | Uint8Array | Certificate)[] }),
          timeoutMs: plan.timeoutMs ?? 10_000,
        });
        const leaf = r.servedChain[0];
        const fresh =
          expected === undefined ||
          (leaf !== undefined && leaf.fingerprint('sha256') === expected.fingerprint('sha256'));
        const ok = r.chainValid && r.namesMatch && fresh;
        const why = [
          r.chainValid ? undefined : `chain: ${r.chainError?.message ?? 'not valid'}`,
          r.namesMatch ? undefined : `names: ${r.namesError?.message ?? 'do not match'}`,
          fresh ? undefined : 'serves another certificate than the one in the store (reload pending?)',
        ].filter((x) => x !== undefined);
        return {
          service: s.service,
          url,
          ok,
          summary: ok
            ? `verified: ${r.tlsVersion}, ${r.cipher}, ${r.daysLeft} days left${r.starttls ? ', after STARTTLS' : ''}`
            : why.join('; '),
        };
      } catch (e) {
        return { service: s.service, url, ok: false, summary: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
}
