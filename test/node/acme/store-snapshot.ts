/** A listing of a directory tree that shows any change: to compare a store before and after a dry run. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every entry under `root`: path, kind, mode, and the SHA-256 of a file's bytes. */
export function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = statSync(p);
      if (st.isDirectory()) {
        out.push(`${r}/ ${(st.mode & 0o7777).toString(8)}`);
        walk(p, r);
      } else {
        const hash = createHash('sha256').update(readFileSync(p)).digest('hex');
        out.push(`${r} ${(st.mode & 0o7777).toString(8)} ${st.size} ${hash}`);
      }
    }
  };
  walk(root, '');
  return out;
}
