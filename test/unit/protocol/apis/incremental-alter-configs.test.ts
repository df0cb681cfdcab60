import { describe, expect, test } from 'vitest'
import { IncrementalAlterConfigs } from '../../../../src/protocol/apis/incremental-alter-configs.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

const SET = 0
const DELETE = 1
const APPEND = 2
const TOPIC = 2
const BROKER = 4

const request = {
  resources: [
    {
      resourceType: TOPIC,
      resourceName: 'orders',
      configs: [
        { name: 'retention.ms', configOperation: SET, value: '604800000' },
        { name: 'cleanup.policy', configOperation: APPEND, value: 'compact' },
        { name: 'max.message.bytes', configOperation: DELETE, value: null },
      ],
    },
    {
      resourceType: BROKER,
      resourceName: '',
      configs: [{ name: 'log.cleaner.threads', configOperation: SET, value: '2' }],
    },
  ],
  validateOnly: true,
}

const response = {
  throttleTimeMs: 0,
  responses: [
    { errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'orders' },
    { errorCode: 40, errorMessage: 'Invalid value for log.cleaner.threads', resourceType: BROKER, resourceName: '' },
  ],
}

describe('IncrementalAlterConfigs', () => {
  test.each([0, 1])('v%i round-trips', (v) => {
    expect(sendRequest(IncrementalAlterConfigs, v, request)).toEqual(request)
    expect(receiveResponse(IncrementalAlterConfigs, v, response)).toEqual(response)
  })

  test('v0 is classic and v1 compact', () => {
    const small = {
      resources: [
        { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'k', configOperation: DELETE, value: null }] },
      ],
      validateOnly: false,
    }
    expect(requestHex(IncrementalAlterConfigs, 0, small)).toBe(hex('00000001 02 0001 74 00000001 0001 6b 01 ffff 00'))
    expect(requestHex(IncrementalAlterConfigs, 1, small)).toBe(hex('02 02 02 74 02 02 6b 01 00 00 00 00 00'))
    const body = {
      throttleTimeMs: 0,
      responses: [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 't' }],
    }
    expect(responseHex(IncrementalAlterConfigs, 0, body)).toBe(hex('00000000 00000001 0000 ffff 02 0001 74'))
    expect(responseHex(IncrementalAlterConfigs, 1, body)).toBe(hex('00000000 02 0000 00 02 02 74 00 00'))
  })
})
