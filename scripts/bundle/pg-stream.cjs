// Stands in for pg's lib/stream.js in the bundle (see scripts/build.js): the Node.js half of it. pg decides at load
// time whether it runs in a Cloudflare Worker by constructing a `Response`, which under Node loads undici (~25 ms of
// start-up for every command that connects); opsctl runs under Node only.
'use strict';
module.exports = {
  getStream() {
    const net = require('node:net');
    return new net.Socket();
  },
  getSecureStream(options) {
    const tls = require('node:tls');
    return tls.connect(options);
  },
};
