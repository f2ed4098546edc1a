/**
 * The characters a reading may hold: the model's alphabet, as `models/charset.py` says it (a test
 * checks the two agree). "^" is drawn by no one: it marks that the rest of the text is a raised
 * exponent, so "6.02×10^23" is 6.02×10²³.
 */

export const CHARSET = "0123456789.,-+e×^";
export const RAISED = "^";

/** What a character that is no digit stands for, where a list names them. */
export const CHAR_NAMES: Record<string, string> = {
  ".": "point",
  ",": "comma",
  "-": "minus",
  "+": "plus",
  e: "exponent",
  "×": "times",
  "^": "raised exponent",
};

/** The characters of `text` outside the charset, each once, in the order they first appear. */
export function invalidChars(text: string): string[] {
  return [...new Set(Array.from(text).filter((char) => !CHARSET.includes(char)))];
}

/** The charset for people to read: "0–9 . , - + e × ^". */
export function charsetText(): string {
  return ["0–9", ...Array.from(CHARSET.replace("0123456789", ""))].join(" ");
}

/** `text` split at its first "^": what stays on the line and the raised rest (null without one, or with nothing after it). */
export function splitRaised(text: string): [string, string | null] {
  const at = text.indexOf(RAISED);
  if (at < 0 || at === text.length - 1) return [text, null];
  return [text.slice(0, at), text.slice(at + 1)];
}
