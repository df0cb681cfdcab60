import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { HarnessError } from '../errors.js'
import { withDirLock } from './lock.js'

/** The log4j2 binding for Kafka 4.x, whose POM brings none (without it the broker logs nothing at all). */
const LOG4J2_VERSION = '2.24.3'

/** Where resolved broker classpaths live: `$SKIFF_KAFKA_CACHE`, else `~/.cache/skiff/kafka`. Outside any repo. */
export function kafkaCacheRoot(): string {
  return (
    process.env.SKIFF_KAFKA_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'skiff', 'kafka')
  )
}

export function isKafka3(version: string): boolean {
  return /^[0-3]\./.test(version)
}

function pomFor(version: string): string {
  const dep = (g: string, a: string, v: string) =>
    `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`
  const deps = [
    dep('org.apache.kafka', 'kafka_2.13', version),
    // ProducerPerformance / ConsumerPerformance and friends, for interop checks and benchmarks.
    dep('org.apache.kafka', 'kafka-tools', version),
  ]
  if (!isKafka3(version)) {
    // 4.x dropped reload4j and ships no binding; its slf4j-api resolves to 1.7.x, hence log4j-slf4j-impl (not
    // the slf4j2 one). 3.9 logs through slf4j-reload4j from its own POM.
    deps.push(
      dep('org.apache.logging.log4j', 'log4j-slf4j-impl', LOG4J2_VERSION),
      dep('org.apache.logging.log4j', 'log4j-core', LOG4J2_VERSION),
      dep('org.apache.logging.log4j', 'log4j-api', LOG4J2_VERSION),
    )
  }
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>skiff.testing</groupId>
  <artifactId>kafka-broker-classpath</artifactId>
  <version>${version}</version>
  <packaging>pom</packaging>
  <dependencies>
${deps.join('\n')}
  </dependencies>
</project>
`
}

export interface ResolvedKafka {
  version: string
  /** Directory holding every jar of the broker's runtime classpath. */
  libDir: string
  /** `libDir/*`, ready for `java -cp`. */
  classpath: string
}

/**
 * Resolves `org.apache.kafka:kafka_2.13:<version>` (plus kafka-tools and, on 4.x, a log4j2 binding) and their
 * runtime dependencies with Maven into the cache, once; later calls reuse it. A lock directory keeps parallel test
 * processes from resolving the same version twice.
 */
export async function resolveKafka(version: string, signal?: AbortSignal): Promise<ResolvedKafka> {
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new HarnessError(`not a Kafka version: ${JSON.stringify(version)}`)
  const dir = join(kafkaCacheRoot(), version)
  const libDir = join(dir, 'lib')
  const marker = join(dir, '.complete')
  const result = { version, libDir, classpath: join(libDir, '*') }
  if (existsSync(marker)) return result
  mkdirSync(dir, { recursive: true })
  await withDirLock(join(dir, '.lock'), 10 * 60_000, signal, async () => {
    if (existsSync(marker)) return
    rmSync(libDir, { recursive: true, force: true })
    writeFileSync(join(dir, 'pom.xml'), pomFor(version))
    const args = ['-B', '-q', 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`, '-DincludeScope=runtime']
    const { code, output } = await run('mvn', args, dir, signal)
    if (code !== 0) {
      throw new HarnessError(
        `Maven could not resolve org.apache.kafka:kafka_2.13:${version} (exit ${code}). Is Maven installed and ` +
          `Maven Central reachable? Output:\n${output.slice(-4000)}`,
      )
    }
    const jars = readdirSync(libDir).filter((f) => f.endsWith('.jar'))
    if (!jars.some((j) => j.startsWith(`kafka_2.13-${version}`))) {
      throw new HarnessError(`Maven finished but ${libDir} has no kafka_2.13-${version}.jar`)
    }
    writeFileSync(marker, `${new Date().toISOString()}\n${jars.length} jars\n`)
  })
  return result
}

function run(cmd: string, args: string[], cwd: string, signal?: AbortSignal) {
  return new Promise<{ code: number; output: string }>((resolve, reject) => {
    let output = ''
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], signal })
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('error', (err) =>
      reject(new HarnessError(`cannot run ${cmd}: ${err.message}${signal?.aborted ? ' (aborted)' : ''}`, err)),
    )
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}
