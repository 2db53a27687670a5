// Hand-written: reading /proc directly answers in milliseconds, where spawning lsof or ss costs far more (Linux only).
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';

/** A TCP socket in LISTEN state, as the kernel reports it in /proc/net/tcp or tcp6. */
export interface ProcListenSocket {
  address: string;
  port: number;
  /** Socket inode: the link target of the owning process' fd is `socket:[inode]`. */
  inode: number;
  family: 4 | 6;
}

const LISTEN_STATE = '0A';

/**
 * Parse the text of /proc/net/tcp (family 4) or /proc/net/tcp6 (family 6), keeping LISTEN sockets.
 * Addresses are 32-bit words in host byte order, the port is big-endian hex.
 */
export function parseProcNetTcp(text: string, family: 4 | 6, littleEndian = endianness() === 'LE'): ProcListenSocket[] {
  const sockets: ProcListenSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || fields[3] !== LISTEN_STATE) continue;
    const [addrHex, portHex] = (fields[1] ?? '').split(':');
    if (!addrHex || !portHex) continue;
    const inode = Number(fields[9]);
    const address = family === 4 ? decodeIpv4(addrHex, littleEndian) : decodeIpv6(addrHex, littleEndian);
    sockets.push({ address, port: Number.parseInt(portHex, 16), inode, family });
  }
  return sockets;
}

/**
 * The listening TCP sockets of this network namespace, or undefined where /proc/net is unavailable
 * (macOS, BSD), so callers can fall back to lsof / ss.
 */
export async function readProcListenSockets(procRoot = '/proc'): Promise<ProcListenSocket[] | undefined> {
  const read = (name: string) => readFile(join(procRoot, 'net', name), 'utf8').catch(() => undefined);
  const [tcp, tcp6] = await Promise.all([read('tcp'), read('tcp6')]);
  if (tcp === undefined && tcp6 === undefined) return undefined;
  return [...parseProcNetTcp(tcp ?? '', 4), ...parseProcNetTcp(tcp6 ?? '', 6)];
}

function wordBytes(hex: string, littleEndian: boolean): number[] {
  const bytes = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return littleEndian ? bytes.reverse() : bytes;
}

function decodeIpv4(hex: string, littleEndian: boolean): string {
  return wordBytes(hex, littleEndian).join('.');
}

function decodeIpv6(hex: string, littleEndian: boolean): string {
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8), littleEndian));
  // IPv4-mapped (::ffff:a.b.c.d) is shown dotted, as ss and lsof do
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return compressIpv6(groups);
}

/** RFC 5952 text form: the longest run of two or more zero groups becomes "::". */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  const head = groups.slice(0, bestStart).join(':');
  const tail = groups.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}
