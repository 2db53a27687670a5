import { open } from 'node:fs/promises';

/** The end of a log file: enough for recent crashes, bounded so a 10 GB log does not stall doctor. */
export interface LogTail {
  text: string;
  size: number;
  mtime: Date;
  /** Only the last `maxBytes` were read. */
  truncated: boolean;
}

/** Read at most the last `maxBytes` of a file, starting at a line boundary. */
export async function readTail(file: string, maxBytes: number): Promise<LogTail> {
  const handle = await open(file, 'r');
  try {
    const { size, mtime } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    let offset = 0;
    while (offset < buffer.length) {
      const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, start + offset);
      if (!bytesRead) break;
      offset += bytesRead;
    }
    let text = buffer.subarray(0, offset).toString('utf8');
    // the first line of a cut read is a fragment
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return { text, size, mtime, truncated: start > 0 };
  } finally {
    await handle.close();
  }
}
