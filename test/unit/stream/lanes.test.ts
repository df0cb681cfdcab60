import { describe, expect, test } from 'vitest'
import { ConfigError } from '../../../src/client/errors.js'
import { laneOf, streamLanes } from '../../../src/stream/lanes.js'

describe('stream lanes', () => {
  test('default names: <stream>, <stream>.batch, <stream>.dlq; each can be renamed', () => {
    expect(streamLanes('orders')).toEqual({ realtime: 'orders', batch: 'orders.batch', dlq: 'orders.dlq' })
    expect(streamLanes('orders', { dlq: 'dead-orders', batch: 'orders-bulk' })).toEqual({
      realtime: 'orders',
      batch: 'orders-bulk',
      dlq: 'dead-orders',
    })
  })

  test('a topic is told by its lane', () => {
    const lanes = streamLanes('s')
    expect(laneOf(lanes, 's')).toBe('realtime')
    expect(laneOf(lanes, 's.batch')).toBe('batch')
    expect(laneOf(lanes, 's.dlq')).toBe('dlq')
    expect(laneOf(lanes, 'other')).toBeUndefined()
  })

  test('no stream name, or two lanes on one topic, is a ConfigError', () => {
    expect(() => streamLanes('')).toThrow(ConfigError)
    expect(() => streamLanes('s', { batch: 's' })).toThrow(/different topics/)
    expect(() => streamLanes('s', { dlq: '' })).toThrow(ConfigError)
  })
})
