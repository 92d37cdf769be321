// hash-wasm's Keccak-only build (11 KB; the package's index carries every algorithm's WebAssembly). Types from the package.
declare module 'hash-wasm/dist/keccak.umd.min.js' {
  const m: { createKeccak: typeof import('hash-wasm').createKeccak }
  export default m
}
