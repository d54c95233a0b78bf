// Interactive `mailtls csr` on a pseudo terminal: host names suggested from the bare domain (Public Suffix
// List aware), the output directory checked before any question, Ctrl-C exits 130 with nothing written.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { skipWithout } from '../helpers/peers.js';
import { mailtlsOnTTY, mainJs, openssl, scratch } from './helpers.js';

function opensslSAN(csr: string): string {
  const text = openssl(['req', '-in', csr, '-noout', '-text']);
  return /X509v3 Subject Alternative Name:\s*\n\s*([^\n]+)/.exec(text)?.[1]?.trim() ?? '';
}

describe('mailtls csr on a terminal', () => {
  it('a Common Name mail.example.co.uk: names suggested from example.co.uk, never mail.mail.example.co.uk', (t) => {
    if (skipWithout(t, 'script')) return;
    const dir = scratch();
    const answers = ['GB', 'Greater London', 'London', 'Example Ltd', '.', 'mail.example.co.uk', '.', ''];
    const r = mailtlsOnTTY(['csr', '--type', 'ec', '--out-dir', dir], `${answers.join('\n')}\n`);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /Note: use the bare domain as Common Name \(example\.co\.uk\)/);
    assert.match(r.output, /\[example\.co\.uk smtp\.example\.co\.uk imap\.example\.co\.uk\]: /);
    assert.doesNotMatch(r.output, /mail\.mail\./);
    assert.equal(
      opensslSAN(join(dir, 'req.pem')),
      'DNS:mail.example.co.uk, DNS:example.co.uk, DNS:smtp.example.co.uk, DNS:imap.example.co.uk',
    );
  });

  it('a missing --out-dir is refused before the first question, naming the directory', (t) => {
    if (skipWithout(t, 'script')) return;
    const dir = join(scratch(), 'not-made-yet');
    const r = mailtlsOnTTY(['csr', '--type', 'ec', '--out-dir', dir], 'US\n');
    assert.equal(r.status, 2, r.output);
    assert.match(r.output, new RegExp(`ERR_CLI_WRITE\\S*: The output directory ${dir} does not exist`));
    assert.doesNotMatch(r.output, /Country Name/);
  });

  it('Ctrl-C at a question exits 130 and writes nothing', async (t) => {
    if (skipWithout(t, 'script')) return;
    const dir = scratch();
    // Typed as a person would: each answer once its question is on the screen, then Ctrl-C at the third.
    const command = [process.execPath, mainJs, 'csr', '--type', 'ec', '--out-dir', dir]
      .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...process.env, TERM: 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    const steps: [RegExp, string][] = [
      [/Country Name/, 'US\r'],
      [/State or Province Name/, 'California\r'],
      [/Locality Name/, '\x03'],
    ];
    const status = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        screen += chunk;
        const next = steps[0];
        if (next?.[0].test(screen)) {
          steps.shift();
          child.stdin.write(next[1]);
        }
      });
      child.on('close', (code) => resolve(code));
    });
    assert.equal(steps.length, 0, screen);
    assert.equal(status, 130, screen);
    assert.deepEqual(readdirSync(dir), []);
  });
});
