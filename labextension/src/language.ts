/**
 * The CodeMirror 6 language of gb BASIC: a stream tokenizer that follows gb_basic's lexer closely
 * enough for colours (like gb_kernel/highlight.py, the Pygments lexer), indentation by blocks,
 * folding, and the magics of a gb notebook cell.
 */
import {
  IndentContext,
  LanguageSupport,
  StreamLanguage,
  StreamParser,
  StringStream,
  foldService,
  syntaxHighlighting
} from '@codemirror/language';
import { classHighlighter, tagHighlighter, tags } from '@lezer/highlight';

import { TEXT_BLOCKS, applyLine, blockEnd, closesText, indentLevel, lineHead } from './blocks';
import {
  BUILTINS,
  CLOSERS,
  CONSTANTS,
  HEAD,
  INDENT_ON_INPUT,
  LINE_KEYWORDS,
  MIDDLES,
  NAME,
  OPERATOR_WORDS,
  TYPES,
  canonical
} from './words';

/** The tokenizer's state between lines (copied by CodeMirror at every line it caches). */
export interface BasicState {
  /** Lines seen so far (a `%%` magic is a cell's first line). */
  line: number;
  /** The cell starts with a `%%` magic: its body is not BASIC. */
  magicCell: boolean;
  /** Open blocks, outermost first (their opener phrases). */
  stack: string[];
  /** Inside a text block's body (`BEGIN TALK`): its opener; the body is text with interpolation. */
  text: string | null;
  /** The line just read opens a text block: the next line starts its body. */
  textNext: string | null;
  /** The rest of the line has this style (a magic line, a comment). */
  rest: string | null;
  /** Inside a string closed by this character. */
  quote: string | null;
  /** A statement starts here: at the line's start, after THEN or ELSE. */
  statement: boolean;
  /** A value may start here (after an operator, `=`, `(`, `,` or a keyword): a `'` opens a string. */
  value: boolean;
  /** After AS: a HEAR type may follow. */
  afterAs: boolean;
}

/** Keywords after which a `'` is a comment: they end a statement or take a name, not a value. */
function takesValue(head: string): boolean {
  if (CLOSERS.has(head) || head.startsWith('EXIT') || head.startsWith('ON ')) {
    return false;
  }
  if (MIDDLES.has(head)) {
    return head === 'ELSE IF' || head === 'ELSEIF' || head === 'CASE';
  }
  return !['DO', 'WITH', 'END', 'NEXT', 'LOOP', 'WEND'].includes(head);
}

/** Start a line: magics, the body of a text block, and the blocks the line opens or closes. */
function startLine(stream: StringStream, state: BasicState): void {
  state.line += 1;
  state.rest = null;
  state.statement = true;
  state.value = false;
  state.afterAs = false;
  if (state.line === 1 && stream.string.startsWith('%%')) {
    state.magicCell = true;
  }
  if (state.magicCell || state.quote !== null) {
    return;
  }
  if (state.textNext !== null) {
    state.text = state.textNext;
    state.textNext = null;
  }
  if (state.text !== null) {
    if (closesText(state.text, stream.string)) {
      state.stack.pop();
      state.text = null;
      state.rest = 'keyword';
    }
    return;
  }
  if (/^[ \t]*%/.test(stream.string)) {
    state.rest = 'meta';
    return;
  }
  applyLine(state.stack, stream.string);
  const head = lineHead(stream.string);
  if (head !== null && TEXT_BLOCKS.has(head)) {
    state.textNext = head;
  }
}

const INTERPOLATION = [
  /^\$\{(?:[^{}]|\{[^{}]*\})*\}/, // ${expr}, one level of nested braces
  /^\{[\p{L}_][\p{L}\p{N}_]*(?:\.[\p{L}_][\p{L}\p{N}_]*)*\}/u // {name.field}
];

