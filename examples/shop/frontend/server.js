import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStaticServer } from './lib/static-server.js';

const port = Number(process.env.PORT) || 3000;
const root = join(dirname(fileURLToPath(import.meta.url)), 'dist');
const log = (fields) => console.log(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, ...fields }));

const server = createStaticServer({ root, log: (req) => log({ req, msg: 'request completed' }) });
server.listen(port, process.env.HOST, () => log({ port, msg: `shop-frontend listening on port ${port}` }));
server.on('error', (err) => {
  console.error(
    JSON.stringify({
      level: 60,
      time: Date.now(),
      pid: process.pid,
      err: { type: err.name, message: err.message, stack: err.stack },
      msg: `cannot listen on port ${port}`,
    }),
  );
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  });
}
