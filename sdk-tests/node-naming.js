// Drives the official Node.js client (npm `nacos` 2.6.3, its NacosNamingClient) for
// native/tests/sdk.rs: one command per process, one JSON line per result on stdout.
//
//   node node-naming.js register   127.0.0.1:8848 '{"service":"s","ip":"127.0.0.1","port":80}'
//   node node-naming.js deregister 127.0.0.1:8848 '{"service":"s","ip":"127.0.0.1","port":80}'
//   node node-naming.js list       127.0.0.1:8848 '{"service":"s"}'
//   node node-naming.js subscribe  127.0.0.1:8848 '{"service":"s","seconds":30}'
//   node node-naming.js status     127.0.0.1:8848 '{}'
'use strict';

const { NacosNamingClient } = require('nacos');

const [cmd, server, argText] = process.argv.slice(2);
const a = JSON.parse(argText || '{}');
const say = obj => process.stdout.write(JSON.stringify(obj) + '\n');
const logger = {
  debug() {},
  info() {},
  warn(...x) { console.error('[warn]', ...x); },
  error(...x) { console.error('[error]', ...x); },
};

async function main() {
  const client = new NacosNamingClient({ logger, serverList: server, namespace: 'public' });
  await client.ready();
  try {
    switch (cmd) {
      case 'register':
        await client.registerInstance(a.service, {
          ip: a.ip,
          port: a.port,
          ephemeral: false,
          metadata: a.metadata || {},
        }, a.group || 'DEFAULT_GROUP');
        say({ ok: true });
        break;
      case 'deregister':
        await client.deregisterInstance(a.service, {
          ip: a.ip,
          port: a.port,
          ephemeral: false,
        }, a.group || 'DEFAULT_GROUP');
        say({ ok: true });
        break;
      case 'list':
        // subscribe=false: straight from the server, no cache.
        say({ hosts: await client.getAllInstances(a.service, a.group || 'DEFAULT_GROUP', '', false) });
        break;
      case 'status':
        say({ status: await client.getServerStatus() });
        break;
      case 'subscribe': {
        const started = Date.now();
        client.subscribe(a.service, hosts => say({ ms: Date.now() - started, hosts }));
        say({ subscribed: true });
        await new Promise(r => setTimeout(r, (a.seconds || 30) * 1000));
        break;
      }
      default:
        throw new Error('unknown command ' + cmd);
    }
  } finally {
    await client.close();
  }
}

main().then(() => process.exit(0), err => {
  console.error(err && err.stack || err);
  say({ error: String(err && err.message || err) });
  process.exit(1);
});
