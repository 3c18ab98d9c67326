// RFC 6121 4.7.2.3: priority is an integer from -128 to 127, 0 when absent. A value out of
// range is clamped and one that is no integer counts as 0, rather than dropping the
// presence over it.
import type { Element } from '../../xml/element.ts';

export function priorityOf(presence: Element): number {
  const text = presence.getChildText('priority');
  if (text === undefined) return 0;
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return 0;
  return Math.max(-128, Math.min(127, Number(trimmed)));
}
