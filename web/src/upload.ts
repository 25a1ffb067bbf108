// Blob upload from the browser in chunks (each well under the IC's 2 MiB ingress limit), reporting
// progress after every chunk.
import type { CanopyActor } from './canister.ts';

export const CHUNK_BYTES = 1_000_000;

export type Uploaded = { cid: string; mimeType: string; size: number; aspectRatio?: { width: number; height: number }; objectUrl: string };

/** Pixel size from the browser's own decoder (for the post's aspectRatio). */
async function pixelSize(file: Blob): Promise<{ width: number; height: number } | undefined> {
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return undefined;
  }
}

export async function uploadBlob(actor: CanopyActor, file: File, progress: (done: number, total: number) => void): Promise<Uploaded> {
  const data = new Uint8Array(await file.arrayBuffer());
  const uploadId = await actor.blob_upload_start({ mime_type: file.type || 'application/octet-stream', size: BigInt(data.length) });
  progress(0, data.length);
  for (let offset = 0; offset < data.length; offset += CHUNK_BYTES) {
    const chunk = data.subarray(offset, Math.min(offset + CHUNK_BYTES, data.length));
    await actor.blob_upload_chunk({ upload_id: uploadId, offset: BigInt(offset), data: chunk });
    progress(offset + chunk.length, data.length);
  }
  const ref = await actor.blob_upload_finish({ upload_id: uploadId });
  const aspectRatio = file.type.startsWith('image/') ? await pixelSize(file) : undefined;
  return { cid: ref.cid, mimeType: ref.mime_type, size: Number(ref.size), ...(aspectRatio ? { aspectRatio } : {}), objectUrl: URL.createObjectURL(file) };
}
