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
 * @module pem
 */
export * from '../internal/encoding/pem.js';
