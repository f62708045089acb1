import { formatMessage } from '../errors.ts';

/** True for addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h.startsWith('127.') || h === '::ffff:127.0.0.1';
}

export interface Listener {
  what: string;
  credentials: string;
  host: string;
  port: number | string;
  tls: boolean;
  advice: string;
}

/**
 * The warnings for listeners (and the uplink) that would carry credentials in the clear
 * across a network: the text of GH_TLS_PLAIN_CREDENTIALS, one per listener.
 */
export function plainCredentialWarnings(listeners: readonly Listener[]): string[] {
  return listeners
    .filter((l) => !l.tls && !isLoopback(l.host))
    .map((l) =>
      formatMessage('GH_TLS_PLAIN_CREDENTIALS', {
        what: l.what,
        credentials: l.credentials,
        address: `${l.host}:${l.port}`,
        advice: l.advice,
      }),
    );
}

/** The gateway's listeners and uplink as the warning sees them. */
export function gatewayListeners(c: {
  api: { host: string; port: number; tls?: unknown };
  broker: { host: string; port: number };
  bridge?: { url: string; password?: string };
}): Listener[] {
  const out: Listener[] = [
    {
      what: 'the API (with MQTT over WebSocket at /mqtt)',
      credentials: 'bearer tokens and MQTT passwords',
      host: c.api.host,
      port: c.api.port,
      tls: c.api.tls !== undefined,
      advice: 'set api.tls, or api.host: 127.0.0.1',
    },
    {
      what: 'the MQTT broker',
      credentials: 'MQTT passwords',
      host: c.broker.host,
      port: c.broker.port,
      tls: false,
      advice: 'set broker.tls for the network and broker.host: 127.0.0.1 for local tools',
    },
  ];
  if (c.bridge?.password !== undefined) {
    const url = new URL(c.bridge.url);
    out.push({
      what: 'the bridge',
      credentials: 'its uplink password',
      host: url.hostname,
      port: url.port || '1883',
      tls: url.protocol === 'mqtts:' || url.protocol === 'wss:',
      advice: 'use an mqtts:// URL',
    });
  }
  return out;
}
