import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { describe, expect, test } from 'vitest'
import { streamContext } from '../../../src/cli/context.js'
import { debugDetail, EXIT, toCliError } from '../../../src/cli/errors.js'
import { explainConnectError, resolveConnection } from '../../../src/cli/flags.js'
import { main } from '../../../src/cli/main.js'
import {
  AdminTimeoutError,
  ConfigError,
  ConnectionError,
  DecompressionBudgetExceededError,
  KafkaError,
  RecordTooLargeError,
  RequestTimeoutError,
  SaslAuthenticationError,
} from '../../../src/index.js'
import { ErrorCode } from '../../../src/protocol/error-codes.js'
import { runSkiff } from '../../helpers/cli.js'

function parseArgsError(args: string[]): unknown {
  try {
    parseArgs({ args, options: { offset: { type: 'string', short: 'o' }, follow: { type: 'boolean' } }, strict: true })
  } catch (err) {
    return err
  }
  throw new Error('parseArgs accepted it')
}

describe('every failure becomes an exit code and one line', () => {
  test.each<[string, () => unknown, number, string | RegExp]>([
    ['unknown option', () => parseArgsError(['--frobnicate']), EXIT.usage, 'unknown option --frobnicate'],
    ['missing value', () => parseArgsError(['-o']), EXIT.usage, '-o, --offset needs a value'],
    [
      'value that looks like a flag',
      () => parseArgsError(['-o', '--follow']),
      EXIT.usage,
      '-o needs a value (a value starting with - goes as --flag=-value)',
    ],
    ['positional', () => parseArgsError(['stray']), EXIT.usage, 'unexpected argument "stray"'],
    ['ConfigError', () => new ConfigError('lingerMs must be >= 0'), EXIT.usage, 'lingerMs must be >= 0'],
    [
      'SaslAuthenticationError',
      () =>
        new SaslAuthenticationError('PLAIN', 'SASL_AUTHENTICATION_FAILED: bad\ncredentials', undefined, {
          broker: 'k:9093',
          enabledMechanisms: ['SCRAM-SHA-512'],
        }),
      EXIT.connection,
      'PLAIN authentication failed at k:9093: SASL_AUTHENTICATION_FAILED: bad credentials (the broker offers SCRAM-SHA-512); check --sasl-mechanism, --sasl-username and --sasl-password',
    ],
    [
      'ConnectionError',
      () => new ConnectionError('closed by the broker', 'k:9092'),
      EXIT.connection,
      'lost the connection to Kafka: closed by the broker (broker k:9092)',
    ],
    [
      'RequestTimeoutError',
      () => new RequestTimeoutError('Fetch', 'k:9092', 30000),
      EXIT.connection,
      'Fetch request to k:9092 timed out after 30000 ms; the broker is reachable but not answering (raise --timeout?)',
    ],
    [
      'AdminTimeoutError over a connection failure',
      () => new AdminTimeoutError('listTopics', 1000, new ConnectionError('refused', 'k:1')),
      EXIT.connection,
      /^listTopics did not complete within 1000 ms; last error: refused/,
    ],
    [
      'AdminTimeoutError otherwise',
      () => new AdminTimeoutError('listTopics', 1000, new Error('busy')),
      EXIT.runtime,
      'listTopics did not complete within 1000 ms; last error: busy',
    ],
    [
      'unknown topic',
      () => new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: 'orders', api: 'Metadata' }),
      EXIT.runtime,
      'topic orders does not exist (UNKNOWN_TOPIC_OR_PARTITION)',
    ],
    [
      'unknown partition',
      () => new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, { topic: 'orders', partition: 7 }),
      EXIT.runtime,
      'partition orders[7] does not exist (UNKNOWN_TOPIC_OR_PARTITION)',
    ],
    [
      'not authorized',
      () => new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, { topic: 'orders', api: 'Fetch' }),
      EXIT.connection,
      /; the user lacks an ACL for this$/,
    ],
    [
      'other Kafka errors',
      () => new KafkaError(ErrorCode.INVALID_RECORD, { api: 'Produce' }),
      EXIT.runtime,
      /^INVALID_RECORD/,
    ],
    [
      'an oversized batch',
      () =>
        new DecompressionBudgetExceededError({
          topic: 'logs',
          partition: 0,
          baseOffset: 200,
          lastOffset: 6199,
          codec: 'zstd',
          compressedBytes: 30_500,
          producedBytes: 1024 ** 2 + 1,
          limitBytes: 1024 ** 2,
        }),
      EXIT.runtime,
      'zstd batch at logs[0] offsets 200..6199 expands past --max-decompressed-bytes 1 MiB (29.8 KiB compressed; stopped after 1 MiB); pass --skip-oversized to skip it, or raise --max-decompressed-bytes',
    ],
    [
      'an oversized record',
      () =>
        new RecordTooLargeError({ topic: 'logs', partition: 1, offset: 9, recordBytes: 2 ** 27, limitBytes: 2 ** 26 }),
      EXIT.runtime,
      /^record at logs\[1\] offset 9 is .*; pass --skip-oversized to skip its batch$/,
    ],
    ['anything else', () => new Error('boom\n  with detail'), EXIT.runtime, 'boom with detail'],
    ['not even an Error', () => 'a string', EXIT.runtime, 'a string'],
  ])('%s', (_, make, exitCode, message) => {
    const e = toCliError(make())
    expect(e.exitCode).toBe(exitCode)
    if (typeof message === 'string') expect(e.message).toBe(message)
    else expect(e.message).toMatch(message)
    expect(e.message).not.toContain('\n')
  })

  test('--debug detail: the stack and the chain of causes', () => {
    const inner = new Error('inner')
    const outer = new Error('outer', { cause: inner })
    const detail = debugDetail(outer)
    expect(detail).toMatch(/^Error: outer\n\s+at /)
    expect(detail).toContain('\ncaused by:\nError: inner\n')
  })

  test('connect failures in a few words', () => {
    const withCode = (code: string) =>
      Object.assign(new Error(`connect ${code}`), { cause: Object.assign(new Error(code), { code }) })
    expect(explainConnectError(withCode('ECONNREFUSED'))).toBe('connection refused')
    expect(explainConnectError(withCode('ENOTFOUND'))).toBe('unknown host')
    expect(explainConnectError(withCode('EHOSTUNREACH'))).toBe('host unreachable')
    expect(explainConnectError(new Error('no connection within 5000 ms'))).toBe('no answer within 5000 ms')
    expect(explainConnectError(new Error('frame of 1213486160 bytes exceeds the limit'))).toBe(
      'answered with HTTP, not the Kafka protocol (wrong port?)',
    )
    expect(explainConnectError(new Error('frame of 369295616 bytes exceeds the limit'))).toBe(
      'answered with something that is not Kafka (a TLS listener? try --tls)',
    )
    expect(explainConnectError(new Error('connection closed by the broker'))).toBe(
      'the broker closed the connection (does this listener need --tls or --sasl-mechanism?)',
    )
  })
})

