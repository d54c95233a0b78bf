/**
 * PEM armour (RFC 7468, with the RFC 1421 headers of legacy encrypted keys): parse every block of a text,
 * pick blocks by label, and encode DER as PEM. The model is Go's `encoding/pem`, with line-numbered
 * diagnostics.
 *
 * Two parsing modes:
 * - **lax** (default) accepts RFC 7468's `laxtextualmsg` plus what OpenSSL's PEM reader tolerates: explanatory
 *   text around blocks, CRLF/CR/LF and mixed line ends, leading and trailing whitespace, empty lines and any
 *   line length in the base64, whitespace inside lines, a UTF-8 byte-order mark, trailing control characters,
 *   a missing final newline, and RFC 1421 headers (`Proc-Type`, `DEK-Info`, ...) followed by an empty line.
 *   Blocks with headers follow OpenSSL's rules for them: `Proc-Type` first, an ENCRYPTED one followed by
 *   `DEK-Info: <cipher>,<hex IV>`, base64 in lines of at most 64 characters of which only the last is shorter.
 * - **strict** accepts only RFC 7468's `stricttextualmsg` per block (explanatory text between blocks is still
 *   allowed, as RFC 7468 section 2 requires): exact boundary lines, a label of the RFC grammar, no headers, no
 *   whitespace, 64-column lines with a shorter final line, a line break after the END line.
 *
 * Both modes reject, with a `PEMError` whose message names the line: mismatched BEGIN/END labels,
 * malformed END lines, END lines without a BEGIN, BEGIN lines without an END, characters outside base64,
 * misplaced or surplus `=` padding, a wrong number of base64 characters, non-zero padding bits. Messages and
 * details never contain the base64 text (it may be a private key). Parsing is linear in the input size.
 *
 * Where lax mode is stricter than OpenSSL 3.0 (which mail servers use), on purpose: OpenSSL stops decoding at
 * a `-` inside the base64 and drops the rest, accepts non-zero padding bits, and skips a block whose BEGIN line
 * is damaged (or a stray END line) to read the next one; here each of those is an error, so that a damaged
 * file never silently loses data or a certificate of a chain.
 *
 * @module internal/encoding/pem
 */

import type { PEMErrorCode } from '../errors.js';
import { PEMError } from '../errors.js';
import { assertBytes, assertString, fromBase64 } from './bytes.js';

/**
 * One PEM block of a text: its label, its decoded DER, its RFC 1421 headers and where it sits.
 *
 * @example
 * ```ts
 * const [block] = parsePEM(text);
 * console.log(block.label, block.bytes.length, block.headers['Proc-Type'], text.slice(block.start, block.end));
 * ```
 */
export interface PEMBlock {
  /** The label between `-----BEGIN ` and `-----`, e.g. `CERTIFICATE`, `PRIVATE KEY`, `RSA PRIVATE KEY`. */
  readonly label: string;
  /** The decoded base64 body (DER for every X.509/PKCS label). */
  readonly bytes: Uint8Array;
  /**
   * RFC 1421 headers, e.g. `{ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'DES-EDE3-CBC,ABCD...' }`; `{}` when none.
   * Folded (continued) header lines are unfolded.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Offset (UTF-16 code units) of the first `-` of the BEGIN line in the input text. */
  readonly start: number;
  /** Offset just past the last `-` of the END line: `text.slice(start, end)` is the whole block. */
  readonly end: number;
}

/**
 * Options of {@link parsePEM}, {@link decodePEM} and {@link decodePEMAll}.
 *
 * @example
 * ```ts
 * parsePEM(text, { strict: true, maxBytes: 1024 * 1024, maxBlocks: 20 });
 * ```
 */
export interface ParsePEMOptions {
  /**
   * `true`: accept only RFC 7468 strict blocks (`stricttextualmsg`). Default `false` (lax): accept what RFC
   * 7468's lax grammar and OpenSSL accept.
   */
  strict?: boolean;
  /** Largest accepted input, in UTF-16 code units (bytes for ASCII text). Default 16 MiB. */
  maxBytes?: number;
  /** Largest accepted number of blocks. Default 10 000. */
  maxBlocks?: number;
}

const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_BLOCKS = 10_000;
const LINE_WIDTH = 64;
const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

/** 1: base64 alphabet; 2: '='; 3: lax whitespace (SP, HTAB, VT, FF); 0: anything else. */
const CLASS = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  CLASS[c.charCodeAt(0)] = 1;
CLASS[0x3d] = 2;
for (const c of [0x20, 0x09, 0x0b, 0x0c]) CLASS[c] = 3;

function charClass(code: number): number {
  return code < 128 ? CLASS[code]! : 0;
}

function isLaxSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0b || code === 0x0c;
}

