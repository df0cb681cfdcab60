// JSON lines built as bytes. `skiff fetch`'s default output is where its time goes (1M records of 1 KiB is 1 GB of
// JSON), and the string route — decode each value to a string, JSON.stringify it, concatenate, encode the result
// again for the write — costs several copies and scans per record. Here each line is written straight into one
// Buffer per chunk: a value that needs no escaping (printable ASCII without `"` or `\`, by far the common case for
// text payloads) is copied as is and checked four bytes at a time in place; anything else takes the
// JSON.stringify route, so the output is the same either way.
import { isUtf8 } from 'node:buffer'
import type { ConsumerRecord } from '../index.js'

/** Bytes that cannot be copied into a JSON string as they are: controls, `"`, `\`, and non-ASCII (checked apart). */
const NEEDS_CARE = new Uint8Array(256)
for (let i = 0; i < 0x20; i++) NEEDS_CARE[i] = 1
NEEDS_CARE[0x22] = 1
NEEDS_CARE[0x5c] = 1
for (let i = 0x80; i < 0x100; i++) NEEDS_CARE[i] = 1

export type JsonEncoding = 'utf8' | 'json' | 'hex' | 'base64' | 'none'

export interface JsonLineOptions {
  key: JsonEncoding
  value: JsonEncoding
  /** Called for a key or value that is not valid UTF-8 (printed with U+FFFD) or not JSON (printed as a string). */
  onLossy?: (what: 'key' | 'value' | 'header', problem: 'utf8' | 'json') => void
}

/**
 * Renders records as JSON lines into a Buffer:
 * `{"topic":"t","partition":0,"offset":5,"timestamp":1714564800000,"key":"k","value":"v","headers":[{"key":"h","value":"x"}]}`.
 */
export class JsonLineEncoder {
  private out: Buffer = Buffer.alloc(0)
  private words: Int32Array = new Int32Array(0)
  private pos = 0
  private readonly prefixes = new Map<string, Buffer>()
  private readonly headerEncoding: JsonEncoding

  constructor(private readonly options: JsonLineOptions) {
    const v = options.value
    this.headerEncoding = v === 'hex' || v === 'base64' ? v : 'utf8'
  }

  /** Records `[from, to)` as one Buffer of JSON lines. */
  encode(records: readonly ConsumerRecord[], from: number, to: number): Buffer {
    let estimate = 0
    for (let i = from; i < to; i++) {
      const r = records[i]!
      estimate += 160 + (r.key?.length ?? 0) + (r.value?.length ?? 0)
    }
    this.reset(Math.max(estimate, 64 * 1024))
    const { key: keyEnc, value: valueEnc } = this.options
    for (let i = from; i < to; i++) {
      const r = records[i]!
      this.bytes(this.prefix(r.topic, r.partition))
      this.int(r.offset)
      this.ascii(',"timestamp":')
      this.int(r.timestamp)
      if (keyEnc !== 'none') {
        this.ascii(',"key":')
        this.field(r.key, keyEnc, 'key')
      }
      if (valueEnc !== 'none') {
        this.ascii(',"value":')
        this.field(r.value, valueEnc, 'value')
      }
      const h = r.headers
      if (h.length === 0) this.ascii(',"headers":[]}\n')
      else {
        this.ascii(',"headers":[')
        for (let j = 0; j < h.length; j++) {
          this.ascii(j === 0 ? '{"key":' : ',{"key":')
          this.text(JSON.stringify(h[j]!.key))
          this.ascii(',"value":')
          this.field(h[j]!.value, this.headerEncoding, 'header')
          this.ascii('}')
        }
        this.ascii(']}\n')
      }
    }
    return this.out.subarray(0, this.pos)
  }

