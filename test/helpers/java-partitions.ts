import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'

const SOURCE = join(import.meta.dirname, '..', 'fixtures', 'producer', 'JavaPartitions.java')

/**
 * Runs test/fixtures/producer/JavaPartitions.java with the kafka-clients jar of the broker cache the jvm provider
 * fills (`~/.cache/skiff/kafka/<version>/lib`): Kafka's own murmur2, and where Kafka's own producer puts keyed
 * records. Null when java, javac or the jars are missing. Compiled once per source and classpath.
 */
export function javaPartitions(version: string) {
  const cache =
    process.env.SKIFF_KAFKA_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'skiff', 'kafka')
  const lib = join(cache, version, 'lib')
  if (!existsSync(lib)) return null
  const files = readdirSync(lib)
  const jars = ['kafka-clients-', 'slf4j-api-'].map((prefix) =>
    files.find((f) => f.startsWith(prefix) && f.endsWith('.jar')),
  )
  if (jars.includes(undefined)) return null
  const classpath = jars.map((j) => join(lib, j!)).join(':')
  const key = createHash('sha256').update(readFileSync(SOURCE)).update(classpath).digest('hex').slice(0, 16)
  const classes = join(tmpdir(), `skiff-java-partitions-${key}`)
  try {
    if (!existsSync(join(classes, 'JavaPartitions.class'))) {
      const building = mkdtempSync(`${classes}-`)
      execFileSync('javac', ['-nowarn', '-cp', classpath, '-d', building, SOURCE], { stdio: 'pipe' })
      try {
        renameSync(building, classes)
      } catch {
        rmSync(building, { recursive: true, force: true })
      }
    }
  } catch {
    return null
  }
  const run = (args: string[], keys: Uint8Array[]): Map<string, number> => {
    const out = execFileSync('java', ['-cp', `${classpath}:${classes}`, 'JavaPartitions', ...args], {
      input: keys.map((k) => Buffer.from(k).toString('hex')).join('\n'),
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: 120_000,
    })
    const result = new Map<string, number>()
    for (const line of out.split('\n')) {
      const m = /^([0-9a-f]*) (-?\d+)$/.exec(line.trimEnd())
      if (m) result.set(m[1]!, Number(m[2]))
    }
    return result
  }
  return {
    /** Kafka's `Utils.murmur2` of each key, by the key's hex. */
    murmur2: (keys: Uint8Array[]) => run(['hash'], keys),
    /** The partition Kafka's `KafkaProducer` (default partitioner) wrote each key to, by the key's hex. */
    produce: (bootstrap: string, topic: string, keys: Uint8Array[]) => run(['produce', bootstrap, topic], keys),
  }
}
