import { GatehouseError } from '../errors.ts';
import { parse } from './args.ts';
import { GATEWAY_OPTIONS, GATEWAY_USAGE, gatewayClient } from './gateway-client.ts';

const USAGE = `usage: gatehouse remove device ID [--url URL]
       gatehouse remove bus ID [--url URL]

Remove a device or a bus from a running gateway, live (no restart) and from the config
file (its comments kept). A barrier with a gate command under way, or a bus that still
carries devices, is refused and left as it is.

options:
${GATEWAY_USAGE}
  --json           print the gateway's answer as JSON`;

export async function remove(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { ...GATEWAY_OPTIONS, json: { type: 'boolean' } }, USAGE);
  const [what, id, ...rest] = positionals;
  if ((what !== 'device' && what !== 'bus') || !id || rest.length > 0) {
    throw new GatehouseError('GH_CLI_USAGE', [`say what to remove: device ID or bus ID\n\n${USAGE}`]);
  }
  const client = gatewayClient(values);
  const path = `/api/v1/commissioning/${what === 'device' ? 'devices' : 'buses'}/${encodeURIComponent(id)}`;
  const a = await client.call<{ id: string; savedTo?: string }>('DELETE', path);
  if (values.json) console.log(JSON.stringify(a));
  else console.log(`removed ${what} ${a.id}${a.savedTo ? `, saved to ${a.savedTo}` : ''}`);
}