  private reset(size: number): void {
    // A fresh buffer per chunk: the previous one may still be queued in the stream's write buffer.
    this.out = Buffer.allocUnsafeSlow(size)
    this.words = new Int32Array(this.out.buffer, 0, this.out.length >>> 2)
    this.pos = 0
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.out.length) return
    const old = this.out.subarray(0, this.pos)
    const next = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.pos + n + 1024))
    old.copy(next, 0)
    this.out = next
    this.words = new Int32Array(next.buffer, 0, next.length >>> 2)
  }

  /** `{"topic":"t","partition":0,"offset":` — the same for every record of a partition, built once. */
  private prefix(topic: string, partition: number): Buffer {
    const k = `${partition}\u0000${topic}`
    let p = this.prefixes.get(k)
    if (p === undefined) {
      p = Buffer.from(`{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":`, 'utf8')
      this.prefixes.set(k, p)
    }
    return p
  }

  private bytes(b: Uint8Array): void {
    this.ensure(b.length)
    this.out.set(b, this.pos)
    this.pos += b.length
  }

  /** An ASCII string (JSON punctuation). */
  private ascii(s: string): void {
    this.ensure(s.length)
    this.pos += this.out.write(s, this.pos, 'latin1')
  }

  /** Any string, as UTF-8. */
  private text(s: string): void {
    this.ensure(s.length * 3)
    this.pos += this.out.write(s, this.pos, 'utf8')
  }

  /** A safe integer (offsets, timestamps), in decimal. */
  private int(n: number): void {
    this.ensure(24)
    const out = this.out
    let pos = this.pos
    if (n < 0) {
      out[pos++] = 0x2d
      n = -n
    }
    let digits = 1
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++
    for (let i = pos + digits - 1; i >= pos; i--) {
      out[i] = 0x30 + (n % 10)
      n = Math.floor(n / 10)
    }
    this.pos = pos + digits
  }

  private field(b: Buffer | null, enc: JsonEncoding, what: 'key' | 'value' | 'header'): void {
    if (b === null) this.ascii('null')
    else if (enc === 'hex' || enc === 'base64') this.ascii(`"${b.toString(enc)}"`)
    else if (enc === 'json') {
      const text = b.toString('utf8')
      let json: string
      try {
        // Re-serialized rather than embedded: pretty-printed JSON would break the one-record-per-line rule.
        json = JSON.stringify(JSON.parse(text))
      } catch {
        this.options.onLossy?.(what, 'json')
        json = JSON.stringify(text)
      }
      this.text(json)
    } else if (!this.plain(b)) {
      if (!isUtf8(b)) this.options.onLossy?.(what, 'utf8')
      this.text(JSON.stringify(b.toString('utf8')))
    }
  }

  /**
   * Copies `"b"` into the output if b is printable ASCII without `"` and `\`; otherwise writes nothing and returns
   * false. The bytes are copied first and then checked where they landed, a 32-bit word at a time: a word holds a
   * byte < 0x20 iff `(w - 0x20202020) & ~w & 0x80808080` (the "hasless" test, exact for existence), a `"` or `\`
   * iff the same test for < 1 holds on `w ^ 0x22222222` or `w ^ 0x5c5c5c5c`, and non-ASCII iff `w & 0x80808080`.
   */
  private plain(b: Buffer): boolean {
    const n = b.length
    this.ensure(n + 2)
    const out = this.out
    const start = this.pos
    out[start] = 0x22
    out.set(b, start + 1)
    let i = start + 1
    const end = i + n
    // Bytes up to the first 4-aligned position, then whole words, then the tail (the buffer starts aligned).
    for (const aligned = Math.min(end, (i + 3) & ~3); i < aligned; i++) if (NEEDS_CARE[out[i]!] === 1) return false
    const words = this.words
    for (let w = i >>> 2, last = end >>> 2; w < last; w++, i += 4) {
      const x = words[w]!
      const q = x ^ 0x22222222
      const s = x ^ 0x5c5c5c5c
      if (
        ((((x - 0x20202020) | 0) & ~x) | (((q - 0x01010101) | 0) & ~q) | (((s - 0x01010101) | 0) & ~s) | x) &
        0x80808080
      )
        return false
    }
    for (; i < end; i++) if (NEEDS_CARE[out[i]!] === 1) return false
    out[end] = 0x22
    this.pos = end + 1
    return true
  }
}
