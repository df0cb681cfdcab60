import { Writable } from 'node:stream'
import type { Message, ProducerRecord, RecordMetadata } from './record.js'

/** The slice of the producer a stream uses. */
interface StreamProducer {
  _produceTo(
    topic: string,
    message: Message,
    callback?: (err: Error | null, metadata?: RecordMetadata) => void,
  ): boolean
  once(event: 'drain', listener: () => void): unknown
}

export interface ProducerStreamOptions {
  /** Topic for records that do not name one. */
  topic?: string
  /** Records the Writable itself buffers before `write` returns false. Default 1024. */
  highWaterMark?: number
}

/**
 * An object-mode Writable of messages (`{ key, value, headers, partition, timestamp }`, with `topic` unless the stream
 * has one). A write completes once the producer has room for the record, so a full producer buffer holds the
 * pipeline back; the stream finishes once every record written is acknowledged, and errors (destroying itself)
 * with the first record that fails.
 */
export class ProducerStream extends Writable {
  private outstanding = 0
  private failure: Error | undefined
  private finish: ((err?: Error | null) => void) | undefined

  constructor(
    private readonly producer: StreamProducer,
    private readonly options: ProducerStreamOptions,
  ) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? 1024 })
  }

  private readonly delivered = (err: Error | null): void => {
    this.outstanding--
    if (err && this.failure === undefined) {
      this.failure = err
      this.destroy(err)
    }
    if (this.outstanding === 0 && this.finish) {
      const done = this.finish
      this.finish = undefined
      done(this.failure)
    }
  }

  override _write(chunk: ProducerRecord, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    const topic = chunk?.topic ?? this.options.topic
    let accepted: boolean
    this.outstanding++
    try {
      accepted = this.producer._produceTo(topic as string, chunk, this.delivered)
    } catch (err) {
      this.outstanding--
      callback(err as Error)
      return
    }
    if (accepted) callback()
    else this.producer.once('drain', () => callback())
  }

  override _final(callback: (err?: Error | null) => void): void {
    if (this.outstanding === 0) callback(this.failure)
    else this.finish = callback
  }
}
