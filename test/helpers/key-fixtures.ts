/**
 * Test helpers of the key tests: run the openssl CLI, hold files in a temporary directory, and check that
 * text carries no key bytes. Keys come from openssl at test time (nothing is checked in).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs openssl with `args` (in `cwd`), returns stdout; throws with stderr when it fails. */
export function openssl(
  args: readonly string[],
  options: { cwd?: string; input?: string | Uint8Array } = {},
): Buffer {
  const r = spawnSync('openssl', args, {
    cwd: options.cwd,
    input: options.input,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(
      `openssl ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString() ?? r.error?.message}`,
    );
  return r.stdout;
}

/** Runs openssl and returns whether it succeeded, with stderr. */
export function opensslStatus(
  args: readonly string[],
  options: { cwd?: string; input?: string | Uint8Array } = {},
): { ok: boolean; stdout: Buffer; stderr: string } {
  const r = spawnSync('openssl', args, { cwd: options.cwd, input: options.input });
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** A temporary directory, removed by `cleanup()`. */
export class TempDir {
  readonly path: string;
  constructor(prefix = 'mailtls-keys-') {
    this.path = mkdtempSync(join(tmpdir(), prefix));
  }
  file(name: string): string {
    return join(this.path, name);
  }
  write(name: string, data: string | Uint8Array): string {
    const p = this.file(name);
    writeFileSync(p, data, { mode: 0o600 });
    return p;
  }
  read(name: string): Buffer {
    return readFileSync(this.file(name));
  }
  text(name: string): string {
    return readFileSync(this.file(name), 'utf8');
  }
  /** Runs openssl inside the directory. */
  openssl(args: readonly string[], input?: string | Uint8Array): Buffer {
    return openssl(args, input === undefined ? { cwd: this.path } : { cwd: this.path, input });
  }
  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/**
 * Asserts that `text` holds no 16-character run of the hex or base64 encodings of `secret` (in any of the
 * three base64 alignments). Throws an Error naming the leak.
 */
export function assertNoKeyBytes(text: string, secret: Uint8Array, where: string): void {
  const hex = Buffer.from(secret).toString('hex');
  const b64s = [0, 1, 2].map((o) => Buffer.from(secret.subarray(o)).toString('base64'));
  const lower = text.toLowerCase();
  for (let i = 0; i + 16 <= text.length; i++) {
    const w = text.slice(i, i + 16);
    if (hex.includes(lower.slice(i, i + 16))) throw new Error(`${where} contains key bytes as hex near ${i}`);
    for (const b of b64s)
      if (b.includes(w)) throw new Error(`${where} contains key bytes as base64 near ${i}`);
  }
}

/** Runs of fast-check properties: MAILTLS_FUZZ_RUNS or the given default. */
export function fuzzRuns(defaultRuns: number): number {
  const n = Number(process.env.MAILTLS_FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : defaultRuns;
}
