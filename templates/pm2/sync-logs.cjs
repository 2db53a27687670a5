// Preloaded into every PM2 cluster-mode worker opsctl starts (`node_args: --require`); copied next to the app's
// ecosystem files. In cluster mode the worker writes its own log files through fs.WriteStream, whose writes are
// asynchronous: what a process prints right before it exits (`console.error(err); process.exit(1)`, or the stack
// PM2 writes for an uncaught exception) never reaches the file (https://github.com/Unitech/pm2/issues/4075).
// Here those streams write synchronously, as Node's own stdout and stderr do to a file.
'use strict';
const fs = require('node:fs');

let env = {};
try {
  env = JSON.parse(process.env.pm2_env || '{}');
} catch {
  // not started by PM2: nothing to do
}
const logFiles = new Set([env.pm_out_log_path, env.pm_err_log_path, env.pm_log_path].filter(Boolean));

const createWriteStream = fs.createWriteStream;
fs.createWriteStream = function syncLogStream(path, ...rest) {
  const stream = createWriteStream.call(this, path, ...rest);
  if (!logFiles.has(String(path))) return stream;
  const write = stream.write;
  stream.write = function writeNow(chunk, encoding, callback) {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    // before the file is open, or behind writes already queued, keep the stream's own order
    if (typeof stream.fd !== 'number' || stream.destroyed || stream.writableLength > 0)
      return write.call(this, chunk, encoding, callback);
    let rest = typeof chunk === 'string' ? Buffer.from(chunk, encoding || 'utf8') : chunk;
    try {
      while (rest.length) rest = rest.subarray(fs.writeSync(stream.fd, rest));
    } catch {
      return write.call(this, rest, undefined, callback);
    }
    if (callback) process.nextTick(callback);
    return true;
  };
  return stream;
};
