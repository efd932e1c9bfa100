// Java .properties reading, as Canal's files need it: comments (# and !), key terminators
// (= : or whitespace), line continuations, and escapes (\\ \t \n \r \f \uXXXX, \x -> x).
// Values are trimmed, as Canal's own getProperty does.

export interface PropertyEntry {
  value: string;
  line: number;
}

function unescape(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const n = text[++i]!;
    if (n === 't') out += '\t';
    else if (n === 'n') out += '\n';
    else if (n === 'r') out += '\r';
    else if (n === 'f') out += '\f';
    else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) {
      out += String.fromCharCode(parseInt(text.slice(i + 1, i + 5), 16));
      i += 4;
    } else out += n;
  }
  return out;
}

/** True when the line ends in an odd number of backslashes (a continuation). */
function continues(line: string): boolean {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) n++;
  return n % 2 === 1;
}

export function parseProperties(text: string): Map<string, PropertyEntry> {
  const out = new Map<string, PropertyEntry>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1;
    let logical = lines[i]!.replace(/^[ \t\f]+/, '');
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (continues(logical) && i + 1 < lines.length) {
      logical = logical.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    }
    if (continues(logical)) logical = logical.slice(0, -1);
    // The key ends at the first unescaped '=', ':' or whitespace.
    let k = 0;
    while (k < logical.length) {
      const c = logical[k]!;
      if (c === '\\') {
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      k++;
    }
    const key = unescape(logical.slice(0, k));
    let rest = logical.slice(k).replace(/^[ \t\f]+/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1);
    out.set(key, { value: unescape(rest).trim(), line: startLine });
  }
  return out;
}
