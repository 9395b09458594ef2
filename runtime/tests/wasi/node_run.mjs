// node_run.mjs WASM PREOPEN_HOST PREOPEN_GUEST [ARGS…]: runs a wasip1 module under node:wasi (env from WASI_ENV=K=V,…).
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
const [wasmPath, host, guest, ...args] = process.argv.slice(2);
const env = {};
for (const a of (process.env.WASI_ENV || '').split(',').filter(Boolean)) { const [k, v] = a.split('='); env[k] = v; }
const wasi = new WASI({ version: 'preview1', args: [wasmPath, ...args], env, preopens: { [guest]: host }, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(wasmPath));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
