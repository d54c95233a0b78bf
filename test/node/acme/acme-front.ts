/**
 * A real HTTPS server on 127.0.0.1 in front of a Pebble, for what Pebble 2.4 (Debian) does not implement:
 * ACME Renewal Information (RFC 9773) and ACME profiles (draft-ietf-acme-profiles). Every request is passed
 * on to Pebble unchanged, with the Host header kept, so Pebble builds every URL (directory, orders,
 * certificates) and checks every JWS `url` against this front's address. The front only:
 *
 * - adds `renewalInfo` (and `meta.profiles`) to the directory;
 * - answers `GET /renewal-info/<CertID>` itself, for certificates it saw Pebble issue (their CertID is
 *   computed here with pkijs, independently of mailtls), with the window and `Retry-After` a test sets, as
 *   in RFC 9773's examples; an unknown CertID gets 404;
 * - reads every newOrder payload (recorded for the tests): an unknown `profile` is refused with
 *   `invalidProfile`, a `replaces` naming a certificate already replaced with `alreadyReplaced` (409), an
 *   unknown one with `malformed`; the order object Pebble answers gets the `profile` asked for.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import type { Pebble } from './pebble.js';

/** What the front answers for one certificate's renewal information. */
export interface WindowAnswer {
  /** The window's start (RFC 3339 in the answer). */
  start: Date;
  /** The window's end. */
  end: Date;
  /** The `Retry-After` header in seconds (none when left out). */
  retryAfter?: number;
  /** Another HTTP status instead (e.g. 500). */
  status?: number;
  /** A raw body instead of the window (a malformed answer). */
  body?: string;
  /** The `explanationURL`. */
  explanationURL?: string;
}

/** A certificate Pebble issued through the front. */
export interface SeenCertificate {
  /** Its CertID, computed here (pkijs). */
  readonly certId: string;
  /** The chain as Pebble sent it. */
  readonly pem: string;
}

/** A running front. */
export interface AcmeFront {
  /** The directory URL clients use. */
  readonly directoryUrl: string;
  /** Every newOrder payload Pebble accepted, or the front refused, in order (not those with a bad nonce). */
  readonly orders: Record<string, unknown>[];
  /** Every CertID asked for at the renewal-info path, in order. */
  readonly renewalInfoRequests: string[];
  /** Every certificate downloaded through the front, in order. */
  readonly issued: SeenCertificate[];
  /** The path of every account Pebble deactivated (RFC 8555 section 7.3.6) through the front, in order. */
  readonly deactivated: string[];
  /** Sets the answer for a CertID. */
  setWindow(certId: string, answer: WindowAnswer): void;
  /** Marks a certificate as replaced already (a later `replaces` naming it gets `alreadyReplaced`). */
  markReplaced(certId: string): void;
  /** Stops the front. */
  close(): Promise<void>;
}

/** Options of {@link startAcmeFront}. */
export interface AcmeFrontOptions {
  /** Offer renewal information (default true). */
  renewalInfo?: boolean;
  /** The profiles to list in `meta.profiles` (none when left out). */
  profiles?: Record<string, string>;
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** RFC 9773 section 4.1, from the DER with pkijs: the AKI keyIdentifier and the serial's content octets. */
function certIdOf(pem: string): string {
  const b64 = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(pem)?.[1] ?? '';
  const der = Buffer.from(b64.replace(/\s+/g, ''), 'base64');
  const cert = pkijs.Certificate.fromBER(new Uint8Array(der).buffer);
  const aki = cert.extensions?.find((e) => e.extnID === '2.5.29.35')?.parsedValue as
    | pkijs.AuthorityKeyIdentifier
    | undefined;
  const keyId = aki?.keyIdentifier?.valueBlock.valueHexView;
  if (keyId === undefined) throw new Error('certificate without an AKI keyIdentifier');
  return `${b64url(keyId)}.${b64url(cert.serialNumber.valueBlock.valueHexView)}`;
}

function problem(res: http.ServerResponse, status: number, type: string, detail: string): void {
  res
    .writeHead(status, { 'content-type': 'application/problem+json' })
    .end(JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail, status }));
}

