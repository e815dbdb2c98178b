/**
 * The words of gb BASIC, from vocabulary.json (written from gb_basic by `npm run build:vocabulary`),
 * as the regular expressions the tokenizer and the block rules match with.
 */
import vocabulary from './vocabulary.json';

/** A letter or digit of a name (names are Unicode, like gb_basic's lexer). */
const WORD_CHAR = '[\\p{L}\\p{N}_]';

/** A keyword written with blanks or underscores between its words (`SET BOT MEMORY`, `SET_BOT_MEMORY`). */
function phrasePattern(phrase: string): string {
  return phrase.split(' ').join('[ \\t_]+');
}

/** Whole words or phrases at the stream's position, longest first (an alternation takes the first match). */
function alternation(words: readonly string[], after = ''): RegExp {
  const sorted = [...words].sort((a, b) => b.length - a.length || a.localeCompare(b));
  return new RegExp(`^(?:${sorted.map(phrasePattern).join('|')})(?!${WORD_CHAR})${after}`, 'iu');
}

/** A set of upper-case words. */
function wordSet(words: readonly string[]): ReadonlySet<string> {
  return new Set(words.map(w => w.toUpperCase()));
}

/** A statement that starts `word =`, `word.` or `word[` assigns a variable of that name. */
const NOT_ASSIGNMENT = '(?![ \\t]*(?:=(?!=)|[.\\[]))';

export const NAME = /^[\p{L}_][\p{L}\p{N}_]*/u;

/** Keywords a statement starts with: multi-word phrases first, then single words. */
export const HEAD = alternation([...vocabulary.phrases, ...vocabulary.statements], NOT_ASSIGNMENT);

export const LINE_KEYWORDS = wordSet(vocabulary.lineKeywords);
export const OPERATOR_WORDS = wordSet(vocabulary.operatorWords);
export const CONSTANTS = wordSet(vocabulary.constants);
export const TYPES = wordSet(vocabulary.types);
export const BUILTINS = wordSet(vocabulary.builtins);

/** Block openers -> the phrases that close them (upper case, one blank between words). */
export const BLOCKS: ReadonlyMap<string, readonly string[]> = new Map(Object.entries(vocabulary.blocks));
export const MIDDLES = wordSet(vocabulary.middles);
export const CLOSERS: ReadonlySet<string> = new Set([...BLOCKS.values()].flat());

/** The keyword as one canonical phrase: upper case, words joined by one blank. */
export function canonical(matched: string): string {
  return matched.toUpperCase().split(/[ \t_]+/).join(' ');
}

/**
 * The lines after which the editor re-indents the line being typed: a closer or a middle
 * (`END IF`, `NEXT`, `ELSE`, `CASE`) alone on its line.
 */
export const INDENT_ON_INPUT = new RegExp(
  `^\\s*(?:${[...CLOSERS, ...MIDDLES].map(phrasePattern).join('|')})$`,
  'iu'
);
