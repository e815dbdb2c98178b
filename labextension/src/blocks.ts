/**
 * gb BASIC's blocks, line by line: which line opens one (`IF x THEN`, `FOR`, `BEGIN TALK` ...),
 * which closes it (`END IF`, `NEXT` ...), which sits at its level (`ELSE`, `CASE`). The tokenizer
 * keeps the open blocks as a stack to indent the next line; the fold service scans with the same
 * rules.
 */
import { BLOCKS, CLOSERS, HEAD, MIDDLES, canonical } from './words';

/** Blocks whose body is text, not BASIC (`BEGIN TALK` ... `END TALK`). */
export const TEXT_BLOCKS: ReadonlySet<string> = new Set(['BEGIN TALK', 'BEGIN SYSTEM PROMPT']);

/** A `CASE` line opens the CASE's body inside a SELECT; the next CASE or END SELECT closes it. */
const CASE = 'CASE';

/** A line number before a statement (`10 TALK "hi"`), which gb ignores. */
const LINE_NUMBER = /^[ \t]*(?:\d+[ \t]+(?=\S))?/;

/** The keyword a line's statement starts with (canonical: `END IF`), or null. */
export function lineHead(text: string): string | null {
  const m = HEAD.exec(text.replace(LINE_NUMBER, ''));
  return m ? canonical(m[0]) : null;
}

/** A line's code without its strings' contents and its comment. */
function bareCode(text: string): string {
  const code = text.replace(/"(?:[^"]|"")*"|[\u201c\u201d][^\u201c\u201d]*[\u201c\u201d]/g, '""');
  const comment = code.indexOf("'");
  return (comment < 0 ? code : code.slice(0, comment)).replace(/[ \t]REM(?:[ \t].*)?$/i, '');
}

/**
 * Whether an IF line opens a block: it ends with THEN (`IF x THEN`), or it has no THEN at all
 * (the seed's `if x` ... `end`); not when a statement follows its THEN (`IF a THEN TALK "b"`).
 */
function ifOpensBlock(text: string): boolean {
  const bare = bareCode(text);
  return /(?:^|[^\p{L}\p{N}_])THEN[ \t]*$/iu.test(bare) || !/(?:^|[^\p{L}\p{N}_])THEN(?![\p{L}\p{N}_])/iu.test(bare);
}

/** The block a line opens (its opener phrase), or null. */
export function opens(text: string, head: string | null = lineHead(text)): string | null {
  if (head === null || !BLOCKS.has(head)) {
    return null;
  }
  if (head === 'IF') {
    return ifOpensBlock(text) ? head : null;
  }
  if (head === 'TABLE') {
    // `TABLE name` alone on its line; `TABLE` elsewhere is a name or an unknown keyword.
    return /^[ \t]*TABLE[ \t]+[\p{L}_][\p{L}\p{N}_.]*[ \t]*(?:'.*)?$/iu.test(text) ? head : null;
  }
  return head;
}

/** The stack index of the open block `closer` closes (the nearest one), or -1. */
function openerIndex(stack: readonly string[], closer: string): number {
  for (let i = stack.length - 1; i >= 0; i--) {
    if (BLOCKS.get(stack[i])?.includes(closer)) {
      return i;
    }
  }
  return -1;
}

function isCase(head: string): boolean {
  return head === 'CASE' || head === 'CASE ELSE';
}

/** Update the stack of open blocks with one line of BASIC. */
export function applyLine(stack: string[], text: string): void {
  const head = lineHead(text);
  if (head === null) {
    return;
  }
  if (CLOSERS.has(head)) {
    const i = openerIndex(stack, head);
    if (i >= 0) {
      stack.length = i;
    }
  } else if (isCase(head)) {
    if (stack[stack.length - 1] !== CASE) {
      stack.push(CASE);
    }
  } else {
    const opened = opens(text, head);
    if (opened !== null) {
      stack.push(opened);
    }
  }
}

/** The indentation level (in units) of a line starting with `text`, under the open blocks `stack`. */
export function indentLevel(stack: readonly string[], text: string): number {
  const head = lineHead(text);
  const depth = stack.length;
  if (head === null) {
    return depth;
  }
  if (CLOSERS.has(head)) {
    const i = openerIndex(stack, head);
    return i >= 0 ? i : depth;
  }
  if (isCase(head)) {
    return stack[depth - 1] === CASE ? depth - 1 : depth;
  }
  if (MIDDLES.has(head)) {
    return Math.max(0, depth - 1);
  }
  return depth;
}

/** The closing line of a text block's body: `END TALK` alone on its line. */
export function closesText(opener: string, text: string): boolean {
  const closers = BLOCKS.get(opener) ?? [];
  const line = text.trim().toUpperCase().split(/[ \t]+/).join(' ');
  return closers.includes(line);
}

/**
 * The line number (1-based) of the line that closes the block `lines[start]` opens, or null.
 * Lines of a text block's body are text; lines starting with `%` are magics.
 */
export function blockEnd(lines: (n: number) => string | null, start: number): number | null {
  const first = lines(start);
  const opened = first === null ? null : opens(first);
  if (opened === null) {
    return null;
  }
  const stack = [opened];
  for (let n = start + 1; ; n++) {
    const text = lines(n);
    if (text === null) {
      return null;
    }
    const top = stack[stack.length - 1];
    if (TEXT_BLOCKS.has(top)) {
      if (closesText(top, text)) {
        stack.pop();
      }
    } else if (!/^[ \t]*%/.test(text)) {
      applyLine(stack, text);
    }
    if (stack.length === 0) {
      return n;
    }
  }
}
