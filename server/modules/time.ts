// Entity Time (XEP-0202): the server's UTC time and its time zone offset.
import { xml } from '../xml/element.ts';
import type { XmppModule } from '../extension/module-context.ts';

const NS_TIME = 'urn:xmpp:time';

/** Offset from UTC as XEP-0082 writes it: "+02:00", "-05:30", "+00:00". */
export function tzo(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${minutes < 0 ? '-' : '+'}${hh}:${mm}`;
}

/** XEP-0082 DateTime in UTC, to the second. */
export function utc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const timeModule: XmppModule = {
  name: 'time',
  load(ctx) {
    ctx.feature(NS_TIME);
    ctx.iq('host', 'get', NS_TIME, () => {
      const now = new Date();
      return xml('time', { xmlns: NS_TIME }, xml('tzo', null, tzo(now)), xml('utc', null, utc(now)));
    });
  },
};
