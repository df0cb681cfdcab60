import { ConfigError } from '../client/errors.js'
import type { Message, Producer, RecordMetadata, SendOptions } from '../client/producer/index.js'

/**
 * The lanes of a stream: one topic each, so that live data, bulk backfills and records that could not be handled
 * never share a queue.
 *
 * - `realtime`: live data, read first;
 * - `batch`: bulk work (a backfill, a re-processing run) that gets the capacity realtime leaves spare;
 * - `dlq`: the dead-letter lane, where a processor copies what it could not handle.
 */
export type LaneName = 'realtime' | 'batch' | 'dlq'

/** The topic of each lane of a stream. */
export interface StreamLanes {
  realtime: string
  batch: string
  dlq: string
}

/**
 * The lane topics of a stream: `<stream>`, `<stream>.batch` and `<stream>.dlq` unless named otherwise.
 *
 * ```ts
 * const lanes = streamLanes('orders')                      // { realtime: 'orders', batch: 'orders.batch', dlq: 'orders.dlq' }
 * const custom = streamLanes('orders', { dlq: 'orders-dead' })
 * ```
 */
export function streamLanes(stream: string, names: Partial<StreamLanes> = {}): StreamLanes {
  if (typeof stream !== 'string' || stream === '') throw new ConfigError('a stream name is required')
  const lanes: StreamLanes = {
    realtime: names.realtime ?? stream,
    batch: names.batch ?? `${stream}.batch`,
    dlq: names.dlq ?? `${stream}.dlq`,
  }
  const topics = Object.values(lanes)
  for (const t of topics) if (typeof t !== 'string' || t === '') throw new ConfigError('lane topics must be named')
  if (new Set(topics).size !== topics.length)
    throw new ConfigError(`the lanes of ${stream} must be different topics: ${JSON.stringify(lanes)}`)
  return lanes
}

/** The lane a topic is, among a stream's lanes. */
export function laneOf(lanes: StreamLanes, topic: string): LaneName | undefined {
  if (topic === lanes.realtime) return 'realtime'
  if (topic === lanes.batch) return 'batch'
  if (topic === lanes.dlq) return 'dlq'
  return undefined
}

/**
 * Sends to a stream's lanes, picking the lane per send, over a producer the caller owns.
 *
 * ```ts
 * const lanes = new LaneProducer(producer, streamLanes('orders'))
 * await lanes.send('realtime', [{ key: 'o-1', value: '…' }])     // live traffic
 * await lanes.send('batch', backfill)                              // a re-import: never ahead of live data
 * ```
 */
export class LaneProducer {
  constructor(
    readonly producer: Producer,
    readonly lanes: StreamLanes,
  ) {}

  /** Sends to one lane; resolves once acknowledged (as `Producer.send`). */
  send(lane: LaneName, messages: readonly Message[], options?: SendOptions): Promise<RecordMetadata[]> {
    const topic = this.lanes[lane]
    if (topic === undefined) throw new ConfigError(`unknown lane ${String(lane)}: realtime, batch or dlq`)
    return this.producer.send({ topic, messages }, options)
  }
}
