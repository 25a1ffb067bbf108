// Blob upload in chunks (each well under the 2 MiB ingress limit) with a progress bar on stderr.
import { readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { CanopyActor } from './client.ts';
import { CliError } from './errors.ts';
import { bytes } from './format.ts';

export const CHUNK_BYTES = 1_000_000;

const EXT_MIME: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp',
  '.mp4': 'video/mp4', '.txt': 'text/plain', '.json': 'application/json',
};

/** MIME type from the file's first bytes, else its extension, else application/octet-stream. */
export function sniffMime(data: Uint8Array, name = ''): string {
  const starts = (...b: number[]) => b.every((x, i) => data[i] === x);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...data.slice(8, 12)) === 'WEBP') return 'image/webp';
  if (String.fromCharCode(...data.slice(4, 8)) === 'ftyp') return 'video/mp4';
  return EXT_MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Pixel size of a PNG or JPEG (for the post's aspectRatio), or undefined. */
export function imageSize(data: Uint8Array): { width: number; height: number } | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length >= 24 && data[0] === 0x89 && data[1] === 0x50) return { width: view.getUint32(16), height: view.getUint32(20) };
  if (data[0] === 0xff && data[1] === 0xd8) {
    let i = 2;
    while (i + 9 < data.length) {
      if (data[i] !== 0xff) return undefined;
      const marker = data[i + 1]!;
      const len = view.getUint16(i + 2);
      // SOF0..SOF15 except DHT (c4), JPG (c8), DAC (cc)
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      }
      i += 2 + len;
    }
  }
  return undefined;
}

export function progressBar(done: number, total: number, width = 30): string {
  const frac = total === 0 ? 1 : done / total;
  const filled = Math.round(frac * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}% ${bytes(done)} / ${bytes(total)}`;
}

export type UploadedBlob = { cid: string; mimeType: string; size: number; aspectRatio?: { width: number; height: number } };

/**
 * Uploads a file; `progress` receives a redrawn bar (only called when stderr is a terminal).
 */
export async function uploadFile(
  actor: CanopyActor,
  path: string,
  opts: { mime?: string; progress?: (line: string, final: boolean) => void } = {},
): Promise<UploadedBlob> {
  let data: Uint8Array;
  try {
    if (!statSync(path).isFile()) throw new Error();
    data = new Uint8Array(readFileSync(path));
  } catch {
    throw new CliError(`cannot read file ${path}`);
  }
  const mimeType = opts.mime ?? sniffMime(data, basename(path));
  const uploadId: string = await actor.blob_upload_start({ mime_type: mimeType, size: BigInt(data.length) });
  opts.progress?.(progressBar(0, data.length), false);
  for (let offset = 0; offset < data.length; offset += CHUNK_BYTES) {
    const chunk = data.subarray(offset, Math.min(offset + CHUNK_BYTES, data.length));
    await actor.blob_upload_chunk({ upload_id: uploadId, offset: BigInt(offset), data: chunk });
    opts.progress?.(progressBar(offset + chunk.length, data.length), false);
  }
  const ref = await actor.blob_upload_finish({ upload_id: uploadId });
  opts.progress?.(progressBar(data.length, data.length), true);
  const size = imageSize(data);
  return { cid: ref.cid, mimeType: ref.mime_type, size: Number(ref.size), ...(size ? { aspectRatio: size } : {}) };
}
