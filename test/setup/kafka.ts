import type { TestProject } from 'vitest/node'
import type { KafkaCluster } from '../../src/testing/index.js'
import { startKafka } from '../../src/testing/index.js'

/** What conformance tests get from `inject('kafka')`. */
export interface InjectedKafka {
  bootstrap: string
  version: string
  clusterId: string
  provider: string
  classpath?: string
  startMs: number
}

declare module 'vitest' {
  export interface ProvidedContext {
    kafka: InjectedKafka
  }
}

let cluster: KafkaCluster | undefined

export async function setup(project: TestProject): Promise<void> {
  const t0 = Date.now()
  cluster = await startKafka({ brokers: 1, timeoutMs: 300_000 })
  const startMs = Date.now() - t0
  process.stderr.write(
    `[skiff] Kafka ${cluster.version} (${cluster.provider}) at ${cluster.bootstrap} started in ${startMs} ms\n`,
  )
  project.provide('kafka', {
    bootstrap: cluster.bootstrap,
    version: cluster.version,
    clusterId: cluster.clusterId,
    provider: cluster.provider,
    classpath: cluster.classpath,
    startMs,
  })
}

export async function teardown(): Promise<void> {
  await cluster?.stop()
}
