/**
 * `npm run bench`: runs every `bench/*.bench.ts` script (compiled to build/bench) one after the other, shows
 * their output, and writes it with a description of the machine to bench/RESULTS.md.
 *
 *   npm run bench                 # every benchmark
 *   npm run bench -- keys parse   # those whose file name contains one of the words: their sections of
 *                                 # RESULTS.md are replaced, the others kept (each section says when it ran)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

const machine = [
  `- date: ${new Date().toISOString()}`,
  `- CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} GiB free at start)`,
  `- Node.js ${process.version}, ${openssl()}`,
  `- load average at start: ${load()}`,
].join('\n');
console.log(machine);

const sections = new Map<string, string>();
for (const file of files) {
  console.log(`\n## ${file}\n`);
  const started = `${new Date().toISOString()}, load average ${load()}`;
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
  const name = file.replace(/\.js$/, '.ts');
  sections.set(
    name,
    `## ${name} (${status})\n\nRun ${started} at start.\n\n\`\`\`text\n${r.stdout.trimEnd()}\n\`\`\``,
  );
}

const resultsFile = join(repo, 'bench', 'RESULTS.md');
let head = `# Benchmark results\n\nWritten by \`npm run bench\`. Figures are medians of repeated rounds; ratios are measured in the same run.\n\n${machine}\n- load average at end: ${load()}`;
if (filters.length > 0 && existsSync(resultsFile)) {
  // Keep the sections of the benchmarks not run this time, and the description of the full run they came from.
  const old = readFileSync(resultsFile, 'utf8');
  const parts = old.split(/^(?=## \S+\.bench\.ts )/m);
  head = `${parts[0]!.trimEnd()}\n- re-run on ${new Date().toISOString()}: ${files.map((f) => f.replace(/\.js$/, '.ts')).join(', ')}`;
  for (const part of parts.slice(1)) {
    const name = /^## (\S+\.bench\.ts) /.exec(part)?.[1];
    if (name && !sections.has(name)) sections.set(name, part.trimEnd());
  }
}
const ordered = [...sections.keys()].sort().map((k) => sections.get(k)!);
writeFileSync(resultsFile, `${head}\n\n${ordered.join('\n\n')}\n`);
console.log('\nwrote bench/RESULTS.md');
