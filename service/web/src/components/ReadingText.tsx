/**
 * A reading's text as it is written on paper: what follows a "^" is raised, so "6.02×10^23" shows
 * as 6.02×10<sup>23</sup>. The "^" stays in the text, visually hidden, so that copying the reading
 * or a screen reader still gets it as the service gave it. React builds the elements: the text is
 * never parsed as HTML.
 */
import { RAISED, splitRaised } from "../charset";

export function ReadingText({ text }: { text: string }) {
  const [line, raised] = splitRaised(text);
  if (raised === null) return <>{text}</>;
  return (
    <>
      {line}
      <span className="sr-only">{RAISED}</span>
      <sup data-testid="raised">{raised}</sup>
    </>
  );
}