/** Starts a front for a running Pebble. */
export async function startAcmeFront(pebble: Pebble, options: AcmeFrontOptions = {}): Promise<AcmeFront> {
  const target = new URL(pebble.directoryUrl);
  const orders: Record<string, unknown>[] = [];
  const renewalInfoRequests: string[] = [];
  const issued: SeenCertificate[] = [];
  const deactivated: string[] = [];
  const windows = new Map<string, WindowAnswer>();
  const replaced = new Set<string>();
  let newOrderPath = '/order-plz';
  let base = '';

  const forward = (
    req: http.IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const up = https.request(
        {
          host: target.hostname,
          port: target.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
          ca: pebble.directoryCA,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });

  const send = (
    res: http.ServerResponse,
    r: { status: number; headers: http.IncomingHttpHeaders; body: Buffer },
  ): void => {
    const headers = { ...r.headers, 'content-length': String(r.body.length) };
    delete headers['transfer-encoding'];
    delete headers.connection;
    res.writeHead(r.status, headers).end(r.body);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path.startsWith('/renewal-info/')) {
      const certId = path.slice('/renewal-info/'.length);
      renewalInfoRequests.push(certId);
      const known = issued.some((c) => c.certId === certId);
      const answer = windows.get(certId);
      if (!known || answer === undefined) {
        problem(res, 404, 'malformed', `no such certificate ${certId}`);
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
      res.writeHead(answer.status ?? 200, headers).end(
        answer.body ??
          JSON.stringify({
            suggestedWindow: { start: answer.start.toISOString(), end: answer.end.toISOString() },
            ...(answer.explanationURL === undefined ? {} : { explanationURL: answer.explanationURL }),
          }),
      );
      return;
    }
    let profile: string | undefined;
    let newOrder: Record<string, unknown> | undefined;
    if (req.method === 'POST' && path === newOrderPath) {
      const jws = JSON.parse(body.toString()) as { payload: string };
      const payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString()) as Record<string, unknown>;
      newOrder = payload;
      if (payload.profile !== undefined) {
        if (options.profiles === undefined || !(String(payload.profile) in options.profiles)) {
          orders.push(payload);
          problem(res, 400, 'invalidProfile', `profile ${String(payload.profile)} is not offered`);
          return;
        }
        profile = String(payload.profile);
      }
      if (payload.replaces !== undefined) {
        const id = String(payload.replaces);
        if (replaced.has(id)) {
          orders.push(payload);
          problem(res, 409, 'alreadyReplaced', `certificate ${id} was already replaced`);
          return;
        }
        if (!issued.some((c) => c.certId === id)) {
          orders.push(payload);
          problem(res, 400, 'malformed', `replaces names an unknown certificate ${id}`);
          return;
        }
      }
    }
    let deactivating = false;
    if (req.method === 'POST' && path !== newOrderPath && body.length > 0) {
      const jws = JSON.parse(body.toString()) as { payload?: string };
      if (jws.payload) {
        const payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString()) as { status?: unknown };
        deactivating = payload.status === 'deactivated';
      }
    }
    const r = await forward(req, body);
    if (deactivating && r.status === 200) deactivated.push(path);
    // Pebble refuses a share of good nonces on purpose: only orders it accepted count (the client retries).
    if (newOrder !== undefined && r.status === 201) orders.push(newOrder);
    if (req.method === 'GET' && path === target.pathname && r.status === 200) {
      const dir = JSON.parse(r.body.toString()) as Record<string, unknown> & {
        meta?: Record<string, unknown>;
      };
      newOrderPath = new URL(String(dir.newOrder)).pathname;
      if (options.renewalInfo !== false) dir.renewalInfo = `${base}/renewal-info`;
      if (options.profiles !== undefined) dir.meta = { ...dir.meta, profiles: options.profiles };
      r.body = Buffer.from(JSON.stringify(dir));
    } else if (profile !== undefined && r.status === 201) {
      const order = JSON.parse(r.body.toString()) as Record<string, unknown>;
      r.body = Buffer.from(JSON.stringify({ ...order, profile }));
    } else if (String(r.headers['content-type']).startsWith('application/pem-certificate-chain')) {
      const pem = r.body.toString();
      const certId = certIdOf(pem);
      if (!issued.some((c) => c.certId === certId)) issued.push({ certId, pem });
    }
    send(res, r);
  };

  const server = https.createServer(
    {
      cert: readFileSync(pebble.directoryCAFile),
      key: readFileSync(join(pebble.dir, 'pk.key')),
    },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) problem(res, 500, 'serverInternal', String(e));
        else res.destroy();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  base = `https://127.0.0.1:${port}`;
  return {
    directoryUrl: `${base}${target.pathname}`,
    orders,
    renewalInfoRequests,
    deactivated,
    issued,
    setWindow: (certId, answer) => windows.set(certId, answer),
    markReplaced: (certId) => replaced.add(certId),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
