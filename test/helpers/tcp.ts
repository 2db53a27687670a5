import { createServer, type Socket } from 'node:net';

export { freePort } from '../../src/net/free-port.js';

/** A TCP server on 127.0.0.1 that accepts connections and never answers: a hung service. */
export interface HungServer {
  port: number;
  /** How many connections it accepted (proves the client got past TCP). */
  connections(): number;
  /** Connections still open (a client that cleans up leaves none). */
  openSockets(): number;
  /** Everything clients sent, as latin1 text (protocol startup packets are mostly ASCII). */
  received(): string;
  /** Destroy every accepted socket and stop listening. */
  close(): Promise<void>;
}

export async function startHungServer(): Promise<HungServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let received = '';
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    connections: () => accepted,
    received: () => received,
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
