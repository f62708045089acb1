import { GatehouseError } from '../errors.ts';
import { parse } from './args.ts';
import { definition } from './definition.ts';
import { GATEWAY_OPTIONS, GATEWAY_USAGE, gatewayClient } from './gateway-client.ts';

const USAGE = `usage: gatehouse add device key=value… [--file FILE] [options]
       gatehouse add bus key=value… [--file FILE] [--url URL]

Add a device or a bus to a running gateway: checked by the same rules as the village
config, live at once (no restart), and saved into the config file with its comments
kept. A device is first tested against the real device (connect and read once) and
added only when that works.

  gatehouse add device id=north-in kind=barrier driver=modbus bus=rs485-1 unit=3 profile=northgate-hr lane=north-in
  gatehouse add device id=north-cam kind=probe driver=onvif url=http://10.0.5.21/onvif/device_service \\
      username=gatehouse --password-env CAM_PW
  gatehouse add bus id=rs485-2 type=rtu path=/dev/ttyUSB1 baud=19200

Values are read as YAML (unit=3 is a number, 'password={ env: CAM_PW }' a reference to
the gateway's environment); a.b=x nests. --file reads the mapping as under devices: or
buses:, and key=value words override it.

options:
  --file FILE          start from this YAML mapping
  --replace            change the device with this id instead (the whole definition)
  --skip-test          add without testing (a device not powered yet)
  --password-env VAR   send the camera password from this variable of your shell; the
                       gateway keeps it in a 0600 file, never in the YAML
${GATEWAY_USAGE}
  --json               print the gateway's answers as JSON`;

export async function add(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    argv,
    {
      ...GATEWAY_OPTIONS,
      file: { type: 'string' },
      replace: { type: 'boolean' },
      'skip-test': { type: 'boolean' },
      'password-env': { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  const [what, ...words] = positionals;
  if (what !== 'device' && what !== 'bus') {
    throw new GatehouseError('GH_CLI_USAGE', [`say what to add: device or bus\n\n${USAGE}`]);
  }
  const def = definition(words, values.file);
  if (values['password-env']) {
    const pw = process.env[values['password-env']];
    if (!pw) throw new GatehouseError('GH_CLI_USAGE', [`${values['password-env']} is not set`]);
    def.password = pw;
  }
  const client = gatewayClient(values);
  const print = (text: string, answer: unknown) => console.log(values.json ? JSON.stringify(answer) : text);
  const saved = (a: { savedTo?: string }) =>
    a.savedTo ? `saved to ${a.savedTo}` : 'not saved: the gateway runs without a config file';

  if (what === 'bus') {
    const a = await client.call<{ id: string; savedTo?: string }>('POST', '/api/v1/commissioning/buses', def);
    print(`added bus ${a.id}, ${saved(a)}`, a);
    return;
  }
  if (!values['skip-test']) {
    const t = await client.call<{ ok: boolean; ms: number; reason?: string; detail?: string }>(
      'POST',
      '/api/v1/commissioning/test',
      def,
    );
    print(t.ok ? `test: answered in ${t.ms} ms` : `test: ${t.reason ?? 'failed'}: ${t.detail ?? ''}`, t);
    if (!t.ok) {
      console.error('not added: fix the definition or the device, or add it anyway with --skip-test');
      process.exitCode = 1;
      return;
    }
  }
  const id = String(def.id ?? '');
  const a = values.replace
    ? await client.call<{ id: string; savedTo?: string }>(
        'PUT',
        `/api/v1/commissioning/devices/${encodeURIComponent(id)}`,
        def,
      )
    : await client.call<{ id: string; savedTo?: string }>('POST', '/api/v1/commissioning/devices', def);
  print(`${values.replace ? 'changed' : 'added'} device ${a.id}, polled now, ${saved(a)}`, a);
}
