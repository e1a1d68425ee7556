/**
 * keepalived's lexical rules, per keepalived.conf(5): words are separated by whitespace;
 * `#` or `!` starts a comment anywhere outside quotes; `"` and `'` quote, are removed, and
 * keep the whitespace between them, so `ab" c "d` is one word `ab c d`; inside quotes a
 * backslash escapes like the shell. Unquoted `{` and `}` are words of their own, which is
 * what lets `group { VI_1 VI_2 }` stand on one line.
 */

export interface Token {
  readonly text: string;
  /** A quoted `{` is text, never the start of a block. */
  readonly quoted: boolean;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Reads one escape after a backslash at `text[i]`; returns the character and where to go on. */
function readEscape(text: string, i: number): { char: string; next: number } {
  const c = text[i] ?? '';
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { char: simple, next: i + 1 };
  const octal = /^[0-7]{1,3}/.exec(text.slice(i));
  if (octal !== null) return { char: String.fromCharCode(parseInt(octal[0], 8)), next: i + octal[0].length };
  const hex = /^x([0-9a-fA-F]{1,2})/.exec(text.slice(i));
  if (hex !== null) return { char: String.fromCharCode(parseInt(hex[1] ?? '0', 16)), next: i + hex[0].length };
  if (c === 'c' && i + 1 < text.length) return { char: String.fromCharCode((text.charCodeAt(i + 1) & 0x1f)), next: i + 2 };
  return { char: c, next: i + 1 };
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';

export interface TokenizeOptions {
  /**
   * False for `include` lines: keepalived finds includes before it looks at braces, so
   * `include conf.d/{a,b}.conf` is a brace *pattern*, not a block.
   */
  readonly braces?: boolean;
}

/** The words of one line. An unterminated quote runs to the end of the line, as in keepalived. */
export function tokenizeLine(text: string, options: TokenizeOptions = {}): Token[] {
  const braces = options.braces ?? true;
  const isBrace = (c: string) => braces && (c === '{' || c === '}');
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === '#' || c === '!') break;
    if (isBrace(c)) {
      tokens.push({ text: c, quoted: false });
      i++;
      continue;
    }
    let word = '';
    let quoted = false;
    while (i < text.length) {
      const d = text[i] ?? '';
      if (isSpace(d) || isBrace(d) || d === '#' || d === '!') {
        // `${NAME}` is keepalived parameter substitution, not a block: keep it in the word.
        if (d === '{' && word.endsWith('$')) {
          const close = text.indexOf('}', i);
          const end = close === -1 ? text.length : close + 1;
          word += text.slice(i, end);
          i = end;
          continue;
        }
        break;
      }
      if (d === '"' || d === "'") {
        quoted = true;
        i++;
        while (i < text.length && text[i] !== d) {
          if (text[i] === '\\' && i + 1 < text.length) {
            const escape = readEscape(text, i + 1);
            word += escape.char;
            i = escape.next;
          } else {
            word += text[i];
            i++;
          }
        }
        i++; // the closing quote
        continue;
      }
      word += d;
      i++;
    }
    tokens.push({ text: word, quoted });
  }
  return tokens;
}
