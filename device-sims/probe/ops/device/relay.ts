import { faults } from '../../soap/envelope.ts';
import { at, esc, parseDuration, text } from '../../soap/xml.ts';
import type { RelayState } from '../../state.ts';

export function relayOutputXml(r: RelayState, tag: string): string {
  const seconds = Math.round(r.delayTimeMs / 1000);
  // ghx:LogicalState is this camera's vendor extension: the relay's present state, which
  // standard ONVIF has no read-back for (the gate's dry-contact input follows it).
  return `<${tag} token="${esc(r.token)}"><tt:Properties><tt:Mode>${r.mode}</tt:Mode><tt:DelayTime>PT${seconds}S</tt:DelayTime><tt:IdleState>${r.idleState}</tt:IdleState></tt:Properties><ghx:LogicalState>${r.logicalState}</ghx:LogicalState></${tag}>`;
}

/** The relay named by RelayOutputToken, or an InvalidArgVal fault. */
export function requireRelay(body: unknown, relay: RelayState): RelayState {
  const token = text(at(body, 'RelayOutputToken'));
  if (token !== relay.token) {
    throw faults.invalidArg(`Unknown RelayOutputToken "${token ?? ''}" (this device has "${relay.token}")`);
  }
  return relay;
}

export function parseRelayProperties(props: unknown): Pick<RelayState, 'mode' | 'delayTimeMs' | 'idleState'> {
  const mode = text(at(props, 'Mode'));
  const delay = text(at(props, 'DelayTime'));
  const idle = text(at(props, 'IdleState'));
  if (mode !== 'Monostable' && mode !== 'Bistable')
    throw faults.invalidArg(`Mode must be Monostable or Bistable, got "${mode ?? ''}"`);
  if (idle !== 'open' && idle !== 'closed')
    throw faults.invalidArg(`IdleState must be open or closed, got "${idle ?? ''}"`);
  const delayTimeMs = delay === undefined ? 0 : parseDuration(delay);
  if (delayTimeMs === undefined) throw faults.invalidArg(`DelayTime is not an xs:duration: "${delay ?? ''}"`);
  return { mode, delayTimeMs, idleState: idle };
}
