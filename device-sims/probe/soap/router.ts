import type { OpContext, Operation, CameraView } from '../ops/types.ts';
import type { UsernameTokenVerifier } from '../wssec.ts';
import { deviceOps } from '../ops/device/index.ts';
import { mediaOps } from '../ops/media/index.ts';
import { imagingOps } from '../ops/imaging/index.ts';
import { eventOps, subscriptionOps } from '../ops/events/index.ts';
import { SUBSCRIPTION_PATH_PREFIX } from '../events.ts';
import { SoapFault, envelope, faultXml, faults } from './envelope.ts';
import { parseSoap } from './parse.ts';

/** Service addresses (paths) and the operations each answers. */
export const SERVICE_PATHS = {
  device: '/onvif/device_service',
  media: '/onvif/Media',
  imaging: '/onvif/Imaging',
  events: '/onvif/Events',
} as const;

const byPath: Record<string, Record<string, Operation>> = {
  [SERVICE_PATHS.device]: deviceOps,
  [SERVICE_PATHS.media]: mediaOps,
  [SERVICE_PATHS.imaging]: imagingOps,
  [SERVICE_PATHS.events]: eventOps,
};

export interface SoapResult {
  status: number;
  xml: string;
  /** Operation name when the request could be read (for logs and the control interface). */
  op?: string;
}

/** Which operation table serves a path, or undefined for a path no service lives at. */
export function serviceFor(
  path: string,
): { ops: Record<string, Operation>; subscriptionId?: string } | undefined {
  const ops = byPath[path];
  if (ops) return { ops };
  if (path.startsWith(SUBSCRIPTION_PATH_PREFIX)) {
    return { ops: subscriptionOps, subscriptionId: path.slice(SUBSCRIPTION_PATH_PREFIX.length) };
  }
  return undefined;
}

/** Parse, authenticate and dispatch one SOAP request; every failure becomes a SOAP fault. */
export async function dispatchSoap(
  cam: CameraView,
  verifier: UsernameTokenVerifier,
  path: string,
  xml: string,
  aborted: AbortSignal,
): Promise<SoapResult> {
  const service = serviceFor(path);
  let op: string | undefined;
  try {
    if (!service) throw faults.actionNotSupported(path);
    const req = parseSoap(xml);
    op = req.op;
    const handler = service.ops[req.op];
    if (!handler) throw faults.actionNotSupported(req.op);
    // A camera without imaging control, as many fixed-IR models are.
    if (service.ops === imagingOps && cam.state.faults['imaging-unsupported'])
      throw faults.actionNotSupported(req.op);
    if (handler.access === 'user') {
      const { config } = cam.state;
      verifier.verify(req.header, config.user, cam.state.password, cam.state.nowMs());
    }
    const ctx: OpContext = {
      cam,
      req,
      aborted,
      ...(service.subscriptionId ? { subscriptionId: service.subscriptionId } : {}),
    };
    return { status: 200, xml: envelope(await handler.handle(ctx)), op };
  } catch (err) {
    const fault =
      err instanceof SoapFault
        ? err
        : new SoapFault('Receiver', 'ter:Action', `Internal error: ${(err as Error).message}`);
    return { status: fault.httpStatus, xml: faultXml(fault), ...(op ? { op } : {}) };
  }
}
