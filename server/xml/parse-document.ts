// Parsing a file written by people (a configuration file), as opposed to XML from a peer.
// The stanza parser enforces RFC 6120's restricted XML, which forbids comments; a
// configuration file is commented by design. Comments are dropped first, then the text goes
// through the same strict parser, so everything else (DTDs, entities, processing
// instructions, malformed markup) is still refused.
import type { Element } from './element.ts';
import { StreamError } from './errors.ts';
import { parseXml } from './stream-parser.ts';

/** A CDATA section (kept: "<!--" inside it is text) or a whole comment (dropped). */
const CDATA_OR_COMMENT = /<!\[CDATA\[[\s\S]*?\]\]>|<!--([\s\S]*?)-->/g;

/**
 * Parses a whole XML document that may contain comments (UTF-8 text, one root element);
 * throws StreamError as parseXml does, its message saying what is wrong.
 */
export function parseXmlDocument(text: string): Element {
  let malformed = false;
  const stripped = text.replace(CDATA_OR_COMMENT, (match: string, comment: string | undefined) => {
    if (comment === undefined) return match;
    // XML 1.0 section 2.5: "--" may not occur inside a comment, nor may it end with "-".
    if (comment.includes('--') || comment.endsWith('-')) malformed = true;
    return '';
  });
  if (malformed) throw new StreamError('not-well-formed', 'a comment contains "--"');
  try {
    return parseXml(stripped);
  } catch (err) {
    // What is left of "<!--" is a comment that never ends.
    if (err instanceof StreamError && err.text === 'comments are not allowed') throw new StreamError('not-well-formed', 'a comment is not closed with "-->"');
    throw err;
  }
}
