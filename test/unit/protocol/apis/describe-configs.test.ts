import { describe, expect, test } from 'vitest'
import { DescribeConfigs } from '../../../../src/protocol/apis/describe-configs.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

const TOPIC = 2

describe('DescribeConfigs', () => {
  test('v1 round-trips, without documentation or config types', () => {
    const request = {
      resources: [{ resourceType: TOPIC, resourceName: 'orders', configurationKeys: ['retention.ms'] }],
      includeSynonyms: true,
    }
    expect(sendRequest(DescribeConfigs, 1, request)).toEqual({ ...request, includeDocumentation: false })
    const config = {
      name: 'retention.ms',
      value: '86400000',
      readOnly: false,
      configSource: 1,
      isSensitive: false,
      synonyms: [
        { name: 'retention.ms', value: '86400000', source: 1 },
        { name: 'log.retention.hours', value: '168', source: 5 },
      ],
      configType: 5,
      documentation: 'The longest a log is kept.',
    }
    const response = receiveResponse(DescribeConfigs, 1, {
      throttleTimeMs: 0,
      results: [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'orders', configs: [config] }],
    })
    expect(response.results[0]!.configs[0]).toEqual({ ...config, configType: 0, documentation: '' })
  })

  test('v4 round-trips every field; a null key list asks for every key', () => {
    const request = {
      resources: [
        { resourceType: TOPIC, resourceName: 'orders', configurationKeys: null },
        { resourceType: 4, resourceName: '1', configurationKeys: ['log.dirs'] },
      ],
      includeSynonyms: false,
      includeDocumentation: true,
    }
    expect(sendRequest(DescribeConfigs, 4, request)).toEqual(request)
    const response = {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: TOPIC,
          resourceName: 'orders',
          configs: [
            {
              name: 'sasl.jaas.config',
              value: null,
              readOnly: false,
              configSource: 5,
              isSensitive: true,
              synonyms: [{ name: 'sasl.jaas.config', value: null, source: 5 }],
              configType: 9,
              documentation: null,
            },
          ],
        },
        { errorCode: 3, errorMessage: 'unknown', resourceType: TOPIC, resourceName: 'gone', configs: [] },
      ],
    }
    expect(receiveResponse(DescribeConfigs, 4, response)).toEqual(response)
  })

  test('v3 is classic and v4 compact', () => {
    const small = {
      resources: [{ resourceType: TOPIC, resourceName: 't', configurationKeys: null }],
      includeSynonyms: true,
      includeDocumentation: false,
    }
    expect(requestHex(DescribeConfigs, 3, small)).toBe(hex('00000001 02 0001 74 ffffffff 01 00'))
    expect(requestHex(DescribeConfigs, 4, small)).toBe(hex('02 02 02 74 00 00 01 00 00'))
    const result = {
      throttleTimeMs: 0,
      results: [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 't', configs: [] }],
    }
    expect(responseHex(DescribeConfigs, 3, result)).toBe(hex('00000000 00000001 0000 ffff 02 0001 74 00000000'))
    expect(responseHex(DescribeConfigs, 4, result)).toBe(hex('00000000 02 0000 00 02 02 74 01 00 00'))
  })
})
