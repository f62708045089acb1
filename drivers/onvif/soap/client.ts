import type http from 'node:http';
import { DeviceError } from '../../contract/errors.ts';
import { httpRequest, type AuthMemory } from '../digest.ts';
import { pick, text, XmlError, type XmlNode } from '../xml.ts';
import { buildEnvelope, parseEnvelope, type SoapFault } from './envelope.ts';
import { usernameTokenHeader } from './wssec.ts';

export interface SoapClientOptions {
  /** The device service, e.g. http://10.0.0.5/onvif/device_service. */
  url: string;
  username?: string;
  password?: string;
  timeoutMs: number;
  maxBytes?: number;
  agent?: http.Agent;
  /** Cameras that also guard SOAP with HTTP Digest: answer their last challenge up front. */
  auth?: AuthMemory;
}

export interface CallOptions {
  url?: string;
  auth?: boolean;
  timeoutMs?: number;
  agent?: http.Agent;
}

/** A SOAP fault the device returned, kept whole for callers that care (e.g. ter:ActionNotSupported). */
export class SoapFaultError extends DeviceError {
  constructor(
    readonly fault: SoapFault,
    what: string,
    /** Every subcode, outermost first (`fault.subcode` is the deepest). */
    readonly subcodes: readonly string[] = fault.subcode ? [fault.subcode] : [],
  ) {
    super(
      'bad-response',
      `${what}: SOAP fault ${fault.code}${fault.subcode ? `/${fault.subcode}` : ''}: ${fault.reason}`,
      'degraded',
    );
  }
}

// What real firmware answers for an operation it lacks: ter:ActionNotSupported (at any
// depth), ter:AudioNotSupported and kin, "Optional Action Not Implemented", gSOAP's
// "Method 'tds:X' not implemented". Axis' bare "ter:Action / Action failed" is not one:
// it is also what that firmware says when a supported action fails.
const NOT_SUPPORTED_CODE = /NotSupported$|^NotImplemented$/i;
const NOT_SUPPORTED_WORDS = /not implemented|not supported|\bnot support\b|unsupported/i;

/** Did the device say it does not have this operation (as opposed to failing at it)? */
export function isNotSupported(err: unknown): boolean {
  if (!(err instanceof SoapFaultError)) return false;
  return err.subcodes.some((c) => NOT_SUPPORTED_CODE.test(c)) || NOT_SUPPORTED_WORDS.test(err.fault.reason);
}

const AUTH_FAULT =
  /NotAuthori[sz]ed|FailedAuthentication|InvalidSecurity|SecurityTokenUnavailable|Unauthori[sz]ed/i;

/** Classify an HTTP answer to a SOAP call: the body on success, a DeviceError otherwise. */
export function interpretSoapResponse(
  status: number,
  body: Buffer,
  what: string,
  maxBytes?: number,
): XmlNode {
  if (status === 401 || status === 403)
    throw new DeviceError('auth-failed', `${what}: HTTP ${status}, credentials refused`);
  let env;
  try {
    env = parseEnvelope(body, maxBytes);
  } catch (err) {
    const why = err instanceof XmlError ? err.message : String(err);
    throw new DeviceError('bad-response', `${what}: HTTP ${status}, unreadable answer (${why})`, 'degraded', {
      cause: err,
    });
  }
  if (env.fault) {
    const f = env.fault;
    if (
      AUTH_FAULT.test(`${f.subcode ?? ''} ${f.code}`) ||
      /not authori[sz]ed|authentication/i.test(f.reason)
    ) {
      throw new DeviceError(
        'auth-failed',
        `${what}: ${f.subcode ?? f.code}: ${f.reason || 'not authorized'}`,
      );
    }
    throw new SoapFaultError(f, what, env.faultSubcodes);
  }
  if (status !== 200) throw new DeviceError('bad-response', `${what}: HTTP ${status}`, 'degraded');
  return env.body;
}