/** A line of the input: content is `[start, end)`, the line terminator (if any) `[end, next)`. */
interface Line {
  readonly no: number;
  readonly start: number;
  readonly end: number;
  readonly next: number;
}

type LineKind = 'begin' | 'end' | 'bad-begin' | 'bad-end' | 'dash' | 'text';

interface Classified {
  readonly kind: LineKind;
  /** Start of the content after leading whitespace (and a BOM on line 1). */
  readonly from: number;
  /** End of the content before trailing whitespace and control characters. */
  readonly to: number;
  readonly label: string;
}

interface RawBlock {
  readonly label: string;
  readonly begin: Line;
  readonly beginFrom: number;
  readonly beginTo: number;
  readonly body: Line[];
  readonly endLine: Line;
  readonly endFrom: number;
  readonly endTo: number;
}

function fail(code: PEMErrorCode, message: string, details: Record<string, unknown> = {}): never {
  throw new PEMError(code, message, { details });
}

/** A label fit to appear in a message: short ones quoted, long or odd ones only described. */
function showLabel(label: string): string {
  if (label.length <= 40 && /^[\x20-\x7e]*$/.test(label)) return label === '' ? '(empty label)' : label;
  return `(a ${label.length}-character label)`;
}

function nextLine(text: string, pos: number, no: number): Line {
  let i = pos;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) break;
    i++;
  }
  let next = i;
  if (i < n) next = text.charCodeAt(i) === 0x0d && text.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
  return { no, start: pos, end: i, next };
}

function classify(text: string, line: Line): Classified {
  let from = line.start;
  if (from === 0 && text.charCodeAt(0) === 0xfeff) from = 1;
  while (from < line.end && isLaxSpace(text.charCodeAt(from))) from++;
  let to = line.end;
  while (to > from && text.charCodeAt(to - 1) <= 0x20) to--;
  if (text.charCodeAt(from) !== 0x2d) return { kind: 'text', from, to, label: '' };
  if (text.startsWith(BEGIN, from)) {
    if (to - from >= BEGIN.length + DASHES.length && text.startsWith(DASHES, to - DASHES.length)) {
      const label = text.slice(from + BEGIN.length, to - DASHES.length);
      if (!label.includes(DASHES)) return { kind: 'begin', from, to, label };
    }
    return { kind: 'bad-begin', from, to, label: '' };
  }
  if (text.startsWith('-----BEGIN', from)) return { kind: 'bad-begin', from, to, label: '' };
  if (text.startsWith(END, from)) {
    if (to - from >= END.length + DASHES.length && text.startsWith(DASHES, to - DASHES.length)) {
      const label = text.slice(from + END.length, to - DASHES.length);
      if (!label.includes(DASHES)) return { kind: 'end', from, to, label };
    }
    return { kind: 'bad-end', from, to, label: '' };
  }
  if (text.startsWith('-----END', from)) return { kind: 'bad-end', from, to, label: '' };
  return { kind: 'dash', from, to, label: '' };
}

function checkOptions(options: ParsePEMOptions | undefined): Required<ParsePEMOptions> {
  if (options === undefined)
    return { strict: false, maxBytes: DEFAULT_MAX_BYTES, maxBlocks: DEFAULT_MAX_BLOCKS };
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const { strict = false, maxBytes = DEFAULT_MAX_BYTES, maxBlocks = DEFAULT_MAX_BLOCKS } = options;
  if (typeof strict !== 'boolean') throw new TypeError('options.strict must be a boolean');
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) {
    throw new RangeError('options.maxBytes must be a non-negative number');
  }
  if (typeof maxBlocks !== 'number' || !(maxBlocks >= 1)) {
    throw new RangeError('options.maxBlocks must be a number of at least 1');
  }
  return { strict, maxBytes, maxBlocks };
}

function looksBinary(text: string): boolean {
  const n = Math.min(text.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0b && c !== 0x0c) || c === 0xfffd) {
      return true;
    }
  }
  return false;
}

