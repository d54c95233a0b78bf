// The package as a dependency: `npm pack`, install the tarball into throwaway JavaScript and TypeScript
// projects, import it by name, and run publint and arethetypeswrong over it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from './helpers/paths.js';
import { skipWithout } from './helpers/peers.js';

function sh(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_fund: 'false' },
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('package', () => {
  let work = '';
  let tarball = '';
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'mailtls-pack-'));
    // npm run build (declarations from tsc, the JavaScript from esbuild)
    const build = sh(process.execPath, [join(repoRoot, 'scripts/build.mjs')], repoRoot);
    assert.equal(build.status, 0, build.out);
    // built just above: npm pack's own build (the prepack script) would build it all a second time
    const pack = sh('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--silent'], repoRoot);
    assert.equal(pack.status, 0, pack.out);
    const name = readdirSync(work).find((f) => f.endsWith('.tgz'));
    assert.ok(name, 'npm pack wrote no tarball');
    tarball = join(work, name);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('package.json: metadata, engines that match require(esm), prepack instead of prepare', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    > & {
      scripts: Record<string, string>;
      repository: { url: string };
      bugs: { url: string };
      keywords: string[];
      engines: { node: string };
    };
    assert.match(pkg.repository.url, /^git\+https:\/\/github\.com\/[\w-]+\/mailtls\.git$/);
    assert.match(String(pkg.homepage), /^https:\/\//);
    assert.match(pkg.bugs.url, /^https:\/\/.*\/issues$/);
    assert.ok(pkg.keywords.includes('tls') && pkg.keywords.includes('smtp'));
    // require('mailtls') (an ES module) works from Node 20.19 on.
    assert.equal(pkg.engines.node, '>=20.19');
    // npm 11 warns about "prepare" on every install; "prepack" builds before packing without that.
    assert.equal(pkg.scripts.prepare, undefined);
    assert.equal(pkg.scripts.prepack, 'npm run build');
  });

  it('every subpath of the README module map is exported, and every README link is shipped', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const map = readme.slice(readme.indexOf('## Module map'), readme.indexOf('Node adapters ('));
    // the second column of each row names the subpaths the folder publishes
    const modules = [...map.matchAll(/^\| [^|]+ \| ([^|]+) \|/gm)].flatMap((m) =>
      [...m[1]!.matchAll(/`([a-z0-9-]+)`/g)].map((x) => x[1]!),
    );
    assert.ok(modules.length > 20, modules.join(' '));
    for (const m of modules) assert.ok(pkg.exports[`./${m}`] !== undefined, `mailtls/${m} is not exported`);
    const listed = sh('tar', ['-tzf', tarball], work);
    assert.equal(listed.status, 0, listed.out);
    const files = new Set(listed.out.split('\n').map((f) => f.replace(/^package\//, '').replace(/\/$/, '')));
    // a link to a section of a shipped file (docs/store.md#...) is a link to that file
    const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!);
    assert.ok(links.length > 0);
    for (const link of links) {
      // a link may name a heading (docs/store.md#some-heading): the file must ship and have that heading
      const [file = link, anchor] = link.split('#');
      assert.ok(files.has(file), `README links to ${file}, which the tarball does not ship`);
      if (anchor === undefined) continue;
      const headings = [...readFileSync(join(repoRoot, file), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      );
      assert.ok(headings.includes(anchor), `README links to ${link}, but ${file} has no such heading`);
    }
    for (const example of ['examples/mail-server.ts', 'examples/reseller-install.ts', 'docs/store.md'])
      assert.ok(files.has(example), `${example} is not shipped`);
  });

  it('the tarball ships the bundled JavaScript: each entry point of exports and bin, shared chunks, nothing else', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types: string; default: string }>;
      bin: Record<string, string>;
    };
    const listed = sh('tar', ['-tzf', tarball], work);
    assert.equal(listed.status, 0, listed.out);
    const files = new Set(listed.out.split('\n').map((f) => f.replace(/^package\//, '')));
    const entries = Object.values(pkg.exports).flatMap((v) => (typeof v === 'object' ? [v] : []));
    const targets = new Set(
      [...entries.map((v) => v.default), ...Object.values(pkg.bin)].map((p) => p.slice(2)),
    );
    for (const t of targets)
      assert.ok(files.has(t) && files.has(`${t}.map`), `${t} (and its map) not shipped`);
    for (const e of entries) assert.ok(files.has(e.types.slice(2)), `${e.types} not shipped`);
    const js = [...files].filter((f) => f.startsWith('dist/') && f.endsWith('.js'));
    const chunks = js.filter((f) => /^dist\/chunk-[A-Z0-9]+\.js$/.test(f));
    assert.ok(chunks.length > 0, 'no shared chunk: the entry points were not bundled with code splitting');
    // a module of its own (tsc's one file per module, or one left by an earlier build) would be a stray
    assert.deepEqual(
      js.filter((f) => !targets.has(f) && !chunks.includes(f)),
      [],
      'JavaScript in dist/ that is neither an entry point nor a chunk',
    );
    assert.deepEqual(
      [...files].filter((f) => f.startsWith('dist/') && !/\.(js|d\.ts)(\.map)?$/.test(f)),
      [],
      'files in dist/ that are neither JavaScript nor declarations (nor their maps)',
    );
    const cli = readFileSync(join(repoRoot, pkg.bin.mailtls!), 'utf8');
    assert.ok(cli.startsWith('#!/usr/bin/env node\n'), 'the command lost its shebang');
  });

  it('publint reports no problems', () => {
    const r = sh(
      process.execPath,
      [join(repoRoot, 'node_modules/publint/src/cli.js'), tarball, '--strict'],
      repoRoot,
    );
    assert.equal(r.status, 0, r.out);
    assert.doesNotMatch(r.out, /error|warning|suggestion/i, r.out);
  });

  it('arethetypeswrong reports no problems for an ESM-only package', () => {
    const r = sh(
      process.execPath,
      [
        join(repoRoot, 'node_modules/@arethetypeswrong/cli/dist/index.js'),
        tarball,
        '--profile',
        'esm-only',
        '--format',
        'ascii',
      ],
      repoRoot,
    );
    assert.equal(r.status, 0, r.out);
  });

  it('installs into a JavaScript ESM project and a strict TypeScript project', () => {
    const app = join(work, 'app');
    sh('mkdir', ['-p', app], work);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const inst = sh(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        tarball,
        `typescript@5.9`,
        '@types/node@20',
        // the optional peers of mailtls/peculiar, as an application that uses that subpath installs them
        '@peculiar/x509@2',
        'reflect-metadata@0.2',
      ],
      app,
    );
    assert.equal(inst.status, 0, inst.out);
    writeFileSync(
      join(app, 'main.js'),
      `import { MailTlsError, isMailTlsError } from 'mailtls';
const e = new MailTlsError('ERR_PEM_NO_BLOCK', 'x');
if (!isMailTlsError(e, 'ERR_PEM_NO_BLOCK')) process.exit(3);
import { encodePEM, parsePEM } from 'mailtls/pem';
import { CertificateStore } from 'mailtls/node';
import * as root from 'mailtls';
// the root is the pure core: the Node adapters come from mailtls/node alone
if ('CertificateStore' in root || 'createSNIRegistry' in root) process.exit(5);
const [block] = parsePEM(encodePEM('CERTIFICATE', new Uint8Array([48, 0])));
if (block.label !== 'CERTIFICATE' || typeof CertificateStore !== 'function') process.exit(4);
console.log('js ok', e.name);
`,
    );
    const js = sh(process.execPath, ['main.js'], app);
    const bin = sh(join(app, 'node_modules/.bin/mailtls'), ['--help'], app);
    assert.equal(bin.status, 0, bin.out);
    assert.match(bin.out, /Usage: mailtls/);
    assert.equal(js.status, 0, js.out);
    assert.match(js.out, /js ok MailTlsError/);

    writeFileSync(
      join(app, 'main.ts'),
      `import { MailTlsError, type ErrorCode } from 'mailtls';
const code: ErrorCode = 'ERR_KEY_PASSPHRASE';
const e: MailTlsError = new MailTlsError(code, 'x');
// @ts-expect-error: codes are a closed union
const bad: ErrorCode = 'ERR_NOT_A_CODE';
console.log(e.code, bad);
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          noEmit: true,
          types: ['node'],
        },
        files: ['main.ts'],
      }),
    );
    const ts = sh(
      process.execPath,
      [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      app,
    );
    assert.equal(ts.status, 0, ts.out);
  });

  it('mailtls/peculiar from the tarball: @peculiar/x509 objects in and out; its generator signs with a mailtls key (openssl verifies)', (t) => {
    const app = join(work, 'app');
    writeFileSync(
      join(app, 'peculiar.js'),
      `import 'reflect-metadata'; // @peculiar/x509 needs it loaded first (its own documentation says so)
import { writeFileSync } from 'node:fs';
import { X509Certificate, X509Certificates, X509CertificateGenerator, BasicConstraintsExtension,
  SubjectKeyIdentifierExtension, AuthorityKeyIdentifierExtension, SubjectAlternativeNameExtension } from '@peculiar/x509';
import { assembleChain, createCertificateAuthority, createCSR, generateKeyPair, issueCertificate } from 'mailtls';
import { toCryptoKeyPair, toPeculiarCertificates, toPeculiarPublicKey } from 'mailtls/peculiar';
import * as root from 'mailtls';
if (Object.keys(root).some((k) => /peculiar/i.test(k))) process.exit(5);

// A reseller's chain as @peculiar/x509 objects in, the assembled chain out and back as X509Certificates.
const validity = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2028-01-01T00:00:00Z') };
const at = new Date('2026-06-01T00:00:00Z');
const ca = await createCertificateAuthority({ name: { commonName: 'Package Root' }, intermediate: true, ...validity });
const csr = await createCSR({ subject: { commonName: 'example.com' }, hostnames: ['mail.example.com'] });
const leaf = await issueCertificate(csr.csrPEM, ca.issuer, validity);
const bundle = new X509Certificates([new X509Certificate(ca.root.certPEM), new X509Certificate(ca.intermediate.certPEM)]);
const chain = await assembleChain(new X509Certificate(leaf.certPEM), bundle, { at, roots: [bundle[0]] });
const back = toPeculiarCertificates(chain);
if (!chain.trusted || !(back instanceof X509Certificates) || back.length !== 2) process.exit(6);
if (!back[0].equal(new X509Certificate(leaf.certPEM))) process.exit(7);

// @peculiar/x509's generator signs with a mailtls key.
const caKey = await generateKeyPair({ type: 'ec' });
const keys = await toCryptoKeyPair(caKey);
const rootCert = await X509CertificateGenerator.createSelfSigned({
  serialNumber: '01', name: 'CN=Peculiar Package Root', ...validity, keys, signingAlgorithm: keys.signingAlgorithm,
  extensions: [new BasicConstraintsExtension(true, undefined, true), await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto)],
}, crypto);
const serverKey = await generateKeyPair({ type: 'rsa' });
const server = await X509CertificateGenerator.create({
  serialNumber: '02', subject: 'CN=mail.example.com', issuer: rootCert.subject, ...validity,
  publicKey: toPeculiarPublicKey(serverKey), signingKey: keys.privateKey, signingAlgorithm: keys.signingAlgorithm,
  extensions: [new SubjectAlternativeNameExtension([{ type: 'dns', value: 'mail.example.com' }]),
    await AuthorityKeyIdentifierExtension.create(keys.publicKey, false, crypto)],
}, crypto);
writeFileSync('peculiar-root.pem', rootCert.toString('pem'));
writeFileSync('peculiar-server.pem', server.toString('pem'));
console.log('peculiar ok', back.length);
`,
    );
    const run = sh(process.execPath, ['peculiar.js'], app);
    assert.equal(run.status, 0, run.out);
    assert.match(run.out, /peculiar ok 2/);
    if (skipWithout(t, 'openssl')) return;
    const verify = sh(
      'openssl',
      [
        'verify',
        '-attime',
        String(Date.parse('2026-06-01T00:00:00Z') / 1000),
        '-CAfile',
        'peculiar-root.pem',
        'peculiar-server.pem',
      ],
      app,
    );
    assert.equal(verify.status, 0, verify.out);
    assert.match(verify.out, /peculiar-server\.pem: OK/);
  });
});