/** Parse tt:DateTime (Date + Time elements) as UTC milliseconds. */
export function parseOnvifDateTime(node: unknown): number | undefined {
  const n = (k: string, ...p: string[]) => Number(text(pick(node, ...p, k)));
  const [y, mo, d, h, mi, s] = [
    n('Year', 'Date'),
    n('Month', 'Date'),
    n('Day', 'Date'),
    n('Hour', 'Time'),
    n('Minute', 'Time'),
    n('Second', 'Time'),
  ];
  if (![y, mo, d, h, mi, s].every(Number.isFinite)) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

/** Point a URL the device reported at the host we reach it by (cameras behind NAT report inner addresses). */
export function rewriteHost(reported: string, base: string, keepPort = false): string {
  try {
    const r = new URL(reported);
    const b = new URL(base);
    r.hostname = b.hostname;
    if (!keepPort && r.protocol === b.protocol) r.port = b.port;
    return r.toString();
  } catch {
    return reported;
  }
}

/**
 * A change of the measured camera clock offset beyond its own noise (the camera reports
 * whole seconds; half a round trip either way): the camera clock itself moved.
 */
const CLOCK_JUMP_MS = 2000;

/**
 * A small SOAP client for the operations node-onvif lacks (imaging, pull-point events,
 * relay outputs) and for health checks that must classify failures precisely. Signs
 * with the device's clock: `offsetMs` (device minus local) is measured by `syncClock`.
 */
export class SoapClient {
  offsetMs = 0;

  constructor(readonly opts: SoapClientOptions) {}

  /**
   * POST one operation; returns the SOAP Body. `auth: false` for PRE_AUTH calls. A signed
   * call the camera refuses is asked once more if the camera clock turns out to have
   * jumped since it was read (set by hand, NTP stepping it): the refusal was of a
   * timestamp outside the camera's window, not of the credentials.
   */
  async call(body: string, opts: CallOptions = {}): Promise<XmlNode> {
    const signedWith = this.offsetMs;
    try {
      return await this.callOnce(body, opts);
    } catch (err) {
      if (!(err instanceof DeviceError) || err.reason !== 'auth-failed' || !this.signs(opts)) throw err;
      // The clock may have been read meanwhile (a poll's clock check runs beside its calls).
      if (Math.abs(this.offsetMs - signedWith) <= CLOCK_JUMP_MS) {
        try {
          await this.syncClock();
        } catch {
          throw err;
        }
        if (Math.abs(this.offsetMs - signedWith) <= CLOCK_JUMP_MS) throw err;
      }
      return this.callOnce(body, opts);
    }
  }

  private signs({ auth = true }: CallOptions): boolean {
    return auth && this.opts.username !== undefined && this.opts.username !== '';
  }

  private async callOnce(
    body: string,
    {
      url = this.opts.url,
      auth = true,
      timeoutMs = this.opts.timeoutMs,
      agent = this.opts.agent,
    }: CallOptions,
  ): Promise<XmlNode> {
    const signed = this.signs({ auth });
    const header = signed
      ? usernameTokenHeader({
          username: this.opts.username!,
          password: this.opts.password ?? '',
          deviceTimeMs: Date.now() + this.offsetMs,
        })
      : '';
    const what = `${new URL(url).host} ${/<\w+:(\w+)/.exec(body)?.[1] ?? 'SOAP'}`;
    const res = await httpRequest({
      url,
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
      body: buildEnvelope(body, header),
      // Some devices also guard SOAP with HTTP digest.
      username: signed ? this.opts.username : undefined,
      password: this.opts.password,
      timeoutMs,
      maxBytes: this.opts.maxBytes,
      agent,
      auth: this.opts.auth,
    });
    return interpretSoapResponse(res.status, res.body, what, this.opts.maxBytes);
  }

  /** Read the device clock unauthenticated; updates `offsetMs` and returns the skew in seconds. */
  async syncClock(): Promise<number> {
    const t0 = Date.now();
    const body = await this.call('<tds:GetSystemDateAndTime/>', { auth: false });
    const t1 = Date.now();
    const device = parseOnvifDateTime(
      pick(body, 'GetSystemDateAndTimeResponse', 'SystemDateAndTime', 'UTCDateTime'),
    );
    if (device === undefined) {
      throw new DeviceError(
        'bad-response',
        `${new URL(this.opts.url).host}: GetSystemDateAndTime without UTCDateTime`,
        'degraded',
      );
    }
    // The device reports whole (floored) seconds: add half a second, compare with mid round trip.
    this.offsetMs = device + 500 - (t0 + t1) / 2;
    return Math.round(this.offsetMs / 100) / 10;
  }
}