describe('connection flags, environment and config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cli-config-'))
  const file = (name: string, content: string) => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }

  test('flags, then SKIFF_SASL_PASSWORD, then the config file; client id and timeout', () => {
    const config = file(
      'a.json',
      JSON.stringify({
        bootstrap: ['a:9092', 'b:9092'],
        'sasl-mechanism': 'scram-sha-512',
        'sasl-username': 'file-user',
        'sasl-password': 'file-secret',
        timeout: '10s',
      }),
    )
    expect(resolveConnection({ config }, {})).toEqual({
      bootstrap: 'a:9092,b:9092',
      timeoutMs: 10_000,
      client: {
        bootstrap: 'a:9092,b:9092',
        clientId: 'skiff-cli',
        connectTimeoutMs: 10_000,
        requestTimeoutMs: 10_000,
        sasl: { mechanism: 'SCRAM-SHA-512', username: 'file-user', password: 'file-secret' },
      },
    })
    const flags = resolveConnection(
      { config, bootstrap: 'c:9092', 'sasl-username': 'flag-user', 'client-id': 'me' },
      { SKIFF_SASL_PASSWORD: 'env-secret' },
    )
    expect(flags.client).toMatchObject({
      bootstrap: 'c:9092',
      clientId: 'me',
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'flag-user', password: 'env-secret' },
    })
    // SKIFF_CONFIG names a file when --config does not.
    expect(resolveConnection({}, { SKIFF_CONFIG: config }).bootstrap).toBe('a:9092,b:9092')
  })

  test('mistakes are usage errors that say what to do', () => {
    const message = (values: Record<string, string>, env: NodeJS.ProcessEnv = {}) => {
      try {
        resolveConnection(values, env)
      } catch (err) {
        expect(toCliError(err).exitCode).toBe(EXIT.usage)
        return (err as Error).message
      }
      throw new Error('accepted')
    }
    expect(message({})).toBe('no brokers given: pass -b host:port (or "bootstrap" in a --config file / SKIFF_CONFIG)')
    expect(message({ bootstrap: 'k:1', 'sasl-mechanism': 'GSSAPI', 'sasl-username': 'u' })).toMatch(
      /^unknown --sasl-mechanism "GSSAPI": the CLI speaks PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/,
    )
    expect(message({ bootstrap: 'k:1', 'sasl-mechanism': 'PLAIN' })).toBe(
      '--sasl-mechanism PLAIN needs --sasl-username',
    )
    expect(message({ bootstrap: 'k:1', 'sasl-mechanism': 'PLAIN', 'sasl-username': 'u' })).toBe(
      '--sasl-mechanism PLAIN needs a password: --sasl-password or env SKIFF_SASL_PASSWORD',
    )
    expect(message({ bootstrap: 'k:1', 'sasl-username': 'u' })).toBe(
      '--sasl-username needs --sasl-mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)',
    )
    expect(message({ bootstrap: 'k:1', timeout: 'soon' })).toMatch(/^bad duration "soon" for --timeout/)
    expect(message({ bootstrap: 'k:1', cert: '-----BEGIN CERTIFICATE-----\nx' })).toBe(
      'mutual TLS needs both --cert and --tls-key',
    )
    expect(message({ bootstrap: 'k:1', ca: join(dir, 'missing.pem') })).toMatch(
      /^cannot read --ca .*missing\.pem: ENOENT$/,
    )
    expect(message({ config: join(dir, 'none.json') })).toMatch(/^cannot read --config file .*none\.json: ENOENT$/)
    expect(message({}, { SKIFF_CONFIG: file('bad.json', '{ nope') })).toMatch(
      /^SKIFF_CONFIG file .*bad\.json is not JSON: /,
    )
    expect(message({ config: file('list.json', '["k:9092"]') })).toMatch(
      /must hold a JSON object such as \{"bootstrap": "host:9092"\}$/,
    )
    expect(message({ config: file('typo.json', '{"bootstrap":"k:1","sasl-mechansim":"PLAIN"}') })).toMatch(
      /has unknown key "sasl-mechansim"; known keys: bootstrap, /,
    )
  })

  test('TLS: --tls alone, or implied by a CA; PEM inline or from a file relative to the config file', () => {
    expect(resolveConnection({ bootstrap: 'k:1', tls: true }, {}).client.tls).toBe(true)
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    file('ca.pem', pem)
    expect(resolveConnection({ bootstrap: 'k:1', ca: pem }, {}).client.tls).toEqual({ ca: pem })
    const config = file('tls.json', JSON.stringify({ bootstrap: 'k:1', ca: 'ca.pem' }))
    expect(resolveConnection({ config }, {}).client.tls).toEqual({ ca: pem })
  })
})

