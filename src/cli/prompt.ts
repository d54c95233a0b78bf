/**
 * Interactive subject prompts for `mailtls csr`, like `openssl req` asks them, with advice for a
 * mail server's certificate as the prompt text (bare domain as Common Name, host names asked separately). Used only when stdin is a TTY and no subject flag was given.
 *
 * Enter accepts the value in brackets; a single `.` leaves a field empty (as in `openssl req`). Each answer
 * is checked at once and asked again when it is not valid.
 *
 * @module cli/prompt
 */
import { createInterface } from 'node:readline';
import { getDomain } from 'tldts/dist/index.esm.min.js';
import { isMailTlsError, normalizeSubject, type SubjectFields, suggestMailHostnames } from '../index.js';
import { CLIError } from './output.js';

/** Asks one question and resolves with the answer (without the line end). */
export type Ask = (question: string) => Promise<string>;

/** What the prompts collected. */
export interface PromptedSubject {
  subject: SubjectFields;
  /** Host names for the subjectAltName besides the Common Name. */
  hostnames: string[];
}

interface Field {
  field: keyof SubjectFields;
  question: string;
  fallback?: string;
}

const FIELDS: readonly Field[] = [
  { field: 'country', question: 'Country Name (2 letter code, e.g. US, DE, GB; not UK or USA)' },
  { field: 'state', question: 'State or Province Name (full name, e.g. California, not CA)' },
  { field: 'locality', question: 'Locality Name (eg, city)' },
  { field: 'organization', question: 'Organization Name (eg, company)' },
  { field: 'organizationalUnit', question: 'Organizational Unit Name (eg, section; may be empty)' },
  {
    field: 'commonName',
    question: 'Common Name (your bare domain, e.g. example.com: without mail. or www.)',
  },
  { field: 'emailAddress', question: 'Email Address (of the administrator)' },
];

/** Left-most labels that name a host of the domain rather than the domain itself. */
const HOST_LABEL = /^(mail|www|smtp|imap|pop|pop3|mx)\./i;

/**
 * The bare mail domain of a Common Name: `mail.example.co.uk` gives `example.co.uk`. A left-most host label
 * (`mail.`, `www.`, `smtp.`, ...) is dropped only when what remains is at or under a registrable domain of
 * the Public Suffix List (the library's `tldts`), so `mail.co.uk` stays as it is; anything else is kept.
 */
export function bareDomain(commonName: string): string {
  const name = commonName.toLowerCase().replace(/\.$/, '');
  if (!HOST_LABEL.test(name)) return name;
  const rest = name.replace(/^[^.]+\./, '');
  const registrable = getDomain(rest);
  return registrable !== null && (rest === registrable || rest.endsWith(`.${registrable}`)) ? rest : name;
}

/**
 * Asks for every subject field and the host names, like `openssl req`.
 * @throws CLIError ERR_CLI_USAGE when the input ends before the Common Name was given
 */
export async function promptSubject(ask: Ask, write: (s: string) => void): Promise<PromptedSubject> {
  write(
    'You are about to be asked to enter information that will be incorporated into your certificate request.\n' +
      'Press Enter to accept the value in [brackets]; enter "." to leave a field empty.\n' +
      'No pass phrase is asked for: the key is written unencrypted (mode 0600) so that the mail server can\n' +
      'start unattended.\n-----\n',
  );
  const subject: SubjectFields = {};
  for (const f of FIELDS) {
    for (;;) {
      const answer = (await ask(`${f.question} [${f.fallback ?? ''}]: `)).trim();
      const value = answer === '.' ? '' : answer === '' ? (f.fallback ?? '') : answer;
      if (value === '' && f.field === 'commonName') {
        write('The Common Name is required: type your mail domain, e.g. example.com.\n');
        continue;
      }
      if (value === '') break;
      try {
        const normal = normalizeSubject({ [f.field]: value });
        subject[f.field] = normal[f.field];
        if (f.field === 'commonName' && bareDomain(value) !== value.toLowerCase())
          write(
            `Note: use the bare domain as Common Name (${bareDomain(value)}); ` +
              'the host names go into the next question.\n',
          );
        break;
      } catch (e) {
        if (!isMailTlsError(e)) throw e;
        write(`${e.message}\n`);
      }
    }
  }
  const cn = subject.commonName;
  let suggestion: string[] = [];
  try {
    // Suggested from the bare domain: a Common Name mail.example.co.uk suggests smtp.example.co.uk, never
    // mail.mail.example.co.uk.
    if (cn !== undefined)
      suggestion = suggestMailHostnames(bareDomain(cn)).filter((n) => n !== cn.toLowerCase());
  } catch {
    suggestion = [];
  }
  const answer = (
    await ask(
      `Other host names the server answers on (MX, SMTP, IMAP, POP; separated by spaces) [${suggestion.join(' ')}]: `,
    )
  ).trim();
  const hostnames = answer === '.' ? [] : answer === '' ? suggestion : answer.split(/[\s,]+/).filter(Boolean);
  return { subject, hostnames };
}

/**
 * An {@link Ask} on the terminal: reads stdin line by line (lines typed or pasted ahead are kept for the
 * next questions), writes the questions to stderr.
 * @throws CLIError ERR_CLI_USAGE when stdin ends (Ctrl-D) before an answer
 */
export function terminalAsk(): { ask: Ask; close: () => void } {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const lines: string[] = [];
  let closed = false;
  let waiting: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  const ended = () =>
    new CLIError('ERR_CLI_USAGE', 'Input ended before every question was answered: no CSR was made.');
  rl.on('line', (line) => {
    if (waiting === undefined) lines.push(line);
    else {
      const w = waiting;
      waiting = undefined;
      w.resolve(line);
    }
  });
  // Ctrl-C at a question (the terminal is in raw mode, so it arrives as a key, not a signal): stop at once
  // with the status shells expect from an interrupt (128 + SIGINT = 130). Nothing has been written yet.
  rl.on('SIGINT', () => {
    process.stderr.write('^C\n');
    rl.close();
    process.exit(130);
  });
  rl.on('close', () => {
    closed = true;
    waiting?.reject(ended());
    waiting = undefined;
  });
  const ask: Ask = (question) =>
    new Promise<string>((resolve, reject) => {
      const next = lines.shift();
      if (next !== undefined) {
        process.stderr.write(`${question}${next}\n`);
        resolve(next);
      } else if (closed) reject(ended());
      else {
        waiting = { resolve, reject };
        rl.setPrompt(question);
        rl.prompt();
      }
    });
  return { ask, close: () => rl.close() };
}
