/**
 * The README's first command: start a local Kafka with the test harness, then talk to it with Skiff — print the
 * cluster, the API versions it speaks and the version Skiff negotiates for each, and create and describe a topic.
 */
import { Connection } from '../src/client/connection.js'
import { ALL_APIS, CreateTopics, DeleteTopics, Metadata } from '../src/protocol/apis/index.js'
import { formatRange } from '../src/protocol/versions.js'
import { startKafka } from '../src/testing/index.js'

const t0 = Date.now()
process.stdout.write('Starting a local Apache Kafka (KRaft, one broker)...\n')
const kafka = await startKafka({ brokers: 1 })
process.stdout.write(
  `Kafka ${kafka.version} is up at ${kafka.bootstrap} (${kafka.provider} provider, ${((Date.now() - t0) / 1000).toFixed(1)} s)\n\n`,
)
const [host, port] = kafka.bootstrap.split(':')
const conn = await Connection.connect({ host: host!, port: Number(port), clientId: 'skiff-demo' })
try {
  const md = await conn.request(Metadata, { topics: null })
  process.stdout.write(`Cluster ${md.clusterId}, controller ${md.controllerId}\n`)
  for (const b of md.brokers)
    process.stdout.write(`  broker ${b.nodeId} at ${b.host}:${b.port}${b.rack ? ` rack ${b.rack}` : ''}\n`)
  const features = [...conn.finalizedFeatures].map(([k, v]) => `${k}=${v}`).join(', ')
  process.stdout.write(`Finalized features: ${features}\n\n`)

  process.stdout.write(`${'API'.padEnd(24)}${'key'.padStart(4)}  ${'broker'.padEnd(8)}${'skiff'.padEnd(8)}speaks\n`)
  for (const api of ALL_APIS) {
    const b = conn.apiVersions.get(api.key)
    let speaks: string
    try {
      speaks = `v${conn.versionFor(api)}`
    } catch {
      speaks = 'not offered'
    }
    process.stdout.write(
      `${api.name.padEnd(24)}${String(api.key).padStart(4)}  ${(b ? `${b.min}-${b.max}` : '-').padEnd(8)}${formatRange(api.versions).padEnd(8)}${speaks}\n`,
    )
  }
  const others = [...conn.apiVersions.keys()].filter((k) => !ALL_APIS.some((a) => a.key === k)).length
  process.stdout.write(
    `(the broker offers ${others} more APIs Skiff does not use: broker-to-broker, share groups, ...)\n\n`,
  )

  const name = 'skiff-demo-events'
  const created = await conn.request(CreateTopics, {
    topics: [{ name, numPartitions: 3, replicationFactor: 1, configs: [{ name: 'compression.type', value: 'zstd' }] }],
  })
  const t = created.topics[0]!
  process.stdout.write(`Created topic ${name}: ${t.numPartitions} partitions, topic id ${t.topicId}\n`)
  let described = await conn.request(Metadata, { topics: [{ name }], allowAutoTopicCreation: false })
  for (let i = 0; i < 50 && described.topics[0]!.partitions.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 100))
    described = await conn.request(Metadata, { topics: [{ name }], allowAutoTopicCreation: false })
  }
  for (const p of described.topics[0]!.partitions.sort((a, b) => a.partitionIndex - b.partitionIndex)) {
    process.stdout.write(
      `  partition ${p.partitionIndex}: leader ${p.leaderId}, epoch ${p.leaderEpoch}, isr [${p.isrNodes}]\n`,
    )
  }
  await conn.request(DeleteTopics, { topics: [{ name }], topicNames: [name], timeoutMs: 10_000 })
  process.stdout.write(`Deleted topic ${name}\n`)
} finally {
  await conn.close()
  await kafka.stop()
  process.stdout.write(`\nBroker stopped. Total ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
}
