import jpeg from 'jpeg-js';

/**
 * Mean luma (Rec. 601, 0–255) of a JPEG, sampling every `step`th pixel in both axes:
 * a dark-frame check needs the average, not every pixel. Decoding is bounded so a
 * hostile "snapshot" cannot exhaust memory.
 */
export function meanLuma(jpegData: Buffer, step = 4): number {
  const img = jpeg.decode(jpegData, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: 40,
    maxMemoryUsageInMB: 256,
  });
  const { width, height, data } = img;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const i = (y * width + x) * 4;
      sum += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      n++;
    }
  }
  return n === 0 ? 0 : Math.round((sum / n) * 10) / 10;
}