function noBlockError(text: string, badBegin: number | undefined): never {
  const binary = looksBinary(text);
  const sequence = text.charCodeAt(0) === 0x30;
  let message = "this text holds no PEM block (no '-----BEGIN <LABEL>-----' line)";
  if (text.trim() === '') {
    message += ': the input is empty; check the file path and that the file was written completely';
  } else if (sequence) {
    message +=
      '; it starts with byte 0x30 (an ASN.1 SEQUENCE), so it is probably DER, not PEM: read it with the DER ' +
      'functions or convert it, e.g. `openssl x509 -inform DER -in FILE -out FILE.pem` for a certificate or ' +
      '`openssl pkey -inform DER -in FILE -out FILE.pem` for a key';
  } else if (binary) {
    message +=
      '; it looks binary: is it DER or PKCS#12 (.pfx/.p12)? Read DER with the DER functions or convert it with ' +
      '`openssl x509 -inform DER -in FILE -out FILE.pem`; open PKCS#12 with the PKCS#12 functions';
  } else if (badBegin !== undefined) {
    message +=
      `; line ${badBegin} starts like a BEGIN line but is malformed: it must read exactly ` +
      "'-----BEGIN <LABEL>-----' (five dashes on each side, one space after BEGIN, nothing after the dashes)";
  } else if (/^\s*MII[A-Za-z0-9+/]/.test(text.slice(0, 64))) {
    message +=
      "; it looks like bare base64 without the '-----BEGIN <LABEL>-----' and '-----END <LABEL>-----' lines: " +
      'add them (e.g. CERTIFICATE) around the base64';
  } else if (/^\s*---- BEGIN SSH2 /.test(text.slice(0, 64))) {
    message += '; it is an SSH2 (RFC 4716) public key, not a PEM block';
  } else {
    message += '; is this the right file?';
  }
  return fail('ERR_PEM_NO_BLOCK', message, {
    looksBinary: binary,
    startsWithSequence: sequence,
    ...(badBegin === undefined ? {} : { malformedBeginLine: badBegin }),
  });
}

/** Splits the text into raw blocks (boundaries only); body lines are checked later. */
function scan(text: string, maxBlocks: number): RawBlock[] {
  const blocks: RawBlock[] = [];
  let pos = 0;
  let no = 1;
  let badBegin: number | undefined;
  let open: { label: string; begin: Line; from: number; to: number; body: Line[] } | undefined;
  while (pos < text.length) {
    const line = nextLine(text, pos, no);
    const c = classify(text, line);
    if (open === undefined) {
      if (c.kind === 'begin') {
        if (blocks.length >= maxBlocks) {
          fail(
            'ERR_PEM_TOO_LARGE',
            `line ${no}: more than ${maxBlocks} PEM blocks; split the file or raise maxBlocks`,
            { line: no, maxBlocks },
          );
        }
        open = { label: c.label, begin: line, from: c.from, to: c.to, body: [] };
      } else if (c.kind === 'bad-begin') {
        badBegin ??= no;
      } else if (c.kind === 'end') {
        const hint =
          badBegin === undefined
            ? 'the BEGIN line is missing'
            : `line ${badBegin} starts like a BEGIN line but is malformed`;
        fail(
          'ERR_PEM_BOUNDARY',
          `line ${no}: '-----END ${showLabel(c.label)}-----' has no BEGIN line before it (${hint}); ` +
            'restore the block from its source',
          { line: no, label: showLabel(c.label) },
        );
      }
    } else if (c.kind === 'text') {
      open.body.push(line);
    } else if (c.kind === 'end') {
      if (c.label !== open.label) {
        fail(
          'ERR_PEM_LABEL_MISMATCH',
          `line ${no}: '-----END ${showLabel(c.label)}-----' does not close '-----BEGIN ${showLabel(open.label)}-----' ` +
            `of line ${open.begin.no}: the END line must repeat the BEGIN label; the file may have been spliced ` +
            'together from two files',
          {
            line: no,
            beginLine: open.begin.no,
            beginLabel: showLabel(open.label),
            endLabel: showLabel(c.label),
          },
        );
      }
      blocks.push({
        label: open.label,
        begin: open.begin,
        beginFrom: open.from,
        beginTo: open.to,
        body: open.body,
        endLine: line,
        endFrom: c.from,
        endTo: c.to,
      });
      open = undefined;
    } else if (c.kind === 'begin') {
      fail(
        'ERR_PEM_TRUNCATED',
        `line ${open.begin.no}: the '-----BEGIN ${showLabel(open.label)}-----' block has no END line before the ` +
          `next BEGIN line (line ${no}): the block is truncated; restore the complete file`,
        { line: open.begin.no, nextBeginLine: no, label: showLabel(open.label) },
      );
    } else {
      fail(
        'ERR_PEM_BOUNDARY',
        `line ${no} should be the END line of the '${showLabel(open.label)}' block of line ${open.begin.no} but ` +
          `is malformed: it must read exactly '-----END ${showLabel(open.label)}-----' (five dashes on each ` +
          'side, nothing else on the line)',
        { line: no, beginLine: open.begin.no, label: showLabel(open.label) },
      );
    }
    pos = line.next;
    no++;
  }
  if (open !== undefined) {
    fail(
      'ERR_PEM_TRUNCATED',
      `line ${open.begin.no}: the '-----BEGIN ${showLabel(open.label)}-----' block has no ` +
        `'-----END ${showLabel(open.label)}-----' line before the text ends (line ${no - 1}): the file is ` +
        'truncated (incomplete copy or download?); restore the complete file',
      { line: open.begin.no, lastLine: no - 1, label: showLabel(open.label) },
    );
  }
  if (blocks.length === 0) noBlockError(text, badBegin);
  return blocks;
}

