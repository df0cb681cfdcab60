import { describe, expect, test } from 'vitest'
import { DescribeCluster } from '../../../../src/protocol/apis/describe-cluster.js'
import { encodeRequest, encodeResponse } from '../../../../src/protocol/frame.js'
import { hex, receiveResponse, requestHex, responseHex, sendRequest } from './wire.js'

const brokers = [
  { brokerId: 1, host: 'kafka-1.internal', port: 9092, rack: 'eu-west-1a', isFenced: false },
  { brokerId: 2, host: 'kafka-2.internal', port: 9092, rack: null, isFenced: true },
]

describe('DescribeCluster', () => {
  test('v0 round-trips, describing brokers and never fenced ones', () => {
    expect(sendRequest(DescribeCluster, 0, { includeClusterAuthorizedOperations: true })).toEqual({
      includeClusterAuthorizedOperations: true,
      endpointType: 1,
      includeFencedBrokers: false,
    })
    const response = receiveResponse(DescribeCluster, 0, {
      throttleTimeMs: 0,
      errorCode: 0,
      clusterId: 'MkU3OEVBNTcwNTJENDM2Qk',
      controllerId: 2,
      brokers: [{ ...brokers[0]!, isFenced: undefined }],
      clusterAuthorizedOperations: 0x1ff8,
    })
    expect(response).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: 'MkU3OEVBNTcwNTJENDM2Qk',
      controllerId: 2,
      brokers: [brokers[0]],
      clusterAuthorizedOperations: 0x1ff8,
    })
  })

  test('v2 round-trips fenced brokers (KIP-1073) and the endpoint type (KIP-919)', () => {
    const request = { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true }
    expect(sendRequest(DescribeCluster, 2, request)).toEqual(request)
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: 'MkU3OEVBNTcwNTJENDM2Qk',
      controllerId: 1,
      brokers,
      clusterAuthorizedOperations: -2147483648,
    }
    expect(receiveResponse(DescribeCluster, 2, response)).toEqual(response)
  })

  test('is flexible from v0: request header v2 and response header v1', () => {
    expect(requestHex(DescribeCluster, 0, { includeClusterAuthorizedOperations: false })).toBe(hex('00 00'))
    // header v2: the client id stays a classic int16-length string, then an empty tag section
    expect(
      encodeRequest(DescribeCluster, 0, 1, 'c', { includeClusterAuthorizedOperations: false }).toString('hex'),
    ).toBe(hex('0000000e 003c 0000 00000001 0001 63 00  00 00'))
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      clusterId: 'c',
      brokers: [{ brokerId: 1, host: 'h', port: 9092, rack: null }],
    }
    expect(encodeResponse(DescribeCluster, 0, 1, body).toString('hex')).toBe(
      hex(`00000024 00000001 00
           00000000 0000 00 02 63 ffffffff 02 00000001 02 68 00002384 00 00 80000000 00`),
    )
    expect(responseHex(DescribeCluster, 1, { ...body, endpointType: 2 })).toBe(
      hex('00000000 0000 00 02 02 63 ffffffff 02 00000001 02 68 00002384 00 00 80000000 00'),
    )
  })
})
