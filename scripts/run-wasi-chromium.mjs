// Runs a wasm32-wasip1 program inside headless Chromium, the browser the page runs in:
//   node run-wasi-chromium.mjs prog.wasm [args...]
// prints what the program wrote to stdout and exits with its code. `run-wasi.mjs` does the same
// under Node, whose V8 (11.3 for Node 20) is years older than Chromium's; the simulator's wasm
// speed is measured in both (scripts/bench-wasm.sh). The program gets only what `simbench`
// imports from WASI: arguments, an empty environment, a monotonic clock, stdout/stderr, exit.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { argv, exit, stderr, stdout } from 'node:process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'e2e', 'package.json'));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch {
  stderr.write('run-wasi-chromium: playwright-core is missing: run `make tools` (it installs e2e/node_modules)\n');
  exit(2);
}
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';

const [, , file, ...args] = argv;
if (!file) {
  stderr.write('usage: node run-wasi-chromium.mjs prog.wasm [args...]\n');
  exit(2);
}
const bytes = await readFile(file);
const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  const result = await page.evaluate(async ({ b64, args }) => {
    const ExitCode = class { constructor(code) { this.code = code; } };
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const argBytes = args.map((a) => enc.encode(a + '\0'));
    let out = '';
    let err = '';
    let memory;
    const view = () => new DataView(memory.buffer);
    const wasi = {
      args_sizes_get(countPtr, sizePtr) {
        view().setUint32(countPtr, argBytes.length, true);
        view().setUint32(sizePtr, argBytes.reduce((n, b) => n + b.length, 0), true);
        return 0;
      },
      args_get(argvPtr, bufPtr) {
        const mem = new Uint8Array(memory.buffer);
        for (const [i, b] of argBytes.entries()) {
          view().setUint32(argvPtr + 4 * i, bufPtr, true);
          mem.set(b, bufPtr);
          bufPtr += b.length;
        }
        return 0;
      },
      environ_sizes_get(countPtr, sizePtr) {
        view().setUint32(countPtr, 0, true);
        view().setUint32(sizePtr, 0, true);
        return 0;
      },
      environ_get() {
        return 0;
      },
      clock_time_get(_id, _precision, timePtr) {
        // performance.now() is monotonic; nanoseconds as a u64.
        view().setBigUint64(timePtr, BigInt(Math.round(performance.now() * 1e6)), true);
        return 0;
      },
      fd_write(fd, iovs, iovsLen, writtenPtr) {
        let n = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = view().getUint32(iovs + 8 * i, true);
          const len = view().getUint32(iovs + 8 * i + 4, true);
          const text = dec.decode(new Uint8Array(memory.buffer, ptr, len));
          if (fd === 1) out += text;
          else err += text;
          n += len;
        }
        view().setUint32(writtenPtr, n, true);
        return 0;
      },
      proc_exit(code) {
        throw new ExitCode(code);
      },
    };
    const { instance } = await WebAssembly.instantiate(bin, { wasi_snapshot_preview1: wasi });
    memory = instance.exports.memory;
    let code = 0;
    try {
      instance.exports._start();
    } catch (e) {
      if (e instanceof ExitCode) code = e.code;
      else return { out, err: err + String(e), code: 1 };
    }
    return { out, err, code };
  }, { b64: bytes.toString('base64'), args: [file, ...args] });
  stdout.write(result.out);
  stderr.write(result.err);
  process.exitCode = result.code;
} finally {
  await browser.close();
}