function describeChar(code: number): string {
  if (code > 0x20 && code < 0x7f) return `'${String.fromCharCode(code)}'`;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

function trimEnd(text: string, line: Line): number {
  let to = line.end;
  while (to > line.start && text.charCodeAt(to - 1) <= 0x20) to--;
  return to;
}

/** Header names {@link encodePEM} writes and {@link parsePEM} accepts: RFC 822 tokens such as `DEK-Info`. */
function validHeaderName(name: string): boolean {
  return name.length <= 64 && /^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(name);
}

const PROC_TYPE = /^\d+,(ENCRYPTED|MIC-ONLY|MIC-CLEAR|CRL)$/;
const DEK_INFO = /^[A-Za-z0-9-]+,(?:[0-9A-Fa-f]{2})+$/;

/**
 * Checks the RFC 1421 rules OpenSSL also enforces: Proc-Type comes first, an ENCRYPTED Proc-Type is followed
 * by `DEK-Info: <cipher>,<hex IV>`. Returns a reason, or undefined when the headers are fine.
 */
function headerProblem(
  headers: Readonly<Record<string, string>>,
  names: readonly string[],
): string | undefined {
  const proc = headers['Proc-Type'];
  const dek = headers['DEK-Info'];
  if (proc !== undefined) {
    if (names[0] !== 'Proc-Type')
      return 'the Proc-Type header must come first (RFC 1421; OpenSSL rejects it otherwise)';
    const m = PROC_TYPE.exec(proc);
    if (m === null) {
      return "the Proc-Type header must read '4,ENCRYPTED' (or another RFC 1421 type): the header is damaged";
    }
    if (m[1] === 'ENCRYPTED' && names[1] !== 'DEK-Info') {
      return "Proc-Type says ENCRYPTED, so a 'DEK-Info: <CIPHER>,<IV as hex>' header must follow it directly";
    }
  }
  if (dek !== undefined) {
    if (proc === undefined) return "a DEK-Info header needs a 'Proc-Type: 4,ENCRYPTED' header before it";
    if (!DEK_INFO.test(dek)) {
      return "the DEK-Info header must read '<CIPHER>,<IV as hex>' (e.g. AES-256-CBC,0123...): the header is damaged";
    }
  }
  return undefined;
}

function setOwn(target: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

interface Headers {
  readonly headers: Record<string, string>;
  /** Index of the first body line after the headers and their empty line. */
  readonly next: number;
}

function parseHeaders(text: string, block: RawBlock): Headers {
  const headers: Record<string, string> = {};
  const names: string[] = [];
  const body = block.body;
  let current: string | undefined;
  for (let i = 0; i < body.length; i++) {
    const line = body[i]!;
    const to = trimEnd(text, line);
    if (to === line.start) {
      const problem = headerProblem(headers, names);
      if (problem !== undefined) {
        fail('ERR_PEM_HEADERS', `line ${block.begin.no + 1}: ${problem}`, {
          line: block.begin.no + 1,
          beginLine: block.begin.no,
          label: showLabel(block.label),
        });
      }
      return { headers, next: i + 1 };
    }
    const first = text.charCodeAt(line.start);
    if ((first === 0x20 || first === 0x09) && current !== undefined) {
      setOwn(headers, current, (headers[current]! + text.slice(line.start, to)).trim());
      continue;
    }
    const colon = text.indexOf(':', line.start);
    if (colon < 0 || colon >= to) {
      fail(
        'ERR_PEM_HEADERS',
        `line ${line.no}: the headers of the '${showLabel(block.label)}' block (line ${block.begin.no}) must be ` +
          'followed by an empty line before the base64 data (RFC 1421; OpenSSL requires it)',
        { line: line.no, label: showLabel(block.label) },
      );
    }
    const name = text.slice(line.start, colon).trim();
    if (!validHeaderName(name)) {
      fail(
        'ERR_PEM_HEADERS',
        `line ${line.no}: malformed header: a header reads 'Name: value', the name made of letters, digits and ` +
          "'-' (e.g. 'DEK-Info: AES-256-CBC,<hex IV>')",
        { line: line.no, label: showLabel(block.label) },
      );
    }
    if (Object.hasOwn(headers, name)) {
      fail('ERR_PEM_HEADERS', `line ${line.no}: the header ${showLabel(name)} appears twice; keep one`, {
        line: line.no,
        header: name,
      });
    }
    setOwn(headers, name, text.slice(colon + 1, to).trim());
    names.push(name);
    current = name;
  }
  return fail(
    'ERR_PEM_HEADERS',
    `line ${block.endLine.no}: the '${showLabel(block.label)}' block of line ${block.begin.no} has headers but ` +
      'no empty line and base64 data after them',
    { line: block.endLine.no, label: showLabel(block.label) },
  );
}

function base64Fail(
  line: number,
  message: string,
  block: RawBlock,
  extra: Record<string, unknown> = {},
): never {
  return fail('ERR_PEM_BASE64', `line ${line}: ${message}`, {
    line,
    beginLine: block.begin.no,
    label: showLabel(block.label),
    ...extra,
  });
}

function strictFail(line: number, message: string, block: RawBlock): never {
  return fail(
    'ERR_PEM_STRICT',
    `line ${line}: ${message} (RFC 7468 strict); parse without { strict: true } to accept it`,
    { line, beginLine: block.begin.no, label: showLabel(block.label) },
  );
}

/** Decodes the body lines of a block (from index `from`): validates characters, padding and line rules. */
function decodeBody(text: string, block: RawBlock, from: number, encrypted: boolean): Uint8Array {
  const parts: string[] = [];
  let count = 0;
  let pads = 0;
  let lastLine = block.begin.no;
  const body = block.body;
  if (encrypted) {
    for (let i = from; i < body.length; i++) {
      const line = body[i]!;
      if (trimEnd(text, line) === line.start) {
        base64Fail(
          line.no,
          'empty line inside the base64 data of an encrypted (Proc-Type) block; remove it (OpenSSL rejects it)',
          block,
        );
      }
    }
  }
  for (let i = from; i < body.length; i++) {
    const line = body[i]!;
    const to = trimEnd(text, line);
    if (encrypted) {
      const width = to - line.start;
      if (width > LINE_WIDTH) {
        base64Fail(
          line.no,
          `a line of ${width} characters in an encrypted (Proc-Type) block: such blocks need base64 lines of ` +
            `at most ${LINE_WIDTH} characters (OpenSSL rejects longer ones); re-wrap the base64 at 64 columns`,
          block,
          { width },
        );
      }
      if (width < LINE_WIDTH && i !== body.length - 1) {
        base64Fail(
          line.no,
          `a line of ${width} characters before the last line of an encrypted (Proc-Type) block: only the last ` +
            'line may be shorter than 64 characters (OpenSSL rejects it); re-wrap the base64 at 64 columns',
          block,
          { width },
        );
      }
    }
    let run = line.start;
    for (let j = line.start; j < to; j++) {
      const code = text.charCodeAt(j);
      const k = charClass(code);
      if (k === 1) {
        if (pads > 0) {
          base64Fail(
            line.no,
            `base64 data continues after '=' padding (column ${j - line.start + 1}); '=' may only end the data: ` +
              'the block is damaged or two blocks were merged',
            block,
            { column: j - line.start + 1 },
          );
        }
        count++;
        continue;
      }
      if (j > run) parts.push(text.slice(run, j));
      run = j + 1;
      if (k === 2) {
        pads++;
        if (pads > 2) {
          base64Fail(line.no, `more than two '=' padding characters (column ${j - line.start + 1})`, block, {
            column: j - line.start + 1,
          });
        }
        parts.push('=');
      } else if (k !== 3) {
        const column = j - line.start + 1;
        const colon = text.indexOf(':', line.start);
        const hint =
          colon >= 0 && colon < to
            ? ": the line looks like a 'Name: value' header, but headers must come right after the BEGIN line " +
              'and be followed by an empty line'
            : code === 0x2d
              ? ': a boundary line must start with five dashes'
              : '';
        base64Fail(
          line.no,
          `character ${describeChar(code)} at column ${column} is not allowed in base64${hint}`,
          block,
          { column },
        );
      }
    }
    if (to > run) parts.push(text.slice(run, to));
    if (to > line.start) lastLine = line.no;
  }
  const b64 = parts.join('');
  if (b64.length % 4 !== 0) {
    base64Fail(
      lastLine,
      `the base64 data of the '${showLabel(block.label)}' block (line ${block.begin.no}) has ${count + pads} ` +
        'characters, not a multiple of 4: characters are missing or extra (truncated or edited file?)',
      block,
      { characters: count + pads },
    );
  }
  const bytes = fromBase64(b64);
  if (bytes === undefined) {
    base64Fail(
      lastLine,
      `the final base64 group of the '${showLabel(block.label)}' block (line ${block.begin.no}) has non-zero ` +
        'padding bits or misplaced padding: the data was altered',
      block,
    );
  }
  return bytes;
}

function isStrictLabel(label: string): boolean {
  let prevSep = true; // at start, a separator is not allowed
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x2d || c === 0x20) {
      if (prevSep) return false;
      prevSep = true;
    } else if (c >= 0x21 && c <= 0x7e) {
      prevSep = false;
    } else {
      return false;
    }
  }
  return label.length === 0 || !prevSep;
}

