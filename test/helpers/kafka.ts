import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import { Connection } from '../../src/client/connection.js'

/** The shared test broker started by the global setup. */
export function testKafka() {
  return inject('kafka')
}

/** A connection to the first broker of the shared test cluster. */
export async function connectTestBroker(options: { clientId?: string } = {}): Promise<Connection> {
  const [host, port] = testKafka().bootstrap.split(',')[0]!.split(':')
  return Connection.connect({ host: host!, port: Number(port), clientId: options.clientId ?? 'skiff-test' })
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix = 'skiff-test'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`
}