describe('main', () => {
  test('no command: the help on stderr, exit 2; --help and help: on stdout, exit 0', async () => {
    const none = await runSkiff([])
    expect([none.code, none.out]).toEqual([EXIT.usage, ''])
    expect(none.err).toMatch(/^Usage: skiff <command>/)
    const help = await runSkiff(['--help'])
    expect([help.code, help.out, help.err]).toEqual([EXIT.ok, none.err, ''])
    expect((await runSkiff(['help'])).out).toBe(help.out)
    expect((await runSkiff(['-h'])).out).toBe(help.out)
  })

  test('a usage error names the command help to read; --debug adds the stack', async () => {
    const r = await runSkiff(['topics', 'list'])
    expect(r.code).toBe(EXIT.usage)
    expect(r.err).toBe(
      'skiff: error: no brokers given: pass -b host:port (or "bootstrap" in a --config file / SKIFF_CONFIG) (see skiff topics --help)\n',
    )
    const debug = await runSkiff(['topics', 'list', '--debug'])
    expect(debug.err.startsWith(r.err)).toBe(true)
    expect(debug.err.slice(r.err.length)).toMatch(/^UsageError: no brokers given[^\n]*\n\s+at /)
  })

  test('errors are red on a terminal, unless NO_COLOR is set; never when stderr is a pipe', async () => {
    const run = async (isTTY: boolean, env: NodeJS.ProcessEnv) => {
      const chunks: string[] = []
      const stderr = Object.assign(
        new Writable({
          write(c, _e, done) {
            chunks.push(String(c))
            done()
          },
        }),
        { isTTY },
      ) as unknown as NodeJS.WriteStream
      const ctx = streamContext({
        stdin: Readable.from([]),
        stdout: stderr,
        stderr,
        env,
        interrupt: new AbortController().signal,
        handleInterrupt() {},
      })
      expect(await main(['fetch'], ctx)).toBe(EXIT.usage)
      return chunks.join('')
    }
    expect(await run(true, {})).toBe(
      '\x1b[31mskiff: error: fetch needs a topic: -t TOPIC (see skiff fetch --help)\x1b[0m\n',
    )
    expect(await run(true, { NO_COLOR: '1' })).toBe(
      'skiff: error: fetch needs a topic: -t TOPIC (see skiff fetch --help)\n',
    )
    expect(await run(false, {})).toBe('skiff: error: fetch needs a topic: -t TOPIC (see skiff fetch --help)\n')
  })
})
