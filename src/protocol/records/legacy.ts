import { CorruptRecordError, type RecordContext } from './errors.js'
import type { KafkaRecord } from './record-decoder.js'

/**
 * A magic 0/1 message (set), as old log segments still hold. Placeholder: decoding lands with the legacy codec.
 */
export class LegacyMessageBatch {
  readonly magic: number
  readonly baseOffset: number
  constructor(
    readonly bytes: Buffer,
    readonly context: RecordContext = {},
  ) {
    this.magic = bytes[16]!
    this.baseOffset = Number(bytes.readBigInt64BE(0))
  }
  records(): KafkaRecord[] {
    throw new CorruptRecordError('legacy message sets are not decoded yet', this.context)
  }
}
