// Generates the app icon PNGs electron-builder needs, without ImageMagick: a padlock on a rounded blue
// square, drawn with signed distance functions and 4x4 supersampling, written as RGBA PNG by hand.
//   node build/make-icons.mjs
// Output: build/icon.png (1024, electron-builder derives .icns and .ico from it) and
// build/icons/<N>x<N>.png (Linux hicolor sizes).
import { deflateSync } from 'node:zlib';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
export function encodePng(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Signed distance to a rounded box centred at (cx, cy) with half sizes (hx, hy) and corner radius r.
function roundBox(x, y, cx, cy, hx, hy, r) {
  const qx = Math.abs(x - cx) - hx + r;
  const qy = Math.abs(y - cy) - hy + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}
// Padlock shackle: upper half ring plus two legs, as a stroke of half width w.
function shackle(x, y) {
  const cx = 0.5,
    cy = 0.43,
    r = 0.13,
    w = 0.038,
    legEnd = 0.5;
  let d;
  if (y <= cy) d = Math.abs(Math.hypot(x - cx, y - cy) - r);
  else {
    const ly = Math.min(y, legEnd);
    d = Math.min(Math.hypot(x - (cx - r), y - ly), Math.hypot(x - (cx + r), y - ly));
  }
  return d - w;
}

function sample(x, y) {
  // returns [r, g, b, a] in 0..1
  const bg = roundBox(x, y, 0.5, 0.5, 0.44, 0.44, 0.19);
  if (bg > 0) return [0, 0, 0, 0];
  const t = (y - 0.06) / 0.88;
  let col = [0.15 + 0.0 * t, 0.39 - 0.16 * t, 0.92 - 0.38 * t]; // #2563eb -> #1e3a8a-ish
  const body = roundBox(x, y, 0.5, 0.63, 0.22, 0.17, 0.045);
  const inLock = body <= 0 || shackle(x, y) <= 0;
  if (inLock) col = [0.97, 0.98, 1];
  // Keyhole cut into the body.
  const hole = Math.min(
    Math.hypot(x - 0.5, y - 0.6) - 0.042,
    roundBox(x, y, 0.5, 0.67, 0.017, 0.05, 0.01),
  );
  if (body <= 0 && hole <= 0) col = [0.12, 0.25, 0.62];
  // A green "connected" dot, bottom right.
  if (Math.hypot(x - 0.76, y - 0.78) <= 0.075) col = [0.13, 0.77, 0.37];
  return [col[0], col[1], col[2], 1];
}

export function render(size) {
  const out = Buffer.alloc(size * size * 4);
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const [cr, cg, cb, ca] = sample(
            (px + (sx + 0.5) / S) / size,
            (py + (sy + 0.5) / S) / size,
          );
          r += cr * ca;
          g += cg * ca;
          b += cb * ca;
          a += ca;
        }
      }
      const i = (py * size + px) * 4;
      const n = S * S;
      out[i] = a ? Math.round((r / a) * 255) : 0;
      out[i + 1] = a ? Math.round((g / a) * 255) : 0;
      out[i + 2] = a ? Math.round((b / a) * 255) : 0;
      out[i + 3] = Math.round((a / n) * 255);
    }
  }
  return out;
}

export const SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mkdirSync(path.join(here, 'icons'), { recursive: true });
  for (const s of SIZES) {
    const png = encodePng(s, render(s));
    writeFileSync(path.join(here, 'icons', `${s}x${s}.png`), png);
    if (s === 1024) writeFileSync(path.join(here, 'icon.png'), png);
  }
  console.log(`wrote build/icon.png and build/icons/{${SIZES.join(',')}}.png`);
}