function checkStrict(text: string, block: RawBlock): void {
  const { begin, endLine } = block;
  if (block.beginFrom !== begin.start || block.beginTo !== begin.end) {
    strictFail(
      begin.no,
      'the BEGIN line has characters (whitespace, a byte-order mark) before or after it',
      block,
    );
  }
  if (!isStrictLabel(block.label)) {
    strictFail(
      begin.no,
      'the label must be printable ASCII words separated by single spaces or hyphens',
      block,
    );
  }
  const body = block.body;
  if (body.length === 0) strictFail(endLine.no, 'the block has no base64 data', block);
  for (let i = 0; i < body.length; i++) {
    const line = body[i]!;
    const width = line.end - line.start;
    for (let j = line.start; j < line.end; j++) {
      const k = charClass(text.charCodeAt(j));
      if (k !== 1 && k !== 2) {
        strictFail(
          line.no,
          width === 0
            ? 'empty lines are not allowed in the base64 data'
            : `whitespace at column ${j - line.start + 1}`,
          block,
        );
      }
    }
    if (width === 0) strictFail(line.no, 'empty lines are not allowed in the base64 data', block);
    const last = i === body.length - 1;
    if (!last && width !== LINE_WIDTH) {
      strictFail(
        line.no,
        `a base64 line of ${width} characters; every line but the last must have 64`,
        block,
      );
    }
    if (last && width > LINE_WIDTH) {
      strictFail(line.no, `a base64 line of ${width} characters; lines may have at most 64`, block);
    }
  }
  if (block.endFrom !== endLine.start || block.endTo !== endLine.end) {
    strictFail(endLine.no, 'the END line has characters (whitespace) before or after it', block);
  }
  if (endLine.next === endLine.end) strictFail(endLine.no, 'the END line must end with a line break', block);
}

