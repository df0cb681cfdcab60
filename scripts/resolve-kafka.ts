/** Resolves the broker classpaths the tests use (Maven Central), so test runs start brokers without network waits. */
import { kafkaCacheRoot, resolveKafka } from '../src/testing/index.js'

const versions = process.argv.slice(2)
if (versions.length === 0) {
  process.stderr.write('usage: tsx scripts/resolve-kafka.ts <version> [<version> ...]\n')
  process.exit(2)
}
for (const v of versions) {
  const t0 = Date.now()
  const r = await resolveKafka(v)
  process.stdout.write(`Kafka ${v}: ${r.libDir} (${Date.now() - t0} ms)\n`)
}
process.stdout.write(`cache: ${kafkaCacheRoot()}\n`)
