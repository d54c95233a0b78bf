/**
 * `npm run bench`: runs every `bench/*.bench.ts` script (compiled to build/bench) one after the other, shows
 * their output, and writes it with a description of the machine to bench/RESULTS.md.
 *
 *   npm run bench                 # every benchmark
 *   npm run bench -- keys parse   # those whose file name contains one of the words
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const filters = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

function openssl(): string {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'not found';
}

const machine = [
  `- date: ${new Date().toISOString()}`,
  `- CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at start)`,
  `- Node.js ${process.version}, ${openssl()}`,
  `- load average at start: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
].join('\n');
console.log(machine);

const sections: string[] = [];
for (const file of files) {
  console.log(`\n## ${file}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, file)], {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(r.stdout);
  const status = r.status === 0 ? `${secs} s` : `FAILED (exit ${r.status ?? r.signal}) after ${secs} s`;
  console.log(`(${status})`);
  sections.push(
    `## ${file.replace(/\.js$/, '.ts')} (${status})\n\n\`\`\`text\n${r.stdout.trimEnd()}\n\`\`\``,
  );
}

const doc = `# Benchmark results\n\nWritten by \`npm run bench\`${filters.length ? ` (${filters.join(', ')})` : ''}. Figures are medians of repeated rounds; ratios are measured in the same run.\n\n${machine}\n- load average at end: ${loadavg()
  .map((x) => x.toFixed(2))
  .join(' ')}\n\n${sections.join('\n\n')}\n`;
writeFileSync(join(repo, 'bench', 'RESULTS.md'), doc);
console.log('\nwrote bench/RESULTS.md');