/**
 * Parses every PEM block of a text, with the explanatory text around them skipped. Every block must be
 * well-formed: one damaged block fails the whole text (see the module notes for the lax and strict grammars).
 *
 * @param text - The PEM text (e.g. a file read as UTF-8).
 * @param options - `strict` (RFC 7468 strict instead of lax), `maxBytes`, `maxBlocks`.
 * @returns Every block, in order of appearance.
 * @throws PEMError `ERR_PEM_NO_BLOCK` (no block; the message says when the input looks like DER),
 *   `ERR_PEM_LABEL_MISMATCH` (END label differs from BEGIN label), `ERR_PEM_TRUNCATED` (BEGIN without END),
 *   `ERR_PEM_BOUNDARY` (malformed END line, END line without BEGIN), `ERR_PEM_BASE64` (bad base64, padding or
 *   line layout), `ERR_PEM_HEADERS` (malformed RFC 1421 headers), `ERR_PEM_STRICT` (strict mode only: input
 *   outside RFC 7468's strict grammar), `ERR_PEM_TOO_LARGE` (more than `maxBytes` or `maxBlocks`).
 * @throws TypeError when `text` is not a string or an option has the wrong type; RangeError for an option out
 *   of range.
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { parsePEM } from 'mailtls';
 * for (const block of parsePEM(readFileSync('/etc/ssl/mail/fullchain.pem', 'utf8'))) {
 *   console.log(block.label, block.bytes.length);
 * }
 * ```
 */
export function parsePEM(text: string, options?: ParsePEMOptions): PEMBlock[] {
  assertString(text, 'text');
  const opts = checkOptions(options);
  if (text.length > opts.maxBytes) {
    fail(
      'ERR_PEM_TOO_LARGE',
      `the PEM text has ${text.length} characters, more than the limit of ${opts.maxBytes}; is this the right ` +
        'file? Raise maxBytes if it is',
      { length: text.length, maxBytes: opts.maxBytes },
    );
  }
  const raw = scan(text, opts.maxBlocks);
  const out: PEMBlock[] = [];
  for (const block of raw) {
    const first = block.body[0];
    let headers: Record<string, string> = {};
    let from = 0;
    const hasHeaders = first !== undefined && text.slice(first.start, first.end).includes(':');
    if (hasHeaders) {
      if (opts.strict) {
        strictFail(
          first.no,
          'headers (Proc-Type, DEK-Info) are not allowed; an encrypted legacy key can be converted with ' +
            '`openssl pkcs8 -topk8`',
          block,
        );
      }
      const parsed = parseHeaders(text, block);
      headers = parsed.headers;
      from = parsed.next;
    }
    const bytes = decodeBody(text, block, from, hasHeaders);
    if (opts.strict) checkStrict(text, block);
    out.push(
      Object.freeze({
        label: block.label,
        bytes,
        headers: Object.freeze(headers),
        start: block.beginFrom,
        end: block.endTo,
      }),
    );
  }
  return out;
}

