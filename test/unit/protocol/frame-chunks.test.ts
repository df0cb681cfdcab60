import { randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { Produce } from '../../../src/protocol/apis/produce.js'
import { encodeRequest, encodeRequestChunks } from '../../../src/protocol/frame.js'

/** A Produce body whose partitions carry record sets of these sizes (null: no records). */
function produceBody(sizes: ReadonlyArray<number | null>) {
  const records = sizes.map((n) => (n === null ? null : randomBytes(n)))
  return {
    records,
    body: {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [
        {
          name: 'orders',
          topicId: randomBytes(16).toString('base64url'),
          partitionData: records.map((r, index) => ({ index, records: r })),
        },
      ],
    },
  }
}

describe('encodeRequestChunks: the frame as a list of buffers, large record sets referenced, not copied', () => {
  const shapes: Array<ReadonlyArray<number | null>> = [
    [],
    [null, 10],
    [16_383, 16_384, 16_385],
    [70_000, 12, 1_048_576, null, 300_000],
    [1_048_576],
  ]
  for (const version of [3, 8, 9, 12, 13]) {
    for (const sizes of shapes) {
      test(`Produce v${version}, record sets of ${JSON.stringify(sizes)} bytes: the same bytes as encodeRequest`, () => {
        const { body, records } = produceBody(sizes)
        const whole = encodeRequest(Produce, version, 7, 'skiff', body)
        const chunks = encodeRequestChunks(Produce, version, 7, 'skiff', body)
        expect(Buffer.concat(chunks).equals(whole)).toBe(true)
        expect(Buffer.concat(chunks).readInt32BE(0)).toBe(whole.length - 4)
        // Every record set of 16 KiB or more is one of the chunks itself; smaller ones were copied.
        for (const r of records) {
          if (r === null) continue
          expect(chunks.includes(r)).toBe(r.length >= 16_384)
        }
      })
    }
  }
})
