import type { Operation } from '../types.ts';
import { esc } from '../../soap/xml.ts';

function dateTime(tag: string, d: Date): string {
  return `<tt:${tag}><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:${tag}>`;
}

/** POSIX TZ string for a fixed offset: UTC+1 is written "GMT-1". */
function posixTz(offsetH: number): string {
  if (offsetH === 0) return 'GMT0';
  return `GMT${offsetH > 0 ? '-' : '+'}${Math.abs(offsetH)}`;
}

/** Pre-auth (clients call it before they can authenticate, to learn the camera's clock). */
export const GetSystemDateAndTime: Operation = {
  access: 'pre-auth',
  handle: ({ cam }) => {
    const now = cam.state.nowMs();
    const offsetH = cam.state.config.utcOffsetH;
    return `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>${esc(posixTz(offsetH))}</tt:TZ></tt:TimeZone>${dateTime('UTCDateTime', new Date(now))}${dateTime('LocalDateTime', new Date(now + offsetH * 3_600_000))}</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`;
  },
};