function expectedList(expected: string | readonly string[]): readonly string[] {
  const list = typeof expected === 'string' ? [expected] : expected;
  if (!Array.isArray(list) || list.length === 0 || !list.every((l) => typeof l === 'string')) {
    throw new TypeError('expected must be a label string or a non-empty array of label strings');
  }
  return list;
}

const KEY_LABELS = /PRIVATE KEY$/;

function unexpectedLabel(blocks: readonly PEMBlock[], expected: readonly string[]): never {
  const found = [...new Set(blocks.map((b) => b.label))];
  const foundText = found.map((l) => showLabel(l)).join(', ');
  const wantText = expected.map((l) => showLabel(l)).join(' or ');
  let hint = '';
  const f = found[0] ?? '';
  const wantKey = expected.some((l) => KEY_LABELS.test(l));
  const wantCert = expected.some((l) => l === 'CERTIFICATE');
  if (wantCert && found.every((l) => KEY_LABELS.test(l))) {
    hint = ': inputs may have been switched (the key file given where the certificate belongs?)';
  } else if (wantKey && found.every((l) => l === 'CERTIFICATE')) {
    hint = ': inputs may have been switched (the certificate given where the key belongs?)';
  } else if (expected.includes('PRIVATE KEY') && f === 'ENCRYPTED PRIVATE KEY') {
    hint = ': the key is encrypted; supply its passphrase or decrypt it with `openssl pkey`';
  } else if (expected.includes('PRIVATE KEY') && (f === 'RSA PRIVATE KEY' || f === 'EC PRIVATE KEY')) {
    hint = ': this is a legacy (PKCS#1/SEC1) key; convert it with `openssl pkcs8 -topk8 -nocrypt`';
  } else if (wantCert && /CERTIFICATE REQUEST$/.test(f)) {
    hint = ': this is a certificate signing request, not the certificate the CA issued for it';
  } else if (wantCert && f === 'TRUSTED CERTIFICATE') {
    hint = ': this is an OpenSSL trusted certificate; convert it with `openssl x509 -in FILE -out FILE.pem`';
  }
  const article = (l: string) => (/^[AEIOU]/.test(l) ? 'an' : 'a');
  return fail(
    'ERR_PEM_UNEXPECTED_LABEL',
    found.length === 1
      ? `found ${article(foundText)} ${foundText} where ${article(wantText)} ${wantText} was expected${hint}`
      : `found blocks labelled ${foundText} where ${wantText} was expected${hint}`,
    { found: found.map((l) => showLabel(l)), expected: expected.map((l) => showLabel(l)) },
  );
}

/**
 * Decodes the first PEM block whose label is one of `expected`; other blocks are skipped.
 *
 * @param text - The PEM text.
 * @param expected - The accepted label or labels, e.g. `'CERTIFICATE'` or `['PRIVATE KEY', 'RSA PRIVATE KEY']`.
 * @param options - As for {@link parsePEM}.
 * @throws PEMError `ERR_PEM_UNEXPECTED_LABEL` (blocks exist but none has an expected label; the message
 *   names what was found, e.g. "found a PRIVATE KEY where a CERTIFICATE was expected: inputs may have been
 *   switched"), and every code of {@link parsePEM}.
 * @throws TypeError when `expected` is neither a string nor a non-empty array of strings.
 * @example
 * ```ts
 * import { decodePEM } from 'mailtls';
 * const { bytes: der } = decodePEM(certText, 'CERTIFICATE');
 * ```
 */
export function decodePEM(
  text: string,
  expected: string | readonly string[],
  options?: ParsePEMOptions,
): PEMBlock {
  const want = expectedList(expected);
  const blocks = parsePEM(text, options);
  const hit = blocks.find((b) => want.includes(b.label));
  if (hit === undefined) unexpectedLabel(blocks, want);
  return hit;
}

/**
 * Decodes every PEM block whose label is one of `expected` (e.g. the certificates of a chain file); other
 * blocks are skipped.
 *
 * @param text - The PEM text.
 * @param expected - The accepted label or labels.
 * @param options - As for {@link parsePEM}.
 * @returns The matching blocks in order (at least one).
 * @throws PEMError `ERR_PEM_UNEXPECTED_LABEL` (blocks exist but none has an expected label), and every
 *   code of {@link parsePEM}.
 * @throws TypeError when `expected` is neither a string nor a non-empty array of strings.
 * @example
 * ```ts
 * import { decodePEMAll } from 'mailtls';
 * const chain = decodePEMAll(fullchainText, 'CERTIFICATE').map((b) => b.bytes);
 * ```
 */
