import { describe, expect, test } from 'vitest'
import type { ConsumerRecord } from '../../../src/client/consumer/index.js'
import { batchCopy, DLQ_HEADERS, dlqTopicFor, recordCopy } from '../../../src/stream/dead-letter.js'
import { HandlerFailedError } from '../../../src/stream/errors.js'

const record: ConsumerRecord = {
  topic: 'orders',
  partition: 2,
  offset: 41,
  timestamp: 1_700_000_000_123,
  key: Buffer.from('o-1'),
  value: Buffer.from('{"total":42}'),
  headers: [{ key: 'trace', value: Buffer.from('abc') }],
}

describe('dead-letter copies', () => {
  test('the lane is <topic>.dlq unless named, by a string or a function of the source topic', () => {
    expect(dlqTopicFor(undefined, 'orders')).toBe('orders.dlq')
    expect(dlqTopicFor('poison', 'orders')).toBe('poison')
    expect(dlqTopicFor((t) => `dead.${t}`, 'orders')).toBe('dead.orders')
  })

  test("a record's copy keeps its key, value and headers and adds where it came from and why it failed", () => {
    const err = new HandlerFailedError('orders', 2, 41, 4, new TypeError('no customer'))
    const copy = recordCopy(record, 'handler', err, 4)
    expect(copy.key).toBe(record.key)
    expect(copy.value).toBe(record.value)
    expect(copy.headers).toEqual([
      ['trace', record.headers[0]!.value],
      [DLQ_HEADERS.reason, 'handler'],
      [DLQ_HEADERS.topic, 'orders'],
      [DLQ_HEADERS.partition, '2'],
      [DLQ_HEADERS.offset, '41'],
      [DLQ_HEADERS.timestamp, '1700000000123'],
      [DLQ_HEADERS.attempts, '4'],
      [DLQ_HEADERS.errorClass, 'HandlerFailedError'],
      [DLQ_HEADERS.errorMessage, 'handler failed 4 time(s) for orders[2] offset 41: TypeError: no customer'],
    ])
  })

  test('an error message is cut at 4096 characters', () => {
    const copy = recordCopy(record, 'deserialize', new Error('x'.repeat(10_000)), 0)
    const headers = copy.headers as Array<readonly [string, string]>
    expect(headers.find(([k]) => k === DLQ_HEADERS.errorMessage)![1]).toHaveLength(4096)
  })

  test("a batch's copy is its raw bytes, with headers naming partition, offsets, codec, limit and error", () => {
    const raw = Buffer.from('compressed batch bytes')
    const error = new Error('zstd batch expands past maxBatchDecompressedBytes')
    error.name = 'DecompressionBudgetExceededError'
    const copy = batchCopy({
      topic: 'orders',
      partition: 0,
      baseOffset: 10,
      lastOffset: 73,
      codec: 'zstd',
      limitBytes: 8 << 20,
      error,
      raw,
    })
    expect(copy).toEqual({
      key: null,
      value: raw,
      headers: [
        [DLQ_HEADERS.reason, 'batch'],
        [DLQ_HEADERS.topic, 'orders'],
        [DLQ_HEADERS.partition, '0'],
        [DLQ_HEADERS.baseOffset, '10'],
        [DLQ_HEADERS.lastOffset, '73'],
        [DLQ_HEADERS.codec, 'zstd'],
        [DLQ_HEADERS.limitBytes, String(8 << 20)],
        [DLQ_HEADERS.errorClass, 'DecompressionBudgetExceededError'],
        [DLQ_HEADERS.errorMessage, 'zstd batch expands past maxBatchDecompressedBytes'],
      ],
    })
  })
})
