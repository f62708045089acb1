import jpeg from 'jpeg-js';

export const SNAPSHOT_WIDTH = 320;
export const SNAPSHOT_HEIGHT = 180;

/** What the sensor sees; every combination is rendered once and cached. */
export interface SceneLook {
  /** Daylight outside. */
  day: boolean;
  /** IR-cut filter removed (night mode: monochrome, IR sensitive). */
  nightMode: boolean;
  /** IR illuminator working. */
  irLit: boolean;
  /** Lens covered / scene obscured. */
  tamper: boolean;
  /** A car is in the lane. */
  motion: boolean;
}

const cache = new Map<string, Buffer>();

/** A JPEG of the gate scene for this look (320x180, cached per look, shared by all cameras). */
export function snapshotJpeg(look: SceneLook): Buffer {
  const key = `${+look.day}${+look.nightMode}${+look.irLit}${+look.tamper}${+look.motion}`;
  let jpg = cache.get(key);
  if (!jpg) {
    jpg = render(look);
    cache.set(key, jpg);
  }
  return jpg;
}

type Rgb = [number, number, number];

/** Base scene in daylight colours: sky, trees, road, barrier post and arm, kerb. */
function daylight(x: number, y: number, motion: boolean): Rgb {
  const W = SNAPSHOT_WIDTH;
  const H = SNAPSHOT_HEIGHT;
  const horizon = H * 0.42;
  // a car in the lane when there is motion
  if (motion && x > W * 0.3 && x < W * 0.62 && y > H * 0.55 && y < H * 0.86) {
    if (y < H * 0.64 && (x < W * 0.36 || x > W * 0.56)) return [150, 170, 185];
    return y > H * 0.8 && (x < W * 0.38 || x > W * 0.54) ? [25, 25, 28] : [170, 30, 35];
  }
  // barrier post and striped arm
  if (x > W * 0.12 && x < W * 0.16 && y > H * 0.45 && y < H * 0.85) return [230, 230, 225];
  if (y > H * 0.47 && y < H * 0.52 && x >= W * 0.16 && x < W * 0.9) {
    return Math.floor(x / 16) % 2 === 0 ? [220, 30, 30] : [240, 240, 240];
  }
  if (y < horizon) {
    // trees along the horizon, sky above
    const treeTop = horizon - 18 - 10 * Math.abs(Math.sin(x / 9));
    if (y > treeTop) return [50, 95, 45];
    const t = y / horizon;
    return [120 + 60 * t, 170 + 40 * t, 235];
  }
  // road with kerb and lane marking
  const t = (y - horizon) / (H - horizon);
  if (Math.abs(x - W / 2) < 2 + 3 * t && Math.floor(y / 8) % 2 === 0) return [235, 235, 210];
  if (x < W * 0.1 || x > W * 0.92) return [110, 140, 80];
  return [105 + 20 * t, 105 + 20 * t, 108 + 20 * t];
}

function noise(x: number, y: number): number {
  const n = Math.sin(x * 12.9898 + y * 78.233) * 43758.5453;
  return (n - Math.floor(n) - 0.5) * 2;
}

function render(look: SceneLook): Buffer {
  const W = SNAPSHOT_WIDTH;
  const H = SNAPSHOT_HEIGHT;
  const data = Buffer.alloc(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [r, g, b] = look.tamper ? [92, 88, 84] : daylight(x, y, look.motion);
      const luma = 0.299 * r + 0.587 * g + 0.114 * b;
      let out: Rgb;
      if (look.day && !look.nightMode) {
        out = [r, g, b];
      } else if (look.day) {
        // filter out by day: washed-out monochrome, still bright
        out = [luma * 0.95, luma * 0.95, luma * 0.95];
      } else if (look.nightMode && look.irLit) {
        // IR floodlight: grey picture, brightest in the middle where the beam falls
        const dx = (x - W / 2) / W;
        const dy = (y - H * 0.6) / H;
        const beam = 0.55 + 0.45 * Math.exp(-(dx * dx + dy * dy) * 6);
        const v = luma * 0.6 * beam;
        out = [v + 3, v, v + 2];
      } else {
        // dark: only the noise floor and a sodium street lamp in the corner
        const lamp = Math.hypot(x - W * 0.85, y - H * 0.2) < 4 ? 200 : 0;
        const v = 4 + lamp;
        out = look.nightMode ? [v, v, v] : [v + lamp * 0.2, v, 2];
      }
      const n = look.day ? 3 : 6;
      const i = (y * W + x) * 4;
      data[i] = clamp(out[0] + n * noise(x, y));
      data[i + 1] = clamp(out[1] + n * noise(x + 1, y));
      data[i + 2] = clamp(out[2] + n * noise(x, y + 1));
      data[i + 3] = 255;
    }
  }
  return jpeg.encode({ data, width: W, height: H }, 75).data;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** Mean luma (BT.601) and mean saturation of a JPEG, for tests and the driver's checks. */
export function jpegStats(jpg: Buffer): { luma: number; saturation: number; width: number; height: number } {
  const img = jpeg.decode(jpg, { useTArray: true });
  let luma = 0;
  let sat = 0;
  const px = img.width * img.height;
  for (let i = 0; i < px * 4; i += 4) {
    const r = img.data[i] ?? 0;
    const g = img.data[i + 1] ?? 0;
    const b = img.data[i + 2] ?? 0;
    luma += 0.299 * r + 0.587 * g + 0.114 * b;
    const max = Math.max(r, g, b);
    sat += max === 0 ? 0 : (max - Math.min(r, g, b)) / max;
  }
  return { luma: luma / px, saturation: sat / px, width: img.width, height: img.height };
}
