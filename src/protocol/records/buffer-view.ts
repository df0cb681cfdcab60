/**
 * Buffer views over existing memory, made the way Node makes its own Buffers (a Uint8Array subclass whose prototype
 * is Buffer.prototype): `Buffer.isBuffer`, `instanceof Buffer` and every Buffer method work on them, and creating
 * one costs about a third of `buf.subarray()` on Node 20, which matters at two or three views per record.
 *
 * The class is assigned to a property rather than declared: bundlers with `keepNames` (tsx, esbuild) add a static
 * `name` initialiser to declared classes, which takes V8 off its fast path for constructing typed-array subclasses
 * (measured 10x slower).
 */
const classes: { BufferView: Uint8ArrayConstructor } = { BufferView: Uint8Array }
classes.BufferView = class extends Uint8Array {}
Object.setPrototypeOf(classes.BufferView.prototype, Buffer.prototype)
// As on Node's own FastBuffer: instances report Buffer as their constructor (deep equality and `constructor` checks).
Object.defineProperty(classes.BufferView.prototype, 'constructor', {
  value: Buffer,
  writable: true,
  configurable: true,
})
const BufferView = classes.BufferView

/**
 * A Buffer viewing `length` bytes of `memory` from absolute byte `start` (add the source Buffer's byteOffset).
 * Callers read `buf.buffer` once per chunk: that getter alone costs about as much as a subarray.
 */
export function view(memory: ArrayBufferLike, start: number, length: number): Buffer {
  return new BufferView(memory as ArrayBuffer, start, length) as unknown as Buffer
}