/** `${...}` or `{name}` at the stream's position. */
function interpolation(stream: StringStream): boolean {
  return INTERPOLATION.some(pattern => stream.match(pattern) !== null);
}

/** Text up to an interpolation, or up to the end of the line (a text block's body). */
function readText(stream: StringStream): string {
  if (interpolation(stream)) {
    return 'string.special';
  }
  stream.next();
  while (!stream.eol() && !/[${]/.test(stream.peek() ?? '')) {
    stream.next();
  }
  return 'string';
}

/** The inside of a string up to an interpolation or its closing quote (`""` and `''` are escapes). */
function readString(stream: StringStream, state: BasicState): string {
  if (interpolation(stream)) {
    return 'string.special';
  }
  const quote = state.quote as string;
  const closers = quote === '"' || quote === "'" ? quote : '\u201c\u201d';
  let first = true;
  while (!stream.eol()) {
    const c = stream.peek() as string;
    if (!first && (c === '$' || c === '{')) {
      break;
    }
    first = false;
    stream.next();
    if (closers.includes(c)) {
      if (quote.length === 1 && closers === quote && stream.peek() === quote) {
        stream.next(); // "" inside "..."
        continue;
      }
      state.quote = null;
      break;
    }
  }
  if (quote === "'" && stream.eol()) {
    state.quote = null; // a '...' string ends with its line
  }
  return 'string';
}

/** The keyword a statement starts with, a comment, a label, or null for an assignment or a call. */
function readStatementStart(stream: StringStream, state: BasicState): string | null {
  state.statement = false;
  if (stream.match(/^REM(?=[ \t]|$)/i) || stream.match(/^'/) || stream.match(/^(?:\/\/|#(?!\{))/)) {
    stream.skipToEnd();
    return 'comment';
  }
  if (stream.match(/^\d+(?=[ \t]+\S)/)) {
    state.statement = true; // a line number: the statement follows it
    return 'labelName';
  }
  const head = stream.match(HEAD) as RegExpMatchArray | null;
  if (head !== null) {
    const phrase = canonical(head[0]);
    state.value = takesValue(phrase);
    if (TEXT_BLOCKS.has(phrase)) {
      state.rest = 'comment'; // gb ignores the rest of a BEGIN TALK line
    }
    return 'keyword';
  }
  if (stream.match(/^[\p{L}_][\p{L}\p{N}_]*:(?=[ \t]|$|')/u)) {
    return 'labelName';
  }
  return null;
}

/** A word inside a statement. */
function readWord(stream: StringStream, state: BasicState, word: string): string {
  const upper = word.toUpperCase();
  const afterAs = state.afterAs;
  state.afterAs = false;
  state.value = true;
  if (upper === 'THEN' || upper === 'ELSE') {
    state.statement = true; // a statement follows
    return 'keyword';
  }
  if (afterAs && TYPES.has(upper)) {
    state.value = false;
    return 'keyword typeName';
  }
  if (upper === 'AS') {
    state.afterAs = true;
    return 'keyword';
  }
  if (LINE_KEYWORDS.has(upper)) {
    return 'keyword';
  }
  if (OPERATOR_WORDS.has(upper)) {
    return 'operatorKeyword';
  }
  state.value = false;
  if (CONSTANTS.has(upper)) {
    return 'atom';
  }
  if (BUILTINS.has(upper) && stream.match(/^[ \t]*\(/, false)) {
    return 'builtin';
  }
  return 'variableName';
}

/** One token of a statement. */
function readCode(stream: StringStream, state: BasicState): string | null {
  if (stream.eatSpace()) {
    return null;
  }
  if (state.statement) {
    const style = readStatementStart(stream, state);
    if (style !== null) {
      return style;
    }
  }
  const c = stream.peek() as string;
  if (c === '"' || c === '\u201c' || c === '\u201d') {
    stream.next();
    state.quote = c === '"' ? '"' : '\u201d';
    state.value = false;
    return 'string';
  }
  if (c === "'") {
    if (state.value && stream.match(/^'(?:[^']|'')*'/, false)) {
      stream.next();
      state.quote = "'";
      state.value = false;
      return 'string';
    }
    stream.skipToEnd();
    return 'comment';
  }
  if (stream.match(/^(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/)) {
    state.value = false;
    return 'number';
  }
  if (stream.match(/^(?:<>|!=|==|<=|>=|\?\?|&&|\|\||[-+*/\\^&=<>?])/)) {
    state.value = true;
    return 'operator';
  }
  if (stream.match(/^(?:#\{|[(\[{,])/)) {
    state.value = true;
    return 'punctuation';
  }
  const word = stream.match(NAME) as RegExpMatchArray | null;
  if (word !== null) {
    return readWord(stream, state, word[0]);
  }
  stream.next();
  state.value = false;
  return 'punctuation';
}

/** One token: the line's start is handled first, then the mode the line is in. */
function token(stream: StringStream, state: BasicState): string | null {
  if (stream.sol()) {
    startLine(stream, state);
  }
  if (state.magicCell) {
    // a cell magic's body (`%%transcript`: `user:` and `bot:` lines) is not BASIC
    if (state.line > 1 && stream.sol() && stream.match(/^[ \t]*(?:user|bot)[ \t]*:/i)) {
      return 'meta';
    }
    stream.skipToEnd();
    return state.line === 1 ? 'meta' : null;
  }
  if (state.rest !== null) {
    stream.skipToEnd();
    return state.rest;
  }
  if (state.quote !== null) {
    return readString(stream, state);
  }
  if (state.text !== null) {
    return readText(stream);
  }
  return readCode(stream, state);
}

function indent(state: BasicState, textAfter: string, context: IndentContext): number | null {
  if (state.magicCell || (state.quote !== null && state.quote !== "'") || /^[ \t]*%/.test(textAfter)) {
    return null; // no opinion: the line keeps its indentation
  }
  const depth = state.stack.length;
  if (state.text !== null) {
    return (closesText(state.text, textAfter) ? depth - 1 : depth) * context.unit;
  }
  return indentLevel(state.stack, textAfter) * context.unit;
}

export const basicParser: StreamParser<BasicState> = {
  name: 'gb-basic',
  startState: () => ({
    line: 0,
    magicCell: false,
    stack: [],
    text: null,
    textNext: null,
    rest: null,
    quote: null,
    statement: true,
    value: false,
    afterAs: false
  }),
  copyState: state => ({ ...state, stack: [...state.stack] }),
  token,
  blankLine: state => {
    state.line += 1;
  },
  indent,
  languageData: {
    commentTokens: { line: "'" },
    indentOnInput: INDENT_ON_INPUT
  }
};

export const basicLanguage = StreamLanguage.define(basicParser);

/** Folding: from the end of a line that opens a block to the end of the line before its closer. */
const basicFolding = foldService.of((state, lineStart) => {
  const doc = state.doc;
  if (doc.line(1).text.startsWith('%%')) {
    return null;
  }
  const start = doc.lineAt(lineStart);
  const end = blockEnd(n => (n <= doc.lines ? doc.line(n).text : null), start.number);
  if (end === null || end <= start.number + 1) {
    return null;
  }
  return { from: start.to, to: doc.line(end - 1).to };
});

/** `tok-builtin` on built-in functions, which classHighlighter classes as plain names. */
const builtinHighlighter = tagHighlighter([{ tag: tags.standard(tags.variableName), class: 'tok-builtin' }]);

/**
 * gb BASIC with its folding, and stable `tok-*` classes on the tokens (classHighlighter) beside
 * JupyterLab's theme colours, for user style sheets and tests.
 */
export function basic(): LanguageSupport {
  return new LanguageSupport(basicLanguage, [
    basicFolding,
    syntaxHighlighting(classHighlighter),
    syntaxHighlighting(builtinHighlighter)
  ]);
}