export function decodePEMAll(
  text: string,
  expected: string | readonly string[],
  options?: ParsePEMOptions,
): PEMBlock[] {
  const want = expectedList(expected);
  const blocks = parsePEM(text, options);
  const hits = blocks.filter((b) => want.includes(b.label));
  if (hits.length === 0) unexpectedLabel(blocks, want);
  return hits;
}

const B64_CODES = new TextEncoder().encode(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
);

/** Base64 in 64-column lines, each ended by LF; written into one byte buffer so large inputs stay fast. */
function wrappedBase64(der: Uint8Array): string {
  const chars = Math.ceil(der.length / 3) * 4;
  const out = new Uint8Array(chars + Math.ceil(chars / LINE_WIDTH));
  let o = 0;
  let col = 0;
  const put = (code: number) => {
    out[o++] = code;
    if (++col === LINE_WIDTH) {
      out[o++] = 0x0a;
      col = 0;
    }
  };
  for (let i = 0; i < der.length; i += 3) {
    const rest = der.length - i;
    const n = (der[i]! << 16) | ((rest > 1 ? der[i + 1]! : 0) << 8) | (rest > 2 ? der[i + 2]! : 0);
    put(B64_CODES[n >> 18]!);
    put(B64_CODES[(n >> 12) & 63]!);
    put(rest > 1 ? B64_CODES[(n >> 6) & 63]! : 0x3d);
    put(rest > 2 ? B64_CODES[n & 63]! : 0x3d);
  }
  if (col !== 0) out[o++] = 0x0a;
  return new TextDecoder().decode(out.subarray(0, o));
}

/**
 * Encodes DER as a PEM block: LF line ends, base64 in 64-column lines, a final newline; RFC 1421 headers (if
 * any) come first, `Proc-Type` and `DEK-Info` leading, then an empty line.
 *
 * @param label - The label, RFC 7468 grammar (printable ASCII words separated by single spaces or hyphens),
 *   e.g. `CERTIFICATE`.
 * @param der - The bytes to armour (not empty).
 * @param headers - Optional RFC 1421 headers, e.g. `{ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-256-CBC,<hex IV>' }`.
 * @returns The PEM text.
 * @throws TypeError when an argument has the wrong type; RangeError for a label outside the RFC 7468 grammar,
 *   empty `der`, or a header name/value that cannot be written (names: printable ASCII without spaces or ':';
 *   values: printable ASCII without leading or trailing spaces; valid Proc-Type/DEK-Info syntax). No
 *   `PEMError`: encoding cannot fail on valid arguments.
 * @example
 * ```ts
 * import { encodePEM } from 'mailtls';
 * const pem = encodePEM('CERTIFICATE', der); // '-----BEGIN CERTIFICATE-----\nMII...\n-----END CERTIFICATE-----\n'
 * ```
 */
export function encodePEM(
  label: string,
  der: Uint8Array,
  headers?: Readonly<Record<string, string>>,
): string {
  assertString(label, 'label');
  assertBytes(der, 'der');
  if (!isStrictLabel(label)) {
    throw new RangeError(
      'label must be printable ASCII words separated by single spaces or hyphens (RFC 7468)',
    );
  }
  if (der.length === 0) throw new RangeError('der must not be empty');
  let head = '';
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null) throw new TypeError('headers must be an object');
    const names = Object.keys(headers);
    const order = [
      ...names.filter((n) => n === 'Proc-Type'),
      ...names.filter((n) => n === 'DEK-Info'),
      ...names.filter((n) => n !== 'Proc-Type' && n !== 'DEK-Info'),
    ];
    for (const name of order) {
      const value = headers[name];
      if (typeof value !== 'string') throw new TypeError(`header ${name} must have a string value`);
      if (!validHeaderName(name)) {
        throw new RangeError(
          "header names must be letters, digits, '.', '_' and '-', not starting with '-' (e.g. DEK-Info)",
        );
      }
      if (!/^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/.test(value)) {
        throw new RangeError(`header ${name} must be printable ASCII without leading or trailing spaces`);
      }
      head += `${name}: ${value}\n`;
    }
    const problem = headerProblem(headers, order);
    if (problem !== undefined) throw new RangeError(problem);
    if (head !== '') head += '\n';
  }
  return `${BEGIN}${label}${DASHES}\n${head}${wrappedBase64(der)}${END}${label}${DASHES}\n`;
}
