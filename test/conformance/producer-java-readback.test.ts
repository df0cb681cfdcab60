import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Connection } from '../../src/client/connection.js'
import { type Message, Producer } from '../../src/client/producer/index.js'
import { compileJava, kafkaClientsClasspath } from '../helpers/java-assignors.js'
import { connectTestBroker, testKafka } from '../helpers/kafka.js'
import { createTopic } from '../helpers/protocol.js'

const run = promisify(execFile)
const { bootstrap, version } = testKafka()

/** kafka-clients plus the codec jars a Java consumer needs to read compressed batches, from the broker's cache. */
function javaClasspath(): string | null {
  const base = kafkaClientsClasspath(version)
  if (!base) return null
  const lib = join(base.split(':')[0]!, '..')
  if (!existsSync(lib)) return null
  const codecs = readdirSync(lib).filter((f) => /^(lz4-java|snappy-java|zstd-jni)-.*\.jar$/.test(f))
  return [base, ...codecs.map((f) => join(lib, f))].join(':')
}

const hex = (b: Buffer | string | null | undefined) =>
  b == null ? '-' : (typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('hex')

/**
 * Records Skiff's producer writes — binary and UTF-8 keys and values, null keys, tombstones, empty values, repeated
 * and null-valued headers, explicit timestamps — are read back by Kafka's own Java KafkaConsumer with the same
 * partition, offset, key, value, headers and timestamp, for every compression codec.
 */
describe(`records Skiff produces, read back by the Java consumer (Kafka ${version})`, () => {
  const classpath = javaClasspath()
  const classes =
    classpath && compileJava(join(import.meta.dirname, '../fixtures/producer/JavaReadBack.java'), classpath)
  let conn: Connection
  beforeAll(async () => {
    conn = await connectTestBroker()
  })
  afterAll(async () => {
    await conn?.close()
  })

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    test.skipIf(!classes)(`${codec}: partitions, offsets, keys, values, headers and timestamps match`, async () => {
      const topic = await createTopic(conn, { prefix: `java-readback-${codec}`, partitions: 3 })
      const t0 = Date.now() - 3_600_000
      const messages: Message[] = Array.from({ length: 300 }, (_, i) => ({
        key: i % 7 === 0 ? null : i % 2 === 0 ? `key-${i}` : randomBytes(1 + (i % 24)),
        value: i % 11 === 0 ? null : i % 13 === 0 ? '' : i % 3 === 0 ? randomBytes(40 + i) : `{"n":${i},"s":"é✓"}`,
        headers:
          i % 5 === 0
            ? []
            : [
                { key: 'trace', value: randomBytes(8) },
                { key: 'trace', value: `second-${i}` },
                { key: 'empty', value: null },
              ],
        timestamp: t0 + i * 17,
      }))
      const producer = new Producer({ bootstrap, compression: codec, lingerMs: 5 })
      let metas: Awaited<ReturnType<Producer['send']>>
      try {
        metas = await producer.send({ topic: topic.name, messages })
      } finally {
        await producer.close()
      }
      const expected = new Map<string, string>()
      metas.forEach((m, i) => {
        const msg = messages[i]!
        const headers = (msg.headers as Array<{ key: string; value: Buffer | string | null }>).map(
          (h) => `${hex(h.key)}=${hex(h.value)}`,
        )
        const line = [
          m.timestamp,
          'CreateTime',
          hex(msg.key as Buffer | string | null),
          hex(msg.value as Buffer | string | null),
          headers.length ? headers.join(',') : '-',
        ]
        expect(m.timestamp).toBe(t0 + i * 17)
        expected.set(`${m.partition} ${m.offset}`, line.join(' '))
      })
      const { stdout } = await run('java', ['-cp', `${classpath}:${classes}`, 'JavaReadBack', bootstrap, topic.name], {
        timeout: 90_000,
        maxBuffer: 64 * 1024 * 1024,
      })
      const got = new Map<string, string>()
      for (const line of stdout.trim().split('\n')) {
        const [partition, offset, ...rest] = line.split(' ')
        got.set(`${partition} ${offset}`, rest.join(' '))
      }
      expect(got.size).toBe(messages.length)
      for (const [where, line] of expected) expect(got.get(where), where).toBe(line)
    })
  }
})
